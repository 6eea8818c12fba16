"""Display formatting, one home for each format: money with the snapshot's currency, counts, shares, dates,
times (UTC clock, '5 min ago'), durations and product names — in the language of the request (:mod:`dashboard.i18n`).

Numbers and dates go through Babel (CLDR): ``£8,911,408`` / ``8 911 408 £``, ``9 Dec 2011`` / ``9 déc. 2011``.
Amounts are rounded exactly as Python's own formatting does (the float's exact value, ties to even), so the
English output is the one the dashboard always showed. The currency is the configured symbol
(``dashboard.currency``), placed where the language puts it.
"""

from __future__ import annotations

import math
import re
import string
from datetime import datetime, timezone
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache

import pandas as pd
from babel import Locale
from babel.dates import format_datetime
from babel.numbers import get_decimal_symbol, get_group_symbol, get_minus_sign_symbol

from dashboard.i18n import _, current_language, ngettext

__all__ = ["money", "count", "share", "number", "day", "moment", "utc_stamp", "ago", "clock", "duration",
           "product_name"]

_PERCENT_SUFFIX = {"en": " %"}  # house style in English: "25.3 %"; other languages: their CLDR pattern


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT


@lru_cache(maxsize=16)
def _affixes(lang: str, kind: str) -> tuple[str, str]:
    """(prefix, suffix) around the digits of the language's ``currency`` or ``percent`` pattern."""
    locale = _locale(lang)
    pattern = (locale.currency_formats["standard"] if kind == "currency" else locale.percent_formats[None]).pattern
    match = re.match(r"^([^#0,.]*)[#0,.]+(.*?)$", pattern.split(";")[0])
    return (match.group(1), match.group(2)) if match else ("", "")


@lru_cache(maxsize=16)
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


@lru_cache(maxsize=16)
def _separators(lang: str) -> dict[int, str]:
    """``str.translate`` table from Python's ``,`` and ``.`` to the language's group and decimal symbols."""
    locale = _locale(lang)
    return str.maketrans({",": get_group_symbol(locale), ".": get_decimal_symbol(locale)})


def _digits(value: float, decimals: int, grouping: bool = True) -> str:
    """``|value|`` with ``decimals`` decimals and the language's separators, rounded like ``f"{value:.2f}"``
    (Python's formatting rounds the float's exact value, ties to even: CLDR's ``#,##0.00`` with Babel gives the
    same digits, several times slower; tests/dashboard/test_format.py compares both)."""
    text = f"{abs(value):{',' if grouping else ''}.{max(decimals, 0)}f}"
    return text.translate(_separators(current_language()))


@lru_cache(maxsize=16)
def _minus(lang: str) -> str:
    return get_minus_sign_symbol(_locale(lang))


def _sign(negative: bool) -> str:
    return _minus(current_language()) if negative else ""


def _rounds_negative(value: float, decimals: int) -> bool:
    """Whether ``f"{value:.{decimals}f}"`` starts with a minus (it does for -0.001 at 2 decimals)."""
    return Decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN).is_signed()


def money(value: float | None, currency: str = "£", decimals: int | None = None) -> str:
    """``£8,911,408`` for large amounts, ``£480.87`` below 1,000 (or fixed ``decimals``); ``8 911 408 £`` in
    French."""
    if value is None or _missing(value):
        return "–"
    decimals = (0 if abs(value) >= 1000 else 2) if decimals is None else decimals
    prefix, suffix = _affixes(current_language(), "currency")
    return (_sign(value < 0) + prefix.replace("¤", currency) + _digits(value, decimals)
            + suffix.replace("¤", currency))


def count(value: float | None) -> str:
    """``4,338`` (``4 338`` in French)."""
    if value is None or _missing(value):
        return "–"
    whole = int(round(value))
    return _sign(whole < 0) + _digits(whole, 0)


def number(value: float | None, decimals: int = 1) -> str:
    """``3.2`` (``3,2`` in French)."""
    if value is None or _missing(value):
        return "–"
    return _sign(_rounds_negative(value, decimals)) + _digits(value, decimals)


def share(value: float | None, decimals: int = 1) -> str:
    """``25.3 %`` from 0.253 (``25,3 %`` in French)."""
    if value is None or _missing(value):
        return "–"
    lang = current_language()
    percent = 100 * value
    suffix = _PERCENT_SUFFIX.get(lang, _affixes(lang, "percent")[1])
    return _sign(_rounds_negative(percent, decimals)) + _digits(percent, decimals, grouping=False) + suffix


def _babel_time(stamp: pd.Timestamp, pattern: str) -> str:
    """``stamp`` (naive: as is; aware: in UTC) with a CLDR date pattern in the current language."""
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return format_datetime(stamp.to_pydatetime(), pattern, tzinfo=timezone.utc, locale=_locale(current_language()))


def day(value: datetime | pd.Timestamp | str | None) -> str:
    """``9 Dec 2011`` (``9 déc. 2011``)."""
    if value is None or _missing(value):
        return "–"
    return _babel_time(pd.Timestamp(value), "d MMM y")


def moment(value: datetime | pd.Timestamp | str | None) -> str:
    """``9 Dec 2011 12:50`` (UTC when the value carries a time zone)."""
    if value is None or _missing(value):
        return "–"
    stamp = pd.Timestamp(value)
    return _babel_time(stamp, "d MMM y HH:mm") + (" UTC" if stamp.tzinfo is not None else "")


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
        return _("just now")
    if seconds < 3600:
        return _("%(num)d min ago") % {"num": int(seconds // 60)}
    if seconds < 48 * 3600:
        return _("%(num)d h ago") % {"num": int(seconds // 3600)}
    days = int(seconds // 86400)
    return ngettext("%(num)d day ago", "%(num)d days ago", days) % {"num": days}


def clock(value: object, with_day: bool = True) -> str:
    """``25 Nov 08:21:03`` (UTC), or only the time."""
    stamp = utc_stamp(value)
    if stamp is None:
        return "–"
    return _babel_time(stamp, "d MMM HH:mm:ss" if with_day else "HH:mm:ss")


def duration(seconds: float | None) -> str:
    """``0.4 s``, ``12 s``, ``3 min 05 s`` (``0,4 s`` in French)."""
    if seconds is None:
        return "–"
    if seconds < 10:
        return f"{number(seconds, 1)} s"
    if seconds < 60:
        return f"{_digits(seconds, 0, grouping=False)} s"
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
