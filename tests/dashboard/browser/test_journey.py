"""The user journey: executive summary → at-risk list → one customer → their recommendations,
in clicks, each step a bookmarkable URL; then the same state opened by deep links."""

from __future__ import annotations

from dash.testing.wait import until
from selenium.webdriver.common.action_chains import ActionChains

from tests.dashboard.browser.conftest import severe_logs

FIRST_CELL = '.ag-row[row-index="0"] .ag-cell[col-id="customer_id"]'


def _click(dash_duo, selector: str) -> None:
    element = dash_duo.wait_for_element(selector, timeout=20)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
    ActionChains(dash_duo.driver).move_to_element(element).click().perform()


def test_executive_to_recommendations_in_clicks(dash_duo, live_server):
    dash_duo.server_url = live_server + "/"
    dash_duo.wait_for_contains_text("#at-risk-alert", "134 high-value customers at risk", timeout=20)

    _click(dash_duo, "#at-risk-link")  # click 1: the alert opens the at-risk list
    # sorted by the ranking the backtest chose (lowest chance of an order in 90 days first): 12590
    dash_duo.wait_for_text_to_equal(FIRST_CELL, "12590", timeout=20)
    until(lambda: "/actions?view=at-risk" in dash_duo.driver.current_url, timeout=5)
    at_risk_url = dash_duo.driver.current_url

    _click(dash_duo, FIRST_CELL)  # click 2: the top customer opens Client 360
    dash_duo.wait_for_text_to_equal("#client-title", "12590", timeout=20)
    until(lambda: dash_duo.driver.current_url.startswith(live_server + "/client/12590"), timeout=5)
    client_url = dash_duo.driver.current_url

    recommendations = dash_duo.find_elements("#client-reco-table .client-reco-row")  # visible on arrival
    assert len(recommendations) == 10
    assert recommendations[0].find_element("css selector", ".client-reco-lift").text.startswith("×")
    assert severe_logs(dash_duo) == []

    # every step is a URL that opens the same state when bookmarked or sent
    dash_duo.driver.get(at_risk_url)
    dash_duo.wait_for_text_to_equal(FIRST_CELL, "12590", timeout=20)
    dash_duo.driver.get(client_url)
    dash_duo.wait_for_text_to_equal("#client-title", "12590", timeout=20)
    assert severe_logs(dash_duo) == []


def test_segment_follows_the_user_across_pages(dash_duo, live_server):
    dash_duo.server_url = live_server + "/segments?segment=Loyal"
    dash_duo.wait_for_contains_text("#filter-chip", "Segment: Loyal", timeout=20)
    _click(dash_duo, "#nav-actions")
    dash_duo.wait_for_contains_text("#actions-headline", "Loyal", timeout=20)
    dash_duo.wait_for_contains_text("#filter-chip", "Segment: Loyal")
    _click(dash_duo, "#nav-home")
    dash_duo.wait_for_contains_text("#filter-chip", "Segment: Loyal", timeout=20)
    assert "segment=Loyal" in dash_duo.driver.current_url
    assert severe_logs(dash_duo) == []
