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
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics import schema as s
from analytics._categories import as_categories
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
    """

    sales: pd.DataFrame
    returns: pd.DataFrame
    basket_lines: pd.DataFrame
    report: list[dict]


def is_service_code(codes: pd.Series, params: CleaningParams) -> pd.Series:
    """True where a stock code is a non-product service code (exact list or pattern).

    Each distinct code is tested once (a file has thousands of codes, not millions).
    """
    positions, distinct = pd.factorize(codes)
    distinct = pd.Series(np.asarray(distinct, dtype=object), dtype="str")
    flags = distinct.isin(set(params.service_codes))
    if params.service_code_pattern:
        flags |= distinct.str.contains(params.service_code_pattern, flags=re.IGNORECASE, regex=True)
    on_lines = np.append(flags.to_numpy(dtype=bool), False)[positions]  # position -1 (null) -> False
    return pd.Series(on_lines, index=codes.index, dtype=bool)


def count_exact_duplicates(lines: pd.DataFrame) -> int:
    """Lines identical to an earlier line in every column (nulls equal to nulls).

    Each line gets a 64-bit hash of its columns' integer codes; only lines whose hash occurs more than
    once are then compared exactly, so the count is exact and the full comparison runs on few lines.
    """
    mixed = np.zeros(len(lines), dtype=np.uint64)
    for name in lines.columns:
        mixed = (mixed ^ _integer_codes(lines[name])) * np.uint64(0x100000001B3)  # FNV-1 style mixing
    suspects = pd.Series(mixed).duplicated(keep=False).to_numpy()
    return int(lines[suspects].duplicated().sum())


def clean_transactions(lines: pd.DataFrame, params: CleaningParams, baskets: BasketParams) -> CleanResult:
    """Apply the cleaning rules to canonical transaction lines (see module docstring).

    The text columns of the returned tables are categoricals (see ``analytics._categories``).
    """
    lines = as_categories(lines)
    revenue = lines[s.QUANTITY] * lines[s.UNIT_PRICE]
    cancelled = lines[s.INVOICE].str.startswith(params.cancellation_prefix).fillna(False).astype(bool)
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
    return CleanResult(sales=sales, returns=returns, basket_lines=basket_lines, report=report)


def _integer_codes(values: pd.Series) -> np.ndarray:
    """uint64 codes, equal exactly when the values are equal (all nulls equal, 0.0 equal to -0.0)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy().astype(np.int64)
    elif pd.api.types.is_float_dtype(values.dtype):
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan) + 0.0  # -0.0 + 0.0 is 0.0
        codes = np.where(np.isnan(numbers), np.nan, numbers).view(np.int64)
    elif pd.api.types.is_datetime64_dtype(values.dtype):
        codes = values.to_numpy().view(np.int64)  # NaT is one fixed value
    elif isinstance(values.dtype, np.dtype) and values.dtype.kind in "iu":
        codes = values.to_numpy().astype(np.int64)
    else:
        codes = pd.factorize(values)[0]
    return codes.astype(np.uint64)


def _rule(rule: str, rows: int, effect: str, description: str) -> dict:
    return {"rule": rule, "rows": int(rows), "effect": effect, "description": description}
