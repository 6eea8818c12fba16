"""Encoded snapshot tables waiting on disk for their publication.

The refresh encodes each table as soon as it is built; kept in memory, their Parquet bytes grew to the whole
snapshot (450 MB at 1 M customers) by the last stages, when the job's memory peaks (docs/PERFORMANCE.md, 8.8).
In files they sit in the system's page cache; the store reads them back one table at a time when it publishes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, MutableMapping
from pathlib import Path

__all__ = ["TableSpool"]

_NAME = re.compile(r"[a-z][a-z0-9_]*")


class TableSpool(MutableMapping[str, bytes]):
    """Table name → Parquet bytes, each kept in a file of ``directory`` (a temporary one of the run)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._names: list[str] = []

    def __setitem__(self, name: str, data: bytes) -> None:
        if not _NAME.fullmatch(name):
            raise ValueError(f"Table name {name!r} is not a lowercase identifier.")
        self._path(name).write_bytes(data)
        if name not in self._names:
            self._names.append(name)

    def __getitem__(self, name: str) -> bytes:
        if name not in self._names:
            raise KeyError(name)
        return self._path(name).read_bytes()

    def __delitem__(self, name: str) -> None:
        if name not in self._names:
            raise KeyError(name)
        self._path(name).unlink()
        self._names.remove(name)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._names))

    def __len__(self) -> int:
        return len(self._names)

    def _path(self, name: str) -> Path:
        return self.directory / f"{name}.parquet"
