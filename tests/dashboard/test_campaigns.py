"""Campaigns in the dashboard: who may save an audience, the modal's callbacks, the pages and the exports."""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import replace

import flask
import pytest

from analytics.settings import StoreParams
from dashboard import audiences, data
from dashboard.components import audience_form
from jobs.store import FileStore
from tests.dashboard.components import by_id, page_module, text

TOKEN = "campaign-test-token"


@pytest.fixture
def private_audiences(monkeypatch, tmp_path, in_request):
    """Audiences go to a private store; snapshots still come from the session one."""
    private = FileStore(StoreParams(url="file://" + str(tmp_path)))
    shared = data.store()
    for name in ("save_audience", "audience", "audiences", "delete_audience"):
        monkeypatch.setattr(shared, name, getattr(private, name))
    return private


def configure(monkeypatch, **web):
    real = data.settings()
    configured = replace(real, web=replace(real.web, **web))
    monkeypatch.setattr(data, "settings", lambda: configured)


def at_risk_ids() -> list[str]:
    customers = data.table("customers", data.current_version())
    return customers.loc[customers["at_risk"], "customer_id"].tolist()


def source() -> dict:
    return audience_form.source(at_risk_ids(), "at-risk list")


def save(name: str = "Win-back", share: object = 10, token: str | None = None):
    return audience_form.save(1, source(), name, "15 % off by e-mail", share, token, data.current_version())


def test_saving_is_refused_when_no_sign_in_is_configured(dash_app, private_audiences):
    result = save()
    assert result.id == "audience-error" and "BASIC_AUTH_USER" in text(result) and "OPS_TOKEN" in text(result)
    assert private_audiences.audiences() == []


def test_the_operator_token_lets_a_user_save(dash_app, private_audiences, monkeypatch):
    configure(monkeypatch, ops_token=TOKEN)
    assert text(save(token="wrong")) == "Wrong operator token."
    assert private_audiences.audiences() == []
    result = save(token=TOKEN)
    assert result.id == "audience-saved", text(result)
    [saved] = private_audiences.audiences()
    assert saved["created_by"] == "operator token" and saved["members"] == 134
    # Can't Lose Them 115 → 12, Loyal 17 → 2, Potential Loyalists 2 → 0: 14 control
    assert (saved["target"], saved["control"]) == (120, 14) and saved["source"] == "at-risk list"
    assert by_id(result, "audience-link").href.endswith(f"/campaigns/{saved['audience_id']}")


def test_a_trusted_header_user_saves_and_the_audit_line_has_no_customer_id(dash_app, private_audiences,
                                                                          monkeypatch, caplog):
    configure(monkeypatch, trusted_user_header="X-Forwarded-User")
    with dash_app.server.test_request_context("/", headers={"X-Forwarded-User": "ann@example.com"}):
        with caplog.at_level(logging.INFO, logger="dashboard.audiences"):
            result = save()
    assert result.id == "audience-saved"
    assert private_audiences.audiences()[0]["created_by"] == "ann@example.com"
    [line] = [r for r in caplog.records if r.getMessage() == "audience created"]
    assert line.fields["by"] == "ann@example.com" and line.fields["members"] == 134
    assert not any(cid in str(line.fields) for cid in at_risk_ids())


@pytest.mark.parametrize("name, share, ids, message", [
    ("", 10, None, "needs a name"),
    ("ok", 60, None, "at most 0.5"),
    ("ok", "x", None, "control share"),
    ("ok", 10, ["17850", "not-a-customer"], "not in the current snapshot"),
    ("ok", 10, [17850], "not valid"),
])
def test_invalid_forms_are_refused_with_one_message(dash_app, private_audiences, monkeypatch, name, share, ids,
                                                     message):
    configure(monkeypatch, ops_token=TOKEN)
    chosen = source() if ids is None else {"ids": ids, "description": "x"}
    result = audience_form.save(1, chosen, name, "", share, TOKEN, data.current_version())
    assert result.id == "audience-error" and message in text(result)
    assert private_audiences.audiences() == []


def test_the_preview_shows_the_split_before_saving(dash_app, in_request):
    sizes, description = audience_form.show_preview(source(), 10, True, data.current_version())
    assert text(sizes) == "134 customers: 120 in the target group (to contact), 14 held out as control (not contacted)."
    assert "at-risk list" in description
    assert text(audience_form.show_preview(source(), 50, True, data.current_version())[0]).startswith(
        "134 customers: 66 in the target group")  # 115 → 58 (57.5 up), 17 → 9 (8.5 up), 2 → 1: 68 control


def test_the_campaigns_page_lists_audiences_and_the_detail_page_exports(dash_app, private_audiences, monkeypatch):
    page = page_module("/campaigns")
    assert "No audience yet" in text(page.layout())
    configure(monkeypatch, ops_token=TOKEN)
    save(token=TOKEN)
    [saved] = private_audiences.audiences()
    listing = page.layout()
    row = by_id(listing, f"campaign-row-{saved['audience_id']}")
    assert "Win-back" in text(row) and "Measured after the next refresh" in text(row) and "120 / 14" in text(row)

    detail = page_module("/campaigns/<audience_id>")
    body = detail.layout(audience_id=saved["audience_id"])
    assert "Not measured yet" in text(by_id(body, "campaign-verdict"))
    assert "134 members: 120 target" in text(by_id(body, "campaign-facts"))
    assert "not an audience id" in text(detail.layout(audience_id="../etc"))

    monkeypatch.setattr("dash.ctx", type("Ctx", (), {"triggered_id": "campaign-export-target"})())
    download = detail.export(1, None, saved["audience_id"], data.current_version())
    rows = list(csv.DictReader(io.StringIO(download["content"].lstrip("\ufeff"))))
    assert len(rows) == 120 and {r["audience_id"] for r in rows} == {saved["audience_id"]}
    assert download["filename"].startswith("audience-Win-back-target-")
    monkeypatch.setattr("dash.ctx", type("Ctx", (), {"triggered_id": "campaign-export-full"})())
    full = list(csv.DictReader(io.StringIO(detail.export(None, 1, saved["audience_id"],
                                                         data.current_version())["content"].lstrip("\ufeff"))))
    assert len(full) == 134 and sum(r["group"] == "control" for r in full) == 14


def test_the_modal_says_how_to_enable_sign_in(dash_app, in_request, monkeypatch):
    closed = audience_form.modal()
    assert "TRUSTED_USER_HEADER" in text(by_id(closed, "audience-auth-help"))
    assert by_id(closed, "audience-save").disabled
    configure(monkeypatch, ops_token=TOKEN)
    gated = audience_form.modal()
    assert not text(gated).count("TRUSTED_USER_HEADER") and not by_id(gated, "audience-save").disabled
    assert by_id(gated, "audience-token").type == "password"


def test_writer_rules(dash_app, monkeypatch):
    with dash_app.server.test_request_context("/"):
        assert audiences.writer(flask.request) == audiences.Writer(None, False, False)
    configure(monkeypatch, basic_auth_user="ann", basic_auth_password="pw")
    with dash_app.server.test_request_context("/", headers={"Authorization": "Basic YW5uOnB3"}):  # ann:pw
        assert audiences.writer(flask.request).user == "ann"


def test_a_store_failure_on_save_is_one_message(dash_app, private_audiences, monkeypatch):
    from analytics.errors import StoreUnavailableError

    configure(monkeypatch, ops_token=TOKEN)

    def down(*_args):
        raise StoreUnavailableError("Redis at 127.0.0.1:6390 unavailable: connection refused")

    monkeypatch.setattr(data.store(), "save_audience", down)
    result = save(token=TOKEN)
    assert result.id == "audience-error" and "unavailable" in text(result)


def test_results_table_and_outcome_chart():
    import pandas as pd

    from dashboard.components import campaign_view

    results = pd.DataFrame([
        {"metric": "bought", "label": "Share who bought", "unit": "points", "target_value": 31.25,
         "control_value": 28.0, "difference": 3.1, "ci_low": 0.8, "ci_high": 5.4, "p_value": 0.0081,
         "significant": True, "test": "Welch t-test stratified by segment, 95% CI"},
        {"metric": "net_revenue", "label": "Net revenue per member", "unit": "money", "target_value": 120.5,
         "control_value": 110.0, "difference": 10.5, "ci_low": -4.0, "ci_high": 25.0, "p_value": 0.15,
         "significant": False, "test": "Welch t-test stratified by segment, 95% CI"}])
    table = campaign_view.results_table(results, "£")
    expected = "Share who bought|31.2 %|28.0 %|+3.10 points [+0.80, +5.40]|0.008"
    assert text(by_id(table, "result-bought"), "|") == expected
    assert "£10.50 [-£4.00, £25.00]" in text(by_id(table, "result-net_revenue"))
    daily = pd.DataFrame({"audience_id": "a", "day": pd.to_datetime(["2011-09-01", "2011-09-02"] * 2),
                          "group": ["target", "target", "control", "control"], "members": [9, 9, 1, 1],
                          "buyers": [1, 3, 0, 0], "share_bought": [11.1, 33.3, 0.0, 0.0]})
    figure = campaign_view.daily_figure(daily)
    assert [trace.name for trace in figure.data] == ["Target", "Control"]
    assert list(figure.data[0].y) == [11.1, 33.3]
