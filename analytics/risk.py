"""High-value-at-risk scoring.

For every customer:

- value  = mean of the percentile ranks of monetary (M) and frequency (F), in [0, 1];
- usual gap = (last − first purchase, days) / (F − 1) for repeat customers; one-time buyers get the
  median usual gap of repeat customers; floored at ``min_gap_days``;
- lapse  = clip((recency_days / usual_gap − 1) / (lapse_full − 1), 0, 1): 0 while the customer is
  within their usual rhythm, 1 once they are ``lapse_full`` gaps overdue;
- risk_score = round(100 × value × lapse, 1), in [0, 100].

A customer is *high value at risk* when value ≥ ``min_value_score`` and risk_score ≥ ``threshold``.
The revenue at stake is their revenue over the analysed period.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.settings import RiskParams

__all__ = ["score_risk"]


def score_risk(customers: pd.DataFrame, params: RiskParams) -> pd.DataFrame:
    """Add usual_gap_days, risk_score and at_risk to a customer summary with RFM columns."""
    value = (customers["monetary"].rank(pct=True) + customers["frequency"].rank(pct=True)) / 2
    span_days = (customers["last_purchase"] - customers["first_purchase"]).dt.total_seconds() / 86400
    repeat = customers["frequency"] > 1
    gaps = (span_days / (customers["frequency"] - 1)).where(repeat)
    prior = float(gaps.median()) if repeat.any() and not np.isnan(gaps.median()) else params.min_gap_days
    usual_gap = gaps.fillna(prior).clip(lower=params.min_gap_days)
    overdue = customers["recency_days"] / usual_gap - 1
    lapse = (overdue / max(params.lapse_full - 1, 1e-9)).clip(0, 1)
    risk = (100 * value * lapse).round(1)
    at_risk = (value >= params.min_value_score) & (risk >= params.threshold)
    return customers.assign(usual_gap_days=usual_gap.round(1), risk_score=risk, at_risk=at_risk.astype(bool))
