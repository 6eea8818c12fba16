"""Where the refresh runs a task that needs only the cleaned lines: later in this process, or meanwhile in another.

``build_snapshot`` hands the forecast (the models' fits, predictions and backtest: a fifth of a refresh at
1 M customers) to an :class:`Aside` as soon as the lines are cleaned, and asks for its result when the
predictions stage needs it. :class:`Later` (the default) runs it then, in this process, as if inline;
``jobs.aside.SecondProcess`` runs it in a second process while this one scores the customers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["Aside", "Later", "Pending"]


class Pending(Protocol):
    """A task handed to an ``Aside``: ``result()`` returns its value or raises its exception."""

    def result(self) -> Any: ...


class Aside(Protocol):
    """Runs tasks apart from the stages that follow their submission."""

    def submit(self, task: Callable[..., Any], *args: Any) -> Pending: ...


class Later:
    """Runs each task in this process when its result is first asked for (nothing runs in parallel)."""

    def submit(self, task: Callable[..., Any], *args: Any) -> Pending:
        return _Deferred(task, args)


class _Deferred:
    def __init__(self, task: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self._call: tuple[Callable[..., Any], tuple[Any, ...]] | None = (task, args)
        self._value: Any = None

    def result(self) -> Any:
        if self._call is not None:
            task, args = self._call
            self._value = task(*args)
            self._call = None  # the arguments are released once the task has run
        return self._value
