"""Running parts of the refresh in a second process, beside the stages that score the customers.

At 1 M customers the forecast (analytics.forecast.forecast: the models' fits, predictions and backtest) and the
customers' orders, usual products and order lines take a third of a refresh on one core while the other core idles; they
need only the cleaned lines, so they can run from the end of cleaning to the stages that publish them
(docs/PERFORMANCE.md, 8.4). :func:`choose_aside` picks ``SecondProcess`` or ``analytics.aside.Later`` from
``refresh.parallel``.

The process is spawned (not forked: forking a process that runs Arrow's and BLAS's thread pools is unsafe), with
the job's log format and the fields bound when it starts, and runs its tasks one after the other, in the order they were
submitted. Their arguments and values go by pickle through its private pipes: data this job built, never read from
outside; the arrays' memory is written to the pipe as it is (pickle protocol 5), not copied into one pickle first. A
process that dies (killed for lack of memory, say) fails the refresh with one error; one whose results were not all
read when the refresh ends (it failed) is terminated. It costs memory: up to 1.7 GB beside the job at 1 M customers, so
``auto`` wants ``refresh.parallel_min_available_mb`` available.
"""

from __future__ import annotations

import gc
import itertools
import logging
import multiprocessing
import os
import pickle  # noqa: S403  # the job's own pipes to its child, as multiprocessing's Connection.recv
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from multiprocessing.connection import Connection
from typing import Any

from analytics.aside import Aside, Later, Pending
from analytics.errors import AppError
from analytics.logs import bind, bound, configure_logging, event
from analytics.settings import RefreshParams
from jobs.memory import available_mb, release_memory

__all__ = ["SecondProcess", "choose_aside"]

log = logging.getLogger("jobs.aside")


class SecondProcess:
    """Runs tasks in one spawned process, started at once (it imports while the job goes on); ``close`` ends it."""

    def __init__(self, log_format: str = "logfmt") -> None:
        context = multiprocessing.get_context("spawn")
        task_out, task_in = context.Pipe(duplex=False)
        self._results, result_in = context.Pipe(duplex=False)
        self.process = context.Process(target=_serve, args=(task_out, result_in, log_format, bound()),
                                       name="refresh-aside", daemon=True)
        self.process.start()
        task_out.close()
        result_in.close()  # the child's end: the job sees end-of-file if the child dies
        # the values are read by a thread as soon as they are sent: the process would otherwise wait, unable to
        # start its next task, until the job asks for the value
        self._outcomes: list[tuple[str, Any]] = []  # in submission order
        self._arrived = threading.Condition()
        self._ended = False  # the process closed its end: no more values
        self._receiver = threading.Thread(target=self._receive, name="aside-receive", daemon=True)
        self._receiver.start()
        # the arguments (hundreds of MB at 1 M customers) are written by a thread, so the job goes on at once
        self._outbox: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...]] | None] = queue.SimpleQueue()
        threading.Thread(target=self._send, args=(task_in,), name="aside-send", daemon=True).start()
        self._submitted = 0
        self.closed = False

    def submit(self, task: Callable[..., Any], *args: Any) -> Pending:
        self._outbox.put((task, args))
        self._submitted += 1
        event(log, "task sent to the second process", task=_name(task), pid=self.process.pid)
        return _Result(self, self._submitted - 1)

    def close(self) -> None:
        """End the process: at once if some result was not read (the refresh failed), else once it is idle."""
        if self.closed:
            return
        self._outbox.put(None)
        with self._arrived:
            unfinished = len(self._outcomes) < self._submitted
        if unfinished and self.process.is_alive():
            self.process.terminate()
        self.process.join()
        self._receiver.join()
        self._results.close()
        self.closed = True

    def outcome(self, index: int) -> Any:
        """The value of the ``index``-th task submitted (raises its error), once the receiving thread has it."""
        with self._arrived:
            self._arrived.wait_for(partial(self._idle_after, index + 1))
            arrived = len(self._outcomes) > index
        if not arrived:
            self.process.join()
            raise AppError(f"The refresh's second process ended without a result (exit code "
                           f"{self.process.exitcode}: killed for lack of memory?). Set refresh.parallel: never "
                           f"to run everything in the job's process.")
        status, value = self._outcomes[index]
        if status == "error":
            raise value
        return value

    def _send(self, connection: Connection) -> None:
        """The job's sending thread: each task to the process once it has sent the values of the tasks before, until
        ``None``. A task's arguments are pickled only then: what cannot go as it is (a frame's columns cut from a
        larger block) would otherwise be held pickled while the process works (230 MB at 1 M customers)."""
        try:
            for sent in itertools.count():
                if (message := self._outbox.get()) is None:
                    break
                with self._arrived:
                    self._arrived.wait_for(partial(self._idle_after, sent))
                _write(connection, message)
                del message
        except OSError:  # the process is gone: the next result() says so
            pass
        finally:
            connection.close()

    def _idle_after(self, sent: int) -> bool:
        """Whether the process sent the values of the first ``sent`` tasks (or ended)."""
        return len(self._outcomes) >= sent or self._ended

    def _receive(self) -> None:
        """The job's receiving thread: each value from the process as it is sent, until the process ends."""
        while True:
            try:
                outcome = _receive(self._results)
            except (EOFError, OSError):
                break
            with self._arrived:
                self._outcomes.append(outcome)
                self._arrived.notify_all()
        with self._arrived:
            self._ended = True
            self._arrived.notify_all()


@contextmanager
def choose_aside(params: RefreshParams, input_lines: int, log_format: str = "logfmt") -> Iterator[Aside]:
    """``SecondProcess`` when ``refresh.parallel`` is always, or auto with 2 CPUs or more, at least
    ``parallel_min_lines`` input lines and ``parallel_min_available_mb`` available; else ``Later``. The choice
    is logged; the process is closed on leaving the block."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    available = available_mb()
    wanted = params.parallel == "always" or (
        params.parallel == "auto" and cpus >= 2 and input_lines >= params.parallel_min_lines
        and available is not None and available >= params.parallel_min_available_mb)
    event(log, "second process" if wanted else "no second process", parallel=params.parallel, cpus=cpus,
          input_lines=input_lines, available_mb=None if available is None else round(available))
    if not wanted:
        yield Later()
        return
    try:
        aside = SecondProcess(log_format)
    except OSError as exc:  # no process to be had (memory, process limit): the refresh runs as with ``never``
        event(log, "second process could not start", level=logging.WARNING, error=str(exc)[:200])
        yield Later()
        return
    try:
        yield aside
    finally:
        aside.close()


class _Result:
    def __init__(self, owner: SecondProcess, index: int) -> None:
        self.owner, self.index = owner, index

    def result(self) -> Any:
        return self.owner.outcome(self.index)


def _name(task: Callable[..., Any]) -> str:
    return getattr(task, "__name__", type(task).__name__)




def _write(connection: Connection, message: Any) -> None:
    """Send ``message`` by pickle protocol 5: the pickle without the arrays' memory, then that memory as it is.
    ``pickle.dumps`` alone would first copy every array into one bytes object (hundreds of MB at 1 M customers,
    held until the other process reads them all)."""
    buffers: list[pickle.PickleBuffer] = []
    header = pickle.dumps(message, protocol=5, buffer_callback=buffers.append)
    connection.send((header, [buffer.raw().nbytes for buffer in buffers]))
    for buffer in buffers:
        connection.send_bytes(buffer.raw())


def _receive(connection: Connection) -> Any:
    """A message sent by ``_write``; its arrays are read into memory of their own (writable)."""
    header, sizes = connection.recv()
    buffers = [bytearray(size) for size in sizes]
    for buffer in buffers:
        connection.recv_bytes_into(buffer)
    return pickle.loads(header, buffers=buffers)  # noqa: S301  # written by this job or its child (_write)


def _serve(tasks: Connection, results: Connection, log_format: str, fields: dict[str, Any]) -> None:
    """The second process: run each task it is sent, send back its value or error, until the job closes."""
    configure_logging(log_format)
    with bind(**fields):
        while True:
            try:
                task, args = _receive(tasks)
            except EOFError:
                break
            start = time.perf_counter()
            try:
                outcome: tuple[str, Any] = ("value", task(*args))
            except Exception as exc:  # the job raises it: it decides what a failure means
                outcome = ("error", exc)
            del args
            event(log, "second process task done", task=_name(task), seconds=round(time.perf_counter() - start, 3))
            try:
                _write(results, outcome)
            except Exception as exc:  # a value or an error that cannot be pickled: its description
                _write(results, ("error", RuntimeError(f"{_name(task)}: {type(exc).__name__}: {exc}")))
            del outcome
            # what the task held, back to the system while the process waits for the next one; the forecast leaves
            # reference cycles (pymc's and xarray's objects) that held 600 MB until a full collection happened to run
            gc.collect()
            release_memory()
    results.close()
