"""Invoice lines and usual products per customer, on the 14 handmade lines (tests/conftest.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics import schema as s
from analytics.clean import clean_transactions
from analytics.orders import customer_products, order_lines
from analytics.products import product_names
from analytics.settings import load_settings


@pytest.fixture
def cleaned(lines):
    settings = load_settings({})
    return clean_transactions(lines, settings.cleaning, settings.baskets)


def test_order_lines_hold_every_line_of_known_customers_grouped_by_customer(cleaned, lines):
    table = order_lines(cleaned.sales, cleaned.returns, product_names(lines)).concat()
    assert list(table.columns) == list(s.TABLES["order_lines"])
    # Kept: A's 3 sale lines + its return C5, B's 2, C's 1, E's postage and 2 spoon lines at £3 (E's £0 spoon line,
    # D's zero-quantity line and the 2 guest lines of invoice 7 are not sales of known customers): 10 lines.
    assert len(table) == 10
    assert table["customer_id"].tolist() == ["A"] * 4 + ["B"] * 2 + ["C"] + ["E"] * 3
    a = table[table["customer_id"] == "A"]
    assert a["invoice"].tolist() == ["1", "1", "2", "C5"]
    assert a["description"].tolist() == ["MUG", "TEAPOT", "MUG", "MUG"]
    # invoice 1: 2 mugs × £5 = £10, 1 teapot × £10 = £10; invoice 2: 1 mug = £5; return C5: -1 mug = -£5
    assert a["total"].tolist() == [10.0, 10.0, 5.0, -5.0]
    assert a["is_return"].tolist() == [False, False, False, True] and a["quantity"].tolist() == [2, 1, 1, -1]
    # the lines of an invoice add up to the invoice's total in the orders table
    spoons = table[(table["customer_id"] == "E") & (table["stock_code"] == "Z")]
    assert spoons["total"].sum() == 12.0  # 2 × £3 + 2 × £3


def test_usual_products_rank_by_orders_then_units_and_skip_services(cleaned, lines):
    table = customer_products(cleaned.sales, product_names(lines))
    assert list(table.columns) == list(s.TABLES["customer_products"])
    a = table[table["customer_id"] == "A"]
    # A bought the mug on 2 orders (2 + 1 = 3 units, last on 10 Jan), the teapot on 1 (1 unit, 1 Jan)
    assert a[["rank", "stock_code", "description", "orders", "quantity"]].values.tolist() == [
        [1, "X", "MUG", 2, 3], [2, "Y", "TEAPOT", 1, 1]]
    assert a["last_bought"].tolist() == [pd.Timestamp("2024-01-10 09:00"), pd.Timestamp("2024-01-01 10:00")]
    e = table[table["customer_id"] == "E"]
    assert e["stock_code"].tolist() == ["Z"] and e["quantity"].tolist() == [4]  # POST (postage) is a service
    assert customer_products(cleaned.sales, product_names(lines), top=1)["rank"].max() == 1
