"""The operations page in a real browser: gunicorn with OPS_TOKEN on a private store, and without it."""

from __future__ import annotations

import urllib.request

import pytest

from jobs.scheduler import Scheduler
from jobs.store import open_store
from tests.dashboard.browser.conftest import severe_logs
from tests.dashboard.conftest import gunicorn

TOKEN = "ops-browser-test-token-4b1f"


@pytest.fixture(scope="module")
def ops_server(ops_settings):
    with gunicorn({"STORE_URL": ops_settings.store.url, "OPS_TOKEN": TOKEN}) as url:
        yield url


def _unlock(dash_duo, token: str) -> None:
    field = dash_duo.wait_for_element("#ops-token-input", timeout=20)
    field.clear()
    field.send_keys(token + "\n")


def test_the_page_refuses_without_and_with_a_wrong_token(dash_duo, ops_server, ops_settings):
    version = open_store(ops_settings.store).current_version()
    html = urllib.request.urlopen(ops_server + "/ops", timeout=10).read().decode()
    assert version not in html and TOKEN not in html
    dash_duo.server_url = ops_server + "/ops"
    dash_duo.wait_for_element("#ops-token-input", timeout=20)
    assert not dash_duo.find_element("#ops-panel").is_displayed()
    assert not dash_duo.find_elements("#ops-history-table") and version not in dash_duo.driver.page_source
    _unlock(dash_duo, "not-the-token")
    dash_duo.wait_for_text_to_equal("#ops-wrong-token", "Wrong token")
    assert not dash_duo.find_element("#ops-panel").is_displayed()
    assert version not in dash_duo.driver.page_source
    assert dash_duo.driver.execute_script("return window.sessionStorage.getItem('ops-token')") in (None, "null")
    assert "token" not in dash_duo.driver.current_url
    assert severe_logs(dash_duo) == []


def test_the_right_token_shows_history_and_queues_a_refresh(dash_duo, ops_server, ops_settings):
    store = open_store(ops_settings.store)
    version = store.current_version()
    dash_duo.server_url = ops_server + "/ops"
    _unlock(dash_duo, TOKEN)
    dash_duo.wait_for_text_to_equal("#ops-version", version, timeout=20)
    assert dash_duo.find_element("#ops-rows").text == "3,000 input lines · 91 customers"
    assert dash_duo.find_element("#ops-input").text == "small.parquet"
    statuses = [badge.text for badge in dash_duo.find_elements("#ops-history-table .ops-status")]
    assert statuses == ["success", "failed"]
    assert "missing.csv" in dash_duo.find_element("#ops-history-table").text
    assert not dash_duo.find_elements("#ops-gate-message .alert") and not dash_duo.find_element(
        "#ops-gate").is_displayed()

    dash_duo.find_element("#ops-refresh").click()
    dash_duo.wait_for_contains_text("#ops-queued", "Refresh queued")
    dash_duo.wait_for_contains_text("#ops-pending-note", "Refresh queued by ops page")
    assert store.pending_refresh_request()["requested_by"] == "ops page"
    dash_duo.find_element("#ops-refresh").click()
    dash_duo.wait_for_text_to_equal("#ops-queued", "A refresh is already queued")

    assert Scheduler(ops_settings).poll_requests() == "success"  # what the scheduler process does
    new_version = store.current_version()
    dash_duo.wait_for_text_to_equal("#ops-version", new_version, timeout=10)  # the page polls every 3 s
    assert dash_duo.find_elements("#ops-history-table .ops-status")[0].text == "success"
    assert dash_duo.find_elements("#ops-history-table tbody tr:first-child td")[4].text == "ops"
    assert not dash_duo.find_elements("#ops-pending-note")

    dash_duo.driver.refresh()  # the token stays for the session of this tab
    dash_duo.wait_for_text_to_equal("#ops-version", new_version, timeout=20)
    assert severe_logs(dash_duo) == []


def test_without_ops_token_the_page_is_disabled(dash_duo, live_server):
    dash_duo.server_url = live_server + "/ops"
    dash_duo.wait_for_contains_text("#ops-disabled", "Operations page disabled — set OPS_TOKEN", timeout=20)
    assert dash_duo.find_element("#ops-refresh-off").get_attribute("disabled") is not None
    assert not dash_duo.find_elements("#ops-token-input") and not dash_duo.find_elements("#ops-history-table")
    assert severe_logs(dash_duo) == []
