"""Cleaning: split raw transaction lines into sales, returns and basket lines, with a report.

Rules (each counted in the report, applied in this order to the input lines):

1. cancellations: invoice starts with the cancellation prefix ("C") — not sales; those with a
   customer id are kept aside as returns and shown per customer;
2. quantity ≤ 0 on a non-cancelled line — not a sale (damages, stock adjustments);
3. unit price ≤ 0 — not a sale (free samples, bad-debt adjustments);
4. no customer id — excluded from customer analytics (kept for basket mining when
   ``baskets.include_guests``);
5. service codes (postage, fees, manual lines...) — kept in revenue, excluded from baskets and
   recommendations.

Exact duplicate lines are counted, not dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics import schema as s
from analytics._categories import as_categories, combined_key, isin
from analytics.settings import BasketParams, CleaningParams

__all__ = ["CleanResult", "clean_transactions", "count_exact_duplicates", "is_service_code"]


@dataclass(frozen=True)
class CleanResult:
    """Cleaned tables.

    Attributes:
        sales: customer sale lines (canonical columns + ``revenue`` and ``is_service``).
        returns: cancelled lines of known customers (``revenue`` is negative).
        basket_lines: invoice, stock_code, customer_id, invoice_date of the sale lines used for basket
            mining (no service codes; guests if configured).
        report: one dict per rule: ``rule``, ``rows``, ``effect``, ``description``.
        guest_sales: value (Σ quantity × unit price) of the sale lines without customer id.
    """

    sales: pd.DataFrame
    returns: pd.DataFrame
    basket_lines: pd.DataFrame
    report: list[dict]
    guest_sales: float = 0.0


def is_service_code(codes: pd.Series, params: CleaningParams) -> pd.Series:
    """True where a stock code is a non-product service code (exact list or pattern).

    Each distinct code is tested once (a file has thousands of codes, not millions).
    """
    def flags(distinct: pd.Series) -> pd.Series:
        found = distinct.isin(set(params.service_codes))
        if params.service_code_pattern:
            found |= distinct.str.contains(params.service_code_pattern, flags=re.IGNORECASE, regex=True)
        return found

    categorical = codes if isinstance(codes.dtype, pd.CategoricalDtype) else codes.astype("category")
    return pd.Series(_per_distinct(categorical, flags), index=codes.index)


def count_exact_duplicates(lines: pd.DataFrame) -> int:
    """Lines identical to an earlier line in every column (nulls equal to nulls).

    Only lines whose invoice and stock code occur together on another line can be duplicates, so only
    those few are compared in full (a frame without these columns is compared in full).
    """
    keys = [name for name in (s.INVOICE, s.STOCK_CODE) if name in lines.columns] or list(lines.columns)
    key = combined_key(*(lines[name] for name in keys))
    # a stable sort (timsort) is fast on keys that come in long sorted runs, as an invoice's lines do: 0.3 s for
    # 11 M lines, where hashing them all (``duplicated(keep=False)``) took 2.4 s
    ordered = np.sort(key, kind="stable")
    suspects = isin(key, ordered[1:][ordered[1:] == ordered[:-1]])
    return int(lines[suspects].duplicated().sum())


def clean_transactions(lines: pd.DataFrame, params: CleaningParams, baskets: BasketParams) -> CleanResult:
    """Apply the cleaning rules to canonical transaction lines (see module docstring).

    The text columns of the returned tables are categoricals (see ``analytics._categories``).
    """
    lines = as_categories(lines)
    revenue = lines[s.QUANTITY] * lines[s.UNIT_PRICE]
    prefix = params.cancellation_prefix
    cancelled = pd.Series(_per_distinct(lines[s.INVOICE], lambda text: text.str.startswith(prefix)), index=lines.index)
    bad_quantity = ~cancelled & (lines[s.QUANTITY] <= 0)
    bad_price = ~cancelled & ~bad_quantity & (lines[s.UNIT_PRICE] <= 0)
    sale = ~(cancelled | bad_quantity | bad_price)
    known = lines[s.CUSTOMER_ID].notna()
    guest_sale = sale & ~known
    service = is_service_code(lines[s.STOCK_CODE], params)
    customer_sale = sale & known
    basket = sale & ~service & (known | baskets.include_guests)

    with_revenue = lines.assign(**{s.REVENUE: revenue})
    sales = with_revenue[customer_sale].assign(is_service=service[customer_sale]).reset_index(drop=True)
    returns = with_revenue[cancelled & known].reset_index(drop=True)
    basket_lines = lines.loc[basket, [s.INVOICE, s.STOCK_CODE, s.CUSTOMER_ID, s.INVOICE_DATE]].reset_index(drop=True)

    report = [
        _rule("input_lines", len(lines), "read", "Lines in the input file."),
        _rule("exact_duplicates", count_exact_duplicates(lines), "kept",
              "Lines identical to an earlier line in every column; counted, not dropped."),
        _rule("cancellations", int(cancelled.sum()), "excluded",
              f"Invoice starts with '{params.cancellation_prefix}': not sales; "
              f"{int((cancelled & known).sum())} lines of known customers kept aside as returns."),
        _rule("non_positive_quantity", int(bad_quantity.sum()), "excluded",
              "Quantity ≤ 0 on a line that is not a cancellation (damages, adjustments)."),
        _rule("non_positive_price", int(bad_price.sum()), "excluded",
              "Unit price ≤ 0 (free items, bad-debt adjustments)."),
        _rule("no_customer_id", int(guest_sale.sum()),
              "baskets only" if baskets.include_guests else "excluded",
              "Sales without customer id: excluded from customer analytics"
              + ("; their baskets are mined for rules." if baskets.include_guests else ".")),
        _rule("service_codes", int((customer_sale & service).sum()), "revenue only",
              "Service codes (postage, fees, manual lines): in revenue, not in baskets or recommendations."),
        _rule("customer_sale_lines", int(customer_sale.sum()), "kept", "Sale lines used for customer analytics."),
        _rule("basket_lines", int(basket.sum()), "kept", "Product lines used for basket mining."),
    ]
    return CleanResult(sales=sales, returns=returns, basket_lines=basket_lines, report=report,
                       guest_sales=float(revenue[guest_sale].sum()))


def _per_distinct(values: pd.Series, test: Callable[[pd.Series], pd.Series]) -> np.ndarray:
    """``test`` applied once per category of a categorical, as a flag per line (null: False)."""
    flags = test(pd.Series(values.cat.categories, dtype="str")).fillna(False).to_numpy(dtype=bool)
    return np.append(flags, False)[values.cat.codes.to_numpy()]


def _rule(rule: str, rows: int, effect: str, description: str) -> dict:
    return {"rule": rule, "rows": int(rows), "effect": effect, "description": description}
