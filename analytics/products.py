"""Product names and per-product sales figures."""

from __future__ import annotations

import pandas as pd

from analytics import schema as s

__all__ = ["product_names", "summarise_products"]


def product_names(lines: pd.DataFrame) -> pd.Series:
    """Most frequent description per stock code (ties: alphabetical first), indexed by stock_code.

    Codes never described fall back to the code itself when looked up with ``name_of``-style joins.
    """
    described = lines.loc[lines[s.DESCRIPTION].notna(), [s.STOCK_CODE, s.DESCRIPTION]]
    counts = described.groupby([s.STOCK_CODE, s.DESCRIPTION], sort=True).size().rename("n").reset_index()
    best = counts.sort_values([s.STOCK_CODE, "n"], ascending=[True, False], kind="stable")
    return best.drop_duplicates(s.STOCK_CODE).set_index(s.STOCK_CODE)[s.DESCRIPTION].astype("str")


def summarise_products(sales: pd.DataFrame, basket_lines: pd.DataFrame, names: pd.Series) -> pd.DataFrame:
    """One row per product sold to customers.

    Returns:
        stock_code, description, revenue, quantity, customers (distinct buyers), baskets (distinct
        invoices among basket lines, guests included when configured) — by revenue, descending.
    """
    grouped = sales.groupby(s.STOCK_CODE, sort=False)
    table = grouped.agg(revenue=(s.REVENUE, "sum"), quantity=(s.QUANTITY, "sum"),
                        customers=(s.CUSTOMER_ID, "nunique"))
    baskets = basket_lines.drop_duplicates([s.INVOICE, s.STOCK_CODE]).groupby(s.STOCK_CODE).size()
    table["baskets"] = baskets.reindex(table.index).fillna(0).astype("int64")
    table["description"] = names.reindex(table.index).fillna(pd.Series(table.index, index=table.index))
    table = table.reset_index().sort_values(["revenue", s.STOCK_CODE], ascending=[False, True])
    return table[[s.STOCK_CODE, "description", "revenue", "quantity", "customers", "baskets"]].reset_index(drop=True)
