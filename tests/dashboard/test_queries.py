"""The pages' SQL questions (dashboard.queries, data.grid_page) give what the pandas code on whole tables gives,
on the bundled snapshot; plus the store-down behaviour of the local copies."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.errors import StoreUnavailableError
from dashboard import data, queries
from dashboard.components import action_view
from dashboard.components import audience as au
from dashboard.components import client_view as cv
from dashboard.components import movement_view as mv
from dashboard.components import product_view as pv
from dashboard.components.campaign import campaign_rows
from dashboard.components.grid_query import query_rows
from dashboard.components.history_view import segment_sizes
from dashboard.components.segment_view import overall_profile

CUSTOMERS = ("12347", "14911", "17850", "12346")


@pytest.fixture
def version(in_request) -> str:
    return data.current_version()


@pytest.fixture
def customers(version) -> pd.DataFrame:
    return data.table("customers", version)


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.reset_index(drop=True)


@pytest.mark.parametrize("table", ["orders", "order_lines", "recommendations", "segment_history", "customers"])
def test_customer_rows_are_the_full_scan(version, table):
    whole = data.table(table, version)
    for customer in CUSTOMERS:
        pd.testing.assert_frame_equal(data.customer_rows(table, version, customer),
                                      plain(whole[whole["customer_id"] == customer]))


def test_segment_of_and_unknown_ids(version, customers):
    assert queries.segment_of(version, "12347") == cv.customer_segment(customers, "12347")
    assert queries.segment_of(version, "nobody") is None and queries.customer(version, "nobody").empty


@pytest.mark.parametrize("text", ["1234", "8", "999", "abc", ""])
def test_suggestions_match_the_frame_version(version, customers, text):
    pd.testing.assert_frame_equal(queries.suggest_ids(version, text.lower(), cv.SUGGESTIONS),
                                  plain(cv.suggest_ids(customers, text)), check_dtype=False)


@pytest.mark.parametrize("segment", [None, "Champions", "Hibernating"])
def test_top_customers_are_nlargest(version, customers, segment):
    scope = customers[customers["segment"] == segment] if segment else customers
    expected = plain(scope[scope["at_risk"]].nlargest(5, "risk_score"))
    pd.testing.assert_frame_equal(queries.top_customers(version, segment, "risk_score", 5, at_risk=True), expected)
    pd.testing.assert_frame_equal(queries.top_customers(version, segment, "monetary", 5),
                                  plain(scope.nlargest(5, "monetary")))
    with pytest.raises(ValueError, match="by must be"):
        queries.top_customers(version, segment, "1; DROP TABLE customers", 5)


def test_aggregates_match(version, customers, dash_app):
    pd.testing.assert_series_equal(queries.profile_means(version), overall_profile(customers), check_names=False)
    history = data.table("segment_history", version)
    pd.testing.assert_frame_equal(queries.segment_sizes(version), segment_sizes(history), check_dtype=False)
    in_segment = customers[customers["segment"] == "Champions"]
    assert queries.active_in_segment(version, "Champions", 90) == int((in_segment["recency_days"] <= 90).sum())
    assert queries.customer_count(version) == len(customers)


def test_movement_matches_transitions(version):
    manifest = data.manifest(version)
    meta = mv.history_meta(manifest)
    start, end = mv.period_window(manifest, None, None)
    ranking = meta["ranking"]
    moves = mv.transitions(data.table("segment_history", version), start, end, ranking, 90)
    source = queries.moves_source(start, end, ranking, 90, mv.NEW)
    by_id = data.query(version, f"SELECT * FROM ({source[0]}) AS m ORDER BY customer_id", source[1])
    pd.testing.assert_frame_equal(by_id, plain(moves.sort_values("customer_id")), check_dtype=False)
    expected_flows = mv.flows(moves).sort_values(["from_segment", "to_segment"])
    pd.testing.assert_frame_equal(queries.flows(version, source), plain(expected_flows), check_dtype=False)
    assert queries.window_counts(version, source) == mv.window_counts(moves)
    top, at_risk = meta["top_segments"], meta["at_risk_segments"]
    slipped = queries.downgrades(version, queries.downgrades_source(start, end, ranking, 90, mv.NEW, top, at_risk))
    pd.testing.assert_frame_equal(slipped, plain(mv.downgrades(moves, top, at_risk)), check_dtype=False)
    assert queries.window_moves(version, start, end, mv.NEW)[1] == mv.window_counts(moves)  # from history_periods
    assert queries._period_counts(version, start, end) == mv.window_counts(moves)
    assert len(moves) > 1000 and 0 < mv.window_counts(moves)["downgraded"] < len(moves)


def test_every_periods_published_high_value_slips_match_the_downgrades_query(version):
    """history_periods' high_value_slipped(_value) (the refresh) = the Movement page's downgrades (DuckDB)."""
    meta = data.manifest(version)["history"]
    periods = data.table("history_periods", version)
    slipped_somewhere = 0
    for row in periods.itertuples():
        start, end = row.period_start.date().isoformat(), row.period_end.date().isoformat()
        slipped = queries.downgrades(version, queries.downgrades_source(
            start, end, meta["ranking"], 90, mv.NEW, meta["top_segments"], meta["at_risk_segments"]))
        assert row.high_value_slipped == len(slipped), end
        assert row.high_value_slipped_value == pytest.approx(float(slipped["monetary"].clip(lower=0).sum()), abs=1e-6)
        assert queries.window_summary(version, start, end, mv.NEW)[:2] == (len(slipped), row.high_value_slipped_value)
        slipped_somewhere += len(slipped) > 0
    assert slipped_somewhere >= 3


def test_the_executive_line_falls_back_to_the_history_query_on_older_snapshots(version, monkeypatch):
    """A snapshot published before the slip columns: same figures, computed from segment_history."""
    start, end = mv.period_window(data.manifest(version), None, None)
    published = queries.window_summary(version, start, end, mv.NEW)
    older = data.table("history_periods", version).drop(columns=["high_value_slipped", "high_value_slipped_value"])
    real = data.table
    monkeypatch.setattr(data, "table", lambda name, v: older if name == "history_periods" else real(name, v))
    computed = queries.window_summary(version, start, end, mv.NEW + " ")  # another memo key: computed again
    assert computed[0] == published[0] > 0 and computed[2] == published[2]
    assert computed[1] == pytest.approx(published[1])


@pytest.mark.parametrize("segment,view", [(None, "at-risk"), (None, "all"), ("Champions", "all")])
@pytest.mark.parametrize("request_", [
    {"startRow": 0, "endRow": 25},
    {"startRow": 50, "endRow": 100, "sortModel": [{"colId": "action", "sort": "asc"}]},
    {"startRow": 0, "endRow": 30, "sortModel": [{"colId": "last_purchase", "sort": "desc"}],
     "filterModel": {"monetary": {"filterType": "number", "type": "greaterThan", "filter": 1000},
                     "segment": {"filterType": "text", "type": "notEqual", "filter": "lost"}}},
    {"startRow": 0, "endRow": 500, "filterModel": {"customer_id": {"filterType": "text", "type": "startsWith",
                                                                    "filter": "13"}}},
])
@pytest.mark.parametrize("deep", [False, True])
def test_actions_grid_pages_match_the_pandas_list(version, customers, segment, view, request_, deep, monkeypatch):
    if deep:  # every block read from the worker's kept ordering (dashboard/ordered_keys.py), as deep blocks are
        monkeypatch.setattr(data, "DEEP_ROW", 0)
    segments = data.table("segments", version)
    frame = action_view.customer_list(customers, segments, segment, view)
    default = (("risk_score", False), ("monetary", False))
    expected, total = query_rows(frame, request_, action_view.GRID_COLUMNS, default, action_view.TIEBREAK)
    source, params = queries.customer_list_source(segment, view)
    rows, count = data.grid_page(version, source, params, request_, action_view.GRID_COLUMNS, default,
                                 action_view.TIEBREAK)
    assert count == total and queries.scope_count(version, source, params) == len(frame)
    assert rows["customer_id"].tolist() == expected["customer_id"].tolist()
    pd.testing.assert_frame_equal(rows[list(frame.columns)], plain(expected), check_dtype=False)


def test_an_export_sized_block_reads_its_rows_by_one_joined_list(version, customers):
    """Beyond data.IN_LIST_KEYS keys, the block's rows come from a join: the same rows in the same order."""
    segments = data.table("segments", version)
    frame = action_view.customer_list(customers, segments, None, "all")
    request_ = {"startRow": 10, "endRow": 3010, "sortModel": [{"colId": "monetary", "sort": "asc"}]}
    expected, _total = query_rows(frame, request_, action_view.GRID_COLUMNS, (), action_view.TIEBREAK, max_rows=5000)
    source, params = queries.customer_list_source(None, "all")
    rows, _count = data.grid_page(version, source, params, request_, action_view.GRID_COLUMNS, (),
                                  action_view.TIEBREAK, max_rows=5000)
    assert len(rows) == 3000 > data.IN_LIST_KEYS
    pd.testing.assert_frame_equal(rows[list(frame.columns)], plain(expected), check_dtype=False)


def test_product_and_rule_audiences_match(version, customers):
    buyers = data.table("product_buyers", version)
    code = buyers["stock_code"].value_counts().index[0]
    pd.testing.assert_frame_equal(queries.buyers_by_segment(version, code),
                                  plain(pv.buyers_by_segment(buyers, customers, code)), check_dtype=False)
    recommendations = data.table("recommendations", version)
    assert queries.recommended_count(version, code) == int((recommendations["stock_code"] == code).sum())
    index = au.buyers_index(buyers)
    for rule in data.table("rules", version).head(5).to_dict("records"):
        for segment in (None, "Champions"):
            pd.testing.assert_frame_equal(
                queries.rule_audience(version, list(rule["antecedents"]), list(rule["consequents"]), segment),
                au.audience(rule, index, customers, segment), check_dtype=False)


def test_campaign_export_matches(version, customers):
    ids = ["17850", "nobody", "12347", "14911"]
    expected = campaign_rows(customers, data.table("segments", version), data.table("recommendations", version),
                             ids, "£")
    pd.testing.assert_frame_equal(queries.campaign_export(version, ids, "£"), expected)
    assert queries.segments_of(version, ["12347", "nobody"]).isna().tolist() == [False, True]


def test_pages_keep_reading_the_local_copies_while_the_store_is_down(version, monkeypatch):
    """The copies are the last good copy: by-key queries answer with the store down; a table never copied
    cannot be (the store error surfaces)."""
    before = data.customer_rows("orders", version, "12347")

    class Down:
        def __getattr__(self, name: str):
            def fail(*args, **kwargs):
                raise StoreUnavailableError("store down (test)")
            return fail

    monkeypatch.setattr(data, "store", lambda: Down())
    monkeypatch.setattr(data._pointer, "checked_at", 0.0)  # ask the store again now
    assert data.current_version() == version and data.status().unavailable_since is not None
    pd.testing.assert_frame_equal(data.customer_rows("orders", version, "12347"), before)
    assert queries.segment_of(version, "12347") is not None
    path = data.local_path("orders", version)
    monkeypatch.setattr(data._state["local"], "root", data._state["local"].root / "elsewhere")
    with pytest.raises(StoreUnavailableError):
        data.local_path("orders", version)
    assert path.endswith("orders.parquet")
    monkeypatch.undo()  # the store is back: the next poll clears the outage
    data._pointer.checked_at = 0.0
    assert data.current_version() == version and data.status().unavailable_since is None
