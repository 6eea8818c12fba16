"""How good are the predictions: the refresh's backtest against naive baselines, calibration by decile."""

from __future__ import annotations

from collections.abc import Mapping

import dash
import dash_bootstrap_components as dbc
from dash import html

from dashboard import data
from dashboard.components import prediction_view as pv
from dashboard.components.charts import graph
from dashboard.i18n import N_
from dashboard.pages._frame import page_state, render_cached

dash.register_page(__name__, path="/predictions", name=N_("Predictions"), title="Predictions · Customer segments",
                   order=6, nav=True)

PATH = "/predictions"
_INTRO = ("Every refresh fits the models on the purchases before a split date, predicts the days after it, and "
          "compares with what customers did.")


def layout(**query: str) -> html.Div:
    """Page layout for ``/predictions``."""
    return render_cached(PATH, page_state(query), _body)


def _body(version: str, manifest: Mapping, state: Mapping) -> html.Div:
    title = html.H1("How good are the predictions", className="h4 mb-2")
    if "prediction_backtest" not in manifest.get("tables", {}):
        return html.Div([title, dbc.Alert("This snapshot was published before predictions existed: run a refresh "
                                          "(python -m jobs.refresh) to get them.", color="light", id="pred-empty")])
    currency = manifest.get("currency", "")
    methods = data.table("prediction_backtest", version)
    deciles = data.table("prediction_deciles", version)
    backtest = (manifest.get("predictive") or {}).get("backtest") or {}
    return html.Div([
        title,
        html.P(_INTRO + " " + pv.quality_sentence(manifest), className="text-body-secondary", id="pred-intro"),
        pv.fit_notice(manifest),
        dbc.Card(dbc.CardBody([
            html.H2("Backtest against naive baselines", className="h6 mb-1"),
            html.P(_scope(backtest), className="small text-body-secondary mb-2", id="pred-scope"),
            pv.backtest_table(methods, currency),
            html.P(pv.risk_evidence(manifest), className="small mt-2 mb-0", id="pred-risk-evidence"),
        ]), class_name="mb-3"),
        dbc.Card(dbc.CardBody(
            graph(pv.calibration_figure(deciles), id="pred-calibration")
            if not deciles.empty else html.Div("No calibration without a backtest.", className="text-body-secondary")
        ), class_name="mb-3"),
    ], className="predictions-page")


def _scope(backtest: Mapping) -> str:
    if not backtest.get("customers"):
        return str(backtest.get("skipped") or "No backtest in this snapshot.")
    return (f"Fitted on the purchase days up to {backtest['split_date']} (exclusive), scored on the "
            f"{backtest['holdout_days']} days to {backtest['holdout_end']}: {backtest['customers']:,} customers "
            f"known at the split, {backtest['buyers']:,} of whom bought again; "
            f"{backtest['new_customers_not_scored']:,} customers new in the holdout are not scored. "
            "Rank-only methods have no predicted totals.")
