"""Tables encoded one at a time as the pipeline builds them: the same bytes and manifest as all at once."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pandas as pd
import pytest

from analytics.errors import SnapshotError
from analytics.pipeline import build_snapshot
from analytics.schema import TABLES
from analytics.segments import load_scheme
from analytics.settings import load_settings
from analytics.snapshot import SnapshotEncoder, encode_snapshot
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
