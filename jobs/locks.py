"""The refresh lock handle shared by both stores: token, fence, release and heartbeat.

A store's ``acquire_lock`` builds a :class:`RefreshLock` around two store-specific callables:
``release`` (compare-and-delete) and, for stores whose locks expire, ``extend`` (compare-and-extend),
which a daemon thread calls every ``ttl / 3`` while the lock is held.

The lock alone is not what keeps publication safe: a paused holder can outlive its TTL. Safety comes
from the fenced switch, which refuses to publish unless the lock still holds this handle's token.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from analytics.errors import AppError, StoreUnavailableError

__all__ = ["RefreshLock", "make_token", "parse_token", "hold_flock"]

log = logging.getLogger(__name__)


def make_token(fence: int, owner: str) -> str:
    """Lock token ``<fence>:<uuid>:<owner>``: unique per acquisition, readable by operators."""
    return f"{fence}:{uuid.uuid4().hex}:{owner}"


def parse_token(token: str) -> tuple[int | None, str]:
    """Split a token into (fence, owner); (None, token) when it is not one of ours."""
    fence, _, rest = token.partition(":")
    _, _, owner = rest.partition(":")
    return (int(fence), owner) if fence.isdigit() and owner else (None, token)


class RefreshLock:
    """A held refresh lock. Use as a context manager, or call :meth:`release`.

    Attributes:
        token: unique value stored in the lock while this handle holds it.
        fence: number strictly increasing across acquisitions in one store.
        owner: who acquired it (free text given by the caller).
        lost: set by the heartbeat when it finds the lock expired or taken by another run.
    """

    def __init__(
        self,
        token: str,
        fence: int,
        owner: str,
        release: Callable[[], object],
        extend: Callable[[], bool] | None = None,
        heartbeat_s: float | None = None,
    ) -> None:
        self.token = token
        self.fence = fence
        self.owner = owner
        self.lost = False
        self._release = release
        self._extend = extend
        self._released = False
        self._mutex = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if extend is not None and heartbeat_s:
            self._thread = threading.Thread(
                target=self._beat, args=(heartbeat_s,), name=f"refresh-lock-heartbeat-{fence}", daemon=True
            )
            self._thread.start()

    @property
    def released(self) -> bool:
        """True once :meth:`release` was called."""
        return self._released

    def release(self) -> None:
        """Stop the heartbeat and delete the lock if it still holds our token. Idempotent.

        A store that cannot be reached is logged, not raised: the lock then simply expires.
        """
        with self._mutex:
            if self._released:
                return
            self._released = True
        self.stop_heartbeat()
        try:
            self._release()
        except AppError as exc:
            log.warning("Could not release refresh lock (fence %s), it will expire: %s", self.fence, exc)

    def stop_heartbeat(self) -> None:
        """Stop extending the lock (the lock then expires after its TTL). Also a test hook."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)

    def _beat(self, interval_s: float) -> None:
        assert self._extend is not None
        while not self._stop.wait(interval_s):
            try:
                still_ours = self._extend()
            except Exception as exc:  # keep beating: the store may come back before the TTL runs out
                log.warning("Refresh lock heartbeat failed (fence %s): %s", self.fence, exc)
                continue
            if not still_ours and not self._stop.is_set():
                self.lost = True
                log.warning("Refresh lock (fence %s) was lost: expired or taken by another run.", self.fence)
                return

    def __enter__(self) -> RefreshLock:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"RefreshLock(fence={self.fence}, owner={self.owner!r}, released={self._released})"


@contextmanager
def hold_flock(path: Path, timeout_s: float = 5.0) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if needed) for a short critical section.

    Raises:
        StoreUnavailableError: the file cannot be opened, or stays locked longer than ``timeout_s``.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise StoreUnavailableError(f"Cannot open lock file {path}: {exc.strerror or exc}.") from exc
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreUnavailableError(
                        f"Lock file {path} stayed locked by another process for more than {timeout_s:g} s."
                    ) from None
                time.sleep(0.01)
        yield
    finally:
        os.close(fd)  # closing the descriptor drops the flock
