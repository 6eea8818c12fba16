"""Pytest fixtures running a private ``redis-server`` on a free loopback port.

Never touches any other Redis (in particular not the one on 6379): every server here is started by the
fixture, in a temporary directory, without persistence, and FLUSHALL is only ever sent to it.

Fixtures:
    redis_server: session-wide server with ``stop()``, ``start()``, ``pause()``, ``resume()`` for fault tests.
    redis_url: URL of that server, flushed before each test.
    redis_server_factory: start extra servers (e.g. with ``--requirepass``); all stopped after the test.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
import redis

__all__ = ["RedisServer", "redis_server", "redis_url", "redis_server_factory"]

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """One private redis-server process (no persistence, loopback only)."""

    def __init__(self, workdir: Path, port: int | None = None, extra_args: Sequence[str] = (),
                 password: str | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.password = password
        self.extra_args = list(extra_args) + (["--requirepass", password] if password else [])
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        """A plain client for test set-up and inspection (short timeouts, no retries)."""
        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password, socket_timeout=2,
                           socket_connect_timeout=2, retry=None)

    def start(self, timeout_s: float = 10.0) -> None:
        """Start (or restart on the same port) and wait until it answers PING."""
        if self.proc is not None and self.proc.poll() is None:
            return
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--dir", str(self.workdir), *self.extra_args]
        self.proc = subprocess.Popen(args, cwd=self.workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with self.client() as client:
                    client.ping()
                return
            except redis.exceptions.ConnectionError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server on port {self.port} did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        """Terminate the server (resuming it first if paused) and wait for it to exit."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGCONT)
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def pause(self) -> None:
        """SIGSTOP: the server keeps its socket but stops answering (a hung Redis)."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after :meth:`pause`."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A private redis-server for the whole session; restarted by the tests that stop it."""
    workdir = Path(tempfile.mkdtemp(prefix="redis-test-"))
    server = RedisServer(workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


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

    def factory(**kwargs: object) -> RedisServer:
        server = RedisServer(tmp_path_factory.mktemp("redis-extra"), **kwargs)  # type: ignore[arg-type]
        servers.append(server)
        server.start()
        return server

    yield factory
    for server in servers:
        server.stop()
