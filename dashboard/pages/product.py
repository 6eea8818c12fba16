"""One product (``/products/<code>``): revenue, buyers, baskets, monthly trend, buyers by segment, what it
is bought together with (as antecedent and as consequent of the rules), how many customers it is
recommended to."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, unquote

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import data, queries
from dashboard.components import product_view as pv
from dashboard.components.charts import graph
from dashboard.components.segment_names import segment_names
from dashboard.components.shell import not_found, page_href
from dashboard.i18n import N_, _
from dashboard.pages._frame import page_state, render_cached

MAX_CODE_LENGTH = 40


def _title(code: str | None = None, **_query: object) -> str:
    clean = unquote(code or "").strip()[:MAX_CODE_LENGTH]
    product = _("Product {code}").format(code=clean) if clean else _("Product")
    return f"{product} · {_('Customer segments')}"


dash.register_page(__name__, path_template="/products/<code>", name=N_("Product"), title=_title, order=92)


def layout(code: str | None = None, **query: str) -> html.Div:
    """Page layout for ``/products/<code>?segment=…``."""
    state = page_state(query)
    clean = unquote(code or "").strip()[:MAX_CODE_LENGTH]
    return render_cached(f"/products/{quote(clean, safe='')}", {**state, "code": clean}, _body)


def _body(version: str, manifest: Mapping, state: Mapping) -> html.Div:
    code = str(state.get("code") or "")
    state = {k: v for k, v in state.items() if k != "code"}
    currency = manifest.get("currency", "")
    products = data.table("products", version)
    found = products[products["stock_code"] == code]
    back = dcc.Link(_("← Cross-sell explorer"), href=page_href("/cross-sell", state), className="small")
    if found.empty:
        return html.Div([back, not_found(_("No product with stock code {code} was sold to customers in this "
                                           "snapshot.").format(code=code or _("(empty)")))])
    product = found.iloc[0]
    monthly = data.table("product_monthly", version)
    by_segment = queries.buyers_by_segment(version, code)
    rules = data.table("rules", version)
    explore = page_href("/cross-sell", state, req=code)
    names = segment_names(data.table("segments", version))
    return html.Div([
        back,
        html.H1([str(product["description"]).capitalize(), html.Small(f" {code}", className="text-body-secondary")],
                className="h4 mt-2 mb-3", id="product-title"),
        pv.figures(product, queries.recommended_count(version, code), currency),
        dbc.Row([
            dbc.Col(dbc.Card(dbc.CardBody(graph(pv.monthly_figure(monthly[monthly["stock_code"] == code], currency),
                                                id="product-monthly"))), lg=7),
            dbc.Col(dbc.Card(dbc.CardBody(graph(pv.segment_figure(by_segment, names), id="product-segments"))), lg=5),
        ], class_name="g-3 mb-3"),
        dbc.Row([
            dbc.Col(dbc.Card(dbc.CardBody([
                html.H2(_("Customers who buy it also buy"), className="h6"),
                html.P(_("Rules with this product in the antecedent: what to suggest to its buyers."),
                       className="small text-body-secondary"),
                pv.rules_table(pv.rules_with(rules, code, "antecedents"), "consequents", state, "product-then",
                               _("No rule starts from this product at the published thresholds.")),
            ])), lg=6),
            dbc.Col(dbc.Card(dbc.CardBody([
                html.H2(_("Bought after these products"), className="h6"),
                html.P(_("Rules with this product in the consequent: whose buyers to offer it to."),
                       className="small text-body-secondary"),
                pv.rules_table(pv.rules_with(rules, code, "consequents"), "antecedents", state, "product-before",
                               _("No rule leads to this product at the published thresholds.")),
            ])), lg=6),
        ], class_name="g-3 mb-2"),
        dcc.Link(_("See every rule with this product in the explorer →"), href=explore, id="product-explore"),
    ], className="product-page")
