"""The scheduler: cron parsing, the job core, and real scheduler processes against a private redis-server."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from analytics.errors import ConfigError, InputDataError, LockedError
from analytics.settings import PROJECT_ROOT, StoreParams, load_settings
from jobs.refresh import run
from jobs.scheduler import Scheduler, next_runs, parse_schedules
from jobs.store import open_store

WEDNESDAY_NOON = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


def _settings(store_url: str, input_path: Path | str):
    settings = load_settings({})
    return replace(settings, store=replace(settings.store, url=store_url),
                   input=replace(settings.input, path=str(input_path)))


def _wait_for(condition: Callable[[], object], timeout: float = 20.0, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


class _Process:
    """``python -m jobs.scheduler`` with JSON logs captured to a file."""

    def __init__(self, tmp_path: Path, name: str, env: dict[str, str], *args: str) -> None:
        self.log_path = tmp_path / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jobs.scheduler", *args], cwd=PROJECT_ROOT,
            env={**os.environ, "LOG_FORMAT": "json", "REFRESH_CRON": "", **env},
            stdout=self._log, stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def events(self) -> list[dict]:
        return [json.loads(line) for line in self.text().splitlines() if line.startswith("{")]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("the scheduler did not stop on SIGTERM") from None
        finally:
            self._log.close()


@pytest.fixture
def scheduler_process(tmp_path):
    """Start scheduler processes; each is stopped (SIGTERM) after the test if still running."""
    started: list[_Process] = []

    def start(name: str, env: dict[str, str], *args: str) -> _Process:
        process = _Process(tmp_path, name, env, *args)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.proc.poll() is None:
            process.stop()


# --- cron parsing -----------------------------------------------------------------------------------

def test_crontab_weekdays_keep_their_crontab_meaning():
    schedules = parse_schedules(["0 2 * * 0", "30 6 * * 1-5", "0 3 * * 7", "15 4 * * mon"], "UTC")
    fire = dict(next_runs(schedules, WEDNESDAY_NOON))
    assert fire["0 2 * * 0"] == datetime(2026, 11, 29, 2, 0, tzinfo=timezone.utc)  # Sunday, not Monday
    assert fire["30 6 * * 1-5"] == datetime(2026, 11, 26, 6, 30, tzinfo=timezone.utc)  # Thursday
    assert fire["0 3 * * 7"] == datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)  # 7 is Sunday too
    assert fire["15 4 * * mon"] == datetime(2026, 11, 30, 4, 15, tzinfo=timezone.utc)
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
    assert next_runs(schedules[1:2], saturday)[0][1].strftime("%a %d") == "Mon 30"


def test_schedules_follow_the_configured_time_zone():
    (label, when), = next_runs(parse_schedules(["0 2 * * *"], "Europe/Paris"), WEDNESDAY_NOON)
    assert label == "0 2 * * *"
    assert when.astimezone(timezone.utc) == datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("expr", ["61 2 * * *", "0 2 * *", "0 2 * * 9", "every day"])
def test_invalid_cron_expression_is_a_config_error_naming_it(expr):
    with pytest.raises(ConfigError, match=f"Invalid cron expression '{expr.replace('*', '[*]')}'"):
        parse_schedules(["0 2 * * *", expr], "UTC")


def test_unknown_time_zone_is_a_config_error():
    with pytest.raises(ConfigError, match="Mars/Olympus"):
        parse_schedules(["0 2 * * *"], "Mars/Olympus")


def test_invalid_cron_exits_3_with_one_clear_message():
    result = subprocess.run([sys.executable, "-m", "jobs.scheduler"], cwd=PROJECT_ROOT, capture_output=True,
                            text=True, timeout=60, env={**os.environ, "REFRESH_CRON": "0 2 * * *;61 2 * * *"})
    assert result.returncode == 3
    assert "Invalid cron expression '61 2 * * *'" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


# --- the job core (in process) ----------------------------------------------------------------------

def test_fire_reports_each_outcome_and_never_raises(tmp_path, caplog):
    settings = _settings("file://" + str(tmp_path / "store"), tmp_path / "none.csv")

    def raising(exc):
        def fake_run(settings, trigger, store, annotations):
            raise exc
        return fake_run

    assert Scheduler(settings, run=lambda settings, trigger, store, annotations: "v1").fire("schedule") == "success"
    assert Scheduler(settings, run=raising(LockedError("locked by x"))).fire("schedule") == "skipped"
    assert Scheduler(settings, run=raising(InputDataError("bad file"))).fire("schedule") == "failed"
    with caplog.at_level(logging.ERROR, logger="jobs.scheduler"):
        assert Scheduler(settings, run=raising(ZeroDivisionError("bug"))).fire("schedule") == "failed"
    assert "internal error" in caplog.text and "ZeroDivisionError" in caplog.text


def test_refresh_now_request_is_run_with_trigger_ops_and_who_asked(tmp_path, small_input):
    settings = _settings("file://" + str(tmp_path / "store"), small_input)
    store = open_store(settings.store)
    # An interrupted run: the refresh marks it failed while it runs; it must not look requested by the operator.
    store.record_run({"run_id": "older", "status": "running", "trigger": "ops", "started_at": "2026-11-24T02:00:00"})
    core = Scheduler(settings)
    assert core.poll_requests() is None  # nothing queued: nothing runs
    assert store.request_refresh({"requested_at": "2026-11-25T08:00:00+00:00", "requested_by": "ops page"})
    assert core.poll_requests() == "success"
    newest, older = store.runs()[:2]
    assert newest["trigger"] == "ops" and newest["status"] == "success"
    assert newest["requested_by"] == "ops page" and newest["requested_at"] == "2026-11-25T08:00:00+00:00"
    assert older["run_id"] == "older" and older["status"] == "failed"
    assert "requested_by" not in older  # only the run's own record is annotated
    assert store.pending_refresh_request() is None
    assert store.current_version() == newest["version"]


# --- real scheduler processes against redis-server --------------------------------------------------

def test_schedule_firing_publishes_and_records_the_run(redis_url, small_input, scheduler_process):
    store = open_store(StoreParams(url=redis_url))
    process = scheduler_process("one", {"STORE_URL": redis_url, "INPUT_PATH": str(small_input)}, "--seconds", "*")
    runs = _wait_for(lambda: [r for r in store.runs() if r["status"] == "success"], what="a scheduled run")
    assert process.stop() == 0
    assert runs[-1]["trigger"] == "schedule" and runs[-1]["rows"]["input_lines"] == 3000
    assert store.current_version() in {r["version"] for r in runs}
    messages = [e["msg"] for e in process.events()]
    started = next(e for e in process.events() if e["msg"] == "scheduler started")
    assert started["schedules"] == ["second=*"] and len(started["next_runs"]) == 1
    assert "run succeeded" in messages and messages[-1] == "scheduler stopped"


def test_failed_runs_keep_the_snapshot_and_the_scheduler_goes_on(redis_url, small_input, tmp_path,
                                                                 scheduler_process):
    good = run(_settings(redis_url, small_input))
    store = open_store(StoreParams(url=redis_url))
    later = tmp_path / "arrives-later.parquet"
    process = scheduler_process("failing", {"STORE_URL": redis_url, "INPUT_PATH": str(later)}, "--seconds", "*")
    failed = _wait_for(lambda: [r for r in store.runs() if r["status"] == "failed"][1:], what="two failed runs")
    assert process.proc.poll() is None  # still running
    assert store.current_version() == good
    assert all("arrives-later.parquet" in r["error"] and r["trigger"] == "schedule" for r in failed)
    shutil.copy(small_input, later)  # the input file shows up: the next scheduled run succeeds
    _wait_for(lambda: store.current_version() != good, what="a successful run after the failures")
    assert process.stop() == 0
    latest = next(r for r in store.runs() if r["status"] == "success")
    assert latest["trigger"] == "schedule" and latest["version"] == store.current_version()
    assert sum(e["msg"].startswith("run failed") for e in process.events()) >= 2


def test_two_schedulers_never_run_at_once(redis_url, small_input, scheduler_process):
    env = {"STORE_URL": redis_url, "INPUT_PATH": str(small_input)}
    store = open_store(StoreParams(url=redis_url))
    first = scheduler_process("first", env, "--seconds", "*")
    second = scheduler_process("second", env, "--seconds", "*")

    def enough():
        runs = store.runs(200)
        return sum(r["status"] == "success" for r in runs) >= 5 and any(r["status"] == "skipped" for r in runs)

    _wait_for(enough, timeout=30, what="five published runs and one skipped")
    assert first.stop() == 0 and second.stop() == 0
    runs = store.runs(200)
    held = sorted((r for r in runs if r["status"] in {"success", "failed"}), key=lambda r: r["started_at"])
    for before, after in zip(held, held[1:]):  # record times have one-second resolution
        assert after["started_at"] >= before["finished_at"], (before, after)
    skipped = [r for r in runs if r["status"] == "skipped"]
    assert skipped and all("locked" in r["error"] for r in skipped)
    # Millisecond log times of both processes: lock-held spans (started .. published) are disjoint.
    spans: dict[str, list[str]] = {}
    for e in first.events() + second.events():
        if e.get("msg") == "refresh started" or (e.get("msg") == "stage done" and e.get("stage") == "publish"):
            spans.setdefault(e["run_id"], []).append(e["ts"])
    intervals = sorted(tuple(sorted(times)) for times in spans.values() if len(times) == 2)
    assert len(intervals) >= 5
    for (_, end), (start, _) in zip(intervals, intervals[1:]):
        assert start > end, intervals
    assert {e["run_id"] for e in first.events() if "run_id" in e} and \
        {e["run_id"] for e in second.events() if "run_id" in e}  # both took part


def test_refresh_now_request_is_picked_up_by_the_scheduler(redis_url, small_input, tmp_path, scheduler_process):
    config = tmp_path / "settings.yaml"
    config.write_text("scheduler:\n  poll_s: 0.3\n", encoding="utf-8")
    store = open_store(StoreParams(url=redis_url))
    process = scheduler_process("ops", {"STORE_URL": redis_url, "INPUT_PATH": str(small_input),
                                        "CONFIG_FILE": str(config)})
    _wait_for(lambda: "no refresh schedule configured" in process.text(), what="the start-up lines")
    assert store.runs() == []
    assert store.request_refresh({"requested_at": "2026-11-25T08:00:00+00:00", "requested_by": "ops page"})
    done = _wait_for(lambda: [r for r in store.runs() if r["status"] == "success"], what="the requested run")
    assert process.stop() == 0
    assert done[0]["trigger"] == "ops" and done[0]["requested_by"] == "ops page"
    assert store.current_version() == done[0]["version"] and store.pending_refresh_request() is None


# --- heartbeat ----------------------------------------------------------------------------------------

def test_heartbeat_names_the_process_its_schedules_and_the_run_in_progress(tmp_path):
    settings = _settings("file://" + str(tmp_path / "store"), tmp_path / "none.csv")
    store = open_store(settings.store)
    seen: list[dict | None] = []

    def fake_run(settings, trigger, store, annotations):
        seen.append(store.heartbeat())  # what the ops page reads while the run is in progress
        return "v1"

    core = Scheduler(settings, run=fake_run, schedules=parse_schedules(["0 2 * * *"], "UTC"))
    beat = core.heartbeat(WEDNESDAY_NOON)
    assert beat["at"] == "2026-11-25T12:00:00+00:00" and beat["pid"] == os.getpid() and beat["running"] is None
    # the next 02:00 after Wednesday noon is Thursday 02:00
    assert beat["schedules"] == [{"cron": "0 2 * * *", "next_run": "2026-11-26T02:00:00+00:00"}]
    assert store.heartbeat() is None
    assert core.poll_requests() is None  # every poll beats, even with nothing queued
    assert store.heartbeat()["running"] is None and store.heartbeat()["stopped"] is False
    assert core.fire("ops") == "success"
    assert seen[0]["running"]["trigger"] == "ops"
    assert store.heartbeat()["running"] is None  # the run ended


def test_heartbeat_failure_never_stops_the_scheduler(tmp_path, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    settings = _settings("file://" + str(blocker / "store"), tmp_path / "none.csv")
    core = Scheduler(settings, run=lambda settings, trigger, store, annotations: "v1")
    with caplog.at_level(logging.WARNING, logger="jobs.scheduler"):
        core.beat()
        core.beat()
    assert caplog.text.count("cannot write the scheduler heartbeat") == 1  # logged once, not every poll


def test_scheduler_process_beats_and_says_when_it_stopped(redis_url, small_input, tmp_path, scheduler_process):
    config = tmp_path / "settings.yaml"
    config.write_text("scheduler:\n  poll_s: 0.3\n", encoding="utf-8")
    store = open_store(StoreParams(url=redis_url))
    process = scheduler_process("beat", {"STORE_URL": redis_url, "INPUT_PATH": str(small_input),
                                         "CONFIG_FILE": str(config), "REFRESH_CRON": "30 3 * * 1"})
    first = _wait_for(store.heartbeat, what="a first heartbeat")
    later = _wait_for(lambda: (store.heartbeat() or {}).get("at", "") > first["at"] and store.heartbeat(),
                      timeout=5, what="a newer heartbeat")
    assert later["pid"] == process.proc.pid and later["stopped"] is False and later["poll_s"] == 0.3
    assert [s["cron"] for s in later["schedules"]] == ["30 3 * * 1"]
    assert datetime.fromisoformat(later["schedules"][0]["next_run"]).strftime("%a %H:%M") == "Mon 03:30"
    assert process.stop() == 0
    assert store.heartbeat()["stopped"] is True
