"""How good are the predictions: the refresh's backtest against naive baselines, calibration by decile."""

from __future__ import annotations

from collections.abc import Mapping

import dash
import dash_bootstrap_components as dbc
from dash import html

from dashboard import data
from dashboard.components import format as fmt
from dashboard.components import prediction_view as pv
from dashboard.components.charts import graph
from dashboard.i18n import N_, _
from dashboard.pages._frame import page_state, page_title, render_cached

dash.register_page(__name__, path="/predictions", name=N_("Predictions"),
                   title=page_title(N_("Predictions")), order=6, nav=True)

PATH = "/predictions"
_INTRO = N_("Every refresh fits the models on the purchases before a split date, predicts the days after it, and "
            "compares with what customers did.")


def layout(**query: str) -> html.Div:
    """Page layout for ``/predictions``."""
    return render_cached(PATH, page_state(query), _body)


def _body(version: str, manifest: Mapping, state: Mapping) -> html.Div:
    title = html.H1(_("How good are the predictions"), className="h4 mb-2")
    if "prediction_backtest" not in manifest.get("tables", {}):
        return html.Div([title, dbc.Alert(_("This snapshot was published before predictions existed: run a refresh "
                                            "(python -m jobs.refresh) to get them."), color="light", id="pred-empty")])
    currency = manifest.get("currency", "")
    methods = data.table("prediction_backtest", version)
    deciles = data.table("prediction_deciles", version)
    backtest = (manifest.get("predictive") or {}).get("backtest") or {}
    return html.Div([
        title,
        html.P(_(_INTRO) + " " + pv.quality_sentence(manifest), className="text-body-secondary", id="pred-intro"),
        pv.fit_notice(manifest),
        dbc.Card(dbc.CardBody([
            html.H2(_("Backtest against naive baselines"), className="h6 mb-1"),
            html.P(_scope(backtest), className="small text-body-secondary mb-2", id="pred-scope"),
            pv.backtest_table(methods, currency),
            html.P(pv.risk_evidence(manifest), className="small mt-2 mb-0", id="pred-risk-evidence"),
        ]), class_name="mb-3"),
        dbc.Card(dbc.CardBody(
            graph(pv.calibration_figure(deciles), id="pred-calibration")
            if not deciles.empty else html.Div(_("No calibration without a backtest."),
                                               className="text-body-secondary")
        ), class_name="mb-3"),
    ], className="predictions-page")


def _scope(backtest: Mapping) -> str:
    if not backtest.get("customers"):
        return str(backtest.get("skipped") or _("No backtest in this snapshot."))
    return _("Fitted on the purchase days up to {split} (exclusive), scored on the {days} days to {end}: {customers} "
             "customers known at the split, {buyers} of whom bought again; {new} customers new in the holdout are "
             "not scored. Rank-only methods have no predicted totals.").format(
        split=fmt.day(backtest["split_date"]), days=backtest["holdout_days"], end=fmt.day(backtest["holdout_end"]),
        customers=fmt.count(backtest["customers"]), buyers=fmt.count(backtest["buyers"]),
        new=fmt.count(backtest["new_customers_not_scored"]))
