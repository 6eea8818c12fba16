"""gunicorn settings, read automatically from the working directory (``gunicorn dashboard.wsgi:server``).

Command-line flags override these (``make demo`` passes ``--bind 127.0.0.1:8050``). Environment:

    PORT                  listen on 0.0.0.0:$PORT (default 8050)
    WEB_CONCURRENCY       worker processes (default 2; each holds its own copy of the snapshot tables)
    GUNICORN_THREADS      threads per worker (default 4, gthread worker)
    GUNICORN_TIMEOUT      seconds before a silent worker is killed and restarted (default 30)
    FORWARDED_ALLOW_IPS   proxies trusted for X-Forwarded-* headers (default 127.0.0.1,::1)
    GUNICORN_ACCESS_LOG   "off" disables the access log (default on, stdout)
    LOG_FORMAT            logfmt | json, for gunicorn's own lines and the app's (analytics/logs.py)

Logs: access log to stdout, one structured line per request (no query string, customer ids in
``/client/<id>`` paths replaced by ``<id>``); gunicorn's error log and the app's logs to stderr.
When stdout/stderr is a pipe (Docker, a supervisor, a test harness) whose reader stalls, gunicorn's
lines are dropped (counted in the next line as ``dropped=N``) instead of freezing requests.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import sys
from collections.abc import Mapping
from pathlib import Path

_ROOT = Path(__file__).resolve().parent
if str(_ROOT) not in sys.path:  # this file is read before gunicorn chdirs and adds the app directory
    sys.path.insert(0, str(_ROOT))

from analytics.logs import JsonFormatter, LogfmtFormatter  # noqa: E402
from analytics.settings import load_settings  # noqa: E402

# --- serving -------------------------------------------------------------------------------------------
bind = [f"0.0.0.0:{os.environ.get('PORT') or 8050}"]
workers = int(os.environ.get("WEB_CONCURRENCY") or 2)
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS") or 4)
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
graceful_timeout = 20  # on SIGTERM, finish in-flight requests for up to 20 s
keepalive = 5  # seconds an idle keep-alive connection stays open (behind a proxy that reuses connections)
# The app factory reads no data and opens no store connection (dashboard/data.py opens it lazily per
# process, again after a fork), so loading it once in the master before forking is safe and shares memory.
# (A code change then needs a restart; a HUP only restarts workers from the code already loaded.)
preload_app = True
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # heartbeat file off slow overlay disks

# --- hardening -----------------------------------------------------------------------------------------
control_socket_disable = True  # gunicorn >= 25.1 opens a control socket by default; nothing uses it here
limit_request_line = 4094  # bytes in the request line (gunicorn's default, stated explicitly)
limit_request_fields = 100  # header fields per request
limit_request_field_size = 8190  # bytes per header field
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS") or "127.0.0.1,::1"

# --- logs ----------------------------------------------------------------------------------------------
_CUSTOMER_IN_PATH = re.compile(r"(/client/)[^/?#]+")


class AccessFields(logging.Filter):
    """Turn gunicorn's access record (a dict of atoms) into structured fields for analytics.logs formatters."""

    user_header = os.environ.get("TRUSTED_USER_HEADER", "")

    def filter(self, record: logging.LogRecord) -> bool:
        atoms = record.args if isinstance(record.args, Mapping) else {}
        user = atoms.get("u", "-")
        if self.user_header and user == "-":
            user = atoms.get("{%s}i" % self.user_header.lower(), "-")
        fields = {
            "method": atoms.get("m"),
            "path": _CUSTOMER_IN_PATH.sub(r"\1<id>", atoms.get("U") or ""),
            "status": _int(atoms.get("s")),
            "bytes": _int(atoms.get("B")),
            "duration_ms": atoms.get("M"),
            "remote": atoms.get("h"),
        }
        if user and user != "-":
            fields["user"] = user
        record.msg, record.args, record.fields = "request", (), fields
        return True


class PipeSafeHandler(logging.StreamHandler):
    """A StreamHandler on stdout/stderr that never blocks on a full pipe.

    On a pipe it writes through its own non-blocking descriptor for the same pipe (re-opened via
    /proc, so the process's stdout/stderr stay blocking) and drops a line that does not fit; anywhere
    else (terminal, file, socket, no /proc) it is a plain StreamHandler.
    """

    def __init__(self, stream: str = "stdout") -> None:
        number = 1 if stream == "stdout" else 2
        super().__init__(sys.stdout if number == 1 else sys.stderr)
        self.dropped = 0
        self._fd: int | None = None
        try:
            if stat.S_ISFIFO(os.fstat(number).st_mode):
                self._fd = os.open(f"/proc/self/fd/{number}", os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            self._fd = None

    def emit(self, record: logging.LogRecord) -> None:
        if self._fd is None:
            super().emit(record)
            return
        try:
            if self.dropped:
                record.dropped = self.dropped
            line = (self.format(record) + "\n").encode("utf-8", "replace")
            written = os.write(self._fd, line)  # lines up to 4 KiB are written whole or not at all
            if written < len(line):
                os.write(self._fd, b"\n")
            self.dropped = 0
        except BlockingIOError:
            self.dropped += 1
        except Exception:  # noqa: BLE001 - logging must not break a request
            self.handleError(record)


def _int(value: object) -> object:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return value


_formatter = JsonFormatter if load_settings().log_format == "json" else LogfmtFormatter
_access_off = os.environ.get("GUNICORN_ACCESS_LOG", "").lower() in {"off", "0", "false", "no"}
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"access_fields": {"()": AccessFields}},
    "formatters": {"structured": {"()": _formatter}},
    "handlers": {
        "access": {"()": PipeSafeHandler, "stream": "stdout", "formatter": "structured", "filters": ["access_fields"]},
        "error": {"()": PipeSafeHandler, "stream": "stderr", "formatter": "structured"},
        "null": {"class": "logging.NullHandler"},
    },
    "root": {"level": "INFO", "handlers": ["error"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["error"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["null" if _access_off else "access"], "propagate": False},
    },
}
