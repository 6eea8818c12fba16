"""Segment history in a real browser, served by gunicorn on the bundled snapshot: the Sankey click-through to the
customers of a flow and on to Client 360, and the Client 360 segment timeline."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from dash.testing.wait import until
from selenium.common.exceptions import StaleElementReferenceException

from tests.dashboard.browser.conftest import downloaded_csv, severe_logs

FIRST_CELL = '.movement-grid .ag-row[row-index="0"] .ag-cell[col-id="customer_id"]'
# a click on the flow labelled arguments[0], dispatched on its SVG path (Plotly's drag layer sits above the flows
# at some points of a headless window, so a click at computed coordinates is not reliable there)
CLICK_FLOW = """
const link = Array.from(document.querySelectorAll('#movement-sankey .sankey-link'))
  .find(p => p.__data__.link.label === arguments[0]);
link.dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true, view: window}));
"""
LINK_LABELS = ("return Array.from(document.querySelectorAll('#movement-sankey .sankey-link'))"
               ".map(p => p.__data__.link.label)")


# whether the element's centre is on screen and the element itself is what a click there reaches
UNCOVERED = ("const r = arguments[0].getBoundingClientRect();"
             "const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);"
             "return hit !== null && (hit === arguments[0] || arguments[0].contains(hit))")


def _query(dash_duo) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(dash_duo.driver.current_url).query).items()}


def test_clicking_a_sankey_flow_lists_its_customers_and_opens_client_360(dash_duo, live_server):
    dash_duo.server_url = f"{live_server}/movement"
    dash_duo.wait_for_element("#movement-sankey .sankey-link", timeout=30)
    # the last month by default: 10 Nov 2011 -> 10 Dec 2011 (bundled data), counts as in the unit tests
    assert "10 Nov 2011" in dash_duo.find_element("#movement-from").text  # the dates as the page formats them
    labels = dash_duo.driver.execute_script(LINK_LABELS)
    assert "Champions → Champions" in labels and "Loyal → Can't Lose Them" in labels
    dash_duo.driver.execute_script(CLICK_FLOW, "Champions → Champions")
    until(lambda: _query(dash_duo).get("from_segment") == "Champions", timeout=15)
    assert _query(dash_duo) == {"from": "2011-11-10", "to": "2011-12-10", "from_segment": "Champions",
                                "to_segment": "Champions"}
    dash_duo.wait_for_contains_text("#movement-list-title", "Champions → Champions, 10 Nov 2011 to 10 Dec 2011",
                                    timeout=20)
    dash_duo.wait_for_element(FIRST_CELL, timeout=20)
    dash_duo.wait_for_text_to_equal("#movement-count", "524 customers", timeout=20)
    dash_duo.wait_for_contains_text(".movement-grid .ag-paging-row-summary-panel", "of 524")
    first = dash_duo.find_element(FIRST_CELL).text
    assert first == "14646"  # the most valuable customer of the data set leads the list (net value, descending)
    until(lambda: dash_duo.find_element("#movement-export").get_attribute("href"), timeout=10)
    export = dash_duo.find_element("#movement-export")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", export)
    until(lambda: dash_duo.driver.execute_script(UNCOVERED, export), timeout=10)
    export.click()  # the flow's customers as a file, the page stays
    rows = downloaded_csv(dash_duo, "movement-Champions-to-Champions-2011-11-10-2011-12-10-")
    assert len(rows) == 524 and rows[0]["customer_id"] == first and rows[0]["segment"] == "Champions"
    cell = dash_duo.find_element(FIRST_CELL)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", cell)
    until(lambda: dash_duo.driver.execute_script(UNCOVERED, cell), timeout=10)
    cell.click()
    dash_duo.wait_for_text_to_equal("#client-title", first, timeout=20)
    assert urlparse(dash_duo.driver.current_url).path.endswith(f"/client/{first}")
    assert severe_logs(dash_duo) == []


def _first_line(dash_duo, selector: str) -> str | None:
    """The first line of an element's text, or None while it is being drawn anew (a stale element)."""
    try:
        return dash_duo.find_element(selector).text.splitlines()[0]
    except (StaleElementReferenceException, IndexError):
        return None


def test_matrix_cell_and_measure_switch_keep_the_state_in_the_url(dash_duo, live_server):
    dash_duo.server_url = f"{live_server}/movement?measure=value"
    dash_duo.wait_for_element("#movement-sankey .sankey-link", timeout=30)
    # dash's waits look the element up again: the figure may be drawn anew between finding and reading it
    dash_duo.wait_for_contains_text("#movement-sankey .gtitle", "Net value (£) moving from 10 Nov 2011", timeout=20)
    until(lambda: _first_line(dash_duo, "#cell-loyal--cant-lose-them") == "180", timeout=20)
    cell = dash_duo.find_element("#cell-loyal--cant-lose-them")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click()", cell)
    until(lambda: _query(dash_duo).get("to_segment") == "Can't Lose Them", timeout=15)
    assert _query(dash_duo)["measure"] == "value"
    dash_duo.wait_for_text_to_equal("#movement-count", "180 customers", timeout=20)
    assert severe_logs(dash_duo) == []


def test_client_360_shows_the_segment_timeline(dash_duo, live_server):
    dash_duo.server_url = f"{live_server}/client/12347"
    dash_duo.wait_for_text_to_equal("#client-title", "12347", timeout=20)
    steps = dash_duo.find_elements("#client-timeline .timeline-step")
    assert len(steps) == 12  # one per month end, 10 Jan 2011 ... 10 Dec 2011
    # Loyal on 10 Oct 2011, Champions on 10 Nov and 10 Dec (bundled data)
    assert [s.get_attribute("data-segment") for s in steps[-3:]] == ["Loyal", "Champions", "Champions"]
    assert steps[-1].get_attribute("title") == "10 Dec 2011: Champions (R5 F5 M5)"
    assert dash_duo.find_element("#client-segment-since").text == "In Champions since 10 Nov 2011, before: Loyal."
    assert severe_logs(dash_duo) == []
