"""Error types shared by the analytics core, the refresh job and the dashboard.

Every error a user can see derives from :class:`AppError`; its message is meant to be shown as is,
without a traceback.
"""

from __future__ import annotations

__all__ = [
    "AppError",
    "AudienceError",
    "ConfigError",
    "InputDataError",
    "LockedError",
    "SnapshotError",
    "StaleLockError",
    "StoreUnavailableError",
]


class AppError(Exception):
    """Base class: a failure explained in one message for the user."""

    exit_code = 1


class InputDataError(AppError):
    """The transaction file is missing, unreadable or malformed (names file, column, rows)."""

    exit_code = 2


class AudienceError(AppError):
    """An audience is invalid (name, note, control share, members) or does not exist.

    ``AudienceError("The note has {count} characters.", count=612)``: the message is the ``template`` filled with
    ``params`` (whole numbers with thousands separators), so an interface can show it translated: the template is
    its msgid (extracted by ``make messages``), the parameters are formatted in the reader's language.
    """

    exit_code = 2

    def __init__(self, template: str, **params: object) -> None:
        self.template, self.params = template, params
        shown = {key: f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else value
                 for key, value in params.items()}
        super().__init__(template.format(**shown) if params else template)


class ConfigError(AppError):
    """The configuration (environment, YAML, segment scheme) is invalid."""

    exit_code = 3


class SnapshotError(AppError):
    """A stored snapshot is missing, corrupt, or of an unknown schema version."""

    exit_code = 4


class StoreUnavailableError(AppError):
    """The snapshot store cannot be reached (Redis down or hung, directory unwritable)."""

    exit_code = 5


class LockedError(AppError):
    """Another refresh holds the lock: this run was skipped."""

    exit_code = 75  # EX_TEMPFAIL: try again later


class StaleLockError(AppError):
    """This run lost its lock before publishing (paused past expiry): its switch was refused."""

    exit_code = 6
