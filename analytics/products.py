"""Product names and per-product sales figures."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics import schema as s
from analytics._categories import as_text, first_occurrence

__all__ = ["product_names", "summarise_products"]


def product_names(lines: pd.DataFrame) -> pd.Series:
    """Most frequent description per stock code (ties: alphabetical first), indexed by stock_code.

    Codes never described fall back to the code itself when looked up with ``name_of``-style joins.
    """
    described = lines.loc[lines[s.DESCRIPTION].notna(), [s.STOCK_CODE, s.DESCRIPTION]]
    code_of, codes = pd.factorize(described[s.STOCK_CODE])
    text_of, texts = pd.factorize(described[s.DESCRIPTION])
    pairs, counts = np.unique(code_of.astype(np.int64) * len(texts) + text_of, return_counts=True)
    counted = pd.DataFrame({s.STOCK_CODE: codes.take(pairs // len(texts)),
                            s.DESCRIPTION: texts.take(pairs % len(texts)), "n": counts})
    best = counted.sort_values([s.STOCK_CODE, "n", s.DESCRIPTION], ascending=[True, False, True], kind="stable")
    return best.drop_duplicates(s.STOCK_CODE).set_index(s.STOCK_CODE)[s.DESCRIPTION].astype("str")


def summarise_products(sales: pd.DataFrame, basket_lines: pd.DataFrame, names: pd.Series) -> pd.DataFrame:
    """One row per product sold to customers.

    Returns:
        stock_code, description, revenue, quantity, customers (distinct buyers), baskets (distinct
        invoices among basket lines, guests included when configured) — by revenue, descending.
    """
    grouped = sales.assign(_buyer=first_occurrence(sales[s.STOCK_CODE], sales[s.CUSTOMER_ID])).groupby(
        s.STOCK_CODE, sort=False)
    table = grouped.agg(revenue=(s.REVENUE, "sum"), quantity=(s.QUANTITY, "sum"), customers=("_buyer", "sum"))
    in_basket = first_occurrence(basket_lines[s.INVOICE], basket_lines[s.STOCK_CODE])
    baskets = basket_lines.loc[in_basket, s.STOCK_CODE].value_counts(sort=False)
    table.index = as_text(table.index)
    baskets.index = as_text(baskets.index)
    table["baskets"] = baskets.reindex(table.index).fillna(0).astype("int64")
    table["description"] = names.reindex(table.index).fillna(pd.Series(table.index, index=table.index))
    table = table.reset_index().sort_values(["revenue", s.STOCK_CODE], ascending=[False, True])
    return table[[s.STOCK_CODE, "description", "revenue", "quantity", "customers", "baskets"]].reset_index(drop=True)
