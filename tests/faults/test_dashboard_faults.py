"""The dashboard under store faults, with real processes: gunicorn, a real redis-server, HTTP requests
replaying what the browser sends (bench.web_client). Redis stopped, hung (SIGSTOP) and flushed."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from analytics.settings import PROJECT_ROOT
from bench.web_client import CheckError, DashClient, PageLoad
from tests.dashboard.conftest import gunicorn

WARM = ("/", "/actions?view=at-risk", "/client/12347")


@pytest.fixture
def durable_redis(redis_server_factory):
    """A private redis-server with an append-only file, so a restart brings the data back."""
    return redis_server_factory(extra_args=["--appendonly", "yes", "--appendfsync", "always"])


def refresh(url: str, input_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "jobs.refresh", "--store", url, "--input", str(input_path)],
                   cwd=PROJECT_ROOT, check=True, capture_output=True)


@pytest.fixture
def served(durable_redis, small_input) -> Iterator[tuple[str, object]]:
    refresh(durable_redis.url, small_input)
    with gunicorn({"STORE_URL": durable_redis.url}, workers=1) as url:
        yield url, durable_redis


def load(client: DashClient, path: str) -> tuple[PageLoad, CheckError | None]:
    """Load a page; a banner or an empty state is returned as the error, not raised."""
    try:
        return client.load_page(path), None
    except CheckError as exc:
        return client.current, exc


def banner(page: PageLoad) -> str:
    return str(page.props.get("source-banner", {}).get("children", ""))


def readyz(url: str) -> int:
    try:
        return urllib.request.urlopen(url + "/readyz", timeout=10).status
    except urllib.error.HTTPError as exc:
        return exc.code


def warm_up(url: str) -> tuple[DashClient, str]:
    client = DashClient(url)
    versions = {client.load_page(path).version for path in WARM}
    assert len(versions) == 1
    return client, versions.pop()


def wait_until(condition, timeout: float = 15.0, step: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("condition not met in time")


def test_redis_stopped_pages_keep_answering_then_recover(served):
    url, server = served
    client, version = warm_up(url)
    server.stop()
    time.sleep(2.5)  # past dashboard.version_poll_s: the next request asks the store again
    for path in WARM:
        page, error = load(client, path)
        assert page.version == version  # the last good copy this worker holds
        assert "Data source unavailable since" in banner(page), error
        assert all(r.status in (200, 204) for r in page.requests)
        assert max(r.seconds for r in page.requests) < 2.0
    assert readyz(url) == 503

    server.start()  # the append-only file brings the snapshot back; no restart of the web app
    wait_until(lambda: load(client, "/")[1] is None)
    page, _ = load(client, "/")
    assert page.version == version and not banner(page)
    assert readyz(url) == 200


def test_redis_hung_requests_answer_within_about_two_seconds(served):
    url, server = served
    client, version = warm_up(url)
    server.pause()
    slowest = 0.0
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            page, _ = load(client, "/")
            assert page.version == version
            slowest = max(slowest, *(r.seconds for r in page.requests))
        assert "Data source unavailable since" in banner(page)
    finally:
        server.resume()
    assert slowest < 3.0  # 1 s socket timeout, one retry; redis-py's default would be 5 s x 10 retries
    wait_until(lambda: load(client, "/")[1] is None)


def test_flushed_redis_shows_no_snapshot_yet_then_the_next_refresh_repopulates(served, small_input):
    url, server = served
    client, _ = warm_up(url)
    redis.Redis.from_url(server.url).flushall()
    page = wait_until(lambda: (lambda p: p if "empty-state" in p.props else None)(load(client, "/")[0]))
    assert all(r.status in (200, 204) for r in page.requests)  # a friendly state, never a 500
    assert readyz(url) == 503
    refresh(server.url, small_input)
    page = wait_until(lambda: (lambda p: p if p.version else None)(load(client, "/")[0]))
    assert "at-risk-alert" in page.props
    assert json.loads(urllib.request.urlopen(url + "/readyz", timeout=10).read())["status"] == "ready"
