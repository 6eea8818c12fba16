"""Product names and per-product sales figures."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics import schema as s
from analytics._categories import as_text, first_occurrence, group_codes, run_starts, sorted_codes, text_of
from analytics.rules import Baskets

__all__ = ["describe", "describe_codes", "product_buyers", "product_monthly", "product_names", "summarise_products"]


def product_names(lines: pd.DataFrame) -> pd.Series:
    """Most frequent description per stock code (ties: alphabetical first), indexed by stock_code.

    Codes never described are absent: :func:`describe` shows the code itself for them.
    """
    code, codes = sorted_codes(lines[s.STOCK_CODE])  # codes sort like the text
    text, texts = sorted_codes(lines[s.DESCRIPTION])
    described = text >= 0
    pairs, counts = np.unique(code[described] * len(texts) + text[described], return_counts=True)
    code, text = pairs // len(texts), pairs % len(texts)
    best = np.lexsort((text, -counts, code))  # per stock code: most lines first, then alphabetical
    best = best[run_starts(code[best])]
    return pd.Series(as_text(texts.take(text[best])).to_numpy(), name=s.DESCRIPTION, dtype="str",
                     index=pd.Index(as_text(codes.take(code[best])), name=s.STOCK_CODE))


def describe(codes: np.ndarray | pd.Index | pd.Series, names: pd.Series) -> np.ndarray:
    """The description of each stock code (``names``: :func:`product_names`), or the code itself when it has none."""
    codes = np.asarray(codes, dtype=object)
    found = names.reindex(codes).to_numpy(dtype=object)
    missing = pd.isna(found)
    found[missing] = codes[missing]
    return found


def describe_codes(codes: np.ndarray, items: pd.Index, names: pd.Series) -> pd.api.extensions.ExtensionArray:
    """:func:`describe` of ``items.take(codes)`` as a ``str`` array, each distinct item described once."""
    return text_of(codes, pd.Index(describe(as_text(items), names), dtype="str"))


def summarise_products(sales: pd.DataFrame, baskets: Baskets, names: pd.Series) -> pd.DataFrame:
    """One row per product sold to customers.

    Args:
        sales: customer sale lines.
        baskets: ``rules.basket_matrix`` of the basket lines (guests included when configured).
        names: description per stock code.

    Returns:
        stock_code, description, revenue, quantity, customers (distinct buyers), baskets (baskets
        holding the product) — by revenue (to the cent), descending, then stock code.
    """
    item, items = sorted_codes(sales[s.STOCK_CODE])
    group, sold = group_codes(item)  # numbered by first sale, as groupby(stock_code, sort=False) did
    sums = sales[[s.REVENUE, s.QUANTITY]].groupby(group).sum()
    buyers = np.bincount(group[first_occurrence(group, sales[s.CUSTOMER_ID])], minlength=len(sold))
    in_baskets = pd.Series(np.bincount(baskets.matrix.indices, minlength=len(baskets.items)), index=baskets.items)
    # codes sort like stock codes; revenue to the cent, so sums in another order (Spark) cannot swap a tie
    order = np.lexsort((sold, -sums[s.REVENUE].round(2).to_numpy()))
    codes = as_text(items.take(sold[order]))
    return pd.DataFrame({
        s.STOCK_CODE: codes, "description": describe(codes, names),
        s.REVENUE: sums[s.REVENUE].to_numpy()[order], s.QUANTITY: sums[s.QUANTITY].to_numpy()[order],
        "customers": buyers[order], "baskets": in_baskets.reindex(codes, fill_value=0).to_numpy(),
    })


def product_monthly(sales: pd.DataFrame) -> pd.DataFrame:
    """Per product and calendar month: revenue, quantity, distinct buyers and orders (customer sales).

    Returns:
        stock_code, month (first day), revenue, quantity, customers, orders — by code, then month.
    """
    item, items = _codes(sales[s.STOCK_CODE])
    month = sales[s.INVOICE_DATE].to_numpy(dtype="datetime64[M]").astype(np.int64)  # months since 1970-01
    first = int(month.min()) if len(month) else 0
    span = int(month.max()) - first + 1 if len(month) else 1
    key = item * span + (month - first)
    groups, table = _grouped(key, sales, {"customers": _codes(sales[s.CUSTOMER_ID])[0],
                                          "orders": _codes(sales[s.INVOICE])[0]})
    month_of = first + groups % span
    table.insert(0, "month", pd.Series(month_of.astype("datetime64[M]")).astype("datetime64[ns]"))
    codes = pd.Series(as_text(items.take(groups // span)).to_numpy(), dtype="str", index=table.index)
    table.insert(0, s.STOCK_CODE, codes)
    return table.sort_values([s.STOCK_CODE, "month"], kind="stable").reset_index(drop=True)


def product_buyers(bought: pd.DataFrame) -> pd.DataFrame:
    """The distinct (customer_id, stock_code) product purchases (``recommend.bought_pairs``) as text columns.

    The audience of a rule (who bought the antecedent, never the consequent) and a product's buyers by
    segment are read from it.
    """
    return pd.DataFrame({s.CUSTOMER_ID: as_text(bought[s.CUSTOMER_ID]).array,
                         s.STOCK_CODE: as_text(bought[s.STOCK_CODE]).array})


def _codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer code per value and the distinct values (categoricals: their own codes, no text work)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(dtype=np.int64), pd.Index(values.cat.categories)
    codes, uniques = pd.factorize(values)
    return codes.astype(np.int64), pd.Index(uniques)


def _grouped(key: np.ndarray, lines: pd.DataFrame, distinct: dict[str, np.ndarray]) -> tuple[np.ndarray, pd.DataFrame]:
    """Per distinct non-negative ``key`` (sorted): revenue and quantity sums and distinct counts of the
    ``distinct`` codes. Array work (bincounts, one sort per distinct count), no pandas groupby."""
    size = int(key.max()) + 1 if len(key) else 0
    lines_per_key = np.bincount(key, minlength=size)
    groups = np.flatnonzero(lines_per_key)
    table = pd.DataFrame({
        s.REVENUE: np.bincount(key, weights=lines[s.REVENUE].to_numpy(dtype=float), minlength=size)[groups],
        s.QUANTITY: np.bincount(key, weights=lines[s.QUANTITY].to_numpy(dtype=float), minlength=size)[groups]
        .round().astype(np.int64),
    })
    for name, codes in distinct.items():
        base = int(codes.max()) + 1 if len(codes) else 1
        pairs = np.sort(key * base + codes)  # a sort, not np.unique: numpy 2's hashing unique is slower here
        distinct_pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if len(pairs) else pairs
        table[name] = np.bincount(distinct_pairs // base, minlength=size)[groups].astype(np.int64)
    return groups, table
