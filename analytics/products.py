"""Product names and per-product sales figures."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics import schema as s
from analytics._categories import as_text, first_occurrence, group_codes, run_starts, sorted_codes
from analytics.rules import Baskets

__all__ = ["customer_products", "describe", "product_monthly", "product_names", "summarise_products"]


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


def summarise_products(sales: pd.DataFrame, baskets: Baskets, names: pd.Series) -> pd.DataFrame:
    """One row per product sold to customers.

    Args:
        sales: customer sale lines.
        baskets: ``rules.basket_matrix`` of the basket lines (guests included when configured).
        names: description per stock code.

    Returns:
        stock_code, description, revenue, quantity, customers (distinct buyers), baskets (baskets
        holding the product) — by revenue, descending.
    """
    item, items = sorted_codes(sales[s.STOCK_CODE])
    group, sold = group_codes(item)  # numbered by first sale, as groupby(stock_code, sort=False) did
    sums = sales[[s.REVENUE, s.QUANTITY]].groupby(group).sum()
    buyers = np.bincount(group[first_occurrence(group, sales[s.CUSTOMER_ID])], minlength=len(sold))
    in_baskets = pd.Series(np.bincount(baskets.matrix.indices, minlength=len(baskets.items)), index=baskets.items)
    order = np.lexsort((sold, -sums[s.REVENUE].to_numpy()))  # codes sort like stock codes
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
    months = sales[s.INVOICE_DATE].dt.to_period("M")
    month = (months.dt.year * 12 + months.dt.month - 1).to_numpy(dtype=np.int64)
    first = int(month.min()) if len(month) else 0
    span = int(month.max()) - first + 1 if len(month) else 1
    key = item * span + (month - first)
    groups, table = _grouped(key, sales, {"customers": _codes(sales[s.CUSTOMER_ID])[0],
                                          "orders": _codes(sales[s.INVOICE])[0]})
    month_of = first + groups % span
    table.insert(0, "month", pd.to_datetime({"year": month_of // 12, "month": month_of % 12 + 1, "day": 1}))
    table.insert(0, s.STOCK_CODE, pd.array(as_text(items.take(groups // span)).to_numpy(), dtype="str"))
    return table.sort_values([s.STOCK_CODE, "month"], kind="stable").reset_index(drop=True)


def customer_products(sales: pd.DataFrame) -> pd.DataFrame:
    """Per customer and product bought (service codes left out): revenue, quantity, orders, last purchase.

    The audience of a rule (who bought the antecedent, never the consequent) and a product's buyers by
    segment are read from it.
    """
    products = sales[~sales["is_service"].to_numpy()]
    item, items = _codes(products[s.STOCK_CODE])
    who, ids = _codes(products[s.CUSTOMER_ID])
    key = who * max(len(items), 1) + item
    groups, table = _grouped(key, products, {"orders": _codes(products[s.INVOICE])[0]}, last=s.INVOICE_DATE)
    table.insert(0, s.STOCK_CODE, pd.array(as_text(items.take(groups % max(len(items), 1))).to_numpy(), dtype="str"))
    table.insert(0, s.CUSTOMER_ID, pd.array(as_text(ids.take(groups // max(len(items), 1))).to_numpy(), dtype="str"))
    return table.rename(columns={s.INVOICE_DATE: "last_purchase"})


def _codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer code per value and the distinct values (categoricals: their own codes, no text work)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(dtype=np.int64), pd.Index(values.cat.categories)
    codes, uniques = pd.factorize(values)
    return codes.astype(np.int64), pd.Index(uniques)


def _grouped(key: np.ndarray, lines: pd.DataFrame, distinct: dict[str, np.ndarray],
             last: str | None = None) -> tuple[np.ndarray, pd.DataFrame]:
    """Per distinct ``key`` (sorted): revenue and quantity sums, distinct counts of the ``distinct`` codes and
    the latest value of the ``last`` column. Array work (one sort per count), no pandas groupby."""
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]]) if len(key) else np.zeros(0, int)
    groups = sorted_key[starts]
    table = pd.DataFrame({
        s.REVENUE: np.add.reduceat(lines[s.REVENUE].to_numpy(dtype=float)[order], starts) if len(key) else [],
        s.QUANTITY: np.add.reduceat(lines[s.QUANTITY].to_numpy(dtype=np.int64)[order], starts) if len(key) else [],
    })
    table[s.QUANTITY] = table[s.QUANTITY].astype("int64")
    group_of = np.empty(len(key), dtype=np.int64)  # group number of each line
    group_of[order] = np.cumsum(np.r_[True, sorted_key[1:] != sorted_key[:-1]]) - 1 if len(key) else 0
    for name, codes in distinct.items():
        base = int(codes.max()) + 1 if len(codes) else 1
        pairs = np.sort(group_of * base + codes)  # a sort, not np.unique: numpy 2's hashing unique is slower here
        distinct_pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if len(pairs) else pairs
        table[name] = np.bincount(distinct_pairs // base, minlength=len(groups)).astype(np.int64)
    if last:
        stamps = lines[last].to_numpy(dtype="datetime64[ns]")[order].view(np.int64)
        table[last] = (np.maximum.reduceat(stamps, starts) if len(key) else stamps).view("datetime64[ns]")
    return groups, table
