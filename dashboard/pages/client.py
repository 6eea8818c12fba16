"""Client 360: one customer's profile, R/F/M, purchase history and recommendations (``/client/<customer_id>``).

The search box on this page is the shared Client 360 search; its callbacks live in ``client_search.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import quote, unquote

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import MATCH, Input, Output, State, callback, ctx, dcc, html

from analytics.errors import AppError
from dashboard import data, queries
from dashboard.components import client_view as cv
from dashboard.components import prediction_view as pv
from dashboard.components.history_view import timeline_card
from dashboard.components.segment_names import segment_name, segment_names
from dashboard.components.shell import page_href
from dashboard.i18n import N_, _
from dashboard.pages._frame import page_state, render


def _title(customer_id: str | None = None, **_query: object) -> str:
    customer = cv.clean_id(unquote(customer_id or ""))
    page = _("Client {id}").format(id=customer) if customer else _("Client 360")
    return f"{page} · {_('Customer segments')}"


log = logging.getLogger("dashboard.client")

dash.register_page(__name__, path_template="/client/<customer_id>", name=N_("Client 360 — customer"), title=_title,
                   order=4)


def layout(customer_id: str | None = None, **query: str) -> html.Div:
    """Page layout for ``/client/<customer_id>?segment=…`` (the id is percent-decoded and capped)."""
    customer = cv.clean_id(unquote(customer_id or ""))
    state = page_state(query)
    if state.get("segment"):  # the filter follows the customer, whatever segment the URL named
        state = cv.follow_customer(state, _segment_of(customer))
    path = f"/client/{quote(customer, safe='')}"
    return render(path, state, lambda version, manifest: _body(version, manifest, customer, state))


def _segment_of(customer_id: str) -> str | None:
    """The customer's segment in the snapshot being served (None when unknown or unreadable)."""
    version = data.current_version()
    try:
        return queries.segment_of(version, customer_id) if version else None
    except AppError:
        return None


def _body(version: str, manifest: Mapping, customer_id: str, state: Mapping) -> html.Div:
    currency = manifest.get("currency", "")
    customer = cv.find_customer(queries.customer(version, customer_id), customer_id)
    if customer is None:
        matches = queries.suggest_ids(version, customer_id.lower(), cv.SUGGESTIONS)
        suggestions = cv.suggestion_list(matches, customer_id, state, segment_names(data.table("segments", version)))
        return html.Div([_top_bar(customer_id, False, state, search=False),
                         cv.not_found_view(customer_id, manifest, suggestions)])
    segments = data.table("segments", version)
    segment = segments[segments["segment"] == customer["segment"]]
    orders = cv.customer_orders(data.customer_rows("orders", version, customer_id), customer_id)
    recs = cv.customer_recommendations(data.customer_rows("recommendations", version, customer_id), customer_id)
    return html.Div([
        dcc.Store(id="client-id", data=customer_id),
        _top_bar(customer_id, bool(customer["at_risk"]), state),
        cv.profile_header(customer, None if segment.empty else segment.iloc[0], state),
        cv.money_summary(customer, currency),
        cv.rfm_cards(customer, currency),
        pv.customer_predictions(customer, manifest, currency, state),
        cv.purchase_facts(customer, currency),
        timeline_card(data.customer_rows("segment_history", version, customer_id), customer, manifest, state,
                      segment_names(data.table("segments", version))),
        dbc.Row([
            dbc.Col(_history_card(orders, currency), xs=12, xl=5),
            dbc.Col([_usual_products_card(version, customer_id),
                     _recommendations_card(recs, segment_name(segment_names(segments), customer["segment"]),
                                           state)], xs=12, xl=7),
        ], class_name="g-3"),
    ])


def _usual_products_card(version: str, customer_id: str) -> dbc.Card:
    try:
        products = customer_block(version, "customer_products", customer_id)
        content = cv.usual_products_table(products)
    except AppError as exc:  # a snapshot published before this table existed
        log.warning("usual products unavailable: %s", exc)
        content = html.Div(_("Usual products are not in this snapshot yet: they appear after the next refresh."),
                           className="text-body-secondary", id="client-usual-empty")
    return dbc.Card(dbc.CardBody([
        html.H3(_("Usual products"), className="h6 mb-1"),
        html.Div(_("What they buy most: products on the most orders, then the most units (postage and fees left "
                   "out)."), className="small text-body-secondary mb-2"),
        content,
    ]), class_name="mb-3")


def customer_block(version: str, table: str, customer_id: str) -> pd.DataFrame:
    """The rows of ``customer_id`` in a snapshot table grouped by customer (``order_lines``, ``customer_products``),
    read by key from the local copy."""
    return data.customer_rows(table, version, customer_id)


def _top_bar(customer_id: str, at_risk: bool, state: Mapping, search: bool = True) -> dbc.Row:
    back = dcc.Link(_("← Back to the at-risk list"), href=page_href("/actions", state, view="at-risk"),
                    id="client-back-at-risk", className="me-3") if at_risk else None
    crumbs = html.Div([
        back,
        dcc.Link(_("Client 360"), href=page_href("/client", state), id="client-search-link"),
        html.Span(" / ", className="text-body-secondary"),
        html.Span(customer_id or _("(empty)"), className="text-body-secondary"),
    ], className="client-crumbs")
    return dbc.Row([
        dbc.Col(crumbs, xs=12, md=6, class_name="d-flex align-items-center"),
        dbc.Col(cv.search_box() if search else None, xs=12, md=6, lg={"size": 4, "offset": 2}),
    ], class_name="g-2 mb-3 align-items-center")


def _history_card(orders, currency: str) -> dbc.Card:
    label = cv.more_label(len(orders), cv.HISTORY_PAGE)
    return dbc.Card(dbc.CardBody([
        html.Div([html.H3(_("Purchase history"), className="h6 mb-0"),
                  html.Span(cv.history_summary(orders), className="small text-body-secondary",
                            id="client-history-summary")],
                 className="d-flex justify-content-between align-items-baseline mb-2"),
        html.Div(_("Newest first. Returns (cancelled invoices) are flagged and their totals are negative."),
                 className="small text-body-secondary mb-2"),
        dcc.Loading(html.Div(cv.history_table(orders, currency), id="client-history")),
        dbc.Button(label, id="client-history-more", color="secondary", outline=True, size="sm", n_clicks=0,
                   class_name="" if label else "d-none"),
    ]), class_name="h-100")


def _recommendations_card(recs: pd.DataFrame, segment: str, state: Mapping) -> dbc.Card:
    return dbc.Card(dbc.CardBody([
        html.H3(_("Recommended products"), className="h6 mb-1"),
        html.Div([_("Best first.") + " ", html.Strong(_("Confidence")),
                  _(": probability to buy the product when the products it is recommended with were bought.") + " ",
                  html.Strong(_("Lift")),
                  _(": above ×1 the link is stronger than chance. Products the customer never bought only.")],
                 className="small text-body-secondary mb-2", id="client-reco-help"),
        cv.recommendation_list(recs, segment, state),
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
    customer_id = cv.clean_id(customer_id)
    orders = cv.customer_orders(data.customer_rows("orders", version, customer_id), customer_id)
    shown = cv.HISTORY_PAGE * (clicks + 1)
    label = cv.more_label(len(orders), shown)
    return cv.history_table(orders, currency, shown), label, "" if label else "d-none"


@callback(Output({"type": "client-invoice-lines", "invoice": MATCH}, "children"),
          Output({"type": "client-invoice-row", "invoice": MATCH}, "hidden"),
          Output({"type": "client-invoice-toggle", "invoice": MATCH}, "aria-expanded"),
          Input({"type": "client-invoice-toggle", "invoice": MATCH}, "n_clicks"),
          State("client-id", "data"), State("page-version", "data"), prevent_initial_call=True)
def toggle_invoice(clicks: int | None, customer_id: str | None, version: str | None) -> tuple:
    """Clicking an invoice shows (then hides) its lines, read from the page's snapshot version."""
    invoice = ctx.triggered_id.get("invoice") if isinstance(ctx.triggered_id, dict) else None
    if not clicks or not customer_id or not version or not isinstance(invoice, str):
        raise dash.exceptions.PreventUpdate
    if clicks % 2 == 0:
        return dash.no_update, True, "false"
    return _invoice_content(version, cv.clean_id(customer_id), invoice), False, "true"


def _invoice_content(version: str, customer_id: str, invoice: str) -> object:
    try:
        lines = cv.invoice_lines(customer_block(version, "order_lines", customer_id), invoice)
        currency = data.manifest(version).get("currency", "")
    except AppError as exc:
        log.warning("invoice lines unavailable: %s", exc)
        return html.Div(_("The lines of invoices are not in this snapshot yet: they appear after the next refresh."),
                        className="small text-body-secondary")
    return cv.invoice_lines_table(lines, currency)
