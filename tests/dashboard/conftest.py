"""Dashboard fixtures: the app on a snapshot of the bundled data, and live gunicorn servers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from analytics.settings import PROJECT_ROOT, load_settings


@pytest.fixture(scope="session")
def dash_app(published_store):
    """The Dash app (one per test session: Dash pages register globally) reading the published store."""
    from dashboard.app import create_app

    return create_app(load_settings({"STORE_URL": published_store}))


@pytest.fixture
def in_request(dash_app) -> Iterator[None]:
    """A Flask request context, so page layouts and callbacks can be called directly."""
    with dash_app.server.test_request_context("/"):
        yield


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(env: dict[str, str], workers: int = 2) -> Iterator[str]:
    """Serve ``dashboard.wsgi:server`` with gunicorn on a free port; yields the base URL."""
    port = free_port()
    prefix = env.get("DASH_REQUESTS_PATHNAME_PREFIX", "/")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "dashboard.wsgi:server", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--no-control-socket", "--timeout", "60"],
        cwd=PROJECT_ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    url = base + prefix.rstrip("/")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                    raise RuntimeError(f"gunicorn did not start:\n{output}") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def live_server(published_store) -> Iterator[str]:
    """gunicorn (2 workers) serving the bundled snapshot; the base URL."""
    with gunicorn({"STORE_URL": published_store}) as url:
        yield url


@pytest.fixture(scope="session")
def empty_server(tmp_path_factory) -> Iterator[str]:
    """gunicorn serving an empty store (nothing published yet)."""
    with gunicorn({"STORE_URL": "file://" + str(tmp_path_factory.mktemp("empty-store"))}, workers=1) as url:
        yield url
