"""The Actions customer list as one CSV file, streamed in blocks: every matching customer, however many.

    GET <prefix>export/customers.csv?version=V&segment=S&view=at-risk|all&filter=<JSON>&sort=<JSON>
        [&headers=readable&lang=fr]

The page's two export buttons open this address (:func:`export_url`); the browser saves the file as it arrives
while the worker holds one block of ``BLOCK_ROWS`` customers at a time (at 1 M customers the whole list is about
300 MB of CSV, which a callback's download would hold whole, several times). Rows and their order are the list's
as shown: the grid's filter and sort applied by the same SQL as the grid (``actions._query``); columns: the
campaign columns (docs/EXPORTS.md), headed by their contract names or, with ``headers=readable``, by their labels
in the request's language. The version is pinned, so every block reads the same snapshot. It is a read: access
control applies as to every page (dashboard/security.py); bad parameters get a 400, an unknown version a 404.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

import dash
import flask
from flask import Flask, Response

from analytics.errors import AppError
from dashboard import queries
from dashboard.components.export import header_label, safe_filename, to_safe_csv
from dashboard.i18n import current_language

__all__ = ["BLOCK_ROWS", "ROUTE", "export_url", "register_list_export"]

log = logging.getLogger(__name__)

ROUTE = "export/customers.csv"
BLOCK_ROWS = 10_000  # customers read, turned into CSV and sent at a time (a worker holds about 50 MB more)
MAX_MODEL_CHARS = 20_000  # longest filter or sort model accepted (JSON text)


def register_list_export(server: Flask, routes_prefix: str = "/") -> None:
    """Serve the list's CSV under Dash's routes prefix (``app.config.routes_pathname_prefix``)."""
    server.add_url_rule(routes_prefix + ROUTE, endpoint="customer_list_csv", view_func=customer_list_csv)


def export_url(version: str, scope: Mapping[str, Any], request: Mapping[str, Any] | None, readable: bool) -> str:
    """The address of the list's CSV (under the app's requests prefix): ``scope`` is the page's segment and view,
    ``request`` the grid's last request (its filter and sort models are kept, its row window is not)."""
    request = request or {}
    params = {"version": version, "segment": scope.get("segment") or "", "view": scope.get("view") or "",
              "filter": json.dumps(request.get("filterModel") or {}, separators=(",", ":")),
              "sort": json.dumps(request.get("sortModel") or [], separators=(",", ":"))}
    if readable:  # in the page's language (a ?lang= of the address comes first: dashboard/i18n.py)
        params.update(headers="readable", lang=current_language())
    return dash.get_relative_path("/" + ROUTE) + "?" + urlencode(params)


def customer_list_csv() -> Response:
    """The view: check the parameters and the version, then stream the file."""
    from dashboard.pages import actions  # the page's scope and query; imported here: pages import this module

    args = flask.request.args
    try:
        request = {"filterModel": _model(args.get("filter"), dict, "filter"),
                   "sortModel": _model(args.get("sort"), list, "sort")}
    except ValueError as exc:
        return Response(f"{exc}\n", status=400, mimetype="text/plain")
    try:
        version, manifest, segment, view = actions.list_frame(args.get("version"), dict(args))
        first, total = actions.list_block(version, segment, view, request, manifest, 0, BLOCK_ROWS)
    except (AppError, dash.exceptions.PreventUpdate):
        return Response("No such snapshot version: open the page again to export the current list.\n",
                        status=404, mimetype="text/plain")
    readable = args.get("headers") == "readable"
    name = safe_filename("customers", (segment or "all").lower(), view, version)
    log.info("customer list export: version=%s segment=%s view=%s rows=%d", version, segment, view, total)
    body = _csv(version, manifest, segment, view, request, first, total, readable)
    return Response(flask.stream_with_context(body), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


def _csv(version: str, manifest: Mapping, segment: str | None, view: str, request: dict, first: Any,
         total: int, readable: bool) -> Iterator[str]:
    """The file: a byte-order mark (spreadsheets then read ``£`` right), the header, then each block's rows."""
    from dashboard.pages import actions

    currency = manifest.get("currency", "")
    block, start = first, 0
    while True:
        frame = queries.campaign_export(version, block["customer_id"].tolist(), currency)
        if readable:
            frame = frame.rename(columns=lambda column: header_label(str(column)))
        yield ("\ufeff" if start == 0 else "") + to_safe_csv(frame, header=start == 0)
        start += BLOCK_ROWS
        if start >= total:
            return
        block, _total = actions.list_block(version, segment, view, request, manifest, start, start + BLOCK_ROWS)


def _model(text: str | None, kind: type, name: str) -> Any:
    """A grid model from its JSON text (missing: empty); the grid query checks its content (grid_query.py)."""
    if not text:
        return kind()
    if len(text) > MAX_MODEL_CHARS:
        raise ValueError(f"The {name} parameter is longer than {MAX_MODEL_CHARS} characters.")
    try:
        model = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"The {name} parameter is not JSON ({exc}).") from exc
    if not isinstance(model, kind):
        raise ValueError(f"The {name} parameter must be a JSON {'object' if kind is dict else 'list'}.")
    return model
