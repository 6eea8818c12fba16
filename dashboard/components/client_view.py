"""Client 360 builders: customer lookup and search, profile header, R/F/M cards, purchase history,
recommendations. Pure functions from snapshot rows to components; the pages only wire them.

Customer ids are untrusted input (URL, search box): they are handled as plain strings, capped at
``MAX_ID_LENGTH`` characters and only ever rendered as text children, which Dash escapes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html
from dash.development.base_component import ComponentType

from dashboard.components import format as fmt
from dashboard.components import priority as priority_colors
from dashboard.components import rows
from dashboard.components.product_view import product_link
from dashboard.components.segment_names import segment_name
from dashboard.components.shell import not_found, page_href
from dashboard.i18n import N_, _, current_language, localised, ngettext

__all__ = [
    "HISTORY_PAGE",
    "MAX_ID_LENGTH",
    "SUGGESTIONS",
    "all_returned",
    "clean_id",
    "customer_href",
    "customer_orders",
    "customer_recommendations",
    "customer_segment",
    "find_customer",
    "follow_customer",
    "history_summary",
    "history_table",
    "invoice_lines",
    "invoice_lines_table",
    "money_summary",
    "more_label",
    "not_found_view",
    "profile_header",
    "purchase_facts",
    "quick_links",
    "recommendation_list",
    "rfm_cards",
    "search_box",
    "suggest_ids",
    "suggestion_list",
    "usual_gap_text",
    "usual_products_table",
]

MAX_ID_LENGTH = 40  # longest id accepted from a URL or the search box (the navbar search uses the same)
HISTORY_PAGE = 50  # invoices shown at first, and added by each "Show more"
SUGGESTIONS = 10  # ids suggested while typing
FACT_HELP = {
    "returns": N_("Cancelled invoices and their value, subtracted from the customer's net value."),
    "yearly-value": N_("Net value × 365 / days since the first purchase (at least 90 days counted): what a year "
                       "of this customer is worth at their past rate. Their revenue at stake when at risk."),
}
_SPREADSHEET_ID = re.compile(r"(\d+)\.0+")  # 17850.0: a whole number exported as a decimal
CONFIDENCE_HELP = N_("Confidence: the probability that a customer buys this product when they bought the "
                     "product(s) it is recommended with.")
LIFT_HELP = N_("Lift: how much more likely than chance. Above ×1 the products are bought together more often "
               "than if they were unrelated; ×3 means three times as often.")
PRIORITY_TEXT = {"Critical": N_("Critical priority"), "High": N_("High priority"), "Medium": N_("Medium priority"),
                 "Low": N_("Low priority")}  # the scheme's priorities (other names: shown as written)


# --- lookup and search -----------------------------------------------------------------------------

def clean_id(raw: object) -> str:
    """An untrusted customer id as a plain, trimmed string of at most ``MAX_ID_LENGTH`` characters.

    A whole number written the spreadsheet way (``17850.0``, ``17850.00``) becomes ``17850``.
    """
    text = ("" if raw is None else str(raw)).strip()[:MAX_ID_LENGTH]
    whole = _SPREADSHEET_ID.fullmatch(text)
    return whole.group(1) if whole else text


def customer_href(customer_id: str, state: Mapping[str, object] | None, segment: str | None = None) -> str:
    """Link to a customer's Client 360 page (the id percent-encoded), carrying the filter state.

    When the state has a segment filter, the link carries the customer's own ``segment`` instead (none
    when unknown), never the segment of the page the link is on: the Client 360 chip and its "back to
    list" follow the customer.
    """
    return page_href(f"/client/{quote(customer_id, safe='')}", follow_customer(state, segment))


def follow_customer(state: Mapping[str, object] | None, segment: str | None) -> dict[str, object]:
    """``state`` with its segment filter, if any, replaced by the customer's ``segment``."""
    state = dict(state or {})
    return {**state, "segment": segment if state.get("segment") else None}


def customer_segment(customers: pd.DataFrame, customer_id: str) -> str | None:
    """The segment of ``customer_id`` in ``customers``, or None when there is no such customer."""
    row = find_customer(customers, customer_id)
    return None if row is None else str(row["segment"])


def find_customer(customers: pd.DataFrame, customer_id: str) -> pd.Series | None:
    """The ``customers`` row of ``customer_id``, or None when the snapshot has no such customer."""
    if not customer_id:
        return None
    rows = customers[customers["customer_id"] == customer_id]
    return None if rows.empty else rows.iloc[0]


def suggest_ids(customers: pd.DataFrame, text: str, limit: int = SUGGESTIONS) -> pd.DataFrame:
    """At most ``limit`` customers whose id starts with ``text`` (first, by id) or contains it (case-insensitive).

    Returns the columns customer_id, country, segment.
    """
    needle = clean_id(text).lower()
    if not needle:
        return customers.iloc[:0][["customer_id", "country", "segment"]]
    ids = customers["customer_id"].str.lower()
    starts = ids.str.startswith(needle)
    contains = ids.str.contains(needle, regex=False) & ~starts
    ranked = pd.concat([customers[starts].sort_values("customer_id"), customers[contains].sort_values("customer_id")])
    return ranked.head(limit)[["customer_id", "country", "segment"]]


def search_box(value: str = "", autofocus: bool = False, suggestions: ComponentType = None) -> html.Div:
    """Customer search: an input whose suggestions appear below it (filled by a callback) and an Open button."""
    return html.Div([
        dbc.InputGroup([
            dbc.InputGroupText(_("Customer id")),
            dbc.Input(id="client-search-input", type="search", value=value, placeholder=_("Type an id, e.g. 12347"),
                      autocomplete="off", maxlength=MAX_ID_LENGTH, autofocus=autofocus, debounce=False),
            dbc.Button(_("Open"), id="client-search-go", color="primary"),
        ]),
        html.Div(suggestions, id="client-search-suggestions", className="client-suggestions"),
    ], className="client-search", id="client-search")


def suggestion_list(matches: pd.DataFrame, text: str, state: Mapping[str, object] | None,
                    names: Mapping[str, str] | None = None) -> ComponentType:
    """The suggestions under the search box: one link per matching customer, or a no-match note (segments by
    their ``names`` in the current language)."""
    if not clean_id(text):
        return None
    if matches.empty:
        return html.Div(_("No customer id contains “{text}”.").format(text=clean_id(text)),
                        className="list-group-item text-body-secondary", id="client-search-none")
    return html.Div([
        dcc.Link([html.Span(row.customer_id, className="fw-semibold me-2"),
                  html.Span(f"{row.country} · {segment_name(names or {}, row.segment)}",
                            className="small text-body-secondary")],
                 href=customer_href(row.customer_id, state, row.segment),
                 className="list-group-item list-group-item-action")
        for row in rows(matches, index=False)
    ], className="list-group shadow-sm")


def quick_links(customers: pd.DataFrame, state: Mapping[str, object] | None, currency: str,
                link_id: str, names: Mapping[str, str] | None = None) -> html.Div:
    """Customers as a list of links with their country, segment (by ``names``), revenue and risk score."""
    if customers.empty:
        return html.Div(_("No customer to show."), className="text-body-secondary")
    return html.Div([
        dcc.Link([
            html.Div([html.Span(row.customer_id, className="fw-semibold me-2"),
                      html.Span(f"{row.country} · {segment_name(names or {}, row.segment)}",
                                className="small text-body-secondary")]),
            html.Div([html.Span(fmt.money(row.monetary, currency), className="me-3"),
                      html.Span(_("risk {score}/100").format(score=fmt.count(row.risk_score)),
                                className="small text-body-secondary")],
                     className="text-end text-nowrap"),
        ], href=customer_href(row.customer_id, state, row.segment),
            className="list-group-item list-group-item-action d-flex justify-content-between align-items-center")
        for row in rows(customers, index=False)
    ], className="list-group list-group-flush", id=link_id)


def not_found_view(customer_id: str, manifest: Mapping, suggestions: ComponentType = None) -> html.Div:
    """Unknown id: a clear message naming the snapshot, and the search box (with ``suggestions``) to try again."""
    shown = customer_id if customer_id else _("(empty)")
    data_end = fmt.day(manifest.get("period", {}).get("end"))
    return html.Div([
        not_found(_("No customer with id “{id}” in the snapshot of {created} (data up to {end}). Check the id or "
                    "search for the customer below.").format(id=shown, created=fmt.moment(manifest.get("created_at")),
                                                              end=data_end)),
        dbc.Card(dbc.CardBody([html.H2(_("Find a customer"), className="h6"),
                               search_box(customer_id, suggestions=suggestions)]), class_name="client-search-card"),
    ])


# --- profile ---------------------------------------------------------------------------------------

def profile_header(customer: pd.Series, segment: pd.Series | None, state: Mapping[str, object]) -> dbc.Card:
    """Customer id, country, segment badge (→ Segments page), what to do, and the at-risk flag."""
    name = customer["segment"]
    shown = name if segment is None else localised({str(k): v for k, v in segment.items()}, "segment")
    badge = dcc.Link(priority_colors.badge(shown, _get(segment, "priority_rank"), class_name="client-segment-badge"),
                     href=page_href("/segments", state, segment=name), id="client-segment-link",
                     title=_("See the {segment} segment").format(segment=shown))
    other = html.Span(f"FR: {_get(segment, 'label_fr', '–')}", className="small text-body-secondary ms-2",
                      id="client-segment-fr", title=_("French label of the segment")) \
        if current_language() == "en" else None  # the English page also names the French segment
    return dbc.Card(dbc.CardBody(dbc.Row([
        dbc.Col([
            html.Div(_("Customer"), className="kpi-label text-body-secondary"),
            html.H2(customer["customer_id"], className="h3 mb-1", id="client-title"),
            html.Div(customer["country"], id="client-country", className="mb-1"),
            html.Div([badge, other],
                     className="d-flex align-items-center flex-wrap"),
        ], xs=12, md=6, lg=4),
        dbc.Col(_what_to_do(segment), xs=12, md=6, lg=4),
        dbc.Col(_risk_block(customer), xs=12, lg=4),
    ], class_name="g-3")), class_name="mb-3", id="client-profile")


def _get(row: pd.Series | None, key: str, default: object = None) -> object:
    return default if row is None else row.get(key, default)


def _what_to_do(segment: pd.Series | None) -> list:
    if segment is None:
        return [html.Div(_("What to do"), className="kpi-label text-body-secondary"),
                html.Div(_("No action defined for this segment."), className="text-body-secondary")]
    row = {str(key): value for key, value in segment.items()}
    priority = str(segment["priority"])
    return [
        html.Div(_("What to do"), className="kpi-label text-body-secondary"),
        html.Div([html.Span(_(PRIORITY_TEXT[priority]) if priority in PRIORITY_TEXT else priority,
                            className="fw-semibold me-2"),
                  html.Span("·", className="me-2"), html.Span(localised(row, "action"), className="fw-semibold")],
                 id="client-action"),
        html.Div(localised(row, "tactic"), className="small", id="client-tactic"),
        html.Div(localised(row, "description") if "description" in row else "",
                 className="small text-body-secondary"),
    ]


def all_returned(customer: pd.Series) -> bool:
    """True when the customer returned everything they bought (net value 0 after returns)."""
    return float(customer.get("returns_value", 0.0)) > 0 and float(customer.get("net_value", 1.0)) <= 0


def usual_gap_text(customer: pd.Series) -> str:
    """``Usual gap between orders: 30 days`` — or ``only one order`` (a one-time buyer has no gap of their own)."""
    gap = customer["usual_gap_days"]
    if int(customer["frequency"]) <= 1 or pd.isna(gap):
        return _("Usual gap between orders: none yet, only one order")
    return _("Usual gap between orders: {days}").format(days=_days(gap))


def _risk_block(customer: pd.Series) -> list:
    at_risk = bool(customer["at_risk"])
    label = _("At risk") if at_risk else _("All purchases returned") if all_returned(customer) else _("Not at risk")
    flag = dbc.Badge(label, color="danger" if at_risk else "secondary" if all_returned(customer) else "success",
                     class_name="me-2", id="client-risk-flag")
    recency = customer["recency_days"]
    return [
        html.Div(_("Churn risk"), className="kpi-label text-body-secondary"),
        html.Div([flag, html.Span(_("risk score {score}/100").format(score=fmt.count(customer["risk_score"])),
                                  id="client-risk-score", className="fw-semibold")],
                 className="d-flex align-items-center"),
        html.Div(_("{gap}; last order {days} ago.").format(gap=usual_gap_text(customer), days=_days(recency)),
                 className="small", id="client-risk-meaning"),
        html.Div(_("The score grows with the customer's value and with how far the last order is past their usual "
                   "gap (0 = ordering on rhythm)."), className="small text-body-secondary"),
    ]


def _days(value: float) -> str:
    days = int(round(value))
    return ngettext("%(num)s day", "%(num)s days", days) % {"num": fmt.count(days)}


def rfm_cards(customer: pd.Series, currency: str) -> dbc.Row:
    """Three cards: Recency (days), Frequency (orders), Monetary (revenue), each with its score out of 5."""
    cards = [
        ("recency", _("Recency"), _days(customer["recency_days"]),
         _("since the last purchase ({date})").format(date=fmt.day(customer["last_purchase"])), customer["r_score"]),
        ("frequency", _("Frequency"), ngettext("%(num)s order", "%(num)s orders", int(customer["frequency"]))
         % {"num": fmt.count(customer["frequency"])}, _("distinct invoices over the period"), customer["f_score"]),
        ("monetary", _("Monetary"), fmt.money(customer["monetary"], currency), _monetary_note(customer, currency),
         customer["m_score"]),
    ]
    return dbc.Row([dbc.Col(_rfm_card(*card), xs=12, md=4) for card in cards], class_name="g-3 mb-3")


def _monetary_note(customer: pd.Series, currency: str) -> str:
    if "net_value" in customer and customer["monetary"] == customer["net_value"]:
        return _("net value over the period ({currency}): bought − returned").format(currency=currency)
    return _("gross sales over the period ({currency})").format(currency=currency)


def _rfm_card(key: str, label: str, value: str, note: str, score: int) -> dbc.Card:
    score = int(score)
    pips = [html.Span(className="client-pip" + (" client-pip-on" if i < score else "")) for i in range(5)]
    return dbc.Card(dbc.CardBody([
        html.Div(label, className="kpi-label text-body-secondary"),
        html.Div(value, className="kpi-value", id=f"client-{key}"),
        html.Div(note, className="small text-body-secondary mb-2"),
        html.Div([html.Span(pips, className="client-pips me-2"),
                  html.Span(_("Score {score}/5").format(score=score), id=f"client-{key}-score",
                            className="fw-semibold")],
                 className="d-flex align-items-center",
                 title=_("Quintile score among all customers, 5 = best 20 %")),
    ]), class_name="h-100 client-rfm-card")


def money_summary(customer: pd.Series, currency: str) -> dbc.Card | dbc.Alert:
    """Bought (gross), returned and net value in one line; a plain notice when everything was returned."""
    gross, returned, net = (float(customer[c]) for c in ("gross_value", "returns_value", "net_value"))
    figures = html.Div([
        html.Span([_("Bought") + " ", html.Strong(fmt.money(gross, currency, 2), id="client-gross")],
                  className="me-3"),
        html.Span([_("Returned") + " ", html.Strong(fmt.money(returned, currency, 2), id="client-returned")],
                  className="me-3"),
        html.Span([_("Net value") + " ", html.Strong(fmt.money(net, currency, 2), id="client-net")]),
    ], title=_("Net value = bought − returned, never below 0 (a return of an order placed before the data window "
               "still counts). Monetary, the M score, the segment and the risk use it."), id="client-money")
    if not all_returned(customer):
        return dbc.Card(dbc.CardBody(figures, class_name="py-2"), class_name="mb-3")
    return dbc.Alert([
        html.Strong(_("All purchases returned.") + " ", id="client-all-returned"),
        html.Span(_("This customer kept nothing of what they bought: their value is 0, so they are not a priority "
                    "for reactivation.")),
        figures,
    ], color="secondary", class_name="mb-3")


def purchase_facts(customer: pd.Series, currency: str) -> dbc.Card:
    """First and last purchase, average basket, RFM cell, returns (count and value)."""
    facts = [
        (_("First purchase"), fmt.day(customer["first_purchase"]), "first"),
        (_("Last purchase"), fmt.day(customer["last_purchase"]), "last"),
        (_("Average basket"), fmt.money(customer["avg_basket"], currency), "avg-basket"),
        (_("RFM cell"), customer["rfm_cell"], "cell"),
        (_("Returns"), f"{fmt.count(customer['returns_count'])} · {fmt.money(customer['returns_value'], currency)}",
         "returns"),
        (_("Yearly value"), fmt.money(customer["yearly_value"], currency), "yearly-value"),
    ]
    return dbc.Card(dbc.CardBody(html.Dl([
        html.Div([html.Dt(label, className="small text-body-secondary fw-normal"),
                  html.Dd(value, className="mb-0 fw-semibold", id=f"client-{key}")], className="client-fact",
                 title=_(FACT_HELP[key]) if key in FACT_HELP else None)
        for label, value, key in facts
    ], className="client-facts mb-0")), class_name="mb-3")


# --- purchase history ------------------------------------------------------------------------------

def customer_orders(orders: pd.DataFrame, customer_id: str) -> pd.DataFrame:
    """The customer's invoices from the ``orders`` table, newest first."""
    mine = orders[orders["customer_id"] == customer_id]
    return mine.sort_values(["invoice_date", "invoice"], ascending=False)


def history_table(orders: pd.DataFrame, currency: str, limit: int = HISTORY_PAGE) -> ComponentType:
    """The first ``limit`` invoices (newest first): date, invoice, items, quantity, total; returns flagged."""
    if orders.empty:
        return html.Div(_("No invoice for this customer."), className="text-body-secondary",
                        id="client-history-empty")
    header = html.Thead(html.Tr([html.Th(_("Date")), html.Th(_("Invoice")),
                                 html.Th(_("Items"), className="text-end", title=_("Distinct products")),
                                 html.Th(_("Quantity"), className="text-end"),
                                 html.Th(_("Total ({currency})").format(currency=currency), className="text-end")]))
    body = [tr for row in orders.head(limit).itertuples() for tr in _order_row(row, currency)]
    table = dbc.Table([header, html.Tbody(body)],
                      hover=True, size="sm", class_name="client-history mb-0", id="client-history-table")
    return html.Div(table, className="client-history-scroll mb-2")


def _aria(**attributes: str) -> Any:
    """``aria-*`` attributes for a Dash component (typed ``Any``: the stubs know no hyphenated names)."""
    return {f"aria-{name}": value for name, value in attributes.items()}


def _order_row(row, currency: str) -> list[html.Tr]:
    """The invoice's row (its number a button that shows its lines) and the hidden row its lines go to."""
    toggle = html.Button(row.invoice, id={"type": "client-invoice-toggle", "invoice": row.invoice},
                         n_clicks=0, className="btn btn-link btn-sm p-0 client-invoice-toggle",
                         title=_("Show the products of this invoice"), **_aria(expanded="false"))
    invoice = [toggle]
    if row.is_return:
        invoice.append(dbc.Badge(_("Return"), color="danger", class_name="ms-2 client-return-badge"))
    return [html.Tr([
        html.Td(fmt.day(row.invoice_date)),
        html.Td(invoice),
        html.Td(fmt.count(row.items), className="text-end"),
        html.Td(fmt.count(row.quantity), className="text-end"),
        html.Td(fmt.money(row.total, currency, decimals=2),
                className="text-end fw-semibold" + (" text-danger" if row.is_return else "")),
    ], className="client-order-row" + (" client-order-return" if row.is_return else "")),
        html.Tr(html.Td(id={"type": "client-invoice-lines", "invoice": row.invoice}, colSpan=5),
                id={"type": "client-invoice-row", "invoice": row.invoice}, hidden=True,
                className="client-invoice-lines")]


def invoice_lines(lines: pd.DataFrame, invoice: str) -> pd.DataFrame:
    """The lines of one invoice among one customer's ``order_lines`` (input order)."""
    return lines[lines["invoice"] == invoice]


def invoice_lines_table(lines: pd.DataFrame, currency: str) -> object:
    """What an invoice held: product (name and code), quantity, unit price, line total."""
    if lines.empty:
        return html.Div(_("No line recorded for this invoice."), className="small text-body-secondary")
    head = html.Thead(html.Tr([html.Th(_("Product")), html.Th(_("Quantity"), className="text-end"),
                               html.Th(_("Unit price ({currency})").format(currency=currency), className="text-end"),
                               html.Th(_("Total ({currency})").format(currency=currency), className="text-end")]))
    lines_rows = [html.Tr([
        html.Td([html.Span(fmt.product_name(line.description), title=line.description),
                 html.Span(f" · {line.stock_code}", className="small text-body-secondary")]),
        html.Td(fmt.count(line.quantity), className="text-end"),
        html.Td(fmt.money(line.unit_price, currency, decimals=2), className="text-end"),
        html.Td(fmt.money(line.total, currency, decimals=2), className="text-end"),
    ], className="client-line-row") for line in rows(lines)]
    return dbc.Table([head, html.Tbody(lines_rows)], size="sm", borderless=True, class_name="mb-0 client-lines")


def usual_products_table(products: pd.DataFrame) -> object:
    """The customer's usual products, most bought first: product, orders with it, units, last bought."""
    if products.empty:
        return html.Div(_("No product bought (only returns or services)."), className="text-body-secondary",
                        id="client-usual-empty")
    head = html.Thead(html.Tr([html.Th(_("Product")), html.Th(_("Orders"), className="text-end",
                                                               title=_("Invoices that included the product")),
                               html.Th(_("Units"), className="text-end"), html.Th(_("Last bought"))]))
    product_rows = [html.Tr([
        html.Td([html.Div(fmt.product_name(p.description), className="client-product", title=p.description),
                 html.Div(_("Code {code}").format(code=p.stock_code), className="small text-body-secondary")]),
        html.Td(fmt.count(p.orders), className="text-end"),
        html.Td(fmt.count(p.quantity), className="text-end"),
        html.Td(fmt.day(p.last_bought), className="text-nowrap"),
    ], className="client-usual-row") for p in rows(products.sort_values("rank"))]
    return dbc.Table([head, html.Tbody(product_rows)], hover=True, size="sm", responsive=True,
                     class_name="client-recos mb-0", id="client-usual-table")


def more_label(total: int, shown: int) -> str | None:
    """Text of the "Show more" button, or None when every invoice is shown."""
    left = total - shown
    return None if left <= 0 else _("Show {num} more ({left} not shown)").format(
        num=fmt.count(min(left, HISTORY_PAGE)), left=fmt.count(left))


def history_summary(orders: pd.DataFrame) -> str:
    """``11 invoices · 3 returns``."""
    returns = int(orders["is_return"].sum())
    return (ngettext("%(num)s invoice", "%(num)s invoices", len(orders)) % {"num": fmt.count(len(orders))}
            + " · " + ngettext("%(num)s return", "%(num)s returns", returns) % {"num": fmt.count(returns)})


# --- recommendations -------------------------------------------------------------------------------

def customer_recommendations(recommendations: pd.DataFrame, customer_id: str) -> pd.DataFrame:
    """The customer's recommendations in rank order."""
    return recommendations[recommendations["customer_id"] == customer_id].sort_values("rank")


def recommendation_list(recs: pd.DataFrame, segment: str, state: Mapping | None = None) -> ComponentType:
    """Recommended products: product, confidence, lift and why (a rule, or the segment's best sellers)."""
    if recs.empty:
        return html.Div(_("No recommendation for this customer in this snapshot."), className="text-body-secondary",
                        id="client-reco-empty")
    header = html.Thead(html.Tr([
        html.Th("#"), html.Th(_("Product")),
        html.Th([_("Confidence") + " ", _help("client-help-confidence")], className="text-end"),
        html.Th([_("Lift") + " ", _help("client-help-lift")], className="text-end"),
        html.Th(_("Why")),
    ]))
    return html.Div([
        dbc.Table([header, html.Tbody([_reco_row(row, segment, state) for row in rows(recs)])],
                  hover=True, size="sm", responsive=True, class_name="client-recos mb-0", id="client-reco-table"),
        dbc.Tooltip(_(CONFIDENCE_HELP), target="client-help-confidence"),
        dbc.Tooltip(_(LIFT_HELP), target="client-help-lift"),
    ])


def _help(help_id: str) -> html.Span:
    return html.Span("?", id=help_id, className="client-help", tabIndex="0")


def _reco_row(row: Any, segment: str, state: Mapping | None) -> html.Tr:
    is_rule = row.source == "rule"
    return html.Tr([
        html.Td(row.rank, className="text-body-secondary"),
        html.Td([html.Div(product_link(row.description, row.stock_code, state), className="client-product",
                          title=row.description),
                 html.Div(_("Code {code}").format(code=row.stock_code), className="small text-body-secondary")]),
        html.Td(_confidence(row.confidence) if is_rule else "–", className="text-end client-reco-confidence"),
        html.Td("×" + fmt.number(row.lift, 2) if is_rule and pd.notna(row.lift) else "–",
                className="text-end client-reco-lift"),
        html.Td(_reason(row, segment, state), className="small client-reco-source"),
    ], className="client-reco-row")


def _confidence(value: float) -> ComponentType:
    if pd.isna(value):
        return "–"
    return html.Div([html.Span(fmt.share(value)),
                     html.Div(html.Div(className="client-bar-fill", style={"width": f"{100 * value:.0f}%"}),
                              className="client-bar")])


def _reason(row: Any, segment: str, state: Mapping | None = None) -> str | list:
    if row.source == "rule":
        codes = getattr(row, "because_codes", None)
        if codes is not None and len(codes) == len(row.because) > 0:
            return [_("Bought with") + " ", *_linked_names(row.because, codes, state)]
        return _("Bought with") + " " + _names(row.because)
    if pd.notna(row.score):
        return _("Popular in {segment} (bought by {share} of them)").format(segment=segment,
                                                                           share=fmt.share(row.score, 0))
    return _("Popular in {segment}").format(segment=segment)


def _linked_names(names: Iterable[str], codes: Iterable[str], state: Mapping | None, most: int = 3) -> list:
    """``A, B, C and 2 more`` with each product name a link to its page (the rule's antecedents)."""
    pairs = list(zip(names, codes))
    parts: list = []
    for i, (name, code) in enumerate(pairs[:most]):
        parts += [", "] if i else []
        parts.append(product_link(name, code, state))
    return parts + ([" " + _("and {num} more").format(num=len(pairs) - most)] if len(pairs) > most else [])


def _names(because: Iterable[str] | None, most: int = 3) -> str:
    names = [fmt.product_name(name) for name in (because if because is not None else [])]
    if not names:
        return _("products they bought")
    extra = " " + _("and {num} more").format(num=len(names) - most) if len(names) > most else ""
    return ", ".join(names[:most]) + extra
