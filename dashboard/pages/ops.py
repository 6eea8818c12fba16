"""Operations (/ops): current snapshot, run history and "Refresh now", behind the operator token.

Reached by URL only (operators know it; it is not in the navbar). Without ``OPS_TOKEN`` the page is
disabled. With it, the page first shows only a token field: the typed token is kept in the tab's session
storage (never in the URL), and every callback compares it again with the configured one
(``hmac.compare_digest``) before reading or queueing anything. The layout itself holds no run or
version data, so the page HTML leaks nothing.

"Refresh now" only queues a request in the store; the scheduler process (``python -m jobs.scheduler``)
runs it. While a refresh is queued or running, "Refresh now" queues nothing and says so. The web app never
runs a refresh or a scheduler itself.
"""

from __future__ import annotations

import logging
from datetime import datetime

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html
from flask import request

from analytics.errors import AppError
from dashboard import data
from dashboard.components import ops_view
from dashboard.i18n import N_, _
from dashboard.pages._frame import page_state, page_title

dash.register_page(__name__, path="/ops", name=N_("Operations"), title=page_title(N_("Operations")), order=90)

log = logging.getLogger("dashboard.ops")

POLL_MS = 3000  # history refresh while the page is open and unlocked
HISTORY_RUNS = 20
_LOCKED = (True, False, True, None, None, None, None, None, None)  # panel hidden, gate shown, polling off, nothing


def layout(**query: str) -> html.Div:
    """Page layout for ``/ops``: disabled notice, or the token gate plus empty (hidden) panels."""
    state = page_state(query)
    return ops_view.frame(state, _gated_body() if _expected() else ops_view.disabled_notice())


def _expected() -> str | None:
    return data.settings().web.ops_token


def _gated_body() -> html.Div:
    return html.Div([
        dcc.Store(id="ops-token", storage_type="session"),
        dcc.Interval(id="ops-poll", interval=POLL_MS, disabled=True),
        html.H2(_("Operations"), className="h4 my-3"),
        html.Div(ops_view.token_gate(), id="ops-gate"),
        html.Div(ops_view.panel(), id="ops-panel", hidden=True),
    ])


@callback(Output("ops-token", "data"), Output("ops-gate-message", "children"), Output("ops-token-input", "value"),
          Input("ops-token-form", "n_submit"), State("ops-token-input", "value"), prevent_initial_call=True)
def unlock(_submits: int | None, typed: str | None) -> tuple:
    """Keep the typed token in the session store if it is the right one."""
    if ops_view.token_ok(typed, _expected()):
        return typed, None, ""
    log.warning("ops page: wrong operator token from %s", request.remote_addr)
    return None, dbc.Alert(_("Wrong token"), color="danger", class_name="py-2 mb-0", id="ops-wrong-token"), ""


@callback(Output("ops-panel", "hidden"), Output("ops-gate", "hidden"), Output("ops-poll", "disabled"),
          Output("ops-snapshot", "children"), Output("ops-pending", "children"), Output("ops-history", "children"),
          Output("ops-scheduler", "children"), Output("ops-quality-box", "children"),
          Output("ops-cleaning-box", "children"),
          Input("ops-token", "data"), Input("ops-poll", "n_intervals"), Input("ops-refresh-message", "children"))
def show(token: str | None, _ticks: int | None, _message: object) -> tuple:
    """Snapshot, pending request, run history, scheduler, recommendation quality and cleaning report — only for
    the right token (then polled every 3 s)."""
    if not ops_view.token_ok(token, _expected()):
        return _LOCKED
    return (False, True, False, *_status(ops_view.utc_now()))


def _status(now: datetime) -> tuple:
    status = data.status()
    unavailable = status.error if status.unavailable_since else None
    try:
        manifest = data.manifest(status.version) if status.version else None
    except AppError as exc:
        manifest, unavailable = None, str(exc)
    snapshot = ops_view.snapshot_card(manifest, now, unavailable)
    try:
        pending = ops_view.pending_note(data.store().pending_refresh_request(), now)
        history = ops_view.history_table(data.store().runs(HISTORY_RUNS), now)
    except AppError as exc:
        pending, history = None, dbc.Alert(_("Run history unavailable: {error}").format(error=exc), color="warning",
                                           id="ops-history-error")
    try:
        scheduler = ops_view.scheduler_card(data.store().heartbeat(), now)
    except AppError as exc:
        scheduler = dbc.Alert(_("Scheduler heartbeat unavailable: {error}").format(error=exc), color="warning",
                              id="ops-scheduler-status")
    return (snapshot, pending, history, scheduler, ops_view.quality_card(manifest),
            ops_view.cleaning_table(manifest))


@callback(Output("ops-refresh-message", "children"), Input("ops-refresh", "n_clicks"), State("ops-token", "data"),
          prevent_initial_call=True)
def queue_refresh(_clicks: int | None, token: str | None) -> dbc.Alert:
    """Queue a "Refresh now" request for the scheduler; returns at once."""
    if not ops_view.token_ok(token, _expected()):
        return dbc.Alert(_("Wrong token"), color="danger", class_name="py-2 mb-0", id="ops-queued")
    now = ops_view.utc_now()
    asked = {"requested_at": now.isoformat(timespec="seconds"), "requested_by": _requester()}
    try:
        running = ops_view.running_refresh(data.store().runs(1), data.store().heartbeat(), now)
        if running:
            log.info("ops page: refresh not queued, one is running", extra={"fields": {**asked, **running}})
            return ops_view.running_message(running, now)
        queued = data.store().request_refresh(asked)
    except AppError as exc:
        return dbc.Alert(_("Could not queue the refresh: {error}").format(error=exc), color="danger",
                         class_name="py-2 mb-0", id="ops-queued")
    log.info("ops page: refresh %s", "queued" if queued else "already queued", extra={"fields": asked})
    return ops_view.queued_message(queued, data.settings().scheduler.poll_s)


def _requester() -> str:
    """``ops page``, with the signed-in user when an SSO proxy header is configured."""
    header = data.settings().web.trusted_user_header
    user = request.headers.get(header, "").strip()[:80] if header else ""
    return f"ops page ({user})" if user else "ops page"
