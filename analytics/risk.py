"""High-value-at-risk scoring and the revenue at stake.

For every customer:

- value  = mean of the percentile ranks of monetary (M, net by default) and frequency (F), in [0, 1];
- usual gap = (last − first purchase, days) / (F − 1) for repeat customers, floored at ``min_gap_days``;
  one-time buyers have no gap of their own: ``usual_gap_days`` is empty for them, and the lapse uses
  the median usual gap of repeat customers;
- lapse  = clip((recency_days / usual_gap − 1) / (lapse_full − 1), 0, 1): 0 while the customer is
  within their usual rhythm, 1 once they are ``lapse_full`` gaps overdue;
- risk_score = round(100 × value × lapse, 1), in [0, 100]; 0 when the customer's value is 0 (they
  returned everything: nothing left to lose, never a reactivation priority).

A customer is *high value at risk* when value ≥ ``min_value_score``, risk_score ≥ ``threshold`` and
their value is above 0.

``yearly_value`` = net value per year of history: value × 365 / days from the first purchase to the
analysis date, counting at least ``MIN_HISTORY_DAYS`` (a recent first order is never multiplied by more
than 365 / 90 ≈ 4). The revenue at stake of an at-risk customer is their yearly value: what a year
without them costs at the rate they bought since they became a customer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.settings import RiskParams

__all__ = ["MIN_HISTORY_DAYS", "score_risk", "yearly_value"]

MIN_HISTORY_DAYS = 90


def yearly_value(customers: pd.DataFrame) -> pd.Series:
    """monetary × 365 / max(days from first purchase to the analysis date, ``MIN_HISTORY_DAYS``)."""
    span = (customers["last_purchase"].dt.normalize() - customers["first_purchase"].dt.normalize()).dt.days
    history = (span + customers["recency_days"]).clip(lower=MIN_HISTORY_DAYS)
    return customers["monetary"] * 365 / history


def score_risk(customers: pd.DataFrame, params: RiskParams) -> pd.DataFrame:
    """Add usual_gap_days (empty for one-time buyers), risk_score, at_risk and yearly_value to a customer
    summary with RFM columns."""
    money = customers["monetary"].round(2)  # to the cent: sums in another order (Spark) cannot split a tie
    value = (money.rank(pct=True) + customers["frequency"].rank(pct=True)) / 2
    span_days = (customers["last_purchase"] - customers["first_purchase"]).dt.total_seconds() / 86400
    repeat = customers["frequency"] > 1
    gaps = (span_days / (customers["frequency"] - 1)).where(repeat)
    prior = float(gaps.median()) if repeat.any() and not np.isnan(gaps.median()) else params.min_gap_days
    usual_gap = gaps.fillna(prior).clip(lower=params.min_gap_days)
    overdue = customers["recency_days"] / usual_gap - 1
    lapse = (overdue / max(params.lapse_full - 1, 1e-9)).clip(0, 1)
    kept = money > 0  # a customer who returned everything has nothing left to lose
    risk = (100 * value * lapse).round(1).where(kept, 0.0)
    at_risk = (value >= params.min_value_score) & (risk >= params.threshold) & kept
    return customers.assign(usual_gap_days=usual_gap.where(repeat).round(1), risk_score=risk,
                            at_risk=at_risk.astype(bool), yearly_value=yearly_value(customers))
