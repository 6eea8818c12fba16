"""The campaign file of an audience: who to contact, with the columns an e-mail/ads tool needs. Pure.

Two files from one function: the **target** list (for the campaign tool — the control group is never in
it) and the **full** list with a ``group`` column (for analysts). Column names are a contract: stable,
not localised, declared once in :data:`CAMPAIGN_COLUMNS` (the campaign columns of the customer lists) and
:data:`AUDIENCE_COLUMNS`.
"""

from __future__ import annotations

import pandas as pd

from analytics.audiences import Audience

__all__ = ["CAMPAIGN_COLUMNS", "AUDIENCE_COLUMNS", "EXPORT_KINDS", "campaign_columns", "audience_export"]

# Campaign columns of a customer list (from the customers, segments and recommendations tables).
CAMPAIGN_COLUMNS = ("customer_id", "country", "segment", "r_score", "f_score", "m_score", "recency_days",
                    "frequency", "monetary", "returns_value", "action", "tactic",
                    "product_1_code", "product_1_name", "product_2_code", "product_2_name",
                    "product_3_code", "product_3_name")
AUDIENCE_COLUMNS = ("audience_id", "audience_name")
EXPORT_KINDS = ("target", "full")  # target: the campaign file; full: every member with its group
_TOP_PRODUCTS = 3


def campaign_columns(customer_ids: pd.Series, customers: pd.DataFrame, segments: pd.DataFrame,
                     recommendations: pd.DataFrame) -> pd.DataFrame:
    """The campaign columns for ``customer_ids`` (in that order); customers unknown to the snapshot get
    empty cells. ``segment`` is the customer's current segment."""
    ids = pd.DataFrame({"customer_id": customer_ids.astype("str").to_numpy()})
    known = customers[["customer_id", "country", "segment", "r_score", "f_score", "m_score", "recency_days",
                       "frequency", "monetary", "returns_value"]]
    frame = ids.merge(known.astype({"customer_id": "str"}), on="customer_id", how="left")
    frame = frame.merge(segments[["segment", "action", "tactic"]], on="segment", how="left")
    top = recommendations[recommendations["rank"] <= _TOP_PRODUCTS]
    wide = {}
    for rank in range(1, _TOP_PRODUCTS + 1):
        picks = top[top["rank"] == rank].set_index("customer_id")
        wide[f"product_{rank}_code"] = frame["customer_id"].map(picks["stock_code"])
        wide[f"product_{rank}_name"] = frame["customer_id"].map(picks["description"])
    return frame.assign(**wide)[list(CAMPAIGN_COLUMNS)]


def audience_export(audience: Audience, kind: str, customers: pd.DataFrame, segments: pd.DataFrame,
                    recommendations: pd.DataFrame) -> pd.DataFrame:
    """The ``target`` file (target group only) or the ``full`` file (every member, plus ``group`` and
    ``segment_at_creation``), each with the campaign columns, audience id and name.

    Raises:
        ValueError: unknown ``kind``.
    """
    if kind not in EXPORT_KINDS:
        raise ValueError(f"Unknown export kind {kind!r}; allowed: {', '.join(EXPORT_KINDS)}.")
    members = audience.members
    if kind == "target":
        members = members[members["group"] == "target"]
    members = members.sort_values("customer_id", kind="stable")
    frame = campaign_columns(members["customer_id"], customers, segments, recommendations)
    frame = frame.assign(audience_id=audience.audience_id, audience_name=audience.name)
    if kind == "full":
        frame = frame.assign(group=members["group"].to_numpy(), segment_at_creation=members["segment"].to_numpy())
    return frame.reset_index(drop=True)
