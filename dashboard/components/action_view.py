"""Actions page pieces: the priority action matrix, the customer list (scope, grid columns, rows).

The list's CSV export has the campaign columns (``campaign.campaign_rows``)."""

from __future__ import annotations

from collections.abc import Mapping

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from dashboard.components import format as fmt
from dashboard.components import priority as priority_colors
from dashboard.components.charts import scheme_row
from dashboard.components.prediction_view import risk_reason_text
from dashboard.components.segment_view import slug
from dashboard.i18n import SOURCE_LANGUAGE, _, current_language, localised, ngettext

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
        (_("Segment"), ""), (_("Priority"), ""), (_("Action"), ""), (_("Tactic"), ""), (_("Customers"), "text-end"),
        (_("Revenue at stake ({currency})").format(currency=currency), "text-end"),
        (_("At-risk customers"), "text-end"))]))
    rows = [_matrix_row(row, currency, row["segment"] == selected, bool(selected), links.get(row["segment"], "#"))
            for row in ordered.to_dict("records")]
    return dbc.Table([head, html.Tbody(rows)], hover=True, responsive=True, size="sm",
                     class_name="action-matrix align-middle mb-0", id="action-matrix")


def _matrix_row(row: Mapping, currency: str, is_selected: bool, any_selected: bool, href: str) -> html.Tr:
    name = localised(row, "segment")
    title = _("Show every segment") if is_selected else _("Focus the list on {segment}").format(segment=name)
    at_stake = row["revenue_at_stake"]
    english = current_language() == SOURCE_LANGUAGE
    return html.Tr([
        html.Td([dcc.Link(name, href=href, title=title, className="segment-link stretched-link"),
                 html.Div(row["label_fr"], className="small text-body-secondary", lang="fr") if english else None]),
        html.Td(priority_colors.badge(priority_colors.label(row["priority"]), row["priority_rank"],
                                      class_name="priority-badge")),
        html.Td(localised(row, "action"), className="fw-semibold"),
        html.Td(localised(row, "tactic"), className="small"),
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
    """``134 high-value customers at risk — £550,900 a year at stake`` for the scope (or the all-clear);
    ``segment``: the segment's name as shown."""
    if not at_risk:
        text = _("No high-value customer at risk in {segment}.").format(segment=segment) if segment \
            else _("No high-value customer at risk.")
        return dbc.Alert(text, color="success", id="actions-headline", class_name="py-2")
    if segment:
        line = ngettext("%(num)s high-value customer at risk in {segment} — {amount} a year at stake",
                        "%(num)s high-value customers at risk in {segment} — {amount} a year at stake", at_risk)
    else:
        line = ngettext("%(num)s high-value customer at risk — {amount} a year at stake",
                        "%(num)s high-value customers at risk — {amount} a year at stake", at_risk)
    text = (line % {"num": fmt.count(at_risk)}).format(segment=segment, amount=fmt.money(at_stake, currency))
    return dbc.Alert(html.Strong(text), color="danger", id="actions-headline", class_name="py-2")


def view_toggle(view: str, hrefs: Mapping[str, str], segment: str | None) -> dbc.ButtonGroup:
    """The two list views as links (at risk only, all customers); ``hrefs`` maps each view to its URL."""
    labels = {"at-risk": _("At risk only"),
              "all": _("All customers of the segment") if segment else _("All customers")}
    return dbc.ButtonGroup([
        dbc.Button(labels[name], href=hrefs[name], id=f"view-{name}", color="primary", outline=view != name,
                   size="sm", active=view == name)
        for name in VIEWS], class_name="me-2", id="view-toggle")


def empty_list(view: str, segment: str | None, all_href: str) -> dbc.Alert:
    """Shown instead of the grid when the scope holds nobody (``segment``: its name as shown)."""
    if view == "at-risk":
        text = _("No high-value customer at risk in {segment}.") if segment else _("No high-value customer at risk.")
    else:
        text = _("No customer in {segment}.") if segment else _("No customer.")
    more = dcc.Link(" " + _("See all customers of the segment →"), href=all_href, className="alert-link") \
        if view == "at-risk" and segment else None
    text = text.format(segment=segment)
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
    """``19 customers of 134``: rows matching the grid's filters, of the rows in scope."""
    if not matching:
        return _("No customer matches these filters")
    if matching == in_scope:
        text = ngettext("%(num)s customer", "%(num)s customers", matching) % {"num": fmt.count(matching)}
    else:
        text = (ngettext("%(num)s customer of {total}", "%(num)s customers of {total}", matching)
                % {"num": fmt.count(matching)}).format(total=fmt.count(in_scope))
    return text


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
        col("customer_id", _("Customer"), "text", pinned="left", width=110, cellRenderer="CustomerLink",
            cellClass="customer-cell",  # the link fills the cell (assets/actions.css): a click anywhere on it opens
            headerTooltip=_("Click a customer to open Client 360 (middle-click or Ctrl+click: new tab)")),
        col("segment", _("Segment"), "text", minWidth=140, flex=1),
        col("risk_score", _("Risk score"), "number", minWidth=125, flex=1,
            headerTooltip=_("0–100: how far a valuable customer is past their usual buying rhythm")),
        col("value_at_stake", _("Expected value at stake ({currency})").format(currency=currency), "number",
            minWidth=170, flex=1,
            headerTooltip=_("At-risk customers: their expected net value over the next 12 months")),
        col("p_order_90d", _("Chance of order (90 d)"), "number", minWidth=150, flex=1,
            headerTooltip=_("Model probability (BG/NBD) of at least one order in the next 90 days")),
        col("expected_orders_90d", _("Expected orders (90 d)"), "number", minWidth=140, flex=1,
            headerTooltip=_("Expected purchase days in the next 90 days (BG/NBD)")),
        col("next_order_date", _("Next order expected"), "date", minWidth=125, flex=1, floatingFilter=False,
            headerTooltip=_("Last purchase day + the customer's usual gap between orders")),
        col("last_purchase", _("Last purchase"), "date", minWidth=125, flex=1, floatingFilter=False),
        col("recency_days", _("Recency (days)"), "number", minWidth=120, flex=1),
        col("frequency", _("Orders"), "number", minWidth=90, flex=1),
        col("monetary", _("Monetary ({currency})").format(currency=currency), "number", minWidth=120, flex=1,
            headerTooltip=_("Net value: sales minus the customer's returns, never below 0")),
        col("revenue_at_stake", _("Revenue at stake ({currency}/year)").format(currency=currency), "number",
            minWidth=155, flex=1,
            headerTooltip=_("At-risk customers: net value × 365 / days since their first purchase (at least 90 "
                            "days counted), what a year without them costs")),
        col("action", _("Action"), "text", minWidth=110, flex=1),
        col("risk_reason", _("Why at risk"), "text", minWidth=320, flex=2, wrapText=False,
            tooltipField="risk_reason"),
    ]
    for column in columns:
        if column["field"] == sort[0]:
            column["sort"] = "asc" if sort[1] else "desc"
    return columns


def grid_rows(rows: pd.DataFrame, currency: str, segments: pd.DataFrame | None = None) -> list[dict]:
    """Display rows for the grid: readable dates, money with the currency, rounded scores; with ``segments``
    (the scheme's rows), segment names and actions in the page's language (``segment_id`` keeps the id)."""
    names, actions = _scheme_texts(segments)
    return [{
        "customer_id": row["customer_id"], "segment": names.get(row["segment"], row["segment"]),
        "segment_id": row["segment"], "risk_score": fmt.number(row["risk_score"]),
        "last_purchase": fmt.day(row["last_purchase"]), "recency_days": int(row["recency_days"]),
        "frequency": int(row["frequency"]), "monetary": fmt.money(row["monetary"], currency, decimals=2),
        "revenue_at_stake": fmt.money(row["revenue_at_stake"], currency, decimals=2) if row["at_risk"] else "–",
        "action": actions.get(row["segment"], row["action"]),
        "value_at_stake": fmt.money(row["value_at_stake"], currency) if row["at_risk"] else "–",
        "p_order_90d": fmt.share(row["p_order_90d"], 0), "expected_orders_90d": fmt.number(row["expected_orders_90d"]),
        "next_order_date": fmt.day(row["next_order_date"]), "risk_reason": _risk_reason(row["risk_reason"], currency),
    } for row in rows.to_dict("records")]


def _risk_reason(reason: object, currency: str) -> str:
    """The snapshot's reason (written in English by the refresh) in the page's language."""
    text = reason if isinstance(reason, str) else ""
    return text if current_language() == SOURCE_LANGUAGE else risk_reason_text(text, currency)


def _scheme_texts(segments: pd.DataFrame | None) -> tuple[dict[str, str], dict[str, str]]:
    """(segment name, action) in the current language, by segment id."""
    if segments is None:
        return {}, {}
    records = [scheme_row(r) for r in segments.to_dict("records")]
    return ({str(r["segment"]): localised(r, "segment") for r in records},
            {str(r["segment"]): localised(r, "action") for r in records})
