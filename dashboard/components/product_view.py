"""Product page pieces: headline figures, monthly trend, buyers by segment, rules the product is in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from dashboard.components import format as fmt
from dashboard.components.charts import PALETTE, styled
from dashboard.components.shell import page_href

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
        ("Revenue", fmt.money(product["revenue"], currency, 0), "Customer sales of the product, all history"),
        ("Buyers", fmt.count(product["customers"]), "Distinct customers who bought it"),
        ("Baskets", fmt.count(product["baskets"]), "Invoices holding it (guest baskets included)"),
        ("Units sold", fmt.count(product["quantity"]), "Quantity sold to customers"),
        ("Recommended to", fmt.count(recommended_to), ("Customers with this product in their recommendations "
                                                       "(Client 360)")),
    ]
    return dbc.Row([dbc.Col(dbc.Card(dbc.CardBody([
        html.Div(label, className="small text-body-secondary", title=tip),
        html.Div(value, className="fs-5 fw-semibold", id=f"product-{label.lower().replace(' ', '-')}"),
    ])), xs=6, md=True) for label, value, tip in cards], class_name="g-2 mb-3")


def monthly_figure(monthly: pd.DataFrame, currency: str) -> go.Figure:
    """Revenue per month (bars) and buyers per month (line, right axis)."""
    fig = go.Figure([
        go.Bar(x=monthly["month"], y=monthly["revenue"], name=f"Revenue ({currency})", marker_color=PALETTE["revenue"],
               hovertemplate=f"%{{x|%b %Y}}: {currency}%{{y:,.0f}}<extra></extra>"),
        go.Scatter(x=monthly["month"], y=monthly["customers"], name="Buyers", yaxis="y2", mode="lines+markers",
                   line={"color": PALETTE["highlight"]}, hovertemplate="%{x|%b %Y}: %{y} buyers<extra></extra>"),
    ])
    fig.update_layout(yaxis={"title": f"Revenue ({currency})"},
                      yaxis2={"title": "Buyers", "overlaying": "y", "side": "right", "showgrid": False})
    return styled(fig, "Monthly revenue and buyers", height=320)


def buyers_by_segment(customer_products: pd.DataFrame, customers: pd.DataFrame, code: str) -> pd.DataFrame:
    """Buyers of the product per segment (segment, buyers, share of the segment's customers), most first."""
    bought = customer_products[customer_products["stock_code"] == code]
    merged = bought.merge(customers[["customer_id", "segment"]], on="customer_id", how="inner")
    table = merged.groupby("segment", sort=False).agg(buyers=("customer_id", "nunique")).reset_index()
    sizes = customers["segment"].value_counts()
    table["share"] = table["buyers"] / table["segment"].map(sizes).to_numpy(dtype=float)
    return table.sort_values(["buyers", "segment"], ascending=[False, True], kind="stable")


def segment_figure(by_segment: pd.DataFrame) -> go.Figure:
    """Horizontal bars: buyers per segment (hover: the share of the segment's customers)."""
    fig = go.Figure(go.Bar(
        x=by_segment["buyers"], y=by_segment["segment"], orientation="h", marker_color=PALETTE["customers"],
        customdata=by_segment["share"] * 100,
        hovertemplate="%{y}: %{x} buyers, %{customdata:.1f} % of the segment's customers<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title="Buyers")
    return styled(fig, "Buyers by segment", height=320)


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
    head = html.Thead(html.Tr([html.Th("Products"), html.Th("Confidence", className="text-end"),
                               html.Th("Lift", className="text-end"), html.Th("")]))
    body = [html.Tr([
        html.Td([*(html.Span([product_link(str(name).capitalize(), code, state), " "])
                   for code, name in zip(row[other], row[names])),
                 html.Small(f"({row['window']})", className="text-body-secondary")
                 if row["window"] != "all baskets" else None]),
        html.Td(fmt.share(row["confidence"], 0), className="text-end"),
        html.Td(f"×{row['lift']:.1f}", className="text-end"),
        html.Td(dcc.Link("Rule →", href=page_href(f"/cross-sell/rule/{row['rule_id']}", state), className="small")),
    ]) for row in rules.to_dict("records")]
    return dbc.Table([head, html.Tbody(body)], size="sm", hover=True, responsive=True, id=table_id, class_name="mb-0")
