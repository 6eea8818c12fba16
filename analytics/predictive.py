"""Predicted customer value: BG/NBD purchase counts and Gamma-Gamma order values (pymc-marketing).

Both models are fitted by maximum likelihood: pymc-marketing's MAP fit with flat priors on every
parameter (``find_MAP`` drops the Jacobian of the log transform, so MAP = maximum likelihood). The
library's default priors are not flat and would shift the estimates.

Inputs follow Fader, Hardie & Lee (2005), with the **day** as the time unit and a purchase = a
distinct purchase day of a customer (several invoices of one day are one purchase):

- frequency = purchase days − 1 (repeat purchases), recency = last − first purchase day (days),
  T = end − first purchase day (days; ``end`` is the exclusive end of the observation, the as-of date);
- monetary_value = mean net value of the repeat purchase days (the first day left out, as in the
  Gamma-Gamma paper); a day's net value = its sales × (1 − the customer's returned share).

A BG/NBD fit is *degenerate* when the dropout process vanishes (a → 0, b → ∞, or a/(a+b) ≈ 0: the
"no dropout" boundary): then P(alive) ≈ 1 for every customer by construction, and it is published as
null with the reason, never as churn risk. pymc-marketing is imported inside the fitting functions:
it costs seconds to import (docs/PERFORMANCE.md). A process keeps its last fits by content of their
input, so a refresh of unchanged data (the scheduler, the test session) refits nothing.

With very many customers, each model is fitted on a seeded random sample of at most
``MAX_FIT_CUSTOMERS`` of the customers it would use (the same sample on every run of the same data;
four parameters are estimated to a fraction of a percent well before that), and predictions are made
for every customer; the meta then records ``sampled_from``. Customers are handed to pymc-marketing by
position, not by id (text ids make its xarray alignment five times slower; the figures are the same).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from analytics import schema as s
from analytics._categories import as_text, categorical, first_occurrence, positions, sorted_codes

__all__ = [
    "FitResult",
    "degenerate_reason",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "predict_customers",
    "purchase_days",
    "summarise_purchases",
]

log = logging.getLogger(__name__)

TIME_UNIT = "D"
# Thresholds of the "no dropout" boundary: the mean dropout probability after a purchase, a/(a+b), below
# 1 in 1,000, or a or b at the edge of what the optimiser can represent.
MIN_DROPOUT_SHARE = 1e-3
MIN_SHAPE, MAX_SHAPE = 1e-4, 1e4
FIT_CACHE_SIZE = 4  # fits kept per process, by content of their input: a refresh of unchanged data refits nothing
MAX_PARAMETER = 1e6  # r or alpha beyond this: the purchase rates have no spread the model can fit
MAX_FIT_CUSTOMERS = 100_000  # a larger population is fitted on a seeded random sample of this many customers
_SAMPLE_SEED = 0


@dataclass(frozen=True)
class FitResult:
    """A fitted model: its maximum-likelihood parameters, log-likelihood and health."""

    model: Any  # the fitted pymc-marketing model (predictions); None when the fit failed
    params: dict[str, float]
    log_likelihood: float
    customers: int
    seconds: float
    degenerate: str | None = None  # why the fit cannot be trusted (None: fine)
    extra: dict[str, Any] = field(default_factory=dict)

    def meta(self) -> dict[str, Any]:
        """The figures published in the snapshot meta (no NaN: JSON null)."""
        return {**{k: _finite(v) for k, v in self.params.items()},
                "log_likelihood": _finite(self.log_likelihood), "time_unit": TIME_UNIT,
                "customers": self.customers, "fit_seconds": round(self.seconds, 2),
                "degenerate": self.degenerate is not None, "degenerate_reason": self.degenerate, **self.extra}


def purchase_days(sales: pd.DataFrame, returns: pd.DataFrame) -> pd.DataFrame:
    """One row per customer and purchase day, valued net of the customer's returns.

    Args:
        sales: cleaned sale lines (customer_id, invoice_date, revenue).
        returns: cleaned return lines (customer_id, revenue < 0) of the same period.

    Returns:
        customer_id (categorical: the customers with a sale), day (midnight), value = the day's sales ×
        (1 − returned share of the customer), the returned share being min(returns / sales, 1) over the
        period; sorted by customer and day.
    """
    customer, ids = sorted_codes(sales[s.CUSTOMER_ID])  # codes sort like the ids
    dates = sales[s.INVOICE_DATE]
    day_number = dates.to_numpy().astype("datetime64[D]").astype(np.int64)
    first_day = int(day_number.min()) if len(day_number) else 0
    key = customer * (int(day_number.max()) - first_day + 1 if len(day_number) else 1) + (day_number - first_day)
    # one group per (customer, day), in that order, summed in line order as groupby([customer_id, day]) did
    value = pd.Series(sales[s.REVENUE].to_numpy(dtype=float)).groupby(key, sort=True).sum().to_numpy()
    first_line = np.flatnonzero(first_occurrence(key))
    first_line = first_line[np.argsort(key[first_line], kind="stable")]  # in the order of the groups
    who = customer[first_line]
    day = pd.Series(dates.to_numpy()[first_line]).dt.normalize().to_numpy()
    gross = pd.Series(value).groupby(who, sort=True).sum()
    back = pd.Series(-returns[s.REVENUE].to_numpy(dtype=float) if len(returns) else np.zeros(0))
    found = positions(ids, returns[s.CUSTOMER_ID]) if len(returns) else np.zeros(0, dtype=np.int64)
    back = back[found >= 0].groupby(found[found >= 0]).sum().reindex(gross.index, fill_value=0.0)
    kept = (1 - (back / gross.where(gross > 0)).clip(0, 1)).fillna(0.0)
    return pd.DataFrame({
        s.CUSTOMER_ID: categorical(who, pd.Index(as_text(ids))),
        "day": day, "value": value * kept.reindex(who).to_numpy(dtype=float),
    })


def summarise_purchases(days: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """The BG/NBD and Gamma-Gamma inputs per customer from the purchase days before ``end``.

    Returns:
        customer_id, frequency (repeat purchase days), recency, T (days), monetary_value (mean net
        value of the repeat days; 0 without any), first_day, last_day, usual_gap_days (recency /
        frequency; NaN for one-time buyers) — customers whose first purchase is before ``end``.
    """
    before = days[(days["day"] < end).to_numpy()]
    customer, ids = sorted_codes(before[s.CUSTOMER_ID])  # codes sort like the ids
    grouped = before.groupby(customer, sort=True)
    first, last = grouped["day"].min(), grouped["day"].max()
    count = grouped.size()
    repeat_value = grouped["value"].sum() - grouped["value"].first()
    frequency = (count - 1).astype("int64")
    recency = (last - first).dt.days.astype(float)
    summary = pd.DataFrame({
        "frequency": frequency, "recency": recency, "T": (end - first).dt.days.astype(float),
        "monetary_value": (repeat_value / frequency.where(frequency > 0)).fillna(0.0).clip(lower=0.0),
        "first_day": first, "last_day": last,
        "usual_gap_days": recency / frequency.where(frequency > 0),
    })
    summary.index = pd.Index(as_text(ids.take(summary.index.to_numpy())), name=s.CUSTOMER_ID)
    return summary.reset_index()


def fit_bgnbd(summary: pd.DataFrame) -> FitResult:
    """Fit BG/NBD by maximum likelihood (pymc-marketing ``BetaGeoModel``, MAP with flat priors).

    Args:
        summary: customer_id, frequency, recency, T (:func:`summarise_purchases`); above
            ``MAX_FIT_CUSTOMERS`` customers, a seeded random sample of them is fitted.
    """
    from pymc_extras.prior import Prior
    from pymc_marketing.clv import BetaGeoModel

    flat = {name: Prior("HalfFlat") for name in ("r", "alpha", "a", "b")}
    data, sampled = _fit_input(summary, ["frequency", "recency", "T"])
    cached = _FITS.get(_key("bgnbd", data))
    if cached is not None:
        return replace(cached, extra={**cached.extra, "reused": True})
    model, seconds = _fit(BetaGeoModel(model_config=flat), data)
    params = {name: _scalar(model.fit_result[name]) for name in ("r", "alpha", "a", "b")}
    return _remember(_key("bgnbd", data), FitResult(
        model=model, params=params, log_likelihood=_log_likelihood(model, params), customers=len(data),
        seconds=seconds, degenerate=degenerate_reason(params), extra=sampled))


def fit_gamma_gamma(summary: pd.DataFrame) -> FitResult:
    """Fit Gamma-Gamma by maximum likelihood on the repeat customers with a positive mean value.

    Args:
        summary: customer_id, frequency, monetary_value (:func:`summarise_purchases`); above
            ``MAX_FIT_CUSTOMERS`` such customers, a seeded random sample of them is fitted.
    """
    from pymc_extras.prior import Prior
    from pymc_marketing.clv import GammaGammaModel

    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    data, sampled = _fit_input(repeat, ["frequency", "monetary_value"])
    flat = {name: Prior("HalfFlat") for name in ("p", "q", "v")}
    cached = _FITS.get(_key("gamma_gamma", data))
    if cached is not None:
        return replace(cached, extra={**cached.extra, "reused": True})
    model, seconds = _fit(GammaGammaModel(model_config=flat), data)
    params = {name: _scalar(model.fit_result[name]) for name in ("p", "q", "v")}
    reason = None if params["q"] > 1 else f"q = {params['q']:.3g} ≤ 1: the mean order value is infinite"
    return _remember(_key("gamma_gamma", data), FitResult(
        model=model, params=params, log_likelihood=_log_likelihood(model, params), customers=len(data),
        seconds=seconds, degenerate=reason, extra=sampled))


def degenerate_reason(params: dict[str, float]) -> str | None:
    """Why a BG/NBD fit sits at a boundary where P(alive) means nothing, or None when it does not.

    >>> degenerate_reason({"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.43}) is None
    True
    """
    if not all(math.isfinite(v) and v > 0 for v in params.values()):
        return "the fit did not converge (a parameter is not a finite positive number)"
    if max(params["r"], params["alpha"]) > MAX_PARAMETER:
        return (f"r = {params['r']:.3g}, alpha = {params['alpha']:.3g}: the purchase rates show no spread the "
                "model can fit")
    a, b = params["a"], params["b"]
    share = a / (a + b)
    if share < MIN_DROPOUT_SHARE or a < MIN_SHAPE or b > MAX_SHAPE:
        return (f"no-dropout boundary: a = {a:.3g}, b = {b:.3g}, a/(a+b) = {share:.2g} (chance of dropping out "
                "after a purchase ≈ 0), so P(alive) ≈ 1 for everyone by construction")
    return None


def predict_customers(summary: pd.DataFrame, bgnbd: FitResult, gamma_gamma: FitResult,
                      discount_rate_monthly: float, horizon_days: int = 90) -> pd.DataFrame:
    """Per-customer predictions from fitted models.

    Returns:
        customer_id, expected_orders_90d (purchase days in the next ``horizon_days``),
        expected_order_value (Gamma-Gamma, net), expected_value_12m (12-month CLV, discounted monthly),
        p_alive (NaN when the BG/NBD fit is degenerate), p_order_90d (probability of at least one
        order in the horizon), next_order_date (last purchase day + usual gap; NaT for one-time buyers).
    """
    from pymc_marketing.clv.utils import customer_lifetime_value

    bg = bgnbd.model
    data = _by_position(summary, ["frequency", "recency", "T", "monetary_value"])
    ids = data[s.CUSTOMER_ID]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        orders = _values(bg.expected_purchases(data=data, future_t=horizon_days), ids)
        no_order = _values(bg.expected_probability_no_purchase(t=horizon_days, data=data), ids)
        alive = _values(bg.expected_probability_alive(data=data), ids)
        spend = _values(gamma_gamma.model.expected_customer_spend(data=data), ids)
        clv = _values(customer_lifetime_value(transaction_model=bg, data=data.assign(future_spend=spend),
                                              future_t=12, discount_rate=discount_rate_monthly,
                                              time_unit=TIME_UNIT), ids)
    gap = pd.to_timedelta(summary["usual_gap_days"].round(), unit="D")
    return pd.DataFrame({
        s.CUSTOMER_ID: summary[s.CUSTOMER_ID].to_numpy(),
        "expected_orders_90d": orders, "expected_order_value": spend, "expected_value_12m": clv,
        "p_alive": np.nan if bgnbd.degenerate else alive, "p_order_90d": 1 - no_order,
        "next_order_date": (summary["last_day"] + gap).to_numpy(),
    })


_FITS: dict[str, FitResult] = {}


def _fit_input(customers: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The customers a model is fitted on (all, or a seeded random sample of ``MAX_FIT_CUSTOMERS`` in their
    order), numbered by position, and the meta of the sample (``sampled_from``: the population's size)."""
    if len(customers) <= MAX_FIT_CUSTOMERS:
        return _by_position(customers, columns), {}
    chosen = np.random.default_rng(_SAMPLE_SEED).choice(len(customers), size=MAX_FIT_CUSTOMERS, replace=False)
    return _by_position(customers.iloc[np.sort(chosen)], columns), {"sampled_from": len(customers)}


def _by_position(customers: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The columns with customer_id = 0, 1, 2…: pymc-marketing aligns its arrays on customer_id, which is
    five times slower with text ids (the figures do not depend on the ids)."""
    return pd.DataFrame({s.CUSTOMER_ID: np.arange(len(customers)),
                         **{name: customers[name].to_numpy() for name in columns}})


def _key(kind: str, data: pd.DataFrame) -> str:
    """The content hash of a fit's input (its figures, customer by customer)."""
    digest = hashlib.sha256(kind.encode())
    digest.update(pd.util.hash_pandas_object(data, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def _remember(key: str, fit: FitResult) -> FitResult:
    if len(_FITS) >= FIT_CACHE_SIZE:
        _FITS.pop(next(iter(_FITS)))
    _FITS[key] = fit
    return fit


def _fit(model: Any, data: pd.DataFrame) -> tuple[Any, float]:
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(data=data, method="map", progressbar=False)
    seconds = time.perf_counter() - start
    log.debug("fitted %s on %d customers in %.2f s", type(model).__name__, len(data), seconds)
    return model, seconds


def _log_likelihood(model: Any, params: dict[str, float]) -> float:
    """The model's log-likelihood at the fitted parameters (flat priors add nothing; no Jacobian)."""
    point = {f"{name}_log__": math.log(value) for name, value in params.items() if value > 0}
    if len(point) != len(params):
        return float("nan")
    return float(model.model.compile_logp(jacobian=False)(point))


def _values(array: Any, ids: pd.Series) -> np.ndarray:
    """A MAP prediction (chain, draw, customer_id) as an array in the order of ``ids`` (already in that order
    when pymc-marketing kept the input's: then no lookup by id)."""
    squeezed = array.squeeze([d for d in ("chain", "draw") if d in array.dims])
    if not np.array_equal(squeezed["customer_id"].to_numpy(), ids.to_numpy()):
        squeezed = squeezed.sel(customer_id=ids.to_numpy())
    return np.asarray(squeezed.values, dtype=float)


def _scalar(array: Any) -> float:
    return float(np.asarray(array.values, dtype=float).reshape(-1)[0])


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None
