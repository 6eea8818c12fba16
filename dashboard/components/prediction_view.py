"""Predicted customer value: the Client 360 card, the backtest table and calibration chart of
``/predictions``, and the at-risk list's default ranking. Pure functions of snapshot rows and meta."""

from __future__ import annotations

import re
from collections.abc import Mapping

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from babel.numbers import get_decimal_symbol
from dash import dcc, html

from dashboard.components import format as fmt
from dashboard.components.charts import PALETTE, styled
from dashboard.components.shell import page_href
from dashboard.i18n import N_, _, current_language, ngettext

__all__ = [
    "RISK_SORTS",
    "backtest_table",
    "calibration_figure",
    "customer_predictions",
    "fit_notice",
    "next_order_text",
    "quality_sentence",
    "risk_evidence",
    "risk_reason_text",
    "risk_sort",
]

# The at-risk list's default sort for each ranking the backtest can pick: (column, ascending).
RISK_SORTS = {"rhythm": ("risk_score", False), "recency": ("recency_days", False), "bgnbd": ("p_order_90d", True)}
ORDERS_HELP = N_("Expected number of purchase days in the next 90 days (BG/NBD model fitted on every customer's "
                 "purchase days; several invoices on one day count once).")
VALUE_HELP = N_("Expected net value (sales minus returns) over the next 12 months: expected orders × expected order "
                "value (Gamma-Gamma), discounted by {rate} a month.")
_RANKING_NAMES = {"bgnbd": N_("BG/NBD chance of no order"), "recency": N_("recency alone"),
                  "rhythm": N_("risk score (rhythm)")}
NEXT_HELP = N_("Last purchase day + the customer's usual gap between orders (customers with two orders or more).")
# the backtest's methods (``prediction_backtest.method``), named in the current language
METHOD_NAMES = {
    "bgnbd": N_("BG/NBD + Gamma-Gamma (expected orders)"),
    "own_rate": N_("own past rate (repeat days per day × holdout)"),
    "frequency": N_("rank by frequency (purchase days)"),
    "recency": N_("rank by recency (most recent first)"),
    "rhythm": N_("rank by rhythm (risk score, lowest first)"),
}


def risk_sort(manifest: Mapping) -> tuple[str, bool]:
    """The at-risk list's default sort, from the ranking the backtest measured best (risk score without one)."""
    backtest = (manifest.get("predictive") or {}).get("backtest") or {}
    return RISK_SORTS.get(str((backtest.get("risk") or {}).get("default_ranking")), RISK_SORTS["rhythm"])


def quality_sentence(manifest: Mapping) -> str:
    """One sentence on how good the predictions were in the refresh's backtest (or why there is none)."""
    predictive = manifest.get("predictive") or {}
    backtest = predictive.get("backtest") or {}
    if not predictive.get("enabled"):
        return _("Predictions are switched off (predictive.enabled in the settings).")
    orders, auc = backtest.get("orders") or {}, backtest.get("auc") or {}
    if not orders.get("actual"):
        return _("No backtest in this snapshot: {reason}.").format(
            reason=str(backtest.get("skipped") or predictive.get("skipped") or "predictive.holdout_days = 0"))
    gap = orders["predicted"] / orders["actual"] - 1
    return _("Backtest: fitted on the data up to {split}, the model predicted {predicted} orders for the next "
             "{days} days against {actual} placed ({gap}); it tells who buys again with AUC {auc} (0.5 = chance; "
             "the customer's own past rate: {own}).").format(
        split=fmt.day(backtest["split_date"]), predicted=fmt.count(orders["predicted"]),
        days=backtest["holdout_days"], actual=fmt.count(orders["actual"]),
        gap=("+" if gap > 0 else "") + fmt.share(gap, 0), auc=fmt.number(auc.get("bgnbd", float("nan")), 2),
        own=fmt.number(auc.get("own_rate", float("nan")), 2))


def next_order_text(customer: pd.Series, as_of: str | None) -> str:
    """``12 Jan 2012 (in 34 days)``, ``was due 3 Oct 2011 (67 days ago)`` or the one-order note."""
    due = customer.get("next_order_date")
    if due is None or pd.isna(due):
        return _("no rhythm yet (one order so far)")
    if not as_of:
        return fmt.day(due)
    days = (pd.Timestamp(due) - pd.Timestamp(as_of)).days
    if days >= 0:
        return (ngettext("{date} (in %(num)s day)", "{date} (in %(num)s days)", days)
                % {"num": fmt.count(days)}).format(date=fmt.day(due))
    return (ngettext("was due {date} (%(num)s day ago)", "was due {date} (%(num)s days ago)", -days)
            % {"num": fmt.count(-days)}).format(date=fmt.day(due))


def customer_predictions(customer: pd.Series, manifest: Mapping, currency: str,
                         state: Mapping[str, object]) -> dbc.Card:
    """Client 360 card: expected orders (90 days), 12-month value, next order, P(alive) when meaningful,
    the at-risk reason, and one sentence on meaning and quality."""
    predictive = manifest.get("predictive") or {}
    rate = fmt.share(predictive.get("discount_rate_monthly", 0.0))
    facts = [
        ("orders", _("Expected orders, next 90 days"), fmt.number(customer.get("expected_orders_90d"), 1),
         _(ORDERS_HELP)),
        ("value", _("Expected value, next 12 months ({currency})").format(currency=currency),
         fmt.money(customer.get("expected_value_12m"), currency),
         _(VALUE_HELP).format(rate=rate)),
        ("next", _("Next order expected"), next_order_text(customer, manifest.get("as_of")), _(NEXT_HELP)),
    ]
    alive = customer.get("p_alive")
    if alive is not None and pd.notna(alive):
        facts.append(("alive", _("Probability still active"), fmt.share(alive, 0),
                      _("BG/NBD probability that the customer has not stopped buying.")))
    reason = risk_reason_text(customer.get("risk_reason") or "", currency)
    return dbc.Card(dbc.CardBody([
        html.H3(_("Predicted value"), className="h6 mb-2"),
        dbc.Row([dbc.Col(_fact(*fact), xs=12, md=6, lg=3) for fact in facts], class_name="g-3 mb-2"),
        html.Div([_("Why at risk:") + " ", html.Strong(reason)], className="small mb-1", id="client-pred-reason")
        if reason else None,
        html.Div([_meaning(predictive), " ", quality_sentence(manifest), " ",
                  dcc.Link(_("How good are the predictions →"), href=page_href("/predictions", state),
                           id="client-pred-quality-link")],
                 className="small text-body-secondary", id="client-pred-quality"),
    ]), class_name="mb-3", id="client-predictions")


_REASON = re.compile(r"^(?:usually orders every (?P<gap>[\d.]+) days|one order so far \(repeat customers order every "
                     r"(?P<typical>[\d.]+) days\)); none for (?P<silent>[\d.]+) days — (?P<times>[\d.]+|inf)× the "
                     r"usual gap; value (?P<value>.*)/year$")


def risk_reason_text(reason: str, currency: str) -> str:
    """The snapshot's at-risk reason (written in English by the refresh, ``analytics.risk_reasons``) in the
    current language: ``usually orders every 21 days; none for 96 days — 4.6× the usual gap; value £5,400/year``.
    A sentence of another shape is shown as it is."""
    found = _REASON.match(reason)
    if not found:
        return reason
    value = found["value"].removeprefix(currency).replace(",", "")
    try:
        money = fmt.money(float(value), currency, 0)
    except ValueError:
        money = found["value"]
    rhythm = _("usually orders every {days} days").format(days=found["gap"]) if found["gap"] else \
        _("one order so far (repeat customers order every {days} days)").format(days=found["typical"])
    times = "∞" if found["times"] == "inf" else fmt.number(float(found["times"]), 1)
    return _("{rhythm}; none for {days} days — {times}× the usual gap; value {value}/year").format(
        rhythm=rhythm, days=fmt.count(float(found["silent"])), times=times, value=money)


def _fact(key: str, label: str, value: str, help_text: str) -> html.Div:
    return html.Div([html.Div(label, className="kpi-label text-body-secondary", title=help_text),
                     html.Div(value, className="fw-semibold fs-5", id=f"client-pred-{key}", title=help_text)])


def _meaning(predictive: Mapping) -> str:
    if predictive.get("bgnbd", {}).get("degenerate"):
        return _("Estimates from this customer's own purchase days and value, pooled with all customers. "
                 "No probability of being still active is shown: on this data the model finds no dropout, "
                 "so it would say ≈100 % for everyone.")
    return _("Estimates from this customer's own purchase days and value, pooled with all customers.")


def fit_notice(manifest: Mapping) -> dbc.Alert:
    """The fitted parameters, and a warning when the BG/NBD fit is degenerate."""
    predictive = manifest.get("predictive") or {}
    bg, gg = predictive.get("bgnbd") or {}, predictive.get("gamma_gamma") or {}
    if not bg:
        return dbc.Alert(predictive.get("skipped") or _("The models were not fitted in this snapshot."),
                         color="secondary", id="pred-fit-notice")
    lines = [html.Div(_("BG/NBD (purchase days, time unit day): {params}, log-likelihood {ll}; {num} "
                        "customers.").format(
                 params=_params(("r", bg["r"]), ("α", bg["alpha"]), ("a", bg["a"]), ("b", bg["b"])),
                 ll=fmt.number(bg["log_likelihood"], 1), num=fmt.count(bg["customers"]))),
             html.Div(_("Gamma-Gamma (net order value): {params}, log-likelihood {ll}; {num} repeat "
                        "customers.").format(
                 params=_params(("p", gg.get("p", float("nan"))), ("q", gg.get("q", float("nan"))),
                                ("γ", gg.get("v", float("nan")))),
                 ll=fmt.number(gg.get("log_likelihood") or float("nan"), 1), num=fmt.count(gg.get("customers"))))]
    if bg.get("degenerate"):
        consequence = _(". P(alive) is not published and is never used as churn risk; expected orders and values "
                        "stay meaningful (they come from each customer's purchase rate).")
        lines.append(html.Div([_("Degenerate fit — "), bg["degenerate_reason"], consequence],
                              className="fw-semibold mt-1"))
    return dbc.Alert(lines, color="warning" if bg.get("degenerate") else "light", id="pred-fit-notice",
                     class_name="small")


def backtest_table(methods: pd.DataFrame, currency: str) -> object:
    """The backtest: one row per method, totals and MAE (orders, value), AUC, risk precision@k."""
    if methods.empty:
        return dbc.Alert(_("No backtest in this snapshot."), color="light", id="pred-backtest-empty")
    headers = [
        (_("Method"), "", None), (_("Orders predicted"), "text-end", None), (_("Orders placed"), "text-end", None),
        (_("MAE orders"), "text-end", _("Mean absolute error per customer (orders)")),
        (_("Value predicted ({currency})").format(currency=currency), "text-end", None),
        (_("Value actual ({currency})").format(currency=currency), "text-end", None),
        (_("MAE value ({currency})").format(currency=currency), "text-end", None),
        (_("AUC buys again"), "text-end",
         _("Probability that a random customer who bought again ranks above one who did not")),
        (_("Risk precision@k"), "text-end", _("Share of the k customers ranked most at risk who indeed did not buy")),
    ]
    head = html.Thead(html.Tr([html.Th(h, className=c, title=t) for h, c, t in headers]))
    body = html.Tbody([html.Tr([
        html.Td(_(METHOD_NAMES[row["method"]]) if row["method"] in METHOD_NAMES else row["label"]),
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
        return _("The at-risk list is sorted by risk score (no backtest to compare rankings).")
    shown = ", ".join(f"{_ranking(name)} {fmt.share(value)}" for name, value in risk["precision_at_k"].items())
    days = ((manifest.get("predictive") or {}).get("backtest") or {}).get("holdout_days")
    target = _("did not buy in the {days} days after the split").format(days=days) if days else risk["target"]
    best = risk.get("default_ranking")
    return _("Of the {customers} high-value customers at the split, the {k} ranked most at risk ({target}): "
             "precision {shown}. The at-risk list is therefore sorted by default by {ranking}.").format(
        customers=fmt.count(risk["high_value_customers"]), k=fmt.count(risk["k"]), target=target, shown=shown,
        ranking=_ranking(best) if best in _RANKING_NAMES else risk["default_ranking_label"])


def _ranking(name: object) -> str:
    return _(_RANKING_NAMES[str(name)]) if str(name) in _RANKING_NAMES else str(name)


def _params(*pairs: tuple[str, float]) -> str:
    """``r = 0.243, α = 4.41`` with the language's decimal sign (3 significant digits)."""
    return ", ".join(f"{name} = {_significant(value)}" for name, value in pairs)


def _significant(value: float) -> str:
    """``value`` to 3 significant digits (``:.3g``) with the current language's decimal sign."""
    return f"{value:.3g}".replace(".", get_decimal_symbol(current_language()))


def calibration_figure(deciles: pd.DataFrame) -> go.Figure:
    """Mean predicted vs actual orders per customer, by decile of predicted orders."""
    fig = go.Figure([
        go.Bar(x=deciles["decile"], y=deciles["predicted_orders"], name=_("Predicted"),
               marker_color=PALETTE["customers"], customdata=[fmt.number(v, 2) for v in deciles["predicted_orders"]],
               hovertemplate=_("Decile %{x}: %{customdata} orders predicted per customer") + "<extra></extra>"),
        go.Bar(x=deciles["decile"], y=deciles["actual_orders"], name=_("Actual"), marker_color=PALETTE["revenue"],
               customdata=[fmt.number(v, 2) for v in deciles["actual_orders"]],
               hovertemplate=_("Decile %{x}: %{customdata} orders placed per customer") + "<extra></extra>"),
    ])
    fig.update_layout(barmode="group")
    fig.update_xaxes(title=_("Decile of predicted orders (1 = lowest 10 % of customers)"), dtick=1)
    fig.update_yaxes(title=_("Orders per customer in the holdout"))
    return styled(fig, _("Calibration: predicted vs actual orders per customer, by decile"), height=360)
