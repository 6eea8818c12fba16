"""Campaign rows: the one column contract of every customer-list CSV (docs/EXPORTS.md). Pure pandas.

A customer list exported from any page (the Actions list today; cross-sell audiences, movement lists and
campaign audiences reuse it) has exactly :data:`CAMPAIGN_COLUMNS`, in this order, with these names: stable
English ``snake_case``, never localised, so a CRM import mapping keeps working. Values: money rounded to
cents in the snapshot's currency (named in ``currency``), dates ISO ``YYYY-MM-DD``, booleans ``true`` /
``false``, missing values empty.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

__all__ = ["CAMPAIGN_COLUMNS", "TOP_PRODUCTS", "campaign_rows"]

TOP_PRODUCTS = 3  # recommended products per customer in the export
CAMPAIGN_COLUMNS: tuple[str, ...] = (
    "customer_id", "country", "segment", "priority", "action", "tactic",
    "r_score", "f_score", "m_score", "recency_days", "frequency", "last_purchase",
    "gross_value", "returns_value", "net_value", "yearly_value", "risk_score", "at_risk", "revenue_at_stake",
    # predicted value (analytics/forecast.py; empty for snapshots published before predictions)
    "value_at_stake", "expected_value_12m", "expected_orders_90d", "p_order_90d", "next_order_date", "risk_reason",
    "currency",
    *(f"product_{rank}_{part}" for rank in range(1, TOP_PRODUCTS + 1) for part in ("code", "name")),
    "previous_segment", "segment_since",  # from the segment history (analytics/history.py)
)
_MONEY = ("gross_value", "returns_value", "net_value", "yearly_value", "revenue_at_stake")


def campaign_rows(customers: pd.DataFrame, segments: pd.DataFrame, recommendations: pd.DataFrame,
                  ids: Iterable[str], currency: str = "") -> pd.DataFrame:
    """The campaign columns of the customers ``ids``, in that order (ids not in ``customers`` are left out).

    Args:
        customers: the snapshot's ``customers`` table.
        segments: the ``segments`` table (priority, action, tactic of each segment).
        recommendations: the ``recommendations`` table; each customer's best ``TOP_PRODUCTS`` by rank.
        ids: customer ids, in the order wanted (e.g. the grid's filtered and sorted list).
        currency: the snapshot's currency symbol, repeated on every row.

    Returns:
        One row per customer with exactly :data:`CAMPAIGN_COLUMNS`.
    """
    wanted = pd.Index(pd.Series(list(ids), dtype="str")).drop_duplicates()
    rows = customers.set_index("customer_id")
    rows = rows.loc[wanted[wanted.isin(rows.index)]]
    actions = segments.set_index("segment")[["priority", "action", "tactic"]]
    frame = rows.join(actions, on="segment")
    frame = frame.assign(
        last_purchase=frame["last_purchase"].dt.strftime("%Y-%m-%d"),
        segment_since=frame["segment_since"].dt.strftime("%Y-%m-%d") if "segment_since" in frame else None,
        at_risk=frame["at_risk"].astype(bool).map({True: "true", False: "false"}),
        revenue_at_stake=frame["yearly_value"].where(frame["at_risk"].astype(bool), 0.0),
        risk_score=frame["risk_score"].round(1), currency=currency,
    )
    frame[list(_MONEY)] = frame[list(_MONEY)].astype(float).round(2)
    frame = _with_predictions(frame)
    frame = frame.join(_top_products(recommendations, frame.index))
    return frame.rename_axis("customer_id").reset_index().reindex(columns=list(CAMPAIGN_COLUMNS))


def _with_predictions(frame: pd.DataFrame) -> pd.DataFrame:
    """The prediction columns rounded like the others (money to cents, ISO dates), when the snapshot has them."""
    rounding = {"value_at_stake": 2, "expected_value_12m": 2, "expected_orders_90d": 2, "p_order_90d": 3}
    present: dict[str, pd.Series] = {name: frame[name].astype(float).round(digits)
                                     for name, digits in rounding.items() if name in frame}
    if "next_order_date" in frame:
        present["next_order_date"] = pd.to_datetime(frame["next_order_date"]).dt.strftime("%Y-%m-%d")
    return frame.assign(**present)


def _top_products(recommendations: pd.DataFrame, ids: pd.Index) -> pd.DataFrame:
    """product_<rank>_code and product_<rank>_name of each customer's best ``TOP_PRODUCTS`` recommendations."""
    mine = recommendations[recommendations["customer_id"].isin(ids)]
    products = pd.DataFrame(index=ids)
    for rank in range(1, TOP_PRODUCTS + 1):
        ranked = mine[mine["rank"] == rank].set_index("customer_id")
        products[f"product_{rank}_code"] = ranked["stock_code"].reindex(ids)
        products[f"product_{rank}_name"] = ranked["description"].reindex(ids)
    return products
