"""Local Parquet copies of snapshot tables, shared by every worker of the machine, queried with DuckDB.

A table of a version is copied once from the store into ``<cache dir>/<version>/<table>.parquet``: its
bytes are checked against the manifest digest, written to a temporary file and moved into place with
``os.replace``, so a reader sees the whole verified file or nothing, and two workers racing to copy the
same table both end with the same file. Workers then query the files with their own DuckDB connection;
the pages they read live once in the OS page cache, not in each worker's heap.

The copies are the dashboard's "last good copy": while the store is down, pages keep answering from the
files of the version they serve. Old versions are pruned when a newer one is served.

DuckDB is imported on the first query, not with the app: the first page reads only small tables (0.1 s
off every start-up, docs/PERFORMANCE.md section 6).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from analytics.errors import SnapshotError

if TYPE_CHECKING:
    import duckdb

__all__ = ["LocalTables", "default_cache_dir", "KEEP_VERSIONS"]

log = logging.getLogger(__name__)

KEEP_VERSIONS = 3  # version directories kept besides the served ones (a page pinned to an older version still reads)
ABANDONED_AFTER_S = 3600.0  # a temporary file not written to for this long was left by a killed copy or build
PRUNE_AFTER_S = 600.0  # a version directory is removed only when untouched for this long (other apps may share it)
MEMORY_LIMIT = "96MB"  # DuckDB buffer memory per worker, index blocks included (128: workers near 400 MB)
SPILL_DIR = ".spill"  # under the cache directory: where a sort or join larger than MEMORY_LIMIT spills (not the cwd)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


def default_cache_dir() -> Path:
    """``<system temp dir>/segments-dashboard``: where the copies go when ``dashboard.cache_dir`` is not set."""
    return Path(tempfile.gettempdir()) / "segments-dashboard"


class LocalTables:
    """The copies under one cache directory, and this process's DuckDB connection to query them."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root else default_cache_dir()
        self._lock = threading.Lock()
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._pid: int | None = None
        self._attached: dict[str, str] = {}  # DuckDB file -> its catalog name in this process's connection
        self._names = itertools.count()

    def __repr__(self) -> str:
        return f"LocalTables({str(self.root)!r})"

    def path(self, version: str, table: str, digest: str, read: Callable[[], bytes]) -> Path:
        """The local file of ``table`` at ``version``, copied first from ``read()`` when missing.

        Raises:
            SnapshotError: the bytes read do not match ``digest``, or the name is not a plain name.
            Whatever ``read`` raises (the store is down: StoreUnavailableError).
        """
        target = self.root / _checked(version) / f"{_checked(table)}.parquet"
        if target.exists():
            return target
        data = read()
        if hashlib.sha256(data).hexdigest() != digest:
            raise SnapshotError(f"Table '{table}' of snapshot {version} does not match its digest.")
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=f".{table}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temp, target)  # atomic: a racing worker's copy is the same verified bytes
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        log.info("table copied locally", extra={"fields": {"version": version, "table": table,
                                                                "bytes": len(data)}})
        return target

    def prune(self, keep: Iterable[str | None]) -> None:
        """Remove version directories other than ``keep`` and the KEEP_VERSIONS newest (names sort by date)
        once untouched for PRUNE_AFTER_S, and temporary files left in the others for ABANDONED_AFTER_S."""
        if not self.root.is_dir():
            return
        kept = {v for v in keep if v}
        versions = sorted((p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")),
                          key=lambda p: p.name, reverse=True)  # .spill: DuckDB's temporary files
        for stale in versions[KEEP_VERSIONS:]:
            if stale.name not in kept and time.time() - stale.stat().st_mtime > PRUNE_AFTER_S:
                shutil.rmtree(stale, ignore_errors=True)
        for version in versions[:KEEP_VERSIONS]:  # a copy or index build cut short by a killed process
            for temp in version.glob(".*.tmp"):
                with contextlib.suppress(OSError):
                    if time.time() - temp.stat().st_mtime > ABANDONED_AFTER_S:
                        temp.unlink()

    def query(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """Run ``sql`` with ``params`` (``?`` placeholders) on a cursor of this process's connection.

        Values are never formatted into ``sql``: callers pass them as parameters. The frame has the dtypes
        a snapshot table decoded with pyarrow has (Arrow is converted the same way).
        """
        return self.arrow(sql, params).to_pandas()

    def arrow(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        """:meth:`query`'s rows as an Arrow table (no Python object per value: for long single columns)."""
        import duckdb  # on first use (module docstring)

        cursor = self._cursor()
        try:
            result: pa.Table = cursor.sql(sql, params=list(params)).to_arrow_table()
            return result
        except duckdb.Error as exc:
            raise SnapshotError(f"Query on the local snapshot copy failed ({exc}).") from exc
        finally:
            cursor.close()

    def attached(self, path: Path) -> str:
        """The name under which queries read the DuckDB file ``path`` (attached read-only on first use)."""
        import duckdb

        key = str(path)
        self._cursor().close()  # this process's connection exists
        with self._lock:
            if key not in self._attached:
                name = f"index{next(self._names)}"
                assert self._connection is not None
                try:
                    self._connection.execute(f"ATTACH '{key.replace(chr(39), chr(39) * 2)}' AS {name} (READ_ONLY)")
                except duckdb.Error as exc:
                    raise SnapshotError(f"Local index {path.name} cannot be opened ({exc}).") from exc
                self._attached[key] = name
            return self._attached[key]

    def detach_except(self, keep: Iterable[str]) -> None:
        """Detach the DuckDB files of version directories other than ``keep`` (no longer served)."""
        kept = {v for v in keep if v}
        with self._lock:
            if self._connection is None or self._pid != os.getpid():
                return  # no query yet in this process (DuckDB not even imported)
            import duckdb

            for key, name in list(self._attached.items()):
                if Path(key).parent.name not in kept:
                    try:
                        self._connection.execute(f"DETACH {name}")
                    except duckdb.Error as exc:  # still read by a page pinned to that version: next time
                        log.warning("index file not detached", extra={"fields": {"file": key, "error": str(exc)}})
                        continue
                    del self._attached[key]

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor (its own connection to the shared in-memory database) for the calling thread; a new
        database after a fork (gunicorn preloads the app, then forks the workers)."""
        import duckdb

        with self._lock:
            if self._connection is None or self._pid != os.getpid():
                self.root.mkdir(parents=True, exist_ok=True)  # DuckDB creates the spill directory, not its parent
                self._connection = duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "threads": 2,
                                                          "temp_directory": str(self.root / SPILL_DIR)})
                self._connection.execute("SET parquet_metadata_cache = true")  # once the parquet extension is loaded
                self._pid = os.getpid()
                self._attached = {}
            return self._connection.cursor()


def _checked(name: str) -> str:
    if not _SAFE_NAME.match(name) or name in (".", ".."):
        raise SnapshotError(f"Not a version or table name: {name!r}.")
    return name
