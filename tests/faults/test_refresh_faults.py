"""Refresh faults with real processes and a real redis-server: SIGKILL at any stage, concurrent runs,
a stale lock holder, foreign values under our keys."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from analytics.settings import PROJECT_ROOT, StoreParams
from analytics.snapshot import parse_manifest, verify_table
from jobs.store import open_store

LOCK_TTL_S = 2.0


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> Path:
    """A config with a short lock expiry, so a killed holder's lock frees quickly."""
    path = tmp_path_factory.mktemp("config") / "settings.yaml"
    path.write_text(f"store: {{lock_ttl_s: {LOCK_TTL_S}}}\n", encoding="utf-8")
    return path


def start_refresh(store_url: str, config: Path, input_path: Path | None = None) -> subprocess.Popen:
    args = [sys.executable, "-m", "jobs.refresh", "--store", store_url, "--config", str(config)]
    args += ["--input", str(input_path)] if input_path else []
    return subprocess.Popen(args, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "LOG_FORMAT": "logfmt"})


def refresh(store_url: str, config: Path, input_path: Path | None = None) -> subprocess.CompletedProcess:
    proc = start_refresh(store_url, config, input_path)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def wait_for_line(proc: subprocess.Popen, needle: str, timeout: float = 60) -> None:
    """Read the child's log until a line contains ``needle``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if needle in line:
            return
        if not line and proc.poll() is not None:
            raise AssertionError(f"process ended before logging {needle!r}")
    raise AssertionError(f"no log line with {needle!r} within {timeout} s")


def assert_intact(store, version: str) -> None:
    """``version`` is current, listed, and every table verifies against its manifest digest."""
    assert store.current_version() == version
    manifest = parse_manifest(store.read_manifest(version))
    for name in manifest["tables"]:
        verify_table(manifest, name, store.read_table(version, name))
    for listed in store.versions():  # no partial version is ever listed
        parse_manifest(store.read_manifest(listed))


def wait_lock_free(url: str) -> None:
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + LOCK_TTL_S + 5
    while client.exists("seg:lock:refresh") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not client.exists("seg:lock:refresh"), "the killed run's lock never expired"


@pytest.mark.parametrize("kill_after", ["refresh started", "stage=load", "stage=clean", "stage=mining",
                                        "stage=kpis"])
def test_sigkill_at_any_stage_keeps_the_previous_snapshot(redis_url, config, small_input, kill_after):
    first = refresh(redis_url, config, small_input)
    assert first.returncode == 0, first.stderr
    store = open_store(StoreParams(url=redis_url))
    version = store.current_version()

    victim = start_refresh(redis_url, config)  # the bundled data: several seconds of work
    wait_for_line(victim, kill_after)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    assert_intact(store, version)
    assert store.runs()[0]["status"] == "running"  # the killed run could not say anything

    wait_lock_free(redis_url)  # the lock expires by itself
    after = refresh(redis_url, config, small_input)
    assert after.returncode == 0, after.stderr
    runs = store.runs()
    assert runs[0]["status"] == "success"
    killed = next(run for run in runs if run["status"] != "success")
    assert killed["status"] == "failed" and killed["error"].startswith("interrupted")
    assert_intact(store, store.current_version())


def test_concurrent_refreshes_exactly_one_publishes(redis_url, config, small_input):
    procs = [start_refresh(redis_url, config) for _ in range(3)]
    results = [(proc.wait(timeout=120), proc.stderr.read()) for proc in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 75, 75], results
    assert all("skipped:" in err and "lock" in err for code, err in results if code == 75)
    store = open_store(StoreParams(url=redis_url))
    assert len(store.versions()) == 1
    assert sorted(run["status"] for run in store.runs()) == ["skipped", "skipped", "success"]


def test_stale_lock_holder_cannot_switch_current(redis_url, config, small_input):
    stale = start_refresh(redis_url, config)  # the bundled data
    wait_for_line(stale, "stage=segments")
    stale.send_signal(signal.SIGSTOP)  # paused past its lock expiry...
    try:
        time.sleep(LOCK_TTL_S + 1)
        other = refresh(redis_url, config, small_input)  # ...while another run takes the lock and publishes
        assert other.returncode == 0, other.stderr
        store = open_store(StoreParams(url=redis_url))
        published = store.current_version()
    finally:
        stale.send_signal(signal.SIGCONT)
    _, err = stale.communicate(timeout=120)
    assert stale.returncode == 6, err  # StaleLockError: its switch was refused
    assert "lock" in err.lower()
    assert_intact(store, published)


@pytest.mark.parametrize("garbage", ["string", "hash", "missing-version"])
def test_foreign_values_under_our_keys(redis_url, config, small_input, garbage):
    client = redis.Redis.from_url(redis_url)
    if garbage == "string":
        client.set("seg:current", b"\xff\xfe not a version")
    elif garbage == "hash":
        client.hset("seg:current", "x", "y")
    else:
        client.set("seg:current", "20990101T000000Z-abcdef")
    store = open_store(StoreParams(url=redis_url))
    with pytest.raises(Exception) as caught:
        version = store.current_version()
        store.read_manifest(version)
    assert type(caught.value).__name__ == "SnapshotError"
    result = refresh(redis_url, config, small_input)  # a refresh repairs the pointer: no crash loop
    assert result.returncode == 0, result.stderr
    assert_intact(store, store.current_version())
