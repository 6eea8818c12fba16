"""What the pages ask of the per-customer tables, as SQL on the local copies (:func:`dashboard.data.query`).

Each function answers one page question with the rows it shows (one customer, ten suggestions, a grid
block, a few aggregates), so no worker holds the customers or their orders whole. Values are always
parameters; table names are ``{table}`` placeholders resolved by :mod:`dashboard.data`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from analytics.campaign_columns import TOP_PRODUCTS, campaign_rows
from analytics.errors import SnapshotError
from dashboard import data

__all__ = ["customer", "customer_count", "suggest_ids", "top_customers", "segment_of", "active_in_segment",
           "profile_means", "segment_sizes", "customer_list_source", "scope_count", "customers_by_id",
           "campaign_export", "moves_source", "flows", "window_counts", "scoped_moves_source", "downgrades",
           "downgrades_source",
           "ids_of", "window_moves", "window_summary", "active_days",
           "recommended_count", "buyers_by_segment", "rule_audience", "segments_of",
           "best_recommendations"]

PROFILE_COLUMNS = ("r_score", "f_score", "m_score", "recency_days", "frequency", "monetary")


def customer(version: str, customer_id: str) -> pd.DataFrame:
    """The customers row of ``customer_id`` (no row: unknown id)."""
    return data.customer_rows("customers", version, customer_id)


def segment_of(version: str, customer_id: str) -> str | None:
    """The segment of a customer (None: unknown id)."""
    found = data.customer_rows("customers", version, customer_id, columns=("segment",))
    return None if found.empty else str(found["segment"].iloc[0])


def customer_count(version: str) -> int:
    """Customers in the snapshot (from the manifest's row count)."""
    return int(data.manifest(version)["tables"]["customers"]["rows"])


def suggest_ids(version: str, needle: str, limit: int) -> pd.DataFrame:
    """At most ``limit`` customers whose id starts with ``needle`` (first, by id) or contains it; ``needle`` is
    lower case. Columns customer_id, country, segment (as ``client_view.suggest_ids`` on the whole table)."""
    return data.query(version, "SELECT customer_id, country, segment FROM {customers} "
                      "WHERE contains(lower(customer_id), ?) "
                      "ORDER BY NOT starts_with(lower(customer_id), ?), customer_id LIMIT ?",
                      [needle, needle, limit if needle else 0])


def top_customers(version: str, segment: str | None, by: str, n: int, at_risk: bool = False) -> pd.DataFrame:
    """The ``n`` customers with the largest ``by`` (risk_score or monetary), of one segment or all, optionally
    at-risk only (as ``DataFrame.nlargest``: ties keep the table order)."""
    if by not in ("risk_score", "monetary"):
        raise ValueError(f"top_customers: by must be risk_score or monetary, not {by!r}.")
    return data.query(version, "SELECT * FROM (SELECT *, row_number() OVER () AS _row FROM {customers}) "
                      "WHERE (CAST(? AS VARCHAR) IS NULL OR segment = ?) AND (at_risk OR NOT ?) "
                      f"ORDER BY {by} DESC NULLS LAST, _row LIMIT ?", [segment, segment, at_risk, n]).drop(
                          columns="_row")


def active_in_segment(version: str, segment: str, active_days: int) -> int:
    """Customers of ``segment`` whose last purchase is at most ``active_days`` old."""
    found = data.query(version, "SELECT count(*) AS n FROM {customers} WHERE segment = ? AND recency_days <= ?",
                       [segment, active_days])
    return int(found["n"].iloc[0])


@data.by_version
def profile_means(version: str) -> pd.Series:
    """All-customer means of the r/f/m scores, recency_days, frequency and monetary."""
    means = ", ".join(f"avg({col}) AS {col}" for col in PROFILE_COLUMNS)
    return data.query(version, f"SELECT {means} FROM {{customers}}").iloc[0].astype(float)


@data.by_version
def segment_sizes(version: str) -> pd.DataFrame:
    """period_end, segment, customers: the customers of each segment at each period end (segment_history)."""
    return data.query(version, "SELECT period_end, segment, count(*) AS customers FROM {segment_history} "
                      "GROUP BY ALL ORDER BY period_end, segment")


def customer_list_source(segment: str | None, view: str) -> tuple[str, list[Any]]:
    """The Actions list (``action_view.customer_list``) as a SELECT and its parameters: the customers of
    ``segment`` (None: all), at risk only unless ``view`` is ``all``, with their segment's action."""
    sql = ("SELECT c.customer_id, c.segment, c.risk_score, c.last_purchase, c.recency_days, c.frequency, c.monetary, "
           "CASE WHEN c.at_risk THEN c.yearly_value ELSE 0.0 END AS revenue_at_stake, c.at_risk, s.action, "
           "c.value_at_stake, c.expected_orders_90d, c.p_order_90d, c.next_order_date, c.risk_reason "
           "FROM {customers} AS c LEFT JOIN {segments} AS s ON s.segment = c.segment "
           "WHERE (CAST(? AS VARCHAR) IS NULL OR c.segment = ?) AND (c.at_risk OR ?)")
    return sql, [segment, segment, view == "all"]


def scope_count(version: str, source: str, params: Sequence[Any]) -> int:
    """Rows of a list's SELECT."""
    return int(data.query(version, f"SELECT count(*) AS n FROM ({source}) AS src", params)["n"].iloc[0])


def customers_by_id(version: str, ids: Sequence[str]) -> pd.DataFrame:
    """The customers rows of ``ids`` (unknown ids left out), in the order of ``ids``."""
    return data.query(version, "SELECT c.* FROM {customers} AS c JOIN unnest(?::VARCHAR[]) WITH ORDINALITY "
                      "AS wanted(customer_id, n) USING (customer_id) ORDER BY wanted.n", [list(ids)])



def campaign_export(version: str, ids: Sequence[str], currency: str) -> pd.DataFrame:
    """The campaign columns (``analytics.campaign_columns``) of the customers ``ids``, in that order: their
    customers and best recommendations rows are read by key."""
    wanted = [str(i) for i in ids]
    return campaign_rows(customers_by_id(version, wanted), data.table("segments", version),
                         best_recommendations(version, wanted), wanted, currency)


def best_recommendations(version: str, ids: Sequence[str]) -> pd.DataFrame:
    """The recommendations rows of ``ids`` up to rank TOP_PRODUCTS (what the campaign columns show)."""
    return data.query(version, "SELECT * FROM {recommendations} WHERE rank <= ? AND customer_id IN "
                      "(SELECT unnest(?::VARCHAR[]))", [TOP_PRODUCTS, [str(i) for i in ids]])


# --- segment movement between two period ends (movement_view.transitions, in SQL) ------------------------------------
def moves_source(start: str, end: str, ranking: Sequence[str], active_days: int,
                 new_label: str) -> tuple[str, list[Any]]:
    """The customers at ``end`` with where they were at ``start`` (``movement_view.transitions``) as a SELECT:
    customer_id, from_segment (``new_label`` when not a customer yet), to_segment, movement (up/down/same/new),
    monetary, frequency, recency_days (at ``end``), lapsed (active at start, not at end)."""
    sql = (_MOVES_COLUMNS + "FROM {segment_history} AS l LEFT JOIN {segment_history} AS e "
           "ON e.customer_id = l.customer_id AND e.period_end = ? WHERE l.period_end = ?")
    ranks = [str(r) for r in ranking]
    return sql, [new_label, *[ranks] * 5, active_days, active_days, _stamp(start), _stamp(end)]


_MOVES_COLUMNS = ("SELECT l.customer_id, coalesce(e.segment, ?) AS from_segment, l.segment AS to_segment, "
                  "CASE WHEN list_position(?::VARCHAR[], e.segment) IS NULL THEN 'new' "
                  "WHEN list_position(?::VARCHAR[], l.segment) < list_position(?::VARCHAR[], e.segment) THEN 'up' "
                  "WHEN list_position(?::VARCHAR[], l.segment) > list_position(?::VARCHAR[], e.segment) THEN 'down' "
                  "ELSE 'same' END AS movement, l.monetary, l.frequency, l.recency_days, "
                  "coalesce(e.recency_days <= ? AND l.recency_days > ?, false) AS lapsed ")


def downgrades_source(start: str, end: str, ranking: Sequence[str], active_days: int, new_label: str,
                      top: Sequence[str], at_risk: Sequence[str]) -> tuple[str, list[Any]]:
    """The moves from a ``top`` segment at ``start`` to an ``at_risk`` one at ``end`` (the columns of
    :func:`moves_source`), filtered on both sides before the join (a few customers, not all of them)."""
    ranks = [str(r) for r in ranking]
    sql = (_MOVES_COLUMNS + "FROM {segment_history} AS l JOIN {segment_history} AS e ON e.customer_id = "
           "l.customer_id WHERE e.period_end = ? AND l.period_end = ? AND list_contains(?::VARCHAR[], e.segment) "
           "AND list_contains(?::VARCHAR[], l.segment)")
    return sql, [new_label, *[ranks] * 5, active_days, active_days, _stamp(start), _stamp(end),
                 [str(t) for t in top], [str(a) for a in at_risk]]


def _stamp(day: str) -> Any:
    return pd.Timestamp(day).to_pydatetime()


def flows(version: str, source: tuple[str, list[Any]]) -> pd.DataFrame:
    """from_segment, to_segment, movement, customers, value (sum of monetary, negatives as 0) of a moves SELECT."""
    sql, params = source
    return data.query(version, "SELECT from_segment, to_segment, movement, count(*) AS customers, "
                      f"coalesce(sum(greatest(monetary, 0.0)), 0.0) AS value FROM ({sql}) AS m GROUP BY ALL "
                      "ORDER BY from_segment, to_segment", params)


def window_counts(version: str, source: tuple[str, list[Any]]) -> dict[str, int]:
    """upgraded, downgraded, new and lapsed customers of a moves SELECT."""
    sql, params = source
    found = data.query(version, "SELECT count_if(movement = 'up') AS upgraded, count_if(movement = 'down') AS "
                       "downgraded, count_if(movement = 'new') AS new, count_if(lapsed) AS lapsed "
                       f"FROM ({sql}) AS m", params).iloc[0]
    return {key: int(found[key]) for key in ("upgraded", "downgraded", "new", "lapsed")}


def scoped_moves_source(source: tuple[str, list[Any]], kind: str | None, from_segment: str | None,
                        to_segment: str | None, top: Sequence[str], at_risk: Sequence[str]) -> tuple[str, list[Any]]:
    """The moves of one list (``movement_view.scoped_moves``): the downgrades (top segments → at-risk ones) or
    one flow, as a SELECT."""
    sql, params = source
    if kind == "downgrades":
        return (f"SELECT * FROM ({sql}) AS m WHERE list_contains(?::VARCHAR[], from_segment) "
                "AND list_contains(?::VARCHAR[], to_segment)", [*params, [str(t) for t in top],
                                                                 [str(a) for a in at_risk]])
    return f"SELECT * FROM ({sql}) AS m WHERE from_segment = ? AND to_segment = ?", [*params, from_segment, to_segment]


def downgrades(version: str, source: tuple[str, list[Any]]) -> pd.DataFrame:
    """High-value downgrades (a :func:`downgrades_source`) by value at stake, largest first
    (``movement_view.downgrades``)."""
    sql, params = source
    return data.query(version, f"SELECT * FROM ({sql}) AS d ORDER BY monetary DESC NULLS LAST, customer_id", params)


def ids_of(version: str, source: tuple[str, list[Any]]) -> list[str]:
    """The customer ids of a list's SELECT."""
    sql, params = source
    return [str(i) for i in data.query(version, f"SELECT customer_id FROM ({sql}) AS s", params)["customer_id"]]


@data.by_version
def window_moves(version: str, start: str, end: str, new_label: str) -> tuple[pd.DataFrame, dict[str, int]] | None:
    """The high-value downgrades and the movement counts between two period ends (None: no segment history)."""
    manifest = data.manifest(version)
    if not manifest.get("tables", {}).get("segment_history", {}).get("rows"):
        return None
    found = manifest.get("history")
    meta: Mapping[str, Any] = found if isinstance(found, dict) else {}
    ranking, days = meta.get("ranking", []), active_days(manifest)
    slipped = downgrades(version, downgrades_source(start, end, ranking, days, new_label, meta.get("top_segments", []),
                                                    meta.get("at_risk_segments", [])))
    return slipped, _period_counts(version, start, end) or window_counts(
        version, moves_source(start, end, ranking, days, new_label))


@data.by_version
def window_summary(version: str, start: str, end: str, new_label: str) -> tuple[int, float, dict[str, int]] | None:
    """The high-value downgrades (customers, value at stake with negatives as 0) and the movement counts
    between two period ends: from the refresh's ``history_periods`` when the window is one period and the
    snapshot has the columns, else from :func:`window_moves`. None: no segment history."""
    row = _period_row(version, start, end)
    if row is not None and "high_value_slipped" in row:
        return (int(row["high_value_slipped"]), float(row["high_value_slipped_value"]),
                _counts_of(row))
    found = window_moves(version, start, end, new_label)
    if found is None:
        return None
    slipped, counts = found
    return len(slipped), float(slipped["monetary"].clip(lower=0).sum()), counts


def _period_row(version: str, start: str, end: str) -> pd.Series | None:
    """The ``history_periods`` row of one period (None: not one period, or no such table)."""
    try:
        periods = data.table("history_periods", version)
    except SnapshotError:
        return None
    row = periods[(periods["period_start"] == pd.Timestamp(start)) & (periods["period_end"] == pd.Timestamp(end))]
    return row.iloc[0] if len(row) == 1 else None


def _counts_of(row: pd.Series) -> dict[str, int]:
    return {"upgraded": int(row["upgraded"]), "downgraded": int(row["downgraded"]),
            "new": int(row["new_customers"]), "lapsed": int(row["lapsed_customers"])}


def _period_counts(version: str, start: str, end: str) -> dict[str, int] | None:
    """The counts of :func:`window_counts` from the refresh's ``history_periods`` when the window is one period
    (same definitions, analytics/history.py); None otherwise."""
    row = _period_row(version, start, end)
    return None if row is None else _counts_of(row)


def active_days(manifest: Mapping[str, Any]) -> int:
    """The snapshot's ``rfm.active_days`` (90 when not recorded)."""
    return int(manifest.get("parameters", {}).get("rfm", {}).get("active_days", 90))


def recommended_count(version: str, code: str) -> int:
    """Recommendations of product ``code`` (to all customers)."""
    found = data.query(version, "SELECT count(*) AS n FROM {recommendations} WHERE stock_code = ?", [code])
    return int(found["n"].iloc[0])


def buyers_by_segment(version: str, code: str) -> pd.DataFrame:
    """Buyers of the product per segment (segment, buyers, share of the segment's customers), most first
    (``product_view.buyers_by_segment``)."""
    return data.query(version, "WITH sizes AS (SELECT segment, count(*) AS n FROM {customers} GROUP BY segment) "
                      "SELECT c.segment, count(DISTINCT b.customer_id) AS buyers, "
                      "count(DISTINCT b.customer_id) / any_value(sizes.n) AS share "
                      "FROM {product_buyers} AS b JOIN {customers} AS c ON c.customer_id = b.customer_id "
                      "JOIN sizes ON sizes.segment = c.segment WHERE b.stock_code = ? "
                      "GROUP BY c.segment ORDER BY buyers DESC, c.segment", [code])


def rule_audience(version: str, antecedents: Sequence[str], consequents: Sequence[str],
                  segment: str | None) -> pd.DataFrame:
    """Customers who bought every antecedent product and no consequent product (of ``segment`` when given),
    by net value, descending (``audience.audience``): customer_id, country, segment, net_value, frequency,
    last_purchase, recency_days."""
    wanted, unwanted = sorted({str(c) for c in antecedents}), [str(c) for c in consequents]
    return data.query(version, "SELECT c.customer_id, c.country, c.segment, c.net_value, c.frequency, c.last_purchase, "
                      "c.recency_days FROM {customers} AS c WHERE c.customer_id IN (SELECT customer_id FROM "
                      "{product_buyers} WHERE list_contains(?::VARCHAR[], stock_code) GROUP BY customer_id "
                      "HAVING count(DISTINCT stock_code) = ?) AND c.customer_id NOT IN (SELECT customer_id FROM "
                      "{product_buyers} WHERE list_contains(?::VARCHAR[], stock_code) AND customer_id IS NOT NULL) "
                      "AND (CAST(? AS VARCHAR) IS NULL OR c.segment = ?) "
                      "ORDER BY c.net_value DESC NULLS LAST, c.customer_id",
                      [wanted, len(wanted), unwanted, segment, segment])


def segments_of(version: str, ids: Sequence[str]) -> pd.Series:
    """The segment of each id, indexed by the ids (missing: unknown id)."""
    found = data.query(version, "SELECT customer_id, segment FROM {customers} WHERE customer_id IN "
                       "(SELECT unnest(?::VARCHAR[]))", [[str(i) for i in ids]])
    return found.set_index("customer_id")["segment"].reindex([str(i) for i in ids])
