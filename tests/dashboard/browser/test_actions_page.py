"""Actions page in a real browser, served by gunicorn (2 workers) on the bundled snapshot."""

from __future__ import annotations

import csv
import io
import os
import time

from dash.testing.wait import until
from selenium.webdriver.common.action_chains import ActionChains

from tests.dashboard.browser.conftest import severe_logs

FIRST_CELL = '.ag-row[row-index="0"] .ag-cell[col-id="customer_id"]'


def first_customer(dash_duo) -> str:
    return dash_duo.find_element(FIRST_CELL).text


def click(dash_duo, element) -> None:
    """A real mouse click at the element's centre (whatever element is on top there gets it)."""
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    ActionChains(dash_duo.driver).move_to_element(element).click().perform()


def open_list(dash_duo, live_server, query: str = "view=at-risk") -> None:
    dash_duo.server_url = f"{live_server}/actions?{query}"
    # the list opens sorted by the ranking the backtest chose: on the bundled data, the lowest chance of an
    # order in 90 days (BG/NBD) first — 12590, whose last order was on 12 May 2011
    dash_duo.wait_for_text_to_equal(FIRST_CELL, "12590", timeout=20) if query == "view=at-risk" else \
        dash_duo.wait_for_element(FIRST_CELL, timeout=20)


def test_at_risk_list_shows_real_rows_and_sorts_on_the_server(dash_duo, live_server):
    open_list(dash_duo, live_server)
    assert dash_duo.find_element("#actions-headline").text == \
        "134 high-value customers at risk — £550,900 a year at stake"
    assert len(dash_duo.find_elements("#action-matrix tbody tr")) == 6
    assert dash_duo.find_element("#action-matrix tbody tr").text.startswith("Can't Lose Them")
    dash_duo.wait_for_contains_text(".ag-paging-row-summary-panel", "1 to 25 of 134")
    dash_duo.wait_for_text_to_equal("#list-count", "134 customers")
    row = dash_duo.find_element('.ag-center-cols-container .ag-row[row-index="0"]').text
    assert "Can't Lose Them" in row and "£9,861.38" in row and "12 May 2011" in row and "20 %" in row

    monetary = '.ag-header-cell[col-id="monetary"] .ag-header-cell-label'
    dash_duo.find_element(monetary).click()  # ascending: the smallest at-risk spender first
    dash_duo.wait_for_text_to_equal(FIRST_CELL, "12601")
    dash_duo.find_element(monetary).click()  # descending
    dash_duo.wait_for_text_to_equal(FIRST_CELL, "16029")

    click(dash_duo, dash_duo.find_element('.ag-paging-button[aria-label="Next Page"]'))
    dash_duo.wait_for_contains_text(".ag-paging-row-summary-panel", "26 to 50 of 134")
    assert severe_logs(dash_duo) == []


def test_a_filter_is_applied_on_the_server(dash_duo, live_server):
    open_list(dash_duo, live_server)
    box = dash_duo.find_element('.ag-floating-filter[aria-colindex="2"] input')  # the Segment column
    box.send_keys("loyal")
    dash_duo.wait_for_text_to_equal("#list-count", "19 customers of 134", timeout=10)
    dash_duo.wait_for_contains_text(".ag-paging-row-summary-panel", "1 to 19 of 19")
    assert "Loyal" in dash_duo.find_element('.ag-center-cols-container .ag-row[row-index="0"]').text
    assert severe_logs(dash_duo) == []


def test_clicking_a_customer_opens_client_360(dash_duo, live_server):
    open_list(dash_duo, live_server)
    assert severe_logs(dash_duo) == []
    dash_duo.find_element(FIRST_CELL).click()
    until(lambda: dash_duo.driver.current_url == f"{live_server}/client/12590", timeout=10,
          msg=lambda: f"still at {dash_duo.driver.current_url}")


def test_clicking_a_segment_in_the_matrix_narrows_the_list(dash_duo, live_server):
    open_list(dash_duo, live_server)
    loyal = [r for r in dash_duo.find_elements("#action-matrix tbody tr") if r.text.startswith("Loyal")][0]
    click(dash_duo, loyal.find_elements("css selector", "td")[3])  # anywhere on the row, here the tactic
    dash_duo.wait_for_contains_text("#actions-headline", "17 high-value customers at risk in Loyal", timeout=20)
    assert dash_duo.driver.current_url.endswith("/actions?segment=Loyal&view=at-risk")
    dash_duo.wait_for_contains_text(".ag-paging-row-summary-panel", "1 to 17 of 17")
    dash_duo.find_element("#view-all").click()
    dash_duo.wait_for_contains_text(".ag-paging-row-summary-panel", "of 703", timeout=20)
    assert "segment=Loyal" in dash_duo.driver.current_url and "view=all" in dash_duo.driver.current_url
    assert severe_logs(dash_duo) == []


def test_csv_export_downloads_the_whole_list(dash_duo, live_server):
    open_list(dash_duo, live_server)
    dash_duo.find_element("#export-csv").click()
    folder = dash_duo.download_path
    until(lambda: [f for f in os.listdir(folder) if f.endswith(".csv")], timeout=15, msg="no CSV downloaded")
    name = [f for f in os.listdir(folder) if f.endswith(".csv")][0]
    assert name.startswith("customers-all-at-risk-")
    time.sleep(0.2)  # let the browser finish writing
    with open(os.path.join(folder, name), encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read())))
    assert len(rows) == 134
    assert rows[0]["customer_id"] == "12590" and rows[0]["net_value"] == "9861.38"  # docs/EXPORTS.md columns
    assert rows[0]["product_1_code"] and rows[0]["risk_reason"].startswith("usually orders every")
    assert severe_logs(dash_duo) == []
