"""Dashboard speed: cold start, latency under load, payload sizes, snapshot size in Redis.

    python -m bench.dashboard                     # everything; bench/out/dashboard.json and dashboard.md
    python -m bench.dashboard --only latency --seconds 5
    python -m bench.dashboard --store file:///work/data/store-1m --seconds 20   # 1 M customers (issue 16)

1. **Cold start** (bundled snapshot and a much larger one): ``import dashboard.wsgi`` in a fresh
   interpreter; gunicorn spawn -> first 200 on ``/`` -> first full page (the page-content callback of
   ``/`` answered with a pinned version) -> first Actions and Client 360 content (their tables are
   read on first use). The large snapshot comes from ``--big-input`` or, by default, ``--big-lines``
   synthetic lines (bench/synth.py).
2. **Latency** at 1, 10 and 20 concurrent users (threads with keep-alive sessions, no think time, each
   replaying whole page loads: HTML, layout, dependencies, callbacks; see bench/web_client.py) for
   each page and for the Client 360 lookup from the navbar search, with gunicorn ``--workers 2
   --threads 4`` (gthread) and the sync worker (``--workers 2``).
3. **Payloads**: bytes of every data response of a page load (raw and gzip -6), and of the static
   assets (raw, gzip, whether the server compressed them, Cache-Control).
4. **Redis**: a private redis-server on a free port (never the one on 6379), one refresh published to
   it, ``MEMORY USAGE`` per key and ``INFO memory``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from bench._common import BUNDLED, machine
from bench.load import (
    OUT,
    ROOT,
    RssSampler,
    mixed_action,
    page_action,
    publish,
    run_users,
    snapshot_sample,
    summarise,
)
from bench.report import write_section_2
from bench.servers import private_redis, serve
from bench.web_client import PAGES, DashClient, page_path

__all__ = ["cold_start", "latency", "payloads", "redis_size", "big_input", "large_store", "every_page", "main"]

SCENARIOS = ("executive", "segments", "actions", "client", "lookup", "mixed")
GUNICORN: dict[str, Any] = {"workers": 2, "threads": 4, "worker_timeout_s": 60}  # with worker_class: gthread or sync
THINK_S = 4.0  # mean think time of the extra "20 users with think time" cell (uniform 2-6 s)
ASYNC_CHUNKS = ("/_dash-component-suites/dash/dcc/async-graph.js",
                "/_dash-component-suites/plotly/package_data/plotly.min.js",
                "/_dash-component-suites/dash_ag_grid/async-community.js")  # loaded on demand by the pages
CONTENT_BODY: dict[str, Any] = {"output": ".._pages_content.children..._pages_store.data..",
                "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
                "changedPropIds": ["_pages_location.pathname", "_pages_location.search"]}


# -- 1. cold start ------------------------------------------------------------------------------------------------
def _content(url: str, path: str) -> requests.Response:
    pathname, _, search = path.partition("?")
    body = {**CONTENT_BODY, "inputs": [{"id": "_pages_location", "property": "pathname", "value": pathname},
                                       {"id": "_pages_location", "property": "search",
                                        "value": "?" + search if search else ""}]}
    return requests.post(url + "/_dash-update-component", json=body, timeout=120)


def import_time(store_url: str, runs: int = 3) -> dict[str, float]:
    """Fresh ``python -c "import dashboard.wsgi"``: wall time (spawn -> exit) and the import itself, medians."""
    code = "import time; t = time.perf_counter(); import dashboard.wsgi; print(time.perf_counter() - t)"
    walls, imports = [], []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                              env={**os.environ, "STORE_URL": store_url}, timeout=120)
        walls.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise RuntimeError(f"import dashboard.wsgi failed: {done.stderr[-1000:]}")
        imports.append(float(done.stdout.strip().splitlines()[-1]))
    return {"process_s": round(statistics.median(walls), 3), "import_s": round(statistics.median(imports), 3)}


def _cold_run(store_url: str, client_path: str, env: Mapping[str, str] | None = None) -> dict[str, float]:
    """One gunicorn (gthread 2x4) start: spawn -> first 200 on ``/`` -> first full page -> first Actions, Client 360."""
    with serve({"STORE_URL": store_url, **(env or {})}, OUT / "cold-gunicorn.log", worker_class="gthread",
               **GUNICORN, probe="/") as server:  # ready_s: spawn -> first 200 on "/"
        response = _content(server.url, "/")
        full = time.monotonic() - server.spawned
        if response.status_code != 200 or b"page-version" not in response.content:
            raise RuntimeError(f"first page content: HTTP {response.status_code}")
        assert server.ready_s is not None  # serve() yields once ready
        timings = {"first_200_s": server.ready_s, "first_full_page_s": full}
        for name, path in (("actions", PAGES["actions"][0]), ("client", client_path)):
            start = time.monotonic()
            if _content(server.url, path).status_code != 200:
                raise RuntimeError(f"first {name} content failed")
            timings[f"first_{name}_content_s"] = time.monotonic() - start
    return timings


def cold_start(stores: Mapping[str, str], runs: int = 3) -> dict[str, Any]:
    """Per store: medians of ``runs`` cold starts, the stores taking turns (a slow spell of the machine then
    hits them alike), and the import time."""
    paths = {label: f"/client/{snapshot_sample(url, n=1)['customer_ids'][0]}" for label, url in stores.items()}
    rows: dict[str, list[dict[str, float]]] = {label: [] for label in stores}
    for _ in range(runs):
        for label, url in stores.items():
            rows[label].append(_cold_run(url, paths[label]))
    return {label: {key: round(statistics.median(r[key] for r in rows[label]), 3) for key in rows[label][0]}
            | {"runs": runs, "import": import_time(stores[label])} for label in stores}


# -- 2. latency ---------------------------------------------------------------------------------------------------
def latency(store_url: str, users: Sequence[int] = (1, 10, 20), seconds: float = 10.0, warmup: float = 2.0,
            servers: Sequence[str] = ("gthread", "sync"), think_users: int = 20) -> dict[str, Any]:
    """Per server kind, scenario and user count: summaries from :func:`bench.load.summarise`; the mixed
    scenario also with ``think_users`` users pausing ~THINK_S s between pages."""
    sample = snapshot_sample(store_url)
    results: dict[str, Any] = {}
    for kind in servers:
        with serve({"STORE_URL": store_url}, OUT / f"latency-{kind}-gunicorn.log", worker_class=kind,
                   **GUNICORN) as server:
            for scenario in SCENARIOS:
                action = (mixed_action(sample["customer_ids"], sample["segments"]) if scenario == "mixed" else
                          page_action(scenario, sample["customer_ids"], sample["segments"]))
                run_users(server.url, 4, warmup, action, fresh_connections=True)  # every worker has read the tables
                cells = [(str(count), count, 0.0, seconds) for count in users]
                if scenario == "mixed" and think_users:
                    cells.append((f"{think_users} (think {THINK_S:g} s)", think_users, THINK_S, max(3 * seconds, 30)))
                for label, count, think, duration in cells:
                    cpu0 = server.cpu_s()
                    with RssSampler(server.proc.pid, every=max(duration / 5, 1.0)) as sampler:
                        result = run_users(server.url, count, duration, action, seed=count, think=think,
                                           warmup=2 * think)  # think: measured once every user has arrived
                    summary = summarise(result, None if think else server.cpu_s() - cpu0)  # think: CPU spans the warm-up
                    summary["worker_cpu_share"] = sorted(w["cpu_share"] for w in sampler.report()["workers"].values())
                    results.setdefault(kind, {}).setdefault(scenario, {})[label] = summary
                    print(f"  {kind:7s} {scenario:9s} {label:>14s} users: page p95 {summary['page']['p95']} ms, "
                          f"requests p95 {summary['all_requests']['p95']} ms, {summary['page_loads_per_s']} pages/s, "
                          f"{summary.get('server_cpu_ms_per_page', '-')} ms CPU/page, errors {summary['errors']}", flush=True)
    return results


# -- 2b. a large store (issue 16: 1 M customers) ----------------------------------------------------------------------
def every_page(store_url: str, customer_ids: Sequence[str], segments: Sequence[str]) -> list[str]:
    """One path of every page of the app (a rule, a product and customers of the snapshot)."""
    from analytics.settings import load_settings
    from analytics.snapshot import parse_manifest, verify_table
    from jobs.store import open_store

    store = open_store(load_settings({"STORE_URL": store_url}).store)
    try:
        version = store.current_version() or ""
        manifest = parse_manifest(store.read_manifest(version))
        rules = verify_table(manifest, "rules", store.read_table(version, "rules"))
        products = verify_table(manifest, "products", store.read_table(version, "products"))
    finally:
        store.close()
    code = str(products.sort_values("customers", ascending=False)["stock_code"].iloc[0])
    rule = [f"/cross-sell/rule/{rules['rule_id'].iloc[0]}"] if len(rules) else []  # none mined: no rule page
    return ["/", f"/?segment={quote(segments[0])}", "/segments", f"/segments?segment={quote(segments[0])}",
            "/actions?view=at-risk", "/actions?view=all", f"/actions?view=all&segment={quote(segments[-1])}",
            "/client", *(f"/client/{quote(c)}" for c in customer_ids[:3]), "/movement", "/movement?list=downgrades",
            "/cross-sell", *rule, f"/products/{quote(code)}", "/predictions", "/campaigns"]


def _worker_rss(pid: int) -> list[float]:
    import psutil

    return sorted(round(child.memory_info().rss / 2**20, 1) for child in psutil.Process(pid).children())


def _grid_action(ids: Sequence[str]) -> Any:
    """Actions page load (with its first grid block), then two more blocks: one deep, sorted; one filtered."""
    from bench.load import GRID_FILTERS, GRID_SORTS

    def act(client: DashClient, rng: Any) -> tuple[str, list]:
        load = client.load_page(PAGES["actions"][0], PAGES["actions"][1])
        total = (load.grid_response or {}).get("rowCount", 0)
        client.grid_rows(load, start=25 * rng.randrange(max(1, total // 25)), sort_model=rng.choice(GRID_SORTS))
        client.grid_rows(load, start=0, sort_model=rng.choice(GRID_SORTS), filter_model=rng.choice(GRID_FILTERS))
        return "actions", [load]

    return act


def large_store(store_url: str, users: int = 10, seconds: float = 20.0, runs: int = 2) -> dict[str, Any]:
    """On a large published store: cold start with an empty local cache and with the copies present (a
    restart), worker RSS after visiting every page, then Client 360 and grid p95 at ``users`` users."""
    sample = snapshot_sample(store_url)
    cache = Path(tempfile.mkdtemp(prefix="bench-dashboard-cache-"))
    env = {"DASHBOARD_CACHE_DIR": str(cache)}
    client_path = f"/client/{quote(sample['customer_ids'][0])}"
    report: dict[str, Any] = {"store": store_url, "users": users, "seconds": seconds}
    try:
        empty, restart = [], []
        for _ in range(runs):
            shutil.rmtree(cache, ignore_errors=True)
            empty.append(_cold_run(store_url, client_path, env))
            restart.append(_cold_run(store_url, client_path, env))
        report["cold_start"] = {label: {key: round(statistics.median(r[key] for r in rows), 3) for key in rows[0]}
                                for label, rows in (("empty_cache", empty), ("restart", restart))}
        print(f"   cold start: {report['cold_start']}", flush=True)
        with serve({"STORE_URL": store_url, **env}, OUT / "large-gunicorn.log", worker_class="gthread",
                   **GUNICORN) as server:
            report["rss_start_mb"] = _worker_rss(server.proc.pid)
            pages = every_page(store_url, sample["customer_ids"], sample["segments"])
            for _ in range(3):  # fresh connections: both workers see every page
                for path in pages:
                    DashClient(server.url).load_page(path)
            report["pages"] = pages
            report["rss_after_pages_mb"] = _worker_rss(server.proc.pid)
            print(f"   worker RSS after every page: {report['rss_after_pages_mb']} MB", flush=True)
            report["index_ready_s"] = _wait_for_index(cache, time.monotonic() - server.spawned)
            print(f"   customer index files ready {report['index_ready_s']} s after the start", flush=True)
            for name, action in (("client", page_action("client", sample["customer_ids"], sample["segments"])),
                                 ("actions", _grid_action(sample["customer_ids"]))):
                run_users(server.url, 4, 2.0, action, fresh_connections=True)
                for key, think, length in (("latency", 0.0, seconds), ("latency_think", THINK_S, 3 * seconds)):
                    cpu0 = server.cpu_s()
                    result = run_users(server.url, users, length, action, think=think, seed=users)
                    report.setdefault(key, {})[name] = summarise(result, server.cpu_s() - cpu0)
                    s = report[key][name]
                    print(f"   {name}, think {think:g} s: page p95 {s['page']['p95']} ms, content p95 "
                          f"{s['by_request'].get('cb:content', {}).get('p95')} ms, grid block p95 "
                          f"{s['by_request'].get('cb:grid-rows', {}).get('p95')} ms, errors {s['errors']}", flush=True)
            report["rss_end_mb"] = _worker_rss(server.proc.pid)
        report["cache_mb"] = round(sum(f.stat().st_size for f in cache.rglob("*") if f.is_file()) / 2**20, 1)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return report


def _wait_for_index(cache: Path, elapsed: float, timeout_s: float = 900.0) -> float | None:
    """Seconds from the server's start until every customer index file exists (the workers build them in the
    background on the first Client 360 read; ``dashboard.customer_index``); None when not within ``timeout_s``."""
    from dashboard.customer_index import INDEXED_TABLES

    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        built = {p.stem for p in cache.glob("*/*.duckdb")}
        if built >= set(INDEXED_TABLES):
            return round(elapsed + time.monotonic() - start, 1)
        time.sleep(1.0)
    return None


def large_markdown(report: Mapping[str, Any]) -> str:
    """The "## 6. Dashboard at 1 M customers" section of docs/PERFORMANCE.md."""
    m, snap = report["machine"], report["snapshot"]
    cold, lat = report["cold_start"], report["latency"]
    rows = snap["rows"]

    think = report.get("latency_think", {})

    def p95(name: str, request: str, results: Mapping[str, Any] = lat) -> Any:
        return results.get(name, {}).get("by_request", {}).get(request, {}).get("p95")

    rss_max = max(report["rss_after_pages_mb"] + report["rss_end_mb"])
    targets = [
        ("Worker RSS after every page was visited (then the latency runs)", "< 400 MB",
         f"{report['rss_after_pages_mb']} MB after the pages, {report['rss_end_mb']} MB at the end", rss_max < 400),
        ("Cold start: spawn → first full page (`/` content), copies present (restart)", "< 2 s",
         f"{cold['restart']['first_full_page_s']} s", cold["restart"]["first_full_page_s"] < 2),
        ("Cold start, empty local cache (first start on the machine)", "< 2 s",
         f"{cold['empty_cache']['first_full_page_s']} s", cold["empty_cache"]["first_full_page_s"] < 2),
    ]
    for results, how in ((think, f"users pausing {THINK_S:g} s on average between pages"),
                         (lat, "users that never pause (saturation)")):
        if results:
            targets += [
                (f"Client 360 content callback p95, {report['users']} {how}", "< 300 ms",
                 f"{p95('client', 'cb:content', results)} ms", (p95("client", "cb:content", results) or 1e9) < 300),
                (f"Grid block (`getRowsRequest`: sort, filter, page on 1 M rows) p95, {report['users']} {how}",
                 "< 300 ms", f"{p95('actions', 'cb:grid-rows', results)} ms",
                 (p95("actions", "cb:grid-rows", results) or 1e9) < 300)]
    out = ["## 6. Dashboard at 1 M customers (issue 16)", "",
           f"Measured {m['date']} on {m['cores']} cores ({m['cpu']}), load average at start {m['load_average_1m']} "
           "(a shared machine: the load generator runs on the same 2 cores; CPU per page and memory are the steadier "
           "figures). Snapshot of `python -m bench.synth --retailer 1000000`: "
           f"{rows['customers']:,} customers, {rows['orders']:,} orders, {rows['order_lines']:,} order lines, "
           f"{rows['recommendations']:,} recommendations, {rows['segment_history']:,} history rows; tables "
           f"{snap['table_bytes'] / 2**20:.0f} MB of Parquet (local copies and index files {report['cache_mb']} MB).",
           "", "```", report["command"], "```", "",
           "The workers never hold the per-customer tables: `dashboard/local_tables.py` copies each table of the "
           "served version once per machine (digest-verified, atomic), and `dashboard/customer_index.py` builds from "
           "each per-customer copy, in a background process at low priority, a DuckDB file sorted by customer id "
           "(one build per machine). Every worker queries them with DuckDB (`dashboard/queries.py`, "
           "`data.grid_page`, at most 96 MB of DuckDB memory each, spilling beyond it into the cache directory); "
           "until a file is built, the Parquet copy answers the same rows. Small tables (kpis, segments, rules, …) are read whole and memoized. "
           f"Here the index files were ready {report.get('index_ready_s', '—')} s after the server started (the "
           "latency runs start after that).", "",
           "| target | goal | measured | met |", "|---|---|---|---|"]
    out += [f"| {what} | {goal} | {got} | {'yes' if ok else 'NO'} |" for what, goal, got, ok in targets]
    out += ["", "| cold start (medians) | first 200 on `/` | first full page | first Actions content | "
            "first Client 360 content |", "|---|---|---|---|---|"]
    for label, c in cold.items():
        out.append(f"| {label.replace('_', ' ')} | {c['first_200_s']} s | {c['first_full_page_s']} s | "
                   f"{c['first_actions_content_s']} s | {c['first_client_content_s']} s |")
    out += ["", f"Latency at {report['users']} concurrent users, gunicorn gthread 2 workers × 4 threads (ms; *page* = "
            "a whole page load's sequential requests). *Think time*: each user pauses 2-6 s (mean "
            f"{THINK_S:g} s) between pages, {3 * report['seconds']:g} s per scenario, as people reading a page do; "
            f"*none*: users replay pages back to back, {report['seconds']:g} s per scenario (the machine's capacity).",
            "", "| scenario | think time | page p50 / p95 | content p95 | grid block p50 / p95 | pages/s | "
            "gunicorn CPU per page (ms) | errors |", "|---|---|---|---|---|---|---|---|"]
    for results, label in ((think, f"{THINK_S:g} s"), (lat, "none")):
        for name, s in results.items():
            grid = s["by_request"].get("cb:grid-rows", {})
            out.append(f"| {name} | {label} | {s['page']['p50']} / {s['page']['p95']} | "
                       f"{p95(name, 'cb:content', results)} | {grid.get('p50', '—')} / {grid.get('p95', '—')} | "
                       f"{s['page_loads_per_s']} | {s.get('server_cpu_ms_per_page', '—')} | {s['errors']} |")
    out += ["", "Pages visited (three passes on fresh connections, so each worker serves them): "
            + ", ".join(f"`{p}`" for p in report["pages"]) + ".", "",
            "Before (main before issue 16, figures of the issue on the same file): one worker grew to 3.2 GB after "
            "a few pages and the first Client 360 took about 8 s; every worker held whole tables.", "",
            "Reading the latency figures: with users that never pause, the p95 is mostly queueing, about users × "
            "CPU per page / 2 cores, and the load generator shares those cores. A Client 360 load costs "
            f"{lat['client'].get('server_cpu_ms_per_page', '—')} ms of gunicorn CPU here (five lookups by customer in "
            "the index files, 4-9 ms each, against about 45 ms in a Parquet row group), an Actions load with three "
            f"grid blocks {lat['actions'].get('server_cpu_ms_per_page', '—')} ms (the blocks read the customers index "
            "file: a block's keys are sorted first, then its 100 rows read).", ""]
    out += _before_after(OUT / "dashboard-large-before.json", report)
    out += _bundled_comparison(OUT / "dashboard-bundled-before.json", OUT / "dashboard-bundled-after.json")
    return "\n".join(out)


def _before_after(before_path: Path, after: Mapping[str, Any]) -> list[str]:
    """The same bench on the code before the customer index (``bench/out/dashboard-large-before.json``), when run."""
    if not before_path.exists():
        return []
    before = json.loads(before_path.read_text())

    def cells(r: Mapping[str, Any]) -> list[Any]:
        lat = r["latency"]
        return [r["cold_start"]["restart"]["first_full_page_s"], r["cold_start"]["empty_cache"]["first_full_page_s"],
                max(r["rss_after_pages_mb"] + r["rss_end_mb"]), lat["client"].get("server_cpu_ms_per_page"),
                lat["client"]["by_request"].get("cb:content", {}).get("p95"), lat["actions"].get("server_cpu_ms_per_page"),
                lat["actions"]["by_request"].get("cb:grid-rows", {}).get("p95"), r["machine"]["load_average_1m"]]

    head = ["cold start, restart (s)", "cold start, empty cache (s)", "max worker RSS (MB)", "Client 360 CPU/page (ms)",
            "Client 360 content p95 (ms)", "Actions CPU/page (ms)", "grid block p95 (ms)", "load average at start"]
    out = [f"Before and after the customer index, the same command run one after the other "
           f"({before['machine']['date']} and {after['machine']['date']}; before = `{before.get('commit', 'a2671d4')}`):",
           "", "| | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
    for label, r in (("before", before), ("after", after)):
        out.append(f"| {label} | " + " | ".join(str(c) for c in cells(r)) + " |")
    return out + [""]


def _bundled_comparison(before_path: Path, after_path: Path) -> list[str]:
    """Bundled-data content-callback p95 per page, main's code against this one, run in the same session."""
    if not (before_path.exists() and after_path.exists()):
        return []
    before, after = json.loads(before_path.read_text()), json.loads(after_path.read_text())
    out = ["Bundled data, before (the code before the customer index) and after, run one after the other "
           f"(`{after['command']}` in each tree; gthread; content-callback p95 / page p95, ms; the machine is "
           "shared, so compare the ratio, and the CPU per page: the steadier figure).", "",
           "| page | users | before | after | after / before (page p95) | CPU per page before → after (ms) |",
           "|---|---|---|---|---|---|"]
    for scenario, cells in after["latency"]["gthread"].items():
        for users, cell in cells.items():
            old = before["latency"]["gthread"].get(scenario, {}).get(users)
            if old is None:
                continue
            ratio = cell["page"]["p95"] / max(old["page"]["p95"], 1e-9)
            out.append(f"| {scenario} | {users} | {old['by_request'].get('cb:content', {}).get('p95')} / "
                       f"{old['page']['p95']} | {cell['by_request'].get('cb:content', {}).get('p95')} / "
                       f"{cell['page']['p95']} | {ratio:.2f} | {old.get('server_cpu_ms_per_page', '—')} → "
                       f"{cell.get('server_cpu_ms_per_page', '—')} |")
    return out + [""]


def write_large_section(section: str, doc: Path = ROOT / "docs" / "PERFORMANCE.md") -> None:
    """Replace (or append) section 6 of docs/PERFORMANCE.md; bench/report.py rewrites sections 2 and 4 only."""
    text = doc.read_text()
    found = re.search(r"^## 6\. .*?(?=^## (?!6\. )|\Z)", text, re.S | re.M)
    new = section.rstrip("\n") + "\n"
    doc.write_text(text[:found.start()] + new + text[found.end():] if found else text.rstrip("\n") + "\n\n" + new)


# -- 3. payloads --------------------------------------------------------------------------------------------------
def _gzip_size(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def payloads(url: str, customer_id: str) -> dict[str, Any]:
    """Per page: bytes of each data response (raw, gzip); static assets (raw, gzip, served encoding, caching)."""
    pages: dict[str, Any] = {}
    session = requests.Session()
    client = DashClient(url, session=session)
    for name in ("executive", "segments", "actions", "client"):
        path = page_path(name, customer_id)
        bodies: list[tuple[str, bytes]] = []

        def keep(response: requests.Response, *_: Any, bodies: list[tuple[str, bytes]] = bodies, **__: Any) -> None:
            bodies.append((f"{response.request.method} {response.request.path_url.split('?')[0]}", response.content))

        session.hooks["response"] = [keep]
        load = client.load_page(path, PAGES[name][1])
        session.hooks["response"] = []
        data = [{"request": r.name, "bytes": len(body), "gzip": _gzip_size(body)}
                for r, (_, body) in zip(load.requests, bodies) if r.bytes]
        pages[name] = {"path": path, "responses": data, "bytes": sum(d["bytes"] for d in data),
                       "gzip": sum(d["gzip"] for d in data),
                       "content_bytes": sum(d["bytes"] for d in data if d["request"] == "cb:content")}
    html = session.get(url + "/", timeout=30).text
    links = re.findall(r'<(?:script[^>]*\bsrc|link[^>]*\bhref)="([^"]+)"', html)
    assets = []
    for link in [*links, *ASYNC_CHUNKS]:
        response = session.get(url + link if link.startswith("/") else link, timeout=60,
                               headers={"Accept-Encoding": "gzip"})
        raw = response.content  # requests decodes a gzip body: len() is the raw size
        assets.append({"path": link.split("?")[0], "status": response.status_code, "bytes": len(raw),
                       "gzip": _gzip_size(raw), "served_encoding": response.headers.get("Content-Encoding"),
                       "cache_control": response.headers.get("Cache-Control"), "etag": bool(response.headers.get("ETag"))})
    session.close()
    return {"pages": pages, "assets": assets, "assets_bytes": sum(a["bytes"] for a in assets),
            "assets_gzip": sum(a["gzip"] for a in assets),
            "assets_served_compressed": any(a["served_encoding"] for a in assets)}


# -- 4. redis -----------------------------------------------------------------------------------------------------
def redis_size(input_path: Path | None = None) -> dict[str, Any]:
    """Publish one snapshot to a private redis-server; memory per key and the server's used memory."""
    with private_redis() as redis_server, redis_server.client(timeout_s=5) as client:
        before = client.info("memory")["used_memory"]
        version, seconds = publish(redis_server.url, input_path)
        after = client.info("memory")
        keys = {}
        for key in sorted(client.scan_iter(count=1000)):
            name = key.decode()
            kind = client.type(key).decode()
            keys[name] = {"type": kind, "memory_usage": client.memory_usage(key, samples=0),
                          "value_bytes": client.strlen(key) if kind == "string" else None}
        snap = {k: v for k, v in keys.items() if f":snap:{version}:" in k}
        return {"version": version, "refresh_s": round(seconds, 2), "redis_version": client.info("server")["redis_version"],
                "used_memory_before": before, "used_memory_after": after["used_memory"],
                "used_memory_delta": after["used_memory"] - before, "used_memory_rss": after["used_memory_rss"],
                "snapshot_keys": len(snap), "snapshot_memory_usage": sum(v["memory_usage"] for v in snap.values()),
                "snapshot_value_bytes": sum(v["value_bytes"] or 0 for v in snap.values()), "keys": keys}


# -- the large snapshot -------------------------------------------------------------------------------------------
def big_input(lines: int, path: Path) -> Path:
    """A large transactions file of ``lines`` synthetic lines (bench/synth.py), written once to ``path``."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "bench.synth", "--lines", str(lines), "--output", str(path)],
                   cwd=ROOT, check=True, capture_output=True, timeout=1800)
    return path


def _manifest(store_url: str) -> dict[str, Any]:
    from analytics.settings import load_settings
    from analytics.snapshot import parse_manifest
    from jobs.store import open_store

    store = open_store(load_settings({"STORE_URL": store_url}).store)
    try:
        version = store.current_version()
        if version is None:
            raise RuntimeError(f"nothing published at {store_url}")
        return parse_manifest(store.read_manifest(version))
    finally:
        store.close()


def _snapshot_facts(store_url: str, seconds: float, input_path: Path) -> dict[str, Any]:
    manifest = _manifest(store_url)
    return {"input": str(input_path.relative_to(ROOT) if input_path.is_relative_to(ROOT) else input_path),
            "input_lines": manifest["source"]["rows"], "refresh_s": round(seconds, 1),
            "rows": {name: entry["rows"] for name, entry in manifest["tables"].items()},
            "table_bytes": sum(entry["bytes"] for entry in manifest["tables"].values())}


# -- report -------------------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", choices=("cold", "latency", "payloads", "redis"),
                        help="run only these parts (repeatable; default: all)")
    parser.add_argument("--seconds", type=float, default=10, help="measured seconds per latency cell (default 10)")
    parser.add_argument("--users", default="1,10,20", help="concurrent users (default 1,10,20)")
    parser.add_argument("--servers", default="gthread,sync", help="gunicorn worker classes (default gthread,sync)")
    parser.add_argument("--runs", type=int, default=3, help="cold-start runs, median reported (default 3)")
    parser.add_argument("--big-input", type=Path, help="large transactions file for the cold start (default: "
                        "--big-lines synthetic lines)")
    parser.add_argument("--big-lines", type=int, default=2_000_000, help="lines of the large input (default 2000000)")
    parser.add_argument("--output", type=Path, default=OUT / "dashboard.json")
    parser.add_argument("--store", help="only the large-store run on this published store (e.g. "
                        "file:///work/data/store-1m): cold start, worker RSS after every page, Client 360 and grid p95; "
                        "writes bench/out/dashboard-large.json and section 6 of docs/PERFORMANCE.md")
    parser.add_argument("--report", action="store_true", help="only rewrite the markdown from the JSON results "
                        "(dashboard.json, load.json, soak.json in bench/out)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.report:
        section = markdown(json.loads(args.output.read_text()))
        args.output.with_suffix(".md").write_text(section)
        write_section_2(section)
        return 0
    if args.store:
        return _large(args, argv)
    parts = set(args.only or ("cold", "latency", "payloads", "redis"))
    OUT.mkdir(parents=True, exist_ok=True)
    # --only: update those parts of an existing report, keep the others
    report: dict[str, Any] = json.loads(args.output.read_text()) if args.only and args.output.exists() else {}
    report.update(machine=machine(), command="python -m bench.dashboard " + " ".join(
        sys.argv[1:] if argv is None else argv))
    workdir = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    try:
        bundled = "file://" + str(workdir / "bundled")
        print("publishing the bundled snapshot...", flush=True)
        _, seconds = publish(bundled)
        report.setdefault("snapshots", {})["bundled"] = _snapshot_facts(bundled, seconds, BUNDLED)
        if "cold" in parts:
            big_path = args.big_input or big_input(args.big_lines, OUT / f"dashboard-large-{args.big_lines}.parquet")
            big = "file://" + str(workdir / "big")
            print(f"publishing the large snapshot from {big_path}...", flush=True)
            _, seconds = publish(big, big_path)
            report["snapshots"]["large"] = _snapshot_facts(big, seconds, big_path)
            print("cold start, bundled and large snapshots in turn...", flush=True)
            report["cold_start"] = cold_start({"bundled": bundled, "large": big}, args.runs)
            for label, cold in report["cold_start"].items():
                print(f"   {label}: {cold}", flush=True)
            with serve({"STORE_URL": big}, OUT / "payload-gunicorn.log", worker_class="gthread", **GUNICORN) as server:
                sample = snapshot_sample(big, n=1)
                report["payloads_large"] = {name: page["bytes"] for name, page in
                                            payloads(server.url, sample["customer_ids"][0])["pages"].items()}
        if "payloads" in parts:
            print("payloads...", flush=True)
            with serve({"STORE_URL": bundled}, OUT / "payload-gunicorn.log", worker_class="gthread",
                       **GUNICORN) as server:
                report["payloads"] = payloads(server.url, "12347")
        if "redis" in parts:
            print("snapshot size in Redis...", flush=True)
            report["redis"] = redis_size()
        if "latency" in parts:
            print("latency...", flush=True)
            report["latency"] = latency(bundled, [int(u) for u in args.users.split(",")], args.seconds,
                                        servers=args.servers.split(","))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    args.output.write_text(json.dumps(report, indent=2))
    md, section = args.output.with_suffix(".md"), markdown(report)
    md.write_text(section)
    print(f"results: {args.output} and {md}")
    write_section_2(section)
    errors = sum(cell["errors"] for kind in report.get("latency", {}).values() for sc in kind.values()
                 for cell in sc.values())
    return 1 if errors else 0


def _large(args: argparse.Namespace, argv: Sequence[str] | None) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    users = int(args.users.split(",")[0]) if args.users != "1,10,20" else 10
    report = large_store(args.store, users=users, seconds=args.seconds, runs=min(args.runs, 2))
    manifest = _manifest(args.store)
    report.update(machine=machine(), command="python -m bench.dashboard " + " ".join(sys.argv[1:] if argv is None
                                                                                     else argv),
                  snapshot={"rows": {name: entry["rows"] for name, entry in manifest["tables"].items()},
                            "table_bytes": sum(entry["bytes"] for entry in manifest["tables"].values())})
    (OUT / "dashboard-large.json").write_text(json.dumps(report, indent=2))
    write_large_section(large_markdown(report))
    errors = sum(s["errors"] for s in report["latency"].values())
    return 1 if errors else 0


def _mb(value: float) -> str:
    return f"{value / 2**20:.2f} MB" if value >= 2**20 else f"{value / 1024:.1f} KB"


def markdown(report: Mapping[str, Any]) -> str:
    """The "## 2. Dashboard speed" section for docs/PERFORMANCE.md."""
    m = report["machine"]
    out = ["## 2. Dashboard speed", "",
           f"Measured {m['date']} on {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB RAM, Python {m['python']}, "
           f"load average at start {m['load_average_1m']} (a shared, noisy machine: compare ratios within one run). "
           "gunicorn with the repository's gunicorn.conf.py; workers/threads/worker class from the command line.", "",
           "```", "make bench-dashboard   # = the three commands below; results in bench/out/",
           "python -m bench.load --users 20 --seconds 60",
           "python -m bench.soak --seconds 300 --every 2 --readers 4 --store both",
           "python -m bench.dashboard   # cold start, latency, payloads, Redis size; writes this section", "```", ""]
    out += _summary(report)
    snaps = report.get("snapshots", {})
    if snaps:
        out += ["Snapshots: " + "; ".join(
            f"{label}: {s['input_lines']:,} input lines, {s['rows']['customers']:,} customers, "
            f"{s['rows']['orders']:,} orders, {s['rows']['recommendations']:,} recommendations, "
            f"tables {_mb(s['table_bytes'])} (refresh {s['refresh_s']} s)" for label, s in snaps.items()), ""]
    if "cold_start" in report:
        out += ["### Cold start", "",
                "| snapshot | `import dashboard.wsgi` (process / import) | gunicorn spawn → first 200 on `/` | → first full "
                "page (`/` content callback) | first Actions content | first Client 360 content |",
                "|---|---|---|---|---|---|"]
        for label, c in report["cold_start"].items():
            out.append(f"| {label} | {c['import']['process_s']} s / {c['import']['import_s']} s | {c['first_200_s']} s | "
                       f"{c['first_full_page_s']} s | {c['first_actions_content_s']} s | {c['first_client_content_s']} s |")
        out += ["", f"Medians of {next(iter(report['cold_start'].values()))['runs']} runs per snapshot, taking turns; "
                "gthread 2 workers × 4 threads, `preload_app` from gunicorn.conf.py. The app reads no data at start-up: "
                "tables are read on first use per worker, so the first page that needs a large table pays its read once.",
                ""]
    if "latency" in report:
        out += ["### Latency under load (bundled snapshot)", "",
                "Closed loop: each user replays whole page loads back to back with **no think time** (HTML, "
                "`/_dash-layout`, `/_dash-dependencies`, every callback the page fires; Actions: + the grid's first "
                "block; lookup: navbar search callback + in-app navigation to Client 360; mixed: the load-test mix "
                "below). *Page* = the sum of a page load's sequential requests; *content* = the page-content "
                "callback; *requests* = every request. Milliseconds; static assets excluded (cached by the browser). "
                "*CPU/page* = gunicorn CPU time (all workers) per page load: the capacity of the 2 cores is about "
                "2000 / CPU/page pages per second whatever the number of users; beyond it, latency is queueing.", ""]
        for kind, scenarios in report["latency"].items():
            out += [f"**gunicorn {kind}** ({'2 workers × 4 threads' if kind == 'gthread' else '2 workers'})", "",
                    "| page | users | page p50 / p95 / p99 | content p50 / p95 / p99 | requests p50 / p95 / p99 | "
                    "pages/s | requests/s | CPU/page (ms) | errors |", "|---|---|---|---|---|---|---|---|---|"]
            for scenario, cells in scenarios.items():
                for users, s in cells.items():
                    content = s["by_request"].get("cb:content", {})
                    out.append(f"| {scenario} | {users} | {_p(s['page'])} | {_p(content)} | {_p(s['all_requests'])} | "
                               f"{s['page_loads_per_s']} | {s['requests_per_s']} | {s.get('server_cpu_ms_per_page', '—')} | "
                               f"{s['errors']} |")
            out.append("")
    out += _load_section(OUT / "load.json") + _soak_section(OUT / "soak.json")
    if "payloads" in report:
        p = report["payloads"]
        out += ["### Payloads (bundled snapshot)", "",
                "| page | data responses (raw) | gzip | of which page content |", "|---|---|---|---|"]
        for name, page in p["pages"].items():
            out.append(f"| {name} (`{page['path']}`) | {_mb(page['bytes'])} | {_mb(page['gzip'])} | "
                       f"{_mb(page['content_bytes'])} |")
        if "payloads_large" in report:
            out += ["", "Same pages on the large snapshot (raw): " + ", ".join(
                f"{k} {_mb(v)}" for k, v in report["payloads_large"].items()) + "."]
        out += ["", f"Static assets (first visit, then browser-cached): {_mb(p['assets_bytes'])} raw, "
                f"{_mb(p['assets_gzip'])} gzipped; served compressed: {'yes' if p['assets_served_compressed'] else 'no'}.",
                "", "| asset | raw | gzip | Cache-Control |", "|---|---|---|---|"]
        for a in sorted(p["assets"], key=lambda a: -a["bytes"])[:8]:
            out.append(f"| `{a['path'].rsplit('/', 1)[-1]}` | {_mb(a['bytes'])} | {_mb(a['gzip'])} | "
                       f"{a['cache_control'] or '— (ETag only)' if a['etag'] else a['cache_control'] or '—'} |")
        out.append("")
    if "redis" in report:
        r = report["redis"]
        out += ["### Snapshot size in Redis (bundled data)", "",
                f"Redis {r['redis_version']}, private server, one refresh published: {r['snapshot_keys']} snapshot keys, "
                f"`MEMORY USAGE` total {_mb(r['snapshot_memory_usage'])} (values {_mb(r['snapshot_value_bytes'])}); "
                f"`used_memory` grew by {_mb(r['used_memory_delta'])}.", "", "| key | MEMORY USAGE |", "|---|---|"]
        for key, entry in sorted(r["keys"].items(), key=lambda kv: -kv[1]["memory_usage"]):
            out.append(f"| `{re.sub(r'snap:[^:]+:', 'snap:<version>:', key)}` | {_mb(entry['memory_usage'])} |")
        out.append("")
    return "\n".join(out)


def _summary(report: Mapping[str, Any]) -> list[str]:
    """The headline figures against the targets (cold start < 1 s, p95 < 100 ms at 20 users, pages < 1 MB)."""
    out = ["**Summary.**", ""]
    for label, c in report.get("cold_start", {}).items():
        out.append(f"- Cold start, {label} snapshot: first 200 on `/` after {c['first_200_s']} s, first full page after "
                   f"{c['first_full_page_s']} s (target < 1 s, independent of data size).")
    gthread = report.get("latency", {}).get("gthread", {})
    if gthread:
        single = ", ".join(f"{name} {cells['1']['by_request'].get('cb:content', {}).get('p95')}"
                           for name, cells in gthread.items() if "1" in cells and name != "mixed")
        out.append(f"- One user, page-content callback p95 (ms): {single}.")
        think = next((cell for label, cell in gthread.get("mixed", {}).items() if "think" in label), None)
        busy = gthread.get("mixed", {}).get("20")
        if think:
            out.append(f"- 20 users with think time (mixed pages, gthread): every request p95 "
                       f"{think['all_requests']['p95']} ms, content callback p95 "
                       f"{think['by_request'].get('cb:content', {}).get('p95')} ms, page load p95 {think['page']['p95']} ms, "
                       f"{think['errors']} errors.")
        if busy:
            out.append(f"- 20 users without think time (saturation, mixed pages, gthread): {busy['page_loads_per_s']} "
                       f"pages/s at {busy['server_cpu_ms_per_page']} ms of gunicorn CPU per page load, so the 2 cores "
                       f"(shared with the load generator) are full and latency is queueing: request p95 "
                       f"{busy['all_requests']['p95']} ms, page p95 {busy['page']['p95']} ms, {busy['errors']} errors.")
    pages = report.get("payloads", {}).get("pages", {})
    if pages:
        biggest = max(pages.values(), key=lambda page: page["bytes"])
        out.append(f"- Largest page payload {_mb(biggest['bytes'])} (`{biggest['path']}`; target < 1 MB); static assets "
                   f"{_mb(report['payloads']['assets_bytes'])} once, not compressed by the server.")
    if "redis" in report:
        out.append(f"- Snapshot in Redis: {_mb(report['redis']['snapshot_memory_usage'])} (`MEMORY USAGE` of its keys).")
    return out + [""] if len(out) > 2 else []


def _load_section(path: Path) -> list[str]:
    if not path.exists():
        return []
    r = json.loads(path.read_text())
    s, mem = r["summary"], r.get("memory")
    out = ["### Load test (reliability: 20 users for 60 s, zero errors, flat memory)", "", f"`{r['command']}` — {r['machine']['date']}, gunicorn "
           f"{r['gunicorn']['worker_class']} {r['gunicorn']['workers']} workers × {r['gunicorn']['threads']} threads, "
           f"{r['users']} users without think time for {r['seconds']:g} s after a {r['warmup']:g} s warm-up: "
           f"**{s['errors']} errors**, {s['page_loads']:,} page loads ({s['page_loads_per_s']}/s), {s['requests']:,} "
           f"requests ({s['requests_per_s']}/s); page p50 / p95 / p99 {_p(s['page'])} ms, requests {_p(s['all_requests'])} "
           f"ms; gunicorn CPU {s.get('server_cpu_ms_per_page', '—')} ms per page load; load generator CPU "
           f"{s['client_cpu_s']} s.", "",
           "| scenario | pages | p50 / p95 / p99 (ms) |", "|---|---|---|"]
    out += [f"| {name} | {d['count']} | {_p(d)} |" for name, d in s["by_scenario"].items()]
    if mem:
        out += ["", f"Worker memory (RSS): flat = {mem['criterion']}. **{'Flat' if mem['flat'] else 'NOT flat'}.**", "",
                "| worker | start | end | max | growth | share of the workers' CPU |", "|---|---|---|---|---|---|"]
        out += [f"| {pid} | {w['start_mb']} MB | {w['end_mb']} MB | {w['max_mb']} MB | {w['growth_mb']:+} MB | "
                f"{w.get('cpu_share', 0):.0%} |" for pid, w in mem["workers"].items()]
    return out + [""]


def _soak_section(path: Path) -> list[str]:
    if not path.exists():
        return []
    r = json.loads(path.read_text())
    out = ["### Soak: a refresh every 2 s while readers load pages (reliability test 7)", "",
           f"`{r['command']}` — {r['machine']['date']}; inputs alternate "
           + " and ".join(f"`{Path(p).name}`" for p in r["inputs"]) + ".", "",
           "| store | duration | refreshes published / run | start interval mean / max | refresh mean / max | "
           "versions seen | page loads checked | requests | errors | version mixes | worker RSS at 30 s → end (max) | result |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for x in r["results"]:
        f = x["refreshes"]
        rss = ", ".join(f"{w['series_mb'][min(6, len(w['series_mb']) - 1)]:.0f} → {w['end_mb']:.0f} ({w['max_mb']:.0f}) MB"
                        for w in x.get("memory", {}).get("workers", {}).values() if w.get("series_mb")) or "—"
        out.append(f"| {x['store']} | {x['seconds']} s | {f['published']} / {f['runs']} | {f['mean_interval_s']} / "
                   f"{f['max_interval_s']} s | {f['mean_duration_s']} / {f['max_duration_s']} s | {x['versions_seen']} | "
                   f"{x['page_loads_checked']:,} | {x['requests']:,} | {x['errors']} | {x['mixes']} | {rss} | "
                   f"{'pass' if x['pass'] else 'FAIL'} |")
    return out + ["", "Every page load pinned one version; its navbar caption, KPI figures, grid row count and ids, "
                  "and the customer's spend and invoice count were compared with that version's tables read from "
                  "the store (digests verified). A refresh starts every `--every` s or, when the previous run "
                  "took longer, at once: the columns give the cadence obtained.", ""]


def _p(dist: Mapping[str, Any]) -> str:
    return " / ".join(str(dist.get(k)) for k in ("p50", "p95", "p99")) if dist else "—"


if __name__ == "__main__":
    sys.exit(main())
