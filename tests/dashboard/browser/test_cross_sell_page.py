"""Cross-sell explorer, rule page and product page in a real browser (gunicorn, bundled snapshot).

Also the CSP check of dash-cytoscape: the page's console must have no error (a blocked eval would
log one) and the graph must draw its nodes.
"""

from __future__ import annotations

import csv
import io
import os
import time
from urllib.parse import parse_qs, urlparse

import pandas as pd
from dash.testing.wait import until
from selenium.webdriver.common.keys import Keys

from tests.dashboard.browser.conftest import severe_logs

FIRST_RULE = '.ag-center-cols-container .ag-row[row-index="0"] .ag-cell[col-id="antecedent"]'


def _query(dash_duo) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(dash_duo.driver.current_url).query).items()}


def _count(dash_duo) -> str:
    return dash_duo.find_element("#cs-count").text


def open_explorer(dash_duo, live_server, query: str = "", rows: bool = True) -> None:
    dash_duo.server_url = f"{live_server}/cross-sell{query}"
    dash_duo.wait_for_contains_text("#cs-count", " rules", timeout=30)
    if rows:
        dash_duo.wait_for_element(FIRST_RULE, timeout=20)


def test_explorer_loads_with_grid_scatter_and_graph_under_the_csp(dash_duo, live_server):
    open_explorer(dash_duo, live_server)
    assert _count(dash_duo).endswith(" of 2,555 rules")
    dash_duo.wait_for_element("#cs-scatter .scatterlayer, #cs-scatter canvas", timeout=20)
    until(lambda: dash_duo.driver.execute_script(
        "const el = document.querySelector('#cs-network'); return el && el.querySelectorAll('canvas').length"),
        timeout=20, msg="the cytoscape graph drew nothing")
    assert severe_logs(dash_duo) == []  # no CSP violation (no eval) from cytoscape, plotly or the grid


def test_product_search_and_lift_filter_update_count_grid_and_url(dash_duo, live_server):
    open_explorer(dash_duo, live_server)
    dash_duo.find_element("#cs-req").click()  # dcc.Dropdown (Dash 4): a button opening a searchable list
    search = dash_duo.find_element(".dash-dropdown-content input.dash-dropdown-search")
    search.send_keys("green regency teacup")  # search by name; the label also holds the code
    dash_duo.wait_for_contains_text(".dash-dropdown-options", "22697", timeout=10)
    option = dash_duo.driver.find_element(
        "xpath", "//*[contains(@class,'dash-dropdown-options')]//*[contains(text(), '· 22697')]")
    option.click()
    search.send_keys(Keys.ESCAPE)
    until(lambda: _query(dash_duo).get("req") == "22697", timeout=10, msg=lambda: dash_duo.driver.current_url)
    until(lambda: not _count(dash_duo).startswith("2,"), timeout=10)
    shown = int(_count(dash_duo).split(" of ")[0].replace(",", ""))
    assert 5 < shown < 100
    row = dash_duo.find_element('.ag-center-cols-container .ag-row[row-index="0"]').text
    assert "GREEN REGENCY TEACUP AND SAUCER" in row
    # the URL carries the state: reloading it gives the same count
    url = dash_duo.driver.current_url
    dash_duo.driver.get(url)
    dash_duo.wait_for_text_to_equal("#cs-count", _count(dash_duo), timeout=20)
    assert f"{shown} of 2,555 rules" in dash_duo.find_element("#cs-count").text
    assert severe_logs(dash_duo) == []


def test_an_impossible_filter_says_which_threshold_to_lower(dash_duo, live_server):
    open_explorer(dash_duo, live_server, "?lift=80&conf=0.99", rows=False)
    dash_duo.wait_for_contains_text("#cs-count", "0 of 2,555 rules", timeout=20)
    dash_duo.wait_for_contains_text("#cs-hint", "lower the minimum", timeout=10)


def test_clicking_a_scatter_point_opens_its_rule(dash_duo, live_server):
    open_explorer(dash_duo, live_server, "?lift=70")
    dash_duo.wait_for_element("#cs-scatter .nsewdrag", timeout=20)
    until(lambda: dash_duo.driver.execute_script(
        "const g = document.querySelector('#cs-scatter .js-plotly-plot'); return g && g._fullData && "
        "g._fullData[0] && g._fullData[0].x && g._fullData[0].x.length"), timeout=20)
    # the highest point, clicked through plotly's own click event (what a mouse click on it emits; headless
    # Chromium's pixel hit-testing of SVG points is unreliable)
    rule_id = dash_duo.driver.execute_script("""
        const g = document.querySelector('#cs-scatter .js-plotly-plot'), d = g._fullData[0];
        const i = d.y.indexOf(Math.max(...d.y));
        g.emit('plotly_click', {points: [{curveNumber: 0, pointNumber: i, pointIndex: i, x: d.x[i], y: d.y[i],
                                          customdata: d.customdata[i]}]});
        return d.customdata[i][0];""")
    until(lambda: "/cross-sell/rule/" in dash_duo.driver.current_url, timeout=15,
          msg=lambda: dash_duo.driver.current_url)
    assert dash_duo.driver.current_url.split("/rule/")[1].split("?")[0] == rule_id
    dash_duo.wait_for_contains_text("#rule-words", "baskets", timeout=20)


def test_rule_audience_export_downloads_the_campaign_csv(dash_duo, live_server, published_store):
    open_explorer(dash_duo, live_server)
    dash_duo.find_element(FIRST_RULE).click()
    until(lambda: "/cross-sell/rule/" in dash_duo.driver.current_url, timeout=15)
    dash_duo.wait_for_contains_text("#rule-audience-count", "customers", timeout=20)
    expected = int(dash_duo.find_element("#rule-audience-count").text.split(" ")[0].replace(",", ""))
    dash_duo.find_element("#rule-export").click()
    folder = dash_duo.download_path
    until(lambda: [f for f in os.listdir(folder) if f.startswith("audience-") and f.endswith(".csv")], timeout=15,
          msg="no CSV downloaded")
    name = next(f for f in os.listdir(folder) if f.startswith("audience-"))
    time.sleep(0.2)
    with open(os.path.join(folder, name), encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read())))
    assert len(rows) == expected > 0
    assert list(rows[0])[:3] == ["customer_id", "country", "segment"] and list(rows[0])[-1] == "rule_lift"
    assert {row["rule_id"] for row in rows} == {dash_duo.driver.current_url.split("/rule/")[1].split("?")[0]}
    values = pd.Series([float(row["net_value"]) for row in rows])
    assert values.is_monotonic_decreasing
    assert severe_logs(dash_duo) == []


def test_embedded_explorer_has_no_navbar(dash_duo, live_server):
    open_explorer(dash_duo, live_server, "?embed=1&lift=3")
    assert dash_duo.find_elements(".app-navbar") == []
    assert _query(dash_duo).get("embed") == "1" and _query(dash_duo).get("lift") == "3"
