"""Campaigns in a real browser: create an audience from the at-risk list, export it, see it measured on
/campaigns after a refresh (gunicorn with OPS_TOKEN on a private copy of the bundled snapshot)."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest
from dash.testing.wait import until

from analytics.settings import load_settings
from jobs.refresh import run
from jobs.store import open_store
from tests.dashboard.browser.conftest import downloaded_csv, severe_logs
from tests.dashboard.conftest import gunicorn

TOKEN = "campaign-browser-token-9c2e"


@pytest.fixture(scope="module")
def campaign_settings(published_store, tmp_path_factory):
    """Settings on a private copy of the published bundled snapshot (audiences must not leak elsewhere)."""
    target = tmp_path_factory.mktemp("campaigns") / "store"
    shutil.copytree(published_store.removeprefix("file://"), target)
    base = load_settings({})
    return replace(base, store=replace(base.store, url=f"file://{target}"))


@pytest.fixture(scope="module")
def campaign_server(campaign_settings):
    with gunicorn({"STORE_URL": campaign_settings.store.url, "OPS_TOKEN": TOKEN}) as url:
        yield url


def test_create_an_audience_from_the_at_risk_list_export_it_and_see_it_after_a_refresh(
        dash_duo, campaign_server, campaign_settings):
    store = open_store(campaign_settings.store)
    dash_duo.server_url = f"{campaign_server}/actions?view=at-risk"
    dash_duo.wait_for_text_to_equal("#list-count", "134 customers", timeout=20)
    dash_duo.find_element("#audience-open").click()
    dash_duo.wait_for_contains_text("#audience-sizes", "134 customers: 120 in the target group", timeout=15)
    assert "14 held out as control" in dash_duo.find_element("#audience-sizes").text
    dash_duo.find_element("#audience-name").send_keys("Win-back December")
    dash_duo.find_element("#audience-note").send_keys("15 % off by e-mail")
    dash_duo.find_element("#audience-save").click()
    dash_duo.wait_for_text_to_equal("#audience-error", "Wrong operator token.", timeout=10)
    assert store.audiences() == []
    dash_duo.find_element("#audience-token").send_keys(TOKEN)
    dash_duo.find_element("#audience-save").click()
    dash_duo.wait_for_contains_text("#audience-saved", "120 to contact, 14 held out", timeout=10)
    [saved] = store.audiences()
    assert saved["name"] == "Win-back December" and saved["created_by"] == "operator token"

    dash_duo.find_element("#audience-link").click()  # the campaign page, not measured yet
    dash_duo.wait_for_contains_text("#campaign-verdict", "Not measured yet", timeout=15)
    assert dash_duo.driver.current_url.endswith(f"/campaigns/{saved['audience_id']}")
    dash_duo.find_element("#campaign-export-target").click()
    target = downloaded_csv(dash_duo, "audience-Win-back-December-target-")
    assert len(target) == 120 and {r["audience_name"] for r in target} == {"Win-back December"}
    dash_duo.find_element("#campaign-export-full").click()
    full = downloaded_csv(dash_duo, "audience-Win-back-December-full-")
    assert len(full) == 134 and {r["customer_id"] for r in full if r["group"] == "control"}.isdisjoint(
        {r["customer_id"] for r in target})

    run(campaign_settings)  # the next refresh measures it (created today: after the data ends, so it waits)
    row = f"#campaign-row-{saved['audience_id']}"

    def measured() -> bool:  # workers notice the new snapshot within version_poll_s: reload until then
        dash_duo.server_url = f"{campaign_server}/campaigns"
        return "Waiting for data" in dash_duo.wait_for_element(row, timeout=15).text

    until(measured, timeout=30, poll=1, msg="the refreshed result never showed on /campaigns")
    assert "Win-back December" in dash_duo.find_element(row).text
    assert severe_logs(dash_duo) == []
