"""Campaign audiences from the command line (same rules as the dashboard's "Create audience").

    python -m jobs.audiences create --name NAME (--segment S | --list at-risk|all [--segment S] | --ids-file F)
                                    [--note TEXT] [--control-share 0.1] [--as-of YYYY-MM-DD] [--by WHO]
    python -m jobs.audiences list
    python -m jobs.audiences show ID
    python -m jobs.audiences export ID [--group target|full] [--output FILE]
    python -m jobs.audiences delete ID

Members are taken from the current snapshot and frozen with it; the target/control split is drawn at
creation (analytics/audiences.py). ``--as-of`` backdates the audience: it is then labelled "as of a past
date (demonstration/analysis)", and purchases from that date on count as its outcome.
Exit status: 0 done, 2 invalid audience or ids file, 3 bad configuration, 4 no snapshot, 5 store unavailable.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TextIO

import pandas as pd

from analytics.audience_export import EXPORT_KINDS, audience_export, export_ids
from analytics.audiences import Audience, build_audience
from analytics.campaign_columns import campaign_rows
from analytics.errors import AppError, AudienceError, SnapshotError
from analytics.logs import configure_logging, event
from analytics.settings import Settings, load_settings
from analytics.snapshot import parse_manifest, verify_table
from jobs.store import Store, open_store

__all__ = ["main", "members_from", "create", "read_ids_file"]

log = logging.getLogger("jobs.audiences")

LISTS = ("at-risk", "all")  # the named customer lists of the app (Actions page views)
MAX_IDS_FILE_MB = 50
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")  # CSV injection (as dashboard/components/export.py)


def snapshot_table(store: Store, name: str) -> tuple[pd.DataFrame, str]:
    """A table of the current snapshot, verified, with the version. Raises SnapshotError if none is published."""
    version = store.current_version()
    if not version:
        raise SnapshotError("No snapshot published yet (run: python -m jobs.refresh).")
    manifest = parse_manifest(store.read_manifest(version))
    return verify_table(manifest, name, store.read_table(version, name)), version


def read_ids_file(path: Path) -> dict[str, int]:
    """Customer ids, one per line (a CSV's first column; a ``customer_id`` header line is skipped), each with
    its line number in the file.

    Raises:
        AudienceError: unreadable or too large file, or no id in it.
    """
    try:
        if path.stat().st_size > MAX_IDS_FILE_MB * 1024 * 1024:
            raise AudienceError(f"{path}: larger than {MAX_IDS_FILE_MB} MB.")
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise AudienceError(f"Cannot read the ids file {path}: {exc}") from exc
    ids: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        cid = line.split(",")[0].strip().strip('"')
        if cid and not (not ids and cid.lower().replace(" ", "_") in ("customer_id", "customerid", "customer")):
            ids.setdefault(cid, number)
    if not ids:
        raise AudienceError(f"{path}: no customer id found (expected one id per line).")
    return ids


def members_from(customers: pd.DataFrame, *, segment: str | None = None, named_list: str | None = None,
                 ids: Mapping[str, int] | None = None, where: str = "the ids") -> tuple[pd.DataFrame, str]:
    """Members (customer_id, segment) and a description of the source, from a segment, a list or ids
    (id → its line number in ``where``).

    Raises:
        AudienceError: unknown segment or list, or ids that are not customers of the snapshot.
    """
    rows = customers.astype({"customer_id": "str"})
    if ids is not None:
        known = set(rows["customer_id"])
        unknown = [line for cid, line in ids.items() if cid not in known]
        if unknown:
            first = ", ".join(f"line {line}" for line in unknown[:5])
            raise AudienceError(f"{len(unknown):,} id(s) in {where} are not customers of the current snapshot "
                                f"(first at {first}).")
        chosen = rows.set_index("customer_id").loc[list(ids), "segment"].reset_index()
        return chosen[["customer_id", "segment"]], f"file {where} ({len(chosen):,} ids)"
    if segment is not None and segment not in set(rows["segment"]):
        raise AudienceError(f"Unknown segment {segment!r}; segments: {', '.join(sorted(set(rows['segment'])))}.")
    if named_list is not None and named_list not in LISTS:
        raise AudienceError(f"Unknown list {named_list!r}; lists: {', '.join(LISTS)}.")
    if segment is None and named_list is None:
        raise AudienceError("Say who is in the audience: --segment, --list or --ids-file.")
    if segment is not None:
        rows = rows[rows["segment"] == segment]
    if named_list == "at-risk":
        rows = rows[rows["at_risk"]]
    what = "at-risk list" if named_list == "at-risk" else "all customers" if named_list == "all" else "segment"
    source = f"{what} — {segment}" if segment and named_list else f"segment {segment}" if segment else what
    return rows[["customer_id", "segment"]].reset_index(drop=True), source


def create(store: Store, settings: Settings, members: pd.DataFrame, *, name: str, note: str | None,
           control_share: float, created_by: str, source: str, snapshot_version: str,
           as_of: date | None = None) -> Audience:
    """Build, save and audit-log a new audience (the log line names who, the id and sizes, never customers)."""
    params = settings.campaigns
    audience = build_audience(members, name=name, note=note, control_share=control_share, created_by=created_by,
                              snapshot_version=snapshot_version, source=source, max_members=params.max_members,
                              as_of=as_of)
    store.save_audience(audience, params.max_audiences)
    event(log, "audience created", audience_id=audience.audience_id, by=audience.created_by,
          backdated=audience.backdated, **audience.sizes)
    return audience


def _print_list(store: Store, out: TextIO) -> None:
    items = store.audiences()
    if not items:
        print("no audience yet (create one: python -m jobs.audiences create --help)", file=out)
    for item in items:
        label = " as of a past date (demonstration/analysis)" if item.get("backdated") else ""
        print(f"{item['audience_id']}  {item['created_at']}  from {item['as_of']}{label}  "
              f"members={item['members']:,} target={item['target']:,} control={item['control']:,}  "
              f"by {item['created_by']}  {item['name']}", file=out)


def _show(audience: Audience, out: TextIO) -> None:
    print(f"audience    {audience.audience_id}  {audience.name}", file=out)
    print(f"note        {audience.note or '-'}", file=out)
    print(f"created     {audience.created_at} by {audience.created_by} from snapshot {audience.snapshot_version}",
          file=out)
    label = "  (as of a past date: demonstration/analysis)" if audience.backdated else ""
    print(f"measured    purchases from {audience.as_of.isoformat()}{label}", file=out)
    print(f"source      {audience.source}", file=out)
    sizes = audience.sizes
    print(f"split       {sizes['members']:,} members: {sizes['target']:,} target, {sizes['control']:,} control "
          f"({audience.control_share:.0%} held out, stratified by segment)", file=out)
    counts = audience.members.groupby(["segment", "group"]).size().unstack(fill_value=0)
    for segment, row in counts.iterrows():
        print(f"  {segment:<22} target={int(row.get('target', 0)):>7,}  control={int(row.get('control', 0)):>6,}",
              file=out)


def _export(store: Store, audience: Audience, kind: str, output: str | None) -> int:
    tables = {name: snapshot_table(store, name)[0] for name in ("customers", "segments", "recommendations")}
    version = store.current_version() or ""
    currency = parse_manifest(store.read_manifest(version)).get("currency", "")
    rows = campaign_rows(tables["customers"], tables["segments"], tables["recommendations"],
                         export_ids(audience, kind), currency)
    frame = audience_export(audience, kind, rows)
    text = _safe_csv(frame)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return len(frame)


def _safe_csv(frame: pd.DataFrame) -> str:
    """CSV with text cells starting with a formula character prefixed by ``'`` (RELIABILITY.md, test 13)."""
    def cell(value: object) -> object:
        return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES) else value

    text_columns = {c: frame[c].astype(object).map(cell) for c in frame.columns
                    if not pd.api.types.is_numeric_dtype(frame[c])}
    return frame.assign(**text_columns).to_csv(index=False)


def build_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m jobs.audiences", description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", help="store URL (default: $STORE_URL or the config)")
    parser.add_argument("--config", help="YAML config file")
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("create", help="create an audience from the current snapshot")
    make.add_argument("--name", required=True, help="1-80 letters, digits, spaces, common punctuation")
    make.add_argument("--note", help="offer, channel… (at most 500 characters)")
    make.add_argument("--control-share", type=float, help="share held out as control, in (0, 0.5] "
                      "(default: campaigns.control_share)")
    make.add_argument("--segment", help="members: this segment (or, with --list, the list within it)")
    make.add_argument("--list", choices=LISTS, dest="named_list", help="members: a customer list of the app")
    make.add_argument("--ids-file", type=Path, help="members: customer ids, one per line")
    make.add_argument("--as-of", type=date.fromisoformat, help="past date from which purchases count "
                      "(YYYY-MM-DD; labelled as of a past date: demonstration/analysis)")
    make.add_argument("--by", help="creator recorded with the audience (default: cli:<login>)")
    commands.add_parser("list", help="audiences, newest first")
    for verb in ("show", "delete"):
        commands.add_parser(verb, help=f"{verb} one audience").add_argument("audience_id")
    out = commands.add_parser("export", help="CSV: the target group (campaign file) or every member with group")
    out.add_argument("audience_id")
    out.add_argument("--group", choices=EXPORT_KINDS, default="target",
                     help="target: the campaign file, control group left out (default); full: with a group column")
    out.add_argument("--output", help="file to write (default: standard output)")
    return parser


def _run(args: argparse.Namespace, settings: Settings, store: Store) -> None:
    if args.command == "create":
        customers, version = snapshot_table(store, "customers")
        ids = read_ids_file(args.ids_file) if args.ids_file else None
        if ids is not None and (args.segment or args.named_list):
            raise AudienceError("Use --ids-file alone, or --segment / --list.")
        members, source = members_from(customers, segment=args.segment, named_list=args.named_list, ids=ids,
                                       where=str(args.ids_file))
        share = settings.campaigns.control_share if args.control_share is None else args.control_share
        audience = create(store, settings, members, name=args.name, note=args.note, control_share=share,
                          created_by=args.by or f"cli:{getpass.getuser()}", source=source,
                          snapshot_version=version, as_of=args.as_of)
        _show(audience, sys.stdout)
    elif args.command == "list":
        _print_list(store, sys.stdout)
    elif args.command == "show":
        _show(store.audience(args.audience_id), sys.stdout)
    elif args.command == "export":
        rows = _export(store, store.audience(args.audience_id), args.group, args.output)
        print(f"wrote {rows:,} rows ({args.group})" + (f" to {args.output}" if args.output else ""), file=sys.stderr)
    elif not store.delete_audience(args.audience_id):
        raise AudienceError(f"No audience {args.audience_id}.")
    else:
        event(log, "audience deleted", audience_id=args.audience_id, by=f"cli:{getpass.getuser()}")
        print(f"deleted {args.audience_id}")


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(None, args.config)
        if args.store:
            settings = replace(settings, store=replace(settings.store, url=args.store))
        configure_logging(settings.log_format)
        _run(args, settings, open_store(settings.store))
    except AppError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
