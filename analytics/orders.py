"""Per-customer order history: one row per invoice, sales and returns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics import schema as s
from analytics._categories import as_text, first_occurrence, group_codes, sorted_codes

__all__ = ["order_history", "returns_by_customer"]


def order_history(sales: pd.DataFrame, returns: pd.DataFrame) -> pd.DataFrame:
    """customer_id, invoice, invoice_date, items (distinct products), quantity, total, is_return —
    by customer, newest first."""
    columns = [s.CUSTOMER_ID, s.INVOICE, s.INVOICE_DATE, s.STOCK_CODE, s.QUANTITY, s.REVENUE]
    lines = pd.concat([sales[columns], returns[columns]], ignore_index=True)
    is_return = np.repeat([False, True], [len(sales), len(returns)])
    customer, customers = sorted_codes(lines[s.CUSTOMER_ID])
    invoice, invoices = sorted_codes(lines[s.INVOICE])
    # one group per (customer, invoice, is_return), numbered by first line as groupby(sort=False) did
    order, keys = group_codes((customer * len(invoices) + invoice) * 2 + is_return)
    sums = lines[[s.QUANTITY, s.REVENUE]].groupby(order).sum()
    first = first_occurrence(order, lines[s.STOCK_CODE])
    orders = pd.DataFrame({
        s.CUSTOMER_ID: keys // 2 // len(invoices), s.INVOICE: keys // 2 % len(invoices),
        s.INVOICE_DATE: lines[s.INVOICE_DATE].groupby(order).min().to_numpy(),
        "items": np.bincount(order[first], minlength=len(keys)), "quantity": sums[s.QUANTITY].to_numpy(),
        "total": sums[s.REVENUE].to_numpy(), "is_return": keys % 2 == 1,
    })
    newest_first = np.lexsort((-orders[s.INVOICE].to_numpy(), -orders[s.INVOICE_DATE].to_numpy().view(np.int64),
                               orders[s.CUSTOMER_ID].to_numpy()))
    orders = orders.iloc[newest_first].reset_index(drop=True)
    return orders.assign(**{s.CUSTOMER_ID: as_text(customers.take(orders[s.CUSTOMER_ID].to_numpy())),
                            s.INVOICE: as_text(invoices.take(orders[s.INVOICE].to_numpy()))})[list(s.TABLES["orders"])]


def returns_by_customer(returns: pd.DataFrame) -> pd.DataFrame:
    """customer_id → returns_count (cancelled invoices) and returns_value (positive amount)."""
    grouped = returns.groupby(s.CUSTOMER_ID)
    table = grouped.agg(returns_count=(s.INVOICE, "nunique"), returns_value=(s.REVENUE, "sum")).assign(
        returns_value=lambda t: -t["returns_value"])
    table.index = as_text(table.index)
    return table
