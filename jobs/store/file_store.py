"""Snapshot store in a local directory (``file://DIR`` or a plain path), with its fsync and flock helpers."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import socket
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from analytics.errors import ConfigError, LockedError, SnapshotError, StoreUnavailableError
from analytics.settings import StoreParams
from jobs.locks import RefreshLock, hold_flock, make_token
from jobs.store.common import (
    MAX_RUNS,
    _check_params,
    _check_publication,
    _check_table,
    _check_version,
    _decode_version,
    _parse_json,
    _run_json,
    _stale,
    _to_json,
    _tolerant,
)
from jobs.store.file_audiences import FileAudiences

log = logging.getLogger("jobs.store")  # the logger name of the former single module, kept for log consumers


class FileStore(FileAudiences):
    """Snapshot store in a local directory (``file://DIR`` or a plain path).

    Layout: ``snapshots/<version>/{<table>.parquet, manifest.json}``, ``current``, ``versions.json``,
    ``runs.json``, ``refresh-request.json``, ``refresh.lock`` (flock), ``fence``, ``scheduler-heartbeat.json``,
    ``audiences/`` (:mod:`jobs.store.file_audiences`). The directory is
    created on the first write; a missing directory reads as "nothing published".
    """

    def __init__(self, params: StoreParams) -> None:
        _check_params(params)
        url = params.url
        self.root = Path(unquote(url[len("file://"):]) if url.startswith("file://") else url)
        if not str(self.root):
            raise ConfigError("store.url 'file://' needs a directory.")
        self._params = params
        self._snapshots = self.root / "snapshots"

    def __repr__(self) -> str:
        return f"FileStore({str(self.root)!r})"

    def _unavailable(self, exc: OSError) -> StoreUnavailableError:
        return StoreUnavailableError(f"Snapshot directory {self.root} unavailable: {exc.strerror or exc}.")

    def _read(self, path: Path) -> bytes | None:
        """Bytes of a file; None if it (or the store directory) does not exist."""
        try:
            return path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except IsADirectoryError as exc:
            raise SnapshotError(f"{path} is a directory; it was not written by this store.") from exc
        except OSError as exc:
            raise self._unavailable(exc) from exc

    def _write_atomic(self, path: Path, data: bytes) -> None:
        """Write a temporary file, fsync it, ``os.replace`` it over ``path`` and fsync the directory."""
        tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex}")
        try:
            _write_synced(tmp, data)
            os.replace(tmp, path)
            _fsync_dir(path.parent)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise self._unavailable(exc) from exc

    def _mkdir(self, path: Path) -> None:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._unavailable(exc) from exc

    def ping(self) -> None:
        """Check the directory is readable (a missing one is fine: nothing published yet)."""
        if self.root.exists() and not (self.root.is_dir() and os.access(self.root, os.R_OK | os.X_OK)):
            raise StoreUnavailableError(f"Snapshot directory {self.root} is not a readable directory.")

    def current_version(self) -> str | None:
        """The version in ``DIR/current``; None when nothing is published."""
        raw = self._read(self.root / "current")
        return None if raw is None else _decode_version(raw, f"File {self.root / 'current'}")

    def versions(self) -> list[str]:
        """Published versions from ``versions.json``, newest first (at most ``keep``)."""
        path = self.root / "versions.json"
        raw = self._read(path)
        if raw is None:
            return []
        try:
            items = json.loads(raw)
        except ValueError as exc:
            raise SnapshotError(f"File {path} is not valid JSON ({exc}).") from exc
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise SnapshotError(f"File {path} is not a list of versions.")
        return [_decode_version(item.encode("utf-8"), f"An entry of {path}") for item in items[: self._params.keep]]

    def read_manifest(self, version: str) -> bytes:
        """Raw manifest JSON of ``version``. Raises SnapshotError if absent."""
        data = self._read(self._snapshots / _check_version(version) / "manifest.json")
        if data is None:
            raise SnapshotError(f"Snapshot {version} not found (no manifest).")
        return data

    def read_table(self, version: str, table: str) -> bytes:
        """Raw Parquet bytes of ``table`` in ``version``. Raises SnapshotError if absent."""
        data = self._read(self._snapshots / _check_version(version) / f"{_check_table(table)}.parquet")
        if data is None:
            raise SnapshotError(f"Snapshot {version} has no table '{table}'.")
        return data

    def acquire_lock(self, owner: str) -> RefreshLock:
        """``flock(LOCK_EX | LOCK_NB)`` on ``DIR/refresh.lock``; the kernel frees it when the holder dies.

        Raises:
            LockedError: another process holds the lock (the message names it and since when).
            SnapshotError: the fence file holds something other than a counter.
        """
        self._mkdir(self.root)
        path = self.root / "refresh.lock"
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise self._unavailable(exc) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LockedError(self._locked_message(path)) from None
        try:
            fence = self._next_fence()
            token = make_token(fence, owner)
            holder = {"token": token, "owner": owner, "fence": fence, "pid": os.getpid(),
                      "host": socket.gethostname(), "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(holder).encode("utf-8"), 0)
            os.fsync(fd)
        except BaseException as exc:
            os.close(fd)
            if isinstance(exc, OSError):
                raise self._unavailable(exc) from exc
            raise
        return RefreshLock(token, fence, owner, release=lambda: _release_flock(fd))

    def _next_fence(self) -> int:
        path = self.root / "fence"
        raw = self._read(path)
        text = (raw or b"0").decode("utf-8", "replace").strip()
        if not text.isdigit():
            raise SnapshotError(f"File {path} is not a fence counter; delete it to reset.")
        fence = int(text) + 1
        self._write_atomic(path, str(fence).encode())
        return fence

    def _locked_message(self, path: Path) -> str:
        raw = self._read(path) or b""
        try:
            holder = json.loads(raw)
            return (f"Refresh skipped: locked by {holder['owner']!r} (pid {holder['pid']} on {holder['host']}, "
                    f"fence {holder['fence']}) since {holder['since']}.")
        except (ValueError, KeyError, TypeError):
            return f"Refresh skipped: {path} is locked by another process."

    def _holds(self, lock: RefreshLock) -> bool:
        """True if ``refresh.lock`` still names this token (nobody re-acquired it since)."""
        raw = self._read(self.root / "refresh.lock")
        try:
            return not lock.released and json.loads(raw or b"{}").get("token") == lock.token
        except (ValueError, AttributeError):
            return False

    def publish(self, lock: RefreshLock, version: str, tables: Mapping[str, bytes], manifest: bytes) -> None:
        """Write the version into a temp dir (fsynced), rename it into place, then replace ``current``.

        Raises:
            StaleLockError: the lock is released or was re-acquired; current is unchanged.
            SnapshotError: invalid names or manifest, or the version is already published.
            StoreUnavailableError: the directory cannot be written.
        """
        _check_publication(version, tables, manifest)
        if not self._holds(lock):
            raise _stale(version)
        listed = _tolerant(self.versions, [])
        current = _tolerant(self.current_version, None)
        if version in listed or version == current:
            raise SnapshotError(f"Snapshot {version} is already published; versions are immutable.")
        self._mkdir(self._snapshots)
        staging = self._snapshots / f".tmp-{version}-{uuid.uuid4().hex}"
        final = self._snapshots / version
        try:
            staging.mkdir()
            for table, data in tables.items():
                self._write_table(staging, table, bytes(data))
            _write_synced(staging / "manifest.json", bytes(manifest))
            _fsync_dir(staging)
            if final.exists():  # leftover of a run killed between rename and switch: never published
                shutil.rmtree(final)
            os.rename(staging, final)
            _fsync_dir(self._snapshots)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise self._unavailable(exc) from exc
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if not self._holds(lock):
            raise _stale(version)
        listed = [version, *(v for v in listed if v != version)][: self._params.keep]
        self._write_atomic(self.root / "versions.json", json.dumps(listed).encode("utf-8"))
        self._write_atomic(self.root / "current", version.encode("utf-8"))
        self._collect_garbage(set(listed) | {version})

    def _write_table(self, staging: Path, table: str, data: bytes) -> None:
        _write_synced(staging / f"{table}.parquet", data)

    def _collect_garbage(self, keep: set[str]) -> None:
        """Remove version dirs no longer listed, and temp dirs/files (``.tmp-``) older than the lock TTL."""
        cutoff = time.time() - self._params.lock_ttl_s
        try:
            for entry in os.scandir(self._snapshots):
                if not entry.is_dir(follow_symlinks=False):
                    continue
                is_tmp = entry.name.startswith(".tmp-")
                if (is_tmp and entry.stat().st_mtime < cutoff) or (not is_tmp and entry.name not in keep):
                    shutil.rmtree(entry.path, ignore_errors=True)
            for entry in os.scandir(self.root):  # temp files of _write_atomic left by a killed writer
                if ".tmp-" in entry.name and entry.is_file() and entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
        except OSError as exc:
            log.warning("Snapshot garbage collection failed (retried after the next publish): %s", exc)

    def record_run(self, run: Mapping[str, Any]) -> None:
        """Upsert a run record by ``run_id`` in ``runs.json`` (temp file + ``os.replace`` under a flock)."""
        run_id, text = _run_json(run)
        self._mkdir(self.root)
        with hold_flock(self.root / "runs.lock"):
            try:
                records = self._load_runs()
            except SnapshotError as exc:
                log.warning("Replacing unreadable run history: %s", exc)
                records = []
            entry = json.loads(text)
            at = next((i for i, r in enumerate(records) if r.get("run_id") == run_id), None)
            if at is None:
                records.insert(0, entry)
            else:
                records[at] = entry
            self._write_atomic(self.root / "runs.json", json.dumps(records[:MAX_RUNS]).encode("utf-8"))

    def _load_runs(self) -> list[dict]:
        path = self.root / "runs.json"
        raw = self._read(path)
        if raw is None:
            return []
        try:
            records = json.loads(raw)
        except ValueError as exc:
            raise SnapshotError(f"File {path} is not valid JSON ({exc}).") from exc
        if not isinstance(records, list):
            raise SnapshotError(f"File {path} is not a list of run records.")
        return [r for r in records if isinstance(r, dict)]

    def runs(self, limit: int = 50) -> list[dict]:
        """Run records, newest first."""
        return self._load_runs()[: min(max(limit, 0), MAX_RUNS)]

    def request_refresh(self, request: Mapping[str, Any]) -> bool:
        """Queue a "refresh now" request in ``refresh-request.json``; False if one is pending."""
        text = _to_json(request, "refresh request")
        self._mkdir(self.root)
        with hold_flock(self.root / "refresh-request.lock"):
            if _tolerant(self.pending_refresh_request, None) is not None:
                return False
            self._write_atomic(self.root / "refresh-request.json", text.encode("utf-8"))
            return True

    def take_refresh_request(self) -> dict | None:
        """Atomically remove and return the pending request. A malformed one is discarded with a SnapshotError."""
        path = self.root / "refresh-request.json"
        if not path.exists():
            return None
        with hold_flock(self.root / "refresh-request.lock"):
            raw = self._read(path)
            if raw is None:
                return None
            try:
                path.unlink()
            except FileNotFoundError:
                return None
            except OSError as exc:
                raise self._unavailable(exc) from exc
        return _parse_json(raw, "refresh request (discarded)")

    def pending_refresh_request(self) -> dict | None:
        """The pending request, left in place."""
        raw = self._read(self.root / "refresh-request.json")
        return None if raw is None else _parse_json(raw, "pending refresh request")

    def write_heartbeat(self, beat: Mapping[str, Any]) -> None:
        """Replace the scheduler's heartbeat (``scheduler-heartbeat.json``, written atomically)."""
        text = _to_json(beat, "scheduler heartbeat")
        self._mkdir(self.root)
        self._write_atomic(self.root / "scheduler-heartbeat.json", text.encode("utf-8"))

    def heartbeat(self) -> dict | None:
        """The scheduler's last heartbeat; None when no scheduler ever wrote one."""
        raw = self._read(self.root / "scheduler-heartbeat.json")
        return None if raw is None else _parse_json(raw, "scheduler heartbeat")

    def close(self) -> None:
        """Nothing to close: locks are released through their handles."""


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _release_flock(fd: int) -> None:
    """Clear the holder record, then drop the flock by closing the descriptor."""
    try:
        os.ftruncate(fd, 0)
    finally:
        os.close(fd)
