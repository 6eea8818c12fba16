"""Charts on a phone (390 px wide): titles, axis labels and legends inside the chart and clear of one another, and
charts keep their height when the window is resized (a phone's address bar hiding on scroll resizes it)."""

from __future__ import annotations

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from tests.dashboard.browser.conftest import severe_logs

PHONE = {"width": 390, "height": 800, "deviceScaleFactor": 1, "mobile": False}

# Problems of every chart of the page, as a list of sentences (empty: none). Boxes are compared in CSS px.
_PROBLEMS = """
const problems = [];
const inside = (a, b) => a.left >= b.left - 1 && a.right <= b.right + 1
  && a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
const meet = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
for (const graph of document.querySelectorAll('.dash-graph')) {
  const box = graph.getBoundingClientRect();
  if (box.height < 250) problems.push(`${graph.id}: ${Math.round(box.height)} px high`);
  const texts = [...graph.querySelectorAll(
    '.gtitle, .xtitle, .ytitle, .legendtext, .angularaxistick text, .annotation-text')];
  for (const text of texts) {
    if (!inside(text.getBoundingClientRect(), box)) problems.push(`${graph.id}: "${text.textContent}" is cut`);
  }
  const legend = graph.querySelector('.legend');
  for (const title of graph.querySelectorAll('.xtitle')) {
    if (legend && meet(legend.getBoundingClientRect(), title.getBoundingClientRect()))
      problems.push(`${graph.id}: the legend covers "${title.textContent}"`);
  }
}
return problems;
"""


@pytest.fixture
def phone(dash_duo):
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    yield dash_duo
    dash_duo.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.mark.parametrize("path, graphs", [("/", 3), ("/segments", 2), ("/segments?segment=Champions", 3),
                                          ("/movement", 1)])
def test_charts_fit_a_phone_and_keep_their_height(phone, live_server, path, graphs):
    phone.server_url = live_server + path
    phone.wait_for_element(".dash-graph .main-svg", timeout=30)
    WebDriverWait(phone.driver, 30).until(lambda driver: len(phone.find_elements(".dash-graph .main-svg")) >= graphs)
    for graph in phone.find_elements(".dash-graph"):  # scroll to each one, as a user does, with a resize each time
        phone.driver.execute_script("arguments[0].scrollIntoView(); window.dispatchEvent(new Event('resize'));",
                                    graph)
    phone.driver.execute_script("return new Promise(done => setTimeout(done, 1500))")  # plotly redraws
    assert phone.driver.execute_script(_PROBLEMS) == []
    assert phone.driver.execute_script("return document.documentElement.scrollWidth") <= PHONE["width"]
    assert severe_logs(phone) == []
