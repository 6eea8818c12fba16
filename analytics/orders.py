"""Per-customer order history: one row per invoice, sales and returns."""

from __future__ import annotations

import pandas as pd

from analytics import schema as s
from analytics._categories import as_text, first_occurrence

__all__ = ["order_history", "returns_by_customer"]


def order_history(sales: pd.DataFrame, returns: pd.DataFrame) -> pd.DataFrame:
    """customer_id, invoice, invoice_date, items (distinct products), quantity, total, is_return —
    by customer, newest first."""
    columns = [s.CUSTOMER_ID, s.INVOICE, s.INVOICE_DATE, s.STOCK_CODE, s.QUANTITY, s.REVENUE]
    lines = pd.concat([sales[columns].assign(is_return=False), returns[columns].assign(is_return=True)],
                      ignore_index=True)
    keys = [s.CUSTOMER_ID, s.INVOICE, "is_return"]
    lines = lines.assign(_item=first_occurrence(*(lines[key] for key in keys), lines[s.STOCK_CODE]))
    orders = lines.groupby(keys, sort=False).agg(
        invoice_date=(s.INVOICE_DATE, "min"), items=("_item", "sum"), quantity=(s.QUANTITY, "sum"),
        total=(s.REVENUE, "sum")).reset_index()
    orders = orders.assign(**{s.CUSTOMER_ID: as_text(orders[s.CUSTOMER_ID]), s.INVOICE: as_text(orders[s.INVOICE])})
    orders = orders.sort_values([s.CUSTOMER_ID, s.INVOICE_DATE, s.INVOICE], ascending=[True, False, False])
    return orders[list(s.TABLES["orders"])].reset_index(drop=True)


def returns_by_customer(returns: pd.DataFrame) -> pd.DataFrame:
    """customer_id → returns_count (cancelled invoices) and returns_value (positive amount)."""
    grouped = returns.groupby(s.CUSTOMER_ID)
    table = grouped.agg(returns_count=(s.INVOICE, "nunique"), returns_value=(s.REVENUE, "sum")).assign(
        returns_value=lambda t: -t["returns_value"])
    table.index = as_text(table.index)
    return table
