"""The campaign files of an audience: who to contact, with the campaign columns. Pure.

Two files from one function: the **target** list (for the e-mail/ads tool — the control group is never in
it) and the **full** list with ``group`` and ``segment_at_creation`` (for analysts). The customer columns
are the campaign columns of every customer-list CSV (``CAMPAIGN_COLUMNS``, docs/EXPORTS.md), computed by
the caller (``campaign_rows``) and passed in; this module adds the audience columns.
"""

from __future__ import annotations

import pandas as pd

from analytics.audiences import Audience

__all__ = ["AUDIENCE_COLUMNS", "FULL_COLUMNS", "EXPORT_KINDS", "export_ids", "audience_export"]

AUDIENCE_COLUMNS = ("audience_id", "audience_name")  # after the campaign columns, in both files
FULL_COLUMNS = ("group", "segment_at_creation")  # then these, in the full file only
EXPORT_KINDS = ("target", "full")  # target: the campaign file; full: every member with its group


def _members(audience: Audience, kind: str) -> pd.DataFrame:
    if kind not in EXPORT_KINDS:
        raise ValueError(f"Unknown export kind {kind!r}; allowed: {', '.join(EXPORT_KINDS)}.")
    members = audience.members
    if kind == "target":
        members = members[members["group"] == "target"]
    return members.sort_values("customer_id", kind="stable")


def export_ids(audience: Audience, kind: str) -> list[str]:
    """The customer ids of the ``target`` or ``full`` file, in file order (by customer id)."""
    return _members(audience, kind)["customer_id"].tolist()


def audience_export(audience: Audience, kind: str, campaign_rows: pd.DataFrame) -> pd.DataFrame:
    """The ``target`` file (target group only) or the ``full`` file (every member, with ``group`` and
    ``segment_at_creation``): ``campaign_rows`` (one row per customer, ``customer_id`` first) plus the
    audience id and name. A member no longer in the snapshot keeps its row with empty campaign columns.

    Raises:
        ValueError: unknown ``kind``.
    """
    members = _members(audience, kind)
    rows = campaign_rows.astype({"customer_id": "str"})
    frame = members[["customer_id"]].merge(rows, on="customer_id", how="left")
    frame = frame.assign(audience_id=audience.audience_id, audience_name=audience.name)
    if kind == "full":
        frame = frame.assign(group=members["group"].to_numpy(), segment_at_creation=members["segment"].to_numpy())
    return frame.reset_index(drop=True)
