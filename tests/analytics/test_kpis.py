"""KPIs, Pareto, segment summaries, products and order history on the handmade frame."""

import numpy as np
import pandas as pd
import pytest

from analytics.clean import clean_transactions
from analytics.kpis import (
    headline_kpis,
    monthly_trend,
    pareto_curve,
    pareto_share,
    segment_top_products,
    summarise_segments,
)
from analytics.orders import order_history, returns_by_customer
from analytics.products import product_names, summarise_products
from analytics.recommend import bought_pairs
from analytics.rfm import as_of_date, score_rfm, summarise_customers, with_returns
from analytics.risk import score_risk
from analytics.rules import basket_matrix
from analytics.segments import assign_segments, parse_scheme
from analytics.settings import BasketParams, CleaningParams, RiskParams

TWO = parse_scheme({"segments": [
    {"name": "Recent", "priority": "High", "action": "Retain", "tactic": "t", "cells": [{"r": "3-5"}]},
    {"name": "Old", "priority": "Critical", "action": "Reactivate", "tactic": "t", "cells": [{"r": "1-2"}]},
]})


@pytest.fixture
def tables(lines):
    cleaned = clean_transactions(lines, CleaningParams(), BasketParams())
    summary = summarise_customers(cleaned.sales, as_of_date(cleaned.sales))
    customers = score_rfm(with_returns(summary, returns_by_customer(cleaned.returns)))  # A: 25 − 5 returned = 20
    customers = score_risk(assign_segments(customers, TWO), RiskParams())
    return cleaned, customers


def test_pareto_share_by_hand():
    # 50 + 30 = 80 % of 100 is reached by the best 2 of 5 customers
    assert pareto_share(pd.Series([50.0, 30.0, 10.0, 5.0, 5.0])) == 0.4
    assert pareto_share(pd.Series([20.0] * 5)) == 0.8
    assert pareto_share(pd.Series([25.0] * 4)) == 1.0  # three customers make only 75 %
    assert np.isnan(pareto_share(pd.Series([], dtype=float)))


def test_pareto_curve_is_cumulative():
    curve = pareto_curve(pd.Series([50.0, 30.0, 10.0, 5.0, 5.0]))
    assert curve["revenue_share"].is_monotonic_increasing
    assert curve.iloc[0].tolist() == [0.0, 0.0] and curve.iloc[-1].tolist() == [1.0, 1.0]
    assert curve.loc[np.isclose(curve["customer_share"], 0.4), "revenue_share"].item() == pytest.approx(0.8)


def test_headline_kpis(tables):
    cleaned, customers = tables
    kpis = headline_kpis(customers, cleaned.sales, cleaned.returns, active_days=5,
                         guest_sales=cleaned.guest_sales).set_index("kpi")["value"]
    assert kpis["revenue"] == 100.0  # gross sales: A 25, B 15, C 30, E 30
    assert kpis["net_revenue"] == 95.0  # 100 − A's return of 5
    assert kpis["guest_sales"] == 15.0  # invoice 7: 5 + 10
    assert kpis["total_sales"] == 115.0
    assert kpis["returns_unmatched"] == 0.0  # A returned 5 of the 25 bought
    assert kpis["customers"] == 4
    assert kpis["active_customers"] == 2  # A (1 day) and E (3 days)
    assert kpis["orders"] == 5  # invoices 1, 2, 3, 4, 8
    assert kpis["avg_basket"] == 20.0
    assert kpis["avg_customer_value"] == 23.75  # net values (20 + 15 + 30 + 30) / 4
    assert kpis["returns_value"] == 5.0


def test_segment_summary(tables):
    _, customers = tables
    table = summarise_segments(customers, TWO).set_index("segment")
    assert table.index.tolist() == ["Old", "Recent"]  # Critical first
    assert table.loc["Recent", "customers"] == 2  # A (r=4), E (r=3)
    assert table.loc["Recent", "revenue"] == 50.0  # net: A 25 − 5, E 30
    assert table.loc["Recent", ["gross_sales", "returns_value", "net_revenue"]].tolist() == [55.0, 5.0, 50.0]
    assert table.loc["Old", "revenue_share"] == pytest.approx(45 / 95)
    assert table.loc["Recent", "mean_recency_days"] == 2.0
    assert table.loc["Recent", "avg_basket"] == pytest.approx(55.0 / 3)
    assert table["customer_share"].sum() == pytest.approx(1.0)


def test_monthly_trend(tables):
    cleaned, _ = tables
    monthly = monthly_trend(cleaned.sales)
    assert monthly["month"].tolist() == [pd.Timestamp("2024-01-01")]
    assert monthly[["revenue", "returns", "orders", "customers"]].iloc[0].tolist() == [100.0, 0.0, 5, 4]
    assert monthly_trend(cleaned.sales, cleaned.returns)["returns"].tolist() == [5.0]  # C5, January


def test_order_history_flags_returns(tables):
    cleaned, _ = tables
    orders = order_history(cleaned.sales, cleaned.returns)
    a = orders[orders["customer_id"] == "A"]
    assert a["invoice"].tolist() == ["2", "C5", "1"]  # newest first
    assert a["is_return"].tolist() == [False, True, False]
    assert a["total"].tolist() == [5.0, -5.0, 20.0]
    assert a["items"].tolist() == [1, 1, 2]
    returns = returns_by_customer(cleaned.returns)
    assert returns.loc["A"].tolist() == [1, 5.0]


def test_products_by_hand(tables, lines):
    # sales: Y 10 + 10 + 30 (A, B, C), X 10 + 5 + 5 (A, B), POST 18 (E), Z 6 + 6 (E); baskets (guests in,
    # POST out): invoices 1 {X,Y}, 2 {X}, 3 {X,Y}, 4 {Y}, 7 {X,Y}, 8 {Z}
    cleaned, _ = tables
    products = summarise_products(cleaned.sales, basket_matrix(cleaned.basket_lines), product_names(lines))
    assert products.values.tolist() == [["Y", "TEAPOT", 50.0, 5, 3, 4], ["X", "MUG", 20.0, 4, 2, 4],
                                        ["POST", "POSTAGE", 18.0, 1, 1, 0], ["Z", "SPOON", 12.0, 4, 1, 1]]


def test_segment_top_products_by_hand(tables, lines):
    # Recent = A, E: X 15 (A), Z 12 (E), Y 10 (A); Old = B, C: Y 10 + 30 (B, C), X 5 (B); POST is no product
    cleaned, customers = tables
    top = segment_top_products(cleaned.sales, bought_pairs(cleaned.sales), customers, product_names(lines), top=2)
    assert top.values.tolist() == [["Old", 1, "Y", "TEAPOT", 40.0, 4, 2], ["Old", 2, "X", "MUG", 5.0, 1, 1],
                                   ["Recent", 1, "X", "MUG", 15.0, 3, 1], ["Recent", 2, "Z", "SPOON", 12.0, 4, 1]]


def test_segment_top_products_net_of_returns(tables, lines):
    # Recent = A, E: X 15 − A's return of one MUG (5) = 10 (quantity 3 − 1), Z 12, Y 10: Z first, then X and Y
    # tie at 10 and sort by code
    cleaned, customers = tables
    top = segment_top_products(cleaned.sales, bought_pairs(cleaned.sales), customers, product_names(lines), top=2,
                               returns=cleaned.returns)
    assert top[top["segment"] == "Recent"].values.tolist() == [["Recent", 1, "Z", "SPOON", 12.0, 4, 1],
                                                               ["Recent", 2, "X", "MUG", 10.0, 2, 1]]
