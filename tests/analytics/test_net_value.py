"""Refunds are not revenue: customer value net of returns, KPIs that reconcile, on a handmade frame worked out
by hand and on the bundled data.

Handmade lines (as-of 2024-03-06, the day after the last sale):

- F, a full refund: invoice 10 sells 2 × W at 50 (100) on 1 Feb, C10 returns both on 3 Feb → gross 100, net 0;
- P, a partial refund: invoice 11 (1 Jan... 10 Jan) X 4 × 10 + Y 1 × 60 = 100, invoice 12 X 1 × 10 = 10 on 1 Mar,
  C13 returns the Y (60) on 15 Jan → gross 110, returns 60, net 50;
- B, a refund of an order before the data window: invoice 14 X 2 × 10 = 20 on 20 Feb, C15 returns 3 × Z at 20
  (60, never sold in the data) on 5 Jan → gross 20, returns 60, net max(20 − 60, 0) = 0 — it still reduces
  the value, never below 0; the 40 beyond the purchases are "unmatched";
- N, no return: invoice 18 Y 2 × 60 = 120 on 5 Mar;
- a guest (no customer id): invoice 16 X 1 × 10 = 10 on 10 Feb;
- R, a return only: C17 returns 1 × X at 10 on 10 Feb (no sale in the data: not a customer, 10 unmatched).

Totals: gross 100 + 110 + 20 + 120 = 350; returns 100 + 60 + 60 + 10 = 230; net revenue 350 − 230 = 120;
guest sales 10; total sales 360; returns within each customer's purchases 100 + 60 + 20 = 180, so
unmatched 230 − 180 = 50; Σ net values 0 + 50 + 0 + 120 = 170 = net revenue 120 + unmatched 50.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from analytics.clean import clean_transactions
from analytics.errors import ConfigError
from analytics.kpis import (
    headline_kpis,
    monthly_by_segment,
    pareto_by_segment,
    segment_top_products,
    summarise_segments,
)
from analytics.orders import returns_by_customer
from analytics.products import product_names
from analytics.recommend import bought_pairs
from analytics.rfm import as_of_date, score_rfm, summarise_customers, with_returns
from analytics.risk import score_risk
from analytics.segments import assign_segments, load_scheme, parse_scheme
from analytics.settings import BasketParams, CleaningParams, RiskParams, load_settings

ALL = parse_scheme({"segments": [
    {"name": "All", "priority": "High", "action": "Keep", "tactic": "t", "cells": [{"r": "1-5"}]},
]})

_LINES = [
    # invoice, stock_code, description, quantity, invoice_date, unit_price, customer_id, country
    ("10", "W", "WALLET", 2, "2024-02-01 10:00", 50.0, "F", "France"),
    ("C10", "W", "WALLET", -2, "2024-02-03 10:00", 50.0, "F", "France"),
    ("11", "X", "MUG", 4, "2024-01-10 10:00", 10.0, "P", "Spain"),
    ("11", "Y", "TEAPOT", 1, "2024-01-10 10:00", 60.0, "P", "Spain"),
    ("12", "X", "MUG", 1, "2024-03-01 10:00", 10.0, "P", "Spain"),
    ("C13", "Y", "TEAPOT", -1, "2024-01-15 10:00", 60.0, "P", "Spain"),
    ("14", "X", "MUG", 2, "2024-02-20 10:00", 10.0, "B", "Italy"),
    ("C15", "Z", "SPOON", -3, "2024-01-05 10:00", 20.0, "B", "Italy"),
    ("16", "X", "MUG", 1, "2024-02-10 10:00", 10.0, None, "Spain"),
    ("C17", "X", "MUG", -1, "2024-02-10 11:00", 10.0, "R", "Spain"),
    ("18", "Y", "TEAPOT", 2, "2024-03-05 10:00", 60.0, "N", "Italy"),
]


@pytest.fixture
def refunds():
    lines = pd.DataFrame(_LINES, columns=["invoice", "stock_code", "description", "quantity", "invoice_date",
                                          "unit_price", "customer_id", "country"])
    lines = lines.astype({"quantity": "int64", "unit_price": "float64", "invoice_date": "datetime64[ns]"})
    cleaned = clean_transactions(lines, CleaningParams(), BasketParams())
    return lines, cleaned


def _customers(cleaned, basis: str = "net", risk: RiskParams | None = None) -> pd.DataFrame:
    summary = summarise_customers(cleaned.sales, as_of_date(cleaned.sales))
    customers = score_rfm(with_returns(summary, returns_by_customer(cleaned.returns), basis))
    return score_risk(assign_segments(customers, ALL), risk or RiskParams())


def test_full_partial_and_before_window_refunds(refunds):
    _, cleaned = refunds
    customers = _customers(cleaned).set_index("customer_id")
    assert customers.index.tolist() == ["B", "F", "N", "P"]  # R returned without buying: not a customer
    assert customers["gross_value"].to_dict() == {"B": 20.0, "F": 100.0, "N": 120.0, "P": 110.0}
    assert customers["returns_value"].to_dict() == {"B": 60.0, "F": 100.0, "N": 0.0, "P": 60.0}
    assert customers["returns_count"].to_dict() == {"B": 1, "F": 1, "N": 0, "P": 1}
    assert customers["net_value"].to_dict() == {"B": 0.0, "F": 0.0, "N": 120.0, "P": 50.0}
    assert customers["monetary"].to_dict() == customers["net_value"].to_dict()
    # M on net values: B and F tie at 0 (rank 1), P rank 3, N rank 4 -> 1 + floor(5 × (rank − 1) / 4)
    assert customers["m_score"].to_dict() == {"B": 1, "F": 1, "N": 4, "P": 3}
    # one-order customers have no usual gap of their own; P: 10 Jan → 1 Mar = 51 days over one gap
    assert customers["usual_gap_days"].isna().to_dict() == {"B": True, "F": True, "N": True, "P": False}
    assert customers.loc["P", "usual_gap_days"] == 51.0
    # yearly value: P has 56 days of history, N 1 day: both count 90 -> value × 365 / 90
    assert customers.loc["P", "yearly_value"] == pytest.approx(50 * 365 / 90)
    assert customers.loc["N", "yearly_value"] == pytest.approx(120 * 365 / 90)


def test_gross_basis_keeps_returns_out(refunds):
    _, cleaned = refunds
    customers = _customers(cleaned, basis="gross").set_index("customer_id")
    assert customers["monetary"].to_dict() == {"B": 20.0, "F": 100.0, "N": 120.0, "P": 110.0}
    assert customers["net_value"].to_dict() == {"B": 0.0, "F": 0.0, "N": 120.0, "P": 50.0}  # still published
    assert customers["m_score"].to_dict() == {"B": 1, "F": 2, "N": 4, "P": 3}  # F's refunded 100 ranks 2nd


def test_unknown_basis_names_the_key(refunds):
    _, cleaned = refunds
    with pytest.raises(ConfigError, match="rfm.monetary 'nett'"):
        _customers(cleaned, basis="nett")


def test_basis_from_the_yaml(tmp_path):
    path = tmp_path / "settings.yaml"
    path.write_text("rfm:\n  monetary: gross\n", encoding="utf-8")
    assert load_settings({}, path).rfm.monetary == "gross"
    assert load_settings({}).rfm.monetary == "net"


def test_all_returned_is_never_at_risk(refunds):
    _, cleaned = refunds
    # thresholds at 0: everyone lapsed enough would be at risk, but F and B have nothing left to lose
    customers = _customers(cleaned, risk=RiskParams(min_value_score=0.0, threshold=0.0, min_gap_days=1))
    by_id = customers.set_index("customer_id")
    assert by_id["at_risk"].to_dict() == {"B": False, "F": False, "N": True, "P": True}  # threshold 0: all others
    assert by_id.loc[["B", "F"], "risk_score"].tolist() == [0.0, 0.0]


def test_money_kpis_reconcile(refunds):
    _, cleaned = refunds
    customers = _customers(cleaned)
    kpis = headline_kpis(customers, cleaned.sales, cleaned.returns, active_days=90,
                         guest_sales=cleaned.guest_sales).set_index("kpi")["value"]
    assert kpis[["revenue", "returns_value", "net_revenue", "guest_sales", "total_sales", "returns_unmatched"]
                ].to_dict() == {"revenue": 350.0, "returns_value": 230.0, "net_revenue": 120.0, "guest_sales": 10.0,
                                "total_sales": 360.0, "returns_unmatched": 50.0}
    assert customers["monetary"].sum() == kpis["net_revenue"] + kpis["returns_unmatched"]  # 170 = 120 + 50
    assert kpis["avg_customer_value"] == 42.5  # 170 / 4
    assert kpis["avg_basket"] == 70.0  # gross 350 / 5 invoices (10, 11, 12, 14, 18)
    # Pareto on net values 120, 50, 0, 0 (170): the best 2 of 4 reach 80 %
    assert kpis["pareto_share"] == 0.5


def test_segment_figures_net_of_returns(refunds):
    lines, cleaned = refunds
    customers = _customers(cleaned)
    segment = summarise_segments(customers, ALL).set_index("segment").loc["All"]
    assert segment[["revenue", "gross_sales", "returns_value", "net_revenue", "pareto_share"]].tolist() == \
        [170.0, 350.0, 220.0, 130.0, 0.5]  # R's 10 is in no segment: 230 − 10 returned by the segment's customers
    # Y: 60 + 120 − P's returned 60 = 120 (quantity 1 + 2 − 1); X: 40 + 10 + 20 = 70; W: 100 − 100 = 0 is left
    # out; B's refunded Z was never sold to the segment in the data: not a product line
    top = segment_top_products(cleaned.sales, bought_pairs(cleaned.sales), customers, product_names(lines), top=5,
                               returns=cleaned.returns)
    assert top[["stock_code", "revenue", "quantity", "customers"]].values.tolist() == [["Y", 120.0, 2, 2],
                                                                                        ["X", 70.0, 7, 2]]


def test_per_segment_pareto_and_monthly(refunds):
    _, cleaned = refunds
    customers = _customers(cleaned)
    curve = pareto_by_segment(customers)
    assert set(curve["segment"]) == {"All"} and len(curve) == 201
    assert curve.loc[np.isclose(curve["customer_share"], 0.25), "revenue_share"].item() == pytest.approx(120 / 170)
    monthly = monthly_by_segment(cleaned.sales, cleaned.returns, customers)
    # sales: Jan 100 (11); Feb 100 + 20 (10, 14); Mar 10 + 120 (12, 18). Returns of the segment's customers:
    # Jan C13 60 + C15 60; Feb C10 100 (R's C17 is in no segment)
    assert monthly[["month", "revenue", "returns", "orders", "customers"]].values.tolist() == [
        [pd.Timestamp("2024-01-01"), 100.0, 120.0, 1, 1], [pd.Timestamp("2024-02-01"), 120.0, 100.0, 2, 2],
        [pd.Timestamp("2024-03-01"), 130.0, 0.0, 2, 2]]


@pytest.fixture(scope="module")
def bundled_snapshot(bundled_lines):
    from analytics.pipeline import build_snapshot

    settings = load_settings({})
    settings = replace(settings, evaluation=replace(settings.evaluation, enabled=False))
    return build_snapshot(bundled_lines, settings, load_scheme(settings.segments.scheme))


def test_bundled_figures_after_netting_returns(bundled_snapshot):
    """The README's published figures (section "Cleaning")."""
    kpis = bundled_snapshot.tables["kpis"].set_index("kpi")["value"]
    assert round(kpis["revenue"], 2) == 8_911_407.90  # gross sales, unchanged
    assert round(kpis["returns_value"], 2) == 611_342.09
    assert round(kpis["net_revenue"], 2) == 8_300_065.81
    assert round(kpis["guest_sales"], 2) == 1_755_276.64
    assert round(kpis["total_sales"], 2) == 10_666_684.54
    assert round(kpis["returns_unmatched"], 2) == 13_229.14
    assert kpis["customers"] == 4_338
    assert kpis["at_risk_customers"] == 134
    assert round(kpis["revenue_at_stake"]) == 550_900
    assert round(kpis["pareto_share"], 4) == 0.2716
    customers = bundled_snapshot.tables["customers"].set_index("customer_id")
    assert round(customers["net_value"].sum(), 2) == round(kpis["net_revenue"] + kpis["returns_unmatched"], 2)
    assert (customers["net_value"] == 0).sum() == 19  # customers who returned everything they bought


def test_bundled_refunded_customers_are_no_longer_top(bundled_snapshot):
    customers = bundled_snapshot.tables["customers"].set_index("customer_id")
    # 12346 bought £77,183.60 and returned all of it in one order; 16446 kept £2.90 of £168,472.50
    assert customers.loc["12346", ["net_value", "m_score", "at_risk", "risk_score"]].tolist() == [0.0, 1, False, 0.0]
    assert customers.loc["12346", "segment"] != "Can't Lose Them"
    assert customers.loc["16446", "net_value"] == pytest.approx(2.90)
    assert customers.loc["16446", "m_score"] == 1 and not customers.loc["16446", "at_risk"]
    assert {"12346", "16446"}.isdisjoint(customers.nlargest(20, "monetary").index)
    # Can't Lose Them's top product is no longer one refunded order (was 23166, £77,643, 99 % 12346's)
    top = bundled_snapshot.tables["segment_products"]
    assert top[(top["segment"] == "Can't Lose Them") & (top["rank"] == 1)]["stock_code"].item() != "23166"
