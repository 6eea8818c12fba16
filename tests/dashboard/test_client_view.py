"""Client 360 (/client/<id> and /client): builders, layouts and callbacks on the bundled snapshot."""

from __future__ import annotations

import json
from collections import Counter
from urllib.parse import urlencode

import dash
import pandas as pd
import plotly
import pytest

from dashboard import data
from dashboard.components import client_view as cv
from dashboard.components import format as fmt
from tests.dashboard.components import by_id, find, page_module, text, walk

# --- helpers ---------------------------------------------------------------------------------------

def _by_class(component, name: str) -> list:
    return [c for c in walk(component)
            if name in f"{getattr(c, 'className', None) or ''} {getattr(c, 'class_name', None) or ''}".split()]


def _cells(row) -> list[str]:
    return [text(cell) for cell in row.children]


@pytest.fixture
def version(in_request) -> str:
    return data.current_version()


@pytest.fixture
def client_page(dash_app):
    return page_module("/client/<customer_id>")


@pytest.fixture
def search_page(dash_app):
    return page_module("/client")


# --- profile, R/F/M, history, recommendations of customer 12347 ----------------------------------

def test_profile_of_12347_matches_the_snapshot(client_page, version):
    page = client_page.layout(customer_id="12347")
    row = data.table("customers", version).set_index("customer_id").loc["12347"]
    segment = data.table("segments", version).set_index("segment").loc[row["segment"]]
    assert text(by_id(page, "client-title")) == "12347"
    assert text(by_id(page, "client-country")) == row["country"] == "Iceland"
    assert text(by_id(page, "client-segment-link")) == row["segment"] == "Champions"
    assert by_id(page, "client-segment-link").href == "/segments?segment=Champions"
    assert text(by_id(page, "client-segment-fr")) == f"FR: {segment['label_fr']}"
    assert segment["action"] in text(by_id(page, "client-action"))
    assert text(by_id(page, "client-tactic")) == segment["tactic"]
    assert text(by_id(page, "client-risk-flag")) == "Not at risk"
    assert text(by_id(page, "client-risk-score")) == f"risk score {round(row['risk_score'])}/100"
    assert text(by_id(page, "client-risk-meaning")) == (
        f"Usual gap between orders: {round(row['usual_gap_days'])} days; last order {row['recency_days']} days ago.")
    assert find(page, "client-back-at-risk") is None


def test_rfm_cards_of_12347(client_page, version):
    page = client_page.layout(customer_id="12347")
    row = data.table("customers", version).set_index("customer_id").loc["12347"]
    assert text(by_id(page, "client-recency")) == f"{row['recency_days']} days" == "3 days"
    assert text(by_id(page, "client-frequency")) == f"{row['frequency']} orders" == "7 orders"
    assert text(by_id(page, "client-monetary")) == "£4,310"
    assert row["monetary"] == pytest.approx(4310.0)
    for key, column in (("recency", "r_score"), ("frequency", "f_score"), ("monetary", "m_score")):
        assert text(by_id(page, f"client-{key}-score")) == f"Score {row[column]}/5"
    assert text(by_id(page, "client-first")) == "7 Dec 2010"
    assert text(by_id(page, "client-last")) == "7 Dec 2011"
    assert text(by_id(page, "client-avg-basket")) == "£615.71"
    assert text(by_id(page, "client-returns")) == "0 · £0.00"


def test_history_of_12347_is_newest_first(client_page, version):
    page = client_page.layout(customer_id="12347")
    orders = data.table("orders", version)
    mine = orders[orders["customer_id"] == "12347"]
    rows = _by_class(by_id(page, "client-history-table"), "client-order-row")
    assert len(rows) == len(mine) == 7
    assert _cells(rows[0]) == ["7 Dec 2011", "581180", "11", "192", "£224.82"]
    assert _cells(rows[-1]) == ["7 Dec 2010", "537626", "31", "319", "£711.79"]
    assert [_cells(r)[1] for r in rows] == mine.sort_values("invoice_date", ascending=False)["invoice"].tolist()
    assert text(by_id(page, "client-history-summary")) == "7 invoices · 0 returns"
    assert "d-none" in by_id(page, "client-history-more").class_name  # nothing more to show


def test_recommendations_of_12347_in_rank_order(client_page, version):
    page = client_page.layout(customer_id="12347")
    recs = data.table("recommendations", version)
    mine = recs[recs["customer_id"] == "12347"].sort_values("rank")
    rows = _by_class(by_id(page, "client-reco-table"), "client-reco-row")
    assert len(rows) == len(mine) == 10
    first = _cells(rows[0])
    assert first == ["1", "Classic Bicycle ClipsCode 23498", "69.0 %", "×34.48",
                     "Bought with Bicycle Puncture Repair Kit"]
    # "Bought with X": X links to its product page (issue 12), by the rule's antecedent code
    links = [c.href for c in walk(rows[0]) if type(c).__name__ == "Link"]
    assert links == ["/products/23498", f"/products/{mine.iloc[0]['because_codes'][0]}"]
    assert list(mine.iloc[0]["because"]) == ["BICYCLE PUNCTURE REPAIR KIT"]
    for row, rec in zip(rows, mine.itertuples()):
        cells = _cells(row)
        assert cells[1] == f"{fmt.product_name(rec.description)}Code {rec.stock_code}"
        assert cells[2] == f"{100 * rec.confidence:.1f} %" and cells[3] == f"×{rec.lift:.2f}"
        assert cells[4].startswith("Bought with ")


def test_segment_bestsellers_say_popular_in_segment(client_page, version):
    recs = data.table("recommendations", version)
    fallback = recs[recs["source"] == "segment_bestseller"]
    customer_id = fallback["customer_id"].iloc[0]
    segment = data.table("customers", version).set_index("customer_id").loc[customer_id, "segment"]
    page = client_page.layout(customer_id=customer_id)
    rows = _by_class(by_id(page, "client-reco-table"), "client-reco-row")
    popular = [_cells(r) for r in rows if _cells(r)[4].startswith(f"Popular in {segment}")]
    assert len(popular) == (fallback["customer_id"] == customer_id).sum() > 0
    assert all(cells[2] == "–" and cells[3] == "–" for cells in popular)


# --- returns, long histories, at-risk customers ------------------------------------------------------

def test_returns_are_flagged(client_page, version):
    orders = data.table("orders", version)
    with_returns = orders.groupby("customer_id").agg(n=("invoice", "size"), returns=("is_return", "sum"))
    customer_id = with_returns[(with_returns["returns"] > 0) & (with_returns["n"] <= cv.HISTORY_PAGE)].index[0]
    mine = orders[orders["customer_id"] == customer_id]
    page = client_page.layout(customer_id=customer_id)
    table = by_id(page, "client-history-table")
    flagged = _by_class(table, "client-order-return")
    assert len(flagged) == int(mine["is_return"].sum()) > 0
    for row in flagged:
        assert "Return" in _cells(row)[1]
        total = row.children[-1]
        assert "text-danger" in total.className and text(total).startswith("-£")
    assert len(_by_class(table, "client-return-badge")) == len(flagged)


def test_show_more_pages_a_long_history(client_page, version):
    orders = data.table("orders", version)
    customer_id = orders["customer_id"].value_counts().index[0]  # 14911, 248 invoices
    total = int((orders["customer_id"] == customer_id).sum())
    assert total == 248
    page = client_page.layout(customer_id=customer_id)
    assert len(_by_class(page, "client-order-row")) == cv.HISTORY_PAGE
    assert text(by_id(page, "client-history-more")) == "Show 50 more (198 not shown)"
    table, label, css = client_page.show_more(1, customer_id, version)
    assert len(_by_class(table, "client-order-row")) == 100 and label == "Show 50 more (148 not shown)"
    table, label, css = client_page.show_more(4, customer_id, version)
    assert len(_by_class(table, "client-order-row")) == total and label is None and css == "d-none"


def test_at_risk_customer_links_back_to_the_at_risk_list(client_page, version):
    customers = data.table("customers", version)
    row = customers[customers["at_risk"]].nlargest(1, "risk_score").iloc[0]
    page = client_page.layout(customer_id=row["customer_id"], segment=row["segment"])
    expected = "/actions?" + urlencode({"segment": row["segment"], "view": "at-risk"})
    assert by_id(page, "client-back-at-risk").href == expected
    assert text(by_id(page, "client-risk-flag")) == "At risk"
    assert text(by_id(page, "client-risk-score")) == f"risk score {round(row['risk_score'])}/100"


# --- unknown and untrusted ids -------------------------------------------------------------------------

def test_unknown_id_shows_not_found_and_the_search_box(client_page, version):
    page = client_page.layout(customer_id="does-not-exist")
    message = text(by_id(page, "not-found"))
    assert message.startswith("No customer with id “does-not-exist” in the snapshot of ")
    assert by_id(page, "client-search-input").value == "does-not-exist"
    assert not _by_class(page, "client-order-row")


def test_ids_are_decoded_capped_and_kept_as_text(client_page, version):
    hostile = "%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E" + "x" * 100
    page = client_page.layout(customer_id=hostile)
    message = text(by_id(page, "not-found"))
    shown = message.split("“")[1].split("”")[0]
    assert shown == ("<img src=x onerror=alert(1)>" + "x" * 100)[:cv.MAX_ID_LENGTH]
    assert not [c for c in walk(page) if type(c).__name__ == "Img"]  # plain text, no element built from it
    assert client_page.layout(customer_id="%2012347%20") is not None
    assert text(by_id(client_page.layout(customer_id="%2012347%20"), "client-title")) == "12347"


def test_page_payload_stays_small(client_page, version):
    """The longest history (248 invoices) still ships only its first page."""
    page = client_page.layout(customer_id="14911")
    assert len(json.dumps(page, cls=plotly.utils.PlotlyJSONEncoder)) < 200_000


# --- search ------------------------------------------------------------------------------------------

def test_suggest_ids_on_the_snapshot(version):
    customers = data.table("customers", version)
    ids = customers["customer_id"]
    assert cv.suggest_ids(customers, "1234")["customer_id"].tolist() == ["12346", "12347", "12348", "12349"]
    prefixed = sorted(i for i in ids if i.startswith("123"))
    assert len(prefixed) > 10 and cv.suggest_ids(customers, "123")["customer_id"].tolist() == prefixed[:10]
    assert cv.suggest_ids(customers, "999")["customer_id"].tolist() == sorted(i for i in ids if "999" in i)
    assert len(cv.suggest_ids(customers, "2")) == 10  # 1,573 ids contain a 2: only ten are sent
    assert cv.suggest_ids(customers, "").empty and cv.suggest_ids(customers, "zzz").empty


def test_suggest_ids_puts_prefix_matches_first():
    customers = pd.DataFrame({"customer_id": ["X10", "A10", "10B", "10A", "b10c"], "country": ["c"] * 5,
                              "segment": ["s"] * 5})
    assert cv.suggest_ids(customers, "10")["customer_id"].tolist() == ["10A", "10B", "A10", "X10", "b10c"]
    assert cv.suggest_ids(customers, " B1 ")["customer_id"].tolist() == ["b10c"]  # trimmed, case-insensitive
    assert cv.suggest_ids(customers, "10", limit=3)["customer_id"].tolist() == ["10A", "10B", "A10"]


def test_suggest_callback_returns_at_most_ten_links(search_page, version):
    result = search_page.suggest("123", version, {"segment": "Champions"})
    links = [c for c in walk(result) if type(c).__name__ == "Link"]
    assert 0 < len(links) <= cv.SUGGESTIONS
    ids = [text(link.children[0]) for link in links]
    assert all(i.startswith("123") for i in ids)
    segments = data.table("customers", version).set_index("customer_id")["segment"]
    assert [link.href for link in links] == ["/client/" + i + "?" + urlencode({"segment": segments[i]}) for i in ids]
    assert "No customer id contains “nope”" in text(search_page.suggest("nope", version, {}))
    assert search_page.suggest("", version, {}) is None


def test_open_customer_navigates(search_page, version):
    # 12347 is a Champion: the segment filter of the page it was searched from (Loyal) does not follow
    assert search_page.open_customer(1, None, " 12347 ", version, {"segment": "Loyal"}) == \
        "/client/12347?segment=Champions"
    assert search_page.open_customer(1, None, "12347.0", version, {}) == "/client/12347"
    customers = data.table("customers", version)
    holders = Counter(part for i in customers["customer_id"] for part in {i[k:k + 4] for k in range(len(i) - 3)})
    unique = min(part for part, n in holders.items() if n == 1)  # a text only one id contains
    only = customers.loc[customers["customer_id"].str.contains(unique, regex=False), "customer_id"].item()
    assert search_page.open_customer(1, None, unique, version, {}) == f"/client/{only}"
    with pytest.raises(dash.exceptions.PreventUpdate):
        search_page.open_customer(1, None, "123", version, {})  # ambiguous: stay on the suggestions
    with pytest.raises(dash.exceptions.PreventUpdate):
        search_page.open_customer(None, 1, "", version, {})


def test_search_page_lists_example_customers(search_page, version):
    page = search_page.layout()
    customers = data.table("customers", version)
    at_risk = customers[customers["at_risk"]].nlargest(5, "risk_score")["customer_id"].tolist()
    best = customers.nlargest(5, "monetary")["customer_id"].tolist()
    links = by_id(page, "client-examples-at-risk").children
    assert [link.href for link in links] == [f"/client/{i}" for i in at_risk]
    assert [link.href for link in by_id(page, "client-examples-best").children] == [f"/client/{i}" for i in best]
    assert best[0] == "14646" and at_risk[0] == "17850"
    assert by_id(page, "client-search-input").value == ""


def test_search_page_examples_follow_the_segment_filter(search_page, version):
    page = search_page.layout(segment="Loyal")
    customers = data.table("customers", version).set_index("customer_id")
    hrefs = [link.href for link in by_id(page, "client-examples-best").children]
    assert hrefs and all(h.endswith("?segment=Loyal") for h in hrefs)  # Loyal customers only: theirs
    assert {customers.loc[h.split("/")[2].split("?")[0], "segment"] for h in hrefs} == {"Loyal"}


def test_helpers_on_small_frames():
    orders = pd.DataFrame({"customer_id": ["a", "a", "b"], "invoice": ["1", "C2", "3"],
                           "invoice_date": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-05"]),
                           "items": [2, 1, 1], "quantity": [5, -1, 1], "total": [10.0, -2.5, 3.0],
                           "is_return": [False, True, False]})
    mine = cv.customer_orders(orders, "a")
    assert mine["invoice"].tolist() == ["C2", "1"]
    assert cv.history_summary(mine) == "2 invoices · 1 return"
    assert cv.more_label(120, 50) == "Show 50 more (70 not shown)"
    assert cv.more_label(60, 50) == "Show 10 more (10 not shown)"
    assert cv.more_label(50, 50) is None
    assert cv.clean_id(None) == "" and cv.clean_id("  x ") == "x" and len(cv.clean_id("9" * 99)) == cv.MAX_ID_LENGTH


def test_unknown_id_suggests_close_ids(client_page, version):
    page = client_page.layout(customer_id="1234")  # not an id, but the start of four
    links = [c for c in walk(by_id(page, "client-search-suggestions")) if type(c).__name__ == "Link"]
    assert [link.href for link in links] == ["/client/12346", "/client/12347", "/client/12348", "/client/12349"]


# --- money: bought, returned, net; everything returned; one-order customers -----------------------

def test_customer_who_returned_everything_says_so(client_page, version):
    # 12346 bought £77,183.60 in one order and returned all of it: net 0, M 1/5, not at risk
    page = client_page.layout(customer_id="12346")
    assert text(by_id(page, "client-all-returned")) == "All purchases returned. "
    assert text(by_id(page, "client-gross")) == "£77,183.60"
    assert text(by_id(page, "client-returned")) == "£77,183.60"
    assert text(by_id(page, "client-net")) == "£0.00"
    assert text(by_id(page, "client-monetary")) == "£0.00"
    assert text(by_id(page, "client-monetary-score")) == "Score 1/5"
    assert text(by_id(page, "client-risk-flag")) == "All purchases returned"
    assert find(page, "client-back-at-risk") is None
    row = data.table("customers", version).set_index("customer_id").loc["12346"]
    assert row["segment"] != "Can't Lose Them" and not row["at_risk"]
    # one order: the population's gap is not shown as theirs
    assert text(by_id(page, "client-risk-meaning")) == (
        "Usual gap between orders: none yet, only one order; last order 326 days ago.")


def test_customer_who_kept_little_is_valued_on_what_they_kept(client_page, version):
    # 16446 bought £168,472.50 and returned £168,469.60: net £2.90, no longer a top customer
    page = client_page.layout(customer_id="16446")
    assert find(page, "client-all-returned") is None
    assert [text(by_id(page, f"client-{key}")) for key in ("gross", "returned", "net")] == \
        ["£168,472.50", "£168,469.60", "£2.90"]
    assert text(by_id(page, "client-monetary")) == "£2.90"
    assert text(by_id(page, "client-monetary-score")) == "Score 1/5"
    customers = data.table("customers", version)
    assert "16446" not in customers.nlargest(20, "monetary")["customer_id"].tolist()


def test_usual_gap_text():
    repeat = pd.Series({"usual_gap_days": 30.4, "frequency": 3})
    assert cv.usual_gap_text(repeat) == "Usual gap between orders: 30 days"
    assert cv.usual_gap_text(pd.Series({"usual_gap_days": float("nan"), "frequency": 1})) == \
        "Usual gap between orders: none yet, only one order"


# --- defects 2 and 4: the segment follows the customer; spreadsheet ids ----------------------------------

def test_clean_id_reads_spreadsheet_ids():
    assert cv.clean_id("17850.0") == "17850" and cv.clean_id(" 17850.00 ") == "17850"
    assert cv.clean_id("17850.5") == "17850.5" and cv.clean_id("A1.0") == "A1.0"  # only whole numbers
    assert cv.clean_id("17850") == "17850"


def test_spreadsheet_id_opens_the_customer(client_page, version):
    page = client_page.layout(customer_id="17850.0")
    assert text(by_id(page, "client-title")) == "17850"


def test_client_page_chip_and_back_link_follow_the_customer(client_page, version):
    """17850 is Can't Lose Them: a URL naming Loyal (where the user came from) must not label or link them Loyal."""
    segment = data.table("customers", version).set_index("customer_id").loc["17850", "segment"]
    assert segment == "Can't Lose Them"
    page = client_page.layout(customer_id="17850", segment="Loyal")
    assert text(by_id(page, "filter-chip")).startswith(f"Segment: {segment}")
    assert by_id(page, "client-back-at-risk").href == "/actions?" + urlencode({"segment": segment,
                                                                               "view": "at-risk"})
    assert find(client_page.layout(customer_id="17850"), "filter-chip") is None  # no filter: no chip


def test_navbar_search_carries_the_customers_segment(in_request):
    from dashboard.app import search_target

    assert search_target("17850.0", {"segment": "Loyal"}) == "/client/17850?" + urlencode(
        {"segment": "Can't Lose Them"})
    assert search_target(" 17850 ", {}) == "/client/17850"
    assert search_target("nobody", {"segment": "Loyal"}) == "/client/nobody"
    with pytest.raises(dash.exceptions.PreventUpdate):
        search_target("  ", {})


# --- usual products and invoice lines (section 3) ----------------------------------------------------------

def test_usual_products_of_17850(client_page, version):
    """17850's most usual product: on 17 orders, 122 units, last bought 2 Dec 2010 (checked in customer_products)."""
    page = client_page.layout(customer_id="17850")
    rows = _by_class(by_id(page, "client-usual-table"), "client-usual-row")
    mine = data.table("customer_products", version)
    mine = mine[mine["customer_id"] == "17850"].sort_values("rank")
    assert len(rows) == len(mine) == 10
    assert _cells(rows[0]) == [f"{fmt.product_name(mine.iloc[0]['description'])}Code {mine.iloc[0]['stock_code']}",
                               "17", "122", "2 Dec 2010"]
    orders = [int(_cells(r)[1]) for r in rows]
    assert orders == sorted(orders, reverse=True)


def test_customer_block_equals_a_full_scan(client_page, version):
    lines = data.table("order_lines", version)
    for customer in ("12347", "14911", "17850"):
        block = client_page.customer_block(version, "order_lines", customer)
        pd.testing.assert_frame_equal(block, lines[lines["customer_id"] == customer].reset_index(drop=True))
    assert client_page.customer_block(version, "order_lines", "nobody").empty


def test_an_invoice_expands_to_its_lines(client_page, version, dash_app):
    """12347's newest invoice 581180 (£224.82 in the history) holds lines adding up to that total."""
    page = client_page.layout(customer_id="12347")
    toggles = [c for c in walk(by_id(page, "client-history-table")) if isinstance(getattr(c, "id", None), dict)
               and c.id.get("type") == "client-invoice-toggle"]
    assert toggles[0].id["invoice"] == "581180"
    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    def click(n: int) -> tuple:
        token = context_value.set(AttributeDict(triggered_inputs=[{
            "prop_id": '{"invoice":"581180","type":"client-invoice-toggle"}.n_clicks', "value": n}]))
        try:
            return client_page.toggle_invoice(n, "12347", version)
        finally:
            context_value.reset(token)

    content, hidden, expanded = click(1)
    assert hidden is False and expanded == "true"
    rows = _by_class(content, "client-line-row")
    lines = data.table("order_lines", version)
    mine = lines[(lines["customer_id"] == "12347") & (lines["invoice"] == "581180")]
    assert len(rows) == len(mine) > 0
    assert round(mine["total"].sum(), 2) == 224.82
    first = mine.iloc[0]
    assert _cells(rows[0])[0] == f"{fmt.product_name(first['description'])} · {first['stock_code']}"
    assert click(2)[1:] == (True, "false")  # a second click hides them
