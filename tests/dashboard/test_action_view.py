"""Actions page on the bundled snapshot: the action matrix, the server-side customer list, the CSV export."""

from __future__ import annotations

import io
import json

import dash
import pandas as pd
import plotly
import pytest

from dashboard import data
from dashboard.components import action_view
from dashboard.components import format as fmt
from dashboard.components import prediction_view as pv
from dashboard.components.campaign import CAMPAIGN_COLUMNS
from tests.dashboard.components import fetched, find, page_module, text

FIRST_AT_RISK = ["17850", "16745", "15939", "16553", "17061"]  # verified on the bundled data


@pytest.fixture
def page(dash_app, in_request):
    """The registered Actions page module (imported by Dash from dashboard/pages)."""
    return page_module("/actions")


@pytest.fixture
def version(in_request) -> str:
    return data.current_version()


@pytest.fixture
def customers(version) -> pd.DataFrame:
    return data.table("customers", version)


@pytest.fixture
def segments(version) -> pd.DataFrame:
    return data.table("segments", version)


def request(start: int = 0, end: int = 25, sort=None, filters=None) -> dict:
    return {"startRow": start, "endRow": end, "sortModel": sort if sort is not None else
            [{"colId": "risk_score", "sort": "desc"}], "filterModel": filters or {}}


# --- the action matrix ----------------------------------------------------------------------------------

def test_matrix_lists_the_six_segments_critical_first_with_the_snapshot_figures(segments):
    links = {name: f"/actions?segment={name}" for name in segments["segment"]}
    table = action_view.action_matrix(segments, "£", None, links)
    rows = table.children[1].children
    assert len(rows) == 6
    assert [r.children[0].children[0].children for r in rows] == segments.sort_values("priority_rank")[
        "segment"].tolist()
    assert rows[0].children[0].children[0].children == "Can't Lose Them"
    assert rows[0].children[1].children.children == "Critical"
    assert rows[0].children[1].children.color == "danger"
    ranks = segments.sort_values("priority_rank")["priority_rank"].tolist()
    assert ranks == sorted(ranks) and ranks[0] == 1
    for row, seg in zip(rows, segments.sort_values("priority_rank").to_dict("records")):
        cells = [text(c) for c in row.children]
        assert cells[2] == seg["action"] and cells[3] == seg["tactic"]
        assert cells[4] == fmt.count(seg["customers"])
        assert cells[5] == (fmt.money(seg["revenue_at_stake"], "£") if seg["revenue_at_stake"] else "–")
        assert row.children[0].children[0].href == links[seg["segment"]]
    assert [text(c) for c in rows[0].children][4:] == ["532", "£360,679", "115"]  # pinned literals (net values)


def test_matrix_highlights_the_selected_segment(segments):
    links = {name: "#" for name in segments["segment"]}
    rows = action_view.action_matrix(segments, "£", "Loyal", links).children[1].children
    classes = {r.children[0].children[0].children: r.className for r in rows}
    assert "selected" in classes["Loyal"]
    assert all("dimmed" in c for name, c in classes.items() if name != "Loyal")


def test_scope_totals_match_the_snapshot(segments, customers):
    assert action_view.scope_totals(segments, None) == (134, pytest.approx(customers.loc[
        customers["at_risk"], "yearly_value"].sum()))
    assert action_view.scope_totals(segments, "Loyal")[0] == 17


def test_column_defs_match_the_server_allow_list():
    defs = action_view.column_defs("£")
    assert [d["colId"] for d in defs] == list(action_view.GRID_COLUMNS)
    filters = {"text": "agTextColumnFilter", "number": "agNumberColumnFilter", "date": "agDateColumnFilter",
               "choice": "agTextColumnFilter"}
    assert all(d["filter"] == filters[action_view.GRID_COLUMNS[d["colId"]]] for d in defs)
    assert [d["headerName"] for d in defs if "£" in d["headerName"]] == [
        "Expected value at stake (£)", "Monetary (£)", "Revenue at stake (£/year)"]
    assert next(d for d in defs if d["colId"] == "risk_score")["sort"] == "desc"  # the default order, shown


def test_list_count_wording():
    assert action_view.list_count(134, 134) == "134 customers"
    assert action_view.list_count(1, 134) == "1 customer of 134"
    assert action_view.list_count(1_234, 4_338) == "1,234 customers of 4,338"
    assert action_view.list_count(0, 134) == "No customer matches these filters"


# --- the layout -----------------------------------------------------------------------------------------

def test_layout_headline_grid_and_payload(page):
    layout = page.layout(view="at-risk")
    assert text(find(layout, "actions-headline")) == "134 high-value customers at risk — £550,900 a year at stake"
    grid = find(layout, "at-risk-grid")
    assert grid.rowModelType == "infinite"
    assert grid.dashGridOptions["pagination"] is True and grid.dashGridOptions["paginationPageSize"] == 25
    assert not getattr(grid, "rowData", None)  # rows come from the server, page by page
    assert find(layout, "actions-scope").data == {"segment": None, "view": "at-risk", "embed": None}
    size = len(json.dumps(layout, cls=plotly.utils.PlotlyJSONEncoder))
    assert size < 50_000, size


def test_layout_narrows_to_a_segment_and_ignores_unknown_values(page):
    layout = page.layout(segment="Loyal", view="all")
    assert find(layout, "actions-scope").data["segment"] == "Loyal"
    assert find(layout, "actions-scope").data["view"] == "all"
    assert "in Loyal" in text(find(layout, "actions-headline"))
    tampered = page.layout(segment="<script>", view="everything")
    assert find(tampered, "actions-scope").data == {"segment": None, "view": "at-risk", "embed": None}


def test_layout_links_keep_the_state_and_the_view(page):
    layout = page.layout(segment="Loyal", view="all", embed="1")
    assert find(layout, "view-at-risk").href == "/actions?segment=Loyal&embed=1&view=at-risk"
    assert find(layout, "view-all").href == "/actions?segment=Loyal&embed=1&view=all"
    assert find(layout, "view-all").active is True and find(layout, "view-at-risk").outline is True
    links = {a.children: a.href for a in (row.children[0].children[0]
                                          for row in find(layout, "action-matrix").children[1].children)}
    assert links["Champions"] == "/actions?segment=Champions&embed=1&view=all"
    assert links["Loyal"] == "/actions?embed=1&view=all"  # clicking the selected segment again clears it


def test_layout_empty_state_when_nobody_is_at_risk(page):
    layout = page.layout(segment="Champions")
    assert find(layout, "at-risk-grid") is None
    assert "No high-value customer at risk in Champions." in text(find(layout, "list-empty"))
    assert find(layout, "list-empty").children[1].href == "/actions?segment=Champions&view=all"
    assert find(layout, "export-csv").disabled is True


# --- the getRows callback -------------------------------------------------------------------------------

def test_get_rows_returns_the_first_page_of_at_risk_customers(page, version, customers):
    response, count = page.get_rows(request(), version, {"segment": None, "view": "at-risk"})
    at_risk = customers[customers["at_risk"]]
    assert response["rowCount"] == len(at_risk) == 134
    rows = response["rowData"]
    assert len(rows) == 25
    assert [r["customer_id"] for r in rows[:5]] == FIRST_AT_RISK
    scores = [float(r["risk_score"]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] == at_risk["risk_score"].max()
    # equal risk scores: the backtest's chosen ranking next (prediction_view.risk_sort), then the most valuable
    ranking, ascending = pv.risk_sort(data.manifest(version))
    expected = at_risk.sort_values(["risk_score", ranking, "monetary", "customer_id"],
                                   ascending=[False, ascending, False, True])
    assert [r["customer_id"] for r in rows] == expected["customer_id"].head(25).tolist()
    # net value 5,391.21 − 102.58 returned; a year at stake: 5,288.63 × 365 / 374 days since the first purchase
    first = at_risk.set_index("customer_id").loc["17850"]
    assert rows[0] == {"customer_id": "17850", "segment": "Can't Lose Them", "risk_score": "96.9",
                       "last_purchase": "2 Dec 2010", "recency_days": 373, "frequency": 34,
                       "monetary": "£5,288.63", "revenue_at_stake": "£5,161.36", "action": "Reactivate",
                       "value_at_stake": fmt.money(first["value_at_stake"], "£"),
                       "p_order_90d": fmt.share(first["p_order_90d"], 0),
                       "expected_orders_90d": fmt.number(first["expected_orders_90d"]),
                       "next_order_date": fmt.day(first["next_order_date"]), "risk_reason": first["risk_reason"],
                       "href": "/client/17850"}
    assert count == "134 customers"


def test_get_rows_pages_cover_the_list_once(page, version):
    seen = []
    for start in range(0, 150, 25):
        response, _ = page.get_rows(request(start, start + 25), version, {"view": "at-risk"})
        seen += [r["customer_id"] for r in response["rowData"]]
    assert len(seen) == len(set(seen)) == 134


def test_get_rows_applies_sort_and_filter_models(page, version, customers):
    by_money = request(sort=[{"colId": "monetary", "sort": "desc"}])
    rows = page.get_rows(by_money, version, {"view": "at-risk"})[0]["rowData"]
    richest = customers[customers["at_risk"]].nlargest(1, "monetary")["customer_id"].iloc[0]
    assert rows[0]["customer_id"] == richest
    loyal = request(filters={"segment": {"filterType": "text", "type": "is:Loyal"}})
    response, count = page.get_rows(loyal, version, {"view": "at-risk"})
    assert response["rowCount"] == 17  # Loyal only, not the 2 Potential Loyalists (defect 8)
    assert {r["segment"] for r in response["rowData"]} == {"Loyal"} and count == "17 customers of 134"
    contains = request(filters={"segment": {"filterType": "text", "type": "contains", "filter": "loyal"}})
    assert page.get_rows(contains, version, {"view": "at-risk"})[0]["rowCount"] == 134  # refused, not 17 + 2


def test_get_rows_narrows_to_the_segment(page, version, customers):
    response, _ = page.get_rows(request(), version, {"segment": "Loyal", "view": "at-risk"})
    assert response["rowCount"] == 17 and {r["segment"] for r in response["rowData"]} == {"Loyal"}
    response, _ = page.get_rows(request(), version, {"segment": "Loyal", "view": "all"})
    assert response["rowCount"] == int((customers["segment"] == "Loyal").sum()) == 703
    response, _ = page.get_rows(request(), version, {"segment": None, "view": "all"})
    assert response["rowCount"] == len(customers) == 4338


@pytest.mark.parametrize("scope", [None, "x", {"segment": "nope", "view": "all'; drop"}, {"segment": ["Loyal"]}])
def test_get_rows_falls_back_to_the_default_scope_on_tampered_state(page, version, scope):
    response, _ = page.get_rows(request(), version, scope)
    assert response["rowCount"] == 134


@pytest.mark.parametrize("bad", [
    {"startRow": -50, "endRow": 10**12, "sortModel": [{"colId": "__class__", "sort": "asc"}]},
    {"startRow": "0; drop", "endRow": None, "filterModel": {"monetary": {"filterType": "number", "type": "eval"}}},
    {"startRow": 10**9, "endRow": 10**9 + 25},
])
def test_get_rows_survives_malicious_requests(page, version, bad):
    response, _ = page.get_rows(bad, version, {"view": "at-risk"})
    assert response["rowCount"] == 134 and len(response["rowData"]) <= 500


def test_get_rows_ignores_a_missing_request_and_answers_a_bad_version(page):
    with pytest.raises(dash.exceptions.PreventUpdate):
        page.get_rows(None, "v", {})
    with pytest.raises(dash.exceptions.PreventUpdate):
        page.get_rows(request(), None, {})
    response, count = page.get_rows(request(), "00000000T000000Z-000000", {})
    assert response == {"rowData": [], "rowCount": 0} and "cannot be loaded" in count


# --- opening a customer ---------------------------------------------------------------------------------

def test_clicking_a_customer_opens_client_360(page, version):
    cell = {"value": "5391.21", "colId": "monetary", "rowIndex": 0, "rowId": "17850"}
    assert page.open_client(cell, version, {"segment": None, "view": "at-risk"}) == "/client/17850"
    # 17850 is Can't Lose Them: the segment filter follows the customer (defect 2)
    assert page.open_client(cell, version, {"segment": "Loyal", "embed": "1"}) == \
        "/client/17850?segment=Can%27t+Lose+Them&embed=1"
    with pytest.raises(dash.exceptions.PreventUpdate):  # the id cell is a link: it navigates by itself
        page.open_client({**cell, "colId": "customer_id"}, version, {})


@pytest.mark.parametrize("cell", [None, {}, {"rowId": 17850}, {"rowId": "../../ops"}, {"rowId": "x" * 41}])
def test_clicking_garbage_does_not_navigate(page, version, cell):
    with pytest.raises(dash.exceptions.PreventUpdate):
        page.open_client(cell, version, {})


# --- CSV export -----------------------------------------------------------------------------------------

def read_download(download: dict) -> pd.DataFrame:
    assert download["content"].startswith("\ufeff")
    return pd.read_csv(io.StringIO(download["content"][1:]), dtype={"customer_id": str, "product_1_code": str,
                                                                    "product_2_code": str, "product_3_code": str},
                       keep_default_na=False, na_values=[""])


def test_a_long_list_is_exported_whole_in_blocks(page, version, monkeypatch):
    """Blocks of 50 rows: 134 customers in three blocks, one header, the rows of the grid in its order."""
    from dashboard import list_export

    scope = {"segment": None, "view": "at-risk"}
    whole = fetched(page.export_links(request(), version, scope)[0])
    monkeypatch.setattr(list_export, "BLOCK_ROWS", 50)
    blocks = fetched(page.export_links(request(), version, scope)[0])
    assert blocks == whole and blocks["content"].count("\ufeff") == 1
    assert blocks["content"].count("customer_id,") == 1
    frame = read_download(blocks)
    assert frame["customer_id"].tolist() == [row["customer_id"] for row in page.get_rows(
        {**request(), "startRow": 0, "endRow": 134}, version, scope)[0]["rowData"]]
    assert page.get_rows(request(), version, scope)[1] == "134 customers"  # no export limit to warn of


def test_export_has_every_row_of_the_list_shown(page, version, customers):
    download = fetched(page.export_links(request(), version, {"segment": None, "view": "at-risk"})[0])
    assert download["filename"] == f"customers-all-at-risk-{version}.csv"
    frame = read_download(download)
    assert len(frame) == 134  # all pages, not just the 25 rows visible
    assert frame["customer_id"].head(5).tolist() == FIRST_AT_RISK
    assert tuple(frame.columns) == CAMPAIGN_COLUMNS  # the documented contract (docs/EXPORTS.md)
    assert frame["revenue_at_stake"].sum() == pytest.approx(
        customers.loc[customers["at_risk"], "yearly_value"].sum(), abs=0.5)
    first = frame.iloc[0]
    assert first["last_purchase"] == "2010-12-02" and first["country"] == "United Kingdom"
    assert first[["r_score", "f_score", "m_score"]].tolist() == [1, 5, 5]
    assert first[["gross_value", "returns_value", "net_value", "revenue_at_stake"]].tolist() == \
        [5391.21, 102.58, 5288.63, 5161.36]
    assert ",true," in download["content"].splitlines()[1]  # booleans written true / false
    assert first["at_risk"] and first["tactic"].startswith("Personal re-engagement")
    recs = data.table("recommendations", version)
    best = recs[recs["customer_id"] == "17850"].sort_values("rank").head(3)
    assert first[["product_1_code", "product_2_code", "product_3_code"]].tolist() == best["stock_code"].tolist()
    assert first["product_1_name"] == best["description"].iloc[0]


def test_export_follows_the_grid_filters_sort_and_segment(page, version, customers):
    grid = request(25, 50, sort=[{"colId": "recency_days", "sort": "asc"}],
                   filters={"frequency": {"filterType": "number", "type": "greaterThan", "filter": 2}})
    download = fetched(page.export_links(grid, version, {"segment": "Can't Lose Them", "view": "all"})[0])
    assert download["filename"] == f"customers-cant-lose-them-all-{version}.csv"
    frame = read_download(download)
    expected = customers[(customers["segment"] == "Can't Lose Them") & (customers["frequency"] > 2)]
    assert len(frame) == len(expected) > 25
    assert frame["recency_days"].is_monotonic_increasing
    assert set(frame["customer_id"]) == set(expected["customer_id"])


def test_export_without_a_grid_request_uses_the_default_order(page, version):
    frame = read_download(fetched(page.export_links(None, version, {"segment": "Loyal"})[0]))
    # the default order is the risk ranking the backtest chose (prediction_view.risk_sort)
    column, ascending = pv.risk_sort(data.manifest(version))
    ordered = frame[column].is_monotonic_increasing if ascending else frame[column].is_monotonic_decreasing
    assert len(frame) == 17 and ordered


def test_export_links_need_a_version(page):
    with pytest.raises(dash.exceptions.PreventUpdate):
        page.export_links(request(), None, {})


# --- real links (defect 3), exact segment choice (defect 8), the grid state in the URL (section 3) --------

def test_grid_rows_carry_their_client_360_link(page, version):
    rows = page.get_rows(request(), version, {"segment": "Can't Lose Them", "view": "at-risk", "embed": "1"})[0]
    assert rows["rowData"][0]["href"] == "/client/17850?segment=Can%27t+Lose+Them&embed=1"
    column = next(c for c in find(page.layout(), "at-risk-grid").columnDefs if c["colId"] == "customer_id")
    assert column["cellRenderer"] == "CustomerLink"  # assets/dashAgGridComponentFunctions.js


def test_segment_filter_is_the_list_of_segments(page, segments):
    column = next(c for c in find(page.layout(), "at-risk-grid").columnDefs if c["colId"] == "segment")
    options = column["filterParams"]["filterOptions"]
    assert options[0] == "empty"
    assert [o["displayName"] for o in options[1:]] == segments["segment"].tolist()
    assert all(o["numberOfInputs"] == 0 for o in options[1:])


def test_layout_restores_the_grid_filter_and_sort_from_the_url(page, version):
    url_filter = json.dumps({"segment": {"filterType": "text", "type": "is:Loyal"},
                             "secret": {"filterType": "text"}})
    grid = find(page.layout(view="all", filter=url_filter, sort="monetary:desc,customer_id:asc"), "at-risk-grid")
    assert grid.filterModel == {"segment": {"filterType": "text", "type": "is:Loyal"}}
    sorts = {c["colId"]: (c.get("sortIndex"), c.get("sort")) for c in grid.columnDefs}
    assert sorts["monetary"] == (0, "desc") and sorts["customer_id"] == (1, "asc")
    default, ascending = pv.risk_sort(data.manifest(version))  # the backtest's best risk ranking
    assert sorts[default] == (None, None)  # the default sort gives way to the URL's
    plain = find(page.layout(view="all", filter="{not json", sort="__class__:asc"), "at-risk-grid")
    assert not getattr(plain, "filterModel", None)
    assert next(c for c in plain.columnDefs if c["colId"] == default)["sort"] == ("asc" if ascending else "desc")


def test_the_url_sync_knows_the_lists_path_and_leaves_the_default_sort_out(page, version):
    # the columns' own sort (the backtest's best risk ranking, p_order_90d ascending on the bundled data) is written
    # to no URL; the path is the list page's (no prefix here)
    default, ascending = pv.risk_sort(data.manifest(version))
    assert (default, ascending) == ("p_order_90d", True)
    assert find(page.layout(), "grid-url-defaults").data == {"path": "/actions", "sort": "p_order_90d:asc"}
