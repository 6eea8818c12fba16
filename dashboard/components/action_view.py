"""Actions page pieces: the priority action matrix, the customer list (scope, grid columns, rows).

The list's CSV export has the campaign columns (``campaign.campaign_rows``)."""

from __future__ import annotations

from collections.abc import Mapping

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from dashboard.components import format as fmt
from dashboard.components import priority as priority_colors
from dashboard.components.segment_view import slug

__all__ = ["VIEWS", "GRID_COLUMNS", "DEFAULT_SORT", "TIEBREAK", "priority_color", "action_matrix", "headline",
           "customer_list", "column_defs", "grid_rows", "scope_totals", "view_toggle", "empty_list", "list_count"]

VIEWS = ("at-risk", "all")  # list views; the first is the default
# Columns the browser may sort and filter on (the allow-list), with their filter kind.
GRID_COLUMNS = {"customer_id": "text", "segment": "choice", "risk_score": "number",
                # predicted value (dashboard/components/prediction_view.py)
                "value_at_stake": "number", "p_order_90d": "number", "expected_orders_90d": "number",
                "next_order_date": "date",
                "last_purchase": "date", "recency_days": "number", "frequency": "number", "monetary": "number",
                "revenue_at_stake": "number", "action": "text", "risk_reason": "text"}
DEFAULT_SORT = (("risk_score", False), ("monetary", False))  # most at risk first, then most valuable
TIEBREAK = "customer_id"
_FILTERS = {
    "text": ("agTextColumnFilter", ["contains", "equals", "startsWith", "notContains", "notEqual", "endsWith"]),
    "number": ("agNumberColumnFilter", ["equals", "greaterThan", "greaterThanOrEqual", "lessThan",
                                        "lessThanOrEqual", "inRange", "notEqual"]),
    "date": ("agDateColumnFilter", ["equals", "greaterThan", "lessThan", "inRange", "notEqual"]),
}


def priority_color(rank: object) -> str:
    """Bootstrap colour of a priority badge (dashboard/components/priority.py)."""
    return priority_colors.badge_color(rank)


def action_matrix(segments: pd.DataFrame, currency: str, selected: str | None,
                  links: Mapping[str, str]) -> dbc.Table:
    """The segments as a table, most urgent first; each row links to ``links[segment]``.

    Input columns: segment, label_fr, priority, priority_rank, action, tactic, customers,
    revenue_at_stake, at_risk_customers.
    """
    ordered = segments.sort_values("priority_rank", kind="stable")
    head = html.Thead(html.Tr([html.Th(h, className=c) for h, c in (
        ("Segment", ""), ("Priority", ""), ("Action", ""), ("Tactic", ""), ("Customers", "text-end"),
        (f"Revenue at stake ({currency})", "text-end"), ("At-risk customers", "text-end"))]))
    rows = [_matrix_row(row, currency, row["segment"] == selected, bool(selected), links.get(row["segment"], "#"))
            for row in ordered.to_dict("records")]
    return dbc.Table([head, html.Tbody(rows)], hover=True, responsive=True, size="sm",
                     class_name="action-matrix align-middle mb-0", id="action-matrix")


def _matrix_row(row: Mapping, currency: str, is_selected: bool, any_selected: bool, href: str) -> html.Tr:
    title = "Show every segment" if is_selected else f"Focus the list on {row['segment']}"
    at_stake = row["revenue_at_stake"]
    return html.Tr([
        html.Td([dcc.Link(row["segment"], href=href, title=title, className="segment-link stretched-link"),
                 html.Div(row["label_fr"], className="small text-body-secondary", lang="fr")]),
        html.Td(priority_colors.badge(row["priority"], row["priority_rank"], class_name="priority-badge")),
        html.Td(row["action"], className="fw-semibold"),
        html.Td(row["tactic"], className="small"),
        html.Td(fmt.count(row["customers"]), className="text-end"),
        html.Td(fmt.money(at_stake, currency) if at_stake else "–", className="text-end"),
        html.Td(fmt.count(row["at_risk_customers"]) if row["at_risk_customers"] else "–", className="text-end"),
    ], className="matrix-row" + (" selected" if is_selected else " dimmed" if any_selected else ""),
        id=f"matrix-row-{row['priority_rank']}-{slug(row['segment'])}", **{"data-segment": row["segment"]})


def scope_totals(segments: pd.DataFrame, segment: str | None) -> tuple[int, float]:
    """``(at-risk customers, revenue at stake)`` of one segment, or of all segments."""
    rows = segments[segments["segment"] == segment] if segment else segments
    return int(rows["at_risk_customers"].sum()), float(rows["revenue_at_stake"].sum())


def headline(at_risk: int, at_stake: float, currency: str, segment: str | None) -> dbc.Alert:
    """``134 high-value customers at risk — £550,900 a year at stake`` for the scope (or the all-clear)."""
    where = f" in {segment}" if segment else ""
    if not at_risk:
        return dbc.Alert(f"No high-value customer at risk{where}.", color="success", id="actions-headline",
                         class_name="py-2")
    noun = "customer" if at_risk == 1 else "customers"
    return dbc.Alert(html.Strong(f"{fmt.count(at_risk)} high-value {noun} at risk{where} — "
                                 f"{fmt.money(at_stake, currency)} a year at stake"),
                     color="danger", id="actions-headline", class_name="py-2")


def view_toggle(view: str, hrefs: Mapping[str, str], segment: str | None) -> dbc.ButtonGroup:
    """The two list views as links (at risk only, all customers); ``hrefs`` maps each view to its URL."""
    labels = {"at-risk": "At risk only", "all": "All customers of the segment" if segment else "All customers"}
    return dbc.ButtonGroup([
        dbc.Button(labels[name], href=hrefs[name], id=f"view-{name}", color="primary", outline=view != name,
                   size="sm", active=view == name)
        for name in VIEWS], class_name="me-2", id="view-toggle")


def empty_list(view: str, segment: str | None, all_href: str) -> dbc.Alert:
    """Shown instead of the grid when the scope holds nobody."""
    where = f" in {segment}." if segment else "."
    text = ("No high-value customer at risk" if view == "at-risk" else "No customer") + where
    more = dcc.Link(" See all customers of the segment →", href=all_href, className="alert-link") \
        if view == "at-risk" and segment else None
    return dbc.Alert([text, more], color="light", id="list-empty", class_name="mb-0")


def customer_list(customers: pd.DataFrame, segments: pd.DataFrame, segment: str | None, view: str) -> pd.DataFrame:
    """The customers in scope, with their segment's action and the revenue at stake.

    Scope: ``segment`` (None: all) and ``view`` (``at-risk``: only at-risk customers; ``all``).
    Output columns: customer_id, segment, risk_score, last_purchase, recency_days, frequency, monetary,
    revenue_at_stake (yearly_value when at risk, else 0), at_risk, action, and the predictions:
    value_at_stake (expected 12-month value when at risk, else 0), expected_orders_90d, p_order_90d,
    next_order_date, risk_reason (empty for snapshots published before predictions).
    """
    rows = customers
    if segment:
        rows = rows[rows["segment"] == segment]
    if view != "all":
        rows = rows[rows["at_risk"]]
    actions = segments.set_index("segment")["action"]
    return pd.DataFrame({
        "customer_id": rows["customer_id"], "segment": rows["segment"], "risk_score": rows["risk_score"],
        "last_purchase": rows["last_purchase"], "recency_days": rows["recency_days"],
        "frequency": rows["frequency"], "monetary": rows["monetary"],
        "revenue_at_stake": rows["yearly_value"].where(rows["at_risk"], 0.0), "at_risk": rows["at_risk"],
        "action": rows["segment"].map(actions),
        **{name: rows[name] if name in rows else pd.Series(default, index=rows.index)
           for name, default in _PREDICTED.items()},
    })


_PREDICTED = {"value_at_stake": 0.0, "expected_orders_90d": float("nan"), "p_order_90d": float("nan"),
              "next_order_date": pd.NaT, "risk_reason": ""}


def list_count(matching: int, in_scope: int) -> str:
    """``19 customers of 134`` (rows matching the grid's filters, of the rows in scope)."""
    if not matching:
        return "No customer matches these filters"
    of = f" of {fmt.count(in_scope)}" if matching != in_scope else ""
    return f"{fmt.count(matching)} customer{'s' if matching != 1 else ''}{of}"


def column_defs(currency: str, sort: tuple[str, bool] = DEFAULT_SORT[0]) -> list[dict]:
    """AG Grid column definitions of the customer list (sorting and filtering happen on the server).

    ``sort``: the (column, ascending) the list opens with (the backtest's best risk ranking).
    """
    def col(field: str, header: str, kind: str, **extra: object) -> dict:
        name, options = _FILTERS[kind]
        params = {"filterOptions": options, "maxNumConditions": 2, "buttons": ["reset"],
                  **({"inRangeInclusive": True} if kind != "text" else {})}
        right = {"type": "rightAligned"} if kind == "number" else {}
        return {"field": field, "colId": field, "headerName": header, "filter": name, "filterParams": params,
                **right, **extra}

    columns = [
        col("customer_id", "Customer", "text", pinned="left", width=110, cellRenderer="CustomerLink",
            cellClass="customer-cell",  # the link fills the cell (assets/actions.css): a click anywhere on it opens
            headerTooltip="Click a customer to open Client 360 (middle-click or Ctrl+click: new tab)"),
        col("segment", "Segment", "text", minWidth=140, flex=1),
        col("risk_score", "Risk score", "number", minWidth=125, flex=1,
            headerTooltip="0–100: how far a valuable customer is past their usual buying rhythm"),
        col("value_at_stake", f"Expected value at stake ({currency})", "number", minWidth=170, flex=1,
            headerTooltip="At-risk customers: their expected net value over the next 12 months"),
        col("p_order_90d", "Chance of order (90 d)", "number", minWidth=150, flex=1,
            headerTooltip="Model probability (BG/NBD) of at least one order in the next 90 days"),
        col("expected_orders_90d", "Expected orders (90 d)", "number", minWidth=140, flex=1,
            headerTooltip="Expected purchase days in the next 90 days (BG/NBD)"),
        col("next_order_date", "Next order expected", "date", minWidth=125, flex=1, floatingFilter=False,
            headerTooltip="Last purchase day + the customer's usual gap between orders"),
        col("last_purchase", "Last purchase", "date", minWidth=125, flex=1, floatingFilter=False),
        col("recency_days", "Recency (days)", "number", minWidth=120, flex=1),
        col("frequency", "Orders", "number", minWidth=90, flex=1),
        col("monetary", f"Monetary ({currency})", "number", minWidth=120, flex=1,
            headerTooltip="Net value: sales minus the customer's returns, never below 0"),
        col("revenue_at_stake", f"Revenue at stake ({currency}/year)", "number", minWidth=155, flex=1,
            headerTooltip="At-risk customers: net value × 365 / days since their first purchase (at least 90 "
                          "days counted), what a year without them costs"),
        col("action", "Action", "text", minWidth=110, flex=1),
        col("risk_reason", "Why at risk", "text", minWidth=320, flex=2, wrapText=False, tooltipField="risk_reason"),
    ]
    for column in columns:
        if column["field"] == sort[0]:
            column["sort"] = "asc" if sort[1] else "desc"
    return columns


def grid_rows(rows: pd.DataFrame, currency: str) -> list[dict]:
    """Display rows for the grid: readable dates, money with the currency, rounded scores."""
    return [{
        "customer_id": row["customer_id"], "segment": row["segment"], "risk_score": f"{row['risk_score']:.1f}",
        "last_purchase": fmt.day(row["last_purchase"]), "recency_days": int(row["recency_days"]),
        "frequency": int(row["frequency"]), "monetary": fmt.money(row["monetary"], currency, decimals=2),
        "revenue_at_stake": fmt.money(row["revenue_at_stake"], currency, decimals=2) if row["at_risk"] else "–",
        "action": row["action"],
        "value_at_stake": fmt.money(row["value_at_stake"], currency) if row["at_risk"] else "–",
        "p_order_90d": fmt.share(row["p_order_90d"], 0), "expected_orders_90d": fmt.number(row["expected_orders_90d"]),
        "next_order_date": fmt.day(row["next_order_date"]), "risk_reason": row["risk_reason"],
    } for row in rows.to_dict("records")]
