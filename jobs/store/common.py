"""Helpers shared by both snapshot stores: parameter and name validation, JSON (de)serialisation, versions."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from analytics.errors import ConfigError, SnapshotError, StaleLockError
from analytics.settings import StoreParams

MAX_RUNS = 200
"""Run records kept; older ones are dropped."""

_VERSION_RE = re.compile(r"^[0-9A-Za-z_.:-]{1,80}$")
_TABLE_RE = re.compile(r"^[a-z_]{1,40}$")
_MANIFEST = "manifest"  # reserved: the manifest's slot next to the tables


def _check_params(params: StoreParams) -> None:
    if params.keep < 1:
        raise ConfigError(f"store.keep must be at least 1, got {params.keep}.")
    if params.lock_ttl_s <= 0:
        raise ConfigError(f"store.lock_ttl_s must be positive, got {params.lock_ttl_s}.")


def _check_version(version: str) -> str:
    if not isinstance(version, str) or not _VERSION_RE.match(version) or version.startswith("."):
        raise SnapshotError(f"Invalid snapshot version {version!r}: expected 1-80 of [0-9A-Za-z_.:-], "
                            "not starting with '.'.")
    return version


def _check_table(table: str) -> str:
    if not isinstance(table, str) or not _TABLE_RE.match(table) or table == _MANIFEST:
        raise SnapshotError(f"Invalid table name {table!r}: expected 1-40 of [a-z_], not '{_MANIFEST}'.")
    return table


def _check_publication(version: str, tables: Mapping[str, bytes], manifest: bytes) -> None:
    """Validate names and that the manifest describes exactly this version and these tables."""
    _check_version(version)
    if not tables:
        raise SnapshotError(f"Snapshot {version} has no tables.")
    for table, data in tables.items():
        _check_table(table)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise SnapshotError(f"Table '{table}' of snapshot {version} must be bytes, got {type(data).__name__}.")
    meta = _parse_json(manifest, f"manifest of snapshot {version}")
    if meta.get("version") != version:
        raise SnapshotError(f"Manifest names version {meta.get('version')!r}, but {version!r} is being published.")
    listed = meta.get("tables")
    if not isinstance(listed, Mapping) or set(listed) != set(tables):
        raise SnapshotError(f"Manifest of snapshot {version} does not list exactly the tables {sorted(tables)}.")


def _decode_version(raw: bytes | str, where: str) -> str:
    try:
        text = (raw.decode("utf-8") if isinstance(raw, bytes) else raw).strip()
    except UnicodeDecodeError as exc:
        raise SnapshotError(f"{where} is not UTF-8 text; it was not written by this store.") from exc
    if not _VERSION_RE.match(text) or text.startswith("."):
        raise SnapshotError(f"{where} holds {text[:40]!r}, which is not a snapshot version.")
    return text


def _parse_json(raw: bytes | str, what: str) -> dict:
    try:
        value = json.loads(raw)
    except (ValueError, TypeError) as exc:
        raise SnapshotError(f"The {what} is not valid JSON ({exc}).") from exc
    if not isinstance(value, dict):
        raise SnapshotError(f"The {what} is not a JSON object.")
    return value


def _run_json(run: Mapping[str, Any]) -> tuple[str, str]:
    """(run_id, JSON text) of a run record. Raises ValueError if it has no run_id or is not JSON-able."""
    run_id = run.get("run_id")
    if not isinstance(run_id, str) or not run_id or len(run_id) > 200:
        raise ValueError(f"A run record needs a non-empty string 'run_id' (at most 200 chars), got {run_id!r}.")
    return run_id, _to_json(run, "run record")


def _to_json(value: Mapping[str, Any], what: str) -> str:
    try:
        return json.dumps(dict(value), ensure_ascii=False, allow_nan=False, default=_json_default)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"The {what} is not JSON-able: {exc}.") from exc


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _stale(version: str) -> StaleLockError:
    return StaleLockError(
        f"Refresh lock was lost before snapshot {version} could be published (it expired or another run took it);"
        " current was left unchanged."
    )


def _tolerant(read: Any, default: Any) -> Any:
    """Read ignoring foreign values, which publication overwrites anyway."""
    try:
        return read()
    except SnapshotError:
        return default
