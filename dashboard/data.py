"""The dashboard's only way to the data: published snapshots, read through the store and cached.

Deserialised tables are memoized with Flask-Caching in each worker's memory, keyed by
``(table name, snapshot version)`` strings — never by DataFrames. What pages build from one version
(page bodies, scoped lists) is memoized the same way through :func:`by_version`, in a second, bounded
cache emptied whenever the served version changes: this module is the dashboard's one caching layer.

The current version pointer is asked again every ``dashboard.version_poll_s`` seconds, so a newly
published snapshot reaches every gunicorn worker within seconds, without restart.

When the store fails (Redis down or hung, a corrupt value), pages keep answering from the last good
version this worker holds, and :func:`status` says since when the source is unavailable.

Why not Flask-Caching's RedisCache for the tables: it pickles values (a write to Redis would become
code execution in the app), the snapshot in Redis already is the shared copy, and a per-worker copy
is what keeps pages up while Redis is down.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar, cast

import pandas as pd
from cachelib.serializers import BaseSerializer
from flask import Flask
from flask_caching import Cache

from analytics.errors import SnapshotError, StoreUnavailableError
from analytics.settings import Settings
from analytics.snapshot import parse_manifest, verify_table
from jobs.store import Store, open_store

__all__ = ["DataStatus", "init_app", "settings", "current_version", "manifest", "table", "status", "store",
           "by_version"]

F = TypeVar("F", bound=Callable[..., Any])
PAGE_CACHE_ENTRIES = 500  # page bodies and scoped lists of the served version; the oldest go first beyond this

cache = Cache()  # snapshot tables and manifests, kept while their version is served (never pruned by size)
page_cache = Cache()  # what pages build from one version (by_version), emptied when the served version changes
_state: dict[str, Any] = {"settings": None, "store": None, "store_pid": None}
_lock = threading.Lock()
_loaded: set[tuple[str, str]] = set()  # (table, version) pairs held in the cache


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
    _state.update(settings=settings, store=None, store_pid=None)
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
    """A snapshot table, verified against its manifest digest (memoized per name and version).

    Entries never expire on their own — a worker must keep its last good copy while the store is
    down — and are evicted when a newer version replaces them. Callers must not modify the frame.
    """
    frame = verify_table(manifest(version), name, store().read_table(version, name))
    _loaded.add((name, version))
    return frame
