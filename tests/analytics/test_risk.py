"""Risk score by hand: value = mean percentile of M and F, lapse against the customer's own gap."""

import pandas as pd
import pytest

from analytics.risk import score_risk, yearly_value
from analytics.settings import RiskParams


def _customers():
    return pd.DataFrame({
        "customer_id": ["big_lapsed", "big_regular", "small_lapsed", "one_timer"],
        "first_purchase": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-01", "2024-06-01"]),
        "last_purchase": pd.to_datetime(["2024-05-01", "2024-12-01", "2024-03-01", "2024-06-01"]),
        "frequency": [5, 12, 2, 1],
        "monetary": [5000.0, 8000.0, 50.0, 20.0],
        "recency_days": [244, 31, 305, 214],
    })


def test_risk_by_hand():
    scored = score_risk(_customers(), RiskParams(min_value_score=0.6, lapse_full=3.0, min_gap_days=14, threshold=50))
    scored = scored.set_index("customer_id")
    # big_lapsed: value = (0.75 + 0.75) / 2 = 0.75; gap = 121 days / 4 = 30.25; lapse = clip((244/30.25 - 1)/2) = 1
    assert scored.loc["big_lapsed", "usual_gap_days"] == 30.2  # rounded for display
    assert scored.loc["big_lapsed", "risk_score"] == 75.0
    assert bool(scored.loc["big_lapsed", "at_risk"])
    # big_regular: gap = 335/11 = 30.45 days, recency 31 -> overdue 0.018 -> lapse 0.009; value 1.0
    assert scored.loc["big_regular", "risk_score"] == 0.9
    assert not bool(scored.loc["big_regular", "at_risk"])
    # small_lapsed: fully lapsed but value (0.5 + 0.5)/2 = 0.5 < 0.6: never on the list
    assert not bool(scored.loc["small_lapsed", "at_risk"])
    # one_timer: no gap of their own (shown empty: "only one order"); the lapse uses the median of the repeat
    # gaps (30.25, 30.45, 60) = 30.45: 214 days is fully lapsed, value (0.25 + 0.25) / 2 -> risk 25
    assert pd.isna(scored.loc["one_timer", "usual_gap_days"])
    assert scored.loc["one_timer", "risk_score"] == 25.0
    assert scored["risk_score"].between(0, 100).all()


def test_recent_customers_have_no_risk():
    frame = _customers().assign(recency_days=1)
    assert (score_risk(frame, RiskParams())["risk_score"] == 0).all()


def test_customer_who_returned_everything_is_never_at_risk():
    # every customer fully lapsed and every threshold at 0: only a positive value can be "at risk"
    frame = _customers().assign(monetary=[0.0, 8000.0, 50.0, 20.0])
    scored = score_risk(frame, RiskParams(min_value_score=0.0, threshold=0.0)).set_index("customer_id")
    assert scored["at_risk"].to_dict() == {"big_lapsed": False, "big_regular": True, "small_lapsed": True,
                                           "one_timer": True}
    assert scored.loc["big_lapsed", "risk_score"] == 0.0


def test_yearly_value_by_hand():
    # days of history = (last − first purchase) + recency, at least 90:
    # big_lapsed 121 + 244 = 365 -> 5000; big_regular 335 + 31 = 366 -> 8000 × 365/366;
    # small_lapsed 60 + 305 = 365 -> 50; one_timer 0 + 214 = 214 -> 20 × 365/214
    scored = score_risk(_customers(), RiskParams()).set_index("customer_id")
    assert scored["yearly_value"].to_dict() == pytest.approx(
        {"big_lapsed": 5000.0, "big_regular": 8000 * 365 / 366, "small_lapsed": 50.0, "one_timer": 20 * 365 / 214})
    recent = _customers().assign(first_purchase=pd.Timestamp("2024-06-01"), last_purchase=pd.Timestamp("2024-06-01"),
                                 recency_days=10)
    # 10 days of history count as 90: a new customer's 20 is worth 20 × 365 / 90 a year, not 20 × 36.5
    assert yearly_value(recent).tolist() == pytest.approx([v * 365 / 90 for v in (5000.0, 8000.0, 50.0, 20.0)])
