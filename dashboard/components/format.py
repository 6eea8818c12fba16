"""Display formatting, one home for each format: money with the snapshot's currency, counts, shares, dates,
times (UTC clock, '5 min ago'), durations and product names."""

from __future__ import annotations

import math
import string
from datetime import datetime

import pandas as pd

__all__ = ["money", "count", "share", "number", "day", "moment", "utc_stamp", "ago", "clock", "duration",
           "product_name"]


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT


def money(value: float | None, currency: str = "£", decimals: int | None = None) -> str:
    """``£8,911,408`` for large amounts, ``£480.87`` below 1,000 (or fixed ``decimals``)."""
    if value is None or _missing(value):
        return "–"
    decimals = (0 if abs(value) >= 1000 else 2) if decimals is None else decimals
    sign = "-" if value < 0 else ""
    return f"{sign}{currency}{abs(value):,.{decimals}f}"


def count(value: float | None) -> str:
    """``4,338``."""
    return "–" if value is None or _missing(value) else f"{int(round(value)):,}"


def number(value: float | None, decimals: int = 1) -> str:
    """``3.2``."""
    return "–" if value is None or _missing(value) else f"{value:,.{decimals}f}"


def share(value: float | None, decimals: int = 1) -> str:
    """``25.3 %`` from 0.253."""
    return "–" if value is None or _missing(value) else f"{100 * value:.{decimals}f} %"


def day(value: datetime | pd.Timestamp | str | None) -> str:
    """``9 Dec 2011``."""
    if value is None or _missing(value):
        return "–"
    stamp = pd.Timestamp(value)
    return f"{stamp.day} {stamp.strftime('%b %Y')}"


def moment(value: datetime | pd.Timestamp | str | None) -> str:
    """``9 Dec 2011 12:50`` (UTC when the value carries a time zone)."""
    if value is None or _missing(value):
        return "–"
    stamp = pd.Timestamp(value)
    suffix = " UTC" if stamp.tzinfo is not None else ""
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC")
    return f"{stamp.day} {stamp.strftime('%b %Y %H:%M')}{suffix}"


def utc_stamp(value: object) -> pd.Timestamp | None:
    """A UTC timestamp from an ISO string or datetime (naive values are taken as UTC); None if unreadable."""
    if not isinstance(value, (str, datetime)) or value == "":
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        return None
    if pd.isna(stamp):
        return None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def ago(value: object, now: datetime) -> str:
    """``just now``, ``5 min ago``, ``3 h ago``, ``2 days ago`` (– when unknown)."""
    stamp = utc_stamp(value)
    if stamp is None:
        return "–"
    seconds = (pd.Timestamp(now).tz_convert("UTC") - stamp).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 48 * 3600:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} days ago"


def clock(value: object, with_day: bool = True) -> str:
    """``25 Nov 08:21:03`` (UTC), or only the time."""
    stamp = utc_stamp(value)
    if stamp is None:
        return "–"
    return stamp.strftime("%H:%M:%S") if not with_day else f"{stamp.day} {stamp.strftime('%b %H:%M:%S')}"


def duration(seconds: float | None) -> str:
    """``0.4 s``, ``12 s``, ``3 min 05 s``."""
    if seconds is None:
        return "–"
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest:02d} s"


def product_name(value: object) -> str:
    """A product description as every page shows it: ``White Hanging Heart T-light Holder``.

    The one display rule for product names (the catalogue writes them in capitals): each word capitalised,
    the rest lower case, spaces tidied; ``–`` when missing. Exports keep the catalogue's text.
    """
    if _missing(value) or (isinstance(value, str) and not value.strip()):
        return "–"
    return string.capwords(str(value).lower())
