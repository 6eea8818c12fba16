"""The refresh job: read transactions, run the analytics, publish a snapshot atomically.

    python -m jobs.refresh [--input PATH] [--config PATH] [--store URL] [--map SRC=FIELD ...] [--engine pandas|spark]

It is the only writer of the store. One run at a time (the store lock); a run that finds the lock
taken exits with status 75 and publishes nothing. Any failure leaves the previous snapshot current.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import socket
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import pandas as pd

from analytics.audiences import Audience
from analytics.errors import AppError, AudienceError, LockedError
from analytics.load import read_transactions
from analytics.logs import bind, configure_logging, event
from analytics.pipeline import build_snapshot
from analytics.segments import load_scheme
from analytics.settings import ENGINES, Settings, load_settings
from analytics.snapshot import Blocks, Encoded, SnapshotEncoder, make_version, manifest_json
from jobs.aside import choose_aside
from jobs.engine import make_engine
from jobs.fetch import display_location, local_input
from jobs.memory import release_memory, reuse_freed_memory
from jobs.spool import TableSpool
from jobs.store import Store, open_store

__all__ = ["run", "main", "parse_mapping", "load_audiences"]

log = logging.getLogger("jobs.refresh")


def run(settings: Settings, trigger: str = "manual", store: Store | None = None,
        annotations: Mapping[str, str] | None = None) -> str:
    """Run one refresh and return the published version.

    ``annotations`` (e.g. who requested the run and when) are added to its run record.

    Raises:
        LockedError: another refresh is running (nothing published).
        AppError: bad input, bad config or store failure (nothing published, run recorded as failed).
    """
    started = datetime.now(timezone.utc)
    run_id = uuid.uuid4().hex
    version = make_version(started, run_id)
    store = store or open_store(settings.store)
    record = {**(annotations or {}), "run_id": run_id, "version": version, "trigger": trigger,
              "input": display_location(settings.input.path), "started_at": started.isoformat(timespec="seconds"),
              "status": "running", "host": socket.gethostname()}
    with bind(run_id=run_id, version=version, trigger=trigger):
        try:
            lock = store.acquire_lock(owner=f"{socket.gethostname()}:{os.getpid()}")
        except LockedError as exc:
            _finish(store, record, "skipped", error=str(exc))
            raise
        with lock:
            _close_interrupted_runs(store)
            store.record_run(record)
            event(log, "refresh started", input=record["input"], store=repr(store), fence=lock.fence)
            t0 = time.perf_counter()
            try:
                with TemporaryDirectory(prefix="refresh-tables-") as spool:  # the encoded tables, until published
                    rows = _refresh(settings, store, lock, version, record, Path(spool))
            except AppError as exc:
                _finish(store, record, "failed", error=str(exc))
                raise
            except Exception as exc:  # a bug: record it, then let the CLI report it
                _finish(store, record, "failed", error=f"internal error: {type(exc).__name__}: {exc}")
                raise
            finally:  # what a failed run held, back to the system too: the scheduler's process lives on
                release_memory()
        _finish(store, record, "success", rows=rows, seconds=round(time.perf_counter() - t0, 3))
    return version


def _refresh(settings: Settings, store: Store, lock: Any, version: str, record: dict,
             spool: Path) -> dict[str, int]:
    timings: dict[str, float] = {}
    encoder = SnapshotEncoder(TableSpool(spool))  # each table's bytes on disk once encoded, not in memory
    reuse_freed_memory()  # stages reuse what they free; each stage end returns it (release_memory)

    def on_stage(name: str, seconds: float, rows: Mapping[str, int]) -> None:
        timings[name] = seconds
        event(log, "stage done", stage=name, seconds=seconds, **rows)
        release_memory()  # what the stage freed, before the next one allocates

    def emit(name: str, table: pd.DataFrame | Blocks | Encoded) -> None:
        release_memory()  # what building the table freed, before encoding it
        encoder.add(name, table)

    t = time.perf_counter()
    with local_input(settings.input.path, settings.input.max_mb) as path:
        loaded = [read_transactions(path, settings.input)]
        source = {"path": record["input"], "bytes": path.stat().st_size,
                  "sha256": _sha256(path), "rows": len(loaded[0])}
    on_stage("load", round(time.perf_counter() - t, 3), {"lines": source["rows"]})
    scheme = load_scheme(settings.segments.scheme)
    audiences = load_audiences(store)
    # the pipeline takes the lines out of `loaded` (so it can release them once cleaned), and each table is
    # encoded as soon as it is built, then dropped: the job never holds every table (docs/PERFORMANCE.md, 8)
    # the forecast may run in a second process, beside the stages that score the customers (jobs/aside.py)
    with choose_aside(settings.refresh, source["rows"], settings.log_format) as aside:
        snapshot = build_snapshot(loaded.pop, settings, scheme, source=source, on_stage=on_stage,
                                  audiences=audiences, engine=make_engine(settings.refresh.engine), emit=emit,
                                  aside=aside)
    for rule in snapshot.meta["cleaning"]:
        event(log, "cleaning", rule=rule["rule"], rows=rule["rows"], effect=rule["effect"])
    history = snapshot.meta["history"]
    event(log, "segment drift", scoring=history["scoring"], periods=len(history["period_ends"]),
          **{f"changed_without_purchase_{name}": round(share, 4) for name, share in history["drift"].items()})
    report = snapshot.meta["rules"]
    event(log, "rules", rules=report["rules"], redundant=report["redundant"],
          blocked_products=len(report["blocklist"]["products"]), blocked_lines=report["blocklist"]["basket_lines"])
    for segment, cost in report["segments"].items():
        event(log, "segment rules", segment=segment, **cost)

    t = time.perf_counter()
    meta = {**snapshot.meta, "run_id": record["run_id"], "trigger": record["trigger"],
            "durations_s": {"load": timings["load"], **snapshot.meta["durations_s"]}}
    blobs, manifest = encoder.finish(meta, version=version)
    # the tables were encoded within the stages that built them (encoding_ms: their total)
    on_stage("serialize", round(time.perf_counter() - t, 3),
             {"bytes": sum(entry["bytes"] for entry in manifest["tables"].values()),
              "encoding_ms": round(encoder.seconds * 1000)})

    t = time.perf_counter()
    store.publish(lock, version, blobs, manifest_json(manifest))
    on_stage("publish", round(time.perf_counter() - t, 3), {"tables": len(blobs)})
    record["durations_s"] = timings
    return {name: entry["rows"] for name, entry in manifest["tables"].items()} | {"input_lines": source["rows"]}


def load_audiences(store: Store) -> list[Audience]:
    """Every audience in the store, for measuring; an unreadable one is skipped with a warning (by id only)."""
    found = []
    for item in store.audiences():
        try:
            found.append(store.audience(str(item.get("audience_id"))))
        except AudienceError as exc:
            event(log, "audience skipped", level=logging.WARNING, audience_id=str(item.get("audience_id"))[:40],
                  error=str(exc)[:200])
    event(log, "audiences loaded", audiences=len(found), members=sum(len(a.members) for a in found))
    return found


def _finish(store: Store, record: dict, status: str, **fields: Any) -> None:
    record.update(status=status, finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), **fields)
    try:
        store.record_run(record)
    except AppError as exc:  # the run's own outcome matters more than its history line
        event(log, "could not record run", level=logging.WARNING, error=str(exc))
    level = logging.INFO if status == "success" else logging.WARNING if status == "skipped" else logging.ERROR
    error = {"error": fields["error"]} if "error" in fields else {}
    event(log, f"refresh {status}", level=level, status=status, **error)


def _close_interrupted_runs(store: Store) -> None:
    """Mark runs still "running" as failed: we hold the lock, so their process died (e.g. SIGKILL)."""
    for stale in store.runs(limit=20):
        if stale.get("status") == "running":
            stale.update(status="failed", finished_at=None,
                         error="interrupted: the run ended without finishing (killed or crashed); "
                               "nothing was published by it")
            store.record_run(stale)
            event(log, "marked interrupted run as failed", level=logging.WARNING, interrupted_run=stale["run_id"],
                  interrupted_version=stale.get("version"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """Turn ``["Bon=invoice", ...]`` into ``{"Bon": "invoice"}``."""
    mapping = {}
    for pair in pairs:
        source, sep, field = pair.rpartition("=")
        if not sep or not source or not field:
            raise SystemExit(f"--map expects SOURCE=FIELD, got {pair!r}")
        mapping[source.strip()] = field.strip()
    return mapping


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of ``python -m jobs.refresh``."""
    parser = argparse.ArgumentParser(prog="python -m jobs.refresh", description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", help="transactions file (CSV, Parquet or XLSX), a path or an http(s) URL; "
                        "default: the bundled demo data")
    parser.add_argument("--config", help="YAML config file (default: $CONFIG_FILE or config/settings.yaml)")
    parser.add_argument("--store", help="store URL: redis://…, rediss://… or file://DIR (default: $STORE_URL)")
    parser.add_argument("--map", action="append", default=[], metavar="SRC=FIELD",
                        help="map a source column to a field (invoice, stock_code, quantity, invoice_date, "
                             "unit_price, customer_id, description, country); repeatable")
    parser.add_argument("--engine", choices=ENGINES, help="engine of the line-scale aggregates (default: "
                        "refresh.engine, pandas); spark needs requirements-spark.txt")
    parser.add_argument("--if-missing", action="store_true", help="do nothing when a snapshot is already published")
    parser.add_argument("--trigger", default="manual", help=argparse.SUPPRESS)
    return parser


def settings_from_args(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from env + YAML, then command-line overrides."""
    settings = load_settings(environ, args.config)
    input_params = settings.input
    if args.input:
        input_params = replace(input_params, path=args.input)
    if args.map:
        input_params = replace(input_params, mapping={**input_params.mapping, **parse_mapping(args.map)})
    store_params = replace(settings.store, url=args.store) if args.store else settings.store
    refresh = replace(settings.refresh, engine=args.engine) if getattr(args, "engine", None) else settings.refresh
    return replace(settings, input=input_params, store=store_params, refresh=refresh)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        settings = settings_from_args(args)
        configure_logging(settings.log_format)
        if args.if_missing:
            store = open_store(settings.store)
            if store.current_version():
                print(f"snapshot {store.current_version()} already published; nothing to do (--if-missing)")
                return 0
        version = run(settings, trigger=args.trigger)
    except LockedError as exc:
        print(f"skipped: {exc}", file=sys.stderr)
        return exc.exit_code
    except AppError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"published snapshot {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
