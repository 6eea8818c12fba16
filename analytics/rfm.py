"""RFM: per-customer recency, frequency and monetary value, and their 1–5 scores.

- as-of date: the day after the last invoice unless configured;
- R = whole days from the customer's last purchase day to the as-of date;
- F = distinct invoices; M = the customer's value (``rfm.monetary``): by default their **net** value,
  gross sales (sum of quantity × unit price) minus the value of their returns (cancelled lines),
  floored at 0 — a return of an order placed before the data window still reduces the value, never
  below 0; ``gross`` keeps returns out;
- scores 1–5 by quintiles of the ranks, higher is better for all three (low recency is good); money is
  ranked rounded to the cent.
  Ties share a score: a value's score is decided by the rank of the first customer holding it,
  so one-time buyers are never split by id order.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from analytics import schema as s
from analytics._categories import (
    as_text,
    first_occurrence,
    group_codes,
    rank_within,
    run_starts,
    sorted_codes,
    text_of,
)
from analytics.errors import ConfigError

__all__ = ["MONETARY_BASES", "as_of_date", "min_ranks_within", "quintile_scores", "rfm_cells", "score_rfm",
           "summarise_customers", "with_returns"]

MONETARY_BASES = ("net", "gross")


def as_of_date(sales: pd.DataFrame, configured: date | None = None) -> pd.Timestamp:
    """The analysis date: ``configured``, or the day after the last invoice (midnight)."""
    if configured is not None:
        return pd.Timestamp(configured)
    return pd.Timestamp(sales[s.INVOICE_DATE].max().normalize() + timedelta(days=1))


def summarise_customers(sales: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """One row per customer from sale lines.

    Returns:
        customer_id, country (most frequent), first_purchase, last_purchase, recency_days, frequency,
        monetary, avg_basket — sorted by customer_id.
    """
    customer, ids = sorted_codes(sales[s.CUSTOMER_ID])  # codes sort like the ids: groupby(customer_id)'s groups
    summary = sales[[s.INVOICE_DATE, s.REVENUE]].groupby(customer).agg(
        first_purchase=(s.INVOICE_DATE, "min"), last_purchase=(s.INVOICE_DATE, "max"), monetary=(s.REVENUE, "sum"))
    invoices = np.bincount(customer[first_occurrence(customer, sales[s.INVOICE])], minlength=len(ids))
    summary.insert(2, "frequency", invoices[summary.index.to_numpy()])
    summary.index = pd.Index(as_text(ids.take(summary.index.to_numpy())), name=s.CUSTOMER_ID)
    summary["recency_days"] = (as_of - summary["last_purchase"].dt.normalize()).dt.days.astype("int64")
    summary["avg_basket"] = summary["monetary"] / summary["frequency"]
    summary["country"] = _main_country(sales)
    columns = ["country", "first_purchase", "last_purchase", "recency_days", "frequency", "monetary",
               "avg_basket"]
    return summary[columns].reset_index()


def with_returns(customers: pd.DataFrame, returns: pd.DataFrame, basis: str = "net") -> pd.DataFrame:
    """Add each customer's returns and net value, and set ``monetary`` to the configured basis.

    Args:
        customers: :func:`summarise_customers` output (``monetary`` = gross sales).
        returns: ``orders.returns_by_customer`` (customer_id index → returns_count, returns_value ≥ 0);
            customers absent from it returned nothing.
        basis: ``net`` (gross − returns, floored at 0) or ``gross``.

    Returns:
        The customers with gross_value, returns_count, returns_value, net_value, and monetary =
        net_value (``net``) or gross_value (``gross``).

    Raises:
        ConfigError: ``basis`` is not one of :data:`MONETARY_BASES`.
    """
    if basis not in MONETARY_BASES:
        raise ConfigError(f"rfm.monetary {basis!r} is not one of {list(MONETARY_BASES)}.")
    ids = customers[s.CUSTOMER_ID].astype("str")
    count = returns["returns_count"].reindex(ids).fillna(0).astype("int64").to_numpy()
    value = returns["returns_value"].reindex(ids).fillna(0.0).to_numpy(dtype=float)
    gross = customers["monetary"].to_numpy(dtype=float)
    net = np.maximum(gross - value, 0.0)
    return customers.assign(gross_value=gross, returns_count=count, returns_value=value, net_value=net,
                            monetary=net if basis == "net" else gross)


def quintile_scores(values: pd.Series, higher_is_better: bool = True, groups: pd.Series | None = None) -> pd.Series:
    """Score values 1–5 by quintile of their rank; equal values always get equal scores.

    score = 1 + floor(5 × (min-rank − 1) / n), ranking so that better values rank higher; with ``groups``,
    ranks and n are taken within each group (e.g. each period end of the segment history).
    """
    if values.empty:
        return pd.Series([], dtype="int8", index=values.index)
    n: int | np.ndarray
    if groups is None:
        ranks, n = values.rank(method="min", ascending=higher_is_better).to_numpy(), len(values)
    elif values.isna().any() or groups.isna().any():  # pandas' rules for nulls
        grouped = values.groupby(groups)
        ranks = grouped.rank(method="min", ascending=higher_is_better).to_numpy()
        n = grouped.transform("size").to_numpy()
    else:
        group = pd.factorize(groups)[0]
        ranks, n = min_ranks_within(values.to_numpy(), group, higher_is_better), np.bincount(group)[group]
    scores = 1 + np.floor(5 * (ranks - 1) / n)
    return pd.Series(scores.astype("int8"), index=values.index)


def min_ranks_within(values: np.ndarray, group: np.ndarray, ascending: bool = True) -> np.ndarray:
    """``groupby(group).rank(method="min", ascending=ascending)`` of values without nulls (group numbers ≥ 0).

    Integers of a small range (days, orders) are counted, not sorted: a value's rank is one more than the
    values below it in its group. Other values take two sorts: the values, then (stable) their group numbers (two
    bytes when they fit: a radix sort). Both are faster than pandas on the 6 M states of a 1 M-customer history
    (docs/PERFORMANCE.md, 8.7 and 8.8).
    """
    if len(values) and values.dtype.kind in "iu":
        low, high, groups = int(values.min()), int(values.max()), int(group.max()) + 1  # Python ints: no overflow
        width = high - low + 1
        if width * groups <= 4 * len(values):
            return _counted_min_ranks(values - low, group, width, groups, ascending)
    key = values if ascending else -values
    order = np.argsort(key)  # equal values share their rank: their order does not matter
    narrow = group.astype(np.int16) if len(group) and group.max() < 2 ** 15 else group
    order = order[np.argsort(narrow[order], kind="stable")]  # by group, then value
    key, narrow = key[order], narrow[order]
    run = np.maximum.accumulate(np.where(run_starts(key) | run_starts(narrow), np.arange(len(key)), 0))
    ranks = np.empty(len(key))
    ranks[order] = rank_within(narrow)[run]  # the position in its group of the first of its equal values
    return ranks


def _counted_min_ranks(offsets: np.ndarray, group: np.ndarray, width: int, groups: int,
                       ascending: bool) -> np.ndarray:
    """Min-ranks of integers ``offsets`` in ``0..width-1`` by counting each (group, value) cell."""
    cell = group * width + (offsets if ascending else width - 1 - offsets)
    counts = np.bincount(cell, minlength=groups * width).reshape(groups, width)
    below = np.cumsum(counts, axis=1) - counts  # values of the group ranked before the cell's
    return (below.ravel()[cell] + 1).astype(float)


def score_rfm(customers: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Add r_score, f_score, m_score (1–5, 5 best) and rfm_cell ("545") to a customer summary.

    ``by``: a column whose groups are scored separately (the period end of a history of summaries).
    """
    groups = customers[by] if by else None
    scored = customers.assign(
        r_score=quintile_scores(customers["recency_days"], higher_is_better=False, groups=groups),
        f_score=quintile_scores(customers["frequency"], groups=groups),
        m_score=quintile_scores(customers["monetary"].round(2), groups=groups),  # to the cent: float sums
        # in another order (the Spark engine) cannot split a tie
    )
    return scored.assign(rfm_cell=rfm_cells(scored))


_CELLS = pd.Index([f"{r}{f}{m}" for r in range(6) for f in range(6) for m in range(6)], dtype="str")


def rfm_cells(scored: pd.DataFrame) -> pd.Series:
    """The RFM cell of each row ("545"), from r_score, f_score and m_score (1–5)."""
    number = (scored["r_score"].to_numpy(dtype=np.int64) * 36 + scored["f_score"].to_numpy(dtype=np.int64) * 6
              + scored["m_score"].to_numpy(dtype=np.int64))
    return pd.Series(text_of(number, _CELLS), index=scored.index, copy=False)


def _main_country(sales: pd.DataFrame) -> pd.Series:
    """Each customer's most frequent country (ties: alphabetical first)."""
    if s.COUNTRY not in sales or sales[s.COUNTRY].isna().all():
        return pd.Series(dtype="str")
    customer, ids = sorted_codes(sales[s.CUSTOMER_ID])
    country, countries = sorted_codes(sales[s.COUNTRY])
    known = country >= 0
    pair, pairs = group_codes(customer[known] * len(countries) + country[known])
    lines = np.bincount(pair, minlength=len(pairs))
    who, where = pairs // len(countries), pairs % len(countries)
    best = np.lexsort((where, -lines, who))  # per customer: most lines, then alphabetical
    best = best[run_starts(who[best])]
    return pd.Series(as_text(countries.take(where[best])).to_numpy(), index=as_text(ids.take(who[best])),
                     name=s.COUNTRY)
