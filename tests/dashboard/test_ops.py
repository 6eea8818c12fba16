"""Operations page (/ops): token check, view builders, layouts and callbacks on the bundled snapshot."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import dash
import plotly
import pytest

from analytics.settings import StoreParams
from dashboard import data
from dashboard.components import ops_view
from jobs.store import FileStore
from tests.dashboard.components import find, page_module, text, walk

TOKEN = "correct horse battery staple"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _json(component) -> str:
    return json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder)


@pytest.fixture
def page(dash_app, in_request):
    """The registered /ops page module."""
    return page_module("/ops")


@pytest.fixture
def with_token(monkeypatch, dash_app):
    """The app as if started with OPS_TOKEN set."""
    real = data.settings()
    configured = replace(real, web=replace(real.web, ops_token=TOKEN))
    monkeypatch.setattr(data, "settings", lambda: configured)
    return configured


@pytest.fixture
def private_store(monkeypatch, tmp_path, in_request):
    """Refresh requests and run records go to a private store; snapshots still come from the session one."""
    private = FileStore(StoreParams(url="file://" + str(tmp_path)))
    shared = data.store()
    for name in ("request_refresh", "pending_refresh_request", "runs", "heartbeat"):
        monkeypatch.setattr(shared, name, getattr(private, name))
    return private


# --- pure pieces ------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, expected, ok", [
    (TOKEN, TOKEN, True),
    ("wrong", TOKEN, False),
    (TOKEN[:-1], TOKEN, False),
    ("", TOKEN, False),
    (None, TOKEN, False),
    (["list"], TOKEN, False),
    (TOKEN, None, False),  # no token configured: nothing is ever accepted
    ("", "", False),
    ("clé-é", "clé-é", True),
])
def test_token_check(typed, expected, ok):
    assert ops_view.token_ok(typed, expected) is ok


def test_ages_durations_and_clock_times():
    assert ops_view.ago("2026-11-25T11:59:30+00:00", NOW) == "just now"
    assert ops_view.ago("2026-11-25T11:55:00+00:00", NOW) == "5 min ago"
    assert ops_view.ago("2026-11-25T09:00:00+00:00", NOW) == "3 h ago"
    assert ops_view.ago("2026-11-22T12:00:00+00:00", NOW) == "3 days ago"
    assert ops_view.ago(None, NOW) == "–"
    assert [ops_view.duration(s) for s in (0.42, 12.4, 185)] == ["0.4 s", "12 s", "3 min 05 s"]
    assert ops_view.clock("2026-11-25T08:21:03+00:00") == "25 Nov 08:21:03"
    assert ops_view.clock("2026-11-25T09:21:03+01:00", with_day=False) == "08:21:03"
    assert ops_view.run_duration({"seconds": 4.04}, NOW) == "4.0 s"
    assert ops_view.run_duration({"started_at": "2026-11-25T08:00:00+00:00",
                                  "finished_at": "2026-11-25T08:00:00+00:00", "status": "failed"}, NOW) == "< 1 s"
    assert ops_view.run_duration({"started_at": "2026-11-25T11:58:00+00:00", "status": "running"}, NOW) == \
        "2 min 00 s"


RUNS = [
    {"run_id": "c", "status": "running", "trigger": "ops", "started_at": "2026-11-25T11:59:50+00:00",
     "version": "20261125T115950Z-cccccc", "requested_by": "ops page", "requested_at": "2026-11-25T11:59:48+00:00"},
    {"run_id": "b", "status": "failed", "trigger": "schedule", "started_at": "2026-11-25T02:00:00+00:00",
     "finished_at": "2026-11-25T02:00:01+00:00", "version": "20261125T020000Z-bbbbbb",
     "error": "Input file not found: /data/" + "x" * 300},
    {"run_id": "a", "status": "success", "trigger": "manual", "started_at": "2026-11-24T23:59:58+00:00",
     "finished_at": "2026-11-25T00:00:03+00:00", "seconds": 4.6, "version": "20261124T235958Z-aaaaaa",
     "rows": {"customers": 4338, "input_lines": 541909}},
    {"run_id": "d", "status": "skipped", "trigger": "schedule", "started_at": "2026-11-24T23:59:59+00:00",
     "finished_at": "2026-11-24T23:59:59+00:00", "error": "Refresh skipped: locked by 'host:1' (fence 3)"},
]


def test_history_lists_runs_newest_first_with_badges_rows_and_messages():
    table = ops_view.history_table(RUNS, NOW)
    rows = table.children[1].children
    cells = [[text(cell) for cell in row.children] for row in rows]
    assert [c[3] for c in cells] == ["running", "failed", "success", "skipped"]
    assert [b.color for b in walk(table) if isinstance(b, dash.development.base_component.Component)
            and type(b).__name__ == "Badge"] == ["primary", "danger", "success", "secondary"]
    assert cells[0][:3] == ["25 Nov 11:59:50", "–", "10 s"]  # still running: time so far
    assert cells[2][:3] == ["24 Nov 23:59:58", "25 Nov 00:00:03", "4.6 s"]  # finished the next day
    assert cells[1][1] == "02:00:01"
    assert cells[2][6] == "541,909 lines · 4,338 customers" and cells[1][6] == "–"
    assert cells[1][7].startswith("Input file not found") and len(cells[1][7]) == ops_view.ERROR_CHARS
    assert rows[1].children[7].children.title.endswith("x" * 300)  # the full message on hover
    assert rows[0].children[4].children.title.startswith("requested by ops page")
    assert "locked by" in cells[3][7]


def test_empty_history_says_so():
    assert text(ops_view.history_table([], NOW)) == "No refresh has run yet."


def test_snapshot_card_shows_the_published_snapshot(in_request):
    version = data.current_version()
    manifest = data.manifest(version)
    three_hours_later = datetime.fromisoformat(manifest["created_at"]) + timedelta(hours=3, minutes=5)
    card = ops_view.snapshot_card(manifest, three_hours_later)
    assert text(find(card, "ops-version")) == version
    assert text(find(card, "ops-period")) == "1 Dec 2010 – 9 Dec 2011"
    assert text(find(card, "ops-input")) == "online_retail.parquet"
    assert text(find(card, "ops-rows")) == "541,909 input lines · 4,338 customers"
    assert text(find(card, "ops-published")).endswith(" UTC · 3 h ago")
    assert "No snapshot published yet." in text(ops_view.snapshot_card(None, NOW))
    assert "Store unavailable: Redis down" in text(ops_view.snapshot_card(manifest, NOW, "Redis down"))


def test_pending_note_hints_at_a_missing_scheduler_after_a_while():
    assert ops_view.pending_note(None, NOW) is None
    fresh = text(ops_view.pending_note({"requested_at": "2026-11-25T11:59:50+00:00", "requested_by": "ops page"},
                                        NOW))
    assert fresh.startswith("Refresh queued by ops page at 25 Nov 11:59:50 UTC (just now)")
    assert "scheduler (python -m jobs.scheduler) is running" not in fresh
    stale = text(ops_view.pending_note({"requested_at": "2026-11-25T11:50:00+00:00", "requested_by": "x"}, NOW))
    assert "10 min ago" in stale and "check that the scheduler (python -m jobs.scheduler) is running" in stale


# --- layouts ----------------------------------------------------------------------------------------

def test_without_ops_token_the_page_is_disabled(page):
    assert data.settings().web.ops_token is None  # the session app is built without OPS_TOKEN
    layout = page.layout()
    assert "Operations page disabled — set OPS_TOKEN" in text(find(layout, "ops-disabled"))
    assert find(layout, "ops-refresh-off").disabled is True
    assert find(layout, "ops-token-input") is None and find(layout, "ops-refresh") is None


def test_with_ops_token_the_layout_holds_only_the_token_field(page, with_token):
    layout = page.layout()
    assert find(layout, "ops-token-input").type == "password"
    assert find(layout, "ops-token").storage_type == "session"
    assert find(layout, "ops-poll").disabled is True and find(layout, "ops-panel").hidden is True
    text = _json(layout)
    assert data.current_version() not in text and TOKEN not in text
    for word in ("success", "failed", "541,909", "online_retail"):
        assert word not in text
    embedded = page.layout(embed="1")
    assert find(embedded, "ops-token-input") is not None and "navbar" not in _json(embedded).lower()


# --- callbacks --------------------------------------------------------------------------------------

def test_unlock_keeps_only_the_right_token(page, with_token):
    token, message, cleared = page.unlock(1, "guess")
    assert token is None and text(message) == "Wrong token" and cleared == ""
    token, message, cleared = page.unlock(2, TOKEN)
    assert token == TOKEN and message is None and cleared == ""


def test_unlock_refuses_everything_without_ops_token(page):
    assert page.unlock(1, "")[0] is None and page.unlock(1, "anything")[0] is None


def test_show_renders_nothing_for_a_wrong_token(page, with_token, private_store):
    for token in (None, "", "guess"):
        assert page.show(token, 3, None) == (True, False, True, None, None, None, None, None, None)


def test_show_renders_snapshot_pending_and_history_for_the_right_token(page, with_token, private_store):
    private_store.record_run(RUNS[2])
    private_store.request_refresh({"requested_at": "2026-11-25T11:59:50+00:00", "requested_by": "ops page"})
    panel_hidden, gate_hidden, poll_disabled, snapshot, pending, history, *_ = page.show(TOKEN, None, None)
    assert (panel_hidden, gate_hidden, poll_disabled) == (False, True, False)
    assert text(find(snapshot, "ops-version")) == data.current_version()
    assert "Refresh queued by ops page" in text(pending)
    assert [text(row.children[3]) for row in history.children[1].children] == ["success"]


def test_refresh_now_queues_once_then_says_already_queued(page, with_token, private_store):
    message = page.queue_refresh(1, TOKEN)
    poll_s = data.settings().scheduler.poll_s
    assert text(message).startswith(f"Refresh queued — the scheduler starts it within about {poll_s:g} s")
    pending = private_store.pending_refresh_request()
    assert pending["requested_by"] == "ops page"
    assert datetime.fromisoformat(pending["requested_at"]).tzinfo is not None
    assert text(page.queue_refresh(2, TOKEN)) == "A refresh is already queued"
    assert private_store.pending_refresh_request() == pending


def test_refresh_now_with_a_wrong_token_queues_nothing(page, with_token, private_store):
    assert text(page.queue_refresh(1, "guess")) == "Wrong token"
    assert text(page.queue_refresh(1, None)) == "Wrong token"
    assert private_store.pending_refresh_request() is None


def test_refresh_now_names_the_sso_user_when_configured(page, dash_app, monkeypatch, tmp_path):
    real = data.settings()
    configured = replace(real, web=replace(real.web, ops_token=TOKEN, trusted_user_header="X-Forwarded-User"))
    monkeypatch.setattr(data, "settings", lambda: configured)
    private = FileStore(StoreParams(url="file://" + str(tmp_path)))
    monkeypatch.setattr(data.store(), "request_refresh", private.request_refresh)
    with dash_app.server.test_request_context("/", headers={"X-Forwarded-User": "alice"}):
        page.queue_refresh(1, TOKEN)
    assert private.pending_refresh_request()["requested_by"] == "ops page (alice)"


# --- defect 5: no second refresh while one is queued or running ------------------------------------------

def _beat(at: datetime, running: dict | None = None, **extra) -> dict:
    return {"at": at.isoformat(), "pid": 4242, "host": "sched-1", "started_at": "2026-11-25T06:00:00+00:00",
            "poll_s": 5.0, "timezone": "UTC", "stopped": False, "running": running,
            "schedules": [{"cron": "0 2 * * *", "next_run": "2026-11-26T02:00:00+00:00"}], **extra}


def test_running_refresh_from_the_heartbeat_or_a_recent_running_record():
    running = {"trigger": "schedule", "since": "2026-11-25T11:58:00+00:00"}
    assert ops_view.running_refresh([], _beat(NOW - timedelta(seconds=4), running), NOW) == running
    # the heartbeat is 10 min old: that scheduler is gone, its "running" is not believed
    assert ops_view.running_refresh([], _beat(NOW - timedelta(minutes=10), running), NOW) is None
    manual = {"run_id": "r", "status": "running", "trigger": "manual", "started_at": "2026-11-25T11:50:00+00:00"}
    assert ops_view.running_refresh([manual], None, NOW) == {"trigger": "manual", "since": manual["started_at"]}
    killed = {**manual, "started_at": "2026-11-25T09:00:00+00:00"}  # 3 h: left behind by a killed process
    assert ops_view.running_refresh([killed], None, NOW) is None
    assert ops_view.running_refresh([{**manual, "status": "success"}], _beat(NOW), NOW) is None


def test_refresh_now_while_a_refresh_runs_queues_nothing(page, with_token, private_store, monkeypatch):
    monkeypatch.setattr(ops_view, "utc_now", lambda: NOW)
    private_store.write_heartbeat(_beat(NOW - timedelta(seconds=3),
                                        {"trigger": "schedule", "since": "2026-11-25T11:58:00+00:00"}))
    message = text(page.queue_refresh(1, TOKEN))
    assert message.startswith("A refresh is already running (trigger schedule, started 2 min ago)")
    assert private_store.pending_refresh_request() is None
    private_store.write_heartbeat(_beat(NOW - timedelta(seconds=1)))  # the run ended
    assert text(page.queue_refresh(2, TOKEN)).startswith("Refresh queued")
    assert text(page.queue_refresh(3, TOKEN)) == "A refresh is already queued"


# --- scheduler, cleaning report and recommendation quality on /ops -------------------------------------

def test_scheduler_card_alive_dead_and_never_seen():
    alive = ops_view.scheduler_card(_beat(NOW - timedelta(seconds=4)), NOW)
    assert text(find(alive, "ops-scheduler-status")) == "alivelast seen 25 Nov 11:59:56 UTC (just now)"
    assert text(find(alive, "ops-scheduler-process")) == "pid 4242 on sched-1 · up since 25 Nov 06:00:00 UTC"
    assert text(find(alive, "ops-schedule")) == "0 2 * * * (UTC) · next run 26 Nov 02:00:00 UTC"
    assert text(find(alive, "ops-scheduler-running")) == "nothing"
    dead = ops_view.scheduler_card(_beat(NOW - timedelta(minutes=5)), NOW)
    assert text(find(dead, "ops-scheduler-status")).startswith("not respondinglast seen 25 Nov 11:55:00 UTC")
    stopped = ops_view.scheduler_card(_beat(NOW - timedelta(seconds=2), stopped=True), NOW)
    assert text(find(stopped, "ops-scheduler-status")).startswith("stopped")
    assert "No scheduler has ever run on this store" in text(ops_view.scheduler_card(None, NOW))
    unscheduled = ops_view.scheduler_card(_beat(NOW, schedules=[]), NOW)
    assert text(find(unscheduled, "ops-schedule")).startswith("no cron schedule")


def test_show_renders_scheduler_quality_and_cleaning_of_the_bundled_snapshot(page, with_token, private_store):
    private_store.write_heartbeat(_beat(datetime.now(UTC)))
    *_, scheduler, quality, cleaning = page.show(TOKEN, None, None)
    assert text(find(scheduler, "ops-scheduler-status")).startswith("alive")
    manifest = data.manifest(data.current_version())
    q = manifest["recommendation_quality"]
    assert f"{100 * q['hit_rate']:.1f} % vs {100 * q['baseline']['hit_rate']:.1f} %" in text(quality)
    rows = cleaning.children[1].children
    assert [text(r.children[0]) for r in rows] == [r["rule"] for r in manifest["cleaning"]]
    assert text(rows[0].children[2]) == "541,909"  # input lines of the bundled file
