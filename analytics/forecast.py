"""The predictions stage: per-customer expected orders and value, the backtest, the at-risk reasons.

Adds to the customers table: expected_orders_90d, expected_value_12m, p_alive (null when the BG/NBD
fit is degenerate), p_order_90d, next_order_date, value_at_stake, risk_reason; and builds the
prediction_backtest and prediction_deciles tables and the ``predictive`` meta (docs/SNAPSHOT.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics import schema as s
from analytics._categories import positions
from analytics.backtest import backtest_predictions
from analytics.errors import ConfigError
from analytics.predictive import (
    fit_bgnbd,
    fit_gamma_gamma,
    predict_customers,
    purchase_days,
    summarise_purchases,
)
from analytics.risk import yearly_value
from analytics.risk_reasons import explain_risk
from analytics.settings import PredictiveParams, RiskParams

__all__ = ["FORECAST_COLUMNS", "MIN_REPEAT_CUSTOMERS", "Forecast", "Predictions", "forecast", "predict_values",
           "with_forecast"]

log = logging.getLogger(__name__)

FORECAST_COLUMNS = {"sales": (s.CUSTOMER_ID, s.INVOICE, s.INVOICE_DATE, s.REVENUE),
                    "returns": (s.CUSTOMER_ID, s.REVENUE)}
"""The line columns ``forecast`` reads."""
MIN_REPEAT_CUSTOMERS = 20  # fewer customers with a repeat purchase: no fit (the estimates would be noise)
# Recoverable failures of a fit on odd data (the refresh publishes without predictions, with the reason).
_FIT_ERRORS = (ValueError, FloatingPointError, ArithmeticError, RuntimeError, np.linalg.LinAlgError)


@dataclass(frozen=True)
class Forecast:
    """What the models give before it is joined to the customers: each customer's predictions (None
    without a fit), the two backtest tables and the meta. Needs only the lines, so a refresh can compute it
    in a second process while it scores the customers (``build_snapshot``'s ``aside``)."""

    predicted: pd.DataFrame | None
    tables: dict[str, pd.DataFrame]
    meta: dict


@dataclass(frozen=True)
class Predictions:
    """The customers with the prediction columns, the two backtest tables and the meta."""

    customers: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    meta: dict


def predict_values(customers: pd.DataFrame, sales: pd.DataFrame, returns: pd.DataFrame, as_of: pd.Timestamp,
                   params: PredictiveParams, risk: RiskParams, currency: str) -> Predictions:
    """Fit, predict and backtest; explain the at-risk list: ``with_forecast(customers, forecast(...))``.

    Args:
        customers: the scored customers (customer_id, frequency, recency_days, usual_gap_days, at_risk,
            monetary, first_purchase, last_purchase).
        sales, returns: cleaned sale and return lines.
        as_of: the analysis date (exclusive end of the observation).
        params: ``predictive`` settings; risk: ``risk`` settings; currency: money symbol of the reasons.

    Raises:
        ConfigError: a negative holdout or discount rate.
    """
    return with_forecast(customers, forecast(sales, returns, as_of, params, risk), currency)


def forecast(sales: pd.DataFrame, returns: pd.DataFrame, as_of: pd.Timestamp, params: PredictiveParams,
             risk: RiskParams) -> Forecast:
    """Fit the models, predict every customer who bought, and backtest them (``predict_values``' arguments;
    ``sales`` needs customer_id, invoice, invoice_date and revenue, ``returns`` customer_id and revenue).

    Raises:
        ConfigError: a negative holdout or discount rate.
    """
    _check(params)
    meta: dict = {"enabled": params.enabled, "discount_rate_monthly": params.discount_rate_monthly,
                  "horizon_days": 90, "time_unit": "D", "purchase": "distinct purchase day"}
    predicted, tables = None, _empty_tables()
    if params.enabled:
        days = purchase_days(sales, returns)
        predicted, fits = _fit_and_predict(summarise_purchases(days, as_of), params)
        meta.update(fits)
        if params.holdout_days:
            tables, meta["backtest"] = _backtest(days, sales, as_of, params, risk)
    return Forecast(predicted=predicted, tables=tables, meta=meta)


def with_forecast(customers: pd.DataFrame, forecast: Forecast, currency: str) -> Predictions:
    """The customers with the prediction columns and the at-risk reasons (``currency``: their money symbol)."""
    with_predictions = _with_predictions(customers, forecast.predicted)
    meta = {**forecast.meta, "p_alive_published": bool(with_predictions["p_alive"].notna().any())}
    explained = with_predictions.assign(risk_reason=explain_risk(with_predictions, currency))
    return Predictions(customers=explained, tables=forecast.tables, meta=meta)


def _fit_and_predict(summary: pd.DataFrame, params: PredictiveParams) -> tuple[pd.DataFrame | None, dict]:
    repeat = int((summary["frequency"] > 0).sum())
    if repeat < MIN_REPEAT_CUSTOMERS:
        reason = f"only {repeat} customers bought on two days or more (at least {MIN_REPEAT_CUSTOMERS} needed)"
        return None, {"skipped": reason}
    try:
        bgnbd = fit_bgnbd(summary)
        gamma_gamma = fit_gamma_gamma(summary)
        predicted = predict_customers(summary, bgnbd, gamma_gamma, params.discount_rate_monthly)
    except _FIT_ERRORS as exc:
        log.warning("prediction models could not be fitted: %s", exc)
        return None, {"skipped": f"the models could not be fitted ({type(exc).__name__}: {exc})"}
    if bgnbd.degenerate:
        log.warning("BG/NBD fit is degenerate, P(alive) not published: %s", bgnbd.degenerate)
    return predicted, {"bgnbd": bgnbd.meta(), "gamma_gamma": gamma_gamma.meta()}


def _backtest(days: pd.DataFrame, sales: pd.DataFrame, as_of: pd.Timestamp, params: PredictiveParams,
              risk: RiskParams) -> tuple[dict[str, pd.DataFrame], dict]:
    split = as_of - pd.Timedelta(days=params.holdout_days)
    repeat = int((summarise_purchases(days, split)["frequency"] > 0).sum())
    if repeat < MIN_REPEAT_CUSTOMERS:
        return _empty_tables(), {"skipped": f"only {repeat} repeat customers before {split.date()}"}
    try:
        result = backtest_predictions(days, sales, as_of, params, risk)
    except _FIT_ERRORS as exc:
        log.warning("backtest failed: %s", exc)
        return _empty_tables(), {"skipped": f"the backtest models could not be fitted ({type(exc).__name__})"}
    return {"prediction_backtest": result.methods, "prediction_deciles": result.deciles}, result.meta


def _with_predictions(customers: pd.DataFrame, predicted: pd.DataFrame | None) -> pd.DataFrame:
    """Customers with the prediction columns (NaN without predictions), next-order date and value at stake.

    next_order_date = last purchase day + usual gap (the risk score's), for customers with two orders
    or more; value_at_stake = expected_value_12m of at-risk customers (their yearly_value without
    predictions), else 0.
    """
    names = ("expected_orders_90d", "expected_value_12m", "p_alive", "p_order_90d")
    if predicted is None:
        columns = {name: np.full(len(customers), np.nan) for name in names}
    else:  # each customer's row of the predictions (-1: none), looked up once for every column
        row = positions(pd.Index(predicted[s.CUSTOMER_ID]), customers[s.CUSTOMER_ID].astype("str"))
        columns = {name: np.append(predicted[name].to_numpy(dtype=float), np.nan)[row] for name in names}
    gap = pd.to_timedelta(customers["usual_gap_days"].round(), unit="D")  # empty for one-time buyers
    next_order = (customers["last_purchase"].dt.normalize() + gap).where(customers["frequency"] > 1)
    value = np.where(np.isnan(columns["expected_value_12m"]), yearly_value(customers).to_numpy(dtype=float),
                     columns["expected_value_12m"])
    at_stake = np.where(customers["at_risk"].to_numpy(dtype=bool), value, 0.0)
    return customers.assign(**columns, next_order_date=next_order, value_at_stake=at_stake)


def _empty_tables() -> dict[str, pd.DataFrame]:
    return {name: pd.DataFrame({c: pd.Series(dtype=_DTYPES[t]) for c, t in s.TABLES[name].items()})
            for name in ("prediction_backtest", "prediction_deciles")}


_DTYPES = {"str": "str", "int": "int64", "float": "float64"}


def _check(params: PredictiveParams) -> None:
    if params.holdout_days < 0:
        raise ConfigError(f"predictive.holdout_days must be 0 (no backtest) or more, got {params.holdout_days}.")
    if not 0 <= params.discount_rate_monthly < 1:
        raise ConfigError("predictive.discount_rate_monthly must be in [0, 1) (0.01 = 1 % a month), "
                          f"got {params.discount_rate_monthly}.")

