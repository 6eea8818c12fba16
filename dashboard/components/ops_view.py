"""Operations page pieces: the token check, the snapshot summary, the pending request and the run history.

Pure functions of run records (``store.runs()``), a manifest and ``now``; nothing here reads the store.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import PurePath

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html
from dash.development.base_component import ComponentType

from dashboard.components import format as fmt
from dashboard.components.format import ago, clock, duration  # re-exported: the time formats live in format
from dashboard.components.shell import navbar, page_href

__all__ = ["token_ok", "ago", "clock", "run_duration", "duration", "frame", "disabled_notice", "token_gate",
           "panel", "snapshot_card", "pending_note", "history_table", "queued_message", "utc_now", "STATUS_COLORS"]

STATUS_COLORS = {"success": "success", "failed": "danger", "skipped": "secondary", "running": "primary"}
STALE_REQUEST_S = 120  # a request queued longer than this suggests no scheduler is running
ERROR_CHARS = 180  # longer error messages are cut in the table (the full text is on hover)


def token_ok(typed: object, expected: str | None) -> bool:
    """True when an operator token is configured and ``typed`` equals it (constant-time comparison)."""
    if not expected or not isinstance(typed, str) or not typed:
        return False
    return hmac.compare_digest(typed.encode("utf-8"), expected.encode("utf-8"))


def run_duration(run: Mapping, now: datetime) -> str:
    """How long a run took (its measured ``seconds`` when recorded), or has been running so far."""
    if isinstance(run.get("seconds"), (int, float)):
        return duration(float(run["seconds"]))
    start, end = fmt.utc_stamp(run.get("started_at")), fmt.utc_stamp(run.get("finished_at"))
    if start is None or (end is None and run.get("status") != "running"):
        return "–"
    whole = (end if end is not None else pd.Timestamp(now).tz_convert("UTC")) - start
    return "< 1 s" if whole.total_seconds() < 1 else duration(whole.total_seconds())  # timestamps: whole seconds


def frame(state: Mapping[str, object], body: ComponentType) -> html.Div:
    """The page around ``body``: the navbar (not when embedded) and a link back to the dashboard."""
    embedded = bool(state.get("embed"))
    top = [] if embedded else [navbar(state, "/ops", "Operations")]
    back = html.A("← Back to the dashboard", href=page_href("/", state), id="ops-back", className="small")
    return html.Div([*top, dbc.Container([back, body], fluid=True,
                                         class_name="embedded ops-page" if embedded else "page-body ops-page")],
                    className="embed-frame" if embedded else "app-frame")


def disabled_notice() -> html.Div:
    """Shown instead of everything when no operator token is configured."""
    return html.Div([
        html.H2("Operations", className="h4 my-3"),
        dbc.Alert([
            html.Strong("Operations page disabled — set OPS_TOKEN"),
            html.Div("Start the web app with the environment variable OPS_TOKEN set to a long random secret "
                     "to enable it.", className="small mt-1"),
        ], color="secondary", id="ops-disabled"),
        dbc.Button("Refresh now", id="ops-refresh-off", color="primary", disabled=True),
    ])


def token_gate() -> dbc.Card:
    """The operator-token form (the only thing shown before the token is verified)."""
    return dbc.Card(dbc.CardBody([
        html.H3("Operator access", className="h6"),
        dbc.Form([
            dbc.Label("Operator token", html_for="ops-token-input"),
            dbc.InputGroup([
                dbc.Input(id="ops-token-input", type="password", autocomplete="current-password",
                          placeholder="OPS_TOKEN", maxlength=512),
                dbc.Button("Unlock", id="ops-unlock", type="submit", color="primary"),
            ]),
            dbc.FormText("The token is kept in this browser tab only, until the tab is closed."),
        ], id="ops-token-form"),
        html.Div(id="ops-gate-message", className="mt-2"),
    ]), class_name="ops-gate")


def panel() -> html.Div:
    """Empty containers the authorised callbacks fill: snapshot, refresh button, pending request, history."""
    refresh = dbc.Card(dbc.CardBody([
        html.H3("Refresh", className="h6"),
        html.P("Queue a refresh of the snapshot; the scheduler process picks it up within seconds. "
               "Progress and outcome appear in the run history.", className="small text-body-secondary"),
        dbc.Button("Refresh now", id="ops-refresh", color="primary"),
        html.Div(id="ops-refresh-message", className="mt-2"),
        html.Div(id="ops-pending", className="mt-2"),
    ]), class_name="h-100")
    return html.Div([
        dbc.Row([dbc.Col(html.Div(id="ops-snapshot", className="h-100"), xs=12, lg=7),
                 dbc.Col(refresh, xs=12, lg=5)], class_name="g-3 mb-3"),
        dbc.Card(dbc.CardBody([html.H3("Run history", className="h6"),
                               html.Div(id="ops-history")])),
    ])


def snapshot_card(manifest: Mapping | None, now: datetime, unavailable: str | None = None) -> dbc.Card:
    """Current snapshot: version, age, data period, input file and rows."""
    warning = dbc.Alert(f"Store unavailable: {unavailable}", color="warning", class_name="py-2",
                        id="ops-store-warning") if unavailable else None
    if not manifest:
        return dbc.Card(dbc.CardBody([html.H3("Current snapshot", className="h6"), warning,
                                      html.P("No snapshot published yet.", id="ops-version", className="mb-0")]),
                        class_name="h-100")
    period, source = manifest.get("period") or {}, manifest.get("source") or {}
    customers = (manifest.get("tables") or {}).get("customers", {}).get("rows")
    facts = [
        ("Version", html.Code(manifest.get("version"), id="ops-version")),
        ("Published", html.Span([f"{fmt.moment(manifest.get('created_at'))} · ",
                                 html.Strong(ago(manifest.get("created_at"), now))], id="ops-published")),
        ("Data period", html.Span(f"{fmt.day(period.get('start'))} – {fmt.day(period.get('end'))}",
                                  id="ops-period")),
        ("Input file", html.Span(PurePath(str(source.get("path", "–"))).name, title=source.get("path"),
                                 id="ops-input")),
        ("Rows", html.Span(f"{fmt.count(source.get('rows'))} input lines · {fmt.count(customers)} customers",
                           id="ops-rows")),
        ("Trigger", manifest.get("trigger", "–")),
    ]
    return dbc.Card(dbc.CardBody([
        html.H3("Current snapshot", className="h6"), warning,
        html.Dl([item for label, value in facts for item in (html.Dt(label), html.Dd(value))],
                className="ops-facts mb-0"),
    ]), class_name="h-100")


def pending_note(request: Mapping | None, now: datetime) -> ComponentType:
    """The queued "Refresh now" request, if any, with a hint when it has waited long."""
    if not request:
        return None
    at = request.get("requested_at")
    asked = fmt.utc_stamp(at)
    waited = (pd.Timestamp(now).tz_convert("UTC") - asked).total_seconds() if asked is not None else 0
    hint = (" It has waited a while: check that the scheduler (python -m jobs.scheduler) is running."
            if waited > STALE_REQUEST_S else "")
    return dbc.Alert([html.Strong("Refresh queued"),
                      f" by {request.get('requested_by', 'unknown')} at {clock(at)} UTC ({ago(at, now)}) — "
                      f"waiting for the scheduler.{hint}"], color="info", class_name="py-2 mb-0", id="ops-pending-note")


def _rows(run: Mapping) -> str:
    rows = run.get("rows") or {}
    if not rows:
        return "–"
    return f"{fmt.count(rows.get('input_lines'))} lines · {fmt.count(rows.get('customers'))} customers"


def _message(run: Mapping) -> ComponentType:
    text = str(run.get("error") or "")
    short = text if len(text) <= ERROR_CHARS else text[:ERROR_CHARS - 1] + "…"
    return html.Span(short, title=text if short != text else None, className="ops-error")


def _history_row(run: Mapping, now: datetime) -> html.Tr:
    status = str(run.get("status", "?"))
    started, finished = fmt.utc_stamp(run.get("started_at")), fmt.utc_stamp(run.get("finished_at"))
    same_day = started is not None and finished is not None and started.date() == finished.date()
    asked = run.get("requested_by")
    return html.Tr([
        html.Td(clock(run.get("started_at"))),
        html.Td(clock(run.get("finished_at"), with_day=not same_day)),
        html.Td(run_duration(run, now), className="text-end"),
        html.Td(dbc.Badge(status, color=STATUS_COLORS.get(status, "dark"), class_name="ops-status")),
        html.Td(html.Span(run.get("trigger", "–"), title=f"requested by {asked} at {run.get('requested_at')}"
                          if asked else None)),
        html.Td(html.Code(run.get("version") or "–") if status == "success" else
                html.Span(run.get("version") or "–", className="text-body-secondary small")),
        html.Td(_rows(run), className="text-nowrap"),
        html.Td(_message(run)),
    ], className=f"ops-run ops-run-{status}")


def history_table(runs: Sequence[Mapping], now: datetime) -> ComponentType:
    """The run history, newest first (as the store returns it)."""
    if not runs:
        return html.P("No refresh has run yet.", className="text-body-secondary mb-0", id="ops-no-runs")
    head = html.Thead(html.Tr([html.Th(label) for label in (
        "Started (UTC)", "Finished", "Duration", "Status", "Trigger", "Version", "Rows", "Message")]))
    body = html.Tbody([_history_row(run, now) for run in runs])
    return dbc.Table([head, body], id="ops-history-table", size="sm", hover=True, responsive=True,
                     class_name="ops-history mb-0")


def queued_message(queued: bool, poll_s: float) -> dbc.Alert:
    """Feedback after "Refresh now": queued, or one is already queued."""
    if queued:
        return dbc.Alert(f"Refresh queued — the scheduler starts it within about {poll_s:g} s; "
                         "follow it in the history below.", color="success", class_name="py-2 mb-0",
                         id="ops-queued", duration=8000)
    return dbc.Alert("A refresh is already queued", color="warning", class_name="py-2 mb-0", id="ops-queued")


def utc_now() -> datetime:
    """Now, in UTC (a seam for tests)."""
    return datetime.now(timezone.utc)
