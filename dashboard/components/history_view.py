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
from dash import dcc, html
from dash.development.base_component import Component

from dashboard.components import format as fmt
from dashboard.components.charts import graph, styled
from dashboard.components.movement_view import PATH as MOVEMENT_PATH
from dashboard.components.movement_view import history_meta, segment_colors
from dashboard.components.shell import page_href

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

METRIC_LABELS = {"recency_days": ("R", "Recency"), "frequency": ("F", "Frequency"), "monetary": ("M", "Monetary")}


def bound_text(lower: float, upper: float, unit: str, currency: str) -> str:
    """A score's range in words: ``5 to 8 orders``, ``0 to 29 days``, ``£300 to under £600``, ``nobody``."""
    low = None if lower is None or math.isnan(lower) else lower
    high = None if upper is None or math.isnan(upper) else upper
    if low is not None and high is not None and high <= low:
        return "nobody (equal bounds)"
    if unit == "money":
        if low is None:
            return f"under {fmt.money(high, currency)}" if high is not None else "any amount"
        return f"{fmt.money(low, currency)} or more" if high is None else \
            f"{fmt.money(low, currency)} to under {fmt.money(high, currency)}"
    word = "days" if unit == "days" else "orders"
    first = math.ceil(low or 0)
    if high is None:
        return f"{first:,} {word} or more"
    last = math.ceil(high) - 1
    if last == first:
        return f"{first:,} {word[:-1] if first == 1 else word}"
    return f"{first:,} to {last:,} {word}"


def cutpoints_table(cutpoints: pd.DataFrame, currency: str) -> dbc.Table:
    """One row per metric, one column per score (5 best first): the range of values each score covers."""
    head = html.Thead(html.Tr([html.Th("Score")] + [html.Th(str(score), className="text-center")
                                                     for score in range(5, 0, -1)]))
    rows = []
    for metric, (letter, label) in METRIC_LABELS.items():
        mine = {int(r["score"]): r for r in cutpoints[cutpoints["metric"] == metric].to_dict("records")}
        cells: list[Any] = [html.Th(f"{label} ({letter})", scope="row")]
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


def sizes_figure(sizes: pd.DataFrame, ranking: list[str], selected: str | None) -> go.Figure:
    """Customers per segment at each period end (one line per segment, the selected one bold)."""
    colors = segment_colors(ranking)
    fig = go.Figure()
    for name in ranking:
        mine = sizes[sizes["segment"] == name]
        faded = bool(selected) and name != selected
        fig.add_trace(go.Scatter(
            x=mine["period_end"], y=mine["customers"], mode="lines+markers", name=name,
            line={"color": colors[name], "width": 4 if name == selected else 2}, opacity=0.3 if faded else 1.0,
            hovertemplate=f"{name}<br>%{{x|%d %b %Y}}: %{{y:,}} customers<extra></extra>"))
    fig.update_xaxes(title="Period end", tickformat="%b %Y")
    fig.update_yaxes(title="Customers", separatethousands=True)
    return styled(fig, "Segment size at each period end (customers)", height=400)


def history_cards(sizes: pd.DataFrame, cutpoints: pd.DataFrame, manifest: Mapping, selected: str | None,
                  state: Mapping) -> Component | None:
    """Segments page: the size of each segment over the periods (:func:`segment_sizes` of the history), and
    the bounds of each score."""
    meta = history_meta(manifest)
    if not meta or sizes.empty:
        return None
    currency = manifest.get("currency", "")
    scoring = meta.get("scoring", "quantiles")
    how = ("Quintile scores: each score holds a fifth of the customers, so these bounds are today's and move as "
           "customers buy." if scoring == "quantiles" else
           f"Fixed bounds ({meta.get('cutpoints_source', 'rfm.cutpoints')}): a score only changes with the customer's "
           "own purchases and the passing days.")
    return dbc.Row([
        dbc.Col(dbc.Card(dbc.CardBody([
            graph(sizes_figure(sizes, list(meta.get("ranking", [])), selected), id="segment-sizes-graph"),
            dcc.Link("Who moved between segments →", href=page_href(MOVEMENT_PATH, state), className="small",
                     id="segments-movement-link"),
        ]), class_name="h-100"), xs=12, xl=6),
        dbc.Col(dbc.Card(dbc.CardBody([
            html.H2("What each score means", className="card-section-title"),
            html.P(how, className="small text-body-secondary mb-2", id="cutpoints-note"),
            cutpoints_table(cutpoints, currency),
            html.P("R: days since the last purchase; F: distinct orders; M: net value spent. 5 is best.",
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
                  state: Mapping) -> Component | None:
    """Client 360: "In this segment since …, before: …" and the segment at each period end, oldest first."""
    meta = history_meta(manifest)
    if not meta or "segment_since" not in customer:
        return None
    steps = customer_timeline(history, customer["customer_id"], list(meta.get("period_ends", [])))
    colors = segment_colors(list(meta.get("ranking", [])))
    blocks = []
    for row in steps.to_dict("records"):
        when, segment = fmt.day(row["period_end"]), row["segment"]
        month = pd.Timestamp(row["period_end"]).strftime("%b")
        if not isinstance(segment, str):
            blocks.append(html.Div([html.Div(className="timeline-swatch timeline-none"),
                                    html.Div(month, className="timeline-label")],
                                   className="timeline-step", title=f"{when}: not a customer yet"))
            continue
        scores = f"R{int(row['r_score'])} F{int(row['f_score'])} M{int(row['m_score'])}"
        attributes: dict[str, Any] = {"data-segment": segment}
        blocks.append(html.Div([
            html.Div(className="timeline-swatch", style={"background": colors.get(segment, "#98a4b0")}),
            html.Div(month, className="timeline-label"),
        ], className="timeline-step", title=f"{when}: {segment} ({scores})", **attributes))
    since, before = customer["segment_since"], customer["previous_segment"]
    text = f"In {customer['segment']} since {fmt.day(since)}"
    text += f", before: {before}." if isinstance(before, str) and before else " (no other segment in the history)."
    legend = sorted({s for s in steps["segment"].dropna()}, key=lambda s: list(colors).index(s))
    return dbc.Card(dbc.CardBody([
        html.Div([html.H3("Segment over time", className="h6 mb-0 me-2"),
                  html.Span(f"at each {meta.get('period', 'month')} end, oldest first",
                            className="small text-body-secondary")], className="d-flex align-items-baseline mb-1"),
        html.Div(text, id="client-segment-since", className="mb-2"),
        html.Div(blocks, className="segment-timeline", id="client-timeline"),
        html.Div([html.Span([html.Span(className="timeline-dot", style={"background": colors[name]}), name],
                            className="me-3") for name in legend], className="small text-body-secondary mt-1"),
    ]), class_name="mb-3", id="client-history-card")
