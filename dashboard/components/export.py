"""CSV export that is safe to open in a spreadsheet (OWASP "CSV injection").

A spreadsheet treats a cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return as a
formula. :func:`neutralise_csv_cell` prefixes such **text** cells with ``'`` so they are shown as
text. Decision: numbers stay numbers — a numeric cell such as ``-12.5`` is data, written as is, so
sums still work; a *string* that starts with ``-`` (``"-x"``, even ``"-1"``) gets the quote. Column
headers are text and are neutralised too.

Headers are the stable English column names (a contract with other tools: docs/EXPORTS.md). For people
opening a file in a spreadsheet, :func:`header_label` gives readable headers in the request's language instead
(``Customer id`` / ``N° client``): :data:`COLUMN_LABELS`, translated through the catalogue; a column without a
label keeps its name. Pages offer both files with :func:`export_buttons` (``Export
CSV`` and ``CSV, readable headers``): links to the streamed file of dashboard/list_export.py.
"""

from __future__ import annotations

import re

import dash_bootstrap_components as dbc
import pandas as pd

from dashboard.i18n import N_, _

__all__ = ["FORMULA_PREFIXES", "COLUMN_LABELS", "neutralise_csv_cell", "to_safe_csv", "safe_filename",
           "header_label", "csv_download", "export_buttons", "LOCAL_SUFFIX"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# Readable header of each exported column (English msgid, translated when written): the campaign columns
# (dashboard/components/campaign.py) and the other lists' columns. product_<n>_code/_name: see header_label.
COLUMN_LABELS: dict[str, str] = {
    "customer_id": N_("Customer id"), "country": N_("Country"), "segment": N_("Segment"),
    "priority": N_("Priority"), "action": N_("Action"), "tactic": N_("Tactic"), "r_score": N_("R score"),
    "f_score": N_("F score"), "m_score": N_("M score"), "recency_days": N_("Days since last order"),
    "frequency": N_("Orders"), "last_purchase": N_("Last purchase"), "gross_value": N_("Bought"),
    "returns_value": N_("Returned"), "net_value": N_("Net value"), "yearly_value": N_("Yearly value"),
    "risk_score": N_("Risk score (0-100)"), "at_risk": N_("At risk"), "revenue_at_stake": N_("Revenue at stake"),
    "currency": N_("Currency"), "customers": N_("Customers"), "revenue": N_("Revenue"),
    "stock_code": N_("Product code"), "description": N_("Product"), "quantity": N_("Quantity"),
}
_PRODUCT = re.compile(r"^product_(\d+)_(code|name)$")
LOCAL_SUFFIX = "-local"  # id of the "readable headers" button: the export button's id + this


def neutralise_csv_cell(value: object) -> object:
    """``'=1+1`` for ``=1+1``: text starting with a formula character gets a leading quote; the rest is unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def to_safe_csv(frame: pd.DataFrame, header: bool = True) -> str:
    """The frame as CSV text (RFC 4180: header row unless ``header`` is False, no index, CRLF line ends) with every
    text cell neutralised.

    Numeric and boolean columns are written unchanged; missing values are empty cells. Cells holding a
    separator, a quote, CR or LF are quoted.
    """
    safe = frame.copy()
    for name in safe.columns:
        column = safe[name]
        if not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)):
            safe[name] = column.astype(object).map(neutralise_csv_cell)
    safe.columns = [neutralise_csv_cell(str(name)) for name in safe.columns]
    return safe.to_csv(index=False, header=header, lineterminator="\r\n")


def header_label(column: str) -> str:
    """The readable header of ``column`` in the current language (``column`` itself when it has none)."""
    product = _PRODUCT.match(column)
    if product:
        text = _("Product {rank} code") if product.group(2) == "code" else _("Product {rank} name")
        return text.format(rank=product.group(1))
    return _(COLUMN_LABELS[column]) if column in COLUMN_LABELS else column


def safe_filename(*parts: str) -> str:
    """``customers-cant-lose-them-all-20261125T061012Z-3f2a9c.csv`` from name parts (letters, digits, ``-``).

    Apostrophes are dropped and every other run of characters becomes ``-``; case is kept.
    """
    slugs = [re.sub(r"[^0-9A-Za-z]+", "-", str(part).replace("'", "")).strip("-") for part in parts]
    return "-".join(slug for slug in slugs if slug)[:150] + ".csv"


def csv_download(frame: pd.DataFrame, filename: str) -> dict:
    """``dcc.Download`` data for the frame as safe CSV (UTF-8 with a BOM so spreadsheets read ``£`` right)."""
    return {"content": "\ufeff" + to_safe_csv(frame), "filename": filename, "type": "text/csv", "base64": False}


def export_buttons(button_id: str, disabled: bool = False) -> list[dbc.Button]:
    """``Export CSV`` (the contract's column names, id ``button_id``) and ``CSV, readable headers`` (the columns'
    labels in the page's language, id ``button_id + LOCAL_SUFFIX``), for a list's tools: links to the list's
    streamed file (dashboard/list_export.py), whose ``href`` a callback keeps in step with the grid."""
    title = _("Download every row matching the current filters and sort (column names for other tools: "
              "docs/EXPORTS.md)")
    link = {"external_link": True, "download": "customers.csv"}  # a download, not a page of the app
    return [
        dbc.Button(_("Export CSV"), id=button_id, color="secondary", outline=True, size="sm", disabled=disabled,
                   title=title, **link),
        dbc.Button(_("CSV, readable headers"), id=button_id + LOCAL_SUFFIX, color="link", size="sm",
                   disabled=disabled, class_name="px-1",
                   title=_("The same file with column headers in this page's language, to read in a spreadsheet "
                           "(not for an import into another tool)"), **link),
    ]
