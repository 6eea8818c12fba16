"""Predicted customer value: the Client 360 card, the backtest table and calibration chart of
``/predictions``, and the at-risk list's default ranking. Pure functions of snapshot rows and meta."""

from __future__ import annotations

from collections.abc import Mapping

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from dashboard.components import format as fmt
from dashboard.components.charts import PALETTE, styled
from dashboard.components.shell import page_href

__all__ = [
    "RISK_SORTS",
    "backtest_table",
    "calibration_figure",
    "customer_predictions",
    "fit_notice",
    "next_order_text",
    "quality_sentence",
    "risk_evidence",
    "risk_sort",
]

# The at-risk list's default sort for each ranking the backtest can pick: (column, ascending).
RISK_SORTS = {"rhythm": ("risk_score", False), "recency": ("recency_days", False), "bgnbd": ("p_order_90d", True)}
ORDERS_HELP = ("Expected number of purchase days in the next 90 days (BG/NBD model fitted on every customer's "
               "purchase days; several invoices on one day count once).")
VALUE_HELP = ("Expected net value (sales minus returns) over the next 12 months: expected orders × expected order "
              "value (Gamma-Gamma), discounted by {rate} a month.")
_RANKING_NAMES = {"bgnbd": "BG/NBD chance of no order", "recency": "recency alone", "rhythm": "risk score (rhythm)"}
NEXT_HELP = "Last purchase day + the customer's usual gap between orders (customers with two orders or more)."


def risk_sort(manifest: Mapping) -> tuple[str, bool]:
    """The at-risk list's default sort, from the ranking the backtest measured best (risk score without one)."""
    backtest = (manifest.get("predictive") or {}).get("backtest") or {}
    return RISK_SORTS.get(str((backtest.get("risk") or {}).get("default_ranking")), RISK_SORTS["rhythm"])


def quality_sentence(manifest: Mapping) -> str:
    """One sentence on how good the predictions were in the refresh's backtest (or why there is none)."""
    predictive = manifest.get("predictive") or {}
    backtest = predictive.get("backtest") or {}
    if not predictive.get("enabled"):
        return "Predictions are switched off (predictive.enabled in the settings)."
    orders, auc = backtest.get("orders") or {}, backtest.get("auc") or {}
    if not orders.get("actual"):
        return "No backtest in this snapshot: " + str(backtest.get("skipped") or predictive.get("skipped")
                                                      or "predictive.holdout_days is 0") + "."
    gap = orders["predicted"] / orders["actual"] - 1
    return (f"Backtest: fitted on the data up to {fmt.day(backtest['split_date'])}, the model predicted "
            f"{fmt.count(orders['predicted'])} orders for the next {backtest['holdout_days']} days against "
            f"{fmt.count(orders['actual'])} placed ({gap:+.0%}); it tells who buys again with AUC "
            f"{auc.get('bgnbd', float('nan')):.2f} (0.5 = chance; the customer's own past rate: "
            f"{auc.get('own_rate', float('nan')):.2f}).")


def next_order_text(customer: pd.Series, as_of: str | None) -> str:
    """``12 Jan 2012 (in 34 days)``, ``was due 3 Oct 2011 (67 days ago)`` or the one-order note."""
    due = customer.get("next_order_date")
    if due is None or pd.isna(due):
        return "no rhythm yet (one order so far)"
    if not as_of:
        return fmt.day(due)
    days = (pd.Timestamp(due) - pd.Timestamp(as_of)).days
    if days >= 0:
        return f"{fmt.day(due)} (in {days:,} day{'s' if days != 1 else ''})"
    return f"was due {fmt.day(due)} ({-days:,} day{'s' if days != -1 else ''} ago)"


def customer_predictions(customer: pd.Series, manifest: Mapping, currency: str,
                         state: Mapping[str, object]) -> dbc.Card:
    """Client 360 card: expected orders (90 days), 12-month value, next order, P(alive) when meaningful,
    the at-risk reason, and one sentence on meaning and quality."""
    predictive = manifest.get("predictive") or {}
    rate = fmt.share(predictive.get("discount_rate_monthly", 0.0))
    facts = [
        ("orders", "Expected orders, next 90 days", fmt.number(customer.get("expected_orders_90d"), 1), ORDERS_HELP),
        ("value", f"Expected value, next 12 months ({currency})",
         fmt.money(customer.get("expected_value_12m"), currency),
         VALUE_HELP.format(rate=rate)),
        ("next", "Next order expected", next_order_text(customer, manifest.get("as_of")), NEXT_HELP),
    ]
    alive = customer.get("p_alive")
    if alive is not None and pd.notna(alive):
        facts.append(("alive", "Probability still active", fmt.share(alive, 0),
                      "BG/NBD probability that the customer has not stopped buying."))
    reason = customer.get("risk_reason") or ""
    return dbc.Card(dbc.CardBody([
        html.H3("Predicted value", className="h6 mb-2"),
        dbc.Row([dbc.Col(_fact(*fact), xs=12, md=6, lg=3) for fact in facts], class_name="g-3 mb-2"),
        html.Div(["Why at risk: ", html.Strong(reason)], className="small mb-1", id="client-pred-reason")
        if reason else None,
        html.Div([_meaning(predictive), " ", quality_sentence(manifest), " ",
                  dcc.Link("How good are the predictions →", href=page_href("/predictions", state),
                           id="client-pred-quality-link")],
                 className="small text-body-secondary", id="client-pred-quality"),
    ]), class_name="mb-3", id="client-predictions")


def _fact(key: str, label: str, value: str, help_text: str) -> html.Div:
    return html.Div([html.Div(label, className="kpi-label text-body-secondary", title=help_text),
                     html.Div(value, className="fw-semibold fs-5", id=f"client-pred-{key}", title=help_text)])


def _meaning(predictive: Mapping) -> str:
    if predictive.get("bgnbd", {}).get("degenerate"):
        return ("Estimates from this customer's own purchase days and value, pooled with all customers. "
                "No probability of being still active is shown: on this data the model finds no dropout, "
                "so it would say ≈100 % for everyone.")
    return "Estimates from this customer's own purchase days and value, pooled with all customers."


def fit_notice(manifest: Mapping) -> dbc.Alert:
    """The fitted parameters, and a warning when the BG/NBD fit is degenerate."""
    predictive = manifest.get("predictive") or {}
    bg, gg = predictive.get("bgnbd") or {}, predictive.get("gamma_gamma") or {}
    if not bg:
        return dbc.Alert(predictive.get("skipped") or "The models were not fitted in this snapshot.",
                         color="secondary", id="pred-fit-notice")
    lines = [html.Div(f"BG/NBD (purchase days, time unit day): r = {bg['r']:.3g}, α = {bg['alpha']:.3g}, "
                      f"a = {bg['a']:.3g}, b = {bg['b']:.3g}, log-likelihood {bg['log_likelihood']:,.1f}; "
                      f"{fmt.count(bg['customers'])} customers."),
             html.Div(f"Gamma-Gamma (net order value): p = {gg.get('p', float('nan')):.3g}, "
                      f"q = {gg.get('q', float('nan')):.3g}, γ = {gg.get('v', float('nan')):.3g}, log-likelihood "
                      f"{gg.get('log_likelihood') or float('nan'):,.1f}; {fmt.count(gg.get('customers'))} repeat "
                      "customers.")]
    if bg.get("degenerate"):
        consequence = (". P(alive) is not published and is never used as churn risk; expected orders and values "
                       "stay meaningful (they come from each customer's purchase rate).")
        lines.append(html.Div(["Degenerate fit — ", bg["degenerate_reason"], consequence],
                              className="fw-semibold mt-1"))
    return dbc.Alert(lines, color="warning" if bg.get("degenerate") else "light", id="pred-fit-notice",
                     class_name="small")


def backtest_table(methods: pd.DataFrame, currency: str) -> object:
    """The backtest: one row per method, totals and MAE (orders, value), AUC, risk precision@k."""
    if methods.empty:
        return dbc.Alert("No backtest in this snapshot.", color="light", id="pred-backtest-empty")
    headers = [("Method", ""), ("Orders predicted", "text-end"), ("Orders placed", "text-end"),
               ("MAE orders", "text-end"), (f"Value predicted ({currency})", "text-end"),
               (f"Value actual ({currency})", "text-end"), (f"MAE value ({currency})", "text-end"),
               ("AUC buys again", "text-end"), ("Risk precision@k", "text-end")]
    titles = {"MAE orders": "Mean absolute error per customer (orders)",
              "AUC buys again": "Probability that a random customer who bought again ranks above one who did not",
              "Risk precision@k": "Share of the k customers ranked most at risk who indeed did not buy"}
    head = html.Thead(html.Tr([html.Th(h, className=c, title=titles.get(h)) for h, c in headers]))
    body = html.Tbody([html.Tr([
        html.Td(row["label"]),
        html.Td(fmt.count(row["orders_predicted"]), className="text-end"),
        html.Td(fmt.count(row["orders_actual"]), className="text-end"),
        html.Td(fmt.number(row["orders_mae"], 2), className="text-end"),
        html.Td(fmt.money(row["value_predicted"], currency), className="text-end"),
        html.Td(fmt.money(row["value_actual"], currency), className="text-end"),
        html.Td(fmt.money(row["value_mae"], currency), className="text-end"),
        html.Td(fmt.number(row["auc"], 3), className="text-end"),
        html.Td(fmt.share(row["risk_precision_at_k"]), className="text-end"),
    ], id=f"pred-row-{row['method']}") for row in methods.to_dict("records")])
    return dbc.Table([head, body], hover=True, size="sm", responsive=True, id="pred-backtest-table",
                     class_name="mb-0")


def risk_evidence(manifest: Mapping) -> str:
    """Which ranking the at-risk list uses by default, and the precision@k figures behind the choice."""
    risk = ((manifest.get("predictive") or {}).get("backtest") or {}).get("risk") or {}
    if not risk.get("precision_at_k"):
        return "The at-risk list is sorted by risk score (no backtest to compare rankings)."
    shown = ", ".join(f"{_RANKING_NAMES.get(name, name)} {fmt.share(value)}"
                      for name, value in risk["precision_at_k"].items())
    return (f"Of the {fmt.count(risk['high_value_customers'])} high-value customers at the split, the "
            f"{fmt.count(risk['k'])} ranked most at risk ({risk['target']}): precision {shown}. "
            f"The at-risk list is therefore sorted by default by {risk['default_ranking_label']}.")


def calibration_figure(deciles: pd.DataFrame) -> go.Figure:
    """Mean predicted vs actual orders per customer, by decile of predicted orders."""
    fig = go.Figure([
        go.Bar(x=deciles["decile"], y=deciles["predicted_orders"], name="Predicted",
               marker_color=PALETTE["customers"],
               hovertemplate="Decile %{x}: %{y:.2f} orders predicted per customer<extra></extra>"),
        go.Bar(x=deciles["decile"], y=deciles["actual_orders"], name="Actual", marker_color=PALETTE["revenue"],
               hovertemplate="Decile %{x}: %{y:.2f} orders placed per customer<extra></extra>"),
    ])
    fig.update_layout(barmode="group")
    fig.update_xaxes(title="Decile of predicted orders (1 = lowest 10 % of customers)", dtick=1)
    fig.update_yaxes(title="Orders per customer in the holdout")
    return styled(fig, "Calibration: predicted vs actual orders per customer, by decile", height=360)
