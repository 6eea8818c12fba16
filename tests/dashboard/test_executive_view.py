"""Executive summary page body on the bundled snapshot: every figure follows the selected segment, an unknown
segment is flagged, and the money cards reconcile."""

from __future__ import annotations

import pytest

from dashboard import data
from tests.dashboard.components import by_id, find, page_module, text


@pytest.fixture
def page(dash_app):
    return page_module("/")


@pytest.fixture
def tables(in_request):
    version = data.current_version()
    return {name: data.table(name, version) for name in ("kpis", "segments", "pareto_by_segment",
                                                         "monthly_by_segment", "monthly", "pareto")}


def _figure(tree, graph_id):
    return by_id(tree, graph_id).figure


def test_company_wide_money_cards_reconcile(page, in_request, tables):
    tree = page.layout()
    kpis = tables["kpis"].set_index("kpi")["value"]
    assert by_id(tree, "kpi-revenue").children == "£8,911,408"  # gross sales, as published
    assert by_id(tree, "kpi-returns").children == "£611,342"
    assert by_id(tree, "kpi-net-revenue").children == "£8,300,066"
    assert by_id(tree, "kpi-guest-sales").children == "£1,755,277"
    assert kpis["net_revenue"] == pytest.approx(kpis["revenue"] - kpis["returns_value"])
    assert kpis["total_sales"] == pytest.approx(kpis["revenue"] + kpis["guest_sales"])
    assert by_id(tree, "pareto-share").children == "27.2 %"


def test_every_figure_follows_the_segment(page, in_request, tables):
    """Before: the 80/20 figure, the Pareto curve and the monthly chart stayed company-wide."""
    everyone, loyal = page.layout(), page.layout(segment="Loyal")
    segment = tables["segments"].set_index("segment").loc["Loyal"]
    assert by_id(loyal, "pareto-share").children == f"{100 * segment['pareto_share']:.1f} %" != \
        by_id(everyone, "pareto-share").children
    curve = tables["pareto_by_segment"]
    curve = curve[curve["segment"] == "Loyal"]
    assert list(_figure(loyal, "pareto-graph").data[0].y) == pytest.approx((curve["revenue_share"] * 100).tolist())
    assert "Loyal" in _figure(loyal, "pareto-graph").layout.title.text
    monthly = tables["monthly_by_segment"]
    monthly = monthly[monthly["segment"] == "Loyal"]
    sales = [bars for bars in _figure(loyal, "monthly-graph").data if bars.name.startswith("Gross sales")]
    loyal_sales = [y for bars in sales for y in bars.y]  # complete months, then the partial last month
    assert loyal_sales == pytest.approx(monthly["revenue"].tolist())
    assert sum(loyal_sales) < tables["monthly"]["revenue"].sum() / 2
    assert "of Loyal" in _figure(loyal, "monthly-graph").layout.title.text.replace("<br>", " ")
    # money cards of the segment: gross − returns = net; guests have no segment
    assert by_id(loyal, "kpi-revenue").children == f"£{segment['gross_sales']:,.0f}"
    assert by_id(loyal, "kpi-net-revenue").children == f"£{segment['gross_sales'] - segment['returns_value']:,.0f}"
    assert by_id(loyal, "kpi-guest-sales").children == "–"


def test_unknown_segment_is_flagged_over_company_figures(page, in_request):
    tree = page.layout(segment="Foo")
    warning = text(by_id(tree, "segment-unknown"), sep=" ")
    assert "no segment called “Foo”" in warning and "all customers" in warning and "Champions" in warning
    assert by_id(tree, "kpi-revenue").children == "£8,911,408"
    assert find(page.layout(segment="Loyal"), "segment-unknown") is None
