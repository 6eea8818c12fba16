"""Segments page in a real browser, served by gunicorn on the bundled snapshot."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.support.ui import WebDriverWait

from dashboard import data
from tests.dashboard.browser.conftest import severe_logs


@pytest.fixture(scope="module")
def segments(dash_app):
    """The snapshot's segments table (the same store the live server reads), indexed by name."""
    with dash_app.server.test_request_context("/"):
        return data.table("segments", data.current_version()).set_index("segment", drop=False)


def _wait_for_url(dash_duo, fragment: str) -> None:
    WebDriverWait(dash_duo.driver, 15).until(lambda driver: fragment in driver.current_url)


def test_selected_segment_shows_real_figures(dash_duo, live_server, segments):
    champions = segments.loc["Champions"]
    dash_duo.server_url = live_server + "/segments?segment=Champions"
    dash_duo.wait_for_text_to_equal("#kpi-customers", f"{int(champions['customers']):,}", timeout=20)
    assert dash_duo.find_element("#kpi-customers").text == "898"
    assert dash_duo.find_element("#kpi-revenue").text == "£5,478,040"  # net value of the segment
    assert dash_duo.find_element("#segment-title").text.startswith("Champions")
    dash_duo.wait_for_contains_text("#filter-chip", "Segment: Champions")
    dash_duo.wait_for_element("#segment-radar .main-svg")
    assert len(dash_duo.find_elements("#segment-radar .scatterlayer .trace")) == 2  # segment + all customers
    dash_duo.wait_for_element("#segment-comparison-graph .main-svg")
    rows = dash_duo.find_elements("#segment-products tbody tr")
    assert len(rows) == 10 and "Regency Cakestand 3 Tier" in rows[0].text
    assert dash_duo.find_element("#segment-action").text == champions["action"]
    assert "/actions?segment=Champions" in dash_duo.find_element("#segment-action-link").get_attribute("href")
    assert severe_logs(dash_duo) == []


def test_clicking_another_segment_updates_url_and_content(dash_duo, live_server, segments):
    dash_duo.server_url = live_server + "/segments?segment=Champions"
    dash_duo.wait_for_text_to_equal("#kpi-customers", "898", timeout=20)
    dash_duo.find_element("#segment-pill-loyal").click()
    _wait_for_url(dash_duo, "segment=Loyal")
    dash_duo.wait_for_text_to_equal("#kpi-customers", f"{int(segments.loc['Loyal', 'customers']):,}")
    assert dash_duo.find_element("#kpi-customers").text == "703"
    dash_duo.wait_for_contains_text("#filter-chip", "Segment: Loyal")
    assert "active" in dash_duo.find_element("#segment-pill-loyal").get_attribute("class")
    dash_duo.wait_for_element("#segment-radar .main-svg")
    assert severe_logs(dash_duo) == []


def test_clicking_a_bubble_selects_its_segment(dash_duo, live_server, segments):
    dash_duo.server_url = live_server + "/segments?segment=Champions"
    dash_duo.wait_for_text_to_equal("#kpi-customers", "898", timeout=20)
    points = dash_duo.find_elements("#segment-comparison-graph .scatterlayer .trace .points path.point")
    assert len(points) == len(segments)
    target = list(segments["segment"]).index("Hibernating")  # an isolated bubble
    ActionChains(dash_duo.driver).move_to_element(points[target]).pause(0.3).click().perform()
    _wait_for_url(dash_duo, "segment=Hibernating")
    dash_duo.wait_for_text_to_equal("#kpi-customers", f"{int(segments.loc['Hibernating', 'customers']):,}")
    assert dash_duo.find_element("#segment-title").text.startswith("Hibernating")
    assert severe_logs(dash_duo) == []


def test_overview_cards_select_a_segment(dash_duo, live_server, segments):
    dash_duo.server_url = live_server + "/segments"
    dash_duo.wait_for_element("#segment-overview", timeout=20)
    assert len(dash_duo.find_elements("#segment-overview .segment-card")) == len(segments)
    assert not dash_duo.find_elements("#filter-chip")
    dash_duo.find_element("#segment-card-cant-lose-them").click()
    _wait_for_url(dash_duo, "segment=Can%27t+Lose+Them")
    expected = int(segments.loc["Can't Lose Them", "customers"])
    dash_duo.wait_for_text_to_equal("#kpi-customers", f"{expected:,}")
    assert dash_duo.find_element("#kpi-at-risk").text == "115"
    assert "view=at-risk" in dash_duo.find_element("#segment-at-risk-link").get_attribute("href")
    assert severe_logs(dash_duo) == []


def test_unknown_segment_shows_a_clear_message(dash_duo, live_server, segments):
    dash_duo.server_url = live_server + "/segments?segment=Nope"
    dash_duo.wait_for_contains_text("#segment-unknown", "no segment called “Nope”", timeout=20)
    message = dash_duo.find_element("#segment-unknown").text
    assert all(name in message for name in segments["segment"])
    assert not dash_duo.find_elements("#segment-radar")
    assert severe_logs(dash_duo) == []


def test_embedded_mode_keeps_embed_in_links(dash_duo, live_server):
    dash_duo.server_url = live_server + "/segments?segment=Champions&embed=1"
    dash_duo.wait_for_text_to_equal("#kpi-customers", "898", timeout=20)
    assert not dash_duo.find_elements(".app-navbar")
    assert "embed=1" in dash_duo.find_element("#segment-pill-loyal").get_attribute("href")
    assert "embed=1" in dash_duo.find_element("#segment-action-link").get_attribute("href")
    assert severe_logs(dash_duo) == []
