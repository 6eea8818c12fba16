"""Backtest of the predictions, in every refresh: fit on the past, predict a held-out period, compare.

The models are fitted on the purchase days before ``split`` = as-of − holdout; the customers known
then get predictions for the holdout, which are compared with what they did (customers whose first
purchase falls inside the holdout are not scored: nothing was predicted for them).

- orders: total predicted vs actual purchase days, per-customer mean absolute error (MAE);
- value: total predicted vs actual net value (predicted = expected orders × expected order value);
- AUC of "buys again in the holdout" (probability that a random buyer scores above a random
  non-buyer; ties count half; 0.5 = chance) for each ranking;
- risk: among the customers of high value at the split (the at-risk list's population), the
  precision@k of "did not buy in the holdout" for the k first of each ranking, k = the size of the
  at-risk list at the split. The ranking with the best precision@k becomes the default risk ranking
  (ties: the simpler one, in the order of ``RISK_RANKINGS``).

Naive baselines: the customer's own past rate (repeat purchase days per day since their first,
times the holdout days; the same for value), and rankings by frequency and by recency alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analytics import schema as s
from analytics._categories import positions
from analytics.predictive import (
    fit_bgnbd,
    fit_gamma_gamma,
    predict_customers,
    summarise_purchases,
)
from analytics.rfm import summarise_customers
from analytics.risk import score_risk
from analytics.settings import PredictiveParams, RiskParams

__all__ = ["RISK_RANKINGS", "Backtest", "auc", "backtest_predictions", "decile_table", "precision_at_k"]

# Rankings of "did not buy in the holdout", simplest first (ties keep the earlier one).
RISK_RANKINGS = {
    "recency": "days since the last purchase",
    "rhythm": "risk score: days since the last purchase against the usual gap",
    "bgnbd": "BG/NBD: probability of no order in the holdout",
}
METHOD_LABELS = {
    "bgnbd": "BG/NBD + Gamma-Gamma (expected orders)",
    "own_rate": "own past rate (repeat days per day × holdout)",
    "frequency": "rank by frequency (purchase days)",
    "recency": "rank by recency (most recent first)",
    "rhythm": "rank by rhythm (risk score, lowest first)",
}


@dataclass(frozen=True)
class Backtest:
    """The figures of one backtest: a table per method, the calibration by decile, and the meta."""

    methods: pd.DataFrame  # prediction_backtest table
    deciles: pd.DataFrame  # prediction_deciles table
    meta: dict


def backtest_predictions(days: pd.DataFrame, sales: pd.DataFrame, as_of: pd.Timestamp,
                         params: PredictiveParams, risk: RiskParams) -> Backtest:
    """Fit on the purchase days before as-of − holdout, predict the holdout, score the predictions.

    Args:
        days: :func:`analytics.predictive.purchase_days` of the whole period.
        sales: cleaned sale lines (the at-risk list at the split is rebuilt from them).
        as_of: end of the holdout (exclusive).
        params: ``predictive`` settings (holdout_days, discount_rate_monthly).
        risk: risk settings (the at-risk list at the split).
    """
    split = as_of - pd.Timedelta(days=params.holdout_days)
    calibration = summarise_purchases(days, split)
    bgnbd, gamma_gamma = fit_bgnbd(calibration), fit_gamma_gamma(calibration)
    predicted = predict_customers(calibration, bgnbd, gamma_gamma, params.discount_rate_monthly,
                                  horizon_days=params.holdout_days)
    scored = _with_actuals(calibration, predicted, days, split, as_of, params.holdout_days)
    scored = _with_rhythm(scored, sales, split, risk)
    methods = _method_table(scored)
    pool = scored[scored["high_value"]]
    k = int(scored["at_risk"].sum())
    precision = {name: precision_at_k(pool[f"risk_{name}"], ~pool["bought"], k) for name in RISK_RANKINGS}
    best = max(RISK_RANKINGS, key=lambda name: (_or_minus(precision[name]), -list(RISK_RANKINGS).index(name)))
    methods = methods.assign(risk_precision_at_k=methods["method"].map(precision).astype(float))
    new_customers = int(days.loc[(days["day"] >= split) & (days["day"] < as_of), s.CUSTOMER_ID]
                        .drop_duplicates().isin(calibration[s.CUSTOMER_ID]).eq(False).sum())
    meta = {
        "split_date": split.date().isoformat(), "holdout_end": as_of.date().isoformat(),
        "holdout_days": params.holdout_days, "customers": len(scored), "new_customers_not_scored": new_customers,
        "buyers": int(scored["bought"].sum()),
        "bgnbd": bgnbd.meta(), "gamma_gamma": gamma_gamma.meta(),
        "orders": _row_meta(methods, "bgnbd", "orders"), "orders_baseline": _row_meta(methods, "own_rate", "orders"),
        "value": _row_meta(methods, "bgnbd", "value"), "value_baseline": _row_meta(methods, "own_rate", "value"),
        "auc": {str(name): _none(float(value)) for name, value in zip(methods["method"], methods["auc"])},
        "risk": {"k": k, "high_value_customers": len(pool),
                 "precision_at_k": {n: _none(v) for n, v in precision.items()},
                 "default_ranking": best, "default_ranking_label": RISK_RANKINGS[best],
                 "target": f"did not buy in the {params.holdout_days} days after the split"},
    }
    return Backtest(methods=methods[list(s.TABLES["prediction_backtest"])],
                    deciles=decile_table(scored), meta=meta)


def auc(scores: pd.Series, labels: pd.Series) -> float:
    """Area under the ROC curve of ``scores`` for boolean ``labels`` (ties count half); NaN if one class.

    >>> auc(pd.Series([0.9, 0.8, 0.1, 0.1]), pd.Series([True, False, True, False]))
    0.625
    """
    positive = labels.to_numpy(dtype=bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if not n_pos or not n_neg:
        return float("nan")
    ranks = scores.rank(method="average").to_numpy(dtype=float)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def precision_at_k(scores: pd.Series, labels: pd.Series, k: int) -> float:
    """Share of true labels among the ``k`` highest scores (ties by position); NaN when k or the pool is 0."""
    k = min(k, len(scores))
    if k <= 0:
        return float("nan")
    order = np.argsort(-scores.to_numpy(dtype=float), kind="stable")[:k]
    return float(labels.to_numpy(dtype=bool)[order].mean())


def decile_table(scored: pd.DataFrame) -> pd.DataFrame:
    """Mean predicted vs actual orders and value by decile of predicted orders (1 = lowest).

    Args:
        scored: one row per customer with predicted_orders, actual_orders, predicted_value, actual_value.
    """
    if scored.empty:
        return pd.DataFrame({c: [] for c in s.TABLES["prediction_deciles"]})
    order = scored["predicted_orders"].rank(method="first")
    decile = np.ceil(order * 10 / len(scored)).astype("int64").clip(1, 10)
    grouped = scored.assign(decile=decile).groupby("decile", sort=True)
    table = grouped.agg(customers=(s.CUSTOMER_ID, "size"), predicted_orders=("predicted_orders", "mean"),
                        actual_orders=("actual_orders", "mean"), predicted_value=("predicted_value", "mean"),
                        actual_value=("actual_value", "mean"))
    return table.reset_index()[list(s.TABLES["prediction_deciles"])]


def _with_actuals(calibration: pd.DataFrame, predicted: pd.DataFrame, days: pd.DataFrame, split: pd.Timestamp,
                  as_of: pd.Timestamp, holdout: int) -> pd.DataFrame:
    """Predictions, naive baselines and what happened, per customer known at the split."""
    held = days[((days["day"] >= split) & (days["day"] < as_of)).to_numpy()]
    who = positions(pd.Index(calibration[s.CUSTOMER_ID]), held[s.CUSTOMER_ID])  # -1: new in the holdout
    known = who >= 0
    actual_orders = np.bincount(who[known], minlength=len(calibration)).astype(float)
    actual_value = (held["value"][known].groupby(who[known]).sum()  # summed in day order, per customer
                    .reindex(np.arange(len(calibration)), fill_value=0.0).to_numpy(dtype=float))
    per_day = holdout / calibration["T"].clip(lower=1)
    return calibration.assign(
        predicted_orders=predicted["expected_orders_90d"].to_numpy(),
        predicted_value=(predicted["expected_orders_90d"] * predicted["expected_order_value"]).to_numpy(),
        p_order=predicted["p_order_90d"].to_numpy(),
        own_rate_orders=calibration["frequency"] * per_day,
        own_rate_value=calibration["frequency"] * calibration["monetary_value"] * per_day,
        actual_orders=actual_orders, actual_value=actual_value, bought=actual_orders > 0,
        recency_at_split=(split - calibration["last_day"]).dt.days.astype(float),
    )


def _with_rhythm(scored: pd.DataFrame, sales: pd.DataFrame, split: pd.Timestamp, risk: RiskParams) -> pd.DataFrame:
    """The at-risk scoring of the pipeline, as it stood at the split, and the three risk rankings."""
    before = sales[(sales[s.INVOICE_DATE] < split).to_numpy()]
    customers = score_risk(summarise_customers(before[[s.CUSTOMER_ID, s.INVOICE, s.INVOICE_DATE, s.REVENUE]],
                                                split), risk)
    value = (customers["monetary"].rank(pct=True) + customers["frequency"].rank(pct=True)) / 2
    row = positions(pd.Index(customers[s.CUSTOMER_ID].astype("str")), scored[s.CUSTOMER_ID])  # -1: not a customer
    known = row >= 0  # at the split (each customer's row found once, not once per column)

    def at_split(column: np.ndarray, missing: Any) -> np.ndarray:
        return np.where(known, column[row], missing)

    risk_score = at_split(customers["risk_score"].to_numpy(dtype=float), 0.0)
    return scored.assign(
        risk_score=risk_score, at_risk=at_split(customers["at_risk"].to_numpy(dtype=bool), False),
        high_value=at_split((value >= risk.min_value_score).to_numpy(), False),
        risk_recency=scored["recency_at_split"], risk_bgnbd=1 - scored["p_order"],
        risk_rhythm=risk_score + scored["recency_at_split"].to_numpy() * 1e-6,  # equal scores: the longer silence first
    )


def _method_table(scored: pd.DataFrame) -> pd.DataFrame:
    """One row per method: totals and MAE (predicting methods), AUC of buying again (all)."""
    bought = scored["bought"]
    rows = []
    for method, orders, value, score in (
        ("bgnbd", "predicted_orders", "predicted_value", scored["predicted_orders"]),
        ("own_rate", "own_rate_orders", "own_rate_value", scored["own_rate_orders"]),
        ("frequency", None, None, scored["frequency"].astype(float)),
        ("recency", None, None, -scored["recency_at_split"]),
        ("rhythm", None, None, -scored["risk_rhythm"]),
    ):
        row = {"method": method, "label": METHOD_LABELS[method], "customers": len(scored),
               "auc_buys_again": auc(score, bought)}
        for target, column in (("orders", orders), ("value", value)):
            actual = scored[f"actual_{target}"]
            row[f"{target}_predicted"] = float(scored[column].sum()) if column else float("nan")
            row[f"{target}_actual"] = float(actual.sum())
            row[f"{target}_mae"] = float((scored[column] - actual).abs().mean()) if column else float("nan")
        rows.append(row)
    return pd.DataFrame(rows).rename(columns={"auc_buys_again": "auc"})


def _row_meta(methods: pd.DataFrame, method: str, target: str) -> dict:
    row = methods[methods["method"] == method].iloc[0]
    return {"predicted": _none(float(row[f"{target}_predicted"])), "actual": _none(float(row[f"{target}_actual"])),
            "mae": _none(float(row[f"{target}_mae"]))}


def _none(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def _or_minus(value: float) -> float:
    return value if np.isfinite(value) else -1.0
