"""Invoice lines and usual products per customer, on the 14 handmade lines (tests/conftest.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics import schema as s
from analytics._categories import as_categories
from analytics.clean import clean_transactions
from analytics.orders import (
    by_customer_blocks,
    customer_products,
    customer_ranges,
    order_history,
    order_lines,
    range_lines,
)
from analytics.products import product_names
from analytics.settings import load_settings
from analytics.snapshot import Blocks


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


def test_customer_ranges_split_the_lines_by_customer_id_into_ranges_of_about_so_many_lines():
    ids = pd.Series(list("ddddaabbbceeffg"), dtype="category")  # a 2, b 3, c 1, d 4, e 2, f 2, g 1 lines
    sales = pd.DataFrame({s.CUSTOMER_ID: ids, "line": range(15)})
    returns = sales.iloc[[14, 4]].reset_index(drop=True)  # a return of g's, then of a's: g 2 lines, a 3
    ranges = [([str(c) for c in sold[s.CUSTOMER_ID]], [str(c) for c in returned[s.CUSTOMER_ID]])
              for sold, returned in range_lines(sales, returns, customer_ranges(sales, returns, 4))]
    # 17 lines, 4 a range: a+b (6 lines) reach 4, c+d (11) reach 8, e (13) reaches 12, then f and g
    assert ranges == [(["a", "a", "b", "b", "b"], ["a"]), (["d", "d", "d", "d", "c"], []), (["e", "e"], []),
                      (["f", "f", "g"], ["g"])]
    first_returns = next(range_lines(sales, returns, customer_ranges(sales, returns, 4)))[1]
    assert list(first_returns["line"]) == [4]  # lines keep their order
    assert len(customer_ranges(sales, returns, 17)) == 1
    with_guest = pd.concat([sales, pd.DataFrame({s.CUSTOMER_ID: pd.Categorical([None], dtype=ids.dtype),
                                                 "line": [15]})], ignore_index=True)
    assert [len(rows) for rows in customer_ranges(with_guest, returns, 4)] == [6, 5, 2, 4]  # no range has line 15


@pytest.mark.parametrize("table", ["orders", "customer_products", "order_lines"])
def test_order_tables_built_by_blocks_of_customers_equal_the_tables_built_at_once(bundled_lines, table):
    settings = load_settings({})
    lines = as_categories(bundled_lines)
    cleaned = clean_transactions(lines, settings.cleaning, settings.baskets)
    names = product_names(lines)
    build = {"orders": order_history,
             "customer_products": lambda sold, _: customer_products(sold, names),
             "order_lines": lambda sold, returned: order_lines(sold, returned, names)}[table]  # itself in blocks
    ranges = customer_ranges(cleaned.sales, cleaned.returns, 60_000)
    blocks = by_customer_blocks(build, cleaned.sales, cleaned.returns, ranges)
    whole = build(cleaned.sales, cleaned.returns)
    whole = whole.concat() if isinstance(whole, Blocks) else whole
    frames = list(blocks)
    assert len(frames) == 7  # 397,884 sale and 8,905 return lines, about 60,000 a block
    pd.testing.assert_frame_equal(pd.concat(frames, ignore_index=True), whole)
    assert blocks.rows == len(whole) and list(blocks.sample.dtypes) == list(whole.dtypes)
