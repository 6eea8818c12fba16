"""Client 360 in a real browser, served by gunicorn on the bundled snapshot."""

from selenium.webdriver.common.keys import Keys

from tests.dashboard.browser.conftest import severe_logs


def test_client_page_shows_profile_history_and_recommendations(dash_duo, live_server):
    dash_duo.server_url = live_server + "/client/12347"
    dash_duo.wait_for_text_to_equal("#client-title", "12347", timeout=20)
    assert dash_duo.find_element("#client-country").text == "Iceland"
    assert dash_duo.find_element("#client-segment-link").text == "Champions"
    assert dash_duo.find_element("#client-frequency").text == "7 orders"
    assert dash_duo.find_element("#client-monetary").text == "£4,310"
    assert dash_duo.find_element("#client-recency-score").text == "Score 5/5"
    rows = dash_duo.find_elements("#client-history-table .client-order-row")
    assert len(rows) == 7 and "581180" in rows[0].text and "£224.82" in rows[0].text
    recos = dash_duo.find_elements("#client-reco-table .client-reco-row")
    assert len(recos) == 10
    assert recos[0].find_element("css selector", ".client-reco-confidence").text == "69.0 %"
    assert recos[0].find_element("css selector", ".client-reco-lift").text == "×34.48"
    assert "Bought with Bicycle Puncture Repair Kit" in recos[0].text
    assert dash_duo.driver.title == "Client 12347 · Customer segments"
    usual = dash_duo.find_element("#client-usual-table .client-usual-row").text
    assert "Airline Bag Vintage Jet Set Brown" in usual and "22375" in usual  # on 6 of their 7 orders
    toggle = dash_duo.find_element(".client-invoice-toggle")  # invoice 581180 opens to its lines
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", toggle)
    toggle.click()
    dash_duo.wait_for_contains_text(".client-invoice-lines .client-line-row", "Classic Chrome Bicycle Bell",
                                    timeout=20)
    assert "£17.40" in dash_duo.find_element(".client-line-row").text  # 12 × £1.45
    assert toggle.get_attribute("aria-expanded") == "true"
    assert severe_logs(dash_duo) == []


def test_returns_are_flagged_and_history_pages(dash_duo, live_server):
    dash_duo.server_url = live_server + "/client/14911"
    dash_duo.wait_for_text_to_equal("#client-history-summary", "248 invoices · 47 returns", timeout=20)
    assert len(dash_duo.find_elements(".client-order-row")) == 50
    assert dash_duo.find_elements(".client-order-return .client-return-badge")
    more = dash_duo.find_element("#client-history-more")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", more)
    more.click()
    dash_duo.wait_for_text_to_equal("#client-history-more", "Show 50 more (148 not shown)", timeout=20)  # 100 rows
    assert len(dash_duo.find_elements(".client-order-row")) == 100
    assert severe_logs(dash_duo) == []


def test_unknown_customer_shows_not_found(dash_duo, live_server):
    dash_duo.server_url = live_server + "/client/does-not-exist"
    dash_duo.wait_for_contains_text("#not-found", "No customer with id “does-not-exist” in the snapshot of",
                                    timeout=20)
    assert dash_duo.find_element("#client-search-input").get_attribute("value") == "does-not-exist"
    assert not dash_duo.find_elements("#client-profile")
    assert severe_logs(dash_duo) == []


def test_page_search_box_opens_another_customer(dash_duo, live_server):
    dash_duo.server_url = live_server + "/client/12347"
    dash_duo.wait_for_text_to_equal("#client-title", "12347", timeout=20)
    box = dash_duo.find_element("#client-search-input")
    box.send_keys("1235")
    dash_duo.wait_for_contains_text("#client-search-suggestions", "12353")
    assert len(dash_duo.find_elements("#client-search-suggestions a")) <= 10
    link = next(a for a in dash_duo.find_elements("#client-search-suggestions a") if a.text.startswith("12353"))
    link.click()
    dash_duo.wait_for_text_to_equal("#client-title", "12353")
    assert dash_duo.driver.current_url.endswith("/client/12353")
    box = dash_duo.find_element("#client-search-input")
    box.send_keys("12352", Keys.ENTER)
    dash_duo.wait_for_text_to_equal("#client-title", "12352")
    assert severe_logs(dash_duo) == []


def test_client_search_page(dash_duo, live_server):
    dash_duo.server_url = live_server + "/client"
    dash_duo.wait_for_text_to_equal("#client-search-title", "Client 360", timeout=20)
    assert dash_duo.find_element("#client-examples-at-risk a").text.startswith("17850")
    assert dash_duo.find_element("#client-examples-best a").text.startswith("14646")
    dash_duo.find_element("#client-search-input").send_keys("zzz")
    dash_duo.wait_for_contains_text("#client-search-suggestions", "No customer id contains “zzz”")
    box = dash_duo.find_element("#client-search-input")
    box.clear()
    box.send_keys("12347")
    dash_duo.wait_for_contains_text("#client-search-suggestions", "Iceland")
    dash_duo.find_element("#client-search-go").click()
    dash_duo.wait_for_text_to_equal("#client-title", "12347")
    assert severe_logs(dash_duo) == []


def test_customer_who_returned_everything(dash_duo, live_server):
    dash_duo.server_url = live_server + "/client/12346"
    dash_duo.wait_for_text_to_equal("#client-title", "12346", timeout=20)
    assert dash_duo.find_element("#client-all-returned").text == "All purchases returned."
    assert dash_duo.find_element("#client-gross").text == "£77,183.60"
    assert dash_duo.find_element("#client-net").text == "£0.00"
    assert dash_duo.find_element("#client-risk-flag").text == "All purchases returned"
    assert "only one order" in dash_duo.find_element("#client-risk-meaning").text
    assert dash_duo.find_element("#client-segment-link").text != "Can't Lose Them"


def test_a_spreadsheet_id_is_rewritten_in_the_address_bar(dash_duo, live_server):
    dash_duo.server_url = live_server + "/client/17850.0?segment=Champions"
    dash_duo.wait_for_text_to_equal("#client-title", "17850", timeout=20)
    # the id as the page shows it, and the segment that follows the customer
    assert dash_duo.driver.current_url.split("?")[0] == live_server + "/client/17850"
    dash_duo.wait_for_contains_text("#filter-chip", "Segment: Can't Lose Them")
    assert severe_logs(dash_duo) == []
