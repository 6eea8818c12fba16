"""Soak: a refresh every few seconds while readers load pages; every answer must come from one snapshot.

    python -m bench.soak --seconds 300 --every 2 --readers 4 [--store file|redis|both]

A refresher process runs the real refresh job (``jobs.refresh.run``, in one process so each run is
not an interpreter start) in turn on two inputs of different sizes — the first ``--large-lines``
(default 200,000) and ``--cut-lines`` (100,000) lines of the bundled data, prepared once as Parquet —
starting a run every ``--every`` seconds, or at once when the previous run took longer (the actual
cadence is reported). On 2 busy cores a refresh of the whole bundled file (``--large-lines 0``) takes
4-5 s next to the readers, so a 2 s cadence needs the smaller pair. Meanwhile ``--readers``
threads load pages continuously from gunicorn (2 workers × 4 threads): the Executive summary, the
Actions at-risk list with its grid block, and Client 360 for customers present in both inputs. Each
request goes on a new connection, so the requests of one page load are served by either worker, each
with its own view of the current version (polled every 2 s) and its own table cache.

Every page load must answer 200 with the page's ids (bench/web_client.py), and must be built from the
one version it pinned (``dcc.Store(id="page-version")``): the version in the navbar caption, the KPI
figures (revenue, "of N customers" = the manifest's customers rows, the at-risk count and revenue at
stake), the grid's row count and ids (the callback answers at the pinned version), the customer's
spend and invoice count are compared with that version's tables, read from the store with
``analytics.snapshot.verify_table``. A difference is a *mix*. Pass: 0 errors, 0 mixes, ≥ 2 versions seen.

With ``--store redis`` a private redis-server is started on a free port (never the one on 6379).
Exit status: 0 pass, 1 fail.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._common import BUNDLED, machine
from bench.load import OUT, ROOT, RssSampler
from bench.servers import private_redis, serve
from bench.web_client import PAGES, CheckError, DashClient, PageLoad, page_path, walk_components

__all__ = ["prepare_inputs", "Expected", "Expectations", "check_page", "run_soak", "main"]



# -- inputs and refresher -----------------------------------------------------------------------------------------
def prepare_inputs(cut_lines: int = 200_000, large_lines: int = 0, directory: Path = OUT / "soak",
                   source: Path = BUNDLED) -> tuple[Path, Path]:
    """(large, small) inputs: the first ``large_lines`` (0: all) and ``cut_lines`` lines of ``source`` as Parquet
    (written once)."""
    paths = []
    for lines in (large_lines, cut_lines):
        path = directory / f"{source.stem}-first{lines}.parquet" if lines else source
        if not path.exists():
            import pandas as pd

            directory.mkdir(parents=True, exist_ok=True)
            pd.read_parquet(source).head(lines).to_parquet(path, index=False)
        paths.append(path)
    return paths[0], paths[1]


def _settings(store_url: str, input_path: Path) -> Any:
    from dataclasses import replace

    from analytics.settings import load_settings

    settings = load_settings({"STORE_URL": store_url})
    # The soak checks publication under load (a new version every few seconds), not the predictions: their model
    # fit (import and compile, 10-50 s, docs/PERFORMANCE.md section 5) would allow one refresh in a short soak.
    return replace(settings, input=replace(settings.input, path=str(input_path)),
                   predictive=replace(settings.predictive, enabled=False))


def refresher(store_url: str, inputs: Sequence[Path], every: float, seconds: float) -> None:
    """Refresh on ``inputs`` in turn, one start every ``every`` s, for ``seconds``; one JSON line per run."""
    from jobs.refresh import run

    settings = [_settings(store_url, path) for path in inputs]
    stop_at = time.monotonic() + seconds
    next_start, turn = time.monotonic(), 0
    while True:
        time.sleep(max(0.0, next_start - time.monotonic()))
        if time.monotonic() >= stop_at:
            break
        began = time.monotonic()
        line: dict[str, Any] = {"input": Path(inputs[turn % len(inputs)]).name, "started": time.time()}
        try:
            line["version"] = run(settings[turn % len(inputs)], trigger="schedule")
        except Exception as exc:  # noqa: BLE001 - reported to the soak, which counts it as a failure
            line["error"] = f"{type(exc).__name__}: {exc}"
        line["seconds"] = round(time.monotonic() - began, 3)
        print(json.dumps(line), flush=True)
        next_start, turn = began + every, turn + 1


# -- expectations -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Expected:
    """What a page built from one version must show (read from the store, digests verified)."""

    version: str
    currency: str
    customers_rows: int
    kpis: Mapping[str, float]
    at_risk_ids: frozenset[str]
    monetary: Mapping[str, float]
    invoices: Mapping[str, int]


class Expectations:
    """:class:`Expected` per version, read once from the store (thread-safe)."""

    def __init__(self, store_url: str) -> None:
        from analytics.settings import load_settings
        from jobs.store import open_store

        self.store = open_store(load_settings({"STORE_URL": store_url}).store)
        self._lock = threading.Lock()
        self._known: dict[str, Expected] = {}

    def get(self, version: str) -> Expected:
        with self._lock:
            if version not in self._known:
                self._known[version] = self._read(version)
            return self._known[version]

    def _read(self, version: str) -> Expected:
        from analytics.snapshot import parse_manifest, verify_table

        manifest = parse_manifest(self.store.read_manifest(version))
        read = lambda name: verify_table(manifest, name, self.store.read_table(version, name))  # noqa: E731
        customers, kpis, orders = read("customers"), read("kpis"), read("orders")
        if len(customers) != manifest["tables"]["customers"]["rows"]:
            raise AssertionError(f"{version}: customers has {len(customers)} rows, manifest says "
                                 f"{manifest['tables']['customers']['rows']}")
        return Expected(
            version=version, currency=manifest.get("currency", ""),
            customers_rows=int(manifest["tables"]["customers"]["rows"]),
            kpis={str(k): float(v) for k, v in zip(kpis["kpi"], kpis["value"])},
            at_risk_ids=frozenset(customers.loc[customers["at_risk"], "customer_id"].astype(str)),
            monetary=dict(zip(customers["customer_id"].astype(str), customers["monetary"].astype(float))),
            invoices={str(k): int(v) for k, v in orders.groupby("customer_id").size().items()})

    def close(self) -> None:
        self.store.close()


# -- checks -------------------------------------------------------------------------------------------------------
def _text(node: Any) -> str:
    """All the text under a component (or props) tree."""
    if isinstance(node, str):
        return node
    if isinstance(node, (int, float)):
        return str(node)
    if isinstance(node, list):
        return "".join(_text(item) for item in node)
    if isinstance(node, dict):
        return _text(node.get("props", node).get("children"))
    return ""


def check_page(page: str, load: PageLoad, expected: Expected, customer_id: str | None = None) -> list[str]:
    """Differences between what ``load`` shows and ``expected`` (its pinned version); [] when consistent."""
    from dashboard.components import format as fmt

    problems = []
    cur, props = expected.currency, load.props

    def need(condition: bool, what: str) -> None:
        if not condition:
            problems.append(f"{page} at {expected.version}: {what}")

    titles = {c["props"].get("title") for c in walk_components(load.content) if "title" in c["props"]}
    need(f"Snapshot version {expected.version}" in titles, "navbar caption is not this version")
    if page == "executive":
        k = expected.kpis
        need(expected.customers_rows == int(k["customers"]), f"kpi customers {k['customers']} != manifest rows")
        need(_text(props.get("kpi-revenue")) == fmt.money(k["revenue"], cur),
             f"revenue {_text(props.get('kpi-revenue'))!r} != {fmt.money(k['revenue'], cur)!r}")
        need(f"of {fmt.count(expected.customers_rows)} customers" in _text(props.get("kpi-card-active-customers")),
             f"customers note {_text(props.get('kpi-card-active-customers'))!r} lacks {expected.customers_rows}")
        alert = _text(props.get("at-risk-alert"))
        if k["at_risk_customers"]:
            need(fmt.count(k["at_risk_customers"]) in alert and fmt.money(k["revenue_at_stake"], cur) in alert,
                 f"alert {alert!r} != {k['at_risk_customers']:.0f} at risk, {fmt.money(k['revenue_at_stake'], cur)}")
    elif page == "actions":
        grid = load.grid_response or {}
        need(grid.get("rowCount") == len(expected.at_risk_ids),
             f"grid rowCount {grid.get('rowCount')} != {len(expected.at_risk_ids)} at-risk customers")
        shown = {row.get("customer_id") for row in grid.get("rowData", [])}
        need(shown <= expected.at_risk_ids, f"grid shows customers not at risk in this version: {sorted(shown - expected.at_risk_ids)[:5]}")
        need(len(expected.at_risk_ids) == int(expected.kpis["at_risk_customers"]), "kpi at-risk != customers.at_risk")
    elif page == "client" and customer_id:
        money = _text(props.get("client-monetary"))
        want = fmt.money(expected.monetary.get(customer_id), cur)
        need(money == want, f"customer {customer_id} spend {money!r} != {want!r}")
        summary = _text(props.get("client-history-summary"))
        invoices = expected.invoices.get(customer_id, 0)
        need(summary.startswith(f"{invoices:,} invoice"), f"customer {customer_id} history {summary!r} != {invoices} invoices")
    return problems


# -- the soak -----------------------------------------------------------------------------------------------------
@dataclass
class _Tally:
    checked: dict[str, int] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    mixes: list[str] = field(default_factory=list)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _reader(index: int, url: str, ids: Sequence[str], expectations: Expectations, tally: _Tally,
            stop: threading.Event) -> None:
    rng = random.Random(index)
    client = DashClient(url, keep_alive=False)  # requests of one page spread over the workers
    pages = ("executive", "actions", "client")
    turn = index
    try:
        while not stop.is_set():
            page = pages[turn % len(pages)]
            turn += 1
            customer = rng.choice(ids) if page == "client" else None
            path = page_path(page, customer) if customer else page_path(page)
            client.current = None
            load: PageLoad | None = None
            version: str | None = None
            try:
                load = client.load_page(path, PAGES[page][1])
                version = load.version
                if version is None:
                    raise CheckError("the page pinned no snapshot version")
                problems = check_page(page, load, expectations.get(version), customer)
                error = None
            except CheckError as exc:
                load, problems, error = client.current, [], str(exc)
            except Exception as exc:  # noqa: BLE001 - a store read or a harness bug: an error, not a crash
                load, problems, error = client.current, [], f"{type(exc).__name__}: {exc}"
            with tally.lock:
                tally.requests += len(load.requests) if load else 0
                if error is not None or version is None:
                    tally.errors.append(f"{page}: {error}"[:500])
                    continue
                tally.checked[page] = tally.checked.get(page, 0) + 1
                tally.versions[version] = tally.versions.get(version, 0) + 1
                tally.mixes.extend(problems)
    finally:
        client.close()


def _common_ids(expectations: Expectations, versions: Sequence[str], n: int = 50) -> list[str]:
    common = set.intersection(*(set(expectations.get(v).monetary) for v in versions))
    return random.Random(0).sample(sorted(common), min(n, len(common)))


def run_soak(store_url: str, inputs: Sequence[Path], seconds: float = 300, every: float = 2.0, readers: int = 4,
             workers: int = 2, threads: int = 4, log_name: str = "soak") -> dict[str, Any]:
    """Publish each input once, serve the store, then refresh every ``every`` s while ``readers`` check pages."""
    from jobs.refresh import run

    initial = [run(_settings(store_url, path)) for path in inputs]
    expectations = Expectations(store_url)
    ids = _common_ids(expectations, initial)
    tally, stop = _Tally(), threading.Event()
    runs: list[dict] = []
    OUT.mkdir(parents=True, exist_ok=True)
    with serve({"STORE_URL": store_url}, OUT / f"{log_name}-gunicorn.log", workers=workers, threads=threads,
               worker_class="gthread", worker_timeout_s=60) as server:
        code = ("import sys, json; from pathlib import Path; from bench.soak import refresher; "
                f"refresher({store_url!r}, [Path(p) for p in {[str(p) for p in inputs]!r}], {every}, {seconds})")
        with (OUT / f"{log_name}-refresher.log").open("wb") as log:
            proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True)
        watcher = threading.Thread(target=_watch, args=(proc, runs, expectations), daemon=True)
        watcher.start()
        pool = [threading.Thread(target=_reader, args=(i, server.url, ids, expectations, tally, stop), daemon=True)
                for i in range(readers)]
        started = time.monotonic()
        for thread in pool:
            thread.start()
        try:
            with RssSampler(server.proc.pid, every=5.0) as memory:
                proc.wait(timeout=seconds + 600)
        finally:
            if proc.poll() is None:
                proc.terminate()
            stop.set()
            for thread in pool:
                thread.join(timeout=60)
            watcher.join(timeout=10)
        elapsed = time.monotonic() - started
    expectations.close()
    return _report(store_url, elapsed, every, readers, runs, tally, initial) | {"memory": memory.report()}


def _watch(proc: subprocess.Popen, runs: list[dict], expectations: Expectations) -> None:
    """Collect the refresher's lines; read each new version's expectations before it can be garbage-collected."""
    for line in _lines(proc):
        entry = json.loads(line)
        runs.append(entry)
        if entry.get("version"):
            try:
                expectations.get(entry["version"])
            except Exception as exc:  # noqa: BLE001 - reported with the run
                entry["expectations_error"] = str(exc)


def _lines(proc: subprocess.Popen) -> Iterator[str]:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip().startswith("{"):
            yield line


def _report(store_url: str, elapsed: float, every: float, readers: int, runs: list[dict], tally: _Tally,
            initial: Sequence[str]) -> dict[str, Any]:
    published = [r for r in runs if r.get("version")]
    starts = [r["started"] for r in runs]
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    durations = [r["seconds"] for r in published]
    seen = set(tally.versions)
    checked = sum(tally.checked.values())
    passed = not tally.errors and not tally.mixes and len(seen) >= 2 and checked > 0 and len(published) > 0 \
        and len(published) == len(runs)
    return {
        "store": store_url.split("://", 1)[0], "seconds": round(elapsed, 1), "every_s": every, "readers": readers,
        "refreshes": {"runs": len(runs), "published": len(published), "failed": len(runs) - len(published),
                      "failures": [r.get("error") for r in runs if not r.get("version")][:5],
                      "mean_interval_s": round(sum(gaps) / len(gaps), 2) if gaps else None,
                      "max_interval_s": round(max(gaps), 2) if gaps else None,
                      "mean_duration_s": round(sum(durations) / len(durations), 2) if durations else None,
                      "max_duration_s": round(max(durations), 2) if durations else None},
        "versions_published": len(published) + len(initial), "versions_seen": len(seen),
        "page_loads_checked": checked, "by_page": dict(tally.checked), "requests": tally.requests,
        "errors": len(tally.errors), "error_examples": tally.errors[:10],
        "mixes": len(tally.mixes), "mix_examples": tally.mixes[:10], "pass": passed,
    }


# -- command line -------------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300, help="duration of the refresh loop (default 300)")
    parser.add_argument("--every", type=float, default=2.0, help="start a refresh every N seconds (default 2)")
    parser.add_argument("--readers", type=int, default=4, help="reader threads (default 4)")
    parser.add_argument("--store", choices=("file", "redis", "both"), default="redis",
                        help="file store in a temp dir, a private redis-server, or both in turn (default redis)")
    parser.add_argument("--large-lines", type=int, default=200_000,
                        help="first lines of the bundled file for the larger input (default 200000; 0: all of it)")
    parser.add_argument("--cut-lines", type=int, default=100_000, help="lines of the smaller input (default 100000)")
    parser.add_argument("--output", type=Path, default=OUT / "soak.json")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    inputs = prepare_inputs(args.cut_lines, args.large_lines)
    results = []
    for kind in (("file", "redis") if args.store == "both" else (args.store,)):
        print(f"soak on the {kind} store: {args.seconds:g} s, a refresh every {args.every:g} s, "
              f"{args.readers} readers...", flush=True)
        if kind == "redis":
            with private_redis() as redis_server:
                result = run_soak(redis_server.url, inputs, args.seconds, args.every, args.readers, log_name="soak-redis")
        else:
            with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
                result = run_soak("file://" + tmp, inputs, args.seconds, args.every, args.readers, log_name="soak-file")
        results.append(result)
        r = result["refreshes"]
        print(f"  {'PASS' if result['pass'] else 'FAIL'}: {r['published']}/{r['runs']} refreshes published "
              f"(a start every {r['mean_interval_s']} s on average, max {r['max_interval_s']} s; run {r['mean_duration_s']} s "
              f"mean, {r['max_duration_s']} s max); {result['versions_seen']} versions seen; "
              f"{result['page_loads_checked']} page loads checked {result['by_page']}, {result['requests']} requests; "
              f"errors {result['errors']}, mixes {result['mixes']}", flush=True)
        for line in result["error_examples"] + result["mix_examples"] + r["failures"]:
            print("   ", line)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"machine": machine(), "command": "python -m bench.soak " + " ".join(
        sys.argv[1:] if argv is None else argv), "inputs": [str(p) for p in inputs], "results": results}, indent=2))
    print(f"results: {args.output}")
    return 0 if all(r["pass"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
