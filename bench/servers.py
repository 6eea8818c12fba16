"""Private servers on free loopback ports, for the benchmarks and the tests: the one home of this harness.

    with serve({"STORE_URL": url}, log_dir / "gunicorn.log", workers=2) as server:
        requests.get(server.url + "/")

:func:`serve` runs gunicorn on ``dashboard.wsgi:server`` with the repo's gunicorn.conf.py (what is not
given here comes from it and from the environment), its output going to a log file (never to an
unread pipe), and yields a :class:`Server` once a readiness probe answers 200. :class:`RedisServer`
is one private redis-server process (start, stop, pause, resume: the fault tests use all four) and
:func:`private_redis` a throwaway one; tests/redis_fixture.py wraps them as pytest fixtures.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from bench._common import ROOT

__all__ = ["free_port", "Server", "serve", "RedisServer", "private_redis"]

GUNICORN_CONF = ROOT / "gunicorn.conf.py"
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A running gunicorn: its origin URL, process, log files and when it was spawned (``time.monotonic``)."""

    url: str  # http://127.0.0.1:<port>, no trailing slash
    proc: subprocess.Popen
    spawned: float
    log: Path  # stdout: the access log (and stderr too, unless stderr_log is set)
    stderr_log: Path | None = None
    ready_s: float | None = None  # spawn -> first 200 on the probe path

    def workers(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.proc.pid).children()
        except psutil.NoSuchProcess:
            return []

    def cpu_s(self) -> float:
        """CPU seconds (user + system) used so far by the master and its current workers."""
        total = 0.0
        for process in [psutil.Process(self.proc.pid), *self.workers()]:
            try:
                times = process.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                continue
        return total

    def output(self, chars: int = 4000) -> str:
        """The end of the log files (for error messages)."""
        logs = [path for path in (self.log, self.stderr_log) if path is not None and path.exists()]
        return "\n".join(path.read_text(errors="replace")[-chars:] for path in logs)


@contextmanager
def serve(env: Mapping[str, str], log: Path, *, workers: int | None = None, threads: int | None = None,
          worker_class: str | None = None, worker_timeout_s: int | None = None, stderr_log: Path | None = None,
          probe: str = "/healthz", ready_timeout_s: float = 60.0) -> Iterator[Server]:
    """gunicorn serving ``dashboard.wsgi:server`` on a free loopback port; the :class:`Server` once ready.

    Args:
        env: variables added to this process's environment (``STORE_URL``, ``DASH_URL_BASE_PATHNAME``...).
        log: file for gunicorn's stdout (the access log) and, without ``stderr_log``, its stderr.
        workers, threads, worker_class, worker_timeout_s: override gunicorn.conf.py when given; ``threads``
            only applies to the gthread worker (the default one), and is left out for any other class.
        stderr_log: a separate file for stderr (gunicorn's error log and the app's logs).
        probe: path polled (every 10 ms) until it answers 200. ``/healthz`` answers at the root of the app
            in every prefix mode (dashboard/health.py); ``/`` times the first page instead.
        ready_timeout_s: give up (RuntimeError, with the end of the log) after this long.
    """
    port = free_port()
    args = [sys.executable, "-m", "gunicorn", "dashboard.wsgi:server", "--config", str(GUNICORN_CONF),
            "--bind", f"127.0.0.1:{port}", "--no-control-socket"]
    for flag, value in (("--workers", workers), ("--worker-class", worker_class), ("--timeout", worker_timeout_s)):
        if value is not None:
            args += [flag, str(value)]
    if threads is not None and worker_class in (None, "gthread"):
        args += ["--threads", str(threads)]
    elif worker_class == "sync":
        args += ["--threads", "1"]  # gunicorn.conf.py sets threads; with threads > 1 gunicorn runs gthread
    log.parent.mkdir(parents=True, exist_ok=True)
    with ExitStack() as files:
        out = files.enter_context(log.open("wb"))
        err = files.enter_context(stderr_log.open("wb")) if stderr_log else subprocess.STDOUT
        spawned = time.monotonic()
        proc = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=err)
    server = Server(f"http://127.0.0.1:{port}", proc, spawned, log, stderr_log)
    try:
        server.ready_s = _wait_ready(server, probe, ready_timeout_s) - spawned
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ready(server: Server, probe: str, timeout_s: float) -> float:
    """Poll ``GET probe`` until it answers 200; the monotonic time it did."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(server.url + probe, timeout=2) as response:
                if response.status == 200:
                    return time.monotonic()
        except OSError:  # refused, reset, timed out, or an HTTP error status
            pass
        if server.proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"gunicorn on {server.url} did not answer 200 on {probe} "
                               f"(exit code {server.proc.poll()}):\n{server.output()}")
        time.sleep(0.01)


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

    def client(self, timeout_s: float = 2.0) -> redis.Redis:
        """A plain client for set-up and inspection (short timeouts, no retries)."""
        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password, socket_timeout=timeout_s,
                           socket_connect_timeout=timeout_s, retry=Retry(NoBackoff(), retries=0))

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


@contextmanager
def private_redis(**kwargs: Any) -> Iterator[RedisServer]:
    """A started :class:`RedisServer` in a temporary directory (``kwargs``: password, extra_args); stopped and
    its directory removed on exit."""
    workdir = Path(tempfile.mkdtemp(prefix="private-redis-"))
    server = RedisServer(workdir, **kwargs)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
