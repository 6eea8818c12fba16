"""Local Parquet copies of snapshot tables: verified, atomic, safe when workers race, pruned; DuckDB queries."""

from __future__ import annotations

import hashlib
import os
import threading
import time

import pandas as pd
import pytest

from analytics.errors import SnapshotError
from analytics.snapshot import encode_table
from dashboard.local_tables import KEEP_VERSIONS, PRUNE_AFTER_S, SPILL_DIR, LocalTables

FRAME = pd.DataFrame({"customer_id": ["a", "b", "c'"], "total": [1.5, 2.0, 4.0]})
DATA = encode_table(FRAME)
DIGEST = hashlib.sha256(DATA).hexdigest()


def test_a_copy_is_verified_then_read_by_duckdb(tmp_path):
    local = LocalTables(tmp_path)
    path = local.path("v1", "orders", DIGEST, lambda: DATA)
    assert path == tmp_path / "v1" / "orders.parquet" and path.read_bytes() == DATA
    rows = local.query(f"SELECT * FROM read_parquet('{path}') WHERE customer_id = ?", ["c'"])
    assert rows.to_dict("records") == [{"customer_id": "c'", "total": 4.0}]  # a quote in a value is only a value


def test_an_existing_copy_is_not_read_again(tmp_path):
    local = LocalTables(tmp_path)
    local.path("v1", "orders", DIGEST, lambda: DATA)

    def fail() -> bytes:
        raise AssertionError("the store was read again")

    assert local.path("v1", "orders", DIGEST, fail).read_bytes() == DATA


def test_bytes_not_matching_the_digest_leave_no_file(tmp_path):
    local = LocalTables(tmp_path)
    with pytest.raises(SnapshotError, match="does not match its digest"):
        local.path("v1", "orders", DIGEST, lambda: DATA[:-1])
    assert not list(tmp_path.rglob("*.parquet")) and not list(tmp_path.rglob("*.tmp"))


def test_names_must_be_plain(tmp_path):
    with pytest.raises(SnapshotError, match="Not a version or table name"):
        LocalTables(tmp_path).path("../elsewhere", "orders", DIGEST, lambda: DATA)


def test_racing_copies_end_with_one_complete_file(tmp_path):
    """Eight threads copy the same table at once (all read before any writes): one whole file, no leftovers."""
    local = LocalTables(tmp_path)
    barrier = threading.Barrier(8)
    results: list[bytes] = []

    def read() -> bytes:
        barrier.wait(timeout=10)
        return DATA

    def copy() -> None:
        results.append(local.path("v1", "orders", DIGEST, read).read_bytes())

    threads = [threading.Thread(target=copy) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [DATA] * 8
    assert sorted(p.name for p in (tmp_path / "v1").iterdir()) == ["orders.parquet"]


def test_a_failed_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    local = LocalTables(tmp_path)

    def broken(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        local.path("v1", "orders", DIGEST, lambda: DATA)
    assert not list((tmp_path / "v1").iterdir())


def test_prune_keeps_the_served_and_the_newest_versions(tmp_path):
    local = LocalTables(tmp_path)
    names = [f"2026010{i}T000000Z-aaaaaa" for i in range(1, 7)]
    old = time.time() - PRUNE_AFTER_S - 60
    for name in names:
        (tmp_path / name).mkdir()
        os.utime(tmp_path / name, (old, old))
    (tmp_path / "20260100T000000Z-recent").mkdir()  # oldest name but touched just now: another app may use it
    (tmp_path / SPILL_DIR).mkdir()  # DuckDB's temporary files: not a version
    os.utime(tmp_path / SPILL_DIR, (old, old))
    local.prune(keep={names[0], None})
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(["20260100T000000Z-recent", SPILL_DIR, names[0], *names[-KEEP_VERSIONS:]])


def test_prune_removes_temporary_files_a_killed_copy_left_behind(tmp_path):
    from dashboard.local_tables import ABANDONED_AFTER_S

    version = tmp_path / "20260101T000000Z-aaaaaa"
    version.mkdir()
    abandoned, writing = version / ".customers.x1y2.tmp", version / ".customers.duckdb.123.tmp"
    for path in (abandoned, writing, version / "customers.parquet"):
        path.write_bytes(b"x")
    old = time.time() - ABANDONED_AFTER_S - 60
    os.utime(abandoned, (old, old))
    os.utime(version / "customers.parquet", (old, old))
    LocalTables(tmp_path).prune(keep={version.name})
    assert sorted(p.name for p in version.iterdir()) == [writing.name, "customers.parquet"]


def test_query_errors_are_snapshot_errors(tmp_path):
    with pytest.raises(SnapshotError, match="Query on the local snapshot copy failed"):
        LocalTables(tmp_path).query("SELECT * FROM read_parquet(?)", [str(tmp_path / "missing.parquet")])


def test_tables_are_encoded_in_small_row_groups_with_statistics(tmp_path):
    """One customer's rows sit in one row group whose min/max exclude the others (what makes lookups cheap)."""
    import pyarrow.parquet as pq

    from analytics.snapshot import ROW_GROUP_ROWS

    frame = pd.DataFrame({"customer_id": [f"{i:06d}" for i in range(2 * ROW_GROUP_ROWS + 5)], "total": 1.0})
    path = tmp_path / "t.parquet"
    path.write_bytes(encode_table(frame))
    meta = pq.ParquetFile(path).metadata
    assert meta.num_row_groups == 3
    stats = meta.row_group(1).column(0).statistics
    assert (stats.min, stats.max) == (f"{ROW_GROUP_ROWS:06d}", f"{2 * ROW_GROUP_ROWS - 1:06d}")


def test_a_query_larger_than_the_memory_limit_spills_under_the_cache_directory(tmp_path, monkeypatch):
    """A join of 3 M text keys needs more than MEMORY_LIMIT: it spills into the cache directory, never into the
    working directory (read-only in a container)."""
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    local = LocalTables(tmp_path / "cache")
    rows = local.query("SELECT count(*) AS n FROM (SELECT md5(i::VARCHAR) AS k FROM range(3000000) t(i)) a "
                       "JOIN (SELECT md5(i::VARCHAR) AS k FROM range(3000000) t(i)) b USING (k)")
    assert rows["n"].tolist() == [3_000_000]
    assert (tmp_path / "cache" / SPILL_DIR).is_dir() and not any(work.iterdir())
