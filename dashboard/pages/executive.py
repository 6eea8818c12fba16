"""Executive summary: headline KPIs, the 80/20 indicator, segment shares, the at-risk alert."""

from __future__ import annotations

from collections.abc import Mapping

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from dashboard import data
from dashboard.components import format as fmt
from dashboard.components.charts import GRAPH_CONFIG, monthly_figure, pareto_figure, segment_share_figure
from dashboard.components.kpi import kpi_card
from dashboard.components.shell import page_href
from dashboard.pages._frame import page_state, render_cached

dash.register_page(__name__, path="/", name="Executive summary", title="Executive summary · Customer segments",
                   order=0)


def layout(**query: str) -> html.Div:
    """Page layout for ``/?segment=…``."""
    state = page_state(query)
    return render_cached("/", state, _body)


def _body(version: str, manifest: Mapping, state: Mapping) -> html.Div:
    currency = manifest.get("currency", "")
    kpis = data.table("kpis", version).set_index("kpi")
    segments = data.table("segments", version)
    selected = state.get("segment")
    if selected and selected not in set(segments["segment"]):
        selected = None
    title = f"Executive summary — {selected}" if selected else "Executive summary"
    return html.Div([
        html.H2(title, className="h4 mb-3"),
        _alert(kpis, segments, selected, currency, state),
        dbc.Row(_kpi_cards(version, kpis, segments, selected, currency, manifest), class_name="g-3 mb-3"),
        dbc.Row([
            dbc.Col(dbc.Card(dbc.CardBody([
                _pareto_headline(kpis),
                dcc.Graph(id="pareto-graph", figure=pareto_figure(data.table("pareto", version),
                                                                  kpis.loc["pareto_share", "value"]),
                          config=GRAPH_CONFIG),
            ])), lg=6),
            dbc.Col(dbc.Card(dbc.CardBody(dcc.Loading(dcc.Graph(
                id="segment-share-graph", figure=segment_share_figure(segments, selected), config=GRAPH_CONFIG)))),
                lg=6),
        ], class_name="g-3 mb-3"),
        dbc.Card(dbc.CardBody(dcc.Graph(id="monthly-graph", figure=monthly_figure(data.table("monthly", version),
                                                                                   currency, manifest.get("period", {}).get("end")),
                                        config=GRAPH_CONFIG))),
    ])


def _kpi_cards(version: str, kpis, segments, selected: str | None, currency: str, manifest: Mapping) -> list:
    definitions = kpis["definition"]
    if selected:
        row = segments.set_index("segment").loc[selected]
        customers = data.table("customers", version)
        active_days = manifest.get("parameters", {}).get("rfm", {}).get("active_days", 90)
        in_segment = customers[customers["segment"] == selected]
        active = int((in_segment["recency_days"] <= active_days).sum())
        values = {"revenue": row["revenue"], "active_customers": active, "customers": row["customers"],
                  "avg_basket": row["avg_basket"], "avg_customer_value": row["mean_monetary"]}
        scope = f" of segment {selected}"
    else:
        values = kpis["value"].to_dict()
        scope = ""
    cards = [
        kpi_card("revenue", "Revenue", fmt.money(values["revenue"], currency), definitions["revenue"] + scope,
                 note=f"{fmt.share(values['revenue'] / kpis.loc['revenue', 'value'])} of total" if selected else None),
        kpi_card("active-customers", "Active customers", fmt.count(values["active_customers"]),
                 definitions["active_customers"] + scope,
                 note=f"of {fmt.count(values['customers'])} customers"),
        kpi_card("avg-basket", "Average basket", fmt.money(values["avg_basket"], currency),
                 definitions["avg_basket"] + scope),
        kpi_card("avg-customer-value", "Average customer value", fmt.money(values["avg_customer_value"], currency),
                 definitions["avg_customer_value"] + scope),
    ]
    return [dbc.Col(card, xs=12, sm=6, xl=3) for card in cards]


def _pareto_headline(kpis) -> html.Div:
    share = kpis.loc["pareto_share", "value"]
    return html.Div([
        html.Span(fmt.share(share), className="display-6 fw-semibold me-2", id="pareto-share"),
        html.Span("of customers make 80 % of revenue", className="text-body-secondary"),
    ], title=kpis.loc["pareto_share", "definition"])


def _alert(kpis, segments, selected: str | None, currency: str, state: Mapping) -> object:
    if selected:
        row = segments.set_index("segment").loc[selected]
        count, at_stake = int(row["at_risk_customers"]), float(row["revenue_at_stake"])
    else:
        count, at_stake = int(kpis.loc["at_risk_customers", "value"]), float(kpis.loc["revenue_at_stake", "value"])
    if count == 0:
        return dbc.Alert("No high-value customer is at risk" + (f" in {selected}." if selected else "."),
                         color="success", id="at-risk-alert")
    return dbc.Alert([
        html.Strong(f"{fmt.count(count)} high-value customers at risk — {fmt.money(at_stake, currency)} at stake"),
        html.Span(" · "),
        dcc.Link("See the list and what to do →", href=page_href("/actions", state, view="at-risk"),
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
