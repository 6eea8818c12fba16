"""Why a customer is on the at-risk list, in words a sales team can check.

"usually orders every 21 days; none for 96 days — 4.6× the usual gap; value £5,400/year"

- the usual gap is the one of the risk score (``usual_gap_days``: span / (orders − 1), floored); one-time
  buyers have none, so the risk score uses the median gap of repeat customers, and the sentence says so;
- the value is the expected net value of the next 12 months (``expected_value_12m``) when predicted,
  else the customer's ``yearly_value`` (``analytics.risk``: past net value per year of history).
"""

from __future__ import annotations

import pandas as pd

from analytics.risk import yearly_value

__all__ = ["explain_risk"]


def explain_risk(customers: pd.DataFrame, currency: str) -> pd.Series:
    """The reason of every at-risk customer ("" for the others).

    Args:
        customers: at_risk, frequency, recency_days, usual_gap_days (empty for one-time buyers), monetary,
            first_purchase, last_purchase and, when predicted, expected_value_12m.
        currency: the money symbol.
    """
    value = yearly_value(customers)
    repeat_gaps = customers["usual_gap_days"].where(customers["frequency"] > 1).dropna()
    typical = float(repeat_gaps.median()) if len(repeat_gaps) else float("nan")
    gaps = customers["usual_gap_days"].where(customers["frequency"] > 1, typical).to_numpy(dtype=float)
    if "expected_value_12m" in customers:
        value = customers["expected_value_12m"].where(customers["expected_value_12m"].notna(), value)
    columns = zip(customers["at_risk"].to_numpy(dtype=bool), customers["frequency"].to_numpy(dtype=int),
                  customers["recency_days"].to_numpy(dtype=float), gaps, value.to_numpy(dtype=float))
    reasons = [_sentence(orders, silent, gap, v, currency) if at_risk else ""
               for at_risk, orders, silent, gap, v in columns]
    return pd.Series(reasons, index=customers.index, dtype="str")


def _sentence(orders: int, silent_days: float, gap: float, value: float, currency: str) -> str:
    rhythm = (f"usually orders every {gap:.0f} days" if orders > 1
              else f"one order so far (repeat customers order every {gap:.0f} days)")
    times = silent_days / gap if gap > 0 else float("inf")
    return f"{rhythm}; none for {silent_days:.0f} days — {times:.1f}× the usual gap; value {currency}{value:,.0f}/year"
