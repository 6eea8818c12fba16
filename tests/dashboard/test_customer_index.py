"""The per-version customer index files (dashboard.customer_index): built from the Parquet copies in a separate
process, atomic, one build per machine, and read by the pages with the same rows in the same order."""

from __future__ import annotations

import fcntl
import time
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dashboard import data
from dashboard.customer_index import (
    INDEXED_TABLES,
    PUBLISHED_VIEW,
    ROW_COLUMN,
    IndexBuilds,
    build,
    clustered,
    index_file,
    main,
)
from dashboard.local_tables import LocalTables

CUSTOMERS = ("12347", "14911", "17850", "12346", "nobody")


def write(path: Path, frame: pd.DataFrame, row_group_size: int) -> Path:
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=row_group_size)
    return path


def rows_of(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(sql).fetchall()


# by period, then customer: customer "a" in both row groups of 2 rows
BY_PERIOD = pd.DataFrame({"customer_id": ["a", "b", "a", "b"], "period": [1, 1, 2, 2]})


def test_a_table_ordered_by_period_is_sorted_by_customer_keeping_each_customers_order(tmp_path):
    source = write(tmp_path / "history.parquet", BY_PERIOD, row_group_size=2)
    assert not clustered(source)  # row groups [a, b] then [a, b] overlap
    assert build(source, tmp_path / "history.duckdb") == 4
    assert rows_of(tmp_path / "history.duckdb", f"SELECT customer_id, period, {ROW_COLUMN} FROM rows") == [
        ("a", 1, 0), ("a", 2, 2), ("b", 1, 1), ("b", 2, 3)]
    published = rows_of(tmp_path / "history.duckdb", f"SELECT * FROM {PUBLISHED_VIEW}")
    assert published == list(BY_PERIOD.itertuples(index=False, name=None))  # and a copy in the published order


def test_a_table_already_grouped_by_customer_keeps_its_order_and_serves_as_published(tmp_path):
    frame = pd.DataFrame({"customer_id": ["a", "a", "b", "c", "c"], "value": [3.0, 1.0, 2.0, 5.0, 4.0]})
    source = write(tmp_path / "orders.parquet", frame, row_group_size=2)  # [a, a] [b, c] [c]: c spans two groups
    assert clustered(source)
    build(source, tmp_path / "orders.duckdb")
    with duckdb.connect(str(tmp_path / "orders.duckdb"), read_only=True) as connection:
        published = connection.execute(f"SELECT * FROM {PUBLISHED_VIEW}").df()
    pd.testing.assert_frame_equal(published, frame)  # same rows, same order, no _row


def test_a_failed_build_leaves_no_file(tmp_path):
    source = write(tmp_path / "orders.parquet", pd.DataFrame({"other": [1, 2]}), row_group_size=2)
    with pytest.raises(ValueError):  # no customer_id column
        build(source, tmp_path / "orders.duckdb")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.parquet"]


def test_the_builder_command_refuses_unknown_tables_and_reports_failures(tmp_path, capsys):
    assert main([str(tmp_path), "passwords"]) == 2
    assert "tables: customers" in capsys.readouterr().err
    assert main([str(tmp_path), "orders"]) == 1  # no copy to build from
    assert "orders:" in capsys.readouterr().err and not (tmp_path / "orders.duckdb").exists()


def wait_for(path: Path, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} was not built in {seconds:g} s"
        time.sleep(0.1)


def test_a_background_build_runs_once_per_version_and_machine(tmp_path):
    write(tmp_path / "orders.parquet", BY_PERIOD, row_group_size=2)
    asked: list[int] = []

    def copies() -> list[str]:
        asked.append(1)
        return ["orders"]

    other = open(tmp_path / ".index.lock", "a")  # another process builds this version
    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    IndexBuilds().ensure(tmp_path, copies)
    time.sleep(1.0)
    assert not asked and not (tmp_path / "orders.duckdb").exists()
    other.close()

    builds = IndexBuilds()
    builds.ensure(tmp_path, copies)
    wait_for(tmp_path / "orders.duckdb")
    builds.ensure(tmp_path, copies)  # within RETRY_AFTER_S: not again
    time.sleep(0.5)
    assert asked == [1]
    assert "orders: 4 rows" in (tmp_path / ".index.log").read_text()


# --- the pages read the same rows through the index as through the Parquet copy (bundled snapshot) ---------------
@pytest.fixture(scope="module")
def indexed(dash_app, tmp_path_factory) -> tuple[LocalTables, LocalTables, str]:
    """Two LocalTables on the bundled snapshot's copies: one without index files, one with every one built."""
    with dash_app.server.test_request_context("/"):
        version = data.current_version()
        assert version is not None
        plain, built = (LocalTables(tmp_path_factory.mktemp(name)) for name in ("plain", "built"))
        for local in (plain, built):
            for table in INDEXED_TABLES:
                entry = data.manifest(version)["tables"][table]
                copy = local.path(version, table, entry["sha256"], lambda t=table: data.store().read_table(version, t))
                if local is built:
                    build(copy, index_file(copy))
                else:
                    (copy.parent / ".index.lock").touch()
        return plain, built, version


def read_with(local: LocalTables, read, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setitem(data._state, "local", local)
        patch.setattr(data._builds, "ensure", lambda *args: None)  # the plain copies stay without index
        return read()


@pytest.mark.parametrize("table", INDEXED_TABLES)
def test_a_customers_rows_are_the_same_with_or_without_the_index(in_request, indexed, table, monkeypatch):
    plain, built, version = indexed
    for customer in CUSTOMERS:
        expected = read_with(plain, lambda c=customer: data.customer_rows(table, version, c), monkeypatch)
        got = read_with(built, lambda c=customer: data.customer_rows(table, version, c), monkeypatch)
        pd.testing.assert_frame_equal(got, expected)
        assert (customer == "nobody") == got.empty
    assert any(Path(path).name == f"{table}.duckdb" for path in built._attached)  # read through the index


@pytest.mark.parametrize("table", INDEXED_TABLES)
def test_whole_tables_read_through_the_index_are_the_published_ones(in_request, indexed, table, monkeypatch):
    plain, built, version = indexed
    sql = f"SELECT * FROM {{{table}}}"
    pd.testing.assert_frame_equal(read_with(built, lambda: data.query(version, sql), monkeypatch),
                                  read_with(plain, lambda: data.query(version, sql), monkeypatch))


def test_the_actions_grid_block_is_the_same_through_the_index(in_request, indexed, monkeypatch):
    from dashboard.pages import actions

    plain, built, version = indexed
    manifest = data.manifest(version)
    request = {"startRow": 50, "endRow": 150, "sortModel": [{"colId": "monetary", "sort": "desc"}],
               "filterModel": {"recency_days": {"filterType": "number", "type": "greaterThan", "filter": 30}}}
    got = read_with(built, lambda: actions._query(version, None, "all", request, manifest), monkeypatch)
    expected = read_with(plain, lambda: actions._query(version, None, "all", request, manifest), monkeypatch)
    assert got[1] == expected[1] > 150
    pd.testing.assert_frame_equal(got[0], expected[0])


def test_a_segment_lookup_reads_one_column(in_request, indexed, monkeypatch):
    from dashboard import queries

    _plain, built, version = indexed
    assert read_with(built, lambda: queries.segment_of(version, "12347"), monkeypatch) == "Champions"
    with pytest.raises(Exception, match="Not a column name"):
        data.customer_rows("customers", version, "12347", columns=("segment; DROP",))


def test_index_files_of_versions_no_longer_served_are_detached(tmp_path):
    local = LocalTables(tmp_path)
    files = {}
    for version in ("v1", "v2"):
        (tmp_path / version).mkdir()
        source = write(tmp_path / version / "orders.parquet", BY_PERIOD, row_group_size=2)
        build(source, index_file(source))
        files[version] = index_file(source)
    names = {version: local.attached(path) for version, path in files.items()}
    assert local.attached(files["v1"]) == names["v1"] != names["v2"]  # attached once
    local.detach_except(keep={"v2", None})
    assert len(local.query(f"SELECT * FROM {names['v2']}.published")) == 4
    with pytest.raises(Exception, match="index0|v1|not found|does not exist"):
        local.query(f"SELECT * FROM {names['v1']}.published")
    assert len(local.query(f"SELECT * FROM {local.attached(files['v1'])}.published")) == 4  # again on demand
