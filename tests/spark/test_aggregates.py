"""Each Spark aggregate against the pandas function it replaces, on the hand-made lines of tests/conftest.py
(answers worked out by hand below), and the cleaning rules on Spark."""

from __future__ import annotations

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from analytics._categories import as_categories
from analytics.clean import clean_transactions
from analytics.engines import PandasEngine
from analytics.orders import order_history
from analytics.products import product_names
from analytics.rfm import as_of_date
from analytics.rules import basket_matrix
from analytics.settings import Settings
from tests.conftest import handmade_lines


@pytest.fixture(scope="module")
def both(engine):
    """(pandas, spark) results of the engines on the hand-made lines."""
    settings = Settings()
    lines = as_categories(handmade_lines())
    cleaned = clean_transactions(lines, settings.cleaning, settings.baskets)
    as_of = as_of_date(cleaned.sales)
    names, baskets = product_names(lines), basket_matrix(cleaned.basket_lines)
    results = []
    for each in (PandasEngine(), engine):
        results.append({"customers": each.customers(lines, cleaned, as_of, settings),
                        **each.tables(lines, cleaned, baskets, names, settings)})
    results[0]["orders"] = order_history(cleaned.sales, cleaned.returns)  # the pipeline's, for the pandas engine
    return results


@pytest.mark.parametrize("table", ["customers", "orders", "products", "product_monthly", "monthly"])
def test_same_table_as_pandas(both, table):
    expected, found = both[0][table], both[1][table]
    assert len(found) > 0
    assert_frame_equal(found, expected, check_exact=False, rtol=0, atol=1e-9)


def test_customer_figures_by_hand(both):
    customers = both[1]["customers"].set_index("customer_id")
    # A: invoice 1 (2 × 5 + 10), invoice 2 (5), cancelled C5 (-1 × 5): gross 25, one return of 5, net 20
    assert customers.loc["A", ["frequency", "gross_value", "returns_count", "returns_value", "monetary"]].tolist() \
        == [2, 25.0, 1, 5.0, 20.0]
    # as-of: the day after the last invoice (2024-01-10) -> 2024-01-11; A last bought on the 10th, C on the 2nd
    assert customers.loc[["A", "C"], "recency_days"].tolist() == [1, 9]
    # E: postage 18 and two spoon lines of 2 × 3 (the 0-price line is not a sale); D has no sale at all
    assert customers.loc["E", "gross_value"] == 30.0 and "D" not in customers.index
    assert customers.loc["B", "country"] == "Spain"


def test_product_and_month_figures_by_hand(both):
    products = both[1]["products"].set_index("stock_code")
    # X: 10 + 5 (A) + 5 (B); baskets: invoices 1, 2, 3 and the guest invoice 7 (guests are mined by default)
    assert products.loc["X", ["revenue", "quantity", "customers", "baskets"]].tolist() == [20.0, 4, 2, 4]
    assert products.loc["POST", "baskets"] == 0  # a service code: in revenue, never in a basket
    monthly = both[1]["monthly"]
    assert monthly["month"].tolist() == [pd.Timestamp("2024-01-01")]
    assert monthly[["orders", "customers", "returns"]].iloc[0].tolist() == [5, 4, 5.0]
    orders = both[1]["orders"]
    assert orders.loc[orders["customer_id"] == "A", "invoice"].tolist() == ["2", "C5", "1"]  # newest first
