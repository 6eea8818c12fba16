"""Snapshot store: the refresh job (the only writer) publishes versioned snapshots here, the dashboard reads them.

Two implementations behind the :class:`Store` protocol, chosen by :func:`open_store` from the URL scheme:

* :class:`RedisStore` for ``redis://``, ``rediss://`` (TLS) and ``unix://`` URLs (:mod:`jobs.store.redis_store`);
* :class:`FileStore` for ``file://DIR`` or a plain path (an embedded local directory, no server needed;
  :mod:`jobs.store.file_store`).

Publication is atomic and fenced: all tables and the manifest of a version are written first, then one
switch (a Lua script, or an ``os.replace``) points ``current`` at it, but only if the refresh lock still
holds the publisher's token. Readers therefore see the old snapshot or the new one, never a mix. Versions
are immutable; the newest ``keep`` are listed, older ones and leftovers of interrupted runs are
garbage-collected after each successful switch. Helpers shared by both live in :mod:`jobs.store.common`.
Audiences (campaign target/control lists) are kept under their own keys beside the snapshots and are
never touched by publication or clean-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from analytics.audiences import Audience
from analytics.errors import ConfigError
from analytics.settings import StoreParams
from jobs.locks import RefreshLock
from jobs.store.common import MAX_RUNS
from jobs.store.file_store import FileStore

if TYPE_CHECKING:
    from jobs.store.redis_store import RedisStore, key_for

__all__ = [
    "Store",
    "RedisStore",
    "FileStore",
    "RefreshLock",
    "open_store",
    "key_for",
    "SCHEMES",
    "MAX_RUNS",
]

SCHEMES = ("redis", "rediss", "unix", "file")
"""URL schemes :func:`open_store` accepts (a plain path means ``file``)."""


@runtime_checkable
class Store(Protocol):
    """Where snapshots, run records and "refresh now" requests live."""

    def ping(self) -> None:
        """Check the store is reachable. Raises StoreUnavailableError."""

    def current_version(self) -> str | None:
        """The published version readers should use; None when nothing is published yet."""

    def versions(self) -> list[str]:
        """Published versions, newest first (at most ``keep``)."""

    def read_manifest(self, version: str) -> bytes:
        """Raw manifest JSON of a version. Raises SnapshotError if absent."""

    def read_table(self, version: str, table: str) -> bytes:
        """Raw Parquet bytes of one table. Raises SnapshotError if absent."""

    def acquire_lock(self, owner: str) -> RefreshLock:
        """Take the refresh lock without waiting. Raises LockedError naming the holder."""

    def publish(self, lock: RefreshLock, version: str, tables: Mapping[str, bytes], manifest: bytes) -> None:
        """Write a version and switch ``current`` to it. Raises StaleLockError if the lock was lost."""

    def record_run(self, run: Mapping[str, Any]) -> None:
        """Insert or update a run record by ``run["run_id"]``; keeps the newest MAX_RUNS."""

    def runs(self, limit: int = 50) -> list[dict]:
        """Run records, newest first (by first insertion of their run_id)."""

    def request_refresh(self, request: Mapping[str, Any]) -> bool:
        """Queue a "refresh now" request; False if one is already pending."""

    def take_refresh_request(self) -> dict | None:
        """Atomically remove and return the pending request (None if there is none)."""

    def pending_refresh_request(self) -> dict | None:
        """The pending request, left in place (None if there is none)."""

    def save_audience(self, audience: Audience, max_audiences: int) -> None:
        """Save a new audience, outside every snapshot. Raises AudienceError if its id exists or the store is full."""

    def audience(self, audience_id: str) -> Audience:
        """One audience with its members. Raises AudienceError if unknown or malformed."""

    def audiences(self) -> list[dict]:
        """Summaries of every audience (no members), newest first."""

    def delete_audience(self, audience_id: str) -> bool:
        """Delete an audience; False if it did not exist."""
    def write_heartbeat(self, beat: Mapping[str, Any]) -> None:
        """Replace the scheduler's heartbeat (time, pid, host, schedules, running run).

        Raises ValueError if not JSON."""

    def heartbeat(self) -> dict | None:
        """The scheduler's last heartbeat (None if none was written). Raises SnapshotError if unreadable."""

    def close(self) -> None:
        """Release connections. Idempotent."""


def open_store(params: StoreParams) -> Store:
    """Open the store named by ``params.url``.

    Raises:
        ConfigError: unknown URL scheme, invalid prefix or keep.
    """
    scheme = params.url.split("://", 1)[0].lower() if "://" in params.url else "file"
    if scheme in ("redis", "rediss", "unix"):
        from jobs.store.redis_store import RedisStore
        return RedisStore(params)
    if scheme == "file":
        return FileStore(params)
    raise ConfigError(f"Unsupported store URL scheme '{scheme}://'; allowed: {', '.join(s + '://' for s in SCHEMES)}"
                      " or a plain directory path.")


def __getattr__(name: str) -> Any:
    """``RedisStore`` and ``key_for``, imported on first use: redis-py costs 0.1 s of a file store's start-up."""
    if name in ("RedisStore", "key_for"):
        from jobs.store import redis_store
        return getattr(redis_store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
