"""Campaign pages' pieces: the audience list, the detail header, results table, outcome chart, exports."""

from __future__ import annotations

import math
import re
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
from dashboard.i18n import N_, _, ngettext

__all__ = ["BACKDATED_LABEL", "merge_results", "audience_table", "empty_list", "header", "verdict_alert",
           "results_table", "daily_figure", "export_buttons"]

BACKDATED_LABEL = N_("as of a past date (demonstration/analysis)")
# the measured outcomes (``campaign_results.metric``), named in the current language
METRIC_NAMES = {"bought": N_("Share who bought"), "orders": N_("Orders per member"),
                "net_revenue": N_("Net revenue per member"), "upgraded": N_("Share now in a better segment")}
TEST_NAMES = {"Welch t-test stratified by segment, 95% CI": N_("Welch t-test stratified by segment, 95 % CI")}
_NUMBER = r"[+\-−]?[\d,]+(?:\.\d+)?"
_INTERVAL = rf"(?P<diff>{_NUMBER}) points \[(?P<low>{_NUMBER}), (?P<high>{_NUMBER})\]"
_VERDICTS = (  # the refresh's verdicts (analytics.uplift, English) -> the same in the current language
    (re.compile(r"^Waiting for data: no purchase recorded since (?P<date>[\d-]+) yet\.$"),
     N_("Waiting for data: no purchase recorded since {date} yet.")),
    (re.compile(r"^Not enough members for a verdict: (?P<smallest>[\d,]+) in the smaller group, at least "
                r"(?P<needed>[\d,]+) needed\.$"),
     N_("Not enough members for a verdict: {smallest} in the smaller group, at least {needed} needed.")),
    (re.compile(rf"^Target bought more: {_INTERVAL}$"), N_("Target bought more: {interval}")),
    (re.compile(rf"^Target bought less: {_INTERVAL}$"), N_("Target bought less: {interval}")),
    (re.compile(rf"^Not enough evidence yet: {_INTERVAL}$"), N_("Not enough evidence yet: {interval}")),
    (re.compile(r"^The control group \((?P<control>[\d,]+) members\) is too small to detect an uplift of "
                rf"(?P<effect>{_NUMBER}) points in the share who bought: the smallest detectable at 80 % power is "
                rf"(?P<mde>{_NUMBER}) points\.$"),
     N_("The control group ({control} members) is too small to detect an uplift of {effect} points in the share "
        "who bought: the smallest detectable at 80 % power is {mde} points.")),
)
_GROUP_COLORS = {"target": PALETTE["revenue"], "control": PALETTE["muted"]}


def merge_results(summaries: Sequence[Mapping], campaigns: pd.DataFrame | None) -> list[dict]:
    """Audiences in the store (newest first), each with its measured row of the snapshot (``measured``: None
    until a refresh has measured it)."""
    measured = {} if campaigns is None else {row["audience_id"]: row for row in campaigns.to_dict("records")}
    return [{**item, "measured": measured.get(item.get("audience_id"))} for item in summaries]


def _result_badge(measured: Mapping | None) -> html.Span:
    if measured is None:
        return html.Span(_("Measured after the next refresh"), className="text-body-secondary small")
    color = "success" if measured["significant"] and measured["difference_points"] > 0 else \
        "danger" if measured["significant"] else "secondary"
    warning = html.Span(" ⚠", title=measured_text(measured["power_warning"]), className="text-warning") \
        if measured["power_warning"] else None
    return html.Span([dbc.Badge(measured_text(measured["verdict"]), color=color,
                                class_name="text-wrap text-start campaign-verdict"),
                      warning])


def audience_table(rows: Sequence[Mapping], now: datetime, state: Mapping) -> dbc.Table:
    """One row per audience: name (link), created (age, by), measured from, members and split, result."""
    head = html.Thead(html.Tr([html.Th(_("Audience")), html.Th(_("Created")), html.Th(_("Purchases counted from")),
                               html.Th(_("Members"), className="text-end",
                                       title=_("target (contacted) / control (held out)")),
                               html.Th(_("Result (share who bought, target − control)"))]))
    body = []
    for row in rows:
        href = page_href(f"/campaigns/{row['audience_id']}", state)
        since: list = [fmt.day(row.get("as_of"))]
        if row.get("backdated"):
            since += [html.Br(), dbc.Badge(_(BACKDATED_LABEL), color="info", class_name="text-wrap")]
        body.append(html.Tr([
            html.Td([dcc.Link(row["name"], href=href, className="fw-semibold campaign-link"),
                     html.Div(row.get("note") or "", className="small text-body-secondary")]),
            html.Td([ago(row.get("created_at"), now),
                     html.Div(_("by {author}").format(author=row.get("created_by", "?")),
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
        html.Strong(_("No audience yet.") + " "),
        _("Create one from a customer list — for example the") + " ",
        dcc.Link(_("high-value customers at risk"), href=actions_href, className="alert-link"),
        " " + _("(Actions page, button “Create audience”) — or with") + " ",
        html.Code("python -m jobs.audiences create"),
        _(". A random control group is held out; every refresh then compares what both groups bought."),
    ], color="light", id="campaigns-empty")


def header(summary: Mapping) -> html.Div:
    """Name, note, source, creator, snapshot and split of one audience."""
    backdated = dbc.Badge(_(BACKDATED_LABEL), color="info", class_name="ms-2") if summary.get("backdated") else None
    facts = [
        (_("Source"), summary.get("source")),
        (_("Created"), _("{moment} by {author}").format(moment=fmt.moment(summary.get("created_at")),
                                                         author=summary.get("created_by"))),
        (_("Membership frozen at snapshot"), summary.get("snapshot_version")),
        (_("Purchases counted from"), fmt.day(summary.get("as_of"))),
        (_("Split"), _("{members} members: {target} target (contacted), {control} control (held out, {share}, "
                       "stratified by segment)").format(
            members=fmt.count(summary.get("members")), target=fmt.count(summary.get("target")),
            control=fmt.count(summary.get("control")), share=fmt.share(summary.get("control_share", 0), 0))),
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
        return dbc.Alert(_("Not measured yet: results appear after the next refresh."), color="light",
                         id="campaign-verdict")
    color = "success" if measured["significant"] and measured["difference_points"] > 0 else \
        "danger" if measured["significant"] else "secondary"
    days = int(measured["days"])
    lines = [html.Strong(measured_text(measured["verdict"])), html.Div(
        _("Share who bought, target minus control, with its 95 % confidence interval · purchases up to {date} "
          "({days})").format(date=fmt.day(until), days=ngettext("%(num)s day", "%(num)s days", days)
                             % {"num": fmt.count(days)}), className="small")]
    if measured["power_warning"]:
        lines.append(html.Div(f"⚠ {measured_text(measured['power_warning'])}", className="small mt-1",
                              id="campaign-power"))
    return dbc.Alert(lines, color=color, id="campaign-verdict")


def _value(value: float, unit: str, currency: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if unit == "points":
        return fmt.share(value / 100, 1)
    if unit == "money":
        return fmt.money(value, currency, decimals=2)
    return fmt.number(value, 2)


def _difference(row: Mapping, currency: str) -> str:
    if math.isnan(row["difference"]):
        return "–"
    suffix = " " + _("points") if row["unit"] == "points" else ""
    if row["unit"] == "money":
        return (f"{fmt.money(row['difference'], currency, decimals=2)} [{fmt.money(row['ci_low'], currency, 2)}, "
                f"{fmt.money(row['ci_high'], currency, 2)}]")
    if math.isnan(row["ci_low"]):
        return f"{_signed(row['difference'], 2)}{suffix}"
    return f"{_signed(row['difference'], 2)}{suffix} [{_signed(row['ci_low'], 2)}, {_signed(row['ci_high'], 2)}]"


def _signed(value: float, decimals: int) -> str:
    """``+1.25`` / ``-0.40`` (``+1,25`` / ``−0,40`` in French)."""
    return ("+" if value >= 0 else "") + fmt.number(value, decimals)


def _localised_number(text: str) -> str:
    """A number written by the refresh (``−1.2``, ``1,234``) with the current language's separators."""
    negative = text.startswith(("-", "−"))
    plain = text.lstrip("+-−").replace(",", "")
    decimals = len(plain.split(".")[1]) if "." in plain else 0
    shown = fmt.number(float(plain), decimals) if decimals else fmt.count(float(plain))
    return ("−" if negative else "+" if text.startswith("+") else "") + shown


def measured_text(text: object) -> str:
    """A verdict or power warning of the refresh (``campaigns.verdict``, ``power_warning``: English sentences
    from ``analytics.uplift``) in the current language; a sentence of another shape is shown as it is."""
    sentence = str(text or "")
    for pattern, message in _VERDICTS:
        found = pattern.match(sentence)
        if not found:
            continue
        values = {key: _localised_number(value) if key not in ("date",) else fmt.day(value)
                  for key, value in found.groupdict().items() if value is not None}
        if "diff" in values:
            values["interval"] = f"{values['diff']} {_('points')} [{values['low']}, {values['high']}]"
        return _(message).format(**values)
    return sentence


def results_table(results: pd.DataFrame, currency: str) -> dbc.Table:
    """Every metric: target, control, difference with its 95 % interval, p-value (test on hover)."""
    head = html.Thead(html.Tr([html.Th(_("Outcome since the as-of date")), html.Th(_("Target"), className="text-end"),
                               html.Th(_("Control"), className="text-end"),
                               html.Th(_("Difference [95 % CI]"), className="text-end"),
                               html.Th(_("p-value"), className="text-end")]))
    rows = [html.Tr([
        html.Td(_(METRIC_NAMES[row["metric"]]) if row["metric"] in METRIC_NAMES else row["label"],
                title=_(TEST_NAMES[row["test"]]) if row["test"] in TEST_NAMES else row["test"]),
        html.Td(_value(row["target_value"], row["unit"], currency), className="text-end"),
        html.Td(_value(row["control_value"], row["unit"], currency), className="text-end"),
        html.Td(_difference(row, currency), className="text-end" + (" fw-semibold" if row["significant"] else "")),
        html.Td("–" if math.isnan(row["p_value"]) else fmt.number(row["p_value"], 3), className="text-end"),
    ], id=f"result-{row['metric']}") for row in results.to_dict("records")]
    note = html.Caption(_("Test: Welch t-test stratified by segment (hover a row). The share who bought decides the "
                          "verdict; the other outcomes are secondary."), className="small")
    return dbc.Table([note, head, html.Tbody(rows)], size="sm", responsive=True, id="campaign-results",
                     class_name="mb-0")


def daily_figure(daily: pd.DataFrame) -> go.Figure:
    """Cumulative share of each group who bought since the as-of date, day by day."""
    names = {"target": _("Target"), "control": _("Control")}
    fig = go.Figure([go.Scatter(x=rows["day"], y=rows["share_bought"], mode="lines", name=names[group],
                                line={"color": _GROUP_COLORS[group], "width": 3 if group == "target" else 2},
                                customdata=[[fmt.share(v / 100), fmt.day(d)]
                                            for v, d in zip(rows["share_bought"], rows["day"])],
                                hovertemplate=_("{group}: {share} had bought by {date}").format(
                                    group=names[group], share="%{customdata[0]}", date="%{customdata[1]}")
                                + "<extra></extra>")
                     for group in ("target", "control") if not (rows := daily[daily["group"] == group]).empty])
    fig.update_yaxes(title=_("Members who bought (%)"), ticksuffix=" %", rangemode="tozero")
    fig.update_xaxes(title=_("Day"))
    return styled(fig, _("Share who bought since the as-of date, target vs control (cumulative %)"))


def export_buttons() -> html.Div:
    """Target file (for the campaign tool) and full file (analysts) download buttons."""
    return html.Div([
        dbc.Button(_("Download target list (CSV)"), id="campaign-export-target", color="primary", size="sm",
                   title=_("The customers to contact, with the campaign columns; the control group is never in it")),
        dbc.Button(_("Download full file with group (CSV)"), id="campaign-export-full", color="secondary",
                   outline=True, size="sm",
                   title=_("Every member with a group column (target/control), for analysts")),
        dcc.Download(id="campaign-download"),
    ], className="d-flex flex-wrap gap-2 mb-3")
