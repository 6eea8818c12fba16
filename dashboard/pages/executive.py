"""Executive summary: headline KPIs, the 80/20 indicator, segment shares, the at-risk alert."""

from __future__ import annotations

import functools
from collections.abc import Hashable, Mapping
from typing import Any

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from dashboard import data, queries
from dashboard.components import format as fmt
from dashboard.components import segment_view
from dashboard.components.charts import graph, monthly_figure, pareto_figure, segment_names, segment_share_figure
from dashboard.components.kpi import definition, kpi_card
from dashboard.components.movement_view import NEW
from dashboard.components.movement_view import executive_summary as movement_summary
from dashboard.components.shell import page_href
from dashboard.i18n import N_, _, ngettext
from dashboard.pages._frame import page_state, page_title, render_cached

dash.register_page(__name__, path="/", name=N_("Executive summary"),
                   title=page_title(N_("Executive summary")), order=0, nav=True)


def layout(**query: str) -> html.Div:
    """Page layout for ``/?segment=…``."""
    state = page_state(query)
    return render_cached("/", state, _body)


def _window_summary(version: str, start: str, end: str) -> tuple[int, float, dict[str, int]] | None:
    return queries.window_summary(version, start, end, NEW)


def _body(version: str, manifest: Mapping, state: Mapping) -> html.Div:
    currency = manifest.get("currency", "")
    kpis = data.table("kpis", version).set_index("kpi")
    segments = data.table("segments", version)
    requested = state.get("segment")
    selected = requested if requested in set(segments["segment"]) else None
    unknown = segment_view.unknown_segment(str(requested), segments, state, path="/",
                                           note=_("The figures below are for all customers.")) \
        if requested and not selected else None
    shown = segment_names(segments).get(selected) if selected else None  # the segment's name in the language
    title = _("Executive summary — {segment}").format(segment=shown) if shown else _("Executive summary")
    days = int(manifest.get("parameters", {}).get("rfm", {}).get("active_days", 90))
    pareto, monthly = data.table("pareto", version), data.table("monthly", version)
    share = float(kpis["value"]["pareto_share"])
    if selected:
        pareto = _of_segment(data.table("pareto_by_segment", version), selected)
        monthly = _of_segment(data.table("monthly_by_segment", version), selected)
        share = float(segments.set_index("segment")["pareto_share"][selected])
    period_end = manifest.get("period", {}).get("end")
    return html.Div([
        html.H2(title, className="h4 mb-3"),
        unknown,
        _alert(kpis, segments, selected, shown, currency, state),
        movement_summary(functools.partial(_window_summary, version), manifest, state),
        dbc.Row(_money_cards(kpis, segments, selected, shown, currency), class_name="g-3 mb-3", id="money-cards"),
        dbc.Row(_kpi_cards(version, kpis, segments, selected, shown, currency, manifest, days),
                class_name="g-3 mb-3"),
        dbc.Row([
            dbc.Col(dbc.Card(dbc.CardBody([
                _pareto_headline(share, definition("pareto_share", kpis["definition"]["pareto_share"]), shown),
                graph(pareto_figure(pareto, share, shown), id="pareto-graph"),
            ])), lg=6),
            dbc.Col(dbc.Card(dbc.CardBody(dcc.Loading(graph(segment_share_figure(segments, selected),
                                                                id="segment-share-graph")))),
                lg=6),
        ], class_name="g-3 mb-3"),
        dbc.Card(dbc.CardBody(graph(monthly_figure(monthly, currency, period_end, shown), id="monthly-graph"))),
    ])


def _of_segment(table: pd.DataFrame, segment: str) -> pd.DataFrame:
    return table[table["segment"] == segment].reset_index(drop=True)


def _definitions(kpis: pd.DataFrame, days: int = 90) -> dict[str, str]:
    """Each KPI's definition in the current language (the snapshot's text for a KPI the catalogue lacks)."""
    return {str(key): definition(str(key), str(text), days) for key, text in kpis["definition"].items()}


def _money_cards(kpis: pd.DataFrame, segments: pd.DataFrame, selected: str | None, shown: str | None,
                 currency: str) -> list:
    """Gross sales, returns, net revenue (= gross − returns) and guest sales, company-wide or of the segment."""
    definitions, values = _definitions(kpis), kpis["value"]
    if selected:
        row = segments[segments["segment"] == selected].iloc[0]  # one row per segment
        gross, returned, net = row["gross_sales"], row["returns_value"], row["net_revenue"]
        scope = " " + _("Here: the customers of segment {segment}.").format(segment=shown)
        guest = kpi_card("guest-sales", _("Guest sales"), "–", definitions["guest_sales"],
                         note=_("guests have no segment"))
    else:
        gross, returned, net = values["revenue"], values["returns_value"], values["net_revenue"]
        scope = ""
        total = fmt.money(values["total_sales"], currency)
        guest = kpi_card("guest-sales", _("Guest sales"), fmt.money(values["guest_sales"], currency),
                         definitions["guest_sales"] + " " + _("Total sales: {amount}.").format(amount=total),
                         note=_("total sales {amount}").format(amount=total))
    unmatched = float(values.get("returns_unmatched", 0.0))
    cards = [
        kpi_card("revenue", _("Gross sales"), fmt.money(gross, currency), definitions["revenue"] + scope,
                 note=_("{share} of total").format(share=fmt.share(gross / values["revenue"])) if selected
                 else _("known customers")),
        kpi_card("returns", _("Returns"), fmt.money(returned, currency), definitions["returns_value"] + scope,
                 note=_("{share} of gross sales").format(share=fmt.share(returned / gross) if gross else "–")),
        kpi_card("net-revenue", _("Net revenue"), fmt.money(net, currency),
                 definitions["net_revenue"] + scope
                 + ("" if selected else " " + _("Unmatched returns: {amount}.").format(
                     amount=fmt.money(unmatched, currency))),
                 note=_("gross sales − returns")),
        guest,
    ]
    return [dbc.Col(card, xs=12, sm=6, xl=3) for card in cards]


def _kpi_cards(version: str, kpis: pd.DataFrame, segments: pd.DataFrame, selected: str | None, shown: str | None,
               currency: str, manifest: Mapping, days: int) -> list:
    definitions = _definitions(kpis, days)
    if selected:
        row = segments[segments["segment"] == selected].iloc[0]  # one row per segment
        active = queries.active_in_segment(version, selected, queries.active_days(manifest))
        values: dict[Hashable, Any] = {"active_customers": active, "customers": row["customers"],
                                       "avg_basket": row["avg_basket"], "avg_customer_value": row["mean_monetary"]}
        scope = " " + _("Here: the customers of segment {segment}.").format(segment=shown)
    else:
        values = kpis["value"].to_dict()
        scope = ""
    total = int(values["customers"])
    cards = [
        kpi_card("active-customers", _("Active customers"), fmt.count(values["active_customers"]),
                 definitions["active_customers"] + scope,
                 note=ngettext("of %(num)s customer", "of %(num)s customers", total) % {"num": fmt.count(total)}),
        kpi_card("avg-basket", _("Average basket"), fmt.money(values["avg_basket"], currency),
                 definitions["avg_basket"] + scope, note=_("gross sales per order")),
        kpi_card("avg-customer-value", _("Average customer value"), fmt.money(values["avg_customer_value"], currency),
                 definitions["avg_customer_value"] + scope, note=_("net of returns, per customer")),
    ]
    return [dbc.Col(card, xs=12, md=4) for card in cards]


def _pareto_headline(share: float, text: str, shown: str | None) -> html.Div:
    who = _("of {segment} customers make 80 % of the segment's value").format(segment=shown) if shown \
        else _("of customers make 80 % of customer value")
    return html.Div([
        html.Span(fmt.share(share), className="display-6 fw-semibold me-2", id="pareto-share"),
        html.Span(who, className="text-body-secondary"),
    ], title=text)


def _alert(kpis, segments, selected: str | None, shown: str | None, currency: str, state: Mapping) -> dbc.Alert:
    if selected:
        row = segments[segments["segment"] == selected].iloc[0]  # one row per segment
        count, at_stake = int(row["at_risk_customers"]), float(row["revenue_at_stake"])
    else:
        count, at_stake = int(kpis.loc["at_risk_customers", "value"]), float(kpis.loc["revenue_at_stake", "value"])
    if count == 0:
        text = _("No high-value customer is at risk in {segment}.").format(segment=shown) if shown \
            else _("No high-value customer is at risk.")
        return dbc.Alert(text, color="success", id="at-risk-alert")
    headline = ngettext("%(num)s high-value customer at risk — {amount} a year at stake",
                        "%(num)s high-value customers at risk — {amount} a year at stake", count)
    return dbc.Alert([
        html.Strong((headline % {"num": fmt.count(count)}).format(amount=fmt.money(at_stake, currency)),
                    title=definition("revenue_at_stake", str(kpis.loc["revenue_at_stake", "definition"]))),
        html.Span(" · "),
        dcc.Link(_("See the list and what to do →"), href=page_href("/actions", state, view="at-risk"),
                 id="at-risk-link", className="alert-link"),
    ], color="danger", id="at-risk-alert")


@callback(Output("url", "href", allow_duplicate=True), Input("segment-share-graph", "clickData"),
          State("filters", "data"), prevent_initial_call=True)
def open_segment(click: dict | None, filters: dict | None) -> str:
    """Clicking a segment in the chart opens the Segments page on it."""
    if not click or not click.get("points"):
        raise dash.exceptions.PreventUpdate
    segment = click["points"][0].get("customdata") or click["points"][0].get("y")
    return page_href("/segments", filters or {}, segment=segment)
