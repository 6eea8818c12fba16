"""Segments page: builders of dashboard/components/segment_view.py and the page layout, on the bundled snapshot."""

from __future__ import annotations

import json

import dash
import pandas as pd
import plotly.graph_objects as go
import plotly.utils
import pytest

from dashboard import data
from dashboard.components import segment_view as view
from tests.dashboard.components import by_id, page_module, text, walk

# --- helpers -------------------------------------------------------------------------------------------

def _ids(tree) -> set:
    return {c.id for c in walk(tree) if isinstance(getattr(c, "id", None), str)}


def _text(tree) -> str:
    return text(tree, sep=" ")


@pytest.fixture
def tables(in_request):
    """The snapshot tables the page uses, at the current version."""
    version = data.current_version()
    return {name: data.table(name, version) for name in ("segments", "segment_products", "customers", "kpis")}


@pytest.fixture
def segments(tables) -> pd.DataFrame:
    return tables["segments"]


@pytest.fixture
def champions(segments) -> pd.Series:
    return segments.set_index("segment", drop=False).loc["Champions"]


@pytest.fixture
def overall(tables) -> pd.Series:
    return view.overall_profile(tables["customers"])


@pytest.fixture
def page(dash_app):
    """The registered Segments page module (Dash imports page files under its own module name)."""
    return page_module("/segments")


# --- builders ------------------------------------------------------------------------------------------

def test_slug_is_safe_for_ids():
    assert view.slug("Can't Lose Them") == "cant-lose-them"
    assert view.slug("Potential Loyalists") == "potential-loyalists"
    assert view.slug("???") == "segment"


def test_overall_profile_is_the_mean_of_customer_scores(tables, overall):
    customers = tables["customers"]
    assert overall["r_score"] == pytest.approx(customers["r_score"].mean())
    assert overall["f_score"] == pytest.approx(customers["f_score"].mean())
    assert overall["m_score"] == pytest.approx(customers["m_score"].mean())
    assert overall["recency_days"] == pytest.approx(93.06, abs=0.01)  # pinned on the bundled data
    assert overall["frequency"] == pytest.approx(4.272, abs=0.001)


def test_radar_carries_segment_and_overall_scores(champions, overall):
    fig = view.radar_figure(champions, overall, "£")
    assert [trace.name for trace in fig.data] == ["Champions", "All customers"]
    segment, everyone = fig.data
    expected = [champions["mean_r_score"], champions["mean_f_score"], champions["mean_m_score"]]
    assert list(segment.r) == pytest.approx(expected + expected[:1])  # closed loop
    assert list(segment.r[:3]) == pytest.approx([4.588, 4.631, 4.659], abs=0.001)
    assert list(everyone.r) == pytest.approx([overall["r_score"], overall["f_score"], overall["m_score"],
                                              overall["r_score"]])
    assert list(segment.theta) == ["Recency (R)", "Frequency (F)", "Monetary (M)", "Recency (R)"]
    assert tuple(fig.layout.polar.radialaxis.range) == (0, 5)
    assert segment.customdata[0] == "13 days since last order"
    assert everyone.customdata[2] == "£1,916 spent"  # mean net value (was £2,054 before returns were netted)
    assert everyone.line.dash == "dash"


def test_segment_cards_show_formatted_figures(champions, overall, tables):
    basket = float(tables["kpis"].set_index("kpi").loc["avg_basket", "value"])
    cards = view.segment_cards(champions, overall, basket, "£")
    assert by_id(cards, "kpi-customers").children == f"{int(champions['customers']):,}" == "898"
    assert by_id(cards, "kpi-revenue").children == "£5,478,040"  # net value (gross £5,647,340)
    assert by_id(cards, "kpi-avg-basket").children == "£543.22"
    assert by_id(cards, "kpi-recency").children == "13 days"
    assert by_id(cards, "kpi-frequency").children == "11.6 orders"
    assert by_id(cards, "kpi-monetary").children == "£6,100"
    assert by_id(cards, "kpi-at-risk").children == "0"
    assert by_id(cards, "kpi-scores").children == "4.6 / 4.6 / 4.7"
    text = _text(cards)
    assert "20.7 % of all customers" in text and "65.9 % of total net value" in text
    assert "all customers: £480.87" in text and "all customers: 93 days" in text


def test_segment_cards_show_revenue_at_stake(segments, overall):
    row = segments.set_index("segment", drop=False).loc["Can't Lose Them"]
    cards = view.segment_cards(row, overall, 480.87, "£")
    assert by_id(cards, "kpi-at-risk").children == f"{int(row['at_risk_customers']):,}" == "115"
    assert "£360,679 at stake" in _text(cards)


def test_products_table_lists_top_products_in_rank_order(tables):
    products = tables["segment_products"]
    champions = products[products["segment"] == "Champions"]
    table = view.products_table(champions.sample(frac=1, random_state=1), "£")
    rows = by_id(table, "segment-products").children[1].children
    assert len(rows) == len(champions) == 10
    first = _text(rows[0])
    assert "Regency Cakestand 3 Tier" in first and "22423" in first and "£95,328" in first and "307" in first
    assert _text(rows[-1]).startswith("10")


def test_products_table_empty_state():
    empty = pd.DataFrame(columns=["segment", "rank", "stock_code", "description", "revenue", "quantity", "customers"])
    assert view.products_table(empty, "£").id == "segment-products-empty"


def test_picker_lists_segments_by_priority_with_counts(in_request, segments):
    picker = view.segment_picker(segments, "Loyal", {"embed": "1"})
    pills = picker.children
    names = [p.id for p in pills]
    assert names[0] == "segment-pill-all"
    ordered = segments.sort_values("priority_rank", kind="stable")
    assert names[1:] == [f"segment-pill-{view.slug(s)}" for s in ordered["segment"]]
    assert names[1] == "segment-pill-cant-lose-them"  # Critical first
    loyal = by_id(picker, "segment-pill-loyal")
    assert "active" in loyal.className and "703" in _text(loyal)
    assert loyal.href == "/segments?embed=1&segment=Loyal"
    assert by_id(picker, "segment-pill-cant-lose-them").href == "/segments?embed=1&segment=Can%27t+Lose+Them"
    assert by_id(picker, "segment-pill-all").href == "/segments?embed=1"


def test_action_card_links_to_the_action_plan(in_request, segments):
    by_name = segments.set_index("segment", drop=False)
    card = view.action_card(by_name.loc["Can't Lose Them"], {})
    assert by_id(card, "segment-action").children == "Reactivate"
    assert by_id(card, "segment-action-link").href == "/actions?segment=Can%27t+Lose+Them"
    assert by_id(card, "segment-at-risk-link").href == "/actions?segment=Can%27t+Lose+Them&view=at-risk"
    champions = view.action_card(by_name.loc["Champions"], {})
    assert "segment-at-risk-link" not in _ids(champions) and "segment-at-risk-none" in _ids(champions)


def test_comparison_figure_highlights_the_selected_segment(segments):
    fig = view.comparison_figure(segments, "Loyal", "£")
    trace = fig.data[0]
    names = [row[0] for row in trace.customdata]
    assert names == list(segments["segment"])
    assert list(trace.x) == pytest.approx(list(segments["customer_share"] * 100))
    assert list(trace.y) == pytest.approx(list(segments["revenue_share"] * 100))
    widths = dict(zip(names, trace.marker.line.width))
    assert widths["Loyal"] == 3 and widths["Champions"] == 1
    assert fig.layout.clickmode == "event"


def test_comparison_figure_leaves_out_segments_without_customers(segments):
    """A small snapshot (the bundled file's first 3,000 lines) has empty segments: mean spend NaN, no crash."""
    empty = segments["segment"].isin(["Champions", "Loyal"])
    small = segments.assign(customers=segments["customers"].where(~empty, 0),
                            mean_monetary=segments["mean_monetary"].where(~empty))
    trace = view.comparison_figure(small, "Loyal", "£").data[0]
    assert [row[0] for row in trace.customdata] == [n for n in segments["segment"] if n not in ("Champions", "Loyal")]
    assert not pd.isna(list(trace.marker.size)).any()


def test_unknown_segment_lists_valid_ones(in_request, segments):
    alert = view.unknown_segment("Nope", segments, {})
    text = _text(alert)
    assert "Nope" in text
    for name in segments["segment"]:
        assert name in text


# --- page ----------------------------------------------------------------------------------------------

def test_page_for_a_valid_segment(page, in_request, segments):
    tree = page.layout(segment="Champions")
    ids = _ids(tree)
    assert {"segment-radar", "segment-products", "segment-action-card", "segment-comparison-graph",
            "segment-picker", "filter-chip"} <= ids
    assert "segment-unknown" not in ids
    assert by_id(tree, "kpi-customers").children == "898"
    assert by_id(tree, "segment-title").children[0] == "Champions"
    radar = by_id(tree, "segment-radar").figure
    assert radar.data[0].r[0] == pytest.approx(segments.set_index("segment").loc["Champions", "mean_r_score"])


def test_page_for_a_segment_with_an_apostrophe(page, in_request):
    tree = page.layout(segment="Can't Lose Them")
    assert by_id(tree, "kpi-customers").children == "532"
    assert by_id(tree, "segment-label-fr").children == "À ne pas perdre"


def test_page_for_an_unknown_segment(page, in_request):
    tree = page.layout(segment="Nope")
    ids = _ids(tree)
    assert "segment-unknown" in ids and "segment-radar" not in ids and "kpi-customers" not in ids
    assert "Champions" in _text(by_id(tree, "segment-unknown"))


def test_overview_without_a_segment(page, in_request, segments):
    tree = page.layout()
    ids = _ids(tree)
    assert "segment-overview" in ids and "segment-comparison-graph" in ids and "segment-radar" not in ids
    cards = [i for i in ids if i.startswith("segment-card-")]
    assert len(cards) == len(segments) == 6
    assert by_id(tree, "segment-card-champions").href == "/segments?segment=Champions"


def test_page_payload_is_small(page, in_request):
    for query in ({}, {"segment": "Hibernating"}):
        size = len(json.dumps(page.layout(**query), cls=plotly.utils.PlotlyJSONEncoder))
        assert size < 150_000, (query, size)


def test_clicking_a_bubble_selects_its_segment(page, in_request):
    click = {"points": [{"customdata": ["Loyal", 705, 1228935.5, 1743.2], "text": "Loyal"}]}
    assert page.select_segment(click, {"segment": "Champions", "embed": "1"}) == "/segments?segment=Loyal&embed=1"
    assert page.select_segment({"points": [{"text": "Champions"}]}, None) == "/segments?segment=Champions"
    with pytest.raises(dash.exceptions.PreventUpdate):
        page.select_segment(None, {})
    with pytest.raises(dash.exceptions.PreventUpdate):
        page.select_segment({"points": []}, {})


# --- phone width and crowded bubble charts (defect 10) ---------------------------------------------------

RF10 = pd.DataFrame({  # the rf10 scheme's segments on the bundled data (shares and mean spend of the refresh)
    "segment": ["At Risk", "Can't Lose Them", "Champions", "Loyal Customers", "Potential Loyalists",
                "Need Attention", "Promising", "New Customers", "Hibernating", "About to Sleep"],
    "customer_share": [0.0858, 0.0085, 0.1330, 0.1632, 0.1093, 0.0267, 0.0385, 0.0145, 0.3110, 0.1095],
    "revenue_share": [0.0623, 0.0140, 0.4760, 0.2540, 0.0647, 0.0153, 0.0059, 0.0025, 0.0774, 0.0279],
    "mean_monetary": [1492.6, 3368.4, 7350.9, 3196.8, 1216.7, 1176.3, 315.8, 351.4, 511.3, 524.0],
    "priority": ["Critical", "Critical", "High", "High", "Medium", "Medium", "Medium", "Medium", "Low", "Low"],
    "priority_rank": [1, 1, 2, 2, 3, 3, 3, 3, 4, 4],
    "customers": [372, 37, 577, 708, 474, 116, 167, 63, 1349, 475], "revenue": [1.0] * 10,
})


def _label_boxes(fig) -> tuple[list, list]:
    """Estimated pixel boxes of the bubble labels and of the bubbles, as place_labels sees them."""
    trace = fig.data[0]
    (x0, x1), (y0, y1) = fig.layout.xaxis.range, fig.layout.yaxis.range
    width, height = view.PLOT_PX
    sx, sy = width / (x1 - x0), height / (y1 - y0)
    sizeref = trace.marker.sizeref
    labels, bubbles = [], []
    for note in (a for a in fig.layout.annotations if a.ax is not None):
        i = list(trace.text).index(note.text)
        px, py = (trace.x[i] - x0) * sx, (trace.y[i] - y0) * sy
        r = max((trace.marker.size[i] / sizeref) ** 0.5, 8) / 2
        w = view.CHAR_PX * len(note.text) + 4
        cx, cy = px + note.ax, py - note.ay
        labels.append((note.text, (cx - w / 2, cy - 7, cx + w / 2, cy + 7)))
        bubbles.append((note.text, (px - r, py - r, px + r, py + r)))
    return labels, bubbles


def _overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("name", ["rf10", "strategic6"])
def test_bubble_labels_do_not_overlap(name, segments):
    table = RF10 if name == "rf10" else segments
    fig = view.comparison_figure(table, None, "£")
    labels, bubbles = _label_boxes(fig)
    assert sorted(text for text, _ in labels) == sorted(table["segment"])
    for i, (a, box) in enumerate(labels):
        for b, other in labels[i + 1:]:
            assert not _overlaps(box, other), (a, b)
        for b, bubble in bubbles:
            assert b == a or not _overlaps(box, bubble), (a, "on the bubble of", b)
    # before: every label sat at the right of its bubble; four small segments share the bottom-left corner
    assert name != "rf10" or {round(_) for _ in [n.ay for n in fig.layout.annotations if n.ay is not None]} != {0}


def test_chart_titles_wrap_to_fit_a_phone():
    from dashboard.components.charts import TITLE_CHARS, styled, wrap

    assert wrap("Pareto curve: share of revenue by share of customers (%)") == \
        "Pareto curve: share of revenue by<br>share of customers (%)"
    assert wrap("Monthly revenue (£)") == "Monthly revenue (£)"
    fig = styled(go.Figure(), "Customers and revenue by segment (% of total) — click a segment")
    assert all(len(line) <= TITLE_CHARS for line in fig.layout.title.text.split("<br>"))
    assert fig.layout.margin.t == 68  # one more line of title: 20 px more room than a one-line title (48)
