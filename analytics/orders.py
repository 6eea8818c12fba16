"""Per-customer order history: one row per invoice, sales and returns."""

from __future__ import annotations

import pandas as pd

from analytics import schema as s

__all__ = ["order_history", "returns_by_customer"]


def order_history(sales: pd.DataFrame, returns: pd.DataFrame) -> pd.DataFrame:
    """customer_id, invoice, invoice_date, items (distinct products), quantity, total, is_return —
    by customer, newest first."""
    lines = pd.concat([sales.assign(is_return=False), returns.assign(is_return=True)], ignore_index=True)
    grouped = lines.groupby([s.CUSTOMER_ID, s.INVOICE, "is_return"], sort=False)
    orders = grouped.agg(invoice_date=(s.INVOICE_DATE, "min"), items=(s.STOCK_CODE, "nunique"),
                         quantity=(s.QUANTITY, "sum"), total=(s.REVENUE, "sum")).reset_index()
    orders = orders.sort_values([s.CUSTOMER_ID, s.INVOICE_DATE, s.INVOICE], ascending=[True, False, False])
    return orders[list(s.TABLES["orders"])].reset_index(drop=True)


def returns_by_customer(returns: pd.DataFrame) -> pd.DataFrame:
    """customer_id → returns_count (cancelled invoices) and returns_value (positive amount)."""
    grouped = returns.groupby(s.CUSTOMER_ID)
    return grouped.agg(returns_count=(s.INVOICE, "nunique"), returns_value=(s.REVENUE, "sum")).assign(
        returns_value=lambda t: -t["returns_value"])
