"""Predicted value in a real browser (gunicorn, bundled snapshot): Client 360's figures and /predictions."""

import pytest

from analytics.settings import load_settings
from analytics.snapshot import parse_manifest, verify_table
from jobs.store import open_store
from tests.dashboard.browser.conftest import severe_logs


@pytest.fixture(scope="module")
def customers(published_store):
    store = open_store(load_settings({"STORE_URL": published_store}).store)
    manifest = parse_manifest(store.read_manifest(store.current_version()))
    return verify_table(manifest, "customers", store.read_table(manifest["version"], "customers")).set_index(
        "customer_id")


def test_client_360_shows_expected_orders_value_next_order_and_quality(dash_duo, live_server, customers):
    row = customers.loc["12347"]  # a Champion: 7 orders, last on 7 Dec 2011
    dash_duo.server_url = live_server + "/client/12347"
    dash_duo.wait_for_text_to_equal("#client-title", "12347", timeout=20)
    assert dash_duo.find_element("#client-pred-orders").text == f"{row['expected_orders_90d']:.1f}"
    assert dash_duo.find_element("#client-pred-value").text == f"£{row['expected_value_12m']:,.0f}"
    due = row["next_order_date"]
    assert dash_duo.find_element("#client-pred-next").text.startswith(f"{due.day} {due.strftime('%b %Y')}")
    assert not dash_duo.find_elements("#client-pred-alive")  # the bundled fit is degenerate: no P(alive)
    quality = dash_duo.find_element("#client-pred-quality").text
    assert "would say ≈100 % for everyone" in quality
    assert "Backtest: fitted on the data up to 11 Sep 2011" in quality and "AUC 0.7" in quality
    dash_duo.find_element("#client-pred-quality-link").click()
    dash_duo.wait_for_contains_text("#pred-risk-evidence", "sorted by default by", timeout=20)
    assert len(dash_duo.find_elements("#pred-backtest-table tbody tr")) == 5
    assert dash_duo.find_elements("#pred-calibration .main-svg")
    assert severe_logs(dash_duo) == []


def test_at_risk_customer_shows_why(dash_duo, live_server, customers):
    at_risk = customers[customers["at_risk"]].sort_values("value_at_stake", ascending=False)
    customer_id = at_risk.index[0]
    dash_duo.server_url = live_server + f"/client/{customer_id}"
    dash_duo.wait_for_text_to_equal("#client-title", customer_id, timeout=20)
    assert dash_duo.find_element("#client-pred-reason").text == "Why at risk: " + at_risk["risk_reason"].iloc[0]
    assert severe_logs(dash_duo) == []
