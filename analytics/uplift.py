"""Campaign uplift: what each audience's target group did after its as-of date, against its control group. Pure.

For every audience, from the cleaned sales and returns on or after its ``as_of`` day up to the end of the
data, per member: bought (at least one order), orders, net revenue (sales minus returns) and whether the
customer now sits in a better segment than at creation. Target and control are compared with
:mod:`analytics.uplift_stats`; the share who bought is the primary metric and gives the verdict, the
others are secondary (no correction for several comparisons). The test is a Welch t-test stratified by
the segment at creation, like the split (see :mod:`analytics.uplift_stats`).

Segment order for "upgrades": segments ranked by their mean R + F + M score in the current snapshot.

Outputs (snapshot tables, columns in ``analytics/schema.py``): ``campaigns`` (one row per audience),
``campaign_results`` (one row per audience and metric), ``campaign_daily`` (cumulative outcome per day
and group, for the chart).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics import schema as s
from analytics.audiences import Audience, summary
from analytics.settings import CampaignParams
from analytics.uplift_stats import MDE_FACTOR, NOT_MEASURED, TEST_NAME, Comparison, compare_groups, mde_share

__all__ = ["METRICS", "CampaignTables", "daily_activity", "measure_campaigns", "member_outcomes"]

# metric -> (label, unit, kind)
METRICS = {
    "bought": ("Share who bought", "points", "share"),
    "orders": ("Orders per member", "orders", "mean"),
    "net_revenue": ("Net revenue per member", "money", "mean"),
    "upgraded": ("Share now in a better segment", "points", "share"),
}


_NOT_MEASURED = dict.fromkeys(METRICS, NOT_MEASURED)  # no day of data since the as-of date yet


@dataclass(frozen=True)
class CampaignTables:
    """The three campaign tables of a snapshot."""

    campaigns: pd.DataFrame
    results: pd.DataFrame
    daily: pd.DataFrame


def daily_activity(sales: pd.DataFrame, returns: pd.DataFrame) -> pd.DataFrame:
    """Per customer and day: orders (distinct sale invoices), sales and returns (negative) value.

    Input: cleaned sales and returns (customer_id, invoice, invoice_date, revenue).
    Output columns: customer_id (str), day (datetime64, midnight), orders, sales, returns; sorted by day.
    """
    def per_day(lines: pd.DataFrame) -> pd.DataFrame:
        frame = pd.DataFrame({"customer_id": lines[s.CUSTOMER_ID].astype("str"),
                              "day": lines[s.INVOICE_DATE].dt.normalize(),
                              "invoice": lines[s.INVOICE].astype("str"), "value": lines[s.REVENUE]})
        return frame.groupby(["customer_id", "day"], observed=True).agg(orders=("invoice", "nunique"),
                                                                        value=("value", "sum"))

    bought, returned = per_day(sales), per_day(returns)
    joined = bought.rename(columns={"value": "sales"}).join(
        returned[["value"]].rename(columns={"value": "returns"}), how="outer")
    frame = joined.fillna(0).astype({"orders": "int64"}).reset_index()
    return frame.sort_values(["day", "customer_id"], kind="stable").reset_index(drop=True)


def member_outcomes(audience: Audience, activity: pd.DataFrame, current_segments: pd.Series,
                    segment_value: pd.Series, end: pd.Timestamp) -> pd.DataFrame:
    """One row per member: customer_id, group, bought, orders, net_revenue, upgraded, first_day.

    ``activity``: :func:`daily_activity`, sorted by day. ``current_segments``: customer_id → segment now;
    ``segment_value``: segment → value rank (higher is better).
    """
    members = audience.members
    ids = members["customer_id"]
    days = activity["day"].to_numpy()
    lo, hi = np.searchsorted(days, np.datetime64(pd.Timestamp(audience.as_of)), "left"), \
        np.searchsorted(days, np.datetime64(end), "right")
    window = activity.iloc[lo:hi]
    member = pd.Index(ids).get_indexer(window["customer_id"])  # position of each row's customer; -1: not a member
    keep = member >= 0
    at, n = member[keep], len(ids)
    orders = np.bincount(at, weights=window["orders"].to_numpy()[keep], minlength=n)
    net = np.bincount(at, weights=(window["sales"] + window["returns"]).to_numpy()[keep], minlength=n)
    first = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    bought_rows = keep & (window["orders"].to_numpy() > 0)
    order = member[bought_rows][::-1]  # rows by day: writing in reverse leaves each member's earliest day
    first[order] = window["day"].to_numpy()[bought_rows][::-1]
    now = current_segments.reindex(ids).map(segment_value).to_numpy(dtype=float)
    before = members["segment"].map(segment_value).to_numpy(dtype=float)
    return pd.DataFrame({
        "customer_id": ids, "group": members["group"], "bought": orders > 0, "orders": orders.astype("int64"),
        "net_revenue": net, "upgraded": np.nan_to_num(now, nan=-1) > np.nan_to_num(before, nan=np.inf),
        "first_day": first,
    })


def measure_campaigns(audiences: Sequence[Audience], sales: pd.DataFrame, returns: pd.DataFrame,
                      customers: pd.DataFrame, segments: pd.DataFrame, params: CampaignParams) -> CampaignTables:
    """The campaign tables for ``audiences`` (see the module docstring); empty tables when there are none."""
    if not audiences:
        return _empty()
    activity = daily_activity(sales, returns)
    end = sales[s.INVOICE_DATE].max().normalize()
    current = customers.astype({"customer_id": "str"}).set_index("customer_id")["segment"]
    value = (segments["mean_r_score"] + segments["mean_f_score"] + segments["mean_m_score"])
    segment_value = pd.Series(value.rank(method="dense").to_numpy(), index=segments["segment"])
    rows, results, daily = [], [], []
    for audience in audiences:
        outcomes = member_outcomes(audience, activity, current, segment_value, end)
        measured = end >= pd.Timestamp(audience.as_of)
        compared = _compare(outcomes, audience.members["segment"]) if measured else _NOT_MEASURED
        row = _campaign_row(audience, compared, end, params)
        rows.append(row)
        results.extend(_result_rows(audience, compared, row["days"] > 0))
        daily.append(_daily(audience, outcomes, end))
    return CampaignTables(campaigns=_typed(pd.DataFrame(rows), "campaigns"),
                          results=_typed(pd.DataFrame(results), "campaign_results"),
                          daily=_typed(pd.concat(daily, ignore_index=True), "campaign_daily"))


def _compare(outcomes: pd.DataFrame, strata: pd.Series) -> dict[str, Comparison]:
    is_target = (outcomes["group"] == "target").to_numpy()
    codes = pd.factorize(strata)[0]
    return {metric: compare_groups(outcomes[metric].to_numpy(dtype=float), is_target, codes)
            for metric in METRICS}


def _campaign_row(audience: Audience, compared: dict[str, Comparison], end: pd.Timestamp,
                  params: CampaignParams) -> dict:
    info = summary(audience)
    days = max(0, (end - pd.Timestamp(audience.as_of)).days + 1)
    bought = compared["bought"]
    measured = days and bought.std_error > 0
    mde = (MDE_FACTOR * bought.std_error if measured else mde_share(0.5, info["target"], info["control"])) * 100
    warning = ""
    if mde > params.target_effect_points:
        warning = (f"The control group ({info['control']:,} members) is too small to detect an uplift of "
                   f"{params.target_effect_points:g} points in the share who bought: the smallest detectable at "
                   f"80 % power is {mde:.1f} points.")
    return {**{k: info[k] for k in ("audience_id", "name", "note", "created_by", "created_at", "snapshot_version",
                                    "source", "control_share", "members", "target", "control", "backdated")},
            "as_of": pd.Timestamp(audience.as_of), "measured_to": end, "days": days,
            "verdict": _verdict(bought, days, info, audience, params), "significant": bool(days and bought.significant),
            "difference_points": bought.difference * 100 if days else math.nan, "mde_points": mde,
            "power_warning": warning}


def _verdict(bought: Comparison, days: int, info: dict, audience: Audience, params: CampaignParams) -> str:
    if not days:
        return f"Waiting for data: no purchase recorded since {audience.as_of.isoformat()} yet."
    smallest = min(info["target"], info["control"])
    if smallest < params.min_group_size:
        return (f"Not enough members for a verdict: {smallest:,} in the smaller group, at least "
                f"{params.min_group_size} needed.")
    interval = (f"{_signed(bought.difference * 100)} points [{_signed(bought.low * 100)}, "
                f"{_signed(bought.high * 100)}]")
    if bought.significant:
        return f"Target bought {'more' if bought.difference > 0 else 'less'}: {interval}"
    return f"Not enough evidence yet: {interval}"


def _signed(value: float) -> str:
    return f"{value:+.1f}".replace("-", "−")


def _result_rows(audience: Audience, compared: dict[str, Comparison], measured: bool) -> list[dict]:
    rows = []
    for metric, (label, unit, kind) in METRICS.items():
        c = compared[metric]
        scale = 100.0 if kind == "share" else 1.0
        rows.append({"audience_id": audience.audience_id, "metric": metric, "label": label, "unit": unit,
                     "target_value": c.target * scale, "control_value": c.control * scale,
                     "difference": c.difference * scale, "ci_low": c.low * scale, "ci_high": c.high * scale,
                     "p_value": c.p_value, "significant": bool(measured and c.significant),
                     "test": TEST_NAME})
    return rows


def _daily(audience: Audience, outcomes: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """Cumulative share who bought per day and group, from the as-of day to the end of the data."""
    start = pd.Timestamp(audience.as_of)
    if end < start:
        return pd.DataFrame(columns=list(s.TABLES["campaign_daily"]))
    days = pd.date_range(start, end, freq="D")
    offset = ((outcomes["first_day"] - start).dt.days).to_numpy(dtype=float)
    frames = []
    for group in ("target", "control"):
        in_group = (outcomes["group"] == group).to_numpy()
        firsts = offset[in_group & ~np.isnan(offset)].astype("int64")
        buyers = np.cumsum(np.bincount(firsts, minlength=len(days))[: len(days)])
        size = int(in_group.sum())
        frames.append(pd.DataFrame({"audience_id": audience.audience_id, "day": days, "group": group,
                                    "members": size, "buyers": buyers.astype("int64"),
                                    "share_bought": buyers / max(size, 1) * 100}))
    return pd.concat(frames, ignore_index=True)


def _typed(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Columns in schema order with their declared types (so empty tables encode too)."""
    kinds = {"str": "str", "int": "int64", "float": "float64", "bool": "bool", "datetime": "datetime64[ns]"}
    columns = s.TABLES[table]
    frame = frame.reindex(columns=list(columns))
    return frame.astype({name: kinds[kind] for name, kind in columns.items()})


def _empty() -> CampaignTables:
    return CampaignTables(*(_typed(pd.DataFrame(), name) for name in ("campaigns", "campaign_results",
                                                                       "campaign_daily")))

