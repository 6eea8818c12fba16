"""Segment history: every customer's RFM scores and segment at the end of each of the last periods, and
what moved between them — built from the transactions, so it exists from the first refresh.

- Period ends count back from the as-of date by ``history.period`` (month or week): as_of, as_of − 1 period,
  … (``history.periods`` ends, the as-of date included; ends before the first sale are dropped).
- The state at an end uses only the sale lines dated before it (``returns`` too when given: pass the
  cleaned returns when the pipeline's monetary value is net of returns), scored by the same scorer as
  the current customers and put in segments by the same scheme. The last end's state *is* the current
  ``customers`` table, so history and snapshot always agree.
- Movement compares two ends by the scheme's ranking (:meth:`SegmentScheme.ranked`): up, down, same, or new
  (not a customer yet at the earlier end).
- Lapsed in a period: active (bought within ``rfm.active_days``) at its start, not at its end.
- Drift: customers who changed segment between two consecutive ends without buying in between, as a share
  of the customers present at both — with quintile scores some do, only because others bought.
- High-value slips in a period: customers in a top segment (:meth:`SegmentScheme.top`) at its start and in an
  at-risk one (:meth:`SegmentScheme.at_risk`) at its end, and their value at the end (negatives as 0) — the
  executive summary's headline, published so the dashboard needs no query over the history for it.

All per-customer work is vectorised across periods (cumulative aggregates over a customer × period grid,
customers as integer codes until the published table); the scorer runs once for all the period ends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics import schema as s
from analytics._categories import as_text, categorical, first_occurrence, positions, sorted_codes, text_of
from analytics.errors import ConfigError
from analytics.segments import SegmentScheme
from analytics.settings import HistoryParams
from analytics.snapshot import BLOCK_ROWS, Blocks, row_blocks

__all__ = [
    "MOVEMENTS",
    "PERIODS",
    "History",
    "build_history",
    "customer_states",
    "drift_share",
    "history_periods",
    "movement_between",
    "period_ends",
]

PERIODS = {"month": pd.DateOffset(months=1), "week": pd.DateOffset(weeks=1)}
MOVEMENTS = ("up", "down", "same", "new")
MAX_PERIODS = 60
Scorer = Callable[..., pd.DataFrame]  # scorer(frame, by=column scored group by group): adds r/f/m_score, rfm_cell
_DAY = np.int64(86_400_000_000_000)
_HISTORY_NUMBERS = (("r_score", np.int64), ("f_score", np.int64), ("m_score", np.int64),
                    ("recency_days", np.int64), ("frequency", np.int64), ("monetary", float))


@dataclass(frozen=True)
class History:
    """The published history tables and the per-customer movement columns.

    Attributes:
        segments: ``segment_history`` (customer_id, period_end, segment, scores, recency_days, frequency, monetary),
            as blocks of rows.
        periods: ``history_periods``: one row per period between two consecutive ends.
        customers: customer_id, previous_segment, segment_since, movement (vs the previous end).
    """

    segments: Blocks
    periods: pd.DataFrame
    customers: pd.DataFrame


def period_ends(as_of: pd.Timestamp, first_sale: pd.Timestamp, params: HistoryParams) -> list[pd.Timestamp]:
    """Ascending period ends: as_of − k periods for k = periods−1 … 0, those after the first sale.

    Raises:
        ConfigError: unknown ``history.period`` or ``history.periods`` outside 2–60.
    """
    if params.period not in PERIODS:
        raise ConfigError(f"history.period {params.period!r} is not one of {list(PERIODS)}.")
    if not 2 <= params.periods <= MAX_PERIODS:
        raise ConfigError(f"history.periods must be between 2 and {MAX_PERIODS}, got {params.periods}.")
    ends = [pd.Timestamp(as_of) - PERIODS[params.period] * k for k in range(params.periods - 1, -1, -1)]
    return [end for end in ends if end > first_sale or end == ends[-1]]


def customer_states(sales: pd.DataFrame, ends: Sequence[pd.Timestamp],
                    returns: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each customer's R, F and M at each end, from the lines dated before it (customers with a sale before).

    With ``returns`` (cleaned returns: negative ``revenue``), monetary is net of the returns dated before
    the end, floored at 0.

    Returns:
        period (index into ``ends``), period_end, customer_id (categorical), first_purchase, last_purchase,
        recency_days, frequency, monetary — by period, then customer id.
    """
    columns = ["period", "period_end", s.CUSTOMER_ID, "first_purchase", "last_purchase", "recency_days",
               "frequency", "monetary"]
    if not len(ends) or sales.empty:
        return pd.DataFrame({c: [] for c in columns})
    customer, ids = sorted_codes(sales[s.CUSTOMER_ID])
    n, p = len(ids), len(ends)
    edges = np.asarray([e.value for e in ends], dtype=np.int64)
    revenue, invoices, earliest, latest = _by_cell(sales, customer, edges, n)
    del customer  # the lines' arrays are gone before the cells' running totals (11 M cells at 1 M customers)
    returned = returns if returns is not None and not returns.empty else None
    if returned is not None:
        revenue += _returns_by_cell(returned, ids, edges)
    # totals and bounds up to each end, in place: by customer (rows), then period (columns)
    frequency = np.cumsum(invoices.reshape(n, p), axis=1, out=invoices.reshape(n, p))
    monetary = np.cumsum(revenue.reshape(n, p), axis=1, out=revenue.reshape(n, p))
    if returned is not None:  # net value, floored at 0 as the customers' net value is
        np.maximum(monetary, 0.0, out=monetary)
    earliest = np.minimum.accumulate(earliest.reshape(n, p), axis=1, out=earliest.reshape(n, p))
    latest = np.maximum.accumulate(latest.reshape(n, p), axis=1, out=latest.reshape(n, p))
    at, who = np.nonzero((frequency > 0).T)  # by period, then customer (codes sort like the ids)
    last = latest[who, at]
    del latest
    period_end = edges[at]
    return pd.DataFrame({
        "period": at, "period_end": period_end.view("datetime64[ns]"),
        s.CUSTOMER_ID: categorical(who, pd.Index(as_text(ids))),
        "first_purchase": earliest[who, at].view("datetime64[ns]"),
        "last_purchase": last.view("datetime64[ns]"),
        "recency_days": (period_end - last // _DAY * _DAY) // _DAY,
        "frequency": frequency[who, at], "monetary": monetary[who, at],
    }, copy=False)  # no copy of the 6 M rows into blocks


def _by_cell(sales: pd.DataFrame, customer: np.ndarray, edges: np.ndarray,
             n: int) -> tuple[np.ndarray, ...]:
    """Per (customer, period) cell, customer-major: revenue, invoices, and the earliest and latest sale dates (as
    int64 ns; none: the int64 bounds) of the sale lines dated in the period (after the previous end)."""
    p = len(edges)
    dates = sales[s.INVOICE_DATE].to_numpy().astype("datetime64[ns]", copy=False).view(np.int64)
    period = np.searchsorted(edges, dates, side="right")  # the first end after the line; p: after them all
    keep = period < p
    key = customer[keep] * p + period[keep]
    revenue = np.bincount(key, weights=sales[s.REVENUE].to_numpy(dtype=float)[keep], minlength=n * p)
    first = first_occurrence(customer, sales[s.INVOICE]) & keep
    invoices = np.bincount(customer[first] * p + period[first], minlength=n * p)
    del first, period
    dates = dates[keep]
    earliest = np.full(n * p, np.iinfo(np.int64).max)
    latest = np.full(n * p, np.iinfo(np.int64).min)
    np.minimum.at(earliest, key, dates)
    np.maximum.at(latest, key, dates)
    return revenue, invoices, earliest, latest


def _returns_by_cell(returns: pd.DataFrame, ids: pd.Index, edges: np.ndarray) -> np.ndarray:
    """Returned value (negative revenue) per (customer, period) cell; customers without a sale are ignored."""
    p = len(edges)
    who = positions(ids, returns[s.CUSTOMER_ID])
    dates = returns[s.INVOICE_DATE].to_numpy().astype("datetime64[ns]").astype(np.int64)
    period = np.searchsorted(edges, dates, side="right")
    keep = (who >= 0) & (period < p)
    return np.bincount(who[keep] * p + period[keep], weights=returns[s.REVENUE].to_numpy(dtype=float)[keep],
                       minlength=len(ids) * p)


def build_history(states: pd.DataFrame, current: pd.DataFrame, ends: Sequence[pd.Timestamp], scorer: Scorer,
                  scheme: SegmentScheme, active_days: int) -> History:
    """Score and segment the states of the earlier ends, add the current customers at the last end, and
    derive the movement columns and the per-period summary.

    Args:
        states: :func:`customer_states` of ``ends[:-1]``.
        current: the snapshot's customers (scored, with ``segment``), the state at ``ends[-1]``.
        scorer: the scoring in use (quintiles: ``rfm.score_rfm``; fixed: ``cutpoints.fixed_scores``).
    """
    grid, scored = _scored_grid(states, current, ends, scorer, scheme)
    return History(segments=grid.table(scored, current), periods=grid.periods(active_days),
                   customers=grid.customer_columns())


def history_periods(states: pd.DataFrame, current: pd.DataFrame, ends: Sequence[pd.Timestamp], scorer: Scorer,
                    scheme: SegmentScheme, active_days: int) -> pd.DataFrame:
    """``build_history(...).periods`` alone (the drift under the other scoring needs no per-customer table)."""
    return _scored_grid(states, current, ends, scorer, scheme)[0].periods(active_days)


def drift_share(periods: pd.DataFrame) -> float:
    """Customers who changed segment without buying, over the customers present at both ends (all periods)."""
    present = int(periods["customers"].sum() - periods["new_customers"].sum())
    return float(periods["changed_without_purchase"].sum() / present) if present else 0.0


def _scored_grid(states: pd.DataFrame, current: pd.DataFrame, ends: Sequence[pd.Timestamp], scorer: Scorer,
                 scheme: SegmentScheme) -> tuple[_Grid, pd.DataFrame]:
    """The states of the earlier ends scored (r/f/m scores) and the grid of every end, current one included."""
    scored = scorer(states, by="period")
    segment = scheme.lookup()[scored["r_score"].to_numpy(), scored["f_score"].to_numpy(), scored["m_score"].to_numpy()]
    names = pd.Index([seg.name for seg in scheme.segments], dtype="str")
    ids = pd.Index(current[s.CUSTOMER_ID])
    now = names.get_indexer(pd.Index(current["segment"]))
    grid = _Grid(ids, ends, scheme, names, current["first_purchase"].to_numpy())
    who = positions(ids, states[s.CUSTOMER_ID])
    grid.fill(who, states["period"].to_numpy(dtype=np.int64), segment, scored)
    grid.fill(np.arange(len(ids)), np.full(len(ids), len(ends) - 1), now, current)
    return grid, scored.assign(_segment=segment, _who=who)  # each state's customer row, for the table


class _Grid:
    """The history as dense customer × period arrays (segment rank −1: not a customer yet)."""

    def __init__(self, ids: pd.Index, ends: Sequence[pd.Timestamp], scheme: SegmentScheme, names: pd.Index,
                 first_purchase: np.ndarray) -> None:
        self.ids = ids
        self.ends = pd.DatetimeIndex(list(ends))
        self.names = np.array(scheme.ranked(), dtype=object)
        self.segment_names = names  # scheme order: the segment numbers of scheme.lookup()
        self.rank_of = pd.Index(self.names).get_indexer(names)  # segment number -> rank
        self.top = pd.Index(self.names).get_indexer(list(scheme.top()))
        self.at_risk = pd.Index(self.names).get_indexer(list(scheme.at_risk()))
        n, p = len(ids), len(ends)
        # types as narrow as their values (ranks, orders, days): 12 M cells at 1 M customers, 170 MB less than int64
        self.rank = np.full((n, p), -1, dtype=np.int16)
        self.frequency = np.zeros((n, p), dtype=np.int32)
        self.recency = np.full((n, p), np.iinfo(np.int32).max, dtype=np.int32)  # the maximum: not a customer yet
        self.monetary = np.zeros((n, p), dtype=float)
        self.first_purchase = first_purchase

    def fill(self, who: np.ndarray, at: np.ndarray, segment: np.ndarray, frame: pd.DataFrame) -> None:
        """Record the segment (scheme number), frequency and recency of rows of customers ``who`` at ends ``at``."""
        self.rank[who, at] = self.rank_of[segment]
        self.frequency[who, at] = frame["frequency"].to_numpy()
        self.recency[who, at] = frame["recency_days"].to_numpy()
        self.monetary[who, at] = frame["monetary"].to_numpy()

    def table(self, scored: pd.DataFrame, current: pd.DataFrame) -> Blocks:
        """``segment_history``: the scored earlier states, then the current customers at the last end, in
        blocks of rows (7.3 M rows at 1 M customers)."""
        end = np.datetime64(pd.Timestamp(self.ends[-1]).as_unit("ns").asm8)
        sources = [
            (scored, scored["_who"].to_numpy(), scored["_segment"].to_numpy(),
             scored["period_end"].to_numpy().astype("datetime64[ns]")),
            (current, np.arange(len(self.ids)), self.segment_names.get_indexer(pd.Index(current["segment"])),
             np.full(len(current), end)),
        ]

        def block(frame: pd.DataFrame, who: np.ndarray, segment: np.ndarray, period_end: np.ndarray,
                  rows: slice) -> pd.DataFrame:
            return pd.DataFrame({
                s.CUSTOMER_ID: text_of(who[rows], self.ids), "period_end": period_end[rows],
                "segment": text_of(segment[rows], self.segment_names),
                **{name: frame[name].to_numpy()[rows].astype(kind) for name, kind in _HISTORY_NUMBERS},
            })

        return Blocks((block(*source, rows) for source in sources for rows in row_blocks(len(source[1]), BLOCK_ROWS)),
                      sample=block(*sources[0 if len(scored) else 1], slice(0, 1)))

    def customer_columns(self) -> pd.DataFrame:
        """previous_segment (latest different segment), segment_since, movement (vs the previous end)."""
        rank, n, p = self.rank, len(self.ids), len(self.ends)
        now = rank[:, -1]
        other = (rank != now[:, None]) & (rank >= 0)
        last_other = np.where(other.any(axis=1), p - 1 - np.argmax(other[:, ::-1], axis=1), -1)
        previous = self.names[rank[np.arange(n), np.maximum(last_other, 0)]].copy()
        previous[last_other < 0] = None
        joined = np.argmax(rank >= 0, axis=1)  # first end as a customer
        run_start = np.maximum(last_other + 1, joined)  # first end of the current run of the segment
        since = self.ends.to_numpy().astype("datetime64[ns]")[run_start]
        newcomer = (run_start == joined) & (joined > 0)
        since[newcomer] = self.first_purchase.astype("datetime64[ns]")[newcomer]
        return pd.DataFrame({
            s.CUSTOMER_ID: self.ids.array,
            "previous_segment": pd.array(previous, dtype="str"),
            "segment_since": pd.to_datetime(since).normalize(),
            "movement": _movement(rank[:, -2] if p > 1 else np.full(n, -1), now),
        })

    def periods(self, active_days: int) -> pd.DataFrame:
        """One row per period: customers, new, lapsed, upgraded, downgraded, unchanged, drift counts, and the
        high-value slips (customers and their value at the period's end)."""
        rows = []
        for j in range(1, len(self.ends)):
            before, after = self.rank[:, j - 1], self.rank[:, j]
            both = (before >= 0) & (after >= 0)
            quiet = both & (self.frequency[:, j] == self.frequency[:, j - 1])
            slipped = np.isin(before, self.top) & np.isin(after, self.at_risk)
            rows.append({
                "period_start": self.ends[j - 1], "period_end": self.ends[j],
                "customers": int((after >= 0).sum()), "new_customers": int(((before < 0) & (after >= 0)).sum()),
                "lapsed_customers": int(((self.recency[:, j - 1] <= active_days)
                                         & (self.recency[:, j] > active_days) & both).sum()),
                "upgraded": int((both & (after < before)).sum()), "downgraded": int((both & (after > before)).sum()),
                "unchanged": int((both & (after == before)).sum()),
                "changed_without_purchase": int((quiet & (after != before)).sum()),
                "high_value_slipped": int(slipped.sum()),
                "high_value_slipped_value": float(np.clip(self.monetary[slipped, j], 0.0, None).sum()),
            })
        frame = pd.DataFrame(rows, columns=["period_start", "period_end", "customers", "new_customers",
                                            "lapsed_customers", "upgraded", "downgraded", "unchanged",
                                            "changed_without_purchase", "high_value_slipped",
                                            "high_value_slipped_value"])
        return frame.astype({"period_start": "datetime64[ns]", "period_end": "datetime64[ns]"})


def _movement(before: np.ndarray, after: np.ndarray) -> pd.Series:
    """up / down / same by rank (lower rank = better), new when absent before."""
    labels = np.select([before < 0, after < before, after > before], ["new", "up", "down"], default="same")
    return pd.Series(labels, dtype="str")


def movement_between(history: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp,
                     ranking: Sequence[str]) -> pd.DataFrame:
    """Customers at ``end`` with their segment at ``start`` (None: not a customer yet) and the movement.

    Returns:
        customer_id, from_segment, to_segment, movement, monetary (at ``end``), recency_days, frequency.
    """
    later = history[history["period_end"] == end]
    earlier = history.loc[history["period_end"] == start, [s.CUSTOMER_ID, "segment"]]
    joined = later.merge(earlier.rename(columns={"segment": "from_segment"}), on=s.CUSTOMER_ID, how="left")
    order = pd.Index(list(ranking))
    before = order.get_indexer(pd.Index(joined["from_segment"].fillna("")))
    after = order.get_indexer(pd.Index(joined["segment"]))
    return pd.DataFrame({
        s.CUSTOMER_ID: joined[s.CUSTOMER_ID], "from_segment": joined["from_segment"],
        "to_segment": joined["segment"], "movement": _movement(before, after).to_numpy(),
        "monetary": joined["monetary"], "recency_days": joined["recency_days"], "frequency": joined["frequency"],
    })
