"""Segment history pieces for the Segments page (score bounds, segment sizes over the periods) and Client 360
(the customer's segment period by period). Pure functions of the ``segment_history`` and ``score_cutpoints``
tables and the manifest's ``history`` entry.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from babel.dates import format_date
from dash import dcc, html
from dash.development.base_component import Component

from dashboard.components import format as fmt
from dashboard.components.charts import graph, styled
from dashboard.components.movement_view import PATH as MOVEMENT_PATH
from dashboard.components.movement_view import history_meta, segment_colors
from dashboard.components.shell import page_href
from dashboard.i18n import N_, _, current_language, ngettext

__all__ = [
    "METRIC_LABELS",
    "bound_text",
    "customer_timeline",
    "cutpoints_table",
    "history_cards",
    "segment_sizes",
    "sizes_figure",
    "timeline_card",
]

METRIC_LABELS = {"recency_days": ("R", N_("Recency")), "frequency": ("F", N_("Frequency")),
                 "monetary": ("M", N_("Monetary"))}  # labels translated where shown


def bound_text(lower: float, upper: float, unit: str, currency: str) -> str:
    """A score's range in words: ``5 to 8 orders``, ``0 to 29 days``, ``£300 to under £600``, ``nobody``."""
    low = None if lower is None or math.isnan(lower) else lower
    high = None if upper is None or math.isnan(upper) else upper
    if low is not None and high is not None and high <= low:
        return _("nobody (equal bounds)")
    if unit == "money":
        if low is None:
            return _("under {amount}").format(amount=fmt.money(high, currency)) if high is not None \
                else _("any amount")
        return _("{amount} or more").format(amount=fmt.money(low, currency)) if high is None else \
            _("{low} to under {high}").format(low=fmt.money(low, currency), high=fmt.money(high, currency))
    days = unit == "days"
    first = math.ceil(low or 0)
    if high is None:
        text = _("{first} days or more") if days else _("{first} orders or more")
        return text.format(first=fmt.count(first))
    last = math.ceil(high) - 1
    if last == first:
        text = ngettext("%(num)s day", "%(num)s days", first) if days else \
            ngettext("%(num)s order", "%(num)s orders", first)
        return text % {"num": fmt.count(first)}
    text = _("{first} to {last} days") if days else _("{first} to {last} orders")
    return text.format(first=fmt.count(first), last=fmt.count(last))


def cutpoints_table(cutpoints: pd.DataFrame, currency: str) -> dbc.Table:
    """One row per metric, one column per score (5 best first): the range of values each score covers."""
    head = html.Thead(html.Tr([html.Th(_("Score"))] + [html.Th(str(score), className="text-center")
                                                     for score in range(5, 0, -1)]))
    rows = []
    for metric, (letter, label) in METRIC_LABELS.items():
        mine = {int(r["score"]): r for r in cutpoints[cutpoints["metric"] == metric].to_dict("records")}
        cells: list[Any] = [html.Th(f"{_(label)} ({letter})", scope="row")]
        for score in range(5, 0, -1):
            found = mine.get(score)
            text = bound_text(float(found["lower"]), float(found["upper"]), str(found["unit"]), currency) \
                if found else "–"
            cells.append(html.Td(text, className="text-center small", id=f"cut-{letter.lower()}{score}",
                                 title=f"{letter} {score} = {text}"))
        rows.append(html.Tr(cells))
    return dbc.Table([head, html.Tbody(rows)], bordered=True, size="sm", responsive=True,
                     class_name="cutpoints-table mb-0", id="cutpoints-table")


def segment_sizes(history: pd.DataFrame) -> pd.DataFrame:
    """period_end, segment, customers: the number of customers of each segment at each period end."""
    return history.groupby(["period_end", "segment"], observed=True).size().rename("customers").reset_index()


def sizes_figure(sizes: pd.DataFrame, ranking: list[str], selected: str | None,
                 names: Mapping[str, str] | None = None) -> go.Figure:
    """Customers per segment at each period end (one line per segment, the selected one bold); ``names``: the
    segments' names to show, by id (default: the ids)."""
    colors = segment_colors(ranking)
    fig = go.Figure()
    names = names or {}
    for name in ranking:
        mine = sizes[sizes["segment"] == name]
        faded = bool(selected) and name != selected
        shown = names.get(name, name)
        fig.add_trace(go.Scatter(
            x=mine["period_end"], y=mine["customers"], mode="lines+markers", name=shown,
            line={"color": colors[name], "width": 4 if name == selected else 2}, opacity=0.3 if faded else 1.0,
            hovertemplate=f"{shown}<br>" + _("{day}: {count} customers").format(day="%{x|%d %b %Y}", count="%{y:,}")
            + "<extra></extra>"))
    fig.update_xaxes(title=_("Period end"), tickformat="%b %Y")
    fig.update_yaxes(title=_("Customers"), separatethousands=True)
    return styled(fig, _("Segment size at each period end (customers)"), height=400)


def history_cards(sizes: pd.DataFrame, cutpoints: pd.DataFrame, manifest: Mapping, selected: str | None,
                  state: Mapping, names: Mapping[str, str] | None = None) -> Component | None:
    """Segments page: the size of each segment over the periods (:func:`segment_sizes` of the history), and
    the bounds of each score."""
    meta = history_meta(manifest)
    if not meta or sizes.empty:
        return None
    currency = manifest.get("currency", "")
    scoring = meta.get("scoring", "quantiles")
    how = (_("Quintile scores: each score holds a fifth of the customers, so these bounds are today's and move "
             "as customers buy.") if scoring == "quantiles" else
           _("Fixed bounds ({source}): a score only changes with the customer's own purchases and the passing "
             "days.").format(source=meta.get("cutpoints_source", "rfm.cutpoints")))
    return dbc.Row([
        dbc.Col(dbc.Card(dbc.CardBody([
            graph(sizes_figure(sizes, list(meta.get("ranking", [])), selected, names), id="segment-sizes-graph"),
            dcc.Link(_("Who moved between segments →"), href=page_href(MOVEMENT_PATH, state), className="small",
                     id="segments-movement-link"),
        ]), class_name="h-100"), xs=12, xl=6),
        dbc.Col(dbc.Card(dbc.CardBody([
            html.H2(_("What each score means"), className="card-section-title"),
            html.P(how, className="small text-body-secondary mb-2", id="cutpoints-note"),
            cutpoints_table(cutpoints, currency),
            html.P(_("R: days since the last purchase; F: distinct orders; M: net value spent. 5 is best."),
                   className="small text-body-secondary mb-0 mt-2"),
        ]), class_name="h-100"), xs=12, xl=6),
    ], class_name="g-3 mt-0 mb-3", id="segment-history-cards")


def customer_timeline(history: pd.DataFrame, customer_id: str, ends: list[str]) -> pd.DataFrame:
    """period_end and the customer's segment and scores at each of the period ends (segment None: not a
    customer yet)."""
    mine = history[history["customer_id"] == customer_id].set_index("period_end")
    index = pd.DatetimeIndex(pd.to_datetime(ends), name="period_end")
    columns = ["segment", "r_score", "f_score", "m_score"]
    return mine.reindex(index)[columns].reset_index()


def timeline_card(history: pd.DataFrame, customer: pd.Series, manifest: Mapping,
                  state: Mapping, names: Mapping[str, str] | None = None) -> Component | None:
    """Client 360: "In this segment since …, before: …" and the segment at each period end, oldest first;
    ``names``: the segments' names to show, by id (default: the ids)."""

    def shown(name: object) -> str:
        return (names or {}).get(str(name), str(name))

    meta = history_meta(manifest)
    if not meta or "segment_since" not in customer:
        return None
    steps = customer_timeline(history, customer["customer_id"], list(meta.get("period_ends", [])))
    colors = segment_colors(list(meta.get("ranking", [])))
    blocks = []
    for row in steps.to_dict("records"):
        when, segment = fmt.day(row["period_end"]), row["segment"]
        month = format_date(pd.Timestamp(row["period_end"]), "LLL", locale=current_language())
        if not isinstance(segment, str):
            blocks.append(html.Div([html.Div(className="timeline-swatch timeline-none"),
                                    html.Div(month, className="timeline-label")],
                                   className="timeline-step", title=_("{day}: not a customer yet").format(day=when)))
            continue
        scores = f"R{int(row['r_score'])} F{int(row['f_score'])} M{int(row['m_score'])}"
        attributes: dict[str, Any] = {"data-segment": segment}
        blocks.append(html.Div([
            html.Div(className="timeline-swatch", style={"background": colors.get(segment, "#98a4b0")}),
            html.Div(month, className="timeline-label"),
        ], className="timeline-step", title=f"{when}: {shown(segment)} ({scores})", **attributes))
    since, before = customer["segment_since"], customer["previous_segment"]
    if isinstance(before, str) and before:
        text = _("In {segment} since {day}, before: {before}.").format(
            segment=shown(customer["segment"]), day=fmt.day(since), before=shown(before))
    else:
        text = _("In {segment} since {day} (no other segment in the history).").format(
            segment=shown(customer["segment"]), day=fmt.day(since))
    legend = sorted({s for s in steps["segment"].dropna()}, key=lambda s: list(colors).index(s))
    every = _("at each week end, oldest first") if meta.get("period") == "week" else \
        _("at each month end, oldest first")
    return dbc.Card(dbc.CardBody([
        html.Div([html.H3(_("Segment over time"), className="h6 mb-0 me-2"),
                  html.Span(every, className="small text-body-secondary")],
                 className="d-flex align-items-baseline mb-1"),
        html.Div(text, id="client-segment-since", className="mb-2"),
        html.Div(blocks, className="segment-timeline", id="client-timeline"),
        html.Div([html.Span([html.Span(className="timeline-dot", style={"background": colors[name]}), shown(name)],
                            className="me-3") for name in legend], className="small text-body-secondary mt-1"),
    ]), class_name="mb-3", id="client-history-card")
