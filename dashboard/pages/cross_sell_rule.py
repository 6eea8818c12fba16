"""One cross-sell rule (``/cross-sell/rule/<rule_id>``): its products, its figures in words, its audience.

The audience is the customers who bought every antecedent product but never a consequent product —
the people to offer the consequent to — with their segment, net value and a link to Client 360; the
whole list exports as a campaign CSV. A segment rule (``segment_rules``) targets that segment only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from analytics.errors import AppError
from dashboard import data, queries
from dashboard.components import audience as au
from dashboard.components import audience_form
from dashboard.components import format as fmt
from dashboard.components.client_view import customer_href
from dashboard.components.export import csv_download, safe_filename
from dashboard.components.segment_names import segment_names
from dashboard.components.shell import not_found, page_href
from dashboard.i18n import N_, _, ngettext
from dashboard.pages._frame import page_state, page_title, render

RULE_ID = re.compile(r"^[0-9a-f]{1,40}$")
AUDIENCE_SHOWN = 100  # customers listed on the page (the CSV has them all)



dash.register_page(__name__, path_template="/cross-sell/rule/<rule_id>", name=N_("Cross-sell rule"),
                   title=page_title(N_("Cross-sell rule")),
                   order=91)


def layout(rule_id: str | None = None, **query: str) -> html.Div:
    """Page layout for ``/cross-sell/rule/<rule_id>?segment=…``."""
    state = page_state(query)
    clean = rule_id if isinstance(rule_id, str) and RULE_ID.match(rule_id) else ""
    return render(f"/cross-sell/rule/{quote(clean)}", state,
                  lambda version, manifest: _body(version, manifest, clean, state))


def find_rule(version: str, rule_id: str) -> tuple[pd.Series | None, str | None]:
    """The rule with this id (full-history and recent rules first, then the segment rules) and its segment."""
    if not rule_id:
        return None, None
    rules = data.table("rules", version)
    found = rules[rules["rule_id"] == rule_id]
    if len(found):
        return found.iloc[0], None
    segment_rules = data.table("segment_rules", version)
    found = segment_rules[segment_rules["rule_id"] == rule_id]
    return (found.iloc[0], str(found.iloc[0]["segment"])) if len(found) else (None, None)


def rule_audience(version: str, rule: pd.Series, segment: str | None) -> pd.DataFrame:
    """The rule's audience at the pinned version."""
    return queries.rule_audience(version, list(rule["antecedents"]), list(rule["consequents"]), segment)


def _product_links(codes: Iterable[Any], names: Iterable[Any], state: Mapping) -> list:
    links = []
    for code, name in zip(list(codes), list(names)):
        links.append(dcc.Link([str(name).capitalize(), html.Small(f" {code}", className="text-body-secondary")],
                              href=page_href(f"/products/{quote(str(code), safe='')}", state),
                              className="badge text-bg-light border fs-6 fw-normal me-2 product-link"))
    return links


def _body(version: str, manifest: Mapping, rule_id: str, state: Mapping) -> html.Div:
    back = dcc.Link(_("← All rules"), href=page_href("/cross-sell", state), id="rule-back")
    rule, segment = find_rule(version, rule_id)
    if rule is None:
        return html.Div([back, not_found(_("No rule with this id in this snapshot: rules change when the data is "
                                           "refreshed. Open the explorer to find it again."))])
    currency = manifest.get("currency", "")
    people = rule_audience(version, rule, segment)
    names = segment_names(data.table("segments", version))
    scope = _(" — rules of {segment}").format(segment=names.get(segment, segment)) if segment else ""
    return html.Div([
        dcc.Store(id="rule-ref", data={"rule_id": rule_id}),
        back,
        html.H1([_("Cross-sell rule"), html.Small(scope, className="text-body-secondary")], className="h4 mt-2"),
        dbc.Card(dbc.CardBody([
            html.Div([html.Span(_("If a basket has") + " ", className="me-2"),
                      *_product_links(rule["antecedents"], rule["antecedent_names"], state)], className="mb-2"),
            html.Div([html.Span(_("it often also has") + " ", className="me-2"),
                      *_product_links(rule["consequents"], rule["consequent_names"], state)], className="mb-3"),
            html.Ul([html.Li(sentence) for sentence in au.describe_rule(rule)], id="rule-words", className="mb-0"),
        ]), class_name="mb-3"),
        dbc.Card(dbc.CardBody(_audience_section(people, rule, segment, currency, state, names)), class_name="mb-3"),
        audience_form.modal(audience_form.source(people["customer_id"].tolist(), _audience_name(rule, segment))),
    ], className="rule-page")


def _audience_name(rule: pd.Series, segment: str | None) -> str:
    """What "Create audience" says the list is: the rule, and its segment when it is a segment's rule."""
    products = " + ".join(str(name) for name in rule["antecedents"])
    offer = " + ".join(str(name) for name in rule["consequents"])
    return _("cross-sell rule {rule}: bought {products}, never {offer}").format(
        rule=rule["rule_id"], products=products, offer=offer) + (f" ({segment})" if segment else "")


def _audience_section(people: pd.DataFrame, rule: pd.Series, segment: str | None, currency: str,
                      state: Mapping, names: Mapping[str, str]) -> list:
    who = _("{segment} customers").format(segment=names.get(segment, segment)) if segment else _("Customers")
    suggested = " + ".join(str(name).capitalize() for name in rule["consequent_names"])
    header = html.Div([
        html.H2(_("Audience"), className="h6 mb-0 me-3"),
        html.Div([audience_form.button(disabled=people.empty), " ",
                  dbc.Button(_("Export CSV"), id="rule-export", color="secondary", outline=True, size="sm",
                             disabled=people.empty,
                             title=_("Every customer of the audience, with the campaign columns")),
                  dcc.Loading(dcc.Download(id="rule-download"), type="dot", parent_className="d-inline-block ms-2")]),
    ], className="d-flex justify-content-between align-items-center mb-2")
    if people.empty:
        return [header, html.P(_("No customer bought the antecedent without the consequent: nobody to offer "
                                 "{product} to.").format(product=suggested), id="rule-audience-count",
                               className="mb-0")]
    total = people["net_value"].sum()
    summary = html.P([html.Strong(ngettext("%(num)s customer", "%(num)s customers", len(people))
                                  % {"num": fmt.count(len(people))}),
                      " " + _("bought the antecedent but never {product} — combined net value {value} (sales minus "
                              "returns).").format(product=suggested, value=fmt.money(total, currency, 0))],
                     id="rule-audience-count")
    head = html.Thead(html.Tr([html.Th(_("Customer")), html.Th(_("Segment")),
                               html.Th(_("Net value ({currency})").format(currency=currency), className="text-end",
                                       title=_("Sales minus returns, all history")),
                               html.Th(_("Orders"), className="text-end"), html.Th(_("Last purchase"))]))
    rows = [html.Tr([
        html.Td(dcc.Link(str(p["customer_id"]), href=customer_href(str(p["customer_id"]), state),
                         className="customer-link")),
        html.Td(names.get(str(p["segment"]), str(p["segment"]))),
        html.Td(fmt.money(float(p["net_value"]), currency, 2), className="text-end"),
        html.Td(fmt.count(float(p["frequency"])), className="text-end"), html.Td(fmt.day(p["last_purchase"])),
    ]) for p in people.head(AUDIENCE_SHOWN).to_dict("records")]
    more = _("The {shown} most valuable shown; the CSV has all {total}.").format(
        shown=AUDIENCE_SHOWN, total=fmt.count(len(people))) \
        if len(people) > AUDIENCE_SHOWN else _("Click a customer to open Client 360.")
    return [header, html.P(_("{who} who bought every product of the antecedent and never the consequent: the "
                             "people to offer it to.").format(who=who), className="small text-body-secondary mb-1"),
            summary,
            dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, responsive=True, id="rule-audience",
                      class_name="mb-1"),
            html.Div(more, className="small text-body-secondary")]


@callback(Output("rule-download", "data"), Input("rule-export", "n_clicks"), State("rule-ref", "data"),
          State("page-version", "data"), prevent_initial_call=True)
def export_audience(clicks: int | None, ref: dict | None, version: str | None) -> dict:
    """The whole audience as a campaign CSV."""
    rule_id = ref.get("rule_id") if isinstance(ref, dict) else None
    if not clicks or not isinstance(version, str) or not isinstance(rule_id, str) or not RULE_ID.match(rule_id):
        raise dash.exceptions.PreventUpdate
    try:
        rule, segment = find_rule(version, rule_id)
        if rule is None:
            raise dash.exceptions.PreventUpdate
        people = rule_audience(version, rule, segment)
        currency = data.manifest(version).get("currency", "")
        customers = queries.customers_by_id(version, people["customer_id"].tolist())
        recommendations = queries.best_recommendations(version, people["customer_id"].tolist())
    except AppError as exc:
        raise dash.exceptions.PreventUpdate from exc
    frame = au.export_frame(people, rule, customers, data.table("segments", version), recommendations, currency)
    return csv_download(frame, safe_filename("audience", rule_id, version))
