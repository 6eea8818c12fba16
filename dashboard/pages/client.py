"""Client 360: one customer's profile, R/F/M, purchase history and recommendations (``/client/<customer_id>``).

The search box on this page is the shared Client 360 search; its callbacks live in ``client_search.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, unquote

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from dashboard import data
from dashboard.components import client_view as cv
from dashboard.components import prediction_view as pv
from dashboard.components.shell import page_href
from dashboard.pages._frame import page_state, render


def _title(customer_id: str | None = None, **_: object) -> str:
    customer = cv.clean_id(unquote(customer_id or ""))
    return f"Client {customer} · Customer segments" if customer else "Client 360 · Customer segments"


dash.register_page(__name__, path_template="/client/<customer_id>", name="Client 360 — customer", title=_title,
                   order=4)


def layout(customer_id: str | None = None, **query: str) -> html.Div:
    """Page layout for ``/client/<customer_id>?segment=…`` (the id is percent-decoded and capped)."""
    state = page_state(query)
    customer = cv.clean_id(unquote(customer_id or ""))
    path = f"/client/{quote(customer, safe='')}"
    return render(path, state, lambda version, manifest: _body(version, manifest, customer, state))


def _body(version: str, manifest: Mapping, customer_id: str, state: Mapping) -> html.Div:
    currency = manifest.get("currency", "")
    customers = data.table("customers", version)
    customer = cv.find_customer(customers, customer_id)
    if customer is None:
        suggestions = cv.suggestion_list(cv.suggest_ids(customers, customer_id), customer_id, state)
        return html.Div([_top_bar(customer_id, False, state, search=False),
                         cv.not_found_view(customer_id, manifest, suggestions)])
    segments = data.table("segments", version)
    segment = segments[segments["segment"] == customer["segment"]]
    orders = cv.customer_orders(data.table("orders", version), customer_id)
    recs = cv.customer_recommendations(data.table("recommendations", version), customer_id)
    return html.Div([
        dcc.Store(id="client-id", data=customer_id),
        _top_bar(customer_id, bool(customer["at_risk"]), state),
        cv.profile_header(customer, None if segment.empty else segment.iloc[0], state),
        cv.money_summary(customer, currency),
        cv.rfm_cards(customer, currency),
        pv.customer_predictions(customer, manifest, currency, state),
        cv.purchase_facts(customer, currency),
        dbc.Row([
            dbc.Col(_history_card(orders, currency), xs=12, xl=5),
            dbc.Col(_recommendations_card(recs, customer["segment"]), xs=12, xl=7),
        ], class_name="g-3"),
    ])


def _top_bar(customer_id: str, at_risk: bool, state: Mapping, search: bool = True) -> dbc.Row:
    back = dcc.Link("← Back to the at-risk list", href=page_href("/actions", state, view="at-risk"),
                    id="client-back-at-risk", className="me-3") if at_risk else None
    crumbs = html.Div([
        back,
        dcc.Link("Client 360", href=page_href("/client", state), id="client-search-link"),
        html.Span(" / ", className="text-body-secondary"),
        html.Span(customer_id or "(empty)", className="text-body-secondary"),
    ], className="client-crumbs")
    return dbc.Row([
        dbc.Col(crumbs, xs=12, md=6, class_name="d-flex align-items-center"),
        dbc.Col(cv.search_box() if search else None, xs=12, md=6, lg={"size": 4, "offset": 2}),
    ], class_name="g-2 mb-3 align-items-center")


def _history_card(orders, currency: str) -> dbc.Card:
    label = cv.more_label(len(orders), cv.HISTORY_PAGE)
    return dbc.Card(dbc.CardBody([
        html.Div([html.H3("Purchase history", className="h6 mb-0"),
                  html.Span(cv.history_summary(orders), className="small text-body-secondary",
                            id="client-history-summary")],
                 className="d-flex justify-content-between align-items-baseline mb-2"),
        html.Div("Newest first. Returns (cancelled invoices) are flagged and their totals are negative.",
                 className="small text-body-secondary mb-2"),
        dcc.Loading(html.Div(cv.history_table(orders, currency), id="client-history")),
        dbc.Button(label, id="client-history-more", color="secondary", outline=True, size="sm", n_clicks=0,
                   class_name="" if label else "d-none"),
    ]), class_name="h-100")


def _recommendations_card(recs, segment: str) -> dbc.Card:
    return dbc.Card(dbc.CardBody([
        html.H3("Recommended products", className="h6 mb-1"),
        html.Div(["Best first. ", html.Strong("Confidence"), ": probability to buy the product when the products "
                  "it is recommended with were bought. ", html.Strong("Lift"), ": above ×1 the link is stronger "
                  "than chance. Products the customer never bought only."],
                 className="small text-body-secondary mb-2", id="client-reco-help"),
        cv.recommendation_list(recs, segment),
    ]), class_name="h-100")


@callback(Output("client-history", "children"), Output("client-history-more", "children"),
          Output("client-history-more", "class_name"),
          Input("client-history-more", "n_clicks"), State("client-id", "data"), State("page-version", "data"),
          prevent_initial_call=True)
def show_more(clicks: int | None, customer_id: str | None, version: str | None) -> tuple:
    """"Show more": the next invoices of the customer, from the page's snapshot version."""
    if not clicks or not customer_id or not version:
        raise dash.exceptions.PreventUpdate
    currency = data.manifest(version).get("currency", "")
    orders = cv.customer_orders(data.table("orders", version), cv.clean_id(customer_id))
    shown = cv.HISTORY_PAGE * (clicks + 1)
    label = cv.more_label(len(orders), shown)
    return cv.history_table(orders, currency, shown), label, "" if label else "d-none"
