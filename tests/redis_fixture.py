"""Pytest fixtures running a private ``redis-server`` on a free loopback port.

The server itself is bench/servers.py's :class:`RedisServer` (the benchmarks use it too). Never touches any
other Redis (in particular not the one on 6379): every server here is started by the fixture, in a temporary
directory, without persistence, and FLUSHALL is only ever sent to it.

Fixtures:
    redis_server: session-wide server with ``stop()``, ``start()``, ``pause()``, ``resume()`` for fault tests.
    redis_url: URL of that server, flushed before each test.
    redis_server_factory: start extra servers (e.g. with ``--requirepass``); all stopped after the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bench.servers import RedisServer, private_redis

__all__ = ["RedisServer", "redis_server", "redis_url", "redis_server_factory"]


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A private redis-server for the whole session; restarted by the tests that stop it."""
    with private_redis() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """URL of the private server, emptied (FLUSHALL on that server only) before the test."""
    if redis_server.proc is not None and redis_server.proc.poll() is None:
        redis_server.resume()  # a fault test may have left it paused...
    redis_server.start()  # ...or stopped
    with redis_server.client() as client:
        client.flushall()
    yield redis_server.url


@pytest.fixture
def redis_server_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., RedisServer]]:
    """Start extra private servers: ``factory(password="...", extra_args=[...])``; all stopped afterwards."""
    servers: list[RedisServer] = []

    def factory(**kwargs: Any) -> RedisServer:
        server = RedisServer(tmp_path_factory.mktemp("redis-extra"), **kwargs)
        servers.append(server)
        server.start()
        return server

    yield factory
    for server in servers:
        server.stop()
