"""The predictions stage: switched off, too little data, bad settings (no model fit needed)."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.errors import ConfigError
from analytics.forecast import predict_values
from analytics.schema import TABLES
from analytics.settings import PredictiveParams, RiskParams


def _customers() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["A", "B"], "at_risk": [True, False], "frequency": [3, 1], "recency_days": [60, 5],
        "usual_gap_days": [20.0, 30.0], "monetary": [365.25, 50.0],
        "first_purchase": pd.to_datetime(["2011-01-01", "2011-03-06"]),
        "last_purchase": pd.to_datetime(["2011-01-11 10:00", "2011-03-06 09:00"]),
    })


def _sales() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ["A", "A", "A", "B"], "invoice": ["1", "2", "3", "4"],
                         "invoice_date": pd.to_datetime(["2011-01-01", "2011-01-05", "2011-01-11", "2011-03-06"]),
                         "revenue": [100.0, 100.0, 165.25, 50.0]})


def _run(params: PredictiveParams):
    returns = pd.DataFrame({"customer_id": pd.Series([], dtype="str"), "revenue": pd.Series([], dtype=float)})
    return predict_values(_customers(), _sales(), returns, pd.Timestamp("2011-03-12"), params, RiskParams(), "£")


def test_switched_off_publishes_empty_predictions_and_still_explains_the_risk():
    result = _run(PredictiveParams(enabled=False))
    customers = result.customers
    assert customers[["expected_orders_90d", "expected_value_12m", "p_alive", "p_order_90d"]].isna().all().all()
    # next order: last purchase day Jan 11 + usual gap 20 days = Jan 31; B bought once: no rhythm
    assert customers["next_order_date"].tolist()[0] == pd.Timestamp("2011-01-31")
    assert pd.isna(customers["next_order_date"].tolist()[1])
    # A's value without predictions: its yearly value (analytics.risk), 365.25 × 365 / 90 days (10 days of
    # history + 60 since, floored at 90) = 1,481.29
    assert customers["value_at_stake"].tolist() == pytest.approx([365.25 * 365 / 90, 0.0])
    assert customers["risk_reason"][0] == ("usually orders every 20 days; none for 60 days — 3.0× the usual gap; "
                                           "value £1,481/year")
    assert result.meta["enabled"] is False and result.meta["p_alive_published"] is False
    for name in ("prediction_backtest", "prediction_deciles"):
        assert result.tables[name].empty and list(result.tables[name].columns) == list(TABLES[name])


def test_too_few_repeat_customers_skip_the_fit_and_say_why():
    result = _run(PredictiveParams(enabled=True, holdout_days=30))
    assert "only 1 customers bought on two days or more" in result.meta["skipped"]
    assert "only 1 repeat customers before 2011-02-10" in result.meta["backtest"]["skipped"]
    assert result.customers["expected_orders_90d"].isna().all()


@pytest.mark.parametrize(("params", "key"), [
    (PredictiveParams(holdout_days=-1), "predictive.holdout_days"),
    (PredictiveParams(discount_rate_monthly=1.5), "predictive.discount_rate_monthly"),
])
def test_bad_settings_name_the_key(params, key):
    with pytest.raises(ConfigError, match=key):
        _run(params)
