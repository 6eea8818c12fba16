"""Audiences: a frozen list of customers split at random into a target and a control group. Pure, no I/O.

An audience is created from any customer list of a snapshot. Its members are frozen with the segment they
were in, and each member is assigned to ``target`` or ``control`` by :func:`split_members`:

* deterministic — the draw is ``sha256("<audience id>:<customer id>")`` read as a number in [0, 1), so the
  same audience always gives the same groups, on any machine;
* stratified by segment — within each segment the members are ordered by their draw and the first
  ``round(share × n)`` (halves rounded up) are the control group, so every segment holds the control share
  exactly (to one member) and the groups cannot differ by segment mix.

The record is plain JSON (never pickle): see :func:`audience_json` / :func:`parse_audience`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd

from analytics.errors import AudienceError

__all__ = [
    "GROUPS",
    "NAME_MAX",
    "NOTE_MAX",
    "Audience",
    "audience_json",
    "build_audience",
    "check_audience_id",
    "check_control_share",
    "check_members",
    "check_name",
    "check_note",
    "draws",
    "new_audience_id",
    "parse_audience",
    "split_members",
    "split_sizes",
    "summary",
]

GROUPS = ("target", "control")
NAME_MAX = 80  # characters
NOTE_MAX = 500  # characters
ID_MAX = 40  # characters of a customer id
_NAME_RE = re.compile(r"^[\w .,:;'&()/+#%!?@-]+$")  # letters (any script), digits and common punctuation
_AUDIENCE_ID_RE = re.compile(r"^aud-[0-9a-f]{12}$")
_MEMBER_COLUMNS = ("customer_id", "segment", "group")


@dataclass(frozen=True)
class Audience:
    """One audience: who made it, when, from what, and its members with their group.

    ``as_of`` is the day from which purchases count as outcomes (the creation day, or a past date for a
    demonstration/analysis audience, then ``backdated`` is true). ``members`` has the columns customer_id,
    segment (at creation) and group (target|control).
    """

    audience_id: str
    name: str
    note: str
    control_share: float
    created_by: str
    created_at: str  # ISO 8601 UTC
    snapshot_version: str
    as_of: date
    backdated: bool
    source: str  # what list the members came from, in words
    members: pd.DataFrame = field(repr=False)

    @property
    def sizes(self) -> dict[str, int]:
        """Members per group: ``{"members": n, "target": t, "control": c}``."""
        return split_sizes(self.members)


def new_audience_id() -> str:
    """A fresh random id, ``aud-`` and 12 hex digits."""
    return "aud-" + uuid.uuid4().hex[:12]


def check_audience_id(audience_id: object) -> str:
    """The id itself, or AudienceError (ids are ``aud-`` + 12 hex digits)."""
    if not isinstance(audience_id, str) or not _AUDIENCE_ID_RE.match(audience_id):
        raise AudienceError("Invalid audience id {id}: expected 'aud-' and 12 hex digits.",
                            id=repr(str(audience_id)[:60]))
    return audience_id


def check_name(name: object) -> str:
    """The stripped name, or AudienceError: 1-80 letters, digits, spaces and common punctuation."""
    text = name.strip() if isinstance(name, str) else ""
    if not text:
        raise AudienceError("An audience needs a name.")
    if len(text) > NAME_MAX:
        raise AudienceError("The audience name has {count} characters; at most {limit} are allowed.", count=len(text),
                            limit=NAME_MAX)
    if not _NAME_RE.match(text):
        raise AudienceError("The audience name may hold letters, digits, spaces and . , : ; ' & ( ) / + # % ! ? @ -"
                            " only.")
    return text


def check_note(note: object) -> str:
    """The stripped note (offer, channel), or AudienceError when longer than 500 characters or not text."""
    if note is None:
        return ""
    if not isinstance(note, str):
        raise AudienceError("The audience note must be text.")
    text = note.strip()
    if len(text) > NOTE_MAX:
        raise AudienceError("The note has {count} characters; at most {limit} are allowed.", count=len(text),
                            limit=NOTE_MAX)
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in text):
        raise AudienceError("The note holds control characters.")
    return text


def check_control_share(share: object) -> float:
    """The share as a float in (0, 0.5], or AudienceError."""
    try:
        value = float(share)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise AudienceError("The control share must be a number between 0 and 0.5, got {value}.",
                            value=repr(share)) from None
    if not (0 < value <= 0.5) or math.isnan(value):
        raise AudienceError("The control share must be above 0 and at most 0.5 (50 %), got {value}.",
                            value=format(value, "g"))
    return value


def check_members(members: pd.DataFrame, max_members: int) -> pd.DataFrame:
    """Members as (customer_id: str, segment: str), unique ids, at least 2, at most ``max_members``.

    Raises:
        AudienceError: missing columns, empty or duplicate ids, too few or too many members.
    """
    missing = [c for c in ("customer_id", "segment") if c not in members.columns]
    if missing:
        raise AudienceError("Audience members lack column(s) {columns}.", columns=str(missing))
    ids = members["customer_id"]
    if ids.isna().any():
        raise AudienceError("Audience members include an empty customer id.")
    frame = pd.DataFrame({"customer_id": ids.astype("str"), "segment": members["segment"].astype("str")})
    bad = frame["customer_id"].str.len().pipe(lambda n: (n == 0) | (n > ID_MAX))
    if bad.any():
        raise AudienceError("Audience members include {count} customer id(s) that are empty or longer than {limit} "
                            "characters.", count=int(bad.sum()), limit=ID_MAX)
    if frame["customer_id"].duplicated().any():
        raise AudienceError("Audience members list {count} customer id(s) twice.",
                            count=int(frame["customer_id"].duplicated().sum()))
    if len(frame) < 2:
        raise AudienceError("An audience needs at least 2 customers (one of them may be held out as control).")
    if len(frame) > max_members:
        raise AudienceError("The audience has {count} customers; at most {limit} are allowed "
                            "(campaigns.max_members).", count=len(frame), limit=max_members)
    return frame.reset_index(drop=True)


def draws(audience_id: str, customer_ids: Iterable[str]) -> np.ndarray:
    """Uniform draws in [0, 1): the first 8 bytes of ``sha256("<audience id>:<customer id>")`` / 2**64."""
    prefix = f"{audience_id}:".encode()
    values = [int.from_bytes(hashlib.sha256(prefix + str(cid).encode()).digest()[:8], "big")
              for cid in customer_ids]
    return np.asarray(values, dtype=np.uint64).astype(np.float64) / 2.0**64


def split_members(members: pd.DataFrame, audience_id: str, control_share: float) -> pd.DataFrame:
    """Assign each member to target or control, stratified by segment (see the module docstring).

    Input columns: customer_id, segment. Output: customer_id, segment, group — in the input order.
    """
    share = check_control_share(control_share)
    frame = members[["customer_id", "segment"]].reset_index(drop=True)
    order = frame.assign(_draw=draws(audience_id, frame["customer_id"]))
    order = order.sort_values(["segment", "_draw", "customer_id"], kind="stable")
    rank = order.groupby("segment", sort=False).cumcount()
    size = order.groupby("segment", sort=False)["customer_id"].transform("size")
    control = rank < _control_count(size, share)
    groups = pd.Series(np.where(control, "control", "target"), index=order.index).sort_index()
    return frame.assign(group=groups.astype("str"))


def _control_count(size: pd.Series, share: float) -> pd.Series:
    """round(share × n) per stratum, halves rounded up (so 0.5 × 3 → 2)."""
    return np.floor(size * share + 0.5).astype("int64")


def split_sizes(members: pd.DataFrame, control_share: float | None = None) -> dict[str, int]:
    """``{"members", "target", "control"}`` counts: of split members, or, given a share, of a split to come
    (the counts do not depend on the audience id: ``round(share × n)`` per segment)."""
    if control_share is None:
        control = int((members["group"] == "control").sum())
    else:
        sizes = members.groupby("segment")["customer_id"].size()
        control = int(_control_count(sizes, check_control_share(control_share)).sum())
    return {"members": len(members), "target": int(len(members) - control), "control": control}


def build_audience(members: pd.DataFrame, *, name: str, note: str | None, control_share: float, created_by: str,
                   snapshot_version: str, source: str, max_members: int, as_of: date | None = None,
                   now: datetime | None = None, audience_id: str | None = None) -> Audience:
    """Validate everything and split the members: a new audience, ready to save.

    ``as_of`` (a past date) makes a backdated audience for demonstration or analysis; default: today (UTC).
    """
    now = (now or datetime.now(UTC)).astimezone(UTC)
    today = now.date()
    if as_of is not None and as_of > today:
        raise AudienceError("The as-of date {day} is in the future.", day=as_of.isoformat())
    audience_id = check_audience_id(audience_id or new_audience_id())
    share = check_control_share(control_share)
    split = split_members(check_members(members, max_members), audience_id, share)
    if not (split["group"] == "control").any():
        raise AudienceError("With {count} customers and a {share} control share the control group would be empty "
                            "(rounding per segment), so no uplift could be measured: add customers or raise the "
                            "control share.", count=len(split), share=format(share, ".0%"))
    if not (split["group"] == "target").any():
        raise AudienceError("With {count} customers and a {share} control share the target group would be empty "
                            "(rounding per segment), so no uplift could be measured: add customers or lower the "
                            "control share.", count=len(split), share=format(share, ".0%"))
    who = (created_by or "").strip()[:80]
    if not who:
        raise AudienceError("An audience needs its creator's name.")
    return Audience(audience_id=audience_id, name=check_name(name), note=check_note(note), control_share=share,
                    created_by=who, created_at=now.isoformat(timespec="seconds"),
                    snapshot_version=str(snapshot_version), as_of=as_of or today,
                    backdated=as_of is not None and as_of < today, source=str(source)[:200], members=split)


def summary(audience: Audience) -> dict[str, Any]:
    """Everything about an audience except its members (JSON-able), with the group sizes."""
    return {"audience_id": audience.audience_id, "name": audience.name, "note": audience.note,
            "control_share": audience.control_share, "created_by": audience.created_by,
            "created_at": audience.created_at, "snapshot_version": audience.snapshot_version,
            "as_of": audience.as_of.isoformat(), "backdated": audience.backdated, "source": audience.source,
            **audience.sizes}


def audience_json(audience: Audience) -> str:
    """The record as JSON text: the summary plus the members as three parallel lists."""
    members = {column: audience.members[column].astype("str").tolist() for column in _MEMBER_COLUMNS}
    return json.dumps({**summary(audience), "members": members}, ensure_ascii=False, allow_nan=False)


def parse_audience(raw: bytes | str | Mapping[str, Any]) -> Audience:
    """An audience from its JSON record, every field checked (the store is data, not trusted code).

    Raises:
        AudienceError: not JSON, a field missing or of the wrong type, members inconsistent.
    """
    try:
        record = json.loads(raw) if isinstance(raw, (bytes, str)) else dict(raw)
        members = record["members"]
        frame = pd.DataFrame({column: pd.Series(members[column], dtype="str") for column in _MEMBER_COLUMNS})
        audience = Audience(
            audience_id=check_audience_id(record["audience_id"]), name=check_name(record["name"]),
            note=check_note(record.get("note")), control_share=check_control_share(record["control_share"]),
            created_by=str(record["created_by"])[:80], created_at=str(record["created_at"]),
            snapshot_version=str(record["snapshot_version"]), as_of=date.fromisoformat(record["as_of"]),
            backdated=bool(record.get("backdated", False)), source=str(record.get("source", ""))[:200],
            members=frame)
    except (ValueError, TypeError, KeyError) as exc:
        raise AudienceError("Stored audience record is malformed: {error}",
                            error=(type(exc).__name__ + ": " + str(exc)).rstrip()) from exc
    if not set(frame["group"]) <= set(GROUPS) or frame["customer_id"].duplicated().any():
        raise AudienceError("Stored audience {id} has unknown groups or duplicate members.", id=audience.audience_id)
    return audience
