"""The snapshot contract: tables encoded as Parquet bytes plus a JSON manifest. Pure, no I/O.

A snapshot is what the refresh job publishes and the only thing the dashboard reads. Its manifest
records, per table, the row count, the columns with their logical types and the sha256 of the bytes,
so a reader can verify what it got.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analytics.errors import SnapshotError
from analytics.schema import SCHEMA_VERSION, TABLES

__all__ = [
    "BLOCK_ROWS",
    "Blocks",
    "Encoded",
    "Snapshot",
    "SnapshotEncoder",
    "encode",
    "encode_table",
    "encode_blocks",
    "row_blocks",
    "decode_table",
    "encode_snapshot",
    "make_version",
    "validate_tables",
    "verify_table",
    "parse_manifest",
    "manifest_json",
]


@dataclass(frozen=True)
class Snapshot:
    """Tables plus meta (parameters, cleaning report, durations...), before encoding."""

    tables: Mapping[str, pd.DataFrame]
    meta: Mapping[str, Any] = field(default_factory=dict)


ROW_GROUP_ROWS = 8_192
"""Rows per Parquet row group: small enough that a reader looking up one customer (the tables are sorted by
customer id, the history by period then id) decodes a few thousand rows, not a million (dashboard/queries.py)."""


def encode_table(frame: pd.DataFrame) -> bytes:
    """Serialise a table to Parquet bytes (zstd, row groups of ROW_GROUP_ROWS with min/max statistics), without
    the pandas index."""
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink, compression="zstd",
                   row_group_size=ROW_GROUP_ROWS)
    return sink.getvalue()


BLOCK_ROWS = 524_288
"""Rows of a large table built at once (64 row groups): its blocks, not the table, are held (``Blocks``)."""


@dataclass
class Blocks:
    """A table given as consecutive blocks of rows, so that it is never held whole (the largest tables at
    1 M customers: ``recommendations``, ``segment_history``).

    Attributes:
        frames: the blocks, read once, in row order.
        sample: a few rows with the whole table's column types (e.g. the first row of each kind of row: a
            block of best sellers alone has only empty lists where the table has lists of text).
        rows: rows read so far (the table's rows once read).
    """

    frames: Iterable[pd.DataFrame]
    sample: pd.DataFrame
    rows: int = 0

    def __iter__(self) -> Iterator[pd.DataFrame]:
        for frame in self.frames:
            self.rows += len(frame)
            yield frame

    def concat(self) -> pd.DataFrame:
        """The whole table (for callers that hold their tables: tests, the Spark parity check)."""
        frames = list(self)
        return pd.concat(frames, ignore_index=True) if frames else self.sample.iloc[:0]


def row_blocks(rows: int, size: int) -> Iterator[slice]:
    """Consecutive slices of at most ``size`` of ``rows`` rows: the blocks a table is built in."""
    return (slice(start, start + size) for start in range(0, rows, size))


def encode_blocks(blocks: Blocks) -> bytes:
    """``encode_table`` of the concatenated blocks, the same bytes, holding one block at a time: rows are
    carried over to the next block so that every row group but the last has ROW_GROUP_ROWS rows."""
    schema = pa.Schema.from_pandas(blocks.sample, preserve_index=False)
    sink = io.BytesIO()
    with pq.ParquetWriter(sink, schema, compression="zstd") as writer:
        pending = schema.empty_table()
        for frame in blocks:
            pending = pa.concat_tables([pending, pa.Table.from_pandas(frame, schema=schema, preserve_index=False)])
            full = len(pending) // ROW_GROUP_ROWS * ROW_GROUP_ROWS
            if full:
                writer.write_table(pending.slice(0, full).combine_chunks(), row_group_size=ROW_GROUP_ROWS)
                pending = pending.slice(full)
        if len(pending) or not blocks.rows:
            writer.write_table(pending.combine_chunks(), row_group_size=ROW_GROUP_ROWS)
    return sink.getvalue()


@dataclass(frozen=True)
class Encoded:
    """A table already encoded (``encode``), e.g. in the refresh's second process: its Parquet bytes, rows and
    column types, as ``SnapshotEncoder.add`` records them."""

    data: bytes
    rows: int
    columns: dict[str, str]


def encode(table: pd.DataFrame | Blocks) -> Encoded:
    """``encode_table`` (or ``encode_blocks``: the same bytes) with the table's rows and column types."""
    if isinstance(table, Blocks):
        frame, data = table.sample, encode_blocks(table)
        rows = table.rows  # counted as the blocks were encoded
    else:
        frame, data, rows = table, encode_table(table), len(table)
    pa.default_memory_pool().release_unused()  # the Arrow copy of the frame, back to the system
    return Encoded(data=data, rows=int(rows), columns={str(c): str(t) for c, t in frame.dtypes.items()})


def decode_table(data: bytes) -> pd.DataFrame:
    """Read Parquet bytes back into a DataFrame.

    Raises:
        SnapshotError: the bytes are not a Parquet table.
    """
    try:
        return pq.read_table(pa.BufferReader(data)).to_pandas()
    except (pa.ArrowException, OSError, ValueError, TypeError) as exc:
        raise SnapshotError(f"Stored table is not valid Parquet ({exc}).") from exc


def make_version(created_at: datetime, digest: str) -> str:
    """Version id: UTC time plus a short hash (the run id), e.g. ``20261125T061012Z-3f2a9c``."""
    return created_at.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + digest[:6]


def validate_tables(tables: Mapping[str, pd.DataFrame]) -> None:
    """Check that every declared table is present with at least its declared columns.

    Raises:
        SnapshotError: a table or column is missing.
    """
    for name in TABLES:
        if name not in tables:
            raise SnapshotError(f"Snapshot table '{name}' is missing.")
        _check_columns(name, tables[name])


def _check_columns(name: str, table: pd.DataFrame | Mapping[str, str]) -> None:
    """``table``: a frame, or an encoded table's column types."""
    columns = table.columns if isinstance(table, pd.DataFrame) else table
    missing = [c for c in TABLES.get(name, ()) if c not in columns]
    if missing:
        raise SnapshotError(f"Snapshot table '{name}' lacks column(s) {missing}.")


class SnapshotEncoder:
    """Encodes a snapshot's tables one at a time, as they are built, and then builds the manifest.

    ``add`` keeps only a table's Parquet bytes and its manifest entry, so the caller can drop the frame at
    once: the refresh never holds every table of a large input at the same time (docs/PERFORMANCE.md, section 8).
    ``encode_snapshot`` is ``add`` for each table, then ``finish``.
    """

    def __init__(self, blobs: MutableMapping[str, bytes] | None = None) -> None:
        """``blobs``: where each table's bytes wait for ``finish`` (default: a dict, in memory)."""
        self.blobs: MutableMapping[str, bytes] = {} if blobs is None else blobs
        self.entries: dict[str, dict[str, Any]] = {}
        self.seconds = 0.0  # spent encoding

    def add(self, name: str, table: pd.DataFrame | Blocks | Encoded) -> None:
        """Encode one table (``encode``), unless it comes encoded, and record its rows, bytes, sha256 and column
        types.

        Raises:
            SnapshotError: a declared column is missing, or the table was already added.
        """
        if name in self.entries:
            raise SnapshotError(f"Snapshot table '{name}' was encoded twice.")
        if isinstance(table, Encoded):
            _check_columns(name, table.columns)
        else:  # checked before the time is spent encoding it
            _check_columns(name, table.sample if isinstance(table, Blocks) else table)
            start = time.perf_counter()
            table = encode(table)
            self.seconds += time.perf_counter() - start
        self.blobs[name] = table.data
        self.entries[name] = {"rows": table.rows, "bytes": len(table.data),
                              "sha256": hashlib.sha256(table.data).hexdigest(), "columns": dict(table.columns)}

    def finish(self, meta: Mapping[str, Any], version: str,
               created_at: datetime | None = None) -> tuple[Mapping[str, bytes], dict]:
        """The encoded tables (``blobs``) and the manifest (tables' entries, content digest, ``meta``).

        Raises:
            SnapshotError: a declared table was not added.
        """
        for name in TABLES:
            if name not in self.entries:
                raise SnapshotError(f"Snapshot table '{name}' is missing.")
        created_at = created_at or datetime.now(timezone.utc)
        digests = {name: entry["sha256"] for name, entry in self.entries.items()}
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "version": version,
            "created_at": created_at.astimezone(timezone.utc).isoformat(timespec="seconds"),
            "content_sha256": hashlib.sha256("".join(digests[n] for n in sorted(digests)).encode()).hexdigest(),
            "tables": dict(self.entries),
            **_jsonable(dict(meta)),
        }
        return self.blobs, manifest


def encode_snapshot(snapshot: Snapshot, version: str,
                    created_at: datetime | None = None) -> tuple[dict[str, bytes], dict]:
    """Encode all tables and build the manifest.

    Returns:
        ({table: parquet bytes}, manifest dict).
    """
    validate_tables(snapshot.tables)
    encoder = SnapshotEncoder()
    for name, frame in snapshot.tables.items():
        encoder.add(name, frame)
    blobs, manifest = encoder.finish(snapshot.meta, version, created_at)
    return dict(blobs), manifest


def parse_manifest(data: bytes | str) -> dict:
    """Parse and check a manifest.

    Raises:
        SnapshotError: not JSON, not a manifest, or a schema version this code does not know.
    """
    try:
        manifest = json.loads(data)
    except (ValueError, TypeError) as exc:
        raise SnapshotError(f"Snapshot manifest is not valid JSON ({exc}).") from exc
    if not isinstance(manifest, dict) or "version" not in manifest or "tables" not in manifest:
        raise SnapshotError("Snapshot manifest lacks 'version' or 'tables'.")
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise SnapshotError(
            f"Snapshot {manifest.get('version')} has schema_version {manifest.get('schema_version')!r}; "
            f"this code reads schema_version {SCHEMA_VERSION}."
        )
    return manifest


def verify_table(manifest: Mapping[str, Any], name: str, data: bytes) -> pd.DataFrame:
    """Check bytes against the manifest digest, then decode them.

    Raises:
        SnapshotError: unknown table, digest mismatch or undecodable bytes.
    """
    entry = manifest.get("tables", {}).get(name)
    if entry is None:
        raise SnapshotError(f"Snapshot {manifest.get('version')} has no table '{name}'.")
    if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
        raise SnapshotError(f"Table '{name}' of snapshot {manifest.get('version')} does not match its digest.")
    return decode_table(data)


def manifest_json(manifest: Mapping[str, Any]) -> bytes:
    """Canonical JSON bytes of a manifest."""
    return json.dumps(manifest, sort_keys=True, ensure_ascii=False).encode("utf-8")


def _jsonable(value: Any) -> Any:
    """Make meta JSON-safe: numpy scalars, timestamps and tuples become plain values."""
    return json.loads(json.dumps(value, default=_json_default))


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
