"""Backtest scoring helpers and the at-risk reasons, on frames whose answers are worked out by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analytics.backtest import auc, decile_table, precision_at_k
from analytics.risk_reasons import explain_risk


def test_auc_by_hand():
    # buyers score 0.9 and 0.1, non-buyers 0.8 and 0.1. Pairs (buyer, non-buyer): (0.9, 0.8) win,
    # (0.9, 0.1) win, (0.1, 0.8) loss, (0.1, 0.1) tie = ½ → (1 + 1 + 0 + 0.5) / 4 = 0.625
    assert auc(pd.Series([0.9, 0.8, 0.1, 0.1]), pd.Series([True, False, True, False])) == 0.625
    assert auc(pd.Series([3.0, 2.0, 1.0]), pd.Series([True, True, False])) == 1.0
    assert math.isnan(auc(pd.Series([1.0, 2.0]), pd.Series([True, True])))


def test_precision_at_k_by_hand():
    scores = pd.Series([5.0, 1.0, 4.0, 3.0, 2.0])
    lapsed = pd.Series([True, True, False, True, False])
    # top 3 by score: 5 (lapsed), 4 (not), 3 (lapsed) → 2 / 3
    assert precision_at_k(scores, lapsed, 3) == pytest.approx(2 / 3)
    assert precision_at_k(scores, lapsed, 10) == pytest.approx(3 / 5)  # k larger than the pool: all of it
    assert math.isnan(precision_at_k(scores, lapsed, 0))


def test_decile_table_by_hand():
    # 20 customers predicted 0..19 orders: decile d holds predictions 2d−2 and 2d−1, mean 2d − 1.5
    scored = pd.DataFrame({"customer_id": [str(i) for i in range(20)], "predicted_orders": range(20),
                           "actual_orders": [1.0] * 20, "predicted_value": [10.0] * 20, "actual_value": [0.0] * 20})
    table = decile_table(scored)
    assert table["decile"].tolist() == list(range(1, 11))
    assert table["customers"].tolist() == [2] * 10
    assert table["predicted_orders"].tolist() == [2 * d - 1.5 for d in range(1, 11)]
    assert table["actual_orders"].tolist() == [1.0] * 10


def _customers() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["A", "B", "C"], "at_risk": [True, True, False], "frequency": [6, 1, 3],
        "recency_days": [96, 120, 10], "usual_gap_days": [21.0, float("nan"), 30.0], "monetary": [2700.0, 500.0, 900.0],
        "first_purchase": pd.to_datetime(["2011-01-01", "2011-06-01", "2011-01-01"]),
        "last_purchase": pd.to_datetime(["2011-07-02", "2011-06-01", "2011-12-01"]),
        "expected_value_12m": [5400.0, float("nan"), 100.0],
    })


def test_explain_risk_sentences_by_hand():
    reasons = explain_risk(_customers(), "£")
    # A: 96 / 21 = 4.57 → 4.6×; value = its expected 12-month value
    assert reasons[0] == "usually orders every 21 days; none for 96 days — 4.6× the usual gap; value £5,400/year"
    # B: one order, so no gap of its own: the median gap of repeat customers, (21 + 30) / 2 = 25.5 → "26",
    # 120 / 25.5 = 4.7×; no prediction: its yearly value 500 × 365 / (0 + 120 days of history) = £1,521/year
    assert reasons[1] == ("one order so far (repeat customers order every 26 days); none for 120 days — "
                          "4.7× the usual gap; value £1,521/year")
    assert reasons[2] == ""  # not at risk
