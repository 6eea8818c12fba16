"""Shared helpers of the refresh and recommendation benchmarks: machine facts, measured subprocesses,
result files and plain-text tables."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import psutil

from analytics.settings import InputParams

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
BUNDLED = Path(InputParams().path)  # the bundled Online Retail file: the refresh's default input

__all__ = ["BUNDLED", "OUT", "ROOT", "machine", "measure", "print_table", "write_results"]


def machine() -> dict[str, Any]:
    """The machine of a benchmark run, for every report (refresh, scale, recommendations, load, soak, dashboard):
    date (UTC), cores, memory_gb, cpu, load_average_1m, python, pandas, numpy."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() \
        else platform.processor()
    import numpy
    import pandas
    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "cores": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2 ** 30, 1), "cpu": cpu,
            "load_average_1m": round(os.getloadavg()[0], 2), "python": platform.python_version(),
            "pandas": pandas.__version__, "numpy": numpy.__version__}


def tree_rss(process: psutil.Process) -> int:
    """RSS of a process and every descendant, in bytes (processes ending meanwhile count 0)."""
    total = 0
    for each in [process, *process.children(recursive=True)]:
        try:
            total += each.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def measure(command: Sequence[str], rss_limit_mb: float = 7_500, timeout_s: float = 900) -> dict[str, Any]:
    """Run a command; return its wall time, CPU time (user + system, its waited-for children included), peak
    RSS (MB), exit status, output.

    The peak is the RSS of the process and its children (e.g. the refresh's second process), summed and polled
    every 50 ms, or the process's own ``ru_maxrss`` (``wait4``) if higher; the process is killed when that sum
    passes ``rss_limit_mb`` (a runaway run must not take the shared machine down).
    """
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True,
                                   env={**os.environ, "PYTHONPATH": str(ROOT)})
        watched, killed, peak = psutil.Process(process.pid), None, 0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            try:
                rss = tree_rss(watched)
            except psutil.NoSuchProcess:
                rss = 0
            peak = max(peak, rss)
            if killed is None and rss > rss_limit_mb * 2 ** 20:
                killed = f"killed: RSS above {rss_limit_mb:,.0f} MB"
                process.kill()
            elif killed is None and time.perf_counter() - start > timeout_s:
                killed = f"killed: slower than {timeout_s:,.0f} s"
                process.kill()
            time.sleep(0.05)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        output = log.read()
    return {"seconds": round(seconds, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mb": round(max(usage.ru_maxrss / 1024, peak / 2 ** 20), 1), "status": process.returncode,
            "killed": killed,
            "output": output}




def write_results(name: str, results: dict[str, Any]) -> Path:
    """Write ``bench/out/<name>.json`` and return its path."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], file=sys.stdout) -> None:
    """A plain, aligned text table."""
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) if cells else len(c) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)), file=file)
    for row in cells:
        print("  ".join(v.rjust(w) if _numeric(v) else v.ljust(w) for v, w in zip(row, widths)), file=file)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def _numeric(text: str) -> bool:
    return text.replace(",", "").replace(".", "").replace("-", "").replace("×", "").isdigit()
