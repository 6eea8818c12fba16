"""KPI cards with their definition on hover, and the definitions of the snapshot's KPIs in the page's language."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from dashboard.i18n import N_, _

__all__ = ["DEFINITIONS", "definition", "kpi_card"]

# The definition of each KPI of the snapshot's ``kpis`` table (analytics/kpis.py writes the same English text
# as data): shown through the catalogue so that it follows the page's language. ``{days}``: rfm.active_days.
DEFINITIONS: dict[str, str] = {
    "revenue": N_("Σ quantity × unit price over the sale lines of known customers (cancellations excluded). "
                  "Gross sales + guest sales = total sales."),
    "returns_value": N_("Value of the cancelled lines of known customers (shown positive). Net revenue = gross "
                        "sales − returns."),
    "net_revenue": N_("Gross sales − returns. The customers' net values add up to net revenue + unmatched returns "
                      "(a customer's net value never goes below 0)."),
    "guest_sales": N_("Sale lines without a customer id: in total sales, not in any customer figure."),
    "total_sales": N_("Gross sales + guest sales: every sale line."),
    "customers": N_("Customers with at least one sale."),
    "active_customers": N_("Customers who bought within the last {days} days before the analysis date."),
    "avg_basket": N_("Gross sales / orders."),
    "avg_customer_value": N_("Σ customers' values / customers (value: net of the customer's returns, floored at "
                             "0, unless rfm.monetary is gross)."),
    "pareto_share": N_("Smallest share of customers, best first by value (net of returns), whose values add up to "
                       "80 % of the total."),
    "at_risk_customers": N_("High-value customers whose risk score reached the threshold (see the risk formula); "
                            "never a customer who returned everything."),
    "revenue_at_stake": N_("Yearly value of the customers at risk: each one's net value × 365 / days since their "
                           "first purchase (at least 90 days counted) — what a year without them costs at their "
                           "past rate."),
}


def definition(key: str, fallback: str = "", days: int = 90) -> str:
    """How KPI ``key`` is defined, in the current language (``fallback``, the snapshot's text, for other keys)."""
    return _(DEFINITIONS[key]).format(days=days) if key in DEFINITIONS else fallback


def kpi_card(kpi_id: str, label: str, value: str, definition: str, note: str | None = None) -> dbc.Card:
    """A card showing one figure; hovering the card shows how it is defined."""
    return dbc.Card(dbc.CardBody([
        html.Div(label, className="kpi-label text-body-secondary"),
        html.Div(value, className="kpi-value", id=f"kpi-{kpi_id}"),
        html.Div(note, className="kpi-note small text-body-secondary") if note else None,
        dbc.Tooltip(definition, target=f"kpi-card-{kpi_id}", placement="bottom"),
    ]), id=f"kpi-card-{kpi_id}", class_name="kpi-card h-100")
