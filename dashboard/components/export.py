"""CSV export that is safe to open in a spreadsheet (OWASP "CSV injection").

A spreadsheet treats a cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return as a
formula. :func:`neutralise_csv_cell` prefixes such **text** cells with ``'`` so they are shown as
text. Decision: numbers stay numbers — a numeric cell such as ``-12.5`` is data, written as is, so
sums still work; a *string* that starts with ``-`` (``"-x"``, even ``"-1"``) gets the quote. Column
headers are text and are neutralised too.
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["FORMULA_PREFIXES", "neutralise_csv_cell", "to_safe_csv", "safe_filename", "csv_download"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_csv_cell(value: object) -> object:
    """``'=1+1`` for ``=1+1``: text starting with a formula character gets a leading quote; the rest is unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def to_safe_csv(frame: pd.DataFrame) -> str:
    """The frame as CSV text (RFC 4180: header row, no index, CRLF line ends) with every text cell neutralised.

    Numeric and boolean columns are written unchanged; missing values are empty cells. Cells holding a
    separator, a quote, CR or LF are quoted.
    """
    safe = frame.copy()
    for name in safe.columns:
        column = safe[name]
        if not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)):
            safe[name] = column.astype(object).map(neutralise_csv_cell)
    safe.columns = [neutralise_csv_cell(str(name)) for name in safe.columns]
    return safe.to_csv(index=False, lineterminator="\r\n")


def safe_filename(*parts: str) -> str:
    """``customers-cant-lose-them-all-20261125T061012Z-3f2a9c.csv`` from name parts (letters, digits, ``-``).

    Apostrophes are dropped and every other run of characters becomes ``-``; case is kept.
    """
    slugs = [re.sub(r"[^0-9A-Za-z]+", "-", str(part).replace("'", "")).strip("-") for part in parts]
    return "-".join(slug for slug in slugs if slug)[:150] + ".csv"


def csv_download(frame: pd.DataFrame, filename: str) -> dict:
    """``dcc.Download`` data for the frame as safe CSV (UTF-8 with a BOM so spreadsheets read ``£`` right)."""
    return {"content": "\ufeff" + to_safe_csv(frame), "filename": filename, "type": "text/csv", "base64": False}
