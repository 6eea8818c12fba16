"""Server-side paging for AG Grid's infinite row model: filter, sort and slice a DataFrame.

Everything here treats the grid's request as **untrusted input** (it comes from the browser):
row bounds are coerced to ints and clamped, sort and filter column ids must be in an allow-list
(``columns``: column id -> kind ``text`` | ``number`` | ``date``), filter types must be known for the
column's kind, and anything else is ignored rather than raised — a tampered request gets a valid
answer, never a 500.

A ``choice`` column (e.g. the segment) is filtered by exact value only: the grid offers its values as a list
(filter options ``is:<value>``, see :func:`choice_filter_params`) and ``equals``/``notEqual``; ``contains``
and the other partial matches are refused, so "Loyal" never matches "Potential Loyalists".

The grid's filter and sort travel in the page URL (``filter=<JSON filter model>``, ``sort=col:asc,col:desc``)
so that a filtered, sorted list can be shared: :func:`sort_from_query` and :func:`filter_from_query` read
them back, as untrusted input, when the page loads.

:func:`where_sql` and :func:`order_sql` translate the same request to SQL (for DuckDB) with the same
semantics, for lists too long to hold as a frame (the customers).

Filter semantics follow AG Grid's defaults: text filters are case-insensitive; ``inRange`` is
inclusive of both bounds (set ``inRangeInclusive`` in the column's ``filterParams`` so the grid's
own wording matches); date filters compare calendar days; blank/notBlank test for missing values.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import TypeVar

import pandas as pd

from dashboard.i18n import N_, SOURCE_LANGUAGE, _, current_language

__all__ = [
    "LOCALE_TEXT",
    "locale_text",
    "CHOICE_FILTERS",
    "CHOICE_PREFIX",
    "DATE_FILTERS",
    "MAX_BLOCK_ROWS",
    "NUMBER_FILTERS",
    "TEXT_FILTERS",
    "choice_filter_params",
    "filter_from_query",
    "filter_rows",
    "order_sql",
    "query_rows",
    "row_window",
    "sort_from_query",
    "sort_rows",
    "where_sql",
]

MAX_BLOCK_ROWS = 500  # most rows one request may ask for
MAX_TEXT = 200  # longest filter text considered (longer is cut)
MAX_CONDITIONS = 10  # most conditions in one combined filter
TEXT_FILTERS = ("contains", "notContains", "equals", "notEqual", "startsWith", "endsWith", "blank", "notBlank")
NUMBER_FILTERS = ("equals", "notEqual", "greaterThan", "greaterThanOrEqual", "lessThan", "lessThanOrEqual",
                  "inRange", "blank", "notBlank")
DATE_FILTERS = ("equals", "notEqual", "greaterThan", "lessThan", "inRange", "blank", "notBlank")
CHOICE_FILTERS = ("equals", "notEqual")  # besides one "is:<value>" option per value
CHOICE_PREFIX = "is:"
MAX_QUERY_CHARS = 4000  # longest filter or sort text read from a URL
Kinds = Mapping[str, str]  # column id -> "text" | "number" | "date" | "choice"


def _as_int(value: object) -> int | None:
    """An int from an int or an integral float (never bool, str or anything else)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def row_window(start: object, end: object, total: int, max_rows: int = MAX_BLOCK_ROWS) -> tuple[int, int]:
    """Safe ``[start, end)`` bounds within ``0..total``, at most ``max_rows`` long.

    Missing or invalid values fall back to ``start=0`` and ``end=start+max_rows``.
    """
    first = _as_int(start)
    first = min(max(first if first is not None else 0, 0), total)
    last = _as_int(end)
    last = first + max_rows if last is None else last
    return first, min(max(last, first), first + max_rows, total)


def _sort_keys(sort_model: object, columns: Kinds) -> list[tuple[str, bool]]:
    """Valid ``(column, ascending)`` pairs of a sort model, each column once."""
    keys: dict[str, bool] = {}
    for entry in sort_model if isinstance(sort_model, list) else []:
        if not isinstance(entry, Mapping):
            continue
        col, direction = entry.get("colId"), entry.get("sort")
        if isinstance(col, str) and col in columns and col not in keys and direction in ("asc", "desc"):
            keys[col] = direction == "asc"
    return list(keys.items())


def sort_rows(frame: pd.DataFrame, sort_model: object, columns: Kinds,
              default: Sequence[tuple[str, bool]] = (), tiebreak: str | None = None) -> pd.DataFrame:
    """``frame`` sorted by the grid's sort model (``[{colId, sort: asc|desc}, ...]``, first key first).

    Invalid entries are ignored. The ``default`` ``(column, ascending)`` keys follow the grid's keys
    (they are the whole order when the model has no valid entry), then ``tiebreak`` (ascending) makes
    the order total, so pages never overlap. Text sorts ignore case; missing values go last.
    """
    keys = _sort_keys(sort_model, columns)
    for col, ascending in [*default, *([(tiebreak, True)] if tiebreak else [])]:
        if col in frame.columns and col not in dict(keys):
            keys.append((col, ascending))
    if not keys:
        return frame
    return frame.sort_values([c for c, _ in keys], ascending=[a for _, a in keys], kind="mergesort",
                             na_position="last", key=_sort_key)


def _sort_key(series: pd.Series) -> pd.Series:
    return series.str.lower() if pd.api.types.is_string_dtype(series) else series


def filter_rows(frame: pd.DataFrame, filter_model: object, columns: Kinds) -> pd.DataFrame:
    """Rows of ``frame`` passing every valid column filter of the grid's filter model.

    A column filter is ``{filterType, type, filter[, filterTo]}`` (dates: ``dateFrom``/``dateTo``) or a
    combination ``{filterType, operator: AND|OR, conditions: [...]}``. Unknown columns, kinds, types or
    values are ignored.
    """
    mask = pd.Series(True, index=frame.index)
    for col, model in filter_model.items() if isinstance(filter_model, Mapping) else []:
        if isinstance(col, str) and col in columns and col in frame.columns and isinstance(model, Mapping):
            column_mask = _model_mask(frame[col], columns[col], model)
            if column_mask is not None:
                mask &= column_mask
    return frame[mask]


def _grid_kind(kind: str) -> str:
    """The filterType the grid sends for a column kind (a choice column uses AG Grid's text filter)."""
    return "text" if kind == "choice" else kind


def _model_mask(series: pd.Series, kind: str, model: Mapping) -> pd.Series | None:
    if model.get("filterType") != _grid_kind(kind):
        return None
    if "conditions" in model or "condition1" in model:
        found = model.get("conditions")
        found = found if isinstance(found, list) else [model.get("condition1"), model.get("condition2")]
        masks = [m for m in (_condition_mask(series, kind, c) for c in found[:MAX_CONDITIONS]
                             if isinstance(c, Mapping)) if m is not None]
        if not masks:
            return None
        combined = masks[0]
        for mask in masks[1:]:
            combined = (combined | mask) if model.get("operator") == "OR" else (combined & mask)
        return combined
    return _condition_mask(series, kind, model)


def _condition_mask(series: pd.Series, kind: str, cond: Mapping) -> pd.Series | None:
    kind_of = cond.get("filterType", _grid_kind(kind))
    op = cond.get("type")
    if kind_of != _grid_kind(kind) or not isinstance(op, str):
        return None
    if kind == "choice":
        return _choice_mask(series, op, cond.get("filter"))
    if op in ("blank", "notBlank"):
        blank = series.isna() | (series.astype("string").str.strip() == "") if kind == "text" else series.isna()
        return blank.fillna(True) if op == "blank" else ~blank.fillna(True)
    if kind == "text" and op in TEXT_FILTERS:
        return _text_mask(series, op, cond.get("filter"))
    if kind == "number" and op in NUMBER_FILTERS:
        return _compare(series, op, _as_number(cond.get("filter")), _as_number(cond.get("filterTo")))
    if kind == "date" and op in DATE_FILTERS:
        days = pd.to_datetime(series, errors="coerce").dt.normalize()
        return _compare(days, op, _as_day(cond.get("dateFrom")), _as_day(cond.get("dateTo")))
    return None


def _text_mask(series: pd.Series, op: str, value: object) -> pd.Series | None:
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        return None
    needle = str(value)[:MAX_TEXT].lower()
    text = series.astype("string").str.lower().fillna("")
    masks = {
        "contains": lambda: text.str.contains(needle, regex=False),
        "notContains": lambda: ~text.str.contains(needle, regex=False),
        "equals": lambda: text == needle,
        "notEqual": lambda: text != needle,
        "startsWith": lambda: text.str.startswith(needle),
        "endsWith": lambda: text.str.endswith(needle),
    }
    return masks[op]().astype(bool)


def _choice_mask(series: pd.Series, op: str, value: object) -> pd.Series | None:
    """Exact value: ``is:<value>`` (as listed, case-sensitive), ``equals``/``notEqual`` (case-insensitive)."""
    if op.startswith(CHOICE_PREFIX):
        return (series.astype("string") == op[len(CHOICE_PREFIX):][:MAX_TEXT]).fillna(False).astype(bool)
    if op in CHOICE_FILTERS:
        return _text_mask(series, op, value)
    return None


def choice_filter_params(values: Sequence[str], labels: Mapping[str, str] | None = None) -> dict:
    """``filterParams`` of AG Grid's text filter offering exactly ``values`` as a list (no text to type), each
    shown as ``labels[value]`` when given (a segment's name in the page's language; the value stays the id).

    Each option's predicate is ``choiceIs(<value as a JSON string>)`` from assets/dashAgGridComponentFunctions.js.
    """
    labels = labels or {}
    options = [{"displayKey": f"{CHOICE_PREFIX}{value}", "displayName": labels.get(value, value), "numberOfInputs": 0,
                "predicate": {"function": f"choiceIs({json.dumps(value)})"}}  # AG Grid drops options without one
               for value in values]
    return {"filterOptions": ["empty", *options], "defaultOption": "empty", "maxNumConditions": 1,
            "buttons": ["reset"]}


def sort_from_query(text: object, columns: Kinds) -> list[dict]:
    """A grid sort model from ``col:asc,col:desc`` (the URL's ``sort``); unknown columns and directions dropped."""
    if not isinstance(text, str) or len(text) > MAX_QUERY_CHARS:
        return []
    pairs = [part.rsplit(":", 1) for part in text.split(",") if ":" in part]
    return [{"colId": col, "sort": direction} for col, direction in pairs
            if col in columns and direction in ("asc", "desc")][: len(columns)]


def filter_from_query(text: object, columns: Kinds) -> dict:
    """A grid filter model from the URL's ``filter`` (JSON): only known columns whose model is an object.

    Anything unreadable gives no filter; the values themselves are checked again by :func:`filter_rows`.
    """
    if not isinstance(text, str) or not text or len(text) > MAX_QUERY_CHARS:
        return {}
    try:
        model = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(model, dict):
        return {}
    return {col: value for col, value in model.items() if col in columns and isinstance(value, dict)
            and value.get("filterType") == _grid_kind(columns[col])}


def _as_number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _as_day(value: object) -> pd.Timestamp | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    stamp = pd.to_datetime(value, errors="coerce")
    return None if pd.isna(stamp) else stamp.normalize()


Bound = TypeVar("Bound", float, pd.Timestamp)  # a number filter's bounds, or a date filter's


def _compare(series: pd.Series, op: str, low: Bound | None, high: Bound | None) -> pd.Series | None:
    """Comparison of ``series`` with ``low`` (and ``high`` for inRange); missing values never match."""
    if low is None:
        return None
    if op == "inRange":
        if high is None:
            return None
        low, high = min(low, high), max(low, high)
        mask = (series >= low) & (series <= high)
    else:
        mask = {"equals": series == low, "notEqual": series != low, "greaterThan": series > low,
                "greaterThanOrEqual": series >= low, "lessThan": series < low,
                "lessThanOrEqual": series <= low}[op]
    return mask.fillna(False).astype(bool) & series.notna()


def query_rows(frame: pd.DataFrame, request: object, columns: Kinds, default_sort: Sequence[tuple[str, bool]] = (),
               tiebreak: str | None = None, max_rows: int = MAX_BLOCK_ROWS) -> tuple[pd.DataFrame, int]:
    """One block of rows for a ``getRowsRequest``: filtered, sorted, sliced; and the filtered row count.

    Returns ``(rows, row_count)``; ``rows`` has at most ``max_rows`` rows.
    """
    request = request if isinstance(request, Mapping) else {}
    filtered = filter_rows(frame, request.get("filterModel"), columns)
    ordered = sort_rows(filtered, request.get("sortModel"), columns, default_sort, tiebreak)
    start, end = row_window(request.get("startRow"), request.get("endRow"), len(ordered), max_rows)
    return ordered.iloc[start:end], len(ordered)


# --- the same request as SQL (DuckDB), for lists too long to hold as a frame --------------------------------------
# Column names come from the allow-list only (and are quoted); every value the browser sent is a parameter.
def _ident(col: str) -> str:
    return '"' + col.replace('"', '""') + '"'


def order_sql(sort_model: object, columns: Kinds, default: Sequence[tuple[str, bool]] = (),
              tiebreak: str | None = None) -> str:
    """``ORDER BY`` terms equal to :func:`sort_rows`: grid keys, then ``default``, then ``tiebreak``; text and
    choice columns ignore case; missing values last. Every column named must exist in the query."""
    keys = _sort_keys(sort_model, columns)
    for col, ascending in [*default, *([(tiebreak, True)] if tiebreak else [])]:
        if col not in dict(keys):
            keys.append((col, ascending))
    terms = [f"{_sql_sort_key(col, columns.get(col))} {'ASC' if ascending else 'DESC'} NULLS LAST"
             for col, ascending in keys]
    return ", ".join(terms) or "1"


def _sql_sort_key(col: str, kind: str | None) -> str:
    return f"lower({_ident(col)})" if kind in ("text", "choice") else _ident(col)


def where_sql(filter_model: object, columns: Kinds) -> tuple[str, list[object]]:
    """A ``WHERE`` condition and its parameters equal to :func:`filter_rows` (``TRUE`` when nothing applies)."""
    parts: list[str] = []
    params: list[object] = []
    for col, model in filter_model.items() if isinstance(filter_model, Mapping) else []:
        if isinstance(col, str) and col in columns and isinstance(model, Mapping):
            found = _model_sql(_ident(col), columns[col], model)
            if found is not None:
                parts.append(found[0])
                params += found[1]
    return " AND ".join(parts) or "TRUE", params


Condition = tuple[str, list[object]]  # SQL boolean (never NULL) and its parameters


def _model_sql(col: str, kind: str, model: Mapping) -> Condition | None:
    if model.get("filterType") != _grid_kind(kind):
        return None
    if "conditions" in model or "condition1" in model:
        found = model.get("conditions")
        found = found if isinstance(found, list) else [model.get("condition1"), model.get("condition2")]
        conds = [c for c in (_condition_sql(col, kind, c) for c in found[:MAX_CONDITIONS] if isinstance(c, Mapping))
                 if c is not None]
        if not conds:
            return None
        joiner = " OR " if model.get("operator") == "OR" else " AND "
        return "(" + joiner.join(sql for sql, _ in conds) + ")", [p for _, params in conds for p in params]
    return _condition_sql(col, kind, model)


def _condition_sql(col: str, kind: str, cond: Mapping) -> Condition | None:
    kind_of = cond.get("filterType", _grid_kind(kind))
    op = cond.get("type")
    if kind_of != _grid_kind(kind) or not isinstance(op, str):
        return None
    if kind == "choice":
        if op.startswith(CHOICE_PREFIX):
            return f"coalesce(CAST({col} AS VARCHAR) = ?, false)", [op[len(CHOICE_PREFIX):][:MAX_TEXT]]
        return _text_sql(col, op, cond.get("filter")) if op in CHOICE_FILTERS else None
    if op in ("blank", "notBlank"):
        blank = f"({col} IS NULL OR trim(CAST({col} AS VARCHAR)) = '')" if kind == "text" else f"({col} IS NULL)"
        return (blank if op == "blank" else f"NOT {blank}"), []
    if kind == "text" and op in TEXT_FILTERS:
        return _text_sql(col, op, cond.get("filter"))
    if kind == "number" and op in NUMBER_FILTERS:
        return _compare_sql(col, op, _as_number(cond.get("filter")), _as_number(cond.get("filterTo")))
    if kind == "date" and op in DATE_FILTERS:
        low, high = _as_day(cond.get("dateFrom")), _as_day(cond.get("dateTo"))
        return _compare_sql(f"CAST({col} AS DATE)", op, low.date() if low is not None else None,
                            high.date() if high is not None else None)
    return None


def _text_sql(col: str, op: str, value: object) -> Condition | None:
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        return None
    text = f"lower(coalesce(CAST({col} AS VARCHAR), ''))"
    sql = {"contains": f"contains({text}, ?)", "notContains": f"NOT contains({text}, ?)", "equals": f"{text} = ?",
           "notEqual": f"{text} <> ?", "startsWith": f"starts_with({text}, ?)", "endsWith": f"suffix({text}, ?)"}
    return sql[op], [str(value)[:MAX_TEXT].lower()]


def _compare_sql(col: str, op: str, low: object, high: object) -> Condition | None:
    """Comparison with ``low`` (and ``high`` for inRange, bounds in either order); missing values never match."""
    if low is None:
        return None
    if op == "inRange":
        if high is None:
            return None
        return f"coalesce({col} BETWEEN least(?, ?) AND greatest(?, ?), false)", [low, high, low, high]
    sign = {"equals": "=", "notEqual": "<>", "greaterThan": ">", "greaterThanOrEqual": ">=", "lessThan": "<",
            "lessThanOrEqual": "<="}[op]
    return f"coalesce({col} {sign} ?, false)", [low]
# AG Grid's own texts (pagination, filter menus), translated: ``dashGridOptions={"localeText": locale_text()}``.
LOCALE_TEXT: dict[str, str] = {
    "page": N_("Page"), "of": N_("of"), "to": N_("to"), "more": N_("more"), "next": N_("Next"),
    "last": N_("Last"), "first": N_("First"), "previous": N_("Previous"), "firstPage": N_("First page"),
    "lastPage": N_("Last page"), "nextPage": N_("Next page"), "previousPage": N_("Previous page"),
    "loadingOoo": N_("Loading…"), "noRowsToShow": N_("No rows to show"), "filterOoo": N_("Filter…"),
    "equals": N_("Equals"), "notEqual": N_("Does not equal"), "blank": N_("Blank"), "notBlank": N_("Not blank"),
    "empty": N_("Choose one"), "lessThan": N_("Less than"), "greaterThan": N_("Greater than"),
    "lessThanOrEqual": N_("Less than or equal to"), "greaterThanOrEqual": N_("Greater than or equal to"),
    "inRange": N_("Between"), "inRangeStart": N_("From"), "inRangeEnd": N_("To"), "contains": N_("Contains"),
    "notContains": N_("Does not contain"), "startsWith": N_("Begins with"), "endsWith": N_("Ends with"),
    "before": N_("Before"), "after": N_("After"), "andCondition": N_("AND"), "orCondition": N_("OR"),
    "applyFilter": N_("Apply"), "resetFilter": N_("Reset"), "clearFilter": N_("Clear"), "cancelFilter": N_("Cancel"),
    "dateFormatOoo": N_("yyyy-mm-dd"), "ariaFilterValue": N_("Filter value"), "ariaFilterInput": N_("Filter input"),
}


def locale_text() -> dict[str, str]:
    """AG Grid's ``localeText`` in the current language (empty in English: the grid's own texts)."""
    if current_language() == SOURCE_LANGUAGE:
        return {}
    return {key: _(text) for key, text in LOCALE_TEXT.items()}
