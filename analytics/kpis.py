"""Business KPIs: headline figures, the 80/20 curve, monthly trend and per-segment summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics import schema as s
from analytics._categories import as_text, first_occurrence, positions, rank_within, sorted_codes
from analytics.products import describe
from analytics.segments import SegmentScheme

__all__ = ["headline_kpis", "pareto_curve", "pareto_share", "monthly_trend", "summarise_segments",
           "segment_top_products"]

_PARETO_POINTS = 201


def pareto_share(monetary: pd.Series, target: float = 0.8) -> float:
    """Smallest share of customers (best first) whose revenue reaches ``target`` of the total."""
    values = np.sort(monetary.clip(lower=0).to_numpy())[::-1]
    total = values.sum()
    if len(values) == 0 or total <= 0:
        return float("nan")
    reached = np.searchsorted(np.cumsum(values) / total, target - 1e-12) + 1
    return float(reached / len(values))


def pareto_curve(monetary: pd.Series) -> pd.DataFrame:
    """Cumulative revenue share against customer share (best customers first), ~200 points."""
    values = np.sort(monetary.clip(lower=0).to_numpy())[::-1]
    if len(values) == 0 or values.sum() <= 0:
        return pd.DataFrame({"customer_share": [0.0], "revenue_share": [0.0]})
    customer_share = np.arange(1, len(values) + 1) / len(values)
    revenue_share = np.cumsum(values) / values.sum()
    grid = np.linspace(0, 1, _PARETO_POINTS)
    return pd.DataFrame({"customer_share": grid,
                         "revenue_share": np.interp(grid, np.r_[0, customer_share], np.r_[0, revenue_share])})


def monthly_trend(sales: pd.DataFrame) -> pd.DataFrame:
    """month (first day), revenue, orders, customers."""
    month = sales[s.INVOICE_DATE].to_numpy().astype("datetime64[M]")
    number = month.astype(np.int64)  # months since 1970: sorted group numbers, as groupby("month") sorts
    grouped = sales[s.REVENUE].groupby(number)
    revenue, group = grouped.sum(), grouped.ngroup().to_numpy()
    orders = np.bincount(group[first_occurrence(number, sales[s.INVOICE])], minlength=len(revenue))
    customers = np.bincount(group[first_occurrence(number, sales[s.CUSTOMER_ID])], minlength=len(revenue))
    return pd.DataFrame({"month": revenue.index.to_numpy().astype("datetime64[M]").astype("datetime64[us]"),
                         "revenue": revenue.to_numpy(), "orders": orders, "customers": customers})


def headline_kpis(customers: pd.DataFrame, sales: pd.DataFrame, returns: pd.DataFrame, active_days: int,
                  currency: str = "") -> pd.DataFrame:
    """One row per KPI: kpi, label, value, unit, definition."""
    revenue = float(sales[s.REVENUE].sum())
    orders = int(sales[s.INVOICE].nunique())
    n_customers = len(customers)
    active = int((customers["recency_days"] <= active_days).sum())
    at_risk = customers[customers["at_risk"]]
    rows = [
        ("revenue", "Revenue", revenue, "money", "Sum of quantity × unit price over customer sale lines."),
        ("customers", "Customers", n_customers, "count", "Customers with at least one sale."),
        ("active_customers", "Active customers", active, "count",
         f"Customers who bought within the last {active_days} days before the analysis date."),
        ("active_share", "Active share", active / n_customers if n_customers else np.nan, "share",
         "Active customers / customers."),
        ("orders", "Orders", orders, "count", "Distinct invoices with at least one sale line."),
        ("avg_basket", "Average basket", revenue / orders if orders else np.nan, "money", "Revenue / orders."),
        ("avg_customer_value", "Average customer value", revenue / n_customers if n_customers else np.nan,
         "money", "Revenue / customers over the analysed period."),
        ("pareto_share", "Customers making 80 % of revenue", pareto_share(customers["monetary"]), "share",
         "Smallest share of customers, best first, whose revenue adds up to 80 % of the total."),
        ("at_risk_customers", "High-value customers at risk", len(at_risk), "count",
         "High-value customers whose risk score reached the threshold (see the risk formula)."),
        ("revenue_at_stake", "Revenue at stake", float(at_risk["monetary"].sum()), "money",
         "Revenue of the high-value customers at risk over the analysed period."),
        ("returns_value", "Returns", float(-returns[s.REVENUE].sum()) if len(returns) else 0.0, "money",
         "Value of cancelled lines of known customers."),
    ]
    return pd.DataFrame(rows, columns=["kpi", "label", "value", "unit", "definition"]).astype({"value": float})


def summarise_segments(customers: pd.DataFrame, scheme: SegmentScheme) -> pd.DataFrame:
    """One row per segment of the scheme (empty segments included), most urgent priority first."""
    total_revenue = customers["monetary"].sum()
    grouped = customers.groupby("segment")  # one call per statistic for all its columns
    means = grouped[["recency_days", "frequency", "monetary", "r_score", "f_score", "m_score"]].mean()
    stats = pd.concat([
        grouped.size().rename("customers"),
        grouped[["monetary", "frequency", "at_risk"]].sum().set_axis(["revenue", "orders", "at_risk_customers"],
                                                                     axis=1),
        means.add_prefix("mean_"),
        customers[customers["at_risk"]].groupby("segment")["monetary"].sum().rename("revenue_at_stake"),
    ], axis=1)
    table = scheme.table().drop(columns=["cells"]).merge(stats, left_on="segment", right_index=True, how="left")
    counts = ["customers", "orders", "at_risk_customers"]
    table[counts] = table[counts].fillna(0).astype("int64")
    table[["revenue", "revenue_at_stake"]] = table[["revenue", "revenue_at_stake"]].fillna(0.0)
    table["customer_share"] = table["customers"] / max(len(customers), 1)
    table["revenue_share"] = table["revenue"] / total_revenue if total_revenue else 0.0
    table["avg_basket"] = (table["revenue"] / table["orders"].replace(0, np.nan))
    table = table.sort_values(["priority_rank", "revenue"], ascending=[True, False], kind="stable")
    return table[list(s.TABLES["segments"]) + ["description", "orders"]].reset_index(drop=True)


def segment_top_products(sales: pd.DataFrame, bought: pd.DataFrame, customers: pd.DataFrame, names: pd.Series,
                         top: int) -> pd.DataFrame:
    """Top products by revenue within each segment.

    Args:
        sales: customer sale lines.
        bought: their distinct product purchases (``recommend.bought_pairs``).
        customers: customer_id, segment.

    Returns:
        segment, rank, stock_code, description, revenue, quantity, customers (distinct buyers).
    """
    product = ~sales["is_service"].to_numpy()
    segment_code, segments = pd.factorize(customers["segment"])
    ids = pd.Index(customers[s.CUSTOMER_ID])
    item, items = sorted_codes(sales[s.STOCK_CODE])
    key = segment_code[positions(ids, sales[s.CUSTOMER_ID])][product] * len(items) + item[product]
    sums = sales.loc[product, [s.REVENUE, s.QUANTITY]].groupby(key).sum()  # by (segment, stock_code) key
    key = sums.index.to_numpy()
    pair = segment_code[positions(ids, bought[s.CUSTOMER_ID])] * len(items) + positions(items, bought[s.STOCK_CODE])
    buyers = np.bincount(pair, minlength=len(segments) * len(items))[key]
    segment, item = key // len(items), key % len(items)
    segments = pd.Index(np.asarray(segments, dtype=object), dtype="str")
    alphabetical = np.argsort(np.argsort(segments.to_numpy(dtype=object)))  # each segment's place by name
    order = np.lexsort((item, -sums[s.REVENUE].to_numpy(), alphabetical[segment]))
    rank = rank_within(segment[order])
    order, rank = order[rank <= top], rank[rank <= top]
    codes = as_text(items.take(item[order]))
    return pd.DataFrame({
        "segment": segments.take(segment[order]), "rank": rank, s.STOCK_CODE: codes,
        "description": describe(codes, names),
        s.REVENUE: sums[s.REVENUE].to_numpy()[order], s.QUANTITY: sums[s.QUANTITY].to_numpy()[order],
        "customers": buyers[order],
    })[list(s.TABLES["segment_products"])]

