"""Display formatting: money with the snapshot's currency, counts, shares, dates, product names."""

from __future__ import annotations

import math
import string
from datetime import datetime

import pandas as pd

__all__ = ["money", "count", "share", "number", "day", "moment", "product_name"]


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT


def money(value: float | None, currency: str = "£", decimals: int | None = None) -> str:
    """``£8,911,408`` for large amounts, ``£480.87`` below 1,000 (or fixed ``decimals``)."""
    if _missing(value):
        return "–"
    decimals = (0 if abs(value) >= 1000 else 2) if decimals is None else decimals
    sign = "-" if value < 0 else ""
    return f"{sign}{currency}{abs(value):,.{decimals}f}"


def count(value: float | None) -> str:
    """``4,338``."""
    return "–" if _missing(value) else f"{int(round(value)):,}"


def number(value: float | None, decimals: int = 1) -> str:
    """``3.2``."""
    return "–" if _missing(value) else f"{value:,.{decimals}f}"


def share(value: float | None, decimals: int = 1) -> str:
    """``25.3 %`` from 0.253."""
    return "–" if _missing(value) else f"{100 * value:.{decimals}f} %"


def day(value: datetime | pd.Timestamp | str | None) -> str:
    """``9 Dec 2011``."""
    if _missing(value):
        return "–"
    stamp = pd.Timestamp(value)
    return f"{stamp.day} {stamp.strftime('%b %Y')}"


def moment(value: datetime | pd.Timestamp | str | None) -> str:
    """``9 Dec 2011 12:50`` (UTC when the value carries a time zone)."""
    if _missing(value):
        return "–"
    stamp = pd.Timestamp(value)
    suffix = " UTC" if stamp.tzinfo is not None else ""
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC")
    return f"{stamp.day} {stamp.strftime('%b %Y %H:%M')}{suffix}"


def product_name(value: object) -> str:
    """A product description as every page shows it: ``White Hanging Heart T-light Holder``.

    The one display rule for product names (the catalogue writes them in capitals): each word capitalised,
    the rest lower case, spaces tidied; ``–`` when missing. Exports keep the catalogue's text.
    """
    if _missing(value) or (isinstance(value, str) and not value.strip()):
        return "–"
    return string.capwords(str(value).lower())
