"""The dashboard's only way to the data: published snapshots, read through the store and cached.

Deserialised tables are memoized with Flask-Caching in each worker's memory, keyed by
``(table name, snapshot version)`` strings — never by DataFrames. What pages build from one version
(page bodies, scoped lists) is memoized the same way through :func:`by_version`, in a second, bounded
cache emptied whenever the served version changes: this module is the dashboard's one caching layer.

The current version pointer is asked again every ``dashboard.version_poll_s`` seconds, so a newly
published snapshot reaches every gunicorn worker within seconds, without restart.

When the store fails (Redis down or hung, a corrupt value), pages keep answering from the last good
version this worker holds, and :func:`status` says since when the source is unavailable.

Tables are read through local Parquet copies (:mod:`dashboard.local_tables`), one per machine and
version, verified against the manifest digest. Small tables (kpis, segments, rules...) are memoized whole
per worker with :func:`table`; the per-customer tables (customers, orders, order_lines, recommendations,
segment_history, customer_products, product_buyers) are never held whole: pages ask :func:`query`,
:func:`customer_rows` or :func:`grid_page` for the rows they show, and DuckDB reads them from the copies,
whose pages the OS page cache shares between workers. The copies are also the "last good copy" kept
while the store is down.

Why not Flask-Caching's RedisCache for the tables: it pickles values (a write to Redis would become
code execution in the app), and the snapshot in Redis already is the shared copy.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar, cast

import pandas as pd
import pyarrow.parquet as pq
from cachelib.serializers import BaseSerializer
from flask import Flask
from flask_caching import Cache

from analytics.errors import SnapshotError, StoreUnavailableError
from analytics.schema import TABLES
from analytics.settings import Settings
from analytics.snapshot import parse_manifest
from dashboard.components.grid_query import MAX_BLOCK_ROWS, order_sql, row_window, where_sql
from dashboard.customer_index import INDEXED_TABLES, PUBLISHED_VIEW, ROW_COLUMN, IndexBuilds, index_file
from dashboard.local_tables import LocalTables
from dashboard.ordered_keys import DEEP_ROW, OrderedKeys
from jobs.store import Store, open_store

__all__ = ["DataStatus", "init_app", "settings", "current_version", "manifest", "table", "status", "store",
           "by_version", "local_path", "query", "customer_rows", "grid_page", "BIG_TABLES"]

BIG_TABLES = ("customers", "orders", "order_lines", "recommendations", "segment_history", "customer_products",
              "product_buyers")  # grow with the customers: queried, never loaded whole

F = TypeVar("F", bound=Callable[..., Any])
PAGE_CACHE_ENTRIES = 500  # page bodies and scoped lists of the served version; the oldest go first beyond this

cache = Cache()  # snapshot tables and manifests, kept while their version is served (never pruned by size)
page_cache = Cache()  # what pages build from one version (by_version), emptied when the served version changes
_state: dict[str, Any] = {"settings": None, "store": None, "store_pid": None, "local": LocalTables()}
_orderings = OrderedKeys()  # this worker's last few deep-grid orderings
_lock = threading.Lock()
_loaded: set[tuple[str, str]] = set()  # (table, version) pairs held in the cache
_builds = IndexBuilds()  # this process's background builds of the customer index files


class _InMemory(BaseSerializer):
    """No serialisation: the cache holds the objects themselves.

    SimpleCache's default serializer pickles on ``set`` and unpickles on every ``get``, under the cache's
    lock: a full copy of the table per call (140 ms for ``recommendations``, whose list column pickles
    slowly), with every thread of the worker waiting. Values here are never sent anywhere.
    """

    def dumps(self, value: Any, protocol: int = 0) -> Any:
        return value

    def loads(self, bvalue: Any) -> Any:
        return bvalue


@dataclass(frozen=True)
class DataStatus:
    """What the pages need to know about the data source."""

    version: str | None  # the version pages are served from (None: nothing published)
    unavailable_since: datetime | None  # set while the store cannot be read
    error: str | None  # last store error, for the banner


class _Pointer:
    """The current version as last seen by this worker, refreshed at most every ``poll_s``."""

    def __init__(self) -> None:
        self.version: str | None = None
        self.checked_at = 0.0
        self.unavailable_since: datetime | None = None
        self.error: str | None = None

    def reset(self) -> None:
        """Forget everything (a new app)."""
        self.__dict__.update(vars(_Pointer()))


_pointer = _Pointer()


def init_app(server: Flask, settings: Settings) -> None:
    """Attach the in-process table cache to the Flask server and remember the settings."""
    cache.init_app(server, config={
        "CACHE_TYPE": "SimpleCache",
        "CACHE_DEFAULT_TIMEOUT": 0,
        "CACHE_THRESHOLD": 1000,
        "CACHE_SERIALIZER": _InMemory,  # the same frame to every caller: callers must not modify it
    })
    page_cache.init_app(server, config={
        "CACHE_TYPE": "SimpleCache",
        "CACHE_DEFAULT_TIMEOUT": 0,
        "CACHE_THRESHOLD": PAGE_CACHE_ENTRIES,
        "CACHE_SERIALIZER": _InMemory,
    })
    _state.update(settings=settings, store=None, store_pid=None, local=LocalTables(settings.dashboard.cache_dir))
    _pointer.reset()


def settings() -> Settings:
    """The settings the app was built with."""
    return _state["settings"]


def store() -> Store:
    """This process's store connection (opened lazily, again after a fork)."""
    import os

    if _state["store"] is None or _state["store_pid"] != os.getpid():
        _state["store"] = open_store(_state["settings"].store)
        _state["store_pid"] = os.getpid()
    return _state["store"]


def current_version() -> str | None:
    """The version to serve: the published one, or the last good one while the store fails."""
    poll = _state["settings"].dashboard.version_poll_s
    if time.monotonic() - _pointer.checked_at < poll:
        return _pointer.version
    with _lock:
        if time.monotonic() - _pointer.checked_at >= poll:
            _refresh_pointer()
    return _pointer.version


def _refresh_pointer() -> None:
    try:
        published = store().current_version()
        version = _first_readable([published] + store().versions()) if published else None
        if version != _pointer.version and (version or published is None):
            _evict(keep={version, _pointer.version})
            _state["local"].prune(keep={version, _pointer.version})
            _state["local"].detach_except(keep={version, _pointer.version})
            _pointer.version = version
        _pointer.unavailable_since, _pointer.error = None, None
    except StoreUnavailableError as exc:
        _pointer.unavailable_since = _pointer.unavailable_since or datetime.now(timezone.utc)
        _pointer.error = str(exc)
    except SnapshotError as exc:  # garbage under our keys: keep serving what we have
        _pointer.error = str(exc)
    _pointer.checked_at = time.monotonic()


def _first_readable(candidates: Sequence[str | None]) -> str | None:
    """The first version whose manifest can be read and parsed (skips corrupt ones)."""
    for version in dict.fromkeys(v for v in candidates if v):
        try:
            manifest(version)
            return version
        except SnapshotError as exc:
            _pointer.error = str(exc)
    return None


def _evict(keep: set[str | None]) -> None:
    """Drop cached tables of versions other than ``keep`` (the new one and the one it replaces), and every
    page-level entry (they are rebuilt, on demand, for the version now served)."""
    for name, version in list(_loaded):
        if version not in keep:
            cache.delete_memoized(table, name, version)
            _loaded.discard((name, version))
    page_cache.clear()


def by_version(func: F) -> F:
    """Memoize ``func(version, *args)`` in the page cache: for what is built from one snapshot version only
    (a snapshot never changes). Arguments must be strings, numbers or tuples of them (keys use their repr);
    the value is shared by every caller, who must not modify it."""
    return cast(F, page_cache.memoize(timeout=0)(func))  # the memoized function has func's signature


def status() -> DataStatus:
    """Version being served and whether the source is currently unavailable."""
    version = current_version()
    return DataStatus(version=version, unavailable_since=_pointer.unavailable_since, error=_pointer.error)


@cache.memoize(timeout=0)
def manifest(version: str) -> dict:
    """The parsed manifest of a version (memoized per version)."""
    return parse_manifest(store().read_manifest(version))


@cache.memoize(timeout=0)
def table(name: str, version: str) -> pd.DataFrame:
    """A whole snapshot table, read from its verified local copy (memoized per name and version).

    For the small tables: the per-customer ones (BIG_TABLES) are asked with :func:`query` instead.
    Entries never expire on their own and are evicted when a newer version replaces them. Callers must
    not modify the frame.
    """
    try:
        frame = pq.read_table(local_path(name, version)).to_pandas()
    except (OSError, ValueError) as exc:
        raise SnapshotError(f"Table '{name}' of snapshot {version} cannot be read ({exc}).") from exc
    _loaded.add((name, version))
    return frame


def local_path(name: str, version: str) -> str:
    """The local, verified Parquet copy of a table (copied from the store on first use on this machine).

    Raises:
        SnapshotError: the version has no such table, or its bytes do not match the digest.
        StoreUnavailableError: the copy is missing and the store cannot be read.
    """
    entry = manifest(version).get("tables", {}).get(name)
    if entry is None:
        raise SnapshotError(f"Snapshot {version} has no table '{name}'.")
    return str(_state["local"].path(version, name, entry.get("sha256", ""), lambda: store().read_table(version, name)))


def query(version: str, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
    """Rows of ``sql`` on one version: ``{table}`` names a snapshot table (its local copy); values go in
    ``params`` (``?`` placeholders), never into ``sql``.

    Raises:
        SnapshotError: unknown table, unreadable copy, failing query.
    """
    return _state["local"].query(_with_tables(version, sql), params)


def _with_tables(version: str, sql: str) -> str:
    def source(match: re.Match) -> str:
        name = match.group(1)
        if name not in TABLES:
            raise SnapshotError(f"Unknown snapshot table '{name}'.")
        indexed = _index(name, version)
        if indexed is not None:  # the same rows, in order, read faster
            return f"{indexed}.{PUBLISHED_VIEW}"
        return "read_parquet('" + local_path(name, version).replace("'", "''") + "')"

    return re.sub(r"\{([a-z_]+)\}", source, sql)


def customer_rows(name: str, version: str, customer_id: str, columns: Sequence[str] = ()) -> pd.DataFrame:
    """The rows of one customer in a per-customer table (``columns``: those only; empty: all), in the table's
    order: from the table's index file when built (:mod:`dashboard.customer_index`), else from its copy."""
    table_name = _table_name(name)
    wanted = ", ".join(_column(c) for c in columns) if columns else "*"
    indexed = _index(table_name, version)
    if indexed is None:
        return query(version, f"SELECT {wanted} FROM {{{table_name}}} WHERE customer_id = ?", [customer_id])
    wanted = wanted if columns else f"* EXCLUDE ({ROW_COLUMN})"
    return _state["local"].query(f"SELECT {wanted} FROM {indexed}.rows WHERE customer_id = ? "
                                 f"ORDER BY {ROW_COLUMN}", [customer_id])


def _index(name: str, version: str) -> str | None:
    """The attached index file of a per-customer table (None: not built yet; its build is then started)."""
    if name not in INDEXED_TABLES:
        return None
    copy = Path(local_path(name, version))
    found = index_file(copy)
    if found.exists():
        return _state["local"].attached(found)
    entries = manifest(version).get("tables", {})
    digests = {table: entries[table].get("sha256", "") for table in INDEXED_TABLES if table in entries}
    _builds.ensure(copy.parent, lambda: _copies(version, digests))
    return None


def _copies(version: str, digests: Mapping[str, str]) -> list[str]:
    """Make sure the copies of these tables of ``version`` exist (in the build thread: no app context, so
    no memoized manifest); their names."""
    local: LocalTables = _state["local"]
    for name, digest in digests.items():
        local.path(version, name, digest, functools.partial(store().read_table, version, name))
    return list(digests)


def _column(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise SnapshotError(f"Not a column name: {name!r}.")
    return name


def _table_name(name: str) -> str:
    if name not in TABLES:
        raise SnapshotError(f"Unknown snapshot table '{name}'.")
    return name


def grid_page(version: str, source: str, params: Sequence[Any], request: object, columns: Mapping[str, str],
              default_sort: Sequence[tuple[str, bool]] = (), tiebreak: str | None = None,
              max_rows: int = MAX_BLOCK_ROWS) -> tuple[pd.DataFrame, int]:
    """One block of a grid's rows from ``source`` (a SELECT with ``{table}`` names and ``params``, having
    every allow-listed column): the grid's untrusted filter, sort and row window applied in SQL with
    :mod:`dashboard.components.grid_query`'s semantics. ``tiebreak``, the last sort key, must be unique in
    ``source``. Returns ``(rows, filtered row count)``."""
    request = request if isinstance(request, Mapping) else {}
    where, where_params = where_sql(request.get("filterModel"), columns)
    order = order_sql(request.get("sortModel"), columns, default_sort, tiebreak)
    total = _count(version, f"SELECT count(*) AS n FROM ({source}) AS src WHERE {where}", [*params, *where_params])
    start, end = row_window(request.get("startRow"), request.get("endRow"), total, max_rows)
    if tiebreak is None:
        rows = query(version, f"SELECT * FROM ({source}) AS src WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                     [*params, *where_params, end - start, start])
        return rows, total
    key = _column(tiebreak)  # unique: sort the keys alone, then read the block's rows by key (late, as few as shown)
    ordering = f"SELECT {key} FROM ({source}) AS keys WHERE {where} ORDER BY {order}"
    if start >= DEEP_ROW:  # deep in a long list: the whole ordering once, then slices of it (ordered_keys.py)
        arguments = [*params, *where_params]
        keys = _orderings.keys(version, ordering, arguments,
                               lambda: _state["local"].arrow(_with_tables(version, ordering), arguments), start, end)
    else:
        block = query(version, ordering + " LIMIT ? OFFSET ?", [*params, *where_params, end - start, start])
        keys = block[key].tolist()
    return _rows_by_key(version, source, params, key, keys), total


IN_LIST_KEYS = 1000  # up to this many keys, an IN list of values: the scan filters the key column first


def _rows_by_key(version: str, source: str, params: Sequence[Any], key: str, keys: list[Any]) -> pd.DataFrame:
    """The rows of ``source`` whose ``key`` is in ``keys``, in the order of ``keys`` (each key at most once)."""
    if len(keys) <= IN_LIST_KEYS:
        marks = ", ".join("?" * len(keys)) or "NULL"
        rows = query(version, f"SELECT * FROM ({source}) AS src WHERE src.{key} IN ({marks})", [*params, *keys])
    else:  # an export's whole list: one parameter, joined
        rows = query(version, f"SELECT src.* FROM ({source}) AS src SEMI JOIN unnest(?) AS wanted(k) ON src.{key} = "
                     "wanted.k", [*params, keys])
    return rows.iloc[pd.Index(rows[key]).get_indexer(keys)].reset_index(drop=True)


@by_version
def _count(version: str, sql: str, params: Sequence[Any]) -> int:
    """The count a grid shows for one filter (once per version and filter: the grid asks it for every block)."""
    return int(query(version, sql, params)["n"].iloc[0])
