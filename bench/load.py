"""Mixed load test against gunicorn on the bundled snapshot, with per-worker memory sampling.

    python -m bench.load --users 20 --seconds 60          # exit 0: zero errors and flat worker memory

Each simulated user is a thread with its own keep-alive session (:class:`bench.web_client.DashClient`)
that loads pages back to back, without think time: Executive summary (20 %), a random segment (15 %),
Actions at-risk list plus one or two more grid blocks with a random sort or filter (20 %), Client 360
opened by URL (20 %) and Client 360 looked up from the navbar search (25 %). Customer ids are sampled
from the snapshot's ``customers`` table. Every response is checked (status, JSON, ids).

Memory: the RSS of each gunicorn worker (psutil over the master's children) is sampled every
``--rss-every`` seconds after a warm-up (``--warmup`` seconds of the same load, so every worker has
loaded the tables). **Flat** means, for every worker, RSS at the end minus RSS at the start of the
measured period ≤ max(20 MB, 10 % of the start). A worker replaced during the run fails the check.

Also the shared helpers of the other benchmarks: :func:`run_users` (N users for T seconds, latency
percentiles), :class:`RssSampler`, :func:`publish` (a refresh into a store). The servers (gunicorn,
a private redis-server) are started by bench/servers.py.

Exit status: 0 pass, 1 errors, 2 memory not flat, 3 could not start.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psutil

from bench._common import machine
from bench.servers import serve
from bench.web_client import PAGES, CheckError, DashClient, PageLoad, Request

__all__ = ["ROOT", "OUT", "publish", "snapshot_sample",
           "RunResult", "run_users", "mixed_action", "RssSampler", "percentile", "summarise", "main"]

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
FLAT_MB, FLAT_SHARE = 20.0, 0.10  # memory "flat": growth <= max(20 MB, 10 % of the start)
GRID_SORTS = ([{"colId": "risk_score", "sort": "desc"}], [{"colId": "monetary", "sort": "desc"}],
              [{"colId": "recency_days", "sort": "asc"}], [{"colId": "customer_id", "sort": "asc"}],
              [{"colId": "segment", "sort": "asc"}, {"colId": "frequency", "sort": "desc"}])
GRID_FILTERS: tuple[dict[str, Any], ...] = ({}, {"segment": {"filterType": "text", "type": "contains", "filter": "lose"}},
                {"monetary": {"filterType": "number", "type": "greaterThan", "filter": 1000}})


# -- store --------------------------------------------------------------------------------------------------------
def publish(store_url: str, input_path: str | Path | None = None, timeout_s: float = 1800) -> tuple[str, float]:
    """``python -m jobs.refresh --store URL [--input PATH]`` in a subprocess; (version, seconds)."""
    args = [sys.executable, "-m", "jobs.refresh", "--store", store_url]
    if input_path:
        args += ["--input", str(input_path)]
    start = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=timeout_s)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"refresh failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout.strip().rsplit(" ", 1)[-1], seconds


def snapshot_sample(store_url: str, n: int = 200, seed: int = 0) -> dict[str, list[str]]:
    """Customer ids (``n``, seeded) and segment names of the current snapshot, read from the store."""
    from analytics.settings import load_settings
    from analytics.snapshot import parse_manifest, verify_table
    from jobs.store import open_store

    settings = load_settings({"STORE_URL": store_url})
    store = open_store(settings.store)
    try:
        version = store.current_version()
        if version is None:
            raise RuntimeError(f"nothing published at {store_url}: run the refresh first")
        manifest = parse_manifest(store.read_manifest(version))
        customers = verify_table(manifest, "customers", store.read_table(version, "customers"))
        segments = verify_table(manifest, "segments", store.read_table(version, "segments"))
    finally:
        store.close()
    ids = sorted(customers["customer_id"].astype(str))
    return {"customer_ids": random.Random(seed).sample(ids, min(n, len(ids))),
            "segments": segments.loc[segments["customers"] > 0, "segment"].astype(str).tolist(),
            "version": [version]}


# -- users --------------------------------------------------------------------------------------------------------
Action = Callable[[DashClient, random.Random], tuple[str, Sequence[PageLoad]]]  # -> (scenario, page loads)


@dataclass
class RunResult:
    """Samples of one run: every request, every page load (scenario, seconds, ok) and the errors."""

    users: int
    seconds: float
    requests: list[tuple[str, Request]] = field(default_factory=list)  # (scenario, request)
    pages: list[tuple[str, float, bool]] = field(default_factory=list)  # (scenario, seconds, ok)
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    client_cpu_s: float = 0.0


def run_users(base_url: str, users: int, seconds: float, action: Action, warmup: float = 0.0, think: float = 0.0,
              seed: int = 0, timeout: float = 30.0, fresh_connections: bool = False) -> RunResult:
    """``users`` threads running ``action`` back to back (plus ``think`` seconds, then starting at random within
    the first ``2 * think`` s) for ``warmup + seconds``; only page loads started after the warm-up are
    recorded. Each user keeps one keep-alive session, unless
    ``fresh_connections`` (a new session per action: connections, hence work, spread over every worker)."""
    result = RunResult(users, seconds)
    lock = threading.Lock()
    start = time.monotonic()
    measure_from, stop_at = start + warmup, start + warmup + seconds

    def user(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        client = DashClient(base_url, timeout=timeout)
        if think:
            time.sleep(rng.uniform(0, 2 * think))  # users arrive over time, not all at once
        try:
            while time.monotonic() < stop_at:
                if fresh_connections:
                    client.close()
                    client = DashClient(base_url, timeout=timeout)
                began = time.monotonic()
                loads: Sequence[PageLoad] = []
                scenario, error = "?", None
                try:
                    scenario, loads = _run_action(action, client, rng)
                except CheckError as exc:
                    error = str(exc)
                    loads = [client.current] if client.current else []
                except Exception as exc:  # a bug in the harness or an unexpected answer: count it, keep going
                    error = f"{type(exc).__name__}: {exc}"
                    loads = [client.current] if client.current else []
                if began >= measure_from:
                    with lock:
                        for load in loads:
                            result.requests.extend((scenario, r) for r in load.requests)
                            result.pages.append((scenario, load.seconds, error is None))
                        if error:
                            result.errors.append(f"{scenario}: {error}"[:500])
                if think:
                    time.sleep(rng.uniform(0.5, 1.5) * think)
        finally:
            client.close()

    cpu0 = time.process_time()
    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=warmup + seconds + 4 * timeout)
    result.elapsed = max(time.monotonic() - measure_from, 1e-9)
    result.client_cpu_s = time.process_time() - cpu0
    return result


def _run_action(action: Action, client: DashClient, rng: random.Random) -> tuple[str, Sequence[PageLoad]]:
    client.current = None
    return action(client, rng)


def page_action(name: str, ids: Sequence[str] = ("12346",), segments: Sequence[str] = ("Champions",)) -> Action:
    """One scenario: full load of page ``name`` (``client``: a random id), or ``lookup`` (navbar search)."""

    def act(client: DashClient, rng: random.Random) -> tuple[str, list[PageLoad]]:
        if name == "lookup":
            if not client.deps:
                client.load_page("/", PAGES["executive"][1])
            return name, [client.lookup_client(rng.choice(ids))]
        if name == "client":
            return name, [client.load_page(f"/client/{quote(rng.choice(ids))}", PAGES["client"][1])]
        if name == "segments":
            return name, [client.load_page(f"/segments?segment={quote(rng.choice(segments))}", PAGES["segments"][1])]
        return name, [client.load_page(PAGES[name][0], PAGES[name][1])]

    return act


def mixed_action(ids: Sequence[str], segments: Sequence[str]) -> Action:
    """The mixed scenario of the load test (weights in the module docstring)."""
    pages = {name: page_action(name, ids, segments) for name in ("executive", "segments", "client", "lookup")}

    def act(client: DashClient, rng: random.Random) -> tuple[str, Sequence[PageLoad]]:
        draw = rng.random()
        if draw < 0.20:
            return pages["executive"](client, rng)
        if draw < 0.35:
            return pages["segments"](client, rng)
        if draw < 0.55:
            load = client.load_page(PAGES["actions"][0], PAGES["actions"][1])
            total = (load.grid_response or {}).get("rowCount", 0)
            for _ in range(rng.randint(1, 2)):
                block = 25 * rng.randrange(max(1, total // 25))
                client.grid_rows(load, start=block, sort_model=rng.choice(GRID_SORTS),
                                 filter_model=rng.choice(GRID_FILTERS) if block == 0 else {})
            return "actions", [load]
        if draw < 0.75:
            return pages["client"](client, rng)
        return pages["lookup"](client, rng)

    return act


# -- statistics ---------------------------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` (0-100) percentile with linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _dist(values: Sequence[float]) -> dict[str, Any]:
    ms = [v * 1000 for v in values]
    return {"count": len(ms), **{f"p{q}": _round(percentile(ms, q)) for q in (50, 95, 99)},
            "max": _round(max(ms) if ms else None), "mean": _round(sum(ms) / len(ms) if ms else None)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def summarise(result: RunResult, server_cpu_s: float | None = None) -> dict[str, Any]:
    """Latency percentiles (ms) per page load and per request kind, throughput, errors, and (given the
    gunicorn CPU seconds used during the run) server CPU per page load and per request."""
    names = sorted({r.name for _, r in result.requests})
    cpu = {} if server_cpu_s is None else {
        "server_cpu_s": round(server_cpu_s, 1),
        "server_cpu_ms_per_page": round(1000 * server_cpu_s / max(len(result.pages), 1), 1),
        "server_cpu_ms_per_request": round(1000 * server_cpu_s / max(len(result.requests), 1), 2)}
    return {
        "users": result.users,
        "seconds": round(result.elapsed, 1),
        "page_loads": len(result.pages),
        "page_loads_per_s": round(len(result.pages) / result.elapsed, 1),
        "requests": len(result.requests),
        "requests_per_s": round(len(result.requests) / result.elapsed, 1),
        "errors": len(result.errors),
        "error_examples": result.errors[:5],
        "page": _dist([s for _, s, ok in result.pages if ok]),
        "all_requests": _dist([r.seconds for _, r in result.requests]),
        "by_request": {name: _dist([r.seconds for _, r in result.requests if r.name == name]) for name in names},
        "by_scenario": {sc: _dist([s for name, s, ok in result.pages if name == sc and ok])
                        for sc in sorted({name for name, _, _ in result.pages})},
        "client_cpu_s": round(result.client_cpu_s, 1),
        **cpu,
    }


# -- memory -------------------------------------------------------------------------------------------------------
class RssSampler:
    """Samples the RSS (MB) of every child of a gunicorn master every ``every`` seconds, in a thread."""

    def __init__(self, master_pid: int, every: float = 2.0) -> None:
        self.master = psutil.Process(master_pid)
        self.every = every
        self.samples: dict[int, list[tuple[float, float]]] = {}
        self.cpu: dict[int, list[float]] = {}  # CPU seconds (user + system) at each sample
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._t0 = time.monotonic()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every)

    def sample(self) -> None:
        try:
            children = self.master.children()
        except psutil.NoSuchProcess:
            return
        now = time.monotonic() - self._t0
        for child in children:
            try:
                rss, times = child.memory_info().rss / 2**20, child.cpu_times()
            except psutil.NoSuchProcess:
                continue
            self.samples.setdefault(child.pid, []).append((round(now, 1), rss))
            self.cpu.setdefault(child.pid, []).append(times.user + times.system)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def report(self) -> dict[str, Any]:
        """Per worker: start, end, max RSS (MB), growth, whether it is flat, and its share of the workers' CPU
        time over the period (a worker holding most keep-alive connections does most of the work); ``flat``."""
        workers = {}
        busy = {pid: cpu[-1] - cpu[0] for pid, cpu in self.cpu.items()}
        for pid, samples in self.samples.items():
            rss = [mb for _, mb in samples]
            growth = rss[-1] - rss[0]
            limit = max(FLAT_MB, FLAT_SHARE * rss[0])
            workers[str(pid)] = {"start_mb": round(rss[0], 1), "end_mb": round(rss[-1], 1),
                                 "max_mb": round(max(rss), 1), "growth_mb": round(growth, 1),
                                 "limit_mb": round(limit, 1), "samples": len(rss),
                                 "series_mb": [round(mb) for mb in rss],
                                 "cpu_s": round(busy[pid], 1),
                                 "cpu_share": round(busy[pid] / max(sum(busy.values()), 1e-9), 2),
                                 "flat": growth <= limit and len(rss) > 1}
        full = max((len(s) for s in self.samples.values()), default=0)
        replaced = [pid for pid, s in self.samples.items() if len(s) < full - 1]
        return {"criterion": f"end - start <= max({FLAT_MB:.0f} MB, {FLAT_SHARE:.0%} of start), same workers "
                             f"throughout, sampled every {self.every:g} s after the warm-up",
                "workers": workers, "replaced_workers": replaced,
                "flat": bool(workers) and not replaced and all(w["flat"] for w in workers.values())}


# -- the load test ------------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20, help="concurrent users (default 20)")
    parser.add_argument("--seconds", type=float, default=60, help="measured duration (default 60)")
    parser.add_argument("--warmup", type=float, default=10, help="warm-up before measuring (default 10)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker (default 4)")
    parser.add_argument("--worker-class", default="gthread", choices=("gthread", "sync"))
    parser.add_argument("--store", help="serve this store URL instead of publishing the bundled data to a temp dir")
    parser.add_argument("--url", help="load an already running server instead (no memory sampling); needs --store "
                        "(the store it serves, to sample customer ids)")
    parser.add_argument("--rss-every", type=float, default=3.0, help="RSS sampling period, s (default 3)")
    parser.add_argument("--output", type=Path, default=OUT / "load.json", help="results JSON")
    return parser


def run_load(args: argparse.Namespace, store_url: str) -> dict[str, Any]:
    """Serve ``store_url`` (unless ``--url``), warm up, then the measured mixed load with RSS sampling."""
    sample = snapshot_sample(store_url)
    action = mixed_action(sample["customer_ids"], sample["segments"])
    if args.url:
        result = run_users(args.url, args.users, args.seconds, action, warmup=args.warmup)
        return {"summary": summarise(result), "memory": None}
    with serve({"STORE_URL": store_url}, OUT / "load-gunicorn.log", workers=args.workers, threads=args.threads,
               worker_class=args.worker_class, worker_timeout_s=60) as server:
        # warm-up on new connections each time: every worker loads every table before memory is measured
        run_users(server.url, args.users, args.warmup, action, fresh_connections=True)
        cpu0 = server.cpu_s()
        with RssSampler(server.proc.pid, args.rss_every) as sampler:
            result = run_users(server.url, args.users, args.seconds, action, seed=1)
        return {"summary": summarise(result, server.cpu_s() - cpu0), "memory": sampler.report()}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    tmp = None
    if args.url and not args.store:
        print("error: --url needs --store (the store that server reads)", file=sys.stderr)
        return 3
    try:
        store_url = args.store
        if not store_url:
            tmp = tempfile.mkdtemp(prefix="bench-load-store-")
            store_url = "file://" + tmp
            publish(store_url)
        report = {"machine": machine(), "command": "python -m bench.load " + " ".join(sys.argv[1:] if argv is None
                                                                                     else argv),
                  "users": args.users, "seconds": args.seconds, "warmup": args.warmup,
                  "gunicorn": {"workers": args.workers, "threads": args.threads, "worker_class": args.worker_class},
                  **run_load(args, store_url)}
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2))
    summary, memory = report["summary"], report["memory"]
    print(_text(summary, memory))
    print(f"results: {args.output}")
    if summary["errors"]:
        return 1
    return 0 if memory is None or memory["flat"] else 2


def _text(summary: Mapping[str, Any], memory: Mapping[str, Any] | None) -> str:
    lines = [f"{summary['users']} users, {summary['seconds']} s: {summary['page_loads']} page loads "
             f"({summary['page_loads_per_s']}/s), {summary['requests']} requests ({summary['requests_per_s']}/s), "
             f"errors {summary['errors']}",
             f"page load ms: p50 {summary['page']['p50']} p95 {summary['page']['p95']} p99 {summary['page']['p99']}; "
             f"gunicorn CPU {summary.get('server_cpu_ms_per_page', '?')} ms per page load, load generator CPU "
             f"{summary['client_cpu_s']} s"]
    for name, dist in summary["by_request"].items():
        lines.append(f"  {name:28s} n={dist['count']:6d} p50 {dist['p50']} p95 {dist['p95']} p99 {dist['p99']} ms")
    for error in summary["error_examples"]:
        lines.append(f"  error: {error}")
    if memory:
        for pid, worker in memory["workers"].items():
            lines.append(f"  worker {pid}: RSS {worker['start_mb']} -> {worker['end_mb']} MB (max {worker['max_mb']}, "
                         f"growth {worker['growth_mb']}, limit {worker['limit_mb']}) "
                         f"{'flat' if worker['flat'] else 'GROWING'}; {worker['cpu_share']:.0%} of the workers' CPU")
        lines.append(f"memory flat: {memory['flat']} ({memory['criterion']})")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
