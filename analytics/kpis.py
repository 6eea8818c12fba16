"""Business KPIs: headline figures, the 80/20 curve, monthly trend and per-segment summaries.

Money figures reconcile (finance identities, stated in the KPI definitions):

- total sales = gross sales (sale lines of known customers) + guest sales (lines without customer id);
- net revenue = gross sales − returns (cancelled lines of known customers);
- Σ customers' net values = net revenue + unmatched returns (returns beyond a customer's purchases in
  the data, e.g. refunds of orders placed before the data window: a customer's net value is floored at 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics import schema as s
from analytics._categories import as_text, first_occurrence, positions, rank_within, sorted_codes
from analytics.products import describe
from analytics.segments import SegmentScheme

__all__ = [
    "headline_kpis",
    "monthly_by_segment",
    "monthly_trend",
    "pareto_by_segment",
    "pareto_curve",
    "pareto_share",
    "segment_top_products",
    "summarise_segments",
]

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


def pareto_by_segment(customers: pd.DataFrame) -> pd.DataFrame:
    """:func:`pareto_curve` of each segment's customers (by ``monetary``): segment, customer_share, revenue_share."""
    curves = [pareto_curve(group["monetary"]).assign(segment=name)
              for name, group in customers.groupby("segment", sort=True)]
    if not curves:
        return pd.DataFrame({"segment": pd.Series(dtype="str"), "customer_share": pd.Series(dtype=float),
                             "revenue_share": pd.Series(dtype=float)})
    return pd.concat(curves, ignore_index=True)[list(s.TABLES["pareto_by_segment"])]


def monthly_by_segment(sales: pd.DataFrame, returns: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """:func:`monthly_trend` of each segment's customers: segment, month, revenue, returns, orders, customers —
    segments by name, months in order, one row per (segment, month) with sales."""
    code, names = pd.factorize(customers["segment"], sort=True)
    ids = pd.Index(customers[s.CUSTOMER_ID])
    month = sales[s.INVOICE_DATE].to_numpy().astype("datetime64[M]").astype(np.int64)
    first, months = (int(month.min()), int(month.max()) - int(month.min()) + 1) if len(month) else (0, 1)
    key = code[positions(ids, sales[s.CUSTOMER_ID])] * months + (month - first)
    size = len(names) * months
    revenue = np.bincount(key, weights=sales[s.REVENUE].to_numpy(), minlength=size)
    orders = np.bincount(key[first_occurrence(key, sales[s.INVOICE])], minlength=size)
    buyers = np.bincount(key[first_occurrence(key, sales[s.CUSTOMER_ID])], minlength=size)
    returned = np.zeros(size)
    found = positions(ids, returns[s.CUSTOMER_ID])
    if len(returns):
        back = returns[s.INVOICE_DATE].to_numpy().astype("datetime64[M]").astype(np.int64) - first
        inside = (found >= 0) & (back >= 0) & (back < months)
        np.add.at(returned, code[found[inside]] * months + back[inside], -returns[s.REVENUE].to_numpy()[inside])
    sold = np.flatnonzero(np.bincount(key, minlength=size) > 0)
    return pd.DataFrame({
        "segment": pd.Index(np.asarray(names, dtype=object), dtype="str").take(sold // months),
        "month": ((sold % months) + first).astype("datetime64[M]").astype("datetime64[us]"),
        "revenue": revenue[sold], "returns": returned[sold], "orders": orders[sold], "customers": buyers[sold],
    })[list(s.TABLES["monthly_by_segment"])]


def monthly_trend(sales: pd.DataFrame, returns: pd.DataFrame | None = None) -> pd.DataFrame:
    """month (first day), revenue (gross sales), returns (value of the month's returns, positive), orders,
    customers — one row per month with sales."""
    month = sales[s.INVOICE_DATE].to_numpy().astype("datetime64[M]")
    number = month.astype(np.int64)  # months since 1970: sorted group numbers, as groupby("month") sorts
    grouped = sales[s.REVENUE].groupby(number)
    revenue, group = grouped.sum(), grouped.ngroup().to_numpy()
    orders = np.bincount(group[first_occurrence(number, sales[s.INVOICE])], minlength=len(revenue))
    customers = np.bincount(group[first_occurrence(number, sales[s.CUSTOMER_ID])], minlength=len(revenue))
    months = revenue.index.to_numpy().astype("datetime64[M]")
    returned = np.zeros(len(months))
    if returns is not None and len(returns):
        by_month = (-returns[s.REVENUE]).groupby(returns[s.INVOICE_DATE].to_numpy().astype("datetime64[M]")).sum()
        returned = by_month.reindex(months, fill_value=0.0).to_numpy(dtype=float)
    return pd.DataFrame({"month": months.astype("datetime64[us]"), "revenue": revenue.to_numpy(),
                         "returns": returned, "orders": orders, "customers": customers})


def headline_kpis(customers: pd.DataFrame, sales: pd.DataFrame, returns: pd.DataFrame, active_days: int,
                  guest_sales: float = 0.0) -> pd.DataFrame:
    """One row per KPI: kpi, label, value, unit, definition.

    ``customers`` carries gross_value and net_value (``rfm.with_returns``), ``monetary`` (the configured
    customer value), yearly_value and at_risk (``risk.score_risk``); ``guest_sales``: value of the sale
    lines without customer id (``CleanResult.guest_sales``).
    """
    gross = float(sales[s.REVENUE].sum())
    returned = float(-returns[s.REVENUE].sum()) if len(returns) else 0.0
    matched = float((customers["gross_value"] - customers["net_value"]).sum())  # returns within each purchases
    orders = int(sales[s.INVOICE].nunique())
    n_customers = len(customers)
    value = float(customers["monetary"].sum())
    active = int((customers["recency_days"] <= active_days).sum())
    at_risk = customers[customers["at_risk"]]
    rows = [
        ("revenue", "Gross sales", gross, "money",
         ("Σ quantity × unit price over the sale lines of known customers (cancellations excluded). "
         "Gross sales + guest sales = total sales.")),
        ("returns_value", "Returns", returned, "money",
         "Value of the cancelled lines of known customers (shown positive). Net revenue = gross sales − returns."),
        ("net_revenue", "Net revenue", gross - returned, "money",
         ("Gross sales − returns. The customers' net values add up to net revenue + unmatched returns "
         "(a customer's net value never goes below 0).")),
        ("guest_sales", "Guest sales", guest_sales, "money",
         "Sale lines without a customer id: in total sales, not in any customer figure."),
        ("total_sales", "Total sales", gross + guest_sales, "money", "Gross sales + guest sales: every sale line."),
        ("returns_unmatched", "Unmatched returns", returned - matched, "money",
         ("Returns beyond the customer's purchases in the data (refunds of orders placed before the data "
         "window, or by customers with no sale in it): in returns, but no customer's net value goes below 0.")),
        ("customers", "Customers", n_customers, "count", "Customers with at least one sale."),
        ("active_customers", "Active customers", active, "count",
         f"Customers who bought within the last {active_days} days before the analysis date."),
        ("active_share", "Active share", active / n_customers if n_customers else np.nan, "share",
         "Active customers / customers."),
        ("orders", "Orders", orders, "count", "Distinct invoices with at least one sale line."),
        ("avg_basket", "Average basket", gross / orders if orders else np.nan, "money", "Gross sales / orders."),
        ("avg_customer_value", "Average customer value", value / n_customers if n_customers else np.nan,
         "money", ("Σ customers' values / customers (value: net of the customer's returns, floored at 0, "
         "unless rfm.monetary is gross).")),
        ("pareto_share", "Customers making 80 % of revenue", pareto_share(customers["monetary"]), "share",
         ("Smallest share of customers, best first by value (net of returns), whose values add up to 80 % "
         "of the total.")),
        ("at_risk_customers", "High-value customers at risk", len(at_risk), "count",
         ("High-value customers whose risk score reached the threshold (see the risk formula); never a "
         "customer who returned everything.")),
        ("revenue_at_stake", "Revenue at stake", float(at_risk["yearly_value"].sum()), "money",
         ("Yearly value of the customers at risk: each one's net value × 365 / days since their first "
         "purchase (at least 90 days counted) — what a year without them costs at their past rate.")),
    ]
    return pd.DataFrame(rows, columns=["kpi", "label", "value", "unit", "definition"]).astype({"value": float})


def summarise_segments(customers: pd.DataFrame, scheme: SegmentScheme) -> pd.DataFrame:
    """One row per segment of the scheme (empty segments included), most urgent priority first.

    revenue = Σ customers' values (``monetary``); gross_sales, returns_value and net_revenue (their
    difference) are the segment's share of the headline figures; revenue_at_stake = Σ yearly_value of
    its customers at risk; pareto_share = :func:`pareto_share` of its customers' values.
    """
    total_revenue = customers["monetary"].sum()
    grouped = customers.groupby("segment")  # one call per statistic for all its columns
    means = grouped[["recency_days", "frequency", "monetary", "r_score", "f_score", "m_score"]].mean()
    sums = grouped[["monetary", "frequency", "at_risk", "gross_value", "returns_value"]].sum()
    stats = pd.concat([
        grouped.size().rename("customers"),
        sums.set_axis(["revenue", "orders", "at_risk_customers", "gross_sales", "returns_value"], axis=1),
        means.add_prefix("mean_"),
        customers[customers["at_risk"]].groupby("segment")["yearly_value"].sum().rename("revenue_at_stake"),
        grouped["monetary"].agg(pareto_share).rename("pareto_share"),
    ], axis=1)
    table = scheme.table().drop(columns=["cells"]).merge(stats, left_on="segment", right_index=True, how="left")
    counts = ["customers", "orders", "at_risk_customers"]
    table[counts] = table[counts].fillna(0).astype("int64")
    money = ["revenue", "revenue_at_stake", "gross_sales", "returns_value"]
    table[money] = table[money].fillna(0.0)
    table["net_revenue"] = table["gross_sales"] - table["returns_value"]
    table["customer_share"] = table["customers"] / max(len(customers), 1)
    table["revenue_share"] = table["revenue"] / total_revenue if total_revenue else 0.0
    table["avg_basket"] = (table["gross_sales"] / table["orders"].replace(0, np.nan))
    table = table.sort_values(["priority_rank", "revenue"], ascending=[True, False], kind="stable")
    return table[list(s.TABLES["segments"]) + ["description", "description_fr", "orders"]].reset_index(drop=True)


def segment_top_products(sales: pd.DataFrame, bought: pd.DataFrame, customers: pd.DataFrame, names: pd.Series,
                         top: int, returns: pd.DataFrame | None = None) -> pd.DataFrame:
    """Top products by net revenue within each segment.

    Args:
        sales: customer sale lines.
        bought: their distinct product purchases (``recommend.bought_pairs``).
        customers: customer_id, segment.
        returns: cancelled lines of known customers (negative revenue and quantity): each is subtracted
            from the product it refunds in the returning customer's segment. None: gross figures.

    Returns:
        segment, rank, stock_code, description, revenue (net), quantity (net), customers (distinct buyers);
        products whose net revenue is not above 0 are left out.
    """
    product = ~sales["is_service"].to_numpy()
    segment_code, segments = pd.factorize(customers["segment"])
    ids = pd.Index(customers[s.CUSTOMER_ID])
    item, items = sorted_codes(sales[s.STOCK_CODE])
    key = segment_code[positions(ids, sales[s.CUSTOMER_ID])][product] * len(items) + item[product]
    revenue, quantity = sales[s.REVENUE].to_numpy()[product], sales[s.QUANTITY].to_numpy()[product]
    size = len(segments) * len(items)
    if returns is not None and len(returns):
        who, what = positions(ids, returns[s.CUSTOMER_ID]), positions(items, returns[s.STOCK_CODE])
        lines = np.flatnonzero((who >= 0) & (what >= 0))
        refund_key = segment_code[who[lines]] * len(items) + what[lines]
        kept = np.bincount(key, minlength=size)[refund_key] > 0  # products the segment bought (no service code)
        key = np.r_[key, refund_key[kept]]
        revenue = np.r_[revenue, returns[s.REVENUE].to_numpy()[lines[kept]]]
        quantity = np.r_[quantity, returns[s.QUANTITY].to_numpy()[lines[kept]]]
    net_revenue = np.bincount(key, weights=revenue, minlength=size)  # by (segment, stock_code) key
    net_quantity = np.bincount(key, weights=quantity, minlength=size).round().astype("int64")
    key = np.flatnonzero(net_revenue > 0)
    net_revenue, net_quantity = net_revenue[key], net_quantity[key]
    pair = segment_code[positions(ids, bought[s.CUSTOMER_ID])] * len(items) + positions(items, bought[s.STOCK_CODE])
    buyers = np.bincount(pair, minlength=len(segments) * len(items))[key]
    segment, item = key // len(items), key % len(items)
    segments = pd.Index(np.asarray(segments, dtype=object), dtype="str")
    alphabetical = np.argsort(np.argsort(segments.to_numpy(dtype=object)))  # each segment's place by name
    order = np.lexsort((item, -net_revenue, alphabetical[segment]))
    rank = rank_within(segment[order])
    order, rank = order[rank <= top], rank[rank <= top]
    codes = as_text(items.take(item[order]))
    return pd.DataFrame({
        "segment": segments.take(segment[order]), "rank": rank, s.STOCK_CODE: codes,
        "description": describe(codes, names),
        s.REVENUE: net_revenue[order], s.QUANTITY: net_quantity[order], "customers": buyers[order],
    })[list(s.TABLES["segment_products"])]
