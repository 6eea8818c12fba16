"""The refresh with each engine (pandas, Spark) on synthetic files: wall time, CPU time and peak memory of the
whole process tree (the Spark JVM included).

    python -m bench.engines [--lines 1000000 10000000] [--engines pandas spark] [--master local[2]]

Each run is ``python -m jobs.refresh --input bench/out/synth-N.parquet --store file://TMP --engine E`` in its
own process (the Spark one with ``.venv-spark/bin/python``, ``make test-spark`` builds it); the RSS of the
process and all its descendants is summed every 0.2 s and the peak kept; the CPU time (user + system) is that
of every process of the tree (``RUSAGE_CHILDREN``, this process adopting the orphans); the 1-minute load
average is read when each run starts. Files: ``python -m bench.synth --lines N`` (made here when missing).
Writes ``bench/out/engines.json``; the figures are in docs/PERFORMANCE.md, section "Spark engine".
"""

from __future__ import annotations

import argparse
import ctypes
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from bench._common import OUT, ROOT, machine, print_table, tree_rss, write_results

PYTHONS = {"pandas": Path(sys.executable), "spark": ROOT / ".venv-spark" / "bin" / "python"}


def adopt_orphans() -> None:
    """Make this process the Linux "child subreaper": a descendant whose parent ends before it (the Spark JVM,
    when the Python driver exits without waiting for it) is re-parented here instead of to init, so that
    ``reap_tree`` can wait for it and its CPU time is counted."""
    PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def reap_tree() -> float:
    """Wait for every remaining child (the orphans ``adopt_orphans`` brought here); return the CPU seconds (user +
    system) of all waited-for children and their descendants so far (``RUSAGE_CHILDREN``)."""
    while True:
        try:
            os.wait()
        except ChildProcessError:
            break
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(engine: str, path: Path, master: str) -> dict[str, Any]:
    """One refresh of ``path`` with ``engine``: seconds, CPU seconds and peak RSS (MB) of the process tree, the
    1-minute load average when it started, the stages it logged."""
    with tempfile.TemporaryDirectory() as store, tempfile.TemporaryFile("w+") as log:
        command = [str(PYTHONS[engine]), "-m", "jobs.refresh", "--input", str(path), "--store", "file://" + store,
                   "--engine", engine]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "SPARK_MASTER": master}
        cpu_before, load = reap_tree(), os.getloadavg()[0]
        start, peak = time.perf_counter(), 0
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True, env=env)
        watched = psutil.Process(process.pid)
        while process.poll() is None:
            peak = max(peak, tree_rss(watched))
            time.sleep(0.2)
        seconds = time.perf_counter() - start
        cpu = reap_tree() - cpu_before
        log.seek(0)
        output = log.read()
    if process.returncode != 0:
        raise SystemExit(f"{engine} refresh of {path} failed ({process.returncode}):\n{output[-3000:]}")
    stages = {m.group(1): float(m.group(2)) for m in re.finditer(r"stage=(\w+) seconds=([\d.]+)", output)}
    return {"engine": engine, "seconds": round(seconds, 1), "tree_cpu_s": round(cpu, 1),
            "peak_tree_rss_mb": round(peak / 2 ** 20), "load_1m_at_start": round(load, 2), "stages": stages}


def synthetic(lines: int) -> Path:
    path = OUT / f"synth-{lines}.parquet"
    if not path.exists():
        subprocess.run([sys.executable, "-m", "bench.synth", "--lines", str(lines)], cwd=ROOT, check=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--engines", nargs="+", default=["pandas", "spark"], choices=sorted(PYTHONS))
    parser.add_argument("--master", default=f"local[{os.cpu_count()}]", help="Spark master (default: every core)")
    args = parser.parse_args(argv)
    adopt_orphans()
    rows = []
    for lines in args.lines:
        path = synthetic(lines)
        for engine in args.engines:
            result = {"lines": lines, **run(engine, path, args.master)}
            print(f"{lines:,} lines, {engine}: {result['seconds']} s, CPU {result['tree_cpu_s']} s, "
                  f"peak {result['peak_tree_rss_mb']:,} MB, load {result['load_1m_at_start']} at start", flush=True)
            rows.append(result)
    write_results("engines", {"machine": machine(), "master": args.master, "runs": rows})
    print_table(rows, ["lines", "engine", "seconds", "tree_cpu_s", "peak_tree_rss_mb", "load_1m_at_start"])


if __name__ == "__main__":
    main()
