"""Executive-summary figures on small frames with known answers."""

import pandas as pd
import pytest

from dashboard.components.charts import monthly_figure, pareto_figure, segment_share_figure

MONTHLY = pd.DataFrame({"month": pd.to_datetime(["2011-11-01", "2011-12-01"]), "revenue": [1000.0, 400.0],
                        "orders": [10, 4], "customers": [8, 3]})


def test_partial_last_month_is_greyed_and_named_in_the_legend():
    """The month the data stops in is its own grey trace, named in the legend (a note over the bar hid the bars
    next to it on a phone)."""
    fig = monthly_figure(MONTHLY, "£", "2011-12-09T12:50:00")
    complete, partial = fig.data
    assert list(complete.y) == [1000.0] and list(partial.y) == [400.0]
    assert complete.marker.color != partial.marker.color
    assert partial.name == "Gross sales to 9 Dec (partial month)" and not fig.layout.annotations
    assert fig.layout.title.text == "Monthly revenue (£)"


def test_complete_last_month_is_not_flagged():
    fig = monthly_figure(MONTHLY, "£", "2011-12-31T18:00:00")
    assert len(fig.data) == 1 and list(fig.data[0].y) == [1000.0, 400.0] and not fig.layout.annotations


def test_pareto_figure_marks_the_80_percent_point():
    curve = pd.DataFrame({"customer_share": [0.0, 0.25, 1.0], "revenue_share": [0.0, 0.8, 1.0]})
    fig = pareto_figure(curve, 0.25)
    assert list(fig.data[0].y) == [0.0, 80.0, 100.0]
    assert fig.layout.annotations[0].text == "25.0 % of customers → 80 %"


def test_segment_shares_in_percent_and_selection_dims_others():
    segments = pd.DataFrame({"segment": ["A", "B"], "customer_share": [0.75, 0.25], "revenue_share": [0.4, 0.6]})
    fig = segment_share_figure(segments, selected="B")
    customers = fig.data[0]
    assert list(customers.y) == ["A", "B"] and list(customers.x) == pytest.approx([75.0, 25.0])
    assert list(customers.marker.opacity) == [0.35, 1.0]


def test_monthly_returns_below_the_axis_and_segment_in_the_title():
    monthly = MONTHLY.assign(returns=[50.0, 0.0])
    fig = monthly_figure(monthly, "£", "2011-12-31T18:00:00", segment="Champions")
    assert [trace.name for trace in fig.data] == ["Gross sales", "Returns"]
    assert list(fig.data[1].y) == [-50.0, -0.0] and fig.layout.barmode == "relative"
    assert fig.layout.title.text.replace("<br>", " ") == "Monthly gross sales and returns of Champions (£)"


def test_pareto_figure_of_a_segment_says_so():
    curve = pd.DataFrame({"customer_share": [0.0, 0.5, 1.0], "revenue_share": [0.0, 0.8, 1.0]})
    fig = pareto_figure(curve, 0.5, segment="Loyal")
    assert fig.layout.annotations[0].text == "50.0 % of Loyal customers → 80 %"
    assert fig.layout.title.text.startswith("Pareto curve of Loyal")


def test_figures_get_the_plotly_white_template_once_the_theme_is_set():
    import plotly.graph_objects as go
    import plotly.io as pio

    from dashboard.components.charts import use_chart_theme

    use_chart_theme()
    assert pio.templates.default == "plotly_white"
    figure = go.Figure(go.Bar(x=[1], y=[2])).to_plotly_json()
    expected = pio.templates["plotly_white"].to_plotly_json()
    assert figure["layout"]["template"] == expected
    assert expected["layout"]["plot_bgcolor"] == "white"  # plotly_white, not plotly's default grey
