"""The refresh's second process: a task's value or error comes back, a dead or abandoned process is handled, and
the choice between it and running later in this process follows refresh.parallel."""

from __future__ import annotations

import gc
import os
import time
import weakref
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from analytics.aside import Later
from analytics.errors import AppError, ConfigError
from analytics.logs import bind
from analytics.settings import RefreshParams
from jobs import aside as aside_module
from jobs.aside import SecondProcess, choose_aside
from jobs.memory import available_mb


def _pid_and_total(frame: pd.DataFrame) -> tuple[int, float]:
    return os.getpid(), float(frame["revenue"].sum())


def _refuse(message: str) -> None:
    raise ConfigError(message)


def _die() -> None:
    os._exit(3)


def _refuse_to_start(*args: object, **kwargs: object) -> None:
    raise OSError(11, "Resource temporarily unavailable")


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


class _Pickled:
    """Records when the job pickles it."""

    at: list[float] = []

    def __reduce__(self) -> tuple:
        _Pickled.at.append(time.monotonic())
        return (_Pickled, ())


def _ignore(_: object) -> None:
    return None


def _large_value(size: int) -> bytes:
    return b"x" * size


def _touch(path: str) -> str:
    Path(path).touch()
    return path


class _Cycle:
    """An object in a reference cycle: only the garbage collector frees it."""

    left: list[weakref.ref] = []  # in the second process: the cycles its tasks left

    def __init__(self) -> None:
        self.itself = self


def _leave_a_cycle() -> None:
    cycle = _Cycle()
    _Cycle.left.append(weakref.ref(cycle))
    gc.collect()  # while still held: moved to the oldest generation, which a full collection alone frees


def _cycles_alive() -> int:
    return sum(ref() is not None for ref in _Cycle.left)


def _log_something() -> str:
    import logging

    from analytics.logs import event
    event(logging.getLogger("tests.aside"), "from the second process", answer=42)
    return "logged"


@pytest.mark.server  # a spawned process
def test_a_task_runs_in_another_process_and_returns_its_value():
    aside = SecondProcess()
    frame = pd.DataFrame({"revenue": [1.5, 2.25, -0.75]})
    pending = aside.submit(_pid_and_total, frame)
    pid, total = pending.result()
    assert pid != os.getpid() and total == 3.0
    assert pending.result() == (pid, total)  # read once, kept
    aside.close()


@pytest.mark.server  # a spawned process
def test_what_a_task_left_is_not_held_through_the_next_task():
    aside = SecondProcess()
    aside.submit(_leave_a_cycle).result()
    assert aside.submit(_cycles_alive).result() == 0  # the forecast's cycles held 600 MB through the order tables
    aside.close()


@pytest.mark.server  # a spawned process
def test_the_tasks_error_is_raised_in_the_job_with_its_type_and_message():
    aside = SecondProcess()
    pending = aside.submit(_refuse, "refresh.parallel is wrong")
    with pytest.raises(ConfigError, match="refresh.parallel is wrong"):
        pending.result()
    aside.close()


@pytest.mark.server  # a spawned process
def test_a_process_that_dies_fails_the_refresh_with_one_clear_error():
    aside = SecondProcess()
    pending = aside.submit(_die)
    with pytest.raises(AppError, match=r"second process ended without a result \(exit code 3"):
        pending.result()
    aside.close()


@pytest.mark.server  # a spawned process
def test_a_next_process_that_cannot_start_fails_its_task_with_one_clear_error(monkeypatch):
    aside = SecondProcess()
    assert aside.submit(_pid_and_total, pd.DataFrame({"revenue": [1.0]})).result()[1] == 1.0
    monkeypatch.setattr(aside._context, "Process", _refuse_to_start)
    with pytest.raises(AppError, match=r"could not start \(\[Errno 11\] Resource temporarily unavailable\)"):
        aside.submit(_pid_and_total, pd.DataFrame({"revenue": [2.0]})).result()
    aside.close()


@pytest.mark.server  # a spawned process
def test_closing_terminates_a_process_whose_result_was_not_read():
    aside = SecondProcess()
    aside.submit(_sleep, 60)
    aside.submit(_pid_and_total, pd.DataFrame({"revenue": [1.0]}))  # never started
    process = aside.process
    start = time.perf_counter()
    aside.close()
    assert not process.is_alive() and time.perf_counter() - start < 10
    assert aside.closed and aside.processes == [process]
    aside.close()  # once is enough


@pytest.mark.server  # a spawned process
def test_tasks_run_one_after_the_other_each_in_a_new_process_and_are_read_in_any_order():
    aside = SecondProcess()
    first = aside.submit(_pid_and_total, pd.DataFrame({"revenue": [1.0, 2.0]}))
    second = aside.submit(_pid_and_total, pd.DataFrame({"revenue": [10.0]}))
    failing = aside.submit(_refuse, "third")
    assert second.result()[1] == 10.0 and first.result()[1] == 3.0
    with pytest.raises(ConfigError, match="third"):
        failing.result()
    assert [process.pid for process in aside.processes][:2] == [first.result()[0], second.result()[0]]
    assert len({process.pid for process in aside.processes} | {os.getpid()}) == 4
    assert aside.processes[0].exitcode == 0  # it had ended (its memory back) before the second one started
    aside.close()
    assert [process.exitcode for process in aside.processes] == [0, 0, 0]


@pytest.mark.server  # a spawned process
def test_the_next_task_starts_before_the_job_reads_the_previous_value(tmp_path):
    # a value larger than a pipe's buffer: the process could not start the next task until the job read it
    aside = SecondProcess()
    large = aside.submit(_large_value, 8 * 2**20)
    marker = tmp_path / "second-task-ran"
    touched = aside.submit(_touch, str(marker))
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists()
    assert len(large.result()) == 8 * 2**20 and touched.result() == str(marker)
    aside.close()


@pytest.mark.server  # a spawned process
def test_a_frames_arrays_go_through_the_pipe_as_they_are_not_inside_the_pickle():
    import multiprocessing

    import numpy as np

    lines = pd.DataFrame({"quantity": np.arange(200_000, dtype=np.int64), "price": np.linspace(0, 1, 200_000),
                          "customer": pd.Categorical(np.arange(200_000) % 7).rename_categories(list("abcdefg")),
                          "text": pd.array([f"id{i}" for i in range(200_000)], dtype="str")})
    receiving, sending = multiprocessing.Pipe(duplex=False)
    sent: list[bytes] = []
    headers: list[bytes] = []
    send, send_bytes = sending.send, sending.send_bytes
    sending.send = lambda message: (headers.append(message[0]), send(message))  # type: ignore[method-assign]
    sending.send_bytes = lambda data: (sent.append(bytes(data)), send_bytes(data))  # type: ignore[method-assign]
    writer = aside_module.threading.Thread(target=aside_module._write, args=(sending, (len, (lines,))))
    writer.start()
    task, (received,) = aside_module._receive(receiving)
    writer.join()
    pd.testing.assert_frame_equal(received, lines)
    assert task is len
    received.loc[0, "quantity"] = -1  # its own memory: writable
    assert lines.loc[0, "quantity"] == 0
    # the 3.2 MB of numbers and the Arrow text went as buffers of their own; the pickle holds only their layout
    assert sum(map(len, sent)) > 3_200_000 and max(map(len, sent)) >= 1_600_000
    assert len(headers) == 1 and len(headers[0]) < 10_000


def test_a_tasks_arguments_are_pickled_once_the_process_sent_the_values_of_the_tasks_before():
    _Pickled.at.clear()
    aside = SecondProcess()
    try:
        start = time.monotonic()
        first = aside.submit(_sleep, 1.0)
        second = aside.submit(_ignore, _Pickled())
        assert second.result() is None and first.result() is None
    finally:
        aside.close()
    # pickled (and held pickled) only once the process was done sleeping, not while it slept
    assert len(_Pickled.at) == 1 and _Pickled.at[0] - start >= 0.9


def test_the_second_process_logs_with_the_jobs_format_and_bound_fields(capfd):
    with bind(run_id="abc123"):  # the fields bound when the process starts
        aside = SecondProcess(log_format="json")
    assert aside.submit(_log_something).result() == "logged"
    aside.close()
    lines = [line for line in capfd.readouterr().err.splitlines() if "from the second process" in line]
    assert len(lines) == 1 and '"run_id": "abc123"' in lines[0] and '"answer": 42' in lines[0]


@pytest.mark.server  # a spawned process when chosen
@pytest.mark.parametrize(("parallel", "lines", "cpus", "available", "second"), [
    ("never", 50_000_000, 8, 64_000, False),
    ("always", 10, 1, 100, True),
    ("auto", 999_999, 8, 64_000, False),
    ("auto", 1_000_000, 2, 8_000, True),
    ("auto", 1_000_000, 1, 64_000, False),
    ("auto", 1_000_000, 2, 7_999, False),  # a small machine or container: memory before speed
    ("auto", 1_000_000, 2, None, False),  # memory unknown
])
def test_refresh_parallel_chooses_the_second_process(monkeypatch, caplog, parallel, lines, cpus, available, second):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cpus)), raising=False)
    monkeypatch.setattr(aside_module, "available_mb", lambda: available)
    with caplog.at_level("INFO", logger="jobs.aside"), choose_aside(replace(RefreshParams(), parallel=parallel),
                                                                    lines) as aside:
        assert isinstance(aside, SecondProcess if second else Later)
    choice = next(record for record in caplog.records if record.name == "jobs.aside")
    assert choice.getMessage() == ("second process" if second else "no second process")
    assert choice.fields == {"parallel": parallel, "cpus": cpus, "input_lines": lines, "available_mb": available}


def test_a_second_process_that_cannot_start_leaves_the_work_in_the_job(monkeypatch, caplog):
    def refuse(log_format):
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(aside_module, "SecondProcess", refuse)
    with caplog.at_level("INFO", logger="jobs.aside"), choose_aside(replace(RefreshParams(), parallel="always"),
                                                                    10) as aside:
        assert isinstance(aside, Later)
    warning = next(record for record in caplog.records if record.levelname == "WARNING")
    assert warning.getMessage() == "second process could not start"
    assert warning.fields == {"error": "[Errno 11] Resource temporarily unavailable"}


def test_available_memory_is_the_machines_or_the_containers_if_lower(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24683776 kB\nMemAvailable:   16777216 kB\n")
    cgroup = tmp_path / "cgroup"
    cgroup.mkdir()
    assert available_mb(meminfo, cgroup) == 16_384  # no cgroup files: the machine's
    (cgroup / "memory.max").write_text("max\n")
    assert available_mb(meminfo, cgroup) == 16_384  # no limit
    (cgroup / "memory.max").write_text(f"{6 * 2 ** 30}\n")
    (cgroup / "memory.current").write_text(f"{2 * 2 ** 30}\n")
    assert available_mb(meminfo, cgroup) == 4_096  # a 6 GiB container using 2 GiB
    assert available_mb(tmp_path / "none", tmp_path / "none") is None


def test_an_unknown_parallel_setting_is_refused():
    with pytest.raises(ConfigError, match="refresh.parallel 'yes' is not one of"):
        RefreshParams(parallel="yes")
