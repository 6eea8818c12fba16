"""Operations page pieces: the token check, the snapshot summary, the pending request and the run history.

Pure functions of run records (``store.runs()``), a manifest and ``now``; nothing here reads the store.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html
from dash.development.base_component import ComponentType

from dashboard.components import format as fmt
from dashboard.components.format import ago, clock, duration  # re-exported: the time formats live in format
from dashboard.components.shell import navbar, page_href
from dashboard.i18n import N_, _

__all__ = [
    "STATUS_COLORS",
    "ago",
    "cleaning_table",
    "clock",
    "disabled_notice",
    "duration",
    "frame",
    "history_table",
    "panel",
    "pending_note",
    "quality_card",
    "queued_message",
    "run_duration",
    "running_message",
    "running_refresh",
    "scheduler_alive",
    "scheduler_card",
    "snapshot_card",
    "token_gate",
    "token_ok",
    "utc_now",
]

STATUS_COLORS = {"success": "success", "failed": "danger", "skipped": "secondary", "running": "primary"}
STALE_REQUEST_S = 120  # a request queued longer than this suggests no scheduler is running
ERROR_CHARS = 180  # longer error messages are cut in the table (the full text is on hover)
ALIVE_POLLS = 3  # a scheduler is alive while its last heartbeat is at most this many polls old...
ALIVE_MIN_S = 15.0  # ...and at least this many seconds (slow polls, clock skew)
RUNNING_STALE_S = 3600  # a run record "running" for longer, with no live scheduler running it, is taken as dead


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
    top = [] if embedded else [navbar(state, "/ops", _("Operations"))]
    back = html.A(_("← Back to the dashboard"), href=page_href("/", state), id="ops-back", className="small")
    return html.Div([*top, dbc.Container([back, body], fluid=True,
                                         class_name="embedded ops-page" if embedded else "page-body ops-page")],
                    className="embed-frame" if embedded else "app-frame")


def disabled_notice() -> html.Div:
    """Shown instead of everything when no operator token is configured."""
    return html.Div([
        html.H2(_("Operations"), className="h4 my-3"),
        dbc.Alert([
            html.Strong(_("Operations page disabled — set OPS_TOKEN")),
            html.Div(_("Start the web app with the environment variable OPS_TOKEN set to a long random secret "
                       "to enable it."), className="small mt-1"),
        ], color="secondary", id="ops-disabled"),
        dbc.Button(_("Refresh now"), id="ops-refresh-off", color="primary", disabled=True),
    ])


def token_gate() -> dbc.Card:
    """The operator-token form (the only thing shown before the token is verified)."""
    return dbc.Card(dbc.CardBody([
        html.H3(_("Operator access"), className="h6"),
        dbc.Form([
            dbc.Label(_("Operator token"), html_for="ops-token-input"),
            dbc.InputGroup([
                dbc.Input(id="ops-token-input", type="password", autocomplete="current-password",
                          placeholder="OPS_TOKEN", maxlength=512),
                dbc.Button(_("Unlock"), id="ops-unlock", type="submit", color="primary"),
            ]),
            dbc.FormText(_("The token is kept in this browser tab only, until the tab is closed.")),
        ], id="ops-token-form"),
        html.Div(id="ops-gate-message", className="mt-2"),
    ]), class_name="ops-gate")


def panel() -> html.Div:
    """Empty containers the authorised callbacks fill: snapshot, refresh button, pending request, history."""
    refresh = dbc.Card(dbc.CardBody([
        html.H3(_("Refresh"), className="h6"),
        html.P(_("Queue a refresh of the snapshot; the scheduler process picks it up within seconds. "
                 "Progress and outcome appear in the run history."), className="small text-body-secondary"),
        dbc.Button(_("Refresh now"), id="ops-refresh", color="primary"),
        html.Div(id="ops-refresh-message", className="mt-2"),
        html.Div(id="ops-pending", className="mt-2"),
    ]), class_name="h-100")
    return html.Div([
        dbc.Row([dbc.Col(html.Div(id="ops-snapshot", className="h-100"), xs=12, lg=7),
                 dbc.Col(refresh, xs=12, lg=5)], class_name="g-3 mb-3"),
        dbc.Row([dbc.Col(html.Div(id="ops-scheduler", className="h-100"), xs=12, lg=7),
                 dbc.Col(dbc.Card(dbc.CardBody([html.H3(_("Recommendation quality"), className="h6"),
                                                html.Div(id="ops-quality-box")]), class_name="h-100"),
                         xs=12, lg=5)], class_name="g-3 mb-3"),
        dbc.Card(dbc.CardBody([html.H3(_("Run history"), className="h6"),
                               html.Div(id="ops-history")]), class_name="mb-3"),
        dbc.Card(dbc.CardBody([html.H3(_("Cleaning report of the current snapshot"), className="h6"),
                               html.Div(id="ops-cleaning-box")])),
    ])


def snapshot_card(manifest: Mapping | None, now: datetime, unavailable: str | None = None) -> dbc.Card:
    """Current snapshot: version, age, data period, input file and rows."""
    warning = dbc.Alert(_("Store unavailable: {error}").format(error=unavailable), color="warning", class_name="py-2",
                        id="ops-store-warning") if unavailable else None
    if not manifest:
        return dbc.Card(dbc.CardBody([html.H3(_("Current snapshot"), className="h6"), warning,
                                      html.P(_("No snapshot published yet."), id="ops-version", className="mb-0")]),
                        class_name="h-100")
    period, source = manifest.get("period") or {}, manifest.get("source") or {}
    customers = (manifest.get("tables") or {}).get("customers", {}).get("rows")
    facts: list[tuple[str, ComponentType]] = [
        (_("Version"), html.Code(manifest.get("version"), id="ops-version")),
        (_("Published"), html.Span([f"{fmt.moment(manifest.get('created_at'))} · ",
                                    html.Strong(ago(manifest.get("created_at"), now))], id="ops-published")),
        (_("Data period"), html.Span(f"{fmt.day(period.get('start'))} – {fmt.day(period.get('end'))}",
                                     id="ops-period")),
        (_("Input file"), html.Span(PurePath(str(source.get("path", "–"))).name, title=source.get("path"),
                                    id="ops-input")),
        (_("Rows"), html.Span(_("{lines} input lines · {customers} customers").format(
            lines=fmt.count(source.get("rows")), customers=fmt.count(customers)), id="ops-rows")),
        (_("Trigger"), _trigger(manifest.get("trigger"))),
    ]
    return dbc.Card(dbc.CardBody([
        html.H3(_("Current snapshot"), className="h6"), warning,
        html.Dl([item for label, value in facts for item in (html.Dt(label), html.Dd(value))],
                className="ops-facts mb-0"),
    ]), class_name="h-100")


def _age_s(value: object, now: datetime) -> float | None:
    stamp = fmt.utc_stamp(value)
    return None if stamp is None else (pd.Timestamp(now).tz_convert("UTC") - stamp).total_seconds()


def scheduler_alive(beat: Mapping | None, now: datetime) -> bool:
    """True when the scheduler's last heartbeat is recent (a few polls) and it did not say it stopped."""
    if not beat or beat.get("stopped"):
        return False
    age = _age_s(beat.get("at"), now)
    poll_s = beat.get("poll_s")
    poll = float(poll_s) if isinstance(poll_s, (int, float)) else 5.0
    return age is not None and age <= max(ALIVE_POLLS * poll, ALIVE_MIN_S)


def running_refresh(runs: Sequence[Mapping], beat: Mapping | None, now: datetime) -> dict | None:
    """The refresh in progress (``trigger``, ``since``), if any, else None.

    A live scheduler's heartbeat names the run it is doing; a refresh started elsewhere (``python -m
    jobs.refresh``) shows as the newest run record still "running" (unless older than RUNNING_STALE_S:
    a process killed mid-run leaves such a record behind).
    """
    running = beat.get("running") if beat and scheduler_alive(beat, now) else None
    if isinstance(running, Mapping):
        return {"trigger": running.get("trigger"), "since": running.get("since")}
    newest = runs[0] if runs else None
    if newest and newest.get("status") == "running":
        age = _age_s(newest.get("started_at"), now)
        if age is not None and age <= RUNNING_STALE_S:
            return {"trigger": newest.get("trigger"), "since": newest.get("started_at")}
    return None


def running_message(running: Mapping, now: datetime) -> dbc.Alert:
    """Feedback when "Refresh now" is pressed while a refresh runs: nothing is queued."""
    return dbc.Alert([html.Strong(_("A refresh is already running")),
                      " " + _("(trigger {trigger}, started {ago}) — nothing was queued; its outcome will appear in "
                              "the history below.").format(trigger=_trigger(running.get("trigger") or "?"),
                                                           ago=ago(running.get("since"), now))],
                     color="warning", class_name="py-2 mb-0", id="ops-queued")


def scheduler_card(beat: Mapping | None, now: datetime) -> dbc.Card:
    """Whether the scheduler is alive (last heartbeat), which process, what it runs now and its schedule."""
    title = html.H3(_("Scheduler"), className="h6")
    if not beat:
        return dbc.Card(dbc.CardBody([title, dbc.Alert(
            _("No scheduler has ever run on this store: scheduled refreshes and \u201cRefresh now\u201d need one "
              "(python -m jobs.scheduler)."), color="warning", class_name="py-2 mb-0", id="ops-scheduler-status")]),
            class_name="h-100")
    alive = scheduler_alive(beat, now)
    state = _("alive") if alive else _("stopped") if beat.get("stopped") else _("not responding")
    status = html.Span([dbc.Badge(state, color="success" if alive else "danger", class_name="me-2"),
                        _("last seen {time} UTC ({ago})").format(time=clock(beat.get("at")),
                                                                 ago=ago(beat.get("at"), now))],
                       id="ops-scheduler-status")
    running = beat.get("running") if alive and isinstance(beat.get("running"), Mapping) else None
    facts: list[tuple[str, Any]] = [
        (_("Status"), status),
        (_("Process"), html.Span(_("pid {pid} on {host} · up since {time} UTC").format(
            pid=beat.get("pid", "?"), host=beat.get("host", "?"), time=clock(beat.get("started_at"))),
            id="ops-scheduler-process")),
        (_("Running now"), html.Span(_("{trigger} refresh since {time} UTC").format(
            trigger=_trigger(running.get("trigger")), time=clock(running.get("since"))) if running else _("nothing"),
            id="ops-scheduler-running")),
        (_("Schedule"), _schedule(beat)),
    ]
    return dbc.Card(dbc.CardBody([title, html.Dl([item for label, value in facts
                                                  for item in (html.Dt(label), html.Dd(value))],
                                                 className="ops-facts mb-0")]), class_name="h-100")


def _schedule(beat: Mapping) -> object:
    schedules = [s for s in beat.get("schedules") or [] if isinstance(s, Mapping)]
    if not schedules:
        return html.Span(_("no cron schedule (scheduler.cron / REFRESH_CRON): \u201cRefresh now\u201d only"),
                         id="ops-schedule")
    zone = beat.get("timezone") or "UTC"
    return html.Ul([html.Li([html.Code(s.get("cron")), " " + _("({zone}) · next run {time} UTC").format(
                        zone=zone, time=clock(s.get("next_run")))])
                    for s in schedules], className="list-unstyled mb-0", id="ops-schedule")


def cleaning_table(manifest: Mapping | None) -> object:
    """The latest snapshot's cleaning report: each rule, what it did and to how many input lines."""
    report = [r for r in (manifest or {}).get("cleaning") or [] if isinstance(r, Mapping)]
    if not report:
        return html.P(_("No cleaning report in this snapshot."), className="text-body-secondary mb-0",
                      id="ops-cleaning")
    head = html.Thead(html.Tr([html.Th(_("Rule")), html.Th(_("Effect")), html.Th(_("Lines"), className="text-end"),
                               html.Th(_("What it means"))]))
    body = html.Tbody([html.Tr([html.Td(html.Code(r.get("rule"))), html.Td(r.get("effect", "–")),
                                html.Td(fmt.count(r.get("rows")), className="text-end"),
                                html.Td(r.get("description", ""), className="ops-wrap")]) for r in report])
    return dbc.Table([head, body], size="sm", hover=True, responsive=True, class_name="ops-history mb-0",
                     id="ops-cleaning")


def quality_card(manifest: Mapping | None) -> object:
    """Recommendation quality measured by the refresh (hold-out hit rate vs a baseline, precision, NDCG)."""
    quality = (manifest or {}).get("recommendation_quality")
    if not isinstance(quality, Mapping) or "hit_rate" not in quality:
        return html.P(_("Recommendation quality was not measured for this snapshot (recommendations.evaluation)."),
                      className="text-body-secondary mb-0", id="ops-quality")
    k, base = quality.get("k", "k"), quality.get("baseline") or {}
    versus = _("{value} vs {baseline}")
    facts = [
        (_("Hit rate @{k}").format(k=k), _("{value} vs {baseline} for {name}").format(
            value=fmt.share(quality.get("hit_rate")), baseline=fmt.share(base.get("hit_rate")),
            name=base.get("name") or _("the baseline")),
         _("Share of customers who bought, in the hold-out period, at least one of their recommended products.")),
        (_("Precision @{k}").format(k=k), versus.format(value=fmt.share(quality.get("precision")),
                                                        baseline=fmt.share(base.get("precision"))),
         _("Share of recommended products that were bought in the hold-out period.")),
        (f"NDCG @{k}", versus.format(value=fmt.number(quality.get("ndcg"), 3),
                                     baseline=fmt.number(base.get("ndcg"), 3)),
         _("Ranking quality: 1 when the products bought are at the top of the list.")),
        (_("Evaluated on"), _("{customers} customers · trained to {split}, tested to {end}").format(
            customers=fmt.count(quality.get("customers_evaluated")), split=fmt.day(quality.get("split_date")),
            end=fmt.day(quality.get("holdout_end"))),
         _("Customers who bought in the hold-out period, with history before it.")),
    ]
    return html.Dl([item for label, value, hint in facts
                    for item in (html.Dt(html.Span(label, title=hint)), html.Dd(value))],
                   className="ops-facts mb-0", id="ops-quality")


def pending_note(request: Mapping | None, now: datetime) -> ComponentType:
    """The queued "Refresh now" request, if any, with a hint when it has waited long."""
    if not request:
        return None
    at = request.get("requested_at")
    asked = fmt.utc_stamp(at)
    waited = (pd.Timestamp(now).tz_convert("UTC") - asked).total_seconds() if asked is not None else 0
    hint = (" " + _("It has waited a while: check that the scheduler (python -m jobs.scheduler) is running.")
            if waited > STALE_REQUEST_S else "")
    by = request.get("requested_by") or _("unknown")
    return dbc.Alert([html.Strong(_("Refresh queued")),
                      " " + _("by {who} at {time} UTC ({ago}) — waiting for the scheduler.").format(
                          who=by, time=clock(at), ago=ago(at, now)) + hint],
                     color="info", class_name="py-2 mb-0", id="ops-pending-note")


def _rows(run: Mapping) -> str:
    rows = run.get("rows") or {}
    if not rows:
        return "–"
    return _("{lines} lines · {customers} customers").format(lines=fmt.count(rows.get("input_lines")),
                                                             customers=fmt.count(rows.get("customers")))


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
        html.Td(dbc.Badge(_status(status), color=STATUS_COLORS.get(status, "dark"), class_name="ops-status")),
        html.Td(html.Span(_trigger(run.get("trigger")), title=_("requested by {who} at {time}").format(
            who=asked, time=run.get("requested_at")) if asked else None)),
        html.Td(html.Code(run.get("version") or "–") if status == "success" else
                html.Span(run.get("version") or "–", className="text-body-secondary small")),
        html.Td(_rows(run), className="text-nowrap"),
        html.Td(_message(run)),
    ], className=f"ops-run ops-run-{status}")


def history_table(runs: Sequence[Mapping], now: datetime) -> ComponentType:
    """The run history, newest first (as the store returns it)."""
    if not runs:
        return html.P(_("No refresh has run yet."), className="text-body-secondary mb-0", id="ops-no-runs")
    head = html.Thead(html.Tr([html.Th(label) for label in (
        _("Started (UTC)"), _("Finished"), _("Duration"), _("Status"), _("Trigger"), _("Version"), _("Rows"),
        _("Message"))]))
    body = html.Tbody([_history_row(run, now) for run in runs])
    return dbc.Table([head, body], id="ops-history-table", size="sm", hover=True, responsive=True,
                     class_name="ops-history mb-0")


def queued_message(queued: bool, poll_s: float) -> dbc.Alert:
    """Feedback after "Refresh now": queued, or one is already queued."""
    if queued:
        seconds = fmt.number(poll_s, 0 if float(poll_s).is_integer() else 1)
        return dbc.Alert(_("Refresh queued — the scheduler starts it within about {seconds} s; "
                           "follow it in the history below.").format(seconds=seconds),
                         color="success", class_name="py-2 mb-0", id="ops-queued", duration=8000)
    return dbc.Alert(_("A refresh is already queued"), color="warning", class_name="py-2 mb-0", id="ops-queued")


_STATUSES = {"success": N_("success"), "failed": N_("failed"), "skipped": N_("skipped"), "running": N_("running")}
_TRIGGERS = {"manual": N_("manual"), "schedule": N_("schedule"), "ops": N_("ops")}


def _status(status: str) -> str:
    """A run status in the current language (unknown statuses as stored)."""
    return _(_STATUSES[status]) if status in _STATUSES else status


def _trigger(trigger: object) -> str:
    """A run trigger in the current language (unknown triggers as stored)."""
    text = str(trigger or "–")
    return _(_TRIGGERS[text]) if text in _TRIGGERS else text


def utc_now() -> datetime:
    """Now, in UTC (a seam for tests)."""
    return datetime.now(UTC)
