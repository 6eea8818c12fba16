"""BG/NBD and Gamma-Gamma fits (pymc-marketing, flat priors = maximum likelihood), purchase-day summaries.

The CDNOW reference: Fader, Hardie & Lee (2005) and Fader & Hardie's Gamma-Gamma note report, for the
2,357-customer CDNOW sample with a 39-week calibration (weeks), r = 0.243, α = 4.414, a = 0.793, b = 2.426,
LL = −9582.43 and p = 6.25, q = 3.74, γ = 15.44, LL = −4055.92 (tests/data/README.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize
from scipy.special import betaln, gammaln

from analytics import predictive
from analytics.predictive import (
    degenerate_reason,
    fit_bgnbd,
    fit_gamma_gamma,
    predict_customers,
    purchase_days,
    summarise_purchases,
)

CDNOW = Path(__file__).resolve().parents[1] / "data" / "cdnow_summary.csv"


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    raw = pd.read_csv(CDNOW)
    return pd.DataFrame({"customer_id": raw["ID"].astype(str), "frequency": raw["x"], "recency": raw["t_x"],
                         "T": raw["T"], "monetary_value": raw["zbar"]})


@pytest.fixture(scope="module")
def cdnow_bgnbd(cdnow):
    return fit_bgnbd(cdnow)


def test_cdnow_bgnbd_reproduces_the_published_estimates(cdnow, cdnow_bgnbd):
    assert len(cdnow) == 2357
    fit = cdnow_bgnbd
    assert fit.params["r"] == pytest.approx(0.243, abs=5e-4)
    assert fit.params["alpha"] == pytest.approx(4.414, abs=5e-3)
    assert fit.params["a"] == pytest.approx(0.793, abs=5e-4)
    assert fit.params["b"] == pytest.approx(2.426, abs=5e-3)
    assert fit.log_likelihood == pytest.approx(-9582.43, abs=0.01)
    assert fit.degenerate is None
    assert fit.meta()["time_unit"] == "D"  # our unit; the CDNOW figures are in weeks, the model is unit-free


def test_cdnow_gamma_gamma_reproduces_the_published_estimates(cdnow):
    fit = fit_gamma_gamma(cdnow)
    assert fit.customers == 946  # repeat customers (x > 0) of the sample
    assert fit.params["p"] == pytest.approx(6.25, abs=5e-3)
    assert fit.params["q"] == pytest.approx(3.74, abs=5e-3)
    assert fit.params["v"] == pytest.approx(15.44, abs=0.01)
    assert fit.log_likelihood == pytest.approx(-4055.92, abs=0.01)


def _bgnbd_negative_ll(log_params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> float:
    """Fader, Hardie & Lee (2005) eq. 6, written independently of pymc-marketing."""
    r, alpha, a, b = np.exp(log_params)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.where(x > 0, np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + t_x), -np.inf)
    return -float(np.sum(a1 + a2 + np.logaddexp(a3, a4)))


def test_cdnow_bgnbd_matches_an_independent_scipy_maximum_likelihood(cdnow, cdnow_bgnbd):
    x, t_x, T = (cdnow[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    best = minimize(_bgnbd_negative_ll, np.zeros(4), args=(x, t_x, T), method="Nelder-Mead",
                    options={"xatol": 1e-8, "fatol": 1e-8, "maxiter": 5000})
    ours = cdnow_bgnbd
    assert -best.fun == pytest.approx(ours.log_likelihood, abs=1e-3)
    for name, value in zip(("r", "alpha", "a", "b"), np.exp(best.x)):
        assert ours.params[name] == pytest.approx(value, rel=1e-3)


def test_cdnow_predictions_match_the_paper(cdnow, cdnow_bgnbd):
    gamma_gamma = fit_gamma_gamma(cdnow)
    # Fader-Hardie-Lee (2005), section 4: a customer with x = 2, t_x = 30.43, T = 38.86 (customer 1) is
    # expected to make 1.226 purchases in the next 39 weeks; here time is weeks, so horizon 39.
    day = pd.Timestamp("1997-01-01")
    predicted = predict_customers(cdnow.assign(first_day=day, last_day=day, usual_gap_days=np.nan).head(1),
                                  cdnow_bgnbd, gamma_gamma, discount_rate_monthly=0.0, horizon_days=39)
    assert predicted["expected_orders_90d"].iloc[0] == pytest.approx(1.226, abs=2e-3)
    assert 0 < predicted["p_alive"].iloc[0] < 1


def _never_leaving() -> pd.DataFrame:
    """200 customers who each buy every 5 to 24 days up to the end of the observation: nobody drops out."""
    T = 100.0 + np.arange(200)
    gap = 5 + np.arange(200) % 20
    frequency = (T // gap).astype("int64")
    return pd.DataFrame({"customer_id": [f"c{i}" for i in range(200)], "frequency": frequency,
                         "recency": frequency * gap.astype(float), "T": T, "monetary_value": 20.0,
                         "usual_gap_days": gap.astype(float)})


def test_a_no_dropout_fit_is_flagged_degenerate():
    fit = fit_bgnbd(_never_leaving())
    share = fit.params["a"] / (fit.params["a"] + fit.params["b"])
    assert share < 1e-3
    assert fit.degenerate is not None and "no-dropout boundary" in fit.degenerate
    assert fit.meta()["degenerate"] is True


def test_predictions_of_a_degenerate_fit_carry_no_p_alive():
    data = _never_leaving().assign(first_day=pd.Timestamp("2011-01-01"), last_day=pd.Timestamp("2011-04-01"))
    bgnbd, gamma_gamma = fit_bgnbd(data), fit_gamma_gamma(data.assign(monetary_value=20.0 + np.arange(200) % 7))
    predicted = predict_customers(data, bgnbd, gamma_gamma, discount_rate_monthly=0.01)
    assert predicted["p_alive"].isna().all()
    # without dropout BG/NBD is the NBD: E[orders in t] = t (r + x) / (α + T), the gamma posterior mean rate
    r, alpha = bgnbd.params["r"], bgnbd.params["alpha"]
    expected = 90 * (r + data["frequency"]) / (alpha + data["T"])
    assert predicted["expected_orders_90d"].to_numpy() == pytest.approx(expected.to_numpy(), rel=1e-3)


@pytest.mark.parametrize(("params", "degenerate"), [
    ({"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.43}, False),
    ({"r": 0.8, "alpha": 69.0, "a": 0.0087, "b": 19.6}, True),   # a/(a+b) = 0.00044 < 0.001
    ({"r": 0.8, "alpha": 69.0, "a": 0.5, "b": 2e4}, True),       # b → ∞
    ({"r": 0.8, "alpha": float("nan"), "a": 0.5, "b": 2.0}, True),
])
def test_degenerate_reason(params, degenerate):
    assert (degenerate_reason(params) is not None) is degenerate


def test_purchase_days_and_summary_by_hand():
    sales = pd.DataFrame({
        "customer_id": ["A", "A", "A", "A", "B"],
        "invoice_date": pd.to_datetime(["2011-01-01 09:00", "2011-01-01 15:00", "2011-01-11 10:00",
                                        "2011-01-21 10:00", "2011-01-15 12:00"]),
        "revenue": [10.0, 30.0, 60.0, 100.0, 50.0],
    })
    returns = pd.DataFrame({"customer_id": ["A"], "revenue": [-40.0]})
    days = purchase_days(sales, returns)
    # A: 3 distinct days (two invoices on Jan 1 are one purchase): 40, 60, 100; gross 200, returned 40
    # → kept share 0.8 → 32, 48, 80. B: one day, 50, no returns.
    assert days["value"].tolist() == pytest.approx([32.0, 48.0, 80.0, 50.0])
    summary = summarise_purchases(days, pd.Timestamp("2011-02-01")).set_index("customer_id")
    # A: frequency 2 repeat days, recency Jan 21 − Jan 1 = 20, T = Feb 1 − Jan 1 = 31,
    #    monetary = mean of the repeat days (48 + 80) / 2 = 64, usual gap 20 / 2 = 10
    assert summary.loc["A", ["frequency", "recency", "T", "monetary_value", "usual_gap_days"]].tolist() == \
        [2, 20.0, 31.0, 64.0, 10.0]
    # B: one-time buyer, T = Feb 1 − Jan 15 = 17; no repeat value, no rhythm
    assert summary.loc["B", ["frequency", "recency", "T", "monetary_value"]].tolist() == [0, 0.0, 17.0, 0.0]
    assert np.isnan(summary.loc["B", "usual_gap_days"])
    # a split on Jan 15: A has two days before it (recency 10, T 14); B is not known yet
    early = summarise_purchases(days, pd.Timestamp("2011-01-15")).set_index("customer_id")
    assert list(early.index) == ["A"]
    assert early.loc["A", ["frequency", "recency", "T"]].tolist() == [1, 10.0, 14.0]


def test_fits_use_a_seeded_sample_of_many_customers_in_their_order(monkeypatch):
    customers = pd.DataFrame({"customer_id": list("abcdefgh"), "frequency": np.arange(8), "recency": 1.0, "T": 9.0})
    data, meta = predictive._fit_input(customers, ["frequency", "recency", "T"])
    assert meta == {} and data["frequency"].tolist() == list(range(8))  # few customers: all of them
    assert data["customer_id"].tolist() == list(range(8))  # numbered by position for pymc-marketing
    monkeypatch.setattr(predictive, "MAX_FIT_CUSTOMERS", 3)
    data, meta = predictive._fit_input(customers, ["frequency", "recency", "T"])
    again, _ = predictive._fit_input(customers, ["frequency", "recency", "T"])
    assert meta == {"sampled_from": 8} and len(data) == 3 and data["customer_id"].tolist() == [0, 1, 2]
    chosen = data["frequency"].tolist()
    assert chosen == sorted(chosen) and len(set(chosen)) == 3  # distinct customers, kept in their order
    assert again["frequency"].tolist() == chosen  # the same sample on every run
