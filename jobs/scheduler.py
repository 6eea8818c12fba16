"""Scheduled refreshes: ``python -m jobs.scheduler [--config PATH] [--store URL] [--input PATH]``.

Runs :func:`jobs.refresh.run` on the cron schedule(s) of ``scheduler.cron`` (env ``REFRESH_CRON``, several
separated by ``;``) in ``scheduler.timezone``, and every ``scheduler.poll_s`` seconds takes the pending
"Refresh now" request queued by the ops page (``/ops``) and runs it with trigger ``ops``.

Run exactly ONE scheduler process per store, next to the web app — never inside it: the gunicorn web
workers start no scheduler (each worker would run the job). Runs never overlap: one job at a time in
this process, and across processes the store's refresh lock (a run that finds it taken is recorded
"skipped"). Every poll (and when a run starts or ends) the scheduler writes a heartbeat to the store:
time, pid, host, its schedules with their next run, and the run in progress (shown on ``/ops``).
A failed run is recorded by the refresh, the previous snapshot stays current and the
scheduler keeps going. SIGTERM/SIGINT stop scheduling, let a running refresh finish, and exit 0.

Crontab day-of-week numbers keep their crontab meaning (0 or 7 = Sunday): they are rewritten as names
because APScheduler 3 counts weekdays from Monday. Exit status 3: invalid configuration (e.g. a cron
expression, named in the message).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from analytics.errors import AppError, ConfigError, LockedError
from analytics.logs import configure_logging, event
from analytics.settings import Settings
from jobs import refresh
from jobs.fetch import display_location
from jobs.store import Store, open_store

__all__ = ["Scheduler", "build_scheduler", "main", "next_runs", "parse_schedules"]

log = logging.getLogger("jobs.scheduler")

MISFIRE_GRACE_S = 600
"""A scheduled run delayed (busy process, suspended host) by up to this many seconds still runs."""

_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_PART = re.compile(r"(\*|\d+)(?:-(\d+))?(?:/(\d+))?")
Schedules = list[tuple[str, BaseTrigger]]  # (label, trigger)


def parse_schedules(cron: Sequence[str], tz: str) -> Schedules:
    """Crontab expressions as APScheduler triggers in time zone ``tz``.

    Raises:
        ConfigError: unknown time zone, or an invalid expression (named in the message).
    """
    try:
        zone = ZoneInfo(tz)
    except (KeyError, ValueError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise ConfigError(f"Unknown scheduler time zone {tz!r} (scheduler.timezone / SCHEDULER_TIMEZONE); "
                          "use an IANA name such as 'UTC' or 'Europe/London'.") from exc
    schedules: Schedules = []
    for expr in cron:
        try:
            fields = expr.split()
            if len(fields) == 5:
                fields[4] = _weekdays(fields[4])
            schedules.append((expr, CronTrigger.from_crontab(" ".join(fields), timezone=zone)))
        except ValueError as exc:
            raise ConfigError(f"Invalid cron expression {expr!r} in scheduler.cron (REFRESH_CRON): {exc}. "
                              "Expected 5 fields 'minute hour day-of-month month day-of-week', "
                              "e.g. '0 2 * * *'.") from exc
    return schedules


def _weekdays(field: str) -> str:
    """Crontab day-of-week (0 or 7 = Sunday) as day names, which APScheduler reads the crontab way."""
    names: list[str] = []
    for part in field.split(","):
        match = _DAY_PART.fullmatch(part)
        if part == "*" or not match:
            names.append(part)  # "*", names such as "mon-fri", or garbage APScheduler will report
            continue
        first, last, step = match.groups()
        low = 0 if first == "*" else int(first)
        high = int(last) if last else 6 if first == "*" or step else low
        if high > 7 or low > high:
            names.append(part)
            continue
        names.extend(_CRON_DAYS[day] for day in range(low, high + 1, int(step or 1)))
    return ",".join(dict.fromkeys(names))


def next_runs(schedules: Schedules, now: datetime) -> list[tuple[str, datetime | None]]:
    """Each schedule's next fire time after ``now`` (None when it never fires again)."""
    return [(label, trigger.get_next_fire_time(None, now)) for label, trigger in schedules]


class Scheduler:
    """The jobs of one scheduler process. Each method runs one job to completion (the testable core).

    Args:
        settings: all settings (the refresh uses them as is).
        store: the store to poll and publish to (default: opened from ``settings.store``).
        run: the refresh function, ``run(settings, trigger=..., store=..., annotations=...) -> version``.
    """

    def __init__(self, settings: Settings, store: Store | None = None,
                 run: Callable[..., str] = refresh.run, schedules: Schedules | None = None) -> None:
        self.settings = settings
        self.store = store or open_store(settings.store)
        self.schedules: Schedules = list(schedules or [])
        self._run = run
        self._busy = threading.Lock()  # one refresh at a time in this process
        self._store_error: str | None = None
        self._running: dict[str, str] | None = None  # the refresh in progress: trigger, since
        self._started_at = _utc_now()
        self._beat_error: str | None = None

    def heartbeat(self, now: datetime, stopped: bool = False) -> dict[str, Any]:
        """This process's heartbeat: when, who (pid, host), its schedules with their next run, the run in progress."""
        return {
            "at": now.isoformat(timespec="seconds"), "pid": os.getpid(), "host": socket.gethostname(),
            "started_at": self._started_at.isoformat(timespec="seconds"), "poll_s": self.settings.scheduler.poll_s,
            "timezone": self.settings.scheduler.timezone, "stopped": stopped, "running": self._running,
            "schedules": [{"cron": label, "next_run": when.isoformat(timespec="seconds") if when else None}
                          for label, when in next_runs(self.schedules, now)],
        }

    def beat(self, stopped: bool = False) -> None:
        """Write the heartbeat to the store (every poll, and when a run starts or ends). Never raises."""
        try:
            self.store.write_heartbeat(self.heartbeat(_utc_now(), stopped))
        except (AppError, ValueError) as exc:
            if str(exc) != self._beat_error:
                event(log, "cannot write the scheduler heartbeat", level=logging.WARNING, error=str(exc))
            self._beat_error = str(exc)
            return
        self._beat_error = None

    def run_scheduled(self) -> str:
        """The cron job: one refresh with trigger "schedule". Returns success, failed or skipped."""
        return self.fire("schedule")

    def poll_requests(self) -> str | None:
        """The polling job: beat, then run the pending "Refresh now" request, if any; its outcome or None."""
        self.beat()
        if self._busy.locked():
            return None  # the request stays queued until the running refresh ends
        try:
            request = self.store.take_refresh_request()
        except AppError as exc:  # store down, or a malformed request (then discarded)
            if str(exc) != self._store_error:
                event(log, "cannot take refresh requests", level=logging.WARNING, error=str(exc))
            self._store_error = str(exc)
            return None
        if self._store_error:
            event(log, "store reachable again")
            self._store_error = None
        return None if request is None else self.fire("ops", request)

    def fire(self, trigger: str, request: Mapping[str, Any] | None = None) -> str:
        """Run one refresh now (waiting for a running one in this process). Never raises for a failed run."""
        fields = request or {}
        asked: dict[str, Any] = {key: str(fields[key]) for key in ("requested_at", "requested_by") if fields.get(key)}
        with self._busy, self._announced(trigger):
            event(log, "run starting", trigger=trigger, **asked)
            try:
                version = self._run(self.settings, trigger=trigger, store=self.store, annotations=asked)
            except LockedError as exc:
                event(log, "run skipped", level=logging.WARNING, trigger=trigger, reason=str(exc))
                return "skipped"
            except AppError as exc:
                event(log, "run failed; the previous snapshot stays current", level=logging.ERROR,
                      trigger=trigger, error=str(exc))
                return "failed"
            except Exception as exc:  # a bug: keep scheduling, the traceback goes to the log
                log.exception("run failed with an internal error; the previous snapshot stays current",
                              extra={"fields": {"trigger": trigger, "error": f"{type(exc).__name__}: {exc}"}})
                return "failed"
        event(log, "run succeeded", trigger=trigger, version=version)
        return "success"

    @contextmanager
    def _announced(self, trigger: str) -> Iterator[None]:
        """The heartbeat says a run is in progress (so "Refresh now" is refused meanwhile) until it ends."""
        self._running = {"trigger": trigger, "since": _utc_now().isoformat(timespec="seconds")}
        self.beat()
        try:
            yield
        finally:
            self._running = None
            self.beat()


def _utc_now() -> datetime:
    return datetime.now(UTC)


def build_scheduler(core: Scheduler, schedules: Schedules,
                    executor: ThreadPoolExecutor | None = None) -> BlockingScheduler:
    """An APScheduler with one refresh job (all schedules) and the "Refresh now" polling job."""
    scheduler = BlockingScheduler(
        executors={"default": executor or ThreadPoolExecutor(2)},
        job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": MISFIRE_GRACE_S},
        timezone=core.settings.scheduler.timezone,
    )
    if schedules:
        trigger = schedules[0][1] if len(schedules) == 1 else OrTrigger([t for _, t in schedules])
        scheduler.add_job(core.run_scheduled, trigger, id="refresh", name="scheduled refresh")
    scheduler.add_job(core.poll_requests, IntervalTrigger(seconds=core.settings.scheduler.poll_s),
                      id="refresh-requests", name="refresh-now requests", next_run_time=datetime.now(UTC))
    return scheduler


def _stop_on_signals(scheduler: BlockingScheduler) -> None:
    def stop(signum: int, _frame: object) -> None:
        if scheduler.running:
            event(log, "stopping: no new runs; a running refresh is allowed to finish",
                  signal=signal.Signals(signum).name)
            scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of ``python -m jobs.scheduler``."""
    parser = argparse.ArgumentParser(prog="python -m jobs.scheduler", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", help="YAML config file (default: $CONFIG_FILE or config/settings.yaml)")
    parser.add_argument("--store", help="store URL (default: $STORE_URL)")
    parser.add_argument("--input", help="transactions file (default: $INPUT_PATH or the bundled demo data)")
    parser.add_argument("--seconds", help=argparse.SUPPRESS)  # tests: extra CronTrigger(second=...)
    parser.set_defaults(map=[])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; blocks until SIGTERM/SIGINT and returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        settings = refresh.settings_from_args(args)
        configure_logging(settings.log_format)
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        params = settings.scheduler
        schedules = parse_schedules(params.cron, params.timezone)
        if args.seconds:
            schedules.append((f"second={args.seconds}", CronTrigger(second=args.seconds, timezone=params.timezone)))
        core = Scheduler(settings, schedules=schedules)
    except (AppError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", ConfigError.exit_code)
    executor = ThreadPoolExecutor(2)
    scheduler = build_scheduler(core, schedules, executor)
    upcoming = next_runs(schedules, datetime.now(UTC))
    event(log, "scheduler started", schedules=[label for label, _ in schedules],
          next_runs=[when.isoformat(timespec="seconds") if when else None for _, when in upcoming],
          timezone=params.timezone, poll_s=params.poll_s, store=repr(core.store),
          input=display_location(settings.input.path))
    if not schedules:
        event(log, "no refresh schedule configured (scheduler.cron / REFRESH_CRON is empty): "
                   "serving \"Refresh now\" requests from the ops page only")
    _stop_on_signals(scheduler)
    scheduler.start()  # blocks until a signal calls shutdown()
    executor.shutdown(wait=True)  # let a running refresh finish
    core.beat(stopped=True)
    core.store.close()
    event(log, "scheduler stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
