"""Plotly figures for the executive summary, and the common chart style."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from dash import dcc

__all__ = ["GRAPH_CONFIG", "TITLE_CHARS", "use_chart_theme", "wrap", "styled", "graph", "pareto_figure",
           "segment_share_figure", "monthly_figure", "PALETTE"]

GRAPH_CONFIG: dcc.Graph.Config = {"displayModeBar": False, "responsive": True}  # dcc.Graph config used on every page
PALETTE = {"customers": "#6c8ebf", "revenue": "#2f6f4f", "highlight": "#d9822b", "muted": "#b8c2cc",
           "returns": "#b54a4a"}


def use_chart_theme() -> None:
    """Make plotly_white the default template (once, at app start: re-applying it per figure costs ~10 ms)."""
    pio.templates.default = "plotly_white"
    go.Figure().to_plotly_json()  # load the template now (preload: once, in the gunicorn master)


TITLE_CHARS = 38  # a chart title wraps after this many characters: what fits a phone (390 px) at 15 px


def wrap(text: str, width: int = TITLE_CHARS) -> str:
    """``text`` broken into lines of at most ``width`` characters at spaces, joined by ``<br>`` (plotly's break).

    SVG titles never wrap by themselves: a long one is clipped on a narrow screen.
    """
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def graph(figure: go.Figure | None = None, height: int | None = None, **props: object) -> dcc.Graph:
    """A ``dcc.Graph`` of fixed height (``height`` px, else the figure's), as wide as its card.

    Every page's graph comes from here. With ``responsive`` on and no layout width, Dash lets plotly fill its
    container's height on each window resize; a card's height comes from its content, so the chart shrank to
    24 px when a phone's address bar hid on scroll. The height in the style is what the container is filled to.
    """
    px = height or (figure.layout.height if figure is not None else None) or DEFAULT_HEIGHT
    style = {"height": f"{px}px", **dict(props.pop("style", None) or {})}  # type: ignore[call-overload]
    if figure is not None:
        props["figure"] = figure
    return dcc.Graph(config=GRAPH_CONFIG, style=style, **props)  # type: ignore[arg-type]


DEFAULT_HEIGHT = 320  # px: a chart's height unless it says otherwise


def styled(fig: go.Figure, title: str, height: int = DEFAULT_HEIGHT) -> go.Figure:
    """Common look: title with units (wrapped to fit a phone), compact margins, no mode bar clutter."""
    title = wrap(title)
    fig.update_layout(title={"text": title, "x": 0, "font": {"size": 15}},
                      height=height, margin={"l": 10, "r": 10, "t": 30 + 20 * title.count("<br>") + 18, "b": 10},
                      # legend at the foot of the chart, below the axis title (plotly makes room for it)
                      legend={"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom"},
                      font={"family": "system-ui, sans-serif"})
    return fig


def pareto_figure(pareto: pd.DataFrame, pareto_share: float, segment: str | None = None) -> go.Figure:
    """Cumulative customer value (net of returns) against customer share, with the 80 % mark; of one segment's
    customers when ``segment`` is given."""
    who = f"{segment} customers" if segment else "customers"
    fig = go.Figure(go.Scatter(
        x=pareto["customer_share"] * 100, y=pareto["revenue_share"] * 100, mode="lines",
        line={"color": PALETTE["revenue"], "width": 3}, name="Cumulative value",
        hovertemplate=f"Best %{{x:.0f}} % of {who} → %{{y:.1f}} % of their value<extra></extra>"))
    fig.add_hline(y=80, line_dash="dot", line_color=PALETTE["muted"])
    fig.add_vline(x=pareto_share * 100, line_dash="dot", line_color=PALETTE["highlight"])
    fig.add_annotation(x=pareto_share * 100, y=80, text=f"{pareto_share * 100:.1f} % of {who} → 80 %",
                       showarrow=True, arrowhead=2, ax=60, ay=30)
    fig.update_xaxes(title=f"{who[0].upper()}{who[1:]}, best first (%)", range=[0, 100], ticksuffix=" %")
    fig.update_yaxes(title="Cumulative net value (%)", range=[0, 101], ticksuffix=" %")
    title = f"Pareto curve of {segment}: share of value by share of customers (%)" if segment \
        else "Pareto curve: share of customer value by share of customers (%)"
    return styled(fig, title)


def segment_share_figure(segments: pd.DataFrame, selected: str | None = None) -> go.Figure:
    """Share of customers and of customer value (net of returns) per segment (horizontal bars, click to select)."""
    ordered = segments.sort_values("revenue_share")
    opacity = [1.0 if not selected or name == selected else 0.35 for name in ordered["segment"]]
    fig = go.Figure([
        go.Bar(y=ordered["segment"], x=ordered["customer_share"] * 100, orientation="h", name="Customers",
               marker={"color": PALETTE["customers"], "opacity": opacity}, customdata=ordered["segment"],
               hovertemplate="%{y}: %{x:.1f} % of customers<extra></extra>"),
        go.Bar(y=ordered["segment"], x=ordered["revenue_share"] * 100, orientation="h", name="Net value",
               marker={"color": PALETTE["revenue"], "opacity": opacity}, customdata=ordered["segment"],
               hovertemplate="%{y}: %{x:.1f} % of customer value (net of returns)<extra></extra>"),
    ])
    fig.update_layout(barmode="group", clickmode="event")
    fig.update_xaxes(title="Share (%)", ticksuffix=" %")
    return styled(fig, "Customers and net value by segment (% of total) — click a segment", height=360)


def monthly_figure(monthly: pd.DataFrame, currency: str, period_end: str | None = None,
                   segment: str | None = None) -> go.Figure:
    """Monthly gross sales (bars) and returns (negative bars, when the table has them); the last month is greyed
    and labelled when the data stops before its end. ``segment`` only names the scope in the title."""
    end = pd.Timestamp(period_end) if period_end else None
    last = monthly["month"].max() if len(monthly) else None
    partial = end is not None and last is not None and end.normalize() < last + pd.offsets.MonthEnd(0)
    complete = monthly[monthly["month"] != last] if partial else monthly
    fig = go.Figure(_sales_bars(complete, currency, "Gross sales", PALETTE["revenue"]))
    if partial and end is not None:  # the month the data stops in: its own (grey) legend entry, not a note on a bar
        fig.add_trace(_sales_bars(monthly[monthly["month"] == last], currency,
                                  f"Gross sales to {end.day} {end.strftime('%b')} (partial month)", PALETTE["muted"]))
    with_returns = "returns" in monthly.columns
    if with_returns:
        fig.add_trace(go.Bar(x=monthly["month"], y=-monthly["returns"], name="Returns",
                             marker_color=PALETTE["returns"],
                             hovertemplate=f"%{{x|%b %Y}}: {currency}%{{customdata:,.0f}} returned<extra></extra>",
                             customdata=monthly["returns"]))
    fig.update_layout(barmode="relative")
    fig.update_xaxes(title=None, tickformat="%b %Y")
    fig.update_yaxes(title=f"{currency} per month", tickprefix=currency, separatethousands=True)
    what = "Monthly gross sales and returns" if with_returns else "Monthly revenue"
    return styled(fig, f"{what} of {segment} ({currency})" if segment else f"{what} ({currency})")


def _sales_bars(monthly: pd.DataFrame, currency: str, name: str, colour: str) -> go.Bar:
    return go.Bar(x=monthly["month"], y=monthly["revenue"], marker_color=colour, name=name,
                  customdata=monthly[["orders", "customers"]],
                  hovertemplate=f"%{{x|%b %Y}}: {currency}%{{y:,.0f}} gross sales<br>%{{customdata[0]:,}} "
                                "orders, %{customdata[1]:,} customers<extra></extra>")
