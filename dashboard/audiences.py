"""The web app's second write (beside "Refresh now"): create an audience from a customer list.

Who may save: a signed-in user — the name in ``TRUSTED_USER_HEADER`` (SSO proxy), the HTTP Basic user
(``BASIC_AUTH_USER``), or whoever types the operator token (``OPS_TOKEN``, compared in constant time).
With none of these configured the app is open to anyone on the network, so saving is refused with a
message saying how to enable it (the same stance as /ops, which is disabled without ``OPS_TOKEN``).

Customer ids come from the browser, so they are checked again here: strings of at most 40 characters,
customers of the pinned snapshot, at most ``campaigns.max_members``. Each save writes one audit log
line (who, audience id, sizes — never customer ids).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import flask
import pandas as pd

from analytics.audience_export import audience_export, export_ids
from analytics.audiences import ID_MAX, Audience, build_audience, check_audience_id, split_sizes
from analytics.errors import AppError, AudienceError
from dashboard import data, queries
from dashboard.components import format as fmt
from dashboard.components.ops_view import token_ok
from dashboard.i18n import N_, _

__all__ = ["AUTH_HELP", "Writer", "writer", "members_for", "preview", "create", "valid_id", "export_frame",
           "error_text"]

log = logging.getLogger("dashboard.audiences")

AUTH_HELP = N_("Saving audiences needs a signed-in user, and no sign-in is configured. Ask the administrator to set "
             "BASIC_AUTH_USER and BASIC_AUTH_PASSWORD, or TRUSTED_USER_HEADER behind the company's SSO proxy, or "
             "OPS_TOKEN (then type the operator token here). The command line works too: "
             "python -m jobs.audiences create --help")


@dataclass(frozen=True)
class Writer:
    """How this request may write: ``user`` when it may (None otherwise), and whether a token field is needed."""

    user: str | None
    needs_token: bool
    configured: bool


def writer(request: flask.Request, typed_token: object = None) -> Writer:
    """The user allowed to save for this request (the security layer has already checked Basic auth/header)."""
    web = data.settings().web
    header = (request.headers.get(web.trusted_user_header, "").strip()[:80] if web.trusted_user_header else "")
    if header:
        return Writer(header, False, True)
    auth = request.authorization
    if web.basic_auth_user and web.basic_auth_password and auth is not None and auth.username == web.basic_auth_user:
        return Writer(auth.username[:80], False, True)
    if web.ops_token:
        return Writer("operator token" if token_ok(typed_token, web.ops_token) else None, True, True)
    return Writer(None, False, bool(web.basic_auth_user or web.trusted_user_header))


def members_for(ids: object, version: str) -> pd.DataFrame:
    """Members (customer_id, segment) for ids sent by a page, checked against the pinned snapshot.

    Raises:
        AudienceError: not a list of short strings, unknown customers, too many.
    """
    limit = data.settings().campaigns.max_members
    if not isinstance(ids, list) or not all(isinstance(cid, str) and 0 < len(cid) <= ID_MAX for cid in ids):
        raise AudienceError("The customer list of this page is not valid; reload the page.")
    if len(ids) > limit:
        raise AudienceError("This list has {count} customers; an audience holds at most {limit} "
                            "(campaigns.max_members).", count=len(ids), limit=limit)
    unique = list(dict.fromkeys(ids))
    found = queries.segments_of(version, unique)
    if found.isna().any():
        raise AudienceError("{count} customer(s) of this list are not in the current snapshot; reload the page.",
                            count=int(found.isna().sum()))
    return pd.DataFrame({"customer_id": unique, "segment": found.to_numpy()})


def preview(ids: object, share: float, version: str) -> dict[str, int]:
    """The split sizes a save would give (they do not depend on the audience id)."""
    return split_sizes(members_for(ids, version), share)


def create(ids: Sequence[str], *, name: object, note: object, share: object, source: str, version: str,
           user: str) -> Audience:
    """Validate, split, save and audit-log a new audience for ``user``."""
    params = data.settings().campaigns
    audience = build_audience(members_for(list(ids), version), name=name, note=note,  # type: ignore[arg-type]
                              control_share=share, created_by=user, snapshot_version=version,  # type: ignore[arg-type]
                              source=source, max_members=params.max_members)
    data.store().save_audience(audience, params.max_audiences)
    log.info("audience created", extra={"fields": {"audience_id": audience.audience_id, "by": user,
                                                   "source": source[:80], **audience.sizes}})
    return audience


def error_text(exc: AppError) -> str:
    """Why a save or preview was refused, in the page's language (an audience's template, translated, with its
    numbers formatted for the language); other errors as they are."""
    if not isinstance(exc, AudienceError) or not exc.params:
        return _(exc.template) if isinstance(exc, AudienceError) else str(exc)
    shown = {key: fmt.count(value) if isinstance(value, int) and not isinstance(value, bool) else value
             for key, value in exc.params.items()}
    return _(exc.template).format(**shown)


def valid_id(audience_id: object) -> str | None:
    """The audience id from a URL if it is well formed (``aud-`` + 12 hex digits), else None."""
    try:
        return check_audience_id(audience_id)
    except AudienceError:
        return None


def export_frame(audience_id: str, kind: str, version: str) -> tuple[pd.DataFrame, Audience]:
    """The ``target`` (campaign tool, never the control group) or ``full`` (with group) file at ``version``."""
    audience = data.store().audience(check_audience_id(audience_id))
    currency = data.manifest(version).get("currency", "")
    rows = queries.campaign_export(version, list(export_ids(audience, kind)), currency)
    frame = audience_export(audience, kind, rows)
    log.info("audience exported", extra={"fields": {"audience_id": audience.audience_id, "kind": kind,
                                                    "rows": len(frame)}})
    return frame, audience
