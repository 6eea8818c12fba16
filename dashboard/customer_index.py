"""Per-version DuckDB files of the per-customer tables, sorted by customer id, for reads by key.

Client 360 reads one customer's rows of five tables. In a Parquet copy a read by ``customer_id`` binds the
file and decodes a whole row group (8,192 rows, every column): about 45 ms at 1 M customers, and
``segment_history`` (ordered by period) spreads a customer over twelve row groups. In a DuckDB file sorted
by ``customer_id`` the same read scans one column's zone and fetches the matching rows: 4-9 ms
(docs/PERFORMANCE.md, section 6).

Next to each verified copy ``<cache>/<version>/<table>.parquet`` the builder writes ``<table>.duckdb``, table
``rows``: the same rows with their position as column ``_row``, so that a customer's rows come back in the
table's order. ``published`` is the table as published, for every other query (the Actions grid: 4x less CPU than
the Parquet copy). When the copy's row groups are already ordered by customer_id (their statistics say so:
every table but ``segment_history``), ``rows`` keeps the published order and ``published`` is a view of it;
else ``rows`` is sorted by (customer_id, ``_row``) and ``published`` is a second copy in the file's order.

The builder runs in its own process (``python -m dashboard.customer_index DIR TABLE...``, at a lower CPU
priority, with its own memory limit), so a worker's memory never holds a build. One process per machine
builds a version (an exclusive lock on ``<version>/.index.lock``), each file written under a temporary name
and moved into place with ``os.replace``. Until a file exists, reads go to
the Parquet copy: the same rows in the same order (tested).
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pyarrow.parquet as pq

__all__ = ["INDEXED_TABLES", "ROW_COLUMN", "PUBLISHED_VIEW", "index_file", "build", "IndexBuilds", "main"]

log = logging.getLogger(__name__)

INDEXED_TABLES = ("customers", "orders", "recommendations", "segment_history", "customer_products", "order_lines")
ROW_COLUMN = "_row"  # the row's position in the published table
PUBLISHED_VIEW = "published"  # the table as published (a view of ``rows`` when they kept that order)
BUILD_MEMORY = "512MB"  # the builder's DuckDB memory (its sort spills to disk beyond it)
BUILD_NICE = 10  # the builder yields the CPU to the workers serving pages
BUILD_TIMEOUT_S = 3_600.0
RETRY_AFTER_S = 60.0  # another process held the version's lock: look again after this long


def index_file(copy: Path) -> Path:
    """The DuckDB file of a table's Parquet copy (``orders.parquet`` -> ``orders.duckdb``)."""
    return copy.with_suffix(".duckdb")


def build(source: Path, target: Path, memory: str = BUILD_MEMORY) -> int:
    """Write ``target``: the rows of the Parquet file ``source`` as table ``rows``, sorted by customer_id then
    file order (column ROW_COLUMN). Returns the row count.

    Raises:
        duckdb.Error: the file cannot be read, or has no ``customer_id`` column.
    """
    import duckdb  # in the builder process: the app imports DuckDB only on its first query

    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    spill = target.with_name(f".{target.stem}.{os.getpid()}.spill")
    temp.unlink(missing_ok=True)
    try:
        with duckdb.connect(str(temp), config={"memory_limit": memory, "threads": 1,
                                               "temp_directory": str(spill)}) as connection:
            kept = clustered(source)
            order = "" if kept else f"ORDER BY customer_id, {ROW_COLUMN}"  # a sort costs minutes: only when needed
            connection.execute(f"CREATE TABLE rows AS SELECT * RENAME (file_row_number AS {ROW_COLUMN}) "
                               f"FROM read_parquet(?, file_row_number = true) {order}", [str(source)])
            if kept:  # the published table, rows in its order, for every other query
                connection.execute(f"CREATE VIEW {PUBLISHED_VIEW} AS SELECT * EXCLUDE ({ROW_COLUMN}) FROM rows")
            else:  # a second copy in the published order (2.5x less CPU than the Parquet copy for period queries)
                connection.execute(f"CREATE TABLE {PUBLISHED_VIEW} AS SELECT * FROM read_parquet(?)", [str(source)])
            found = connection.execute("SELECT count(*) FROM rows").fetchone()
            connection.execute("CHECKPOINT")
        os.replace(temp, target)  # whole and closed, or absent
    finally:
        temp.unlink(missing_ok=True)
        Path(f"{temp}.wal").unlink(missing_ok=True)
        shutil.rmtree(spill, ignore_errors=True)
    return int(found[0]) if found else 0


def clustered(source: Path) -> bool:
    """Whether the file's row groups hold increasing, disjoint ranges of customer_id (their statistics say
    so): then each customer's rows are contiguous and kept in file order, with no sort."""
    metadata = pq.ParquetFile(source).metadata
    column = metadata.schema.names.index("customer_id")
    previous = None
    for group in range(metadata.num_row_groups):
        stats = metadata.row_group(group).column(column).statistics
        if stats is None or not stats.has_min_max:
            return False
        if previous is not None and stats.min < previous:
            return False
        previous = stats.max
    return True


class IndexBuilds:
    """This process's builds: at most one background build per version at a time, one machine-wide."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next_try: dict[str, float] = {}

    def ensure(self, version_dir: Path, copies: Callable[[], Sequence[str]]) -> None:
        """Build the missing index files of a version in the background (at most every RETRY_AFTER_S).

        ``copies()`` runs in the background thread first: it makes sure the Parquet copies exist and returns
        the names of the tables to index."""
        key = str(version_dir)
        with self._lock:
            if time.monotonic() < self._next_try.get(key, 0.0):
                return
            self._next_try[key] = time.monotonic() + RETRY_AFTER_S
        threading.Thread(target=self._run, args=(version_dir, copies), name="customer-index", daemon=True).start()

    def _run(self, version_dir: Path, copies: Callable[[], Sequence[str]]) -> None:
        try:
            version_dir.mkdir(parents=True, exist_ok=True)
            with open(version_dir / ".index.lock", "a") as lock:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return  # another process builds this version
                tables = [t for t in copies() if not index_file(version_dir / f"{t}.parquet").exists()]
                if tables:
                    _build_in_child(version_dir, tables)
        except Exception:  # a failed build leaves the Parquet reads in place; never crash a worker
            log.exception("customer index build failed", extra={"fields": {"version_dir": str(version_dir)}})


def _build_in_child(version_dir: Path, tables: Sequence[str]) -> None:
    """Run the builder and log its outcome; its messages go to ``<version>/.index.log``, not to a pipe, so it
    finishes even when this process ends first."""
    started, messages = time.monotonic(), version_dir / ".index.log"
    with open(messages, "w") as errors:
        done = subprocess.run([sys.executable, "-m", "dashboard.customer_index", str(version_dir), *tables],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors,
                              timeout=BUILD_TIMEOUT_S, check=False)
    fields: dict[str, object] = {"version_dir": str(version_dir), "tables": ",".join(tables),
                                 "exit": done.returncode, "seconds": round(time.monotonic() - started, 3)}
    if done.returncode:
        fields["error"] = messages.read_text(errors="replace").strip()[-500:]
        log.warning("customer index build failed", extra={"fields": fields})
    else:
        log.info("customer index built", extra={"fields": fields})


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m dashboard.customer_index VERSION_DIR TABLE...``: build each table's index file from its copy."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 2 or any(t not in INDEXED_TABLES for t in args[1:]):
        print(f"usage: python -m dashboard.customer_index VERSION_DIR TABLE... (tables: {', '.join(INDEXED_TABLES)})",
              file=sys.stderr)
        return 2
    import duckdb

    if hasattr(os, "nice"):
        os.nice(BUILD_NICE)
    version_dir, failed = Path(args[0]), 0
    for table in args[1:]:
        source = version_dir / f"{table}.parquet"
        try:
            rows = build(source, index_file(source))
            print(f"{table}: {rows} rows", file=sys.stderr, flush=True)
        except (duckdb.Error, OSError, ValueError) as exc:
            print(f"{table}: {exc}", file=sys.stderr, flush=True)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
