"""Snapshot store in Redis (``redis://``, ``rediss://``, ``unix://``): key layout, Lua scripts, URL redaction."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from analytics.audiences import check_audience_id
from analytics.errors import ConfigError, LockedError, SnapshotError, StoreUnavailableError
from analytics.settings import StoreParams
from jobs.locks import RefreshLock, parse_token
from jobs.store.common import (
    _MANIFEST,
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
from jobs.store.redis_audiences import RedisAudiences

log = logging.getLogger("jobs.store")  # the logger name of the former single module, kept for log consumers

_PREFIX_RE = re.compile(r"^[0-9A-Za-z_.:-]{1,64}$")

_KEY_SUFFIXES = {
    "current": "current",
    "versions": "versions",
    "lock": "lock:refresh",
    "fence": "fence",
    "runs": "runs",
    "run-order": "runs:order",
    "refresh-request": "refresh-request",
    "audiences": "audiences",
    "heartbeat": "scheduler:heartbeat",
}


def key_for(prefix: str, name: str, version: str | None = None, table: str | None = None,
            audience: str | None = None) -> str:
    """Build a Redis key. The only place keys are spelled.

    Audiences live outside the snapshots (``<p>:snap:*``), so neither a refresh nor snapshot clean-up
    touches them: ``key_for(p, "audience", audience=a)`` → ``p:audience:a`` (the record) and
    ``key_for(p, "audiences")`` → ``p:audiences`` (the index: a hash of id → summary JSON).

    ``key_for(p, "snap", v, t)`` → ``p:snap:v:t``; ``key_for(p, "snap", v)`` → ``p:snap:v:manifest``;
    ``key_for(p, "snaps")`` → ``p:snap:*`` (SCAN pattern of all snapshot keys); other names: ``current``,
    ``versions``, ``lock`` (``p:lock:refresh``), ``fence``, ``runs``, ``run-order`` (``p:runs:order``),
    ``refresh-request``, ``heartbeat`` (``p:scheduler:heartbeat``).
    """
    if name == "snaps":
        return f"{prefix}:snap:*"
    if name == "audience":
        return f"{prefix}:audience:{check_audience_id(audience)}"
    if name == "snap":
        return f"{prefix}:snap:{_check_version(version or '')}:{_check_table(table) if table else _MANIFEST}"
    return f"{prefix}:{_KEY_SUFFIXES[name]}"


_LUA_GET_STR = """
local function get_str(key)
  if redis.call('TYPE', key).ok == 'string' then return redis.call('GET', key) end
  return false
end
"""
# KEYS: lock, fence. ARGV: uuid, owner, ttl_ms. -> {1, token, fence} | {0, holder, pttl} | {-1, '', 0}
_LUA_ACQUIRE = """
local kind = redis.call('TYPE', KEYS[1]).ok
if kind ~= 'none' then
  local holder = ''
  if kind == 'string' then holder = redis.call('GET', KEYS[1]) end
  return {0, holder, redis.call('PTTL', KEYS[1])}
end
local ftype = redis.call('TYPE', KEYS[2]).ok
if ftype ~= 'none' and (ftype ~= 'string' or not string.match(redis.call('GET', KEYS[2]), '^%d+$')) then
  return {-1, '', 0}
end
local fence = redis.call('INCR', KEYS[2])
local token = string.format('%d', fence) .. ':' .. ARGV[1] .. ':' .. ARGV[2]
redis.call('SET', KEYS[1], token, 'PX', ARGV[3])
return {1, token, fence}
"""
# KEYS: lock. ARGV: token, ttl_ms. -> 1 extended | 0 not ours
_LUA_EXTEND = _LUA_GET_STR + """
if get_str(KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
# KEYS: lock. ARGV: token. -> 1 deleted | 0 not ours
_LUA_RELEASE = _LUA_GET_STR + """
if get_str(KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# KEYS: lock, current, versions, manifest + table keys. ARGV: token, version, keep.
# -> 1 switched | 0 lock lost | -1 a key of the version is missing
_LUA_SWITCH = _LUA_GET_STR + """
if get_str(KEYS[1]) ~= ARGV[1] then return 0 end
for i = 4, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then return -1 end
end
redis.call('SET', KEYS[2], ARGV[2])
if redis.call('TYPE', KEYS[3]).ok ~= 'list' then redis.call('DEL', KEYS[3]) end
redis.call('LREM', KEYS[3], 0, ARGV[2])
redis.call('LPUSH', KEYS[3], ARGV[2])
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[3]) - 1)
return 1
"""
# KEYS: lock, keys to delete... ARGV: token. -> number deleted | -1 lock lost
_LUA_GC = _LUA_GET_STR + """
if get_str(KEYS[1]) ~= ARGV[1] then return -1 end
local n = 0
for i = 2, #KEYS do n = n + redis.call('UNLINK', KEYS[i]) end
return n
"""
# KEYS: runs hash, order list. ARGV: run_id, json, max.
_LUA_RECORD_RUN = """
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then redis.call('DEL', KEYS[1]) end
if redis.call('TYPE', KEYS[2]).ok ~= 'list' then redis.call('DEL', KEYS[2]) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if not redis.call('LPOS', KEYS[2], ARGV[1]) then
  redis.call('LPUSH', KEYS[2], ARGV[1])
  local keep = tonumber(ARGV[3])
  for _, id in ipairs(redis.call('LRANGE', KEYS[2], keep, -1)) do redis.call('HDEL', KEYS[1], id) end
  redis.call('LTRIM', KEYS[2], 0, keep - 1)
end
return 1
"""
# KEYS: request. ARGV: json. -> 1 queued | 0 one is pending. A value of a foreign type is replaced.
_LUA_REQUEST = """
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'string' then return 0 end
if kind ~= 'none' then redis.call('DEL', KEYS[1]) end
redis.call('SET', KEYS[1], ARGV[1])
return 1
"""
# KEYS: request. -> the value | nil. A value of a foreign type is deleted and '' returned.
_LUA_TAKE = """
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'none' then return false end
if kind ~= 'string' then redis.call('DEL', KEYS[1]) return '' end
return redis.call('GETDEL', KEYS[1])
"""

_GC_BATCH = 200


class RedisStore(RedisAudiences):
    """Snapshot store in Redis. Password and TLS are given through the URL only."""

    def __init__(self, params: StoreParams) -> None:
        _check_params(params)
        if not _PREFIX_RE.match(params.prefix):
            raise ConfigError(f"store.prefix {params.prefix!r} must be 1-64 of [0-9A-Za-z_.:-].")
        self._params = params
        self._prefix = params.prefix
        self._secrets = _url_secrets(params.url)
        self._where = self._scrub(_url_location(params.url))
        parts = urlsplit(params.url)
        if parts.scheme != "unix" and not re.fullmatch(r"/?\d*", unquote(parts.path)):
            raise ConfigError(f"Redis URL for {self._where} must end in a database number (e.g. '/0'), "
                              f"got {self._scrub(parts.path)!r}.")
        try:
            self._client = redis.Redis.from_url(
                params.url,
                socket_timeout=params.socket_timeout_s,
                socket_connect_timeout=params.socket_timeout_s,
                # One quick retry, on connection errors only: a dead Redis fails in well under a second;
                # a hung one fails after one socket timeout (retrying a timeout would only double the wait).
                retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), 1,
                            supported_errors=(redis.exceptions.ConnectionError,)),
                health_check_interval=15,
            )
        except ValueError as exc:
            raise ConfigError(f"Invalid Redis URL for {self._where}: {self._scrub(str(exc))}") from exc
        scripts = {"acquire": _LUA_ACQUIRE, "extend": _LUA_EXTEND, "release": _LUA_RELEASE, "switch": _LUA_SWITCH,
                   "gc": _LUA_GC, "record_run": _LUA_RECORD_RUN, "request": _LUA_REQUEST, "take": _LUA_TAKE}
        self._scripts = {name: self._client.register_script(lua) for name, lua in scripts.items()}

    def __repr__(self) -> str:
        return f"RedisStore({self._where!r}, prefix={self._prefix!r})"

    def _key(self, name: str, version: str | None = None, table: str | None = None,
             audience: str | None = None) -> str:
        return key_for(self._prefix, name, version, table, audience)

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    @contextmanager
    def _errors(self, key: str | None = None) -> Iterator[None]:
        """Translate redis-py errors: wrong-typed values to SnapshotError, the rest to StoreUnavailableError."""
        try:
            yield
        except redis.exceptions.ResponseError as exc:
            if str(exc).startswith("WRONGTYPE") and key:
                raise SnapshotError(f"Redis key '{key}' holds a value of the wrong type; it was not written by "
                                    "this store.") from exc
            raise StoreUnavailableError(f"Redis at {self._where} refused the command: {self._scrub(str(exc))}") \
                from exc
        except redis.exceptions.RedisError as exc:
            raise StoreUnavailableError(f"Redis at {self._where} unavailable: {self._scrub(str(exc))}") from exc

    def _run(self, script: str, keys: list[str], args: list[Any]) -> Any:
        with self._errors():
            return self._scripts[script](keys=keys, args=args)

    def ping(self) -> None:
        """Check Redis answers. Raises StoreUnavailableError."""
        with self._errors():
            self._client.ping()

    def current_version(self) -> str | None:
        """The version ``<prefix>:current`` points to; None when nothing is published."""
        key = self._key("current")
        with self._errors(key):
            raw = self._client.get(key)
        return None if raw is None else _decode_version(raw, f"Redis key '{key}'")

    def versions(self) -> list[str]:
        """Published versions, newest first (at most ``keep``)."""
        key = self._key("versions")
        with self._errors(key):
            raw = self._client.lrange(key, 0, self._params.keep - 1)
        return [_decode_version(item, f"An entry of Redis key '{key}'") for item in raw]

    def read_manifest(self, version: str) -> bytes:
        """Raw manifest JSON of ``version``. Raises SnapshotError if absent."""
        return self._get_blob(self._key("snap", version), f"Snapshot {version} not found (no manifest).")

    def read_table(self, version: str, table: str) -> bytes:
        """Raw Parquet bytes of ``table`` in ``version``. Raises SnapshotError if absent."""
        return self._get_blob(self._key("snap", version, table), f"Snapshot {version} has no table '{table}'.")

    def _get_blob(self, key: str, missing: str) -> bytes:
        with self._errors(key):
            data = self._client.get(key)
        if data is None:
            raise SnapshotError(missing)
        return data.encode("utf-8") if isinstance(data, str) else data  # str only with decode_responses

    def acquire_lock(self, owner: str) -> RefreshLock:
        """``SET <prefix>:lock:refresh "<fence>:<uuid>:<owner>" NX PX ttl`` with fence = INCR ``<prefix>:fence``.

        Raises:
            LockedError: another run holds the lock (the message names it and when it expires).
            SnapshotError: ``<prefix>:fence`` holds something other than a counter.
        """
        lock_key, ttl_ms = self._key("lock"), self._ttl_ms()
        status, value, number = self._run("acquire", [lock_key, self._key("fence")], [uuid.uuid4().hex, owner, ttl_ms])
        if status == -1:
            raise SnapshotError(f"Redis key '{self._key('fence')}' is not a fence counter; delete it to reset.")
        if status == 0:
            raise LockedError(self._locked_message(lock_key, value, number))
        token = value.decode("utf-8")
        return RefreshLock(token, int(number), owner, release=lambda: self._run("release", [lock_key], [token]),
                           extend=lambda: bool(self._run("extend", [lock_key], [token, ttl_ms])),
                           heartbeat_s=self._params.lock_ttl_s / 3)

    def _ttl_ms(self) -> int:
        return max(1, int(self._params.lock_ttl_s * 1000))

    @staticmethod
    def _locked_message(lock_key: str, holder: bytes, pttl: int) -> str:
        if pttl < 0:
            return (f"Refresh lock '{lock_key}' is set without an expiry, so it was not set by a refresh run;"
                    " delete it if no refresh is running.")
        fence, owner = parse_token(holder.decode("utf-8", errors="replace"))
        return (f"Refresh skipped: locked by {owner!r} (fence {fence}); the lock expires in {pttl / 1000:.1f} s"
                " unless its holder renews it.")

    def publish(self, lock: RefreshLock, version: str, tables: Mapping[str, bytes], manifest: bytes) -> None:
        """Write tables (no TTL), then the manifest, then switch ``current`` with one fenced Lua script.

        Raises:
            StaleLockError: the lock no longer holds ``lock.token``; current is unchanged.
            SnapshotError: invalid names or manifest, or the version is already published.
            StoreUnavailableError: Redis cannot be reached (current is unchanged unless the switch ran).
        """
        _check_publication(version, tables, manifest)
        if lock.released or lock.lost or not self._holds(lock):
            raise _stale(version)
        if version in _tolerant(self.versions, []) or version == _tolerant(self.current_version, None):
            raise SnapshotError(f"Snapshot {version} is already published; versions are immutable.")
        keys = [self._key("snap", version)]
        for table, data in tables.items():
            self._write_table(version, table, bytes(data))
            keys.append(self._key("snap", version, table))
        with self._errors():
            self._client.set(keys[0], manifest)
        status = self._run("switch", [self._key("lock"), self._key("current"), self._key("versions"), *keys],
                           [lock.token, version, self._params.keep])
        if status == 0:
            raise _stale(version)
        if status == -1:
            raise SnapshotError(f"Keys of snapshot {version} vanished before the switch; current was left unchanged.")
        self._collect_garbage(lock)

    def _write_table(self, version: str, table: str, data: bytes) -> None:
        with self._errors():
            self._client.set(self._key("snap", version, table), data)

    def _holds(self, lock: RefreshLock) -> bool:
        try:
            with self._errors(self._key("lock")):
                return self._client.get(self._key("lock")) == lock.token.encode("utf-8")
        except SnapshotError:  # a foreign value under the lock key: certainly not our token
            return False

    def _collect_garbage(self, lock: RefreshLock) -> None:
        """Delete snapshot keys of versions no longer listed (fenced, batch by batch). Failures are logged."""
        try:
            keep = set(self.versions()) | {self.current_version()}
            pattern = self._key("snaps")
            with self._errors():  # key = <prefix>:snap:<version>:<table>; table names have no ':'
                doomed = [key for key in self._client.scan_iter(match=pattern, count=500)
                          if key.decode("utf-8", "replace")[len(pattern) - 1:].rpartition(":")[0] not in keep]
            for start in range(0, len(doomed), _GC_BATCH):
                if self._run("gc", [self._key("lock"), *doomed[start:start + _GC_BATCH]], [lock.token]) == -1:
                    log.warning("Snapshot garbage collection stopped: the refresh lock was lost.")
                    return
        except (SnapshotError, StoreUnavailableError) as exc:
            log.warning("Snapshot garbage collection failed (retried after the next publish): %s", exc)

    def record_run(self, run: Mapping[str, Any]) -> None:
        """Upsert a run record by ``run_id`` (JSON in hash ``<prefix>:runs``, order in ``<prefix>:runs:order``)."""
        run_id, text = _run_json(run)
        self._run("record_run", [self._key("runs"), self._key("run-order")], [run_id, text, MAX_RUNS])

    def runs(self, limit: int = 50) -> list[dict]:
        """Run records, newest first. Entries that are not JSON objects are skipped with a warning."""
        limit = min(max(limit, 0), MAX_RUNS)
        if limit == 0:
            return []
        order_key, runs_key = self._key("run-order"), self._key("runs")
        with self._errors(order_key):
            ids = self._client.lrange(order_key, 0, limit - 1)
        if not ids:
            return []
        with self._errors(runs_key):
            blobs = self._client.hmget(runs_key, ids)
        result = []
        for run_id, blob in zip(ids, blobs):
            if blob is None:  # trimmed between the two reads
                continue
            try:
                result.append(_parse_json(blob, "run record"))
            except SnapshotError as exc:
                log.warning("Skipping run record %r: %s", run_id, exc)
        return result

    def request_refresh(self, request: Mapping[str, Any]) -> bool:
        """Queue a "refresh now" request in ``<prefix>:refresh-request``; False if one is pending."""
        text = _to_json(request, "refresh request")
        return self._run("request", [self._key("refresh-request")], [text]) == 1

    def take_refresh_request(self) -> dict | None:
        """Atomically pop the pending request. A malformed one is discarded with a SnapshotError."""
        raw = self._run("take", [self._key("refresh-request")], [])
        if raw is None:
            return None
        return _parse_json(raw, "refresh request (discarded)")

    def pending_refresh_request(self) -> dict | None:
        """The pending request, left in place."""
        key = self._key("refresh-request")
        with self._errors(key):
            raw = self._client.get(key)
        return None if raw is None else _parse_json(raw, "pending refresh request")

    def write_heartbeat(self, beat: Mapping[str, Any]) -> None:
        """Replace the scheduler's heartbeat (JSON in ``<prefix>:scheduler:heartbeat``)."""
        key, text = self._key("heartbeat"), _to_json(beat, "scheduler heartbeat")
        with self._errors(key):
            self._client.set(key, text)

    def heartbeat(self) -> dict | None:
        """The scheduler's last heartbeat; None when no scheduler ever wrote one."""
        key = self._key("heartbeat")
        with self._errors(key):
            raw = self._client.get(key)
        return None if raw is None else _parse_json(raw, "scheduler heartbeat")

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()


def _url_secrets(url: str) -> list[str]:
    """Passwords in a Redis URL (user-info or ``?password=``), raw and percent-decoded, longest first."""
    parts = urlsplit(url)
    found = {parts.password} if parts.password else set()
    found.update(parse_qs(parts.query).get("password", []))
    found |= {unquote(secret) for secret in found}
    return sorted((s for s in found if s), key=len, reverse=True)


def _url_location(url: str) -> str:
    """``host:port`` (or the socket path) of a Redis URL, without credentials."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path or "?"
    try:
        port = str(parts.port or 6379)
    except ValueError:
        port = "?"
    return f"{parts.hostname or 'localhost'}:{port}"
