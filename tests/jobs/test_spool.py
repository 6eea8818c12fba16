"""The encoded tables wait on disk for their publication (jobs/spool.py)."""

from __future__ import annotations

import tempfile
from dataclasses import replace

import pandas as pd
import pytest

from analytics.schema import TABLES
from analytics.settings import PROJECT_ROOT, load_settings
from analytics.snapshot import SnapshotEncoder
from jobs.refresh import main as refresh_main
from jobs.spool import TableSpool
from jobs.store import open_store


def test_each_table_is_a_file_read_back_when_asked(tmp_path):
    spool = TableSpool(tmp_path)
    spool["customers"] = b"PAR1 customers"
    spool["kpis"] = b"PAR1 kpis"
    spool["customers"] = b"PAR1 customers again"  # replaced, listed once
    assert list(spool) == ["customers", "kpis"] and len(spool) == 2
    assert (tmp_path / "customers.parquet").read_bytes() == b"PAR1 customers again"
    assert spool["kpis"] == b"PAR1 kpis" and dict(spool.items())["customers"] == b"PAR1 customers again"
    del spool["kpis"]
    assert list(spool) == ["customers"] and not (tmp_path / "kpis.parquet").exists()
    with pytest.raises(KeyError):
        spool["kpis"]


@pytest.mark.parametrize("name", ["../escape", "Customers", "a/b", ""])
def test_a_name_that_is_not_a_table_name_is_refused(tmp_path, name):
    with pytest.raises(ValueError, match="lowercase identifier"):
        TableSpool(tmp_path / "spool")[name] = b"x"
    assert not list(tmp_path.iterdir())


def test_an_encoder_spooling_to_disk_gives_the_same_tables_and_manifest(tmp_path):
    frame = pd.DataFrame({"kpi": ["customers"], "label": ["Customers"], "value": [3.0], "unit": ["count"],
                          "definition": ["n"]})
    spooled, held = SnapshotEncoder(TableSpool(tmp_path)), SnapshotEncoder()
    for encoder in (spooled, held):
        encoder.add("kpis", frame)
    assert spooled.entries == held.entries
    assert (tmp_path / "kpis.parquet").read_bytes() == held.blobs["kpis"]


def test_a_refresh_publishes_from_its_spool_and_leaves_no_file_behind(tmp_path, monkeypatch):
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    spooled = []
    keep = TableSpool.__setitem__
    monkeypatch.setattr(TableSpool, "__setitem__", lambda spool, name, data: (
        spooled.append((spool.directory.parent, name)), keep(spool, name, data)))
    cut = tmp_path / "cut.parquet"
    pd.read_parquet(PROJECT_ROOT / "data" / "online_retail.parquet").iloc[::40].to_parquet(cut)
    store_url = "file://" + str(tmp_path / "store")
    assert refresh_main(["--store", store_url, "--input", str(cut)]) == 0
    settings = load_settings({})
    store = open_store(replace(settings.store, url=store_url))
    version = store.current_version()
    assert len(store.read_table(version, "customers")) > 1000  # Parquet bytes, read from the published files
    assert {name for _, name in spooled} == set(TABLES) and {where for where, _ in spooled} == {temporary}
    assert not list(temporary.iterdir())
    bad = tmp_path / "bad.csv"  # a failed run removes its spool too
    bad.write_text("InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice\n1,A,1,2011-01-01,2.0\n", encoding="utf-8")
    assert refresh_main(["--store", store_url, "--input", str(bad)]) == 2
    assert store.current_version() == version and not list(temporary.iterdir())
