"""Predicted customer value on the bundled data, as the refresh publishes it (snapshot meta and tables)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from analytics.backtest import RISK_RANKINGS
from analytics.settings import load_settings
from analytics.snapshot import parse_manifest, verify_table
from jobs.store import open_store


@pytest.fixture(scope="module")
def snapshot(published_store):
    settings = load_settings({})
    store = open_store(type(settings.store)(url=published_store))
    manifest = parse_manifest(store.read_manifest(store.current_version()))
    tables = {name: verify_table(manifest, name, store.read_table(manifest["version"], name))
              for name in ("customers", "prediction_backtest", "prediction_deciles")}
    return manifest, tables


def test_bgnbd_fit_on_the_bundled_data_is_flagged_degenerate_and_p_alive_is_not_published(snapshot):
    manifest, tables = snapshot
    meta = manifest["predictive"]
    assert meta["enabled"] is True and meta["bgnbd"]["time_unit"] == "D"
    assert set(meta["bgnbd"]) >= {"r", "alpha", "a", "b", "log_likelihood", "time_unit"}
    assert set(meta["gamma_gamma"]) >= {"p", "q", "v", "log_likelihood", "time_unit"}
    assert meta["bgnbd"]["degenerate"] is True and "no-dropout boundary" in meta["bgnbd"]["degenerate_reason"]
    assert meta["bgnbd"]["a"] / (meta["bgnbd"]["a"] + meta["bgnbd"]["b"]) < 1e-3
    assert meta["p_alive_published"] is False
    assert tables["customers"]["p_alive"].isna().all()


def test_every_customer_gets_expected_orders_value_and_a_next_order_date_from_their_rhythm(snapshot):
    _, tables = snapshot
    customers = tables["customers"]
    assert len(customers) == 4_338
    assert customers["expected_orders_90d"].notna().all() and (customers["expected_orders_90d"] >= 0).all()
    assert (customers["expected_value_12m"] >= 0).all()
    assert customers["p_order_90d"].between(0, 1).all()
    repeat = customers["frequency"] > 1
    assert customers.loc[repeat, "next_order_date"].notna().all()
    assert customers.loc[~repeat, "next_order_date"].isna().all()
    gap = (customers["next_order_date"] - customers["last_purchase"].dt.normalize()).dt.days
    assert (gap[repeat] - customers.loc[repeat, "usual_gap_days"]).abs().max() <= 0.5
    # customers who buy more often are expected to buy more
    by_score = customers.groupby("f_score")["expected_orders_90d"].mean()
    assert by_score.is_monotonic_increasing


def test_at_risk_customers_carry_their_reason_and_value_at_stake(snapshot):
    _, tables = snapshot
    customers = tables["customers"]
    at_risk = customers[customers["at_risk"]]
    assert len(at_risk) > 100
    pattern = re.compile(r"^(usually orders every \d+ days|"
                         r"one order so far \(repeat customers order every \d+ days\)); "
                         r"none for \d+ days — \d+\.\d× the usual gap; value £[\d,]+/year$")
    assert all(pattern.match(reason) for reason in at_risk["risk_reason"])
    assert (customers.loc[~customers["at_risk"], "risk_reason"] == "").all()
    assert (at_risk["value_at_stake"] > 0).all() and (customers.loc[~customers["at_risk"], "value_at_stake"] == 0).all()


def test_backtest_figures_are_published_and_the_default_risk_ranking_is_the_best_measured(snapshot):
    manifest, tables = snapshot
    backtest = manifest["predictive"]["backtest"]
    assert backtest["split_date"] == "2011-09-11" and backtest["holdout_end"] == "2011-12-10"
    methods = tables["prediction_backtest"].set_index("method")
    assert list(methods.index) == ["bgnbd", "own_rate", "frequency", "recency", "rhythm"]
    assert (methods["customers"] == backtest["customers"]).all()
    # every ranking beats chance at telling who buys again
    assert (methods["auc"] > 0.55).all()
    assert methods.loc["bgnbd", "orders_actual"] == backtest["orders"]["actual"]
    assert methods.loc["bgnbd", "orders_predicted"] == pytest.approx(backtest["orders"]["predicted"])
    risk = backtest["risk"]
    precision = risk["precision_at_k"]
    assert set(precision) == set(RISK_RANKINGS) and risk["k"] > 0
    assert precision[risk["default_ranking"]] == max(precision.values())
    deciles = tables["prediction_deciles"]
    assert deciles["decile"].tolist() == list(range(1, 11))
    assert deciles["customers"].sum() == backtest["customers"]
    assert deciles["predicted_orders"].is_monotonic_increasing
    # the top decile of predictions buys far more than the bottom one
    assert deciles["actual_orders"].iloc[-1] > 5 * deciles["actual_orders"].iloc[0]
    assert pd.Series(deciles["actual_orders"]).iloc[-1] > 2
