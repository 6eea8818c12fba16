"""Tables encoded one at a time as the pipeline builds them: the same bytes and manifest as all at once."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime, timezone

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analytics import history, orders, recommend
from analytics.errors import SnapshotError
from analytics.pipeline import build_snapshot
from analytics.schema import TABLES
from analytics.segments import load_scheme
from analytics.settings import load_settings
from analytics.snapshot import (
    ROW_GROUP_ROWS,
    Blocks,
    SnapshotEncoder,
    encode,
    encode_blocks,
    encode_snapshot,
    encode_table,
)
from tests.conftest import handmade_lines

CREATED = datetime(2026, 1, 2, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def settings():
    settings = load_settings({})
    return replace(settings, predictive=replace(settings.predictive, enabled=False),
                   evaluation=replace(settings.evaluation, enabled=False))


def test_emitted_tables_encode_like_the_held_snapshot(settings):
    scheme = load_scheme(settings.segments.scheme)
    held = build_snapshot(handmade_lines(), settings, scheme)
    encoder = SnapshotEncoder()
    emitted = build_snapshot(handmade_lines, settings, scheme, emit=encoder.add)  # a function: called once
    assert emitted.tables == {} and set(encoder.blobs) == set(held.tables) == set(TABLES)

    blobs, manifest = encode_snapshot(held, "v1", created_at=CREATED)
    streamed_blobs, streamed = encoder.finish(emitted.meta, "v1", created_at=CREATED)
    assert streamed_blobs == blobs
    assert streamed["tables"] == manifest["tables"] and streamed["content_sha256"] == manifest["content_sha256"]
    timed = {"durations_s", "rules"}  # seconds measured in each run
    untimed = {k: v for k, v in manifest.items() if k not in timed}
    assert {k: v for k, v in streamed.items() if k not in timed} == untimed


def test_a_table_without_a_declared_column_is_refused_when_added():
    with pytest.raises(SnapshotError, match="'kpis' lacks column"):
        SnapshotEncoder().add("kpis", pd.DataFrame({"kpi": ["x"]}))


def test_a_table_added_twice_is_refused():
    encoder = SnapshotEncoder()
    encoder.add("pareto", pd.DataFrame({"customer_share": [1.0], "revenue_share": [1.0]}))
    with pytest.raises(SnapshotError, match="'pareto' was encoded twice"):
        encoder.add("pareto", pd.DataFrame({"customer_share": [1.0], "revenue_share": [1.0]}))


def test_a_missing_table_is_refused_when_finishing():
    encoder = SnapshotEncoder()
    encoder.add("pareto", pd.DataFrame({"customer_share": [1.0], "revenue_share": [1.0]}))
    with pytest.raises(SnapshotError, match="is missing"):
        encoder.finish({}, "v1")


def _listing(rows: int) -> pd.DataFrame:
    """Recommendation-like rows: text, numbers, and lists of text that are empty in most rows."""
    return pd.DataFrame({
        "customer_id": pd.array([f"c{i // 7}" for i in range(rows)], dtype="str"),
        "rank": [i % 7 + 1 for i in range(rows)], "stock_code": "85123A", "description": "MUG",
        "score": [i / 3 for i in range(rows)], "confidence": 0.5, "lift": 2.0, "source": "rule",
        "because": [["a", "b"] if i % 1000 == 999 else [] for i in range(rows)],
        "because_codes": [["1", "2"] if i % 1000 == 999 else [] for i in range(rows)],
    })


@pytest.mark.parametrize("sizes", [[20_000], [5_000, 8_192, 1, 0, 6_807], [8_192, 8_192, 3_616], [1] * 3 + [19_997]])
def test_blocks_encode_to_the_bytes_of_the_whole_table(sizes):
    whole = _listing(sum(sizes))
    bounds = [0, *itertools.accumulate(sizes)]
    frames = [whole.iloc[a:b].reset_index(drop=True) for a, b in zip(bounds[:-1], bounds[1:])]
    assert not any(frames[0]["because"].map(len)[:999])  # the first blocks alone would infer a list of nulls
    blocks = Blocks(iter(frames), sample=whole.iloc[[0, 999]])
    data = encode_blocks(blocks)
    assert data == encode_table(whole) and blocks.rows == len(whole)
    assert pq.ParquetFile(pa.BufferReader(data)).metadata.num_row_groups == 3  # 8,192 + 8,192 + 3,616 rows


def test_no_blocks_encode_the_empty_table():
    empty = _listing(0)
    assert encode_blocks(Blocks(iter([]), sample=empty)) == encode_table(empty)
    assert Blocks(iter([]), sample=_listing(3)).concat().empty


def test_the_encoder_records_a_table_given_in_blocks():
    whole = _listing(10_000)
    encoder = SnapshotEncoder()
    encoder.add("recommendations", Blocks(iter([whole.iloc[:4_000], whole.iloc[4_000:]]), sample=whole.iloc[[0, 999]]))
    reference = SnapshotEncoder()
    reference.add("recommendations", whole)
    assert encoder.blobs == reference.blobs and encoder.entries == reference.entries
    assert encoder.entries["recommendations"]["rows"] == 10_000


def test_tables_built_in_small_blocks_encode_like_the_held_snapshot(settings, bundled_lines, monkeypatch):
    """Recommendations, segment history and order lines of the bundled data in blocks of 1,000, 777 and 50,021
    rows (row groups cut across blocks, customers and invoices): the bytes of the tables built whole."""
    scheme = load_scheme(settings.segments.scheme)
    held = build_snapshot(bundled_lines.copy(), settings, scheme)
    monkeypatch.setattr(recommend, "BLOCK_ROWS", 1_000)
    monkeypatch.setattr(history, "BLOCK_ROWS", 777)
    monkeypatch.setattr(orders, "BLOCK_ROWS", 50_021)
    encoder = SnapshotEncoder()
    emitted = build_snapshot(bundled_lines.copy(), settings, scheme, emit=encoder.add)
    for name in ("recommendations", "segment_history", "order_lines"):
        assert len(held.tables[name]) > 20 * ROW_GROUP_ROWS // 10  # several blocks and row groups
        assert encoder.blobs[name] == encode_table(held.tables[name]), name
        assert encoder.entries[name]["rows"] == len(held.tables[name])
    assert emitted.meta["coverage"] == held.meta["coverage"]
    assert emitted.meta["rows"]["history"]["segment_history"] == len(held.tables["segment_history"])


def test_a_table_encoded_elsewhere_is_recorded_like_one_encoded_here():
    whole = _listing(10_000)
    encoded = encode(Blocks(iter([whole.iloc[:3_000], whole.iloc[3_000:]]), sample=whole.iloc[[0, 999]]))
    assert encoded.rows == 10_000 and encoded.columns["score"] == "float64"
    encoder, reference = SnapshotEncoder(), SnapshotEncoder()
    encoder.add("recommendations", encoded)
    reference.add("recommendations", whole)
    assert encoder.blobs == reference.blobs and encoder.entries == reference.entries
    assert encoder.seconds == 0  # encoded elsewhere: not counted as this encoder's time


def test_an_encoded_table_without_a_declared_column_is_refused():
    with pytest.raises(SnapshotError, match="'kpis' lacks column"):
        SnapshotEncoder().add("kpis", encode(pd.DataFrame({"kpi": ["x"]})))
