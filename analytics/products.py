"""Product names and per-product sales figures."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics import schema as s
from analytics._categories import as_text, first_occurrence, group_codes, run_starts, sorted_codes
from analytics.rules import Baskets

__all__ = ["describe", "product_names", "summarise_products"]


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
