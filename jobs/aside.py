"""Running parts of the refresh in a second process, beside the stages that score the customers.

At 1 M customers the forecast (analytics.forecast.forecast: the models' fits, predictions and backtest) and the
customers' orders, usual products and order lines take a third of a refresh on one core while the other core idles; they
need only the cleaned lines, so they can run from the end of cleaning to the stages that publish them
(docs/PERFORMANCE.md, 8.4). :func:`choose_aside` picks ``SecondProcess`` or ``analytics.aside.Later`` from
``refresh.parallel``.

The tasks run one after the other, in the order they were submitted, each in a process of its own, spawned (not
forked: forking a process that runs Arrow's and BLAS's thread pools is unsafe) with the job's log format and the fields
bound when the first starts. Their arguments and values go by pickle through private pipes: data this job built, never
read from outside; the arrays' memory is written to the pipe as it is (pickle protocol 5), not copied into one pickle
first. A process that dies (killed for lack of memory, say) fails the refresh with one error; one whose result was not
read when the refresh ends (it failed) is terminated. It costs memory: up to 1.3 GB beside the job at 1 M customers,
so ``auto`` wants ``refresh.parallel_min_available_mb`` available.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle  # noqa: S403  # the job's own pipes to its child, as multiprocessing's Connection.recv
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from analytics.aside import Aside, Later, Pending
from analytics.errors import AppError
from analytics.logs import bind, bound, configure_logging, event
from analytics.settings import RefreshParams
from jobs.memory import available_mb

__all__ = ["SecondProcess", "choose_aside"]

log = logging.getLogger("jobs.aside")


class SecondProcess:
    """Runs tasks one after the other, each in a spawned process of its own (the first is started at once: it imports
    while the job goes on); ``close`` ends them.

    A process ends once it has sent its task's value, so what a task's libraries keep (the forecast's pymc and
    pytensor: 490 MB) is not held through the next task (docs/PERFORMANCE.md, 8.8). The next process is started then:
    it imports for about a second.
    """

    def __init__(self, log_format: str = "logfmt") -> None:
        self._context = multiprocessing.get_context("spawn")
        self._log_format, self._fields = log_format, bound()
        self.processes: list[BaseProcess] = []
        self._outcomes: list[tuple[str, Any]] = []  # in submission order
        self._arrived = threading.Condition()
        self._closing = False
        self._first: _Worker | None = self._start()
        # a thread sends each task, then reads its value as soon as it is sent: the next process need not wait until
        # the job asks for the value, and the arguments (hundreds of MB at 1 M customers) are written while the job
        # goes on
        self._outbox: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="aside", daemon=True)
        self._thread.start()
        self._submitted = 0
        self.closed = False

    @property
    def process(self) -> BaseProcess:
        """The process started last."""
        return self.processes[-1]

    def submit(self, task: Callable[..., Any], *args: Any) -> Pending:
        self._outbox.put((task, args))
        self._submitted += 1
        event(log, "task sent to the second process", task=_name(task))
        return _Result(self, self._submitted - 1)

    def close(self) -> None:
        """End the processes: at once if some result was not read (the refresh failed), else once they are idle."""
        if self.closed:
            return
        self._outbox.put(None)
        with self._arrived:
            if len(self._outcomes) < self._submitted:
                self._closing = True
                for process in self.processes:
                    if process.is_alive():
                        process.terminate()
        self._thread.join()
        for process in self.processes:
            process.join()
        self.closed = True

    def outcome(self, index: int) -> Any:
        """The value of the ``index``-th task submitted (raises its error), once the thread has it."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self._outcomes) > index)
            status, value = self._outcomes[index]
        if status == "error":
            raise value
        return value

    def _start(self) -> _Worker:
        """A new process running ``_serve``, and the job's ends of its pipes."""
        task_out, task_in = self._context.Pipe(duplex=False)
        results, result_in = self._context.Pipe(duplex=False)
        process = self._context.Process(target=_serve, args=(task_out, result_in, self._log_format, self._fields),
                                        name="refresh-aside", daemon=True)
        process.start()
        task_out.close()
        result_in.close()  # the child's end: the job sees end-of-file if the child dies
        with self._arrived:
            self.processes.append(process)
            if self._closing:  # close() came while it started: it would run its task to the end
                process.terminate()
        return _Worker(process, task_in, results)

    def _run(self) -> None:
        """The job's thread: each task, in a new process once the task before sent its value, until ``None``. A
        task's arguments are pickled only then: what cannot go as it is (a frame's columns cut from a larger block)
        would otherwise be held pickled while the process before works (230 MB at 1 M customers)."""
        worker, self._first = self._first, None
        while (message := self._outbox.get()) is not None and not self._closing:
            try:
                worker = worker or self._start()
                outcome = worker.run(message)
            except OSError as exc:  # no process to be had (memory, process limit)
                outcome = ("error", AppError(f"The refresh's second process could not start ({exc}). Set "
                                             "refresh.parallel: never to run everything in the job's process."))
            del message
            with self._arrived:
                self._outcomes.append(outcome)
                self._arrived.notify_all()
            if worker is not None:  # its memory back before the next process takes the next task's arguments
                worker.process.join()
            worker = None
        if worker is not None:  # started, never given a task: it ends at the end of its pipe
            worker.tasks.close()
            worker.results.close()


class _Worker:
    """A spawned process and the job's ends of its pipes."""

    def __init__(self, process: BaseProcess, tasks: Connection, results: Connection) -> None:
        self.process, self.tasks, self.results = process, tasks, results

    def run(self, message: tuple[Callable[..., Any], tuple[Any, ...]]) -> tuple[str, Any]:
        """Send the one task, read its value or error; the process then ends."""
        try:
            _write(self.tasks, message)
        except OSError:  # the process is gone: reading says so
            pass
        finally:
            self.tasks.close()
        try:
            outcome = _receive(self.results)
        except (EOFError, OSError):
            self.process.join()
            outcome = ("error", AppError(
                f"The refresh's second process ended without a result (exit code {self.process.exitcode}: killed "
                f"for lack of memory?). Set refresh.parallel: never to run everything in the job's process."))
        self.results.close()
        return outcome


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
    """A second process: run the one task it is sent, send back its value or error, and end (nothing sent: end)."""
    configure_logging(log_format)
    with bind(**fields):
        try:
            task, args = _receive(tasks)
        except EOFError:
            return
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
    results.close()
