"""Predicted value in the dashboard: Client 360 card, /predictions page, at-risk list columns and sort."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from dashboard import data
from dashboard.components import action_view
from dashboard.components import prediction_view as pv
from tests.dashboard.components import by_id, fetched, find, page_module, text

BACKTEST = {"split_date": "2011-09-11", "holdout_end": "2011-12-10", "holdout_days": 90, "customers": 3370,
            "buyers": 1921, "new_customers_not_scored": 968,
            "orders": {"predicted": 3305.4, "actual": 4482.0, "mae": 0.94},
            "auc": {"bgnbd": 0.7295, "own_rate": 0.7204},
            "risk": {"k": 201, "high_value_customers": 1284, "default_ranking": "bgnbd",
                     "default_ranking_label": "BG/NBD: probability of no order in the holdout",
                     "precision_at_k": {"recency": 0.378, "rhythm": 0.338, "bgnbd": 0.393},
                     "target": "did not buy in the 90 days after the split"}}


def _manifest(degenerate: bool = True, backtest: dict | None = BACKTEST) -> dict:
    return {"as_of": "2011-12-10", "currency": "£", "predictive": {
        "enabled": True, "discount_rate_monthly": 0.01, "backtest": backtest,
        "bgnbd": {"degenerate": degenerate, "r": 0.8, "alpha": 69.0, "a": 0.0087, "b": 19.6, "log_likelihood": -1.0,
                  "customers": 10, "degenerate_reason": "no-dropout boundary" if degenerate else None}}}


def _customer(**changes) -> pd.Series:
    row = {"customer_id": "A", "expected_orders_90d": 2.345, "expected_value_12m": 5432.1, "p_alive": float("nan"),
           "next_order_date": pd.Timestamp("2011-10-01"), "risk_reason": "usually orders every 21 days; …"}
    return pd.Series({**row, **changes})


def test_quality_sentence_states_the_backtest_figures():
    # 3305.4 / 4482 − 1 = −26.3 % → "-26 %" (the house style of shares)
    assert pv.quality_sentence(_manifest()) == (
        "Backtest: fitted on the data up to 11 Sep 2011, the model predicted 3,305 orders for the next 90 days "
        "against 4,482 placed (-26 %); it tells who buys again with AUC 0.73 (0.5 = chance; the customer's own "
        "past rate: 0.72).")
    assert pv.quality_sentence({"predictive": {"enabled": False}}).startswith("Predictions are switched off")
    assert "No backtest" in pv.quality_sentence(_manifest(backtest={"skipped": "only 3 repeat customers"}))


@pytest.mark.parametrize(("ranking", "sort"), [("bgnbd", ("p_order_90d", True)), ("recency", ("recency_days", False)),
                                               ("rhythm", ("risk_score", False)), (None, ("risk_score", False))])
def test_the_at_risk_list_opens_sorted_by_the_ranking_the_backtest_chose(ranking, sort):
    manifest = _manifest(backtest={**BACKTEST, "risk": {**BACKTEST["risk"], "default_ranking": ranking}})
    assert pv.risk_sort(manifest) == sort
    sorted_columns = [(c["field"], c["sort"]) for c in action_view.column_defs("£", sort) if "sort" in c]
    assert sorted_columns == [(sort[0], "asc" if sort[1] else "desc")]


def test_next_order_text():
    assert pv.next_order_text(_customer(), "2011-12-10") == "was due 1 Oct 2011 (70 days ago)"
    assert pv.next_order_text(_customer(next_order_date=pd.Timestamp("2011-12-11")), "2011-12-10") == \
        "11 Dec 2011 (in 1 day)"
    assert pv.next_order_text(_customer(next_order_date=pd.NaT), "2011-12-10") == "no rhythm yet (one order so far)"


def test_client_card_hides_p_alive_of_a_degenerate_fit_and_says_why(in_request):
    card = pv.customer_predictions(_customer(), _manifest(), "£", {})
    assert text(by_id(card, "client-pred-orders")) == "2.3"
    assert text(by_id(card, "client-pred-value")) == "£5,432"
    assert find(card, "client-pred-alive") is None
    assert "would say ≈100 % for everyone" in text(by_id(card, "client-pred-quality"))
    assert text(by_id(card, "client-pred-reason")) == "Why at risk: usually orders every 21 days; …"


def test_client_card_shows_p_alive_of_a_sound_fit(in_request):
    card = pv.customer_predictions(_customer(p_alive=0.734, risk_reason=""), _manifest(degenerate=False), "£", {})
    assert text(by_id(card, "client-pred-alive")) == "73 %"
    assert find(card, "client-pred-reason") is None


# --- on the bundled snapshot ---------------------------------------------------------------------------

@pytest.fixture
def version(in_request) -> str:
    return data.current_version()


def test_client_360_shows_the_customer_predictions(dash_app, version):
    customers = data.table("customers", version)
    row = customers[customers["at_risk"]].sort_values("value_at_stake").iloc[-1]
    page = page_module("/client/<customer_id>").layout(customer_id=row["customer_id"])
    card = by_id(page, "client-predictions")
    assert text(by_id(card, "client-pred-orders")) == f"{row['expected_orders_90d']:,.1f}"
    assert text(by_id(card, "client-pred-value")) == f"£{row['expected_value_12m']:,.0f}"
    assert text(by_id(card, "client-pred-reason")) == "Why at risk: " + row["risk_reason"]
    assert "Backtest: fitted on the data up to 11 Sep 2011" in text(by_id(card, "client-pred-quality"))


def test_predictions_page_shows_the_backtest_and_the_calibration(dash_app, version):
    page = page_module("/predictions").layout()
    table = by_id(page, "pred-backtest-table")
    assert [row.id for row in table.children[1].children] == [
        "pred-row-bgnbd", "pred-row-own_rate", "pred-row-frequency", "pred-row-recency", "pred-row-rhythm"]
    graph = by_id(page, "pred-calibration")
    assert [list(trace.x) for trace in graph.figure.data] == [list(range(1, 11))] * 2
    assert "Degenerate fit" in text(by_id(page, "pred-fit-notice"))
    assert "The at-risk list is therefore sorted by default by" in text(by_id(page, "pred-risk-evidence"))


def test_at_risk_export_has_the_prediction_columns_and_sorts_by_value_at_stake(dash_app, version):
    request = {"startRow": 0, "endRow": 25, "sortModel": [{"colId": "value_at_stake", "sort": "desc"}],
               "filterModel": {}}
    download = fetched(page_module("/actions").export_links(request, version, {"segment": None, "view": "at-risk"})[0])
    exported = pd.read_csv(io.StringIO(download["content"][1:]), dtype={"customer_id": str})
    assert {"value_at_stake", "expected_value_12m", "expected_orders_90d", "p_order_90d", "next_order_date",
            "risk_reason"} <= set(exported.columns)
    assert len(exported) == 134 and exported["value_at_stake"].is_monotonic_decreasing
    assert exported["risk_reason"].str.startswith(("usually orders every", "one order so far")).all()
    customers = data.table("customers", version).set_index("customer_id")
    top = customers.loc[exported["customer_id"].iloc[0]]
    assert exported["value_at_stake"].iloc[0] == pytest.approx(top["value_at_stake"], abs=0.005)


def test_the_predictions_page_is_the_last_page_of_the_navbar(dash_app):
    from dashboard.components.shell import nav_pages

    assert nav_pages()[-1] == ("Predictions", "/predictions")
