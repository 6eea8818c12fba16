"""A worker's last few grid orderings: every key of a filtered, sorted list, in order, kept as Arrow.

A grid block deep in a long list (row 500,000 of a million, sorted by risk) costs a full sort in SQL, each
time: at 1 M customers about 0.7 s of CPU. A snapshot version never changes, so the order of a list under one
filter and sort never changes either: the first deep block sorts the keys once, the next ones slice them
(a few ms). Keys stay an Arrow array (a million customer ids: about 10 MB, not 60 MB of Python strings), and
only the ``ORDERINGS`` most recent orderings of at most ``MAX_KEYS`` keys are kept, so a worker's memory stays
bounded. Shallow blocks (the first pages) do not use it: a top-N query is cheaper than a full sort.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa

__all__ = ["OrderedKeys", "ORDERINGS", "MAX_KEYS", "DEEP_ROW"]

ORDERINGS = 3  # orderings kept per worker (least recently used dropped first): at most ~40 MB at 1 M customers
MAX_KEYS = 1_200_000  # a longer list is not kept (its blocks sort in SQL each time)
DEEP_ROW = 2_000  # blocks starting at or beyond this row read the kept ordering


class OrderedKeys:
    """The last ``size`` orderings asked, by (version, SQL, parameters)."""

    def __init__(self, size: int = ORDERINGS, max_keys: int = MAX_KEYS) -> None:
        self.size, self.max_keys = size, max_keys
        self._entries: OrderedDict[tuple[str, str, str], pa.Array] = OrderedDict()
        self._lock = threading.Lock()

    def keys(self, version: str, sql: str, params: Sequence[Any], run: Callable[[], pa.Table],
             start: int, end: int) -> list[Any]:
        """Keys ``start:end`` of the ordering ``sql`` (one column: the keys in order) computes by ``run()``."""
        token = (version, sql, repr(list(params)))
        with self._lock:
            found = self._entries.get(token)
            if found is not None:
                self._entries.move_to_end(token)
        if found is None:
            found = run().column(0).combine_chunks()
            if len(found) <= self.max_keys:
                with self._lock:
                    self._entries[token] = found
                    while len(self._entries) > self.size:
                        self._entries.popitem(last=False)
        return found.slice(start, max(end - start, 0)).to_pylist()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
