"""Client 360 search (``/client``): find a customer by id, or open one of the example customers.

Also holds the callbacks of the Client 360 search box, which ``/client/<customer_id>`` shows too.
"""

from __future__ import annotations

from collections.abc import Mapping

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html
from dash.development.base_component import ComponentType

from dashboard import data, queries
from dashboard.components import client_view as cv
from dashboard.components import format as fmt
from dashboard.components.segment_names import segment_name, segment_names
from dashboard.components.shell import page_href
from dashboard.i18n import N_, _
from dashboard.pages._frame import page_state, page_title, render_cached

dash.register_page(__name__, path="/client", name=N_("Client 360"),
                   title=page_title(N_("Client 360")), order=4, nav=True)

EXAMPLES = 5  # customers in each example list


def layout(**query: str) -> html.Div:
    """Page layout for ``/client?segment=…``."""
    state = page_state(query)
    return render_cached("/client", state, _body)


def _body(version: str, manifest: Mapping, state: Mapping) -> html.Div:
    currency = manifest.get("currency", "")
    segment = state.get("segment")
    total = queries.customer_count(version)
    names = segment_names(data.table("segments", version))
    at_risk_title = _("At-risk customers to call first in {segment}") if segment else \
        _("At-risk customers to call first")
    best_title = _("Best customers by revenue ({currency}) in {segment}") if segment else \
        _("Best customers by revenue ({currency})")
    shown = segment_name(names, segment) if segment else ""
    at_risk = queries.top_customers(version, segment, "risk_score", EXAMPLES, at_risk=True)
    best = queries.top_customers(version, segment, "monetary", EXAMPLES)
    full_list = dcc.Link(_("See the full at-risk list →"), href=page_href("/actions", state, view="at-risk"),
                         id="client-at-risk-list-link", className="small")
    return html.Div([
        html.H2(_("Client 360"), className="h4 mb-1", id="client-search-title"),
        html.P(_("Everything about one customer: segment and what to do, recency, frequency and spend, purchase "
                 "history and personalised product recommendations. Search among the {num} customers of the "
                 "snapshot by id.").format(num=fmt.count(total)), className="text-body-secondary mb-3"),
        dbc.Card(dbc.CardBody(cv.search_box(autofocus=True)), class_name="mb-3 client-search-card"),
        dbc.Row([
            dbc.Col(_examples(at_risk_title.format(segment=shown), _("highest risk score"),
                              cv.quick_links(at_risk, state, currency, "client-examples-at-risk", names), full_list),
                    xs=12, lg=6),
            dbc.Col(_examples(best_title.format(currency=currency, segment=shown), _("highest revenue over the period"),
                              cv.quick_links(best, state, currency, "client-examples-best", names)), xs=12, lg=6),
        ], class_name="g-3"),
    ])


def _examples(title: str, subtitle: str, links: object, footer: object = None) -> dbc.Card:
    return dbc.Card([
        dbc.CardHeader([html.H3(title, className="h6 mb-0"), html.Small(subtitle, className="text-body-secondary")],
                       class_name="bg-white"),
        links,
        dbc.CardFooter(footer, class_name="bg-white") if footer else None,
    ], class_name="h-100")


@callback(Output("client-search-suggestions", "children"), Input("client-search-input", "value"),
          State("page-version", "data"), State("filters", "data"), prevent_initial_call=True)
def suggest(text: str | None, version: str | None, filters: dict | None) -> ComponentType:
    """Suggestions while typing: up to 10 ids starting with (first) or containing the text."""
    if not version:
        raise dash.exceptions.PreventUpdate
    matches = queries.suggest_ids(version, cv.clean_id(text).lower(), cv.SUGGESTIONS)
    return cv.suggestion_list(matches, text or "", filters, segment_names(data.table("segments", version)))


@callback(Output("url", "href", allow_duplicate=True), Input("client-search-input", "n_submit"),
          Input("client-search-go", "n_clicks"), State("client-search-input", "value"),
          State("page-version", "data"), State("filters", "data"), prevent_initial_call=True)
def open_customer(_submit: int | None, _clicks: int | None, text: str | None, version: str | None,
                  filters: dict | None) -> str:
    """Enter or Open: go to the typed customer, or to the only matching one; otherwise stay on the suggestions."""
    typed = cv.clean_id(text)
    if not typed or not version:
        raise dash.exceptions.PreventUpdate
    segment = queries.segment_of(version, typed)
    if segment is None:
        matches = queries.suggest_ids(version, typed.lower(), cv.SUGGESTIONS)
        if len(matches) != 1:
            raise dash.exceptions.PreventUpdate
        typed, segment = matches.iloc[0]["customer_id"], matches.iloc[0]["segment"]
    return cv.customer_href(typed, filters, segment)
