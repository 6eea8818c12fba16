"""Inspect published snapshots.

    python -m jobs.snapshot list                      # published versions, newest first
    python -m jobs.snapshot show [VERSION]            # manifest summary (default: current)
    python -m jobs.snapshot export TABLE [--version V] [--format csv|parquet] [--output FILE]
    python -m jobs.snapshot runs [--limit N]          # refresh run history
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import BinaryIO, TextIO

from analytics.errors import AppError, SnapshotError
from analytics.schema import TABLE_NAMES
from analytics.settings import load_settings
from analytics.snapshot import parse_manifest, verify_table
from jobs.store import Store, open_store

__all__ = ["main"]


def list_versions(store: Store, out: TextIO) -> None:
    """One line per published version: marker, version, created, rows of customers."""
    current = store.current_version()
    versions = store.versions()
    if not versions:
        print("no snapshot published yet (run: python -m jobs.refresh)", file=out)
        return
    for version in versions:
        try:
            manifest = parse_manifest(store.read_manifest(version))
            detail = f"{manifest['created_at']}  customers={manifest['tables']['customers']['rows']:,}"
        except (SnapshotError, KeyError) as exc:
            detail = f"unreadable: {exc}"
        print(f"{'*' if version == current else ' '} {version}  {detail}", file=out)


def show(store: Store, version: str | None, out: TextIO) -> None:
    """Summary of a manifest: source, period, tables with rows, cleaning report, durations."""
    manifest = _manifest(store, version)
    print(f"version     {manifest['version']}  (schema {manifest['schema_version']})", file=out)
    print(f"created     {manifest['created_at']}  trigger={manifest.get('trigger', '?')}", file=out)
    source = manifest.get("source", {})
    print(f"source      {source.get('path')}  sha256={str(source.get('sha256'))[:12]}…  rows={source.get('rows')}",
          file=out)
    period = manifest.get("period", {})
    print(f"period      {period.get('start')} → {period.get('end')}  as_of={manifest.get('as_of')}", file=out)
    print(f"coverage    {json.dumps(manifest.get('coverage', {}))}", file=out)
    print("tables", file=out)
    for name, entry in manifest["tables"].items():
        print(f"  {name:<18} {entry['rows']:>9,} rows  {entry['bytes']:>10,} bytes", file=out)
    print("cleaning", file=out)
    for rule in manifest.get("cleaning", []):
        print(f"  {rule['rule']:<24} {rule['rows']:>9,}  {rule['effect']}", file=out)
    print(f"durations   {json.dumps(manifest.get('durations_s', {}))}", file=out)


def export(store: Store, table: str, version: str | None, fmt: str, out: BinaryIO) -> int:
    """Write one table as CSV or Parquet; returns the number of rows."""
    manifest = _manifest(store, version)
    frame = verify_table(manifest, table, store.read_table(manifest["version"], table))
    if fmt == "parquet":
        frame.to_parquet(out, index=False)
    else:
        lists = [c for c in frame.columns
                 if frame[c].map(lambda v: hasattr(v, "__len__") and not isinstance(v, str)).any()]
        flat = frame.assign(**{c: frame[c].map(lambda v: " | ".join(map(str, v))) for c in lists})
        out.write(flat.to_csv(index=False).encode("utf-8"))
    return len(frame)


def print_runs(store: Store, limit: int, out: TextIO) -> None:
    """Run history, newest first."""
    runs = store.runs(limit)
    if not runs:
        print("no refresh run recorded yet", file=out)
    for run in runs:
        rows = run.get("rows", {})
        print(f"{run.get('started_at', '?'):<25} {run.get('status', '?'):<8} {run.get('trigger', '?'):<9} "
              f"{run.get('version', '?')}  {run.get('finished_at', '') or ''}"
              + (f"  customers={rows['customers']:,}" if "customers" in rows else "")
              + (f"  error: {run['error']}" if run.get("error") else ""), file=out)


def _manifest(store: Store, version: str | None) -> dict:
    version = version or store.current_version()
    if not version:
        raise SnapshotError("No snapshot published yet (run: python -m jobs.refresh).")
    return parse_manifest(store.read_manifest(version))


def build_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m jobs.snapshot", description="Inspect published snapshots.")
    parser.add_argument("--store", help="store URL (default: $STORE_URL or the config)")
    parser.add_argument("--config", help="YAML config file")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="published versions, newest first (* = current)")
    show_cmd = commands.add_parser("show", help="manifest summary")
    show_cmd.add_argument("version", nargs="?")
    export_cmd = commands.add_parser("export", help="write a table as CSV or Parquet")
    export_cmd.add_argument("table", choices=TABLE_NAMES)
    export_cmd.add_argument("--version")
    export_cmd.add_argument("--format", choices=("csv", "parquet"), default="csv")
    export_cmd.add_argument("--output", help="file to write (default: standard output)")
    runs_cmd = commands.add_parser("runs", help="refresh run history")
    runs_cmd.add_argument("--limit", type=int, default=20)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(None, args.config)
        if args.store:
            settings = replace(settings, store=replace(settings.store, url=args.store))
        store = open_store(settings.store)
        if args.command == "list":
            list_versions(store, sys.stdout)
        elif args.command == "show":
            show(store, args.version, sys.stdout)
        elif args.command == "runs":
            print_runs(store, args.limit, sys.stdout)
        else:
            if args.output:
                with open(args.output, "wb") as handle:
                    rows = export(store, args.table, args.version, args.format, handle)
                print(f"wrote {rows:,} rows to {args.output}", file=sys.stderr)
            else:
                export(store, args.table, args.version, args.format, sys.stdout.buffer)
    except AppError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
