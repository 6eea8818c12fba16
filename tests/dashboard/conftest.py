"""Dashboard fixtures: the app on a snapshot of the bundled data, and live gunicorn servers."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from analytics.settings import load_settings
from bench.servers import serve


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


@contextmanager
def gunicorn(env: dict[str, str], workers: int = 2) -> Iterator[str]:
    """Serve ``dashboard.wsgi:server`` with gunicorn on a free port (bench/servers.py); yields the base URL,
    with DASH_REQUESTS_PATHNAME_PREFIX (no trailing slash) when set. The log goes to a temporary file."""
    prefix = env.get("DASH_REQUESTS_PATHNAME_PREFIX", "/")
    with tempfile.TemporaryDirectory(prefix="gunicorn-") as logs, \
            serve(env, Path(logs) / "gunicorn.log", workers=workers, worker_timeout_s=60, ready_timeout_s=30) as server:
        yield server.url + prefix.rstrip("/")


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
