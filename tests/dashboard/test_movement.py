"""Segment history in the dashboard: the Movement page builders on a handmade history, then the pages (Movement,
Executive summary, Segments, Client 360) and their callbacks on the bundled snapshot."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlparse

import dash
import pandas as pd
import pytest

from dashboard import data
from dashboard.components import history_view as hv
from dashboard.components import movement_view as mv
from dashboard.components.campaign import CAMPAIGN_COLUMNS
from tests.dashboard.components import by_id, fetched, find, page_module, text, walk

RANKING = ["Top", "Middle", "Bottom"]
MANIFEST = {"history": {"period": "month", "period_ends": ["2024-01-01", "2024-02-01", "2024-03-01"],
                        "ranking": RANKING, "top_segments": ["Top"], "at_risk_segments": ["Bottom"]},
            "parameters": {"rfm": {"active_days": 30}}, "currency": "£"}


def _history() -> pd.DataFrame:
    # on 1 Feb -> 1 Mar: a Top -> Bottom (down, £500), b Top -> Top, c Middle -> Top (up), d Bottom -> Bottom,
    # e new in Middle; a's recency 20 -> 48 days crosses the 30 active days (lapsed)
    rows = [("a", "2024-02-01", "Top", 20, 400.0), ("a", "2024-03-01", "Bottom", 48, 500.0),
            ("b", "2024-02-01", "Top", 5, 900.0), ("b", "2024-03-01", "Top", 3, 950.0),
            ("c", "2024-02-01", "Middle", 10, 50.0), ("c", "2024-03-01", "Top", 2, 80.0),
            ("d", "2024-02-01", "Bottom", 90, 10.0), ("d", "2024-03-01", "Bottom", 119, -5.0),
            ("e", "2024-03-01", "Middle", 4, 30.0)]
    frame = pd.DataFrame(rows, columns=["customer_id", "period_end", "segment", "recency_days", "monetary"])
    return frame.assign(period_end=pd.to_datetime(frame["period_end"]), frequency=1)


def test_period_window_defaults_to_the_last_period_and_rejects_bad_values():
    assert mv.period_window(MANIFEST, None, None) == ("2024-02-01", "2024-03-01")
    assert mv.period_window(MANIFEST, "2024-01-01", "2024-03-01") == ("2024-01-01", "2024-03-01")
    assert mv.period_window(MANIFEST, "2024-03-01", "2024-02-01") == ("2024-01-01", "2024-02-01")  # start ≥ end
    assert mv.period_window(MANIFEST, "'; drop", "1999-01-01") == ("2024-02-01", "2024-03-01")
    assert mv.period_window({}, None, None) is None


def test_transitions_flows_counts_and_downgrades_by_hand():
    moves = mv.transitions(_history(), "2024-02-01", "2024-03-01", RANKING, 30).set_index("customer_id")
    assert moves["movement"].to_dict() == {"a": "down", "b": "same", "c": "up", "d": "same", "e": "new"}
    assert moves.loc["e", "from_segment"] == mv.NEW
    assert mv.window_counts(moves.reset_index()) == {"upgraded": 1, "downgraded": 1, "new": 1, "lapsed": 1}
    flows = mv.flows(moves.reset_index()).set_index(["from_segment", "to_segment"])
    assert flows.loc[("Top", "Top"), "customers"] == 1 and flows.loc[("Top", "Top"), "value"] == 950.0
    assert flows.loc[("Bottom", "Bottom"), "value"] == 0.0  # d's -£5 counts as 0
    slipped = mv.downgrades(moves.reset_index(), ["Top"], ["Bottom"])
    assert slipped["customer_id"].tolist() == ["a"] and slipped["monetary"].tolist() == [500.0]


def test_sankey_links_carry_their_segments_and_clicks_are_validated():
    moves = mv.transitions(_history(), "2024-02-01", "2024-03-01", RANKING, 30)
    fig = mv.sankey_figure(mv.flows(moves), RANKING, "customers", "£", "2024-02-01", "2024-03-01")
    sankey = fig.data[0]
    # left nodes: Not yet a customer, Top, Middle, Bottom; right: Top, Middle, Bottom
    assert list(sankey.node.label) == [mv.NEW, "Top", "Middle", "Bottom", "Top", "Middle", "Bottom"]
    assert sorted(sankey.link.label) == sorted(["Top → Bottom", "Top → Top", "Middle → Top", "Bottom → Bottom",
                                                f"{mv.NEW} → Middle"])
    assert sum(sankey.link.value) == 5
    known = set(RANKING)
    assert mv.flow_from_click({"points": [{"label": "Top → Bottom", "value": 1}]}, known) == ("Top", "Bottom")
    assert mv.flow_from_click({"points": [{"label": f"{mv.NEW} → Middle"}]}, known) == (mv.NEW, "Middle")
    for bad in (None, {}, {"points": [{"label": "Top"}]}, {"points": [{"label": "Top → Nowhere"}]}, {"points": "x"}):
        assert mv.flow_from_click(bad, known) is None


def test_bound_text_by_hand():
    assert hv.bound_text(5, 9, "orders", "£") == "5 to 8 orders"
    assert hv.bound_text(1, 2, "orders", "£") == "1 order"
    assert hv.bound_text(9, float("nan"), "orders", "£") == "9 orders or more"
    assert hv.bound_text(0, 30, "days", "£") == "0 to 29 days"
    assert hv.bound_text(float("nan"), 300, "money", "£") == "under £300.00"
    assert hv.bound_text(300, 600, "money", "£") == "£300.00 to under £600.00"
    assert hv.bound_text(2, 2, "orders", "£") == "nobody (equal bounds)"


# --- pages on the bundled snapshot -------------------------------------------------------------------------

@pytest.fixture
def version(dash_app, in_request) -> str:
    return data.current_version()


@pytest.fixture
def history(version) -> pd.DataFrame:
    return data.table("segment_history", version)


@pytest.fixture
def last_window(version) -> tuple[str, str]:
    ends = data.manifest(version)["history"]["period_ends"]
    return ends[-2], ends[-1]


def _independent_moves(history: pd.DataFrame, start: str, end: str) -> pd.DataFrame:
    """The same moves computed another way: a pivot of the history, ranked by the bundled scheme."""
    ranking = ["Champions", "Loyal", "Potential Loyalists", "New Customers", "Can't Lose Them", "Hibernating"]
    wide = history.pivot(index="customer_id", columns="period_end", values="segment")
    rank = wide.apply(lambda column: column.map({name: i for i, name in enumerate(ranking)}))
    return pd.DataFrame({"before": rank[pd.Timestamp(start)], "after": rank[pd.Timestamp(end)]}).dropna(subset="after")


def test_bundled_history_has_twelve_month_ends_and_matches_the_customers(version, history):
    manifest = data.manifest(version)
    assert manifest["history"]["period_ends"][-1] == manifest["as_of"] == "2011-12-10"
    assert len(manifest["history"]["period_ends"]) == 12 and manifest["history"]["scoring"] == "quantiles"
    customers = data.table("customers", version).set_index("customer_id")
    now = history[history["period_end"] == pd.Timestamp("2011-12-10")].set_index("customer_id")
    assert now["segment"].to_dict() == customers["segment"].to_dict()
    assert set(customers["movement"]) <= {"up", "down", "same", "new"}
    assert customers.loc["12347", ["segment", "previous_segment"]].tolist() == ["Champions", "Loyal"]


def test_movement_page_default_window_counts_match_an_independent_computation(version, history, last_window):
    page = page_module("/movement")
    layout = page.layout()
    moves = _independent_moves(history, *last_window)
    upgraded = int((moves["after"] < moves["before"]).sum())
    downgraded = int((moves["after"] > moves["before"]).sum())
    new = int(moves["before"].isna().sum())
    assert text(by_id(layout, "movement-count-upgraded")) == f"{upgraded:,} upgraded"
    assert text(by_id(layout, "movement-count-downgraded")) == f"{downgraded:,} downgraded"
    assert text(by_id(layout, "movement-count-new")) == f"{new:,} new"
    sankey = by_id(layout, "movement-sankey").figure.data[0]
    assert sum(sankey.link.value) == len(moves)  # every customer at the end date is in one flow
    assert by_id(layout, "movement-from").value == last_window[0]
    assert find(layout, "movement-grid") is None  # no list until a flow is chosen


def test_sankey_click_opens_the_flow_list_with_state_in_the_url(version, history, last_window):
    page = page_module("/movement")
    scope = {"from": last_window[0], "to": last_window[1], "measure": "value", "embed": "1"}
    href = page.open_flow({"points": [{"label": "Loyal → Can't Lose Them"}]}, scope, version)
    query = {k: v[0] for k, v in parse_qs(urlparse(href).query).items()}
    assert urlparse(href).path == "/movement"
    assert query == {"from": last_window[0], "to": last_window[1], "measure": "value", "from_segment": "Loyal",
                     "to_segment": "Can't Lose Them", "embed": "1"}
    with pytest.raises(dash.exceptions.PreventUpdate):
        page.open_flow({"points": [{"label": "Loyal → <script>"}]}, scope, version)
    layout = page.layout(**query)
    assert text(by_id(layout, "movement-list-title")).startswith("Loyal → Can't Lose Them")
    moves = _independent_moves(history, *last_window)
    loyal, cant_lose = 1, 4  # ranks in the bundled scheme
    expected = int(((moves["before"] == loyal) & (moves["after"] == cant_lose)).sum())
    stored = by_id(layout, "movement-scope").data
    response, _ = page.get_rows({"startRow": 0, "endRow": 25, "sortModel": [], "filterModel": {}}, version, stored)
    assert response["rowCount"] == expected > 0
    source = by_id(layout, "audience-source").data  # "Create audience" (issue 14) starts from exactly this list
    assert len(source["ids"]) == expected and source["description"].startswith("movement: Loyal → Can't Lose Them")
    values = [float(r["monetary"].lstrip("£").replace(",", "")) for r in response["rowData"]]
    assert values == sorted(values, reverse=True)  # most valuable first
    assert {r["from_segment"] for r in response["rowData"]} == {"Loyal"}
    target = response["rowData"][0]["customer_id"]
    assert page.open_client({"rowId": target}, version, stored).startswith(f"/client/{target}")


def test_export_has_the_campaign_columns_in_the_list_order(version, last_window):
    page = page_module("/movement")
    scope = {"from": last_window[0], "to": last_window[1], "list": "downgrades"}
    download = fetched(page.export_links({}, version, scope)[0])
    frame = pd.read_csv(io.StringIO(download["content"][1:]), dtype={"customer_id": str})
    assert tuple(frame.columns) == CAMPAIGN_COLUMNS  # the customer-list contract (docs/EXPORTS.md)
    listed, _ = page.get_rows({"startRow": 0, "endRow": 500}, version, scope)
    assert frame["customer_id"].tolist() == [r["customer_id"] for r in listed["rowData"]] and len(frame) > 0
    # downgraded now: in an at-risk segment, and the top segment they came from is their previous segment
    assert set(frame["segment"]) <= {"Can't Lose Them", "Hibernating"}
    assert set(frame["previous_segment"]) <= {"Champions", "Loyal"}
    assert download["filename"].startswith("movement-high-value-downgrades-")


@pytest.mark.parametrize("scope", [None, "x", {"list": "flow", "from_segment": "Nobody", "to_segment": "Loyal"},
                                   {"from": ["x"], "list": "flow"}])
def test_tampered_scopes_are_refused(version, scope):
    page = page_module("/movement")
    with pytest.raises(dash.exceptions.PreventUpdate):
        page.get_rows({"startRow": 0, "endRow": 25}, version, scope)


def test_executive_summary_links_to_the_downgrades(version, history, last_window):
    layout = page_module("/").layout()
    moves = mv.transitions(history, *last_window, data.manifest(version)["history"]["ranking"], 90)
    slipped = mv.downgrades(moves, ["Champions", "Loyal"], ["Can't Lose Them", "Hibernating"])
    assert text(by_id(layout, "exec-slipped")) == f"{len(slipped):,} high-value customers slipped this month"
    link = by_id(layout, "exec-slipped-link").href
    assert parse_qs(urlparse(link).query) == {"list": ["downgrades"]}
    counts = mv.window_counts(moves)
    assert text(by_id(layout, "exec-movement")).startswith(
        f"{counts['upgraded']:,} upgraded, {counts['downgraded']:,} downgraded, {counts['new']:,} new, "
        f"{counts['lapsed']:,} lapsed this month")


def test_segments_page_shows_score_bounds_and_sizes(version, history):
    layout = page_module("/segments").layout(segment="Champions")
    cutpoints = data.table("score_cutpoints", version).set_index(["metric", "score"])
    f4 = cutpoints.loc[("frequency", 4)]
    assert text(by_id(layout, "cut-f4")) == hv.bound_text(f4["lower"], f4["upper"], "orders", "£")
    assert text(by_id(layout, "cut-f1")) == "1 order"  # a third of the customers bought once
    figure = by_id(layout, "segment-sizes-graph").figure
    champions = next(trace for trace in figure.data if trace.name == "Champions")
    expected = history[history["segment"] == "Champions"].groupby("period_end").size().tolist()
    assert list(champions.y) == expected and len(expected) == 12


def test_client_timeline_and_since(version, history):
    layout = page_module("/client/<customer_id>").layout(customer_id="12347")
    steps = [c for c in walk(by_id(layout, "client-timeline")) if getattr(c, "className", "") == "timeline-step"]
    mine = history[history["customer_id"] == "12347"].sort_values("period_end")
    assert len(steps) == 12
    assert [step.title.split(": ")[1].split(" (")[0] for step in steps[-len(mine):]] == mine["segment"].tolist()
    customer = data.table("customers", version).set_index("customer_id").loc["12347"]
    since = customer["segment_since"]
    assert text(by_id(layout, "client-segment-since")) == \
        f"In Champions since {since.day} {since.strftime('%b %Y')}, before: Loyal."


def test_the_list_filters_offer_segments_and_movements_by_name_and_filter_by_id(version, last_window):
    from dashboard.components.segment_names import segment_names
    from dashboard.i18n import use_language

    with use_language("fr"):
        columns = {c["field"]: c for c in mv.column_defs("£", segment_names(data.table("segments", version)))}
    shown = {o["displayKey"]: o["displayName"] for o in columns["to_segment"]["filterParams"]["filterOptions"][1:]}
    assert shown["is:Can't Lose Them"] == "À ne pas perdre" and shown["is:Loyal"] == "Clients fidèles"
    moves = {o["displayKey"]: o["displayName"] for o in columns["movement"]["filterParams"]["filterOptions"][1:]}
    assert moves == {"is:up": "hausse", "is:down": "baisse", "is:same": "stable", "is:new": "nouveau"}
    offered = [o["displayKey"] for o in columns["from_segment"]["filterParams"]["filterOptions"][1:]]
    assert f"is:{mv.NEW}" in offered

    page = page_module("/movement")
    scope = {"from": last_window[0], "to": last_window[1], "list": "downgrades"}
    everyone, _ = page.get_rows({"startRow": 0, "endRow": 500}, version, scope)
    assert len(everyone["rowData"]) == everyone["rowCount"]
    found = {}
    for key in shown:  # the choices split the downgrades: each row is in exactly one of them
        picked, _ = page.get_rows({"startRow": 0, "endRow": 100, "filterModel": {
            "to_segment": {"filterType": "text", "type": key}}}, version, scope)
        found[key] = picked["rowCount"]
        assert {r["to_segment"] for r in picked["rowData"]} <= {key.removeprefix("is:")}
    assert sum(found.values()) == everyone["rowCount"] > 0
    assert {key for key, n in found.items() if n} == {f"is:{r['to_segment']}" for r in everyone["rowData"]}
    assert min(found.values()) == 0  # the filter filters
    assert page.get_rows({"startRow": 0, "endRow": 100}, version, scope)[1] == \
        f"{everyone['rowCount']} customers"  # the export holds them all (dashboard/list_export.py)
