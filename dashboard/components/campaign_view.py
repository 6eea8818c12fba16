"""Campaign pages' pieces: the audience list, the detail header, results table, outcome chart, exports."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from dashboard.components import format as fmt
from dashboard.components.charts import PALETTE, styled
from dashboard.components.ops_view import ago
from dashboard.components.shell import page_href

__all__ = ["BACKDATED_LABEL", "merge_results", "audience_table", "empty_list", "header", "verdict_alert",
           "results_table", "daily_figure", "export_buttons"]

BACKDATED_LABEL = "as of a past date (demonstration/analysis)"
_GROUP_COLORS = {"target": PALETTE["revenue"], "control": PALETTE["muted"]}


def merge_results(summaries: Sequence[Mapping], campaigns: pd.DataFrame | None) -> list[dict]:
    """Audiences in the store (newest first), each with its measured row of the snapshot (``measured``: None
    until a refresh has measured it)."""
    measured = {} if campaigns is None else {row["audience_id"]: row for row in campaigns.to_dict("records")}
    return [{**item, "measured": measured.get(item.get("audience_id"))} for item in summaries]


def _result_badge(measured: Mapping | None) -> html.Span:
    if measured is None:
        return html.Span("Measured after the next refresh", className="text-body-secondary small")
    color = "success" if measured["significant"] and measured["difference_points"] > 0 else \
        "danger" if measured["significant"] else "secondary"
    warning = html.Span(" ⚠", title=measured["power_warning"], className="text-warning") \
        if measured["power_warning"] else None
    return html.Span([dbc.Badge(measured["verdict"], color=color, class_name="text-wrap text-start campaign-verdict"),
                      warning])


def audience_table(rows: Sequence[Mapping], now: datetime, state: Mapping) -> dbc.Table:
    """One row per audience: name (link), created (age, by), measured from, members and split, result."""
    head = html.Thead(html.Tr([html.Th("Audience"), html.Th("Created"), html.Th("Purchases counted from"),
                               html.Th("Members", className="text-end", title="target (contacted) / control "
                                       "(held out)"), html.Th("Result (share who bought, target − control)")]))
    body = []
    for row in rows:
        href = page_href(f"/campaigns/{row['audience_id']}", state)
        since: list = [fmt.day(row.get("as_of"))]
        if row.get("backdated"):
            since += [html.Br(), dbc.Badge(BACKDATED_LABEL, color="info", class_name="text-wrap")]
        body.append(html.Tr([
            html.Td([dcc.Link(row["name"], href=href, className="fw-semibold campaign-link"),
                     html.Div(row.get("note") or "", className="small text-body-secondary")]),
            html.Td([ago(row.get("created_at"), now), html.Div(f"by {row.get('created_by', '?')}",
                                                               className="small text-body-secondary")]),
            html.Td(since),
            html.Td([fmt.count(row.get("members")), html.Div(
                f"{fmt.count(row.get('target'))} / {fmt.count(row.get('control'))}",
                className="small text-body-secondary")], className="text-end"),
            html.Td(_result_badge(row.get("measured"))),
        ], id=f"campaign-row-{row['audience_id']}"))
    return dbc.Table([head, html.Tbody(body)], hover=True, responsive=True, size="sm", id="campaign-table",
                     class_name="align-middle mb-0")


def empty_list(actions_href: str) -> dbc.Alert:
    """No audience yet: how to create one."""
    return dbc.Alert([
        html.Strong("No audience yet. "),
        "Create one from a customer list — for example the ",
        dcc.Link("high-value customers at risk", href=actions_href, className="alert-link"),
        " (Actions page, button “Create audience”) — or with ",
        html.Code("python -m jobs.audiences create"),
        ". A random control group is held out; every refresh then compares what both groups bought.",
    ], color="light", id="campaigns-empty")


def header(summary: Mapping) -> html.Div:
    """Name, note, source, creator, snapshot and split of one audience."""
    backdated = dbc.Badge(BACKDATED_LABEL, color="info", class_name="ms-2") if summary.get("backdated") else None
    facts = [
        ("Source", summary.get("source")),
        ("Created", f"{fmt.moment(summary.get('created_at'))} by {summary.get('created_by')}"),
        ("Membership frozen at snapshot", summary.get("snapshot_version")),
        ("Purchases counted from", fmt.day(summary.get("as_of"))),
        ("Split", f"{fmt.count(summary.get('members'))} members: {fmt.count(summary.get('target'))} target "
                  f"(contacted), {fmt.count(summary.get('control'))} control (held out, "
                  f"{summary.get('control_share', 0) * 100:.0f} %, stratified by segment)"),
    ]
    return html.Div([
        html.H2([summary.get("name"), backdated], className="h4 mb-1", id="campaign-title"),
        html.P(summary.get("note") or "", className="text-body-secondary mb-2"),
        html.Dl([part for label, value in facts for part in (html.Dt(label, className="col-sm-3"),
                                                               html.Dd(value, className="col-sm-9 mb-1"))],
                className="row small mb-3", id="campaign-facts"),
    ])


def verdict_alert(measured: Mapping | None, until: str | None) -> dbc.Alert:
    """The verdict in words, with the power warning."""
    if measured is None:
        return dbc.Alert("Not measured yet: results appear after the next refresh.", color="light",
                         id="campaign-verdict")
    color = "success" if measured["significant"] and measured["difference_points"] > 0 else \
        "danger" if measured["significant"] else "secondary"
    lines = [html.Strong(measured["verdict"]), html.Div(
        f"Share who bought, target minus control, with its 95 % confidence interval · purchases up to "
        f"{fmt.day(until)} ({measured['days']} days)", className="small")]
    if measured["power_warning"]:
        lines.append(html.Div(f"⚠ {measured['power_warning']}", className="small mt-1", id="campaign-power"))
    return dbc.Alert(lines, color=color, id="campaign-verdict")


def _value(value: float, unit: str, currency: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if unit == "points":
        return f"{value:.1f} %"
    if unit == "money":
        return fmt.money(value, currency, decimals=2)
    return f"{value:.2f}"


def _difference(row: Mapping, currency: str) -> str:
    if math.isnan(row["difference"]):
        return "–"
    suffix = " points" if row["unit"] == "points" else ""
    if row["unit"] == "money":
        return (f"{fmt.money(row['difference'], currency, decimals=2)} [{fmt.money(row['ci_low'], currency, 2)}, "
                f"{fmt.money(row['ci_high'], currency, 2)}]")
    if math.isnan(row["ci_low"]):
        return f"{row['difference']:+.2f}{suffix}"
    return f"{row['difference']:+.2f}{suffix} [{row['ci_low']:+.2f}, {row['ci_high']:+.2f}]"


def results_table(results: pd.DataFrame, currency: str) -> dbc.Table:
    """Every metric: target, control, difference with its 95 % interval, p-value (test on hover)."""
    head = html.Thead(html.Tr([html.Th("Outcome since the as-of date"), html.Th("Target", className="text-end"),
                               html.Th("Control", className="text-end"),
                               html.Th("Difference [95 % CI]", className="text-end"),
                               html.Th("p-value", className="text-end")]))
    rows = [html.Tr([
        html.Td(row["label"], title=row["test"]),
        html.Td(_value(row["target_value"], row["unit"], currency), className="text-end"),
        html.Td(_value(row["control_value"], row["unit"], currency), className="text-end"),
        html.Td(_difference(row, currency), className="text-end" + (" fw-semibold" if row["significant"] else "")),
        html.Td("–" if math.isnan(row["p_value"]) else f"{row['p_value']:.3f}", className="text-end"),
    ], id=f"result-{row['metric']}") for row in results.to_dict("records")]
    note = html.Caption("Test: Welch t-test stratified by segment (hover a row). The share who bought decides the "
                        "verdict; the other outcomes are secondary.", className="small")
    return dbc.Table([note, head, html.Tbody(rows)], size="sm", responsive=True, id="campaign-results",
                     class_name="mb-0")


def daily_figure(daily: pd.DataFrame) -> go.Figure:
    """Cumulative share of each group who bought since the as-of date, day by day."""
    fig = go.Figure([go.Scatter(x=rows["day"], y=rows["share_bought"], mode="lines", name=group.capitalize(),
                                line={"color": _GROUP_COLORS[group], "width": 3 if group == "target" else 2},
                                hovertemplate=f"{group}: %{{y:.1f}} % had bought by %{{x|%d %b %Y}}<extra></extra>")
                     for group in ("target", "control") if not (rows := daily[daily["group"] == group]).empty])
    fig.update_yaxes(title="Members who bought (%)", ticksuffix=" %", rangemode="tozero")
    fig.update_xaxes(title="Day")
    return styled(fig, "Share who bought since the as-of date, target vs control (cumulative %)")


def export_buttons() -> html.Div:
    """Target file (for the campaign tool) and full file (analysts) download buttons."""
    return html.Div([
        dbc.Button("Download target list (CSV)", id="campaign-export-target", color="primary", size="sm",
                   title="The customers to contact, with the campaign columns; the control group is never in it"),
        dbc.Button("Download full file with group (CSV)", id="campaign-export-full", color="secondary",
                   outline=True, size="sm", title="Every member with a group column (target/control), for analysts"),
        dcc.Download(id="campaign-download"),
    ], className="d-flex flex-wrap gap-2 mb-3")
