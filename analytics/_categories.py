"""Text keys as pandas categoricals: each distinct text stored once, lines hold integer codes.

Cleaning turns invoice, stock code, customer id, description and country into categoricals, so the
stages that filter and group millions of lines work on integers (ten times less memory than Arrow
strings, and filters do not copy text). Snapshot tables are converted back to ``str`` with
:func:`as_text`; the functions accept ``str`` columns too (the handmade test frames).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics import schema as s

__all__ = ["TEXT_KEYS", "as_categories", "as_text", "first_occurrence", "positions", "shared_codes"]

TEXT_KEYS = (s.INVOICE, s.STOCK_CODE, s.CUSTOMER_ID, s.DESCRIPTION, s.COUNTRY)


def as_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its text key columns (those present) as categoricals with sorted categories."""
    return frame.astype({name: "category" for name in TEXT_KEYS if name in frame.columns})


def as_text(values: pd.Series | pd.Index) -> pd.Series | pd.Index:
    """Values as the ``str`` dtype (categoricals are expanded; str stays as it is)."""
    return values if values.dtype == "str" else values.astype("str")


def positions(index: pd.Index, values: pd.Series) -> np.ndarray:
    """``index.get_indexer(values)``; for a categorical, each category is looked up once."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        found = np.append(index.get_indexer(values.cat.categories), -1)
        return found[values.cat.codes.to_numpy()]
    return index.get_indexer(values)


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


def first_occurrence(*columns: pd.Series) -> np.ndarray:
    """True on the first row of each distinct combination of the columns' values (nulls are values).

    ``groupby(...).agg(n=("_first", "sum"))`` then counts distinct values per group, like ``nunique``
    but in one hashing pass over integers instead of a sort per group.
    """
    key, size = np.zeros(len(columns[0]), dtype=np.int64), 1
    for column in columns:
        codes, distinct = pd.factorize(column, use_na_sentinel=False)
        width = len(distinct) + 1
        if size * width >= 2 ** 62:  # keep the combined key inside int64: renumber it first
            key, seen = pd.factorize(key)
            size = len(seen)
        key, size = key * width + codes, size * width
    return ~pd.Series(key).duplicated().to_numpy()
