"""Actions page in a real browser, served by gunicorn (2 workers) on the bundled snapshot."""

from __future__ import annotations

import json
import os
from urllib.parse import parse_qs, urlsplit

from dash.testing.wait import until
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from tests.dashboard.browser.conftest import downloaded_csv, severe_logs

FIRST_CELL = '.ag-row[row-index="0"] .ag-cell[col-id="customer_id"]'


def first_customer(dash_duo) -> str:
    """The first row's customer id once the grid has settled (it redraws its rows after a sort or filter: the
    same id read twice, half a second apart, read in one script so that no element goes stale in between)."""
    read = "const cell = document.querySelector(arguments[0]); return cell ? cell.textContent.trim() : null;"
    seen: list[str | None] = [None]

    def settled() -> bool:
        now = dash_duo.driver.execute_script(read, FIRST_CELL)
        stable = bool(now) and now == seen[-1]
        seen.append(now)
        return stable

    until(settled, timeout=15, poll=0.5)
    return str(seen[-1])


def click(dash_duo, element) -> None:
    """A real mouse click at the element's centre (whatever element is on top there gets it).

    The scroll is instant: Bootstrap's ``scroll-behavior: smooth`` would still be moving the page when the click
    lands, and the click would hit whatever is under the pointer by then (a grid cell, not the filter button)."""
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
    until(lambda: dash_duo.driver.execute_script(  # nothing moving or on top of it any more (a loaded machine)
        "const r = arguments[0].getBoundingClientRect();"
        "const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);"
        "const box = arguments[0].closest('tr') || arguments[0];"  # a table row's link covers the whole row
        "return top !== null && box.contains(top);", element), timeout=10)
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
    def export_sort() -> list:  # the export link follows the list's sort
        href = dash_duo.find_element("#export-csv").get_attribute("href") or "?"
        return json.loads(parse_qs(urlsplit(href).query).get("sort", ["[]"])[0])
    until(lambda: [(s["colId"], s["sort"]) for s in export_sort()] == [("monetary", "desc")], timeout=10,
          msg="the export link did not follow the sort")

    click(dash_duo, dash_duo.find_element('.ag-paging-button[aria-label="Next Page"]'))
    dash_duo.wait_for_contains_text(".ag-paging-row-summary-panel", "26 to 50 of 134")
    assert severe_logs(dash_duo) == []


def choose_segment(dash_duo, name: str) -> None:
    """Pick ``name`` in the Segment column's filter list (the floating filter's button opens it)."""
    click(dash_duo, dash_duo.find_element('.ag-floating-filter[aria-colindex="2"] .ag-floating-filter-button button'))
    click(dash_duo, dash_duo.wait_for_element(".ag-filter .ag-picker-field-wrapper"))
    item = next(i for i in dash_duo.find_elements(".ag-select-list .ag-list-item") if i.text == name)
    click(dash_duo, item)


def test_a_filter_is_applied_on_the_server(dash_duo, live_server):
    """The segment filter is a list: "Loyal" gives the 17 Loyal customers, not the 2 Potential Loyalists too."""
    open_list(dash_duo, live_server)
    choose_segment(dash_duo, "Loyal")
    dash_duo.wait_for_text_to_equal("#list-count", "17 customers of 134", timeout=10)
    dash_duo.wait_for_contains_text(".ag-paging-row-summary-panel", "1 to 17 of 17")
    assert "Loyal" in dash_duo.find_element('.ag-center-cols-container .ag-row[row-index="0"]').text
    assert "Potential" not in dash_duo.find_element(".ag-center-cols-container").text
    assert severe_logs(dash_duo) == []


def test_filter_and_sort_are_in_the_url_and_restored(dash_duo, live_server):
    open_list(dash_duo, live_server)
    choose_segment(dash_duo, "Loyal")
    dash_duo.wait_for_text_to_equal("#list-count", "17 customers of 134", timeout=10)
    dash_duo.find_element('.ag-header-cell[col-id="monetary"] .ag-header-cell-label').click()  # ascending
    until(lambda: "sort=monetary%3Aasc" in dash_duo.driver.current_url, timeout=10,
          msg=lambda: f"no sort in {dash_duo.driver.current_url}")
    shared = dash_duo.driver.current_url
    assert "filter=" in shared and "is%3ALoyal" in shared and "view=at-risk" in shared
    first = first_customer(dash_duo)
    dash_duo.driver.get("about:blank")
    dash_duo.driver.get(shared)  # a colleague opens the shared link
    dash_duo.wait_for_text_to_equal("#list-count", "17 customers of 134", timeout=20)
    dash_duo.wait_for_text_to_equal(FIRST_CELL, first)
    floating = dash_duo.find_element('.ag-floating-filter[aria-colindex="2"] input')
    assert floating.get_attribute("value") == "Loyal"  # the restored filter is shown, not only applied
    assert severe_logs(dash_duo) == []


def test_customer_ids_are_real_links(dash_duo, live_server):
    """A link (href, new tab with a middle click) under the prefix-aware path; Enter on the cell follows it."""
    open_list(dash_duo, live_server)
    link = dash_duo.find_element(FIRST_CELL + " a")
    first = link.text  # the list opens in the backtest's best risk ranking (12590 on the bundled data)
    assert first == "12590" and link.get_attribute("href") == f"{live_server}/client/{first}"
    click(dash_duo, dash_duo.find_element('.ag-row[row-index="1"] .ag-cell[col-id="monetary"]'))  # a cell...
    until(lambda: "/client/" in dash_duo.driver.current_url, timeout=10)  # ...a row click opens Client 360
    dash_duo.driver.back()
    dash_duo.wait_for_text_to_equal(FIRST_CELL + " a", first, timeout=20)
    until(lambda: dash_duo.driver.execute_script(  # the grid may redraw its rows once more: focus the current cell
        "const cell = document.querySelector(arguments[0]); if (cell) { cell.focus(); }"
        "return cell !== null && document.activeElement === cell;", FIRST_CELL), timeout=10)
    ActionChains(dash_duo.driver).send_keys(Keys.ENTER).perform()
    until(lambda: dash_duo.driver.current_url == f"{live_server}/client/{first}", timeout=10,
          msg=lambda: f"still at {dash_duo.driver.current_url}")
    dash_duo.wait_for_text_to_equal("#client-title", first, timeout=20)
    assert severe_logs(dash_duo) == []


def test_clicking_a_customer_opens_client_360(dash_duo, live_server):
    open_list(dash_duo, live_server)
    assert severe_logs(dash_duo) == []
    cell = dash_duo.find_element(FIRST_CELL)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", cell)
    # right of the digits, in the cell's blank part: the whole cell opens the customer, not only the text
    ActionChains(dash_duo.driver).move_to_element(cell).move_by_offset(cell.size["width"] // 2 - 8, 0).click().perform()
    until(lambda: dash_duo.driver.current_url == f"{live_server}/client/12590", timeout=10,
          msg=lambda: f"still at {dash_duo.driver.current_url}")


def test_clicking_a_segment_in_the_matrix_narrows_the_list(dash_duo, live_server):
    open_list(dash_duo, live_server)
    loyal = next(r for r in dash_duo.find_elements("#action-matrix tbody tr") if r.text.startswith("Loyal"))
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
    rows = downloaded_csv(dash_duo, "customers-all-at-risk-")
    assert len(rows) == 134
    assert rows[0]["customer_id"] == "12590" and rows[0]["net_value"] == "9861.38"  # docs/EXPORTS.md columns
    assert rows[0]["product_1_code"] and rows[0]["risk_reason"].startswith("usually orders every")
    page = dash_duo.driver.current_url
    for name in os.listdir(dash_duo.download_path):  # (headless Chrome saves a file of the same name over the first)
        os.remove(os.path.join(dash_duo.download_path, name))
    dash_duo.find_element("#export-csv-local").click()  # the readable file: the page stays, the list is still there
    readable = downloaded_csv(dash_duo, "customers-all-at-risk-")
    assert dash_duo.driver.current_url == page and dash_duo.find_element(FIRST_CELL).text == "12590"
    assert list(readable[0])[:3] == ["Customer id", "Country", "Segment"] and len(readable) == 134
    assert severe_logs(dash_duo) == []
