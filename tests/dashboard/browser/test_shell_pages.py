"""The app shell in a real browser: the not-found page, the "new data" notice, the navbar search."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
from dash.testing.wait import until

from analytics.settings import PROJECT_ROOT, load_settings
from jobs.refresh import run
from tests.dashboard.browser.conftest import severe_logs
from tests.dashboard.conftest import gunicorn


def test_unknown_path_is_not_found_inside_the_app(dash_duo, live_server):
    dash_duo.server_url = live_server + "/no/such/page"
    dash_duo.wait_for_text_to_equal("#not-found-title", "Page not found", timeout=20)
    assert dash_duo.find_element("#nav-search")  # the navbar is there
    dash_duo.find_element("#not-found-home").click()
    dash_duo.wait_for_contains_text("#kpi-revenue", "£", timeout=20)
    assert dash_duo.driver.current_url == live_server + "/"
    assert severe_logs(dash_duo) == []


def test_navbar_search_opens_the_customer_with_their_segment(dash_duo, live_server):
    """From the Loyal segment, 17850.0 (a spreadsheet id) opens 17850 under its own segment, Can't Lose Them."""
    dash_duo.server_url = live_server + "/segments?segment=Loyal"
    dash_duo.wait_for_contains_text("#filter-chip", "Segment: Loyal", timeout=20)
    if not dash_duo.find_element("#nav-search").is_displayed():  # narrow window: open the menu
        dash_duo.find_element(".navbar-toggler").click()
    dash_duo.find_element("#nav-search").send_keys("17850.0")
    dash_duo.find_element("#nav-search-go").click()
    dash_duo.wait_for_text_to_equal("#client-title", "17850", timeout=20)
    assert dash_duo.driver.current_url == live_server + "/client/17850?segment=Can%27t+Lose+Them"
    dash_duo.wait_for_contains_text("#filter-chip", "Segment: Can't Lose Them")
    assert severe_logs(dash_duo) == []


@pytest.fixture(scope="module")
def polling_server(tmp_path_factory):
    """gunicorn on a private store (3,000 lines published), the tab asking for new data every second."""
    root = tmp_path_factory.mktemp("notice")
    source = root / "small.parquet"
    pd.read_parquet(PROJECT_ROOT / "data" / "online_retail.parquet").head(3000).to_parquet(source)
    config = root / "settings.yaml"
    config.write_text("dashboard:\n  new_data_poll_s: 1\n  version_poll_s: 0.5\n", encoding="utf-8")
    base = load_settings({})
    settings = replace(base, store=replace(base.store, url="file://" + str(root / "store")),
                       input=replace(base.input, path=str(source)))
    run(settings)
    with gunicorn({"STORE_URL": settings.store.url, "CONFIG_FILE": str(config)}, workers=1) as url:
        yield url, settings


def test_an_open_tab_learns_that_new_data_was_published(dash_duo, polling_server):
    url, settings = polling_server
    dash_duo.server_url = url + "/segments"
    dash_duo.wait_for_element("#segment-overview-note", timeout=20)
    assert not dash_duo.find_elements("#new-data-alert")
    run(settings)  # a refresh publishes a new version while the tab is open
    dash_duo.wait_for_contains_text("#new-data-alert", "New data published.", timeout=15)
    dash_duo.find_element("#new-data-reload").click()
    dash_duo.wait_for_element("#segment-overview-note", timeout=20)
    until(lambda: not dash_duo.find_elements("#new-data-alert"), timeout=5)
    assert severe_logs(dash_duo) == []
