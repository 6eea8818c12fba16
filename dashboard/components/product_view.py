"""Product page pieces: headline figures, monthly trend, buyers by segment, rules the product is in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from babel.dates import format_date
from dash import dcc, html

from dashboard.components import format as fmt
from dashboard.components.charts import PALETTE, styled
from dashboard.components.rules_view import window_label
from dashboard.components.segment_names import segment_name
from dashboard.components.shell import page_href
from dashboard.i18n import _, current_language

__all__ = [
    "buyers_by_segment",
    "figures",
    "monthly_figure",
    "product_href",
    "product_link",
    "rules_table",
    "rules_with",
    "segment_figure",
]

BOUGHT_TOGETHER_ROWS = 10


def product_href(code: object, state: Mapping | None = None) -> str:
    """Link to ``/products/<code>`` (percent-encoded), carrying the filter state."""
    return page_href(f"/products/{quote(str(code), safe='')}", state)


def product_link(name: object, code: object, state: Mapping | None = None, **props: Any) -> dcc.Link:
    """A product name (shown by the one display rule, ``format.product_name``; the code when empty) linking to its
    page."""
    text = fmt.product_name(name) if isinstance(name, str) and name.strip() else str(code)
    return dcc.Link(text, href=product_href(code, state), className="product-link", **props)


def figures(product: pd.Series, recommended_to: int, currency: str) -> dbc.Row:
    """Revenue, buyers, baskets, units and how many customers the product is recommended to."""
    cards = [
        ("revenue", _("Revenue"), fmt.money(product["revenue"], currency, 0),
         _("Customer sales of the product, all history")),
        ("buyers", _("Buyers"), fmt.count(product["customers"]), _("Distinct customers who bought it")),
        ("baskets", _("Baskets"), fmt.count(product["baskets"]), _("Invoices holding it (guest baskets included)")),
        ("units-sold", _("Units sold"), fmt.count(product["quantity"]), _("Quantity sold to customers")),
        ("recommended-to", _("Recommended to"), fmt.count(recommended_to),
         _("Customers with this product in their recommendations (Client 360)")),
    ]
    return dbc.Row([dbc.Col(dbc.Card(dbc.CardBody([
        html.Div(label, className="small text-body-secondary", title=tip),
        html.Div(value, className="fs-5 fw-semibold", id=f"product-{key}"),
    ])), xs=6, md=True) for key, label, value, tip in cards], class_name="g-2 mb-3")


def monthly_figure(monthly: pd.DataFrame, currency: str) -> go.Figure:
    """Revenue per month (bars) and buyers per month (line, right axis)."""
    revenue = _("Revenue ({currency})").format(currency=currency)
    months = [_month(month) for month in monthly["month"]]
    fig = go.Figure([
        go.Bar(x=monthly["month"], y=monthly["revenue"], name=revenue, marker_color=PALETTE["revenue"],
               customdata=[[month, fmt.money(value, currency, 0)] for month, value in zip(months, monthly["revenue"])],
               hovertemplate="%{customdata[0]}: %{customdata[1]}<extra></extra>"),
        go.Scatter(x=monthly["month"], y=monthly["customers"], name=_("Buyers"), yaxis="y2", mode="lines+markers",
                   line={"color": PALETTE["highlight"]}, customdata=months,
                   hovertemplate="%{customdata}: " + _("%{y} buyers") + "<extra></extra>"),
    ])
    fig.update_layout(yaxis={"title": revenue},
                      yaxis2={"title": _("Buyers"), "overlaying": "y", "side": "right", "showgrid": False})
    return styled(fig, _("Monthly revenue and buyers"), height=320)


def _month(value: pd.Timestamp | str) -> str:
    """``Dec 2011`` (``déc. 2011``): a month in the current language."""
    return format_date(pd.Timestamp(value).date(), "MMM y", locale=current_language())


def buyers_by_segment(customer_products: pd.DataFrame, customers: pd.DataFrame, code: str) -> pd.DataFrame:
    """Buyers of the product per segment (segment, buyers, share of the segment's customers), most first."""
    bought = customer_products[customer_products["stock_code"] == code]
    merged = bought.merge(customers[["customer_id", "segment"]], on="customer_id", how="inner")
    table = merged.groupby("segment", sort=False).agg(buyers=("customer_id", "nunique")).reset_index()
    sizes = customers["segment"].value_counts()
    table["share"] = table["buyers"] / table["segment"].map(sizes).to_numpy(dtype=float)
    return table.sort_values(["buyers", "segment"], ascending=[False, True], kind="stable")


def segment_figure(by_segment: pd.DataFrame, names: Mapping[str, str] | None = None) -> go.Figure:
    """Horizontal bars: buyers per segment (hover: the share of the segment's customers); segments shown by
    their ``names`` in the current language (:mod:`dashboard.components.segment_names`)."""
    fig = go.Figure(go.Bar(
        x=by_segment["buyers"], y=[segment_name(names or {}, s) for s in by_segment["segment"]], orientation="h",
        marker_color=PALETTE["customers"], customdata=[fmt.share(s) for s in by_segment["share"]],
        hovertemplate="%{y}: " + _("%{x} buyers, %{customdata} of the segment's customers") + "<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title=_("Buyers"))
    return styled(fig, _("Buyers by segment"), height=320)


def rules_with(rules: pd.DataFrame, code: str, side: str) -> pd.DataFrame:
    """Non-redundant rules holding ``code`` in their ``side`` ("antecedents" | "consequents"), by lift."""
    holds = rules[side].map(lambda items: code in list(items))
    found = rules[holds.to_numpy(dtype=bool) & ~rules["redundant"].to_numpy(dtype=bool)]
    return found.sort_values(["lift", "confidence"], ascending=False, kind="stable").head(BOUGHT_TOGETHER_ROWS)


def rules_table(rules: pd.DataFrame, other: str, state: Mapping, table_id: str, empty: str) -> object:
    """Rules as rows: the other side's products (links), confidence, lift, and a link to the rule."""
    if rules.empty:
        return html.P(empty, className="text-body-secondary small mb-0", id=table_id)
    names = "antecedent_names" if other == "antecedents" else "consequent_names"
    head = html.Thead(html.Tr([html.Th(_("Products")), html.Th(_("Confidence"), className="text-end"),
                               html.Th(_("Lift"), className="text-end"), html.Th("")]))
    body = [html.Tr([
        html.Td([*(html.Span([product_link(str(name).capitalize(), code, state), " "])
                   for code, name in zip(row[other], row[names])),
                 html.Small(f"({window_label(row['window'])})", className="text-body-secondary")
                 if row["window"] != "all baskets" else None]),
        html.Td(fmt.share(row["confidence"], 0), className="text-end"),
        html.Td("×" + fmt.number(row["lift"], 1), className="text-end"),
        html.Td(dcc.Link(_("Rule →"), href=page_href(f"/cross-sell/rule/{row['rule_id']}", state), className="small")),
    ]) for row in rules.to_dict("records")]
    return dbc.Table([head, html.Tbody(body)], size="sm", hover=True, responsive=True, id=table_id, class_name="mb-0")
