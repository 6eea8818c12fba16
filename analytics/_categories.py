"""Text keys as pandas categoricals: each distinct text stored once, lines hold integer codes.

The loader returns invoice, stock code, customer id, description and country as categoricals with
sorted categories (cleaning converts other frames the same way), so the stages that filter and group
millions of lines work on integers (ten times less memory than Arrow strings, and filters do not copy
text), and codes compare like the text. Snapshot tables are converted back to ``str`` with
:func:`as_text`; the functions accept ``str`` columns too (the handmade test frames).

Group-bys that sum floats stay pandas group-bys (pandas adds with compensation, or in one pass when the
groups follow each other); they are given group numbers in the order of the grouping they replaced, so
the sums are the same to the bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics import schema as s

__all__ = ["TEXT_KEYS", "as_categories", "as_text", "categorical", "combined_key", "concat_rows", "first_occurrence",
           "group_codes", "isin", "positions", "rank_within", "run_starts", "shared_codes", "sorted_codes", "take_rows",
           "text_of"]

TEXT_KEYS = (s.INVOICE, s.STOCK_CODE, s.CUSTOMER_ID, s.DESCRIPTION, s.COUNTRY)


def as_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its text key columns (those present) as categoricals with sorted categories.

    Categoricals with sorted categories (``analytics.load`` makes them) are kept as they are.
    """
    converted = {}
    for name in (name for name in TEXT_KEYS if name in frame.columns):
        column = frame[name]
        if not isinstance(column.dtype, pd.CategoricalDtype):
            converted[name] = column.astype("category")
        elif not _ascending(pd.Index(column.cat.categories)):
            converted[name] = column.cat.reorder_categories(column.cat.categories.sort_values())
    return frame.assign(**converted) if converted else frame


def _ascending(categories: pd.Index) -> bool:
    """Whether the (distinct) categories are sorted; text is compared by Arrow, in place (UTF-8 byte order is
    code point order, Python's)."""
    if categories.dtype != "str" or len(categories) < 2:
        return bool(categories.is_monotonic_increasing)
    text = pa.array(categories.array)
    return bool(pc.all(pc.less(text.slice(0, len(text) - 1), text.slice(1))).as_py())


def categorical(codes: np.ndarray, categories: pd.Index) -> pd.Categorical:
    """``pd.Categorical.from_codes(codes, categories, validate=False)`` for categories known to be distinct
    (a dictionary, sorted distinct values, customer ids), without pandas hashing every category to check it:
    2.4 s for the 3.8 M invoice numbers of a 1 M-customer file. Uses pandas' own unchecked constructor of
    the dtype when it has one (``CategoricalDtype._from_fastpath``), else the checked one."""
    unchecked = getattr(pd.CategoricalDtype, "_from_fastpath", None)
    dtype = unchecked(categories, False) if unchecked is not None else pd.CategoricalDtype(categories, ordered=False)
    return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)


def as_text(values: pd.Series | pd.Index) -> pd.Series | pd.Index:
    """Values as the ``str`` dtype (categoricals are expanded by :func:`text_of`; str stays as it is)."""
    if values.dtype == "str":
        return values
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        text = text_of(values.cat.codes.to_numpy(), pd.Index(values.cat.categories))
        return pd.Series(text, index=values.index, name=values.name, copy=False)
    if isinstance(values, pd.CategoricalIndex):
        return pd.Index(text_of(values.codes, pd.Index(values.categories)), name=values.name)
    return values.astype("str")


def text_of(codes: np.ndarray, distinct: pd.Index) -> pd.api.extensions.ExtensionArray:
    """``distinct.take(codes)`` as a ``str`` array (code -1: missing), copied by Arrow: no Python string is
    made per row (``Categorical.astype("str")`` makes one for each, ten times slower on millions of rows)."""
    text = pa.array(as_text(distinct).array)
    taken = text.take(pa.array(codes, mask=codes < 0)) if len(codes) else text.slice(0, 0)
    return pd.array(taken, dtype="str")


def positions(index: pd.Index, values: pd.Series) -> np.ndarray:
    """``index.get_indexer(values)`` (``index`` has distinct values); for a categorical, each category is looked
    up once."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        found = np.append(_lookup(index, pd.Index(values.cat.categories)), -1)
        return found[values.cat.codes.to_numpy()]
    return _lookup(index, values)


def _lookup(index: pd.Index, values: pd.Series | pd.Index) -> np.ndarray:
    """Position in ``index`` of each value (-1: absent). Text is looked up by Arrow (``index_in``), which hashes
    the strings where they are: pandas would first make a Python string of each (twice as slow on 1 M ids)."""
    if index.dtype == "str" and values.dtype == "str":
        text, pool = pa.array(values.array), pa.array(index.array)
        if text.equals(pool):  # often so: a categorical's categories are the index (the customers' ids)
            return np.arange(len(text), dtype=np.int64)
        return pc.index_in(text, value_set=pool).fill_null(-1).to_numpy().astype(np.int64)
    return index.get_indexer(values)  # type: ignore[arg-type]  # pandas-stubs: any array-like works


def isin(values: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """``np.isin(values, pool)`` by hashing: on large integer arrays numpy sorts both (or builds a
    table as large as their range), which is ten times slower."""
    return pd.Series(values, copy=False).isin(pool).to_numpy()


def shared_codes(*columns: pd.Series) -> list[np.ndarray]:
    """Integer codes of several columns in one coding (equal values, equal codes).

    Categoricals of one dtype (cut from the same cleaned frame) already share their codes; otherwise
    each column's distinct values (a categorical's categories) are pooled and looked up once.
    """
    first = columns[0].dtype
    if isinstance(first, pd.CategoricalDtype) and all(c.dtype == first for c in columns):
        return [c.cat.codes.to_numpy().astype(np.int64) for c in columns]
    distinct = pd.Index(pd.unique(np.concatenate([
        np.asarray(c.cat.categories if isinstance(c.dtype, pd.CategoricalDtype) else pd.unique(c), dtype=object)
        for c in columns])))
    return [positions(distinct, c).astype(np.int64) for c in columns]


def sorted_codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer code of each value (null: -1) and the distinct values the codes number, in order.

    A categorical's own codes and categories (sorted: :func:`as_categories` made them), without a
    pass over the rows; otherwise ``pd.factorize(sort=True)``. Codes compare like the values.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy().astype(np.int64), pd.Index(values.cat.categories)
    codes, distinct = pd.factorize(values, sort=True)
    return codes.astype(np.int64), pd.Index(distinct)


def combined_key(*columns: pd.Series | np.ndarray) -> np.ndarray:
    """One int64 per row, equal on two rows exactly when all their columns' values are (nulls equal)."""
    key, size = np.zeros(len(columns[0]), dtype=np.int64), 1
    for column in columns:
        if isinstance(column, pd.Series) and isinstance(column.dtype, pd.CategoricalDtype):
            codes, width = column.cat.codes.to_numpy().astype(np.int64) + 1, len(column.cat.categories) + 1
        elif isinstance(column, np.ndarray) and column.dtype.kind in "iub" and len(column):  # codes already
            low = int(column.min())
            codes, width = column.astype(np.int64) - low, int(column.max()) - low + 1
        else:
            codes, distinct = pd.factorize(column, use_na_sentinel=False)
            width = len(distinct) + 1
        if size * width >= 2 ** 62:  # keep the combined key inside int64: renumber it first
            key, seen = pd.factorize(key)
            size = len(seen)
        key, size = key * width + codes, size * width
    return key


def run_starts(values: np.ndarray) -> np.ndarray:
    """True on the first element of each run of equal consecutive values."""
    return np.r_[True, values[1:] != values[:-1]] if len(values) else np.zeros(0, dtype=bool)


def rank_within(groups: np.ndarray) -> np.ndarray:
    """1, 2, 3... within each run of equal consecutive values."""
    starts = np.flatnonzero(run_starts(groups))
    return np.arange(len(groups)) - np.repeat(starts, np.diff(np.r_[starts, len(groups)])) + 1


def group_codes(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(key)``: each row's group (numbered in order of first appearance) and the distinct
    keys, hashing one key per run of equal keys only (the lines of an invoice follow each other)."""
    if len(key) == 0:
        return np.zeros(0, dtype=np.int64), key
    starts = np.flatnonzero(run_starts(key))
    codes, distinct = pd.factorize(key[starts])
    return np.repeat(codes.astype(np.int64), np.diff(np.r_[starts, len(key)])), distinct


def first_occurrence(*columns: pd.Series | np.ndarray) -> np.ndarray:
    """True on the first row of each distinct combination of the columns' values (nulls are values).

    ``groupby(...).agg(n=("_first", "sum"))`` then counts distinct values per group, like ``nunique``
    but in one hashing pass over integers instead of a sort per group. Only the first row of each run
    of equal rows is hashed (the lines of an invoice follow each other).
    """
    key = combined_key(*columns)
    starts = np.flatnonzero(run_starts(key))
    first = np.zeros(len(key), dtype=bool)
    first[starts[~pd.Series(key[starts]).duplicated().to_numpy()]] = True
    return first


def concat_rows(parts: Sequence[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    """``pd.concat`` of the parts' ``columns``, numbered 0, 1, 2... A categorical whose parts share one dtype (cut
    from one frame) is put together by its codes: pandas would hash and check its categories on every call, even
    of a few rows (1.5 s and 600 MB for the 3.8 M invoice numbers of a 1 M-customer file)."""
    joined: dict[str, Any] = {}  # columns: Series or Categorical
    for name in columns:
        dtype = parts[0][name].dtype
        if isinstance(dtype, pd.CategoricalDtype) and all(part[name].dtype is dtype for part in parts):
            codes = np.concatenate([part[name].cat.codes.to_numpy() for part in parts])
            joined[name] = pd.Categorical.from_codes(codes, dtype=dtype, validate=False)
        else:
            joined[name] = pd.concat([part[name] for part in parts], ignore_index=True)
    return pd.DataFrame(joined, columns=list(columns))


def take_rows(parts: Sequence[pd.DataFrame], rows: np.ndarray, columns: Sequence[str]) -> pd.DataFrame:
    """``columns`` of the rows ``rows`` (numbered across ``parts`` put one after the other), in that order,
    without putting the parts together (a block of a large table built from its sources)."""
    offsets = np.cumsum([0, *map(len, parts)])
    part = np.searchsorted(offsets, rows, side="right") - 1
    taken = concat_rows([frame[list(columns)].take(rows[part == k] - offsets[k]) for k, frame in enumerate(parts)],
                        columns)  # part 0's rows, then part 1's...
    placed = np.empty(len(rows), dtype=np.int64)
    placed[np.argsort(part, kind="stable")] = np.arange(len(rows))
    return taken.take(placed).reset_index(drop=True)
