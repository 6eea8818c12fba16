"""Per-customer order history: one row per invoice (sales and returns), the invoices' lines, usual products."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import chain

import numpy as np
import pandas as pd

from analytics import schema as s
from analytics._categories import (
    as_text,
    concat_rows,
    first_occurrence,
    group_codes,
    rank_within,
    sorted_codes,
    take_rows,
    text_of,
)
from analytics.products import describe_codes
from analytics.snapshot import BLOCK_ROWS, Blocks, row_blocks

__all__ = ["BLOCK_LINES", "USUAL_PRODUCTS", "by_customer_blocks", "customer_products", "customer_ranges",
           "order_history", "order_lines", "range_lines", "returns_by_customer"]

USUAL_PRODUCTS = 10  # products kept per customer in customer_products
BLOCK_LINES = 250_000
"""Lines of a block of customers (``by_customer_blocks``): the three order tables of 9 M lines needed 1.45 GB beside
them built at once, 530 MB block by block, and 10 % less time (docs/PERFORMANCE.md, 8.6)."""


def by_customer_blocks(build: Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame | Blocks], sales: pd.DataFrame,
                       returns: pd.DataFrame, ranges: Sequence[np.ndarray] | None = None) -> Blocks:
    """``build(sales, returns)`` of consecutive ranges of customers (``customer_ranges``, by default of
    ``BLOCK_LINES``), as the blocks of one table: the same rows in the same order as ``build`` of all the lines, for
    a ``build`` whose rows are sorted by customer id and depend on that customer's lines only (each range's lines
    keep their order). The first range is built at once (its first row is the table's sample), the others as the
    blocks are read."""
    ranges = customer_ranges(sales, returns) if ranges is None else ranges
    results = (build(*part) for part in range_lines(sales, returns, ranges))
    first = next(results)

    def frames() -> Iterator[pd.DataFrame]:
        for result in chain([first], results):
            yield from (result if isinstance(result, Blocks) else [result])

    return Blocks(frames(), sample=first.sample if isinstance(first, Blocks) else first.iloc[:1])


def customer_ranges(sales: pd.DataFrame, returns: pd.DataFrame, lines: int = BLOCK_LINES) -> list[np.ndarray]:
    """The line numbers (the sale lines 0, 1..., then the return lines) of consecutive ranges of customers (by id)
    of about ``lines`` lines each (one range at least), each range's lines in their order. Lines without a customer
    id (cleaned lines have none) are in no range when there are several. Computed once for the three order tables:
    one stable sort of a 2-byte range number per line (a radix sort: 0.1 s for 11 M lines, 1.2 s on 8 bytes)."""
    total = len(sales) + len(returns)
    if total <= lines:
        return [np.arange(total)]
    codes, distinct = sorted_codes(concat_rows([sales, returns], [s.CUSTOMER_ID])[s.CUSTOMER_ID])  # sorted like ids
    through = np.cumsum(np.bincount(codes[codes >= 0], minlength=len(distinct)))  # lines of customers 0..i
    # each range ends with the customer whose lines reach the next multiple of ``lines``
    reach = np.arange(1, -(-int(through[-1]) // lines) if len(through) else 1) * lines
    bounds = np.unique(np.r_[0, np.searchsorted(through, reach) + 1, len(distinct)])
    range_of = np.r_[np.repeat(np.arange(len(bounds) - 1), np.diff(bounds)), -1]  # by customer code; -1: no id
    line_range = range_of.astype(np.int16 if len(bounds) < 2 ** 15 else np.int64)[codes]
    del codes
    by_range = np.argsort(line_range, kind="stable").astype(np.int32 if total < 2 ** 31 else np.int64)
    starts = np.searchsorted(line_range[by_range], np.arange(len(bounds)))  # starts[0]: the lines without an id
    return np.split(by_range[starts[0]:], starts[1:-1] - starts[0])


def range_lines(sales: pd.DataFrame, returns: pd.DataFrame,
                ranges: Sequence[np.ndarray]) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """The sale and return lines of each range of ``customer_ranges``."""
    if len(ranges) == 1 and len(ranges[0]) == len(sales) + len(returns):
        yield sales, returns
        return
    for rows in ranges:
        sold = rows < len(sales)
        yield sales.take(rows[sold]), returns.take(rows[~sold] - len(sales))


def order_history(sales: pd.DataFrame, returns: pd.DataFrame) -> pd.DataFrame:
    """customer_id, invoice, invoice_date, items (distinct products), quantity, total, is_return —
    by customer, newest first."""
    columns = [s.CUSTOMER_ID, s.INVOICE, s.INVOICE_DATE, s.STOCK_CODE, s.QUANTITY, s.REVENUE]
    lines = concat_rows([sales, returns], columns)
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


def order_lines(sales: pd.DataFrame, returns: pd.DataFrame, names: pd.Series) -> Blocks:
    """The lines of every invoice of known customers: what each order held.

    ``names``: :func:`analytics.products.product_names` (one display description per stock code).
    Returns customer_id, invoice, stock_code, description, quantity, unit_price, total, is_return (returns:
    negative quantity and total), sorted by customer then invoice then input order, so that one customer's
    lines are one contiguous block (the dashboard slices it without scanning the table); in blocks of
    ``BLOCK_ROWS`` lines (9 M lines at 1 M customers), each taken from the sales and returns.
    """
    order = np.lexsort((np.arange(len(sales) + len(returns)),
                        *(sorted_codes(concat_rows([sales, returns], [name])[name])[0]
                          for name in (s.INVOICE, s.CUSTOMER_ID))))  # codes sort like the text
    columns = [s.CUSTOMER_ID, s.INVOICE, s.STOCK_CODE, s.QUANTITY, s.UNIT_PRICE, s.REVENUE]

    def block(rows: slice) -> pd.DataFrame:
        lines = take_rows([sales, returns], order[rows], columns)
        return pd.DataFrame({
            s.CUSTOMER_ID: as_text(lines[s.CUSTOMER_ID]), s.INVOICE: as_text(lines[s.INVOICE]),
            s.STOCK_CODE: as_text(lines[s.STOCK_CODE]),
            s.DESCRIPTION: describe_codes(*sorted_codes(lines[s.STOCK_CODE]), names),
            s.QUANTITY: lines[s.QUANTITY].astype("int64"), s.UNIT_PRICE: lines[s.UNIT_PRICE].astype("float64"),
            "total": lines[s.REVENUE].astype("float64"), "is_return": order[rows] >= len(sales),
        })[list(s.TABLES["order_lines"])]

    return Blocks(map(block, row_blocks(len(order), BLOCK_ROWS)), sample=block(slice(0, 1)))


def customer_products(sales: pd.DataFrame, names: pd.Series, top: int = USUAL_PRODUCTS) -> pd.DataFrame:
    """Each customer's usual products: the ``top`` products bought on the most orders (then most units).

    Service lines (postage, fees) are left out. Returns customer_id, rank (1 = most usual), stock_code,
    description, orders (distinct invoices with the product), quantity (units bought), last_bought (date of
    the last order with it); by customer, then rank (ties: the last bought, then the stock code first).
    """
    goods = ~sales["is_service"].to_numpy() if "is_service" in sales.columns else np.ones(len(sales), dtype=bool)
    (customer, customers), (item, items) = (sorted_codes(sales[name]) for name in (s.CUSTOMER_ID, s.STOCK_CODE))
    who, what, orders, quantity, last = _usual_products(sales, goods, customer, item, len(items))  # per pair
    del customer, item
    order = np.lexsort((what, -last, -quantity, -orders, who))
    rank = rank_within(who[order])
    order, rank = order[rank <= top], rank[rank <= top]
    return pd.DataFrame({
        s.CUSTOMER_ID: text_of(who[order], customers), "rank": rank.astype("int64"),
        s.STOCK_CODE: text_of(what[order], items), s.DESCRIPTION: describe_codes(what[order], items, names),
        "orders": orders[order].astype("int64"), "quantity": quantity[order].round().astype("int64"),
        "last_bought": last[order].view(sales[s.INVOICE_DATE].to_numpy().dtype),
    })[list(s.TABLES["customer_products"])]


def _usual_products(sales: pd.DataFrame, goods: np.ndarray, customer: np.ndarray, item: np.ndarray,
                    n_items: int) -> tuple[np.ndarray, ...]:
    """Per (customer, product) bought on the ``goods`` lines: customer and product codes, orders, units, last
    date (int64). A function of its own, so that its line-sized arrays are gone before the table is built."""
    pair, keys = group_codes(customer[goods] * n_items + item[goods])  # one group per (customer, product) bought
    orders = np.bincount(pair[first_occurrence(pair, sorted_codes(sales[s.INVOICE])[0][goods])], minlength=len(keys))
    quantity = np.bincount(pair, weights=sales[s.QUANTITY].to_numpy(dtype=float)[goods], minlength=len(keys))
    last = np.full(len(keys), np.iinfo(np.int64).min)
    np.maximum.at(last, pair, sales[s.INVOICE_DATE].to_numpy().view(np.int64)[goods])
    return keys // n_items, keys % n_items, orders, quantity, last
