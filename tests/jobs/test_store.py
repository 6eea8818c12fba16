"""Behaviour of the snapshot store, for both implementations (``file`` in tmp_path, ``redis`` on a private server)."""

from __future__ import annotations

import hashlib
import json
import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from analytics.errors import ConfigError, LockedError, SnapshotError, StaleLockError, StoreUnavailableError
from analytics.schema import SCHEMA_VERSION
from analytics.settings import PROJECT_ROOT, StoreParams
from analytics.snapshot import manifest_json
from jobs.store import FileStore, RedisStore, Store, key_for, open_store

TABLES = ("customers", "segments", "rules", "kpis")
PREFIX = "t"


def snapshot(version: str) -> tuple[dict[str, bytes], bytes]:
    """Deterministic tables (opaque bytes: the store does not decode them) and their manifest."""
    tables = {name: f"{version}/{name}|".encode() * 50 for name in TABLES}
    entries = {name: {"bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest()} for name, blob in tables.items()}
    return tables, manifest_json({"schema_version": SCHEMA_VERSION, "version": version, "tables": entries})


@dataclass
class Backend:
    """One store implementation under test, plus ways to look behind its API."""

    kind: str
    url: str
    stores: list[Store] = field(default_factory=list)

    def make(self, **overrides: object) -> Store:
        params = StoreParams(**{"url": self.url, "prefix": PREFIX, "keep": 3, "lock_ttl_s": 5.0, **overrides})
        store = open_store(params)
        self.stores.append(store)
        return store

    @property
    def root(self) -> Path:
        return Path(self.url.removeprefix("file://"))

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=2)

    def stored_versions(self) -> set[str]:
        """Versions with anything stored (published or leftovers; a FileStore temp dir counts for its version)."""
        if self.kind == "file":
            folder = self.root / "snapshots"
            names = [p.name for p in folder.iterdir()] if folder.exists() else []
            return {n.removeprefix(".tmp-").rpartition("-")[0] if n.startswith(".tmp-") else n for n in names}
        with self.redis() as client:
            keys = [k.decode() for k in client.scan_iter(match=f"{PREFIX}:snap:*")]
        return {k[len(f"{PREFIX}:snap:"):].rpartition(":")[0] for k in keys}

    def write_garbage_current(self) -> None:
        if self.kind == "file":
            self.root.mkdir(parents=True, exist_ok=True)
            (self.root / "current").write_bytes(b"\xff\xfe\x00garbage")
        else:
            with self.redis() as client:
                client.hset(key_for(PREFIX, "current"), "foo", "bar")


@pytest.fixture(params=["file", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    url = f"file://{tmp_path / 'store'}" if request.param == "file" else request.getfixturevalue("redis_url")
    backend = Backend(request.param, url)
    yield backend
    for store in backend.stores:
        store.close()


@pytest.fixture
def store(backend: Backend) -> Store:
    return backend.make()


def publish(store: Store, version: str, owner: str = "test") -> None:
    with store.acquire_lock(owner) as lock:
        store.publish(lock, version, *snapshot(version))


def assert_intact(store: Store, version: str) -> None:
    tables, manifest = snapshot(version)
    assert store.read_manifest(version) == manifest
    for name, blob in tables.items():
        assert store.read_table(version, name) == blob


def wait_for_line(proc: subprocess.Popen, expected: str, timeout_s: float = 30.0) -> None:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout_s)
    line = proc.stdout.readline().strip() if ready else "<timeout>"
    assert line == expected, f"child said {line!r}; stderr: {proc.stderr.read() if proc.poll() is not None else ''}"


def acquire_eventually(store: Store, owner: str, timeout_s: float = 5.0) -> object:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return store.acquire_lock(owner)
        except LockedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


# A child process that takes the lock and then either holds it or is half-way through a publish;
# the test SIGKILLs it at that point.
CHILD = textwrap.dedent("""
    import sys, time
    from analytics.settings import StoreParams
    from jobs.store import open_store
    from tests.jobs.test_store import snapshot

    url, prefix, ttl, mode = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    store = open_store(StoreParams(url=url, prefix=prefix, keep=3, lock_ttl_s=ttl))
    lock = store.acquire_lock("child")
    if mode == "hold":
        print("locked", flush=True)
        time.sleep(60)
    written = []
    write = store._write_table
    def write_then_hang(*args):
        write(*args)
        written.append(args)
        if len(written) == 2:
            print("half", flush=True)
            time.sleep(60)
    store._write_table = write_then_hang
    store.publish(lock, "v2", *snapshot("v2"))
""")


def start_child(backend: Backend, mode: str, ttl_s: float) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.Popen([sys.executable, "-c", CHILD, backend.url, PREFIX, str(ttl_s), mode], cwd=PROJECT_ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)  # reaps it and closes the pipes


# --- opening --------------------------------------------------------------------------------------


def test_open_store_picks_the_implementation_by_scheme(tmp_path: Path) -> None:
    assert isinstance(open_store(StoreParams(url=f"file://{tmp_path}")), FileStore)
    assert isinstance(open_store(StoreParams(url=str(tmp_path))), FileStore)
    for url in ("redis://127.0.0.1:1/0", "rediss://127.0.0.1:1/0", "unix:///tmp/nothing.sock"):
        store = open_store(StoreParams(url=url))
        assert isinstance(store, RedisStore) and isinstance(store, Store)
        store.close()


def test_unknown_scheme_names_the_allowed_ones_without_the_password() -> None:
    with pytest.raises(ConfigError, match="allowed: redis://, rediss://, unix://, file://") as info:
        open_store(StoreParams(url="http://user:hunter2@example.com/"))
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize("overrides", [
    {"keep": 0}, {"lock_ttl_s": 0.0}, {"prefix": "bad prefix*"},
    {"url": "redis://:pw@127.0.0.1:notaport/0"}, {"url": "redis://:pw@127.0.0.1:1/notadb"},
])
def test_invalid_params_are_config_errors(overrides: dict) -> None:
    with pytest.raises(ConfigError) as info:
        open_store(StoreParams(**{"url": "redis://127.0.0.1:1/0", **overrides}))
    assert ":pw@" not in str(info.value)


# --- reading and publishing -----------------------------------------------------------------------


def test_empty_store_reads_as_nothing_published(backend: Backend, store: Store) -> None:
    store.ping()
    assert store.current_version() is None
    assert store.versions() == []
    assert store.runs() == []
    assert store.pending_refresh_request() is None
    assert store.take_refresh_request() is None
    with pytest.raises(SnapshotError, match="not found"):
        store.read_manifest("v1")
    if backend.kind == "file":
        assert not backend.root.exists(), "reads must not create the directory"


def test_publish_round_trip(store: Store) -> None:
    publish(store, "20261125T061012Z-3f2a9c")
    assert store.current_version() == "20261125T061012Z-3f2a9c"
    assert store.versions() == ["20261125T061012Z-3f2a9c"]
    assert_intact(store, "20261125T061012Z-3f2a9c")
    with pytest.raises(SnapshotError, match="no table 'orders'"):
        store.read_table("20261125T061012Z-3f2a9c", "orders")


def test_versions_newest_first_keep_trims_and_old_versions_are_collected(backend: Backend, store: Store) -> None:
    for n in range(1, 6):
        publish(store, f"v{n}")
    assert store.current_version() == "v5"
    assert store.versions() == ["v5", "v4", "v3"]
    assert backend.stored_versions() == {"v3", "v4", "v5"}
    with pytest.raises(SnapshotError):
        store.read_manifest("v1")
    assert_intact(store, "v3")


def test_a_published_version_is_immutable(store: Store) -> None:
    publish(store, "v1")
    with pytest.raises(SnapshotError, match="already published"):
        publish(store, "v1")
    assert_intact(store, "v1")


@pytest.mark.parametrize("version", ["..", ".tmp-x", "a/b", "", "x" * 81, "v 1"])
def test_invalid_versions_are_refused(store: Store, version: str) -> None:
    with pytest.raises(SnapshotError, match="Invalid snapshot version"):
        store.read_manifest(version)
    with pytest.raises(SnapshotError, match="Invalid snapshot version"), store.acquire_lock("t") as lock:
        store.publish(lock, version, *snapshot("v1"))


@pytest.mark.parametrize("table", ["../etc", "Customers", "manifest", "a" * 41])
def test_invalid_table_names_are_refused(store: Store, table: str) -> None:
    with pytest.raises(SnapshotError, match="Invalid table name"):
        store.read_table("v1", table)


def test_manifest_must_describe_the_published_version_and_tables(store: Store) -> None:
    tables, _ = snapshot("v1")
    _, other_manifest = snapshot("v2")
    with store.acquire_lock("t") as lock:
        with pytest.raises(SnapshotError, match="Manifest names version 'v2'"):
            store.publish(lock, "v1", tables, other_manifest)
        with pytest.raises(SnapshotError, match="exactly the tables"):
            store.publish(lock, "v1", {**tables, "extra": b"x"}, snapshot("v1")[1])
    assert store.current_version() is None


# --- lock and fencing -----------------------------------------------------------------------------


def test_second_acquire_is_locked_until_release(store: Store) -> None:
    first = store.acquire_lock("first-run")
    with pytest.raises(LockedError, match="first-run"):
        store.acquire_lock("second-run")
    first.release()
    first.release()  # idempotent
    with store.acquire_lock("second-run") as second:
        assert second.token != first.token
    assert second.released


def test_fence_strictly_increases(store: Store) -> None:
    fences = []
    for _ in range(4):
        with store.acquire_lock("t") as lock:
            fences.append(lock.fence)
            assert lock.token.startswith(f"{lock.fence}:") and lock.token.endswith(":t")
    assert fences == sorted(set(fences)) and fences[0] >= 1


def test_heartbeat_keeps_a_short_lock_alive(backend: Backend) -> None:
    store = backend.make(lock_ttl_s=0.5)
    with store.acquire_lock("slow-run") as lock:
        time.sleep(1.6)  # more than three TTLs
        with pytest.raises(LockedError):
            store.acquire_lock("other")
        store.publish(lock, "v1", *snapshot("v1"))
        assert not lock.lost
    assert store.current_version() == "v1"


def test_publish_with_a_lost_lock_is_refused_and_current_unchanged(backend: Backend) -> None:
    store = backend.make(lock_ttl_s=0.3)
    publish(store, "v1")
    stale = store.acquire_lock("paused-run")
    if backend.kind == "redis":
        stale.stop_heartbeat()  # as if the holder were paused past its TTL
        time.sleep(0.5)
    else:  # a flock cannot expire: the nearest thing is a release (e.g. the fd was closed) and a new holder
        stale.release()
    with store.acquire_lock("new-run") as fresh:
        assert fresh.fence > stale.fence
        with pytest.raises(StaleLockError, match="current was left unchanged"):
            store.publish(stale, "v2", *snapshot("v2"))
        assert store.current_version() == "v1"
        assert store.versions() == ["v1"]
        store.publish(fresh, "v3", *snapshot("v3"))
    assert store.versions() == ["v3", "v1"]
    assert backend.stored_versions() == {"v1", "v3"}
    stale.release()  # must not delete anybody else's lock
    assert_intact(store, "v1")


def test_redis_heartbeat_notices_a_lost_lock(redis_url: str) -> None:
    store = open_store(StoreParams(url=redis_url, prefix=PREFIX, lock_ttl_s=0.3))
    lock = store.acquire_lock("a")
    with redis.Redis.from_url(redis_url) as client:
        client.set(key_for(PREFIX, "lock"), "someone-else")
        time.sleep(0.5)
        assert lock.lost
        with pytest.raises(StaleLockError):
            store.publish(lock, "v1", *snapshot("v1"))
        lock.release()
        assert client.get(key_for(PREFIX, "lock")) == b"someone-else", "release is compare-and-delete"
    store.close()


def test_file_lock_replaced_on_disk_makes_the_holder_stale(tmp_path: Path) -> None:
    store = open_store(StoreParams(url=str(tmp_path / "store")))
    publish(store, "v1")
    stale = store.acquire_lock("a")
    (tmp_path / "store" / "refresh.lock").unlink()  # e.g. an over-eager cleanup; a new run then locks a new file
    with store.acquire_lock("b") as fresh:
        with pytest.raises(StaleLockError):
            store.publish(stale, "v2", *snapshot("v2"))
        store.publish(fresh, "v3", *snapshot("v3"))
    stale.release()
    assert store.versions() == ["v3", "v1"]


def test_lock_of_a_killed_holder_becomes_free(backend: Backend) -> None:
    store = backend.make(lock_ttl_s=1.0)
    child = start_child(backend, "hold", ttl_s=1.0)
    try:
        wait_for_line(child, "locked")
        with pytest.raises(LockedError, match="child"):
            store.acquire_lock("parent")
    finally:
        kill(child)
    started = time.monotonic()
    lock = acquire_eventually(store, "parent", timeout_s=5.0)
    waited = time.monotonic() - started
    lock.release()
    if backend.kind == "file":
        assert waited < 0.5, "the kernel frees a flock as soon as its holder dies"
    else:
        assert waited < 3.0, "a killed holder's lock expires after its TTL"


# --- atomicity ------------------------------------------------------------------------------------


class Boom(Exception):
    pass


def test_publish_failing_half_way_leaves_previous_version(backend: Backend, store: Store,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    publish(store, "v1")
    calls: list[object] = []
    write = store._write_table

    def fail_third(*args: object) -> None:
        calls.append(args)
        if len(calls) == 3:
            raise Boom("disk on fire")
        write(*args)

    monkeypatch.setattr(store, "_write_table", fail_third)
    with pytest.raises(Boom), store.acquire_lock("t") as lock:
        store.publish(lock, "v2", *snapshot("v2"))
    monkeypatch.undo()
    assert store.current_version() == "v1"
    assert store.versions() == ["v1"]
    assert_intact(store, "v1")
    publish(store, "v3")
    assert backend.stored_versions() == {"v1", "v3"}


def test_publish_killed_half_way_leaves_previous_version(backend: Backend) -> None:
    store = backend.make(lock_ttl_s=1.0)
    publish(store, "v1")
    child = start_child(backend, "publish", ttl_s=1.0)
    try:
        wait_for_line(child, "half")
    finally:
        kill(child)
    assert store.current_version() == "v1"
    assert store.versions() == ["v1"]
    assert_intact(store, "v1")
    assert backend.stored_versions() == {"v1", "v2"}  # v2's leftovers
    if backend.kind == "file":  # leftovers are collected once older than the lock TTL
        for leftover in (backend.root / "snapshots").glob(".tmp-*"):
            os.utime(leftover, (time.time() - 60, time.time() - 60))
    with acquire_eventually(store, "next-run") as lock:
        store.publish(lock, "v3", *snapshot("v3"))
    assert store.versions() == ["v3", "v1"]
    assert backend.stored_versions() == {"v1", "v3"}


# --- foreign values -------------------------------------------------------------------------------


def test_garbage_current_is_a_snapshot_error_and_publish_overwrites_it(backend: Backend, store: Store) -> None:
    backend.write_garbage_current()
    with pytest.raises(SnapshotError, match="not written by this store"):
        store.current_version()
    publish(store, "v1")
    assert store.current_version() == "v1"


@pytest.mark.parametrize("key, value", [
    ("current", b"\xff\xfe"),
    ("current", b"../../etc/passwd"),
    ("versions", b"a string, not a list"),
])
def test_redis_foreign_values_are_snapshot_errors_and_publish_repairs(redis_url: str, key: str,
                                                                      value: bytes) -> None:
    store = open_store(StoreParams(url=redis_url, prefix=PREFIX))
    with redis.Redis.from_url(redis_url) as client:
        client.set(key_for(PREFIX, key), value)
    with pytest.raises(SnapshotError):
        store.current_version() if key == "current" else store.versions()
    publish(store, "v1")
    assert store.current_version() == "v1" and store.versions() == ["v1"]
    store.close()


def test_redis_wrong_type_under_a_table_key_is_a_snapshot_error(redis_url: str) -> None:
    store = open_store(StoreParams(url=redis_url, prefix=PREFIX))
    with redis.Redis.from_url(redis_url) as client:
        client.rpush(key_for(PREFIX, "snap", "v1", "customers"), "x")
    with pytest.raises(SnapshotError, match="wrong type"):
        store.read_table("v1", "customers")
    store.close()


def test_garbage_fence_is_a_snapshot_error(backend: Backend, store: Store) -> None:
    if backend.kind == "file":
        backend.root.mkdir(parents=True)
        (backend.root / "fence").write_text("twelve")
    else:
        with backend.redis() as client:
            client.set(key_for(PREFIX, "fence"), "twelve")
    with pytest.raises(SnapshotError, match="fence counter"):
        store.acquire_lock("t")


def test_redis_lock_without_expiry_is_reported_not_fought(redis_url: str) -> None:
    store = open_store(StoreParams(url=redis_url, prefix=PREFIX))
    with redis.Redis.from_url(redis_url) as client:
        client.set(key_for(PREFIX, "lock"), "manual freeze")
    with pytest.raises(LockedError, match="without an expiry"):
        store.acquire_lock("t")
    store.close()


# --- runs and refresh requests --------------------------------------------------------------------


def test_runs_upsert_order_and_limit(store: Store) -> None:
    for run_id in ("r1", "r2", "r3"):
        store.record_run({"run_id": run_id, "status": "running"})
    store.record_run({"run_id": "r1", "status": "success", "rows": {"customers": 10}})
    assert [r["run_id"] for r in store.runs()] == ["r3", "r2", "r1"]
    assert store.runs()[2] == {"run_id": "r1", "status": "success", "rows": {"customers": 10}}
    assert [r["run_id"] for r in store.runs(limit=2)] == ["r3", "r2"]
    assert store.runs(limit=0) == []
    with pytest.raises(ValueError, match="run_id"):
        store.record_run({"status": "running"})


def test_runs_keep_the_newest_200(store: Store) -> None:
    for n in range(205):
        store.record_run({"run_id": f"r{n}", "n": n})
    runs = store.runs(limit=1000)
    assert len(runs) == 200
    assert runs[0]["run_id"] == "r204" and runs[-1]["run_id"] == "r5"


def test_refresh_request_queue(store: Store) -> None:
    assert store.request_refresh({"by": "ann", "at": "2026-11-25T06:00:00Z"}) is True
    assert store.request_refresh({"by": "bob"}) is False
    assert store.pending_refresh_request() == {"by": "ann", "at": "2026-11-25T06:00:00Z"}
    assert store.take_refresh_request() == {"by": "ann", "at": "2026-11-25T06:00:00Z"}
    assert store.take_refresh_request() is None
    assert store.pending_refresh_request() is None
    assert store.request_refresh({"by": "bob"}) is True


def test_malformed_refresh_request_is_discarded_once(backend: Backend, store: Store) -> None:
    if backend.kind == "file":
        backend.root.mkdir(parents=True)
        (backend.root / "refresh-request.json").write_bytes(b"\xffnot json")
    else:
        with backend.redis() as client:
            client.set(key_for(PREFIX, "refresh-request"), b"\xffnot json")
    with pytest.raises(SnapshotError):
        store.pending_refresh_request()
    with pytest.raises(SnapshotError, match="discarded"):
        store.take_refresh_request()
    assert store.take_refresh_request() is None
    assert store.request_refresh({"by": "ann"}) is True


def test_scheduler_heartbeat_round_trip(backend: Backend, store: Store) -> None:
    assert store.heartbeat() is None  # no scheduler ever ran on this store
    store.write_heartbeat({"at": "2026-12-03T14:00:00+00:00", "pid": 42, "running": None})
    store.write_heartbeat({"at": "2026-12-03T14:00:05+00:00", "pid": 42, "running": "ops"})
    assert store.heartbeat() == {"at": "2026-12-03T14:00:05+00:00", "pid": 42, "running": "ops"}
    with pytest.raises(ValueError, match="heartbeat"):
        store.write_heartbeat({"at": object()})
    if backend.kind == "file":
        assert json.loads((backend.root / "scheduler-heartbeat.json").read_text())["pid"] == 42
    else:
        with backend.redis() as client:
            assert json.loads(client.get(key_for(PREFIX, "heartbeat")))["pid"] == 42
            assert client.ttl(key_for(PREFIX, "heartbeat")) == -1
            client.set(key_for(PREFIX, "heartbeat"), b"\xffnot json")
        with pytest.raises(SnapshotError, match="heartbeat"):
            store.heartbeat()


# --- layout ---------------------------------------------------------------------------------------


def test_redis_key_layout(redis_url: str) -> None:
    store = open_store(StoreParams(url=redis_url, prefix=PREFIX))
    publish(store, "v1")
    store.record_run({"run_id": "r1"})
    store.request_refresh({"by": "ann"})
    with redis.Redis.from_url(redis_url) as client:
        keys = {k.decode() for k in client.scan_iter(match="*")}
        assert keys == {f"t:snap:v1:{name}" for name in (*TABLES, "manifest")} | {
            "t:current", "t:versions", "t:fence", "t:runs", "t:runs:order", "t:refresh-request"}
        assert all(client.ttl(k) == -1 for k in keys), "snapshot data must never expire"
        with store.acquire_lock("me") as lock:
            assert client.get("t:lock:refresh") == lock.token.encode()
            assert 0 < client.pttl("t:lock:refresh") <= 120_000
        assert client.exists("t:lock:refresh") == 0
    store.close()


def test_file_layout(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = open_store(StoreParams(url=str(root)))
    publish(store, "v1")
    store.record_run({"run_id": "r1"})
    store.request_refresh({"by": "ann"})
    assert sorted(p.name for p in (root / "snapshots" / "v1").iterdir()) == sorted(
        [f"{name}.parquet" for name in TABLES] + ["manifest.json"])
    assert (root / "current").read_text() == "v1"
    assert {"versions.json", "runs.json", "refresh-request.json", "refresh.lock", "fence"} <= {
        p.name for p in root.iterdir()}
    assert not [p for p in root.rglob("*") if ".tmp-" in p.name]


# --- Redis faults ---------------------------------------------------------------------------------


def test_redis_stopped_fails_fast_and_recovers(redis_server_factory: Callable) -> None:
    server = redis_server_factory()
    store = open_store(StoreParams(url=server.url, prefix=PREFIX))
    publish(store, "v1")
    server.stop()
    for call in (store.ping, store.current_version, lambda: store.acquire_lock("t")):
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError, match=f"Redis at 127.0.0.1:{server.port} unavailable"):
            call()
        assert time.monotonic() - started < 3.0
    server.start()  # empty again: no persistence, and no cached Lua scripts
    store.ping()
    assert store.current_version() is None
    publish(store, "v2")  # pooled connections reconnect; scripts are reloaded after NOSCRIPT
    assert store.current_version() == "v2"
    store.close()


def test_redis_hung_fails_within_the_socket_timeout_and_recovers(redis_server_factory: Callable) -> None:
    server = redis_server_factory()
    store = open_store(StoreParams(url=server.url, prefix=PREFIX, socket_timeout_s=1.0))
    publish(store, "v1")
    server.pause()
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError, match="unavailable"):
            store.current_version()
        assert time.monotonic() - started < 3.0
    finally:
        server.resume()
    assert store.current_version() == "v1"
    store.close()


def test_password_in_url_never_appears_in_messages(redis_server_factory: Callable) -> None:
    secret = "s3cr3t-Pa55w0rd"
    server = redis_server_factory(password=secret)
    store = open_store(StoreParams(url=server.url, prefix=PREFIX))
    publish(store, "v1")
    assert_intact(store, "v1")
    assert secret not in repr(store)
    wrong = open_store(StoreParams(url=server.url.replace(secret, "wr0ng-Secret"), prefix=PREFIX))
    with pytest.raises(StoreUnavailableError) as info:
        wrong.ping()
    assert "wr0ng-Secret" not in str(info.value) and secret not in str(info.value)
    server.stop()
    with pytest.raises(StoreUnavailableError) as info:
        store.current_version()
    assert secret not in str(info.value)
    store.close()
    wrong.close()


def test_redis_over_a_unix_socket(redis_server_factory: Callable, tmp_path: Path) -> None:
    sock = tmp_path / "redis.sock"
    redis_server_factory(extra_args=["--unixsocket", str(sock), "--unixsocketperm", "700"])
    store = open_store(StoreParams(url=f"unix://{sock}?db=0", prefix=PREFIX))
    assert isinstance(store, RedisStore)
    publish(store, "v1")
    assert_intact(store, "v1")
    store.close()
