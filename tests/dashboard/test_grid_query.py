"""Server-side sort, filter and paging of AG Grid requests on a handmade frame (answers worked out by hand)."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.components.grid_query import (
    MAX_BLOCK_ROWS,
    choice_filter_params,
    filter_from_query,
    filter_rows,
    query_rows,
    row_window,
    sort_from_query,
    sort_rows,
)

COLUMNS = {"id": "text", "name": "text", "score": "number", "orders": "number", "last": "date"}
DEFAULT = (("score", False),)


@pytest.fixture
def frame() -> pd.DataFrame:
    """Six customers; scores tie for b/d (80) and c/f (50)."""
    return pd.DataFrame({
        "id": ["a", "b", "c", "d", "e", "f"],
        "name": ["Alice", "bob", "Carol", "Dave", "eve", None],
        "score": [90.0, 80.0, 50.0, 80.0, 10.0, 50.0],
        "orders": [1, 5, 3, 2, 8, 3],
        "last": pd.to_datetime(["2011-01-05 10:00", "2011-03-01 09:00", "2011-03-01 18:30", "2011-06-10 00:00",
                                "2011-12-01 00:00", None]),
    })


def ids(rows: pd.DataFrame) -> list[str]:
    return rows["id"].tolist()


# --- sorting -------------------------------------------------------------------------------------------

def test_sort_ascending_and_descending_with_tiebreak(frame):
    asc = sort_rows(frame, [{"colId": "score", "sort": "asc"}], COLUMNS, tiebreak="id")
    desc = sort_rows(frame, [{"colId": "score", "sort": "desc"}], COLUMNS, tiebreak="id")
    assert ids(asc) == ["e", "c", "f", "b", "d", "a"]
    assert ids(desc) == ["a", "b", "d", "c", "f", "e"]  # ties broken by id, ascending


def test_multi_sort_first_key_first(frame):
    model = [{"colId": "orders", "sort": "desc"}, {"colId": "score", "sort": "asc"}]
    assert ids(sort_rows(frame, model, COLUMNS, tiebreak="id")) == ["e", "b", "c", "f", "d", "a"]
    model = [{"colId": "score", "sort": "desc"}, {"colId": "orders", "sort": "asc"}]
    assert ids(sort_rows(frame, model, COLUMNS, tiebreak="id")) == ["a", "d", "b", "c", "f", "e"]


def test_text_sort_ignores_case_and_puts_missing_last(frame):
    assert ids(sort_rows(frame, [{"colId": "name", "sort": "asc"}], COLUMNS)) == ["a", "b", "c", "d", "e", "f"]
    assert ids(sort_rows(frame, [{"colId": "name", "sort": "desc"}], COLUMNS)) == ["e", "d", "c", "b", "a", "f"]


def test_empty_or_invalid_sort_model_uses_the_default(frame):
    for model in (None, [], "score", [{"colId": "password", "sort": "asc"}], [{"colId": "score", "sort": "up"}],
                  [42, None, {"colId": ["score"], "sort": "asc"}]):
        assert ids(sort_rows(frame, model, COLUMNS, DEFAULT, tiebreak="id")) == ["a", "b", "d", "c", "f", "e"]


def test_unknown_column_is_ignored_but_valid_keys_still_apply(frame):
    model = [{"colId": "__import__('os')", "sort": "asc"}, {"colId": "orders", "sort": "asc"}]
    assert ids(sort_rows(frame, model, COLUMNS, DEFAULT, tiebreak="id")) == ["a", "d", "c", "f", "b", "e"]


def test_a_column_outside_the_allow_list_cannot_be_sorted_even_if_in_the_frame(frame):
    secret = frame.assign(secret=[6, 5, 4, 3, 2, 1])
    model = [{"colId": "secret", "sort": "asc"}]
    assert ids(sort_rows(secret, model, COLUMNS, DEFAULT, tiebreak="id")) == ["a", "b", "d", "c", "f", "e"]


def test_sorting_does_not_modify_the_input(frame):
    before = frame.copy()
    sort_rows(frame, [{"colId": "score", "sort": "asc"}], COLUMNS)
    pd.testing.assert_frame_equal(frame, before)


# --- filtering ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("model", "expected"), [
    ({"filterType": "text", "type": "contains", "filter": "A"}, ["a", "c", "d"]),  # case-insensitive
    ({"filterType": "text", "type": "equals", "filter": "BOB"}, ["b"]),
    ({"filterType": "text", "type": "startsWith", "filter": "ca"}, ["c"]),
    ({"filterType": "text", "type": "endsWith", "filter": "e"}, ["a", "d", "e"]),
    ({"filterType": "text", "type": "notContains", "filter": "e"}, ["b", "c", "f"]),
    ({"filterType": "text", "type": "notEqual", "filter": "eve"}, ["a", "b", "c", "d", "f"]),
    ({"filterType": "text", "type": "blank"}, ["f"]),
    ({"filterType": "text", "type": "notBlank"}, ["a", "b", "c", "d", "e"]),
    ({"filterType": "text", "type": "contains", "filter": ".*"}, []),  # never a regular expression
])
def test_text_filters(frame, model, expected):
    assert ids(filter_rows(frame, {"name": model}, COLUMNS)) == expected


@pytest.mark.parametrize(("model", "expected"), [
    ({"filterType": "number", "type": "equals", "filter": 80}, ["b", "d"]),
    ({"filterType": "number", "type": "greaterThan", "filter": 50}, ["a", "b", "d"]),
    ({"filterType": "number", "type": "greaterThanOrEqual", "filter": 50}, ["a", "b", "c", "d", "f"]),
    ({"filterType": "number", "type": "lessThan", "filter": 50}, ["e"]),
    ({"filterType": "number", "type": "lessThanOrEqual", "filter": "50"}, ["c", "e", "f"]),  # numeric string
    ({"filterType": "number", "type": "inRange", "filter": 50, "filterTo": 80}, ["b", "c", "d", "f"]),  # inclusive
    ({"filterType": "number", "type": "inRange", "filter": 80, "filterTo": 50}, ["b", "c", "d", "f"]),  # swapped
    ({"filterType": "number", "type": "notEqual", "filter": 80}, ["a", "c", "e", "f"]),
])
def test_number_filters(frame, model, expected):
    assert ids(filter_rows(frame, {"score": model}, COLUMNS)) == expected


@pytest.mark.parametrize(("model", "expected"), [
    ({"filterType": "date", "type": "equals", "dateFrom": "2011-03-01 00:00:00"}, ["b", "c"]),  # by day
    ({"filterType": "date", "type": "greaterThan", "dateFrom": "2011-03-01 00:00:00"}, ["d", "e"]),
    ({"filterType": "date", "type": "lessThan", "dateFrom": "2011-03-01"}, ["a"]),
    ({"filterType": "date", "type": "inRange", "dateFrom": "2011-03-01", "dateTo": "2011-06-10"}, ["b", "c", "d"]),
    ({"filterType": "date", "type": "blank"}, ["f"]),
])
def test_date_filters(frame, model, expected):
    assert ids(filter_rows(frame, {"last": model}, COLUMNS)) == expected


def test_combined_conditions_and_or(frame):
    both = {"filterType": "number", "operator": "AND", "conditions": [
        {"filterType": "number", "type": "greaterThan", "filter": 10},
        {"filterType": "number", "type": "lessThan", "filter": 90}]}
    either = {"filterType": "number", "operator": "OR", "conditions": [
        {"filterType": "number", "type": "equals", "filter": 10},
        {"filterType": "number", "type": "equals", "filter": 90}]}
    assert ids(filter_rows(frame, {"score": both}, COLUMNS)) == ["b", "c", "d", "f"]
    assert ids(filter_rows(frame, {"score": either}, COLUMNS)) == ["a", "e"]


def test_an_invalid_condition_in_an_or_does_not_widen_it_to_everything(frame):
    either = {"filterType": "number", "operator": "OR", "conditions": [
        {"filterType": "number", "type": "equals", "filter": 10},
        {"filterType": "number", "type": "bogus", "filter": 90}]}
    assert ids(filter_rows(frame, {"score": either}, COLUMNS)) == ["e"]


def test_filters_on_several_columns_all_apply(frame):
    model = {"score": {"filterType": "number", "type": "greaterThanOrEqual", "filter": 50},
             "orders": {"filterType": "number", "type": "equals", "filter": 3}}
    assert ids(filter_rows(frame, model, COLUMNS)) == ["c", "f"]


@pytest.mark.parametrize("model", [
    None, "score>1", [], {"password": {"filterType": "text", "type": "contains", "filter": "x"}},
    {"score": {"filterType": "number", "type": "regex", "filter": ".*"}},  # unknown type
    {"score": {"filterType": "text", "type": "contains", "filter": "8"}},  # kind does not match the column
    {"score": {"filterType": "set", "values": ["80"]}},  # filter type we do not support
    {"score": {"filterType": "number", "type": "equals", "filter": "NaN"}},
    {"score": {"filterType": "number", "type": "equals", "filter": "1e999"}},
    {"score": {"filterType": "number", "type": "equals", "filter": True}},
    {"score": {"filterType": "number", "type": "equals", "filter": {"$gt": 1}}},
    {"score": {"filterType": "number", "type": "inRange", "filter": 1}},  # no upper bound
    {"last": {"filterType": "date", "type": "equals", "dateFrom": "not a date"}},
    {"name": {"filterType": "text", "type": "contains", "filter": ["a"]}},
    {"score": "greaterThan"},
])
def test_unknown_or_malformed_filters_are_ignored(frame, model):
    assert ids(filter_rows(frame, model, COLUMNS)) == ids(frame)


def test_a_very_long_filter_text_is_cut_not_rejected(frame):
    model = {"name": {"filterType": "text", "type": "startsWith", "filter": "al" + "x" * 10_000}}
    assert ids(filter_rows(frame, model, COLUMNS)) == []


# --- paging ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("start", "end", "window"), [
    (0, 25, (0, 25)), (25, 50, (25, 50)), (90, 125, (90, 100)), (100, 125, (100, 100)),
    (-5, 10, (0, 10)), (10**18, 10**18 + 25, (100, 100)), (0, 10**18, (0, 100)),
    (30, 10, (30, 30)), ("0", "25", (0, 100)),  # strings are not row numbers
    (None, None, (0, 100)), (True, 5, (0, 5)),
    (2.0, 4.0, (2, 4)), (2.5, 4, (0, 4)), (float("nan"), float("inf"), (0, 100)),
])
def test_row_window_is_clamped(start, end, window):
    assert row_window(start, end, total=100) == window


def test_row_window_caps_the_block_size():
    assert row_window(0, 5_000, total=10_000) == (0, MAX_BLOCK_ROWS)
    assert row_window(0, 5_000, total=10_000, max_rows=50) == (0, 50)


def test_query_rows_filters_sorts_and_pages(frame):
    request = {"startRow": 1, "endRow": 3, "sortModel": [{"colId": "orders", "sort": "desc"}],
               "filterModel": {"score": {"filterType": "number", "type": "greaterThan", "filter": 10}}}
    rows, count = query_rows(frame, request, COLUMNS, DEFAULT, "id")
    assert count == 5  # every row but e
    assert ids(rows) == ["c", "f"]  # orders desc: b(5), c(3), f(3), d(2), a(1)


def test_query_rows_pages_do_not_overlap_and_cover_everything(frame):
    pages = [query_rows(frame, {"startRow": s, "endRow": s + 2}, COLUMNS, DEFAULT, "id")[0] for s in (0, 2, 4, 6)]
    assert [ids(p) for p in pages] == [["a", "b"], ["d", "c"], ["f", "e"], []]


@pytest.mark.parametrize("request_", [None, "rows", [], {"startRow": "x"}, {"startRow": -1, "endRow": -1},
                                      {"sortModel": "drop table", "filterModel": ["x"]}])
def test_query_rows_survives_malicious_requests(frame, request_):
    rows, count = query_rows(frame, request_, COLUMNS, DEFAULT, "id")
    assert count == 6 and len(rows) <= 6
    assert set(ids(rows)) <= set(ids(frame))


def test_default_keys_break_ties_of_the_grid_sort(frame):
    by_orders = [{"colId": "orders", "sort": "asc"}]  # c and f tie with 3 orders
    assert ids(sort_rows(frame, by_orders, COLUMNS, (("id", False),), tiebreak="id")) == [
        "a", "d", "f", "c", "b", "e"]  # the default (id descending) decides, before the tiebreak
    assert ids(sort_rows(frame, by_orders, COLUMNS, (), tiebreak="id")) == ["a", "d", "c", "f", "b", "e"]


# --- choice columns (defect 8) and the grid state in the URL (section 3) ---------------------------------

SEGMENTS = pd.DataFrame({"id": ["a", "b", "c", "d"],
                         "segment": ["Loyal", "Potential Loyalists", "loyal", "Can't Lose Them"]})
CHOICE = {"id": "text", "segment": "choice"}


def test_a_choice_filter_matches_the_exact_value_only():
    # "is:Loyal" is the listed value: only a (c is lower-case "loyal", b merely contains it)
    assert ids(filter_rows(SEGMENTS, {"segment": {"filterType": "text", "type": "is:Loyal"}}, CHOICE)) == ["a"]
    assert ids(filter_rows(SEGMENTS, {"segment": {"filterType": "text", "type": "is:Can't Lose Them"}},
                           CHOICE)) == ["d"]
    # equals stays case-insensitive like AG Grid's text filter: a and c; never b
    assert ids(filter_rows(SEGMENTS, {"segment": {"filterType": "text", "type": "equals", "filter": "Loyal"}},
                           CHOICE)) == ["a", "c"]
    assert ids(filter_rows(SEGMENTS, {"segment": {"filterType": "text", "type": "is:Nobody"}}, CHOICE)) == []


def test_a_choice_column_refuses_partial_matches():
    """'contains Loyal' would also return Potential Loyalists: on a choice column it is ignored."""
    for op in ("contains", "startsWith", "endsWith", "notContains"):
        model = {"segment": {"filterType": "text", "type": op, "filter": "Loyal"}}
        assert ids(filter_rows(SEGMENTS, model, CHOICE)) == ["a", "b", "c", "d"]
    # the same request on a plain text column does match partially (b contains "loyal")
    assert ids(filter_rows(SEGMENTS, {"segment": {"filterType": "text", "type": "contains", "filter": "Loyal"}},
                           {"segment": "text"})) == ["a", "b", "c"]


def test_choice_filter_params_list_every_value():
    params = choice_filter_params(["Loyal", "Can't Lose Them"])
    assert params["filterOptions"][0] == "empty" and params["defaultOption"] == "empty"
    assert [o["displayKey"] for o in params["filterOptions"][1:]] == ["is:Loyal", "is:Can't Lose Them"]
    assert all(o["numberOfInputs"] == 0 for o in params["filterOptions"][1:])
    # AG Grid 35 drops a custom option without a predicate (warning #72): each names choiceIs with its value
    assert [o["predicate"] for o in params["filterOptions"][1:]] == [{"function": 'choiceIs("Loyal")'},
                                                                     {"function": 'choiceIs("Can\'t Lose Them")'}]


def test_sort_from_query_keeps_known_columns_and_directions():
    assert sort_from_query("score:desc,name:asc", COLUMNS) == [{"colId": "score", "sort": "desc"},
                                                                {"colId": "name", "sort": "asc"}]
    assert sort_from_query("score:up,secret:asc,orders", COLUMNS) == []
    assert sort_from_query(None, COLUMNS) == [] and sort_from_query("x" * 5000, COLUMNS) == []


def test_filter_from_query_reads_json_and_drops_the_unknown():
    text = '{"score": {"filterType": "number", "type": "greaterThan", "filter": 60}, "secret": {}, "name": 3}'
    assert filter_from_query(text, COLUMNS) == {"score": {"filterType": "number", "type": "greaterThan",
                                                          "filter": 60}}
    assert filter_from_query('{"score": {"filterType": "text", "type": "contains"}}', COLUMNS) == {}
    assert filter_from_query("not json", COLUMNS) == {} and filter_from_query("[1]", COLUMNS) == {}
    model = filter_from_query(text, COLUMNS)  # round trip: the URL's filter filters as the grid's did
    assert ids(query_rows(pd.DataFrame({"id": ["a", "b"], "score": [90.0, 50.0]}), {"filterModel": model},
                          COLUMNS)[0]) == ["a"]
