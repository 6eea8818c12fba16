"""Plotly figures for the executive summary, and the common chart style.

Texts (titles, axes, legends, hover templates) are in the page's language; :func:`graph_config` gives plotly
the language's month names and number separators (``%b %Y`` → ``déc. 2011``, ``1,234.5`` → ``1 234,5``).
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from babel import Locale
from babel.dates import format_date, get_day_names, get_month_names
from dash import dcc

from dashboard.components import format as fmt
from dashboard.components.segment_names import scheme_row, segment_names  # noqa: F401 — re-exported
from dashboard.i18n import SOURCE_LANGUAGE, _, current_language

__all__ = ["GRAPH_CONFIG", "TITLE_CHARS", "use_chart_theme", "wrap", "styled", "graph", "pareto_figure",
           "segment_share_figure", "monthly_figure", "PALETTE", "graph_config", "money_template", "segment_names",
           "scheme_row"]

GRAPH_CONFIG: dcc.Graph.Config = {"displayModeBar": False, "responsive": True}  # dcc.Graph config used on every page
PALETTE = {"customers": "#6c8ebf", "revenue": "#2f6f4f", "highlight": "#d9822b", "muted": "#b8c2cc",
           "returns": "#b54a4a"}


@lru_cache(maxsize=8)
def _plotly_locale(lang: str) -> dict:
    """A plotly.js locale (``config.locales``) from Babel's CLDR data: month and day names, separators."""
    locale = Locale.parse(lang)
    months = [get_month_names(width, locale=locale) for width in ("wide", "abbreviated")]
    days = [get_day_names(width, locale=locale) for width in ("wide", "abbreviated")]
    return {"format": {
        "months": [months[0][i] for i in range(1, 13)], "shortMonths": [months[1][i] for i in range(1, 13)],
        "days": [days[0][(i + 6) % 7] for i in range(7)], "shortDays": [days[1][(i + 6) % 7] for i in range(7)],
        "decimal": locale.number_symbols["latn"]["decimal"], "thousands": locale.number_symbols["latn"]["group"],
    }}


def graph_config() -> dcc.Graph.Config:
    """:data:`GRAPH_CONFIG` in the current language: plotly's month names and number separators follow it."""
    lang = current_language()
    if lang == SOURCE_LANGUAGE:
        return GRAPH_CONFIG
    return {**GRAPH_CONFIG, "locale": lang, "locales": {lang: _plotly_locale(lang)}}


def money_template(expression: str, currency: str) -> str:
    """A plotly hover template piece for an amount, the currency where the language puts it:
    ``£%{y:,.0f}`` in English, ``%{y:,.0f} £`` in French."""
    return fmt.money(1.0, currency, 0).replace("1", expression, 1)


def use_chart_theme() -> None:
    """Make plotly_white the default template (once, at app start: re-applying it per figure costs ~10 ms).

    plotly registers its own templates already built without validation, and its ``templates.default`` setter
    validates the whole template again (0.12 s of every start-up, a tenth of the cold-start budget): the name
    is set on the registry directly instead, and the template loaded now (preload: once, in the gunicorn master).
    tests/dashboard/test_charts.py checks that figures get it.
    """
    pio.templates["plotly_white"]  # noqa: B018 - loads plotly's template file into the registry
    pio.templates._default = "plotly_white"  # the setter minus its re-validation of a built-in template
    go.Figure().to_plotly_json()


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
    return dcc.Graph(config=graph_config(), style=style, **props)  # type: ignore[arg-type]


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
    who = _("{segment} customers").format(segment=segment) if segment else _("customers")
    fig = go.Figure(go.Scatter(
        x=pareto["customer_share"] * 100, y=pareto["revenue_share"] * 100, mode="lines",
        line={"color": PALETTE["revenue"], "width": 3}, name=_("Cumulative value"),
        hovertemplate=_("Best {x} % of {who} → {y} % of their value").format(
            x="%{x:.0f}", y="%{y:.1f}", who=who) + "<extra></extra>"))
    fig.add_hline(y=80, line_dash="dot", line_color=PALETTE["muted"])
    fig.add_vline(x=pareto_share * 100, line_dash="dot", line_color=PALETTE["highlight"])
    fig.add_annotation(x=pareto_share * 100, y=80, text=_("{share} of {who} → 80 %").format(
        share=fmt.share(pareto_share), who=who), showarrow=True, arrowhead=2, ax=60, ay=30)
    fig.update_xaxes(title=_("{who}, best first (%)").format(who=who[0].upper() + who[1:]), range=[0, 100],
                     ticksuffix=" %")
    fig.update_yaxes(title=_("Cumulative net value (%)"), range=[0, 101], ticksuffix=" %")
    title = _("Pareto curve of {segment}: share of value by share of customers (%)").format(segment=segment) \
        if segment else _("Pareto curve: share of customer value by share of customers (%)")
    return styled(fig, title)


def segment_share_figure(segments: pd.DataFrame, selected: str | None = None) -> go.Figure:
    """Share of customers and of customer value (net of returns) per segment (horizontal bars, click to select).

    Bars are labelled with the segment's name in the page's language; ``customdata`` keeps its id (English)."""
    ordered = segments.sort_values("revenue_share")
    names = segment_names(ordered)
    labels = [names[name] for name in ordered["segment"]]
    opacity = [1.0 if not selected or name == selected else 0.35 for name in ordered["segment"]]
    fig = go.Figure([
        go.Bar(y=labels, x=ordered["customer_share"] * 100, orientation="h", name=_("Customers"),
               marker={"color": PALETTE["customers"], "opacity": opacity}, customdata=ordered["segment"],
               hovertemplate=_("{segment}: {share} % of customers").format(segment="%{y}", share="%{x:.1f}")
               + "<extra></extra>"),
        go.Bar(y=labels, x=ordered["revenue_share"] * 100, orientation="h", name=_("Net value"),
               marker={"color": PALETTE["revenue"], "opacity": opacity}, customdata=ordered["segment"],
               hovertemplate=_("{segment}: {share} % of customer value (net of returns)").format(
                   segment="%{y}", share="%{x:.1f}") + "<extra></extra>"),
    ])
    fig.update_layout(barmode="group", clickmode="event")
    fig.update_xaxes(title=_("Share (%)"), ticksuffix=" %")
    return styled(fig, _("Customers and net value by segment (% of total) — click a segment"), height=360)


def monthly_figure(monthly: pd.DataFrame, currency: str, period_end: str | None = None,
                   segment: str | None = None) -> go.Figure:
    """Monthly gross sales (bars) and returns (negative bars, when the table has them); the last month is greyed
    and labelled when the data stops before its end. ``segment`` only names the scope in the title."""
    end = pd.Timestamp(period_end) if period_end else None
    last = monthly["month"].max() if len(monthly) else None
    partial = end is not None and last is not None and end.normalize() < last + pd.offsets.MonthEnd(0)
    complete = monthly[monthly["month"] != last] if partial else monthly
    fig = go.Figure(_sales_bars(complete, currency, _("Gross sales"), PALETTE["revenue"]))
    if partial and end is not None:  # the month the data stops in: its own (grey) legend entry, not a note on a bar
        to = format_date(end, "d MMM", locale=current_language())
        fig.add_trace(_sales_bars(monthly[monthly["month"] == last], currency,
                                  _("Gross sales to {day} (partial month)").format(day=to), PALETTE["muted"]))
    with_returns = "returns" in monthly.columns
    if with_returns:
        fig.add_trace(go.Bar(x=monthly["month"], y=-monthly["returns"], name=_("Returns"),
                             marker_color=PALETTE["returns"],
                             hovertemplate=_("{month}: {amount} returned").format(
                                 month="%{x|%b %Y}", amount=money_template("%{customdata:,.0f}", currency))
                             + "<extra></extra>", customdata=monthly["returns"]))
    fig.update_layout(barmode="relative")
    fig.update_xaxes(title=None, tickformat="%b %Y")
    prefix, suffix = money_template("|", currency).split("|")
    fig.update_yaxes(title=_("{currency} per month").format(currency=currency), tickprefix=prefix,
                     ticksuffix=suffix, separatethousands=True)
    if segment:
        title = (_("Monthly gross sales and returns of {segment} ({currency})") if with_returns
                 else _("Monthly revenue of {segment} ({currency})")).format(segment=segment, currency=currency)
    else:
        title = (_("Monthly gross sales and returns ({currency})") if with_returns
                 else _("Monthly revenue ({currency})")).format(currency=currency)
    return styled(fig, title)


def _sales_bars(monthly: pd.DataFrame, currency: str, name: str, colour: str) -> go.Bar:
    return go.Bar(x=monthly["month"], y=monthly["revenue"], marker_color=colour, name=name,
                  customdata=monthly[["orders", "customers"]],
                  hovertemplate=_("{month}: {amount} gross sales<br>{orders} orders, {customers} customers")
                  .format(month="%{x|%b %Y}", amount=money_template("%{y:,.0f}", currency),
                          orders="%{customdata[0]:,}", customers="%{customdata[1]:,}") + "<extra></extra>")
