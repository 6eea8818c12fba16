"""A page's customer list as one CSV file, streamed in blocks: every matching customer, however many.

    GET <prefix>export/<list>.csv?version=V&<the list's scope>&filter=<JSON>&sort=<JSON>[&headers=readable&lang=fr]

``<list>`` is a list a page registered (:func:`register_list`): ``customers`` (Actions: segment, view) and
``movement`` (Movement: from, to, list, from_segment, to_segment). The page's two export buttons are links to
this address (:func:`export_urls`, kept in step with the grid by a callback); the browser saves the file as it
arrives while the worker holds one block of ``BLOCK_ROWS`` customers at a time (at 1 M customers the whole list
is about 300 MB of CSV, which a callback's download would hold whole, several times). Rows and their order are
the list's as shown: the grid's filter and sort applied by the grid's own SQL; columns: the campaign columns
(docs/EXPORTS.md), headed by their contract names or, with ``headers=readable``, by their labels in the request's
language. The version is pinned, so every block reads the same snapshot. It is a read: access control applies as
to every page (dashboard/security.py); bad parameters get a 400, an unknown list or version a 404.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import dash
import flask
import pandas as pd
from flask import Flask, Response

from analytics.errors import AppError
from dashboard import queries
from dashboard.components.export import header_label, to_safe_csv
from dashboard.i18n import current_language

__all__ = ["BLOCK_ROWS", "CustomerList", "OpenedList", "export_url", "export_urls", "register_list",
           "register_list_export"]

log = logging.getLogger(__name__)

BLOCK_ROWS = 10_000  # customers read, turned into CSV and sent at a time (a worker holds about 50 MB more)
MAX_MODEL_CHARS = 20_000  # longest filter or sort model accepted (JSON text)
_OWN = ("version", "filter", "sort", "headers", "lang")  # the route's parameters; the others are the list's scope


@dataclass(frozen=True)
class OpenedList:
    """A list checked and pinned to a version: what its blocks are read from, and the file's name."""

    version: str
    manifest: Mapping[str, Any]
    filename: str
    state: Any  # what the page's ``block`` needs (its SQL source, its scope)


@dataclass(frozen=True)
class CustomerList:
    """How a page's list is read: ``open(version, scope)`` checks the (untrusted) scope and the version (raising
    ``AppError`` or ``PreventUpdate``); ``block(opened, window)`` gives the rows (with ``customer_id``) of a grid
    request ``window`` (filter and sort models, ``startRow``, ``endRow``), and how many rows match."""

    open: Callable[[str, Mapping[str, str]], OpenedList]
    block: Callable[[OpenedList, Mapping[str, Any]], tuple[pd.DataFrame, int]]


_LISTS: dict[str, CustomerList] = {}


def register_list(name: str, customer_list: CustomerList) -> None:
    """Make a page's list downloadable as ``export/<name>.csv`` (pages call it when imported)."""
    _LISTS[name] = customer_list


def register_list_export(server: Flask, routes_prefix: str = "/") -> None:
    """Serve the lists' CSV under Dash's routes prefix (``app.config.routes_pathname_prefix``)."""
    server.add_url_rule(routes_prefix + "export/<name>.csv", endpoint="customer_list_csv", view_func=customer_list_csv)


def export_urls(name: str, version: str, scope: Mapping[str, Any], request: Any) -> tuple[str, str]:
    """The addresses of the two export buttons (``components.export.export_buttons``): the file with the contract's
    column names, and the one with readable headers; ``request``: the grid's last request (anything else: none)."""
    request = request if isinstance(request, dict) else None
    return (export_url(name, version, scope, request, readable=False),
            export_url(name, version, scope, request, readable=True))


def export_url(name: str, version: str, scope: Mapping[str, Any], request: Mapping[str, Any] | None,
               readable: bool) -> str:
    """The address of list ``name``'s CSV under the app's requests prefix: ``scope`` holds the page's list
    parameters (text values; others are left out), ``request`` is the grid's last request (its filter and sort
    models are kept, its row window is not)."""
    request = request or {}
    params = {key: value for key, value in scope.items() if isinstance(value, str) and key not in _OWN}
    params.update(version=version, filter=json.dumps(request.get("filterModel") or {}, separators=(",", ":")),
                  sort=json.dumps(request.get("sortModel") or [], separators=(",", ":")))
    if readable:  # in the page's language (a ?lang= of the address comes first: dashboard/i18n.py)
        params.update(headers="readable", lang=current_language())
    return dash.get_relative_path(f"/export/{name}.csv") + "?" + urlencode(params)


def customer_list_csv(name: str) -> Response:
    """The view: check the list, the parameters and the version, then stream the file."""
    customer_list = _LISTS.get(name)
    if customer_list is None:
        return _text(404, f"No list named {name!r} to export.")
    args = flask.request.args
    try:
        request = {"filterModel": _model(args.get("filter"), dict, "filter"),
                   "sortModel": _model(args.get("sort"), list, "sort")}
    except ValueError as exc:
        return _text(400, str(exc))
    scope = {key: value for key, value in args.items() if key not in _OWN}
    try:
        opened = customer_list.open(args.get("version", ""), scope)
        first, total = customer_list.block(opened, _window(request, 0))
    except (AppError, dash.exceptions.PreventUpdate):
        return _text(404, "No such list in this snapshot version: open the page again to export the current list.")
    log.info("customer list exported", extra={"fields": {"list": name, "version": opened.version, "rows": total}})
    body = _csv(customer_list, opened, request, first, total, args.get("headers") == "readable")
    return Response(flask.stream_with_context(body), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{opened.filename}"', "Cache-Control": "no-store"})


def _csv(customer_list: CustomerList, opened: OpenedList, request: dict, first: pd.DataFrame, total: int,
         readable: bool) -> Iterator[str]:
    """The file: a byte-order mark (spreadsheets then read ``£`` right), the header, then each block's rows."""
    currency = opened.manifest.get("currency", "")
    block, start = first, 0
    while True:
        frame = queries.campaign_export(opened.version, block["customer_id"].tolist(), currency)
        if readable:
            frame = frame.rename(columns=lambda column: header_label(str(column)))
        yield ("\ufeff" if start == 0 else "") + to_safe_csv(frame, header=start == 0)
        start += BLOCK_ROWS
        if start >= total:
            return
        block, _total = customer_list.block(opened, _window(request, start))


def _window(request: dict, start: int) -> dict:
    """The grid request of the block of ``BLOCK_ROWS`` rows from ``start``, under the list's filter and sort."""
    return {**request, "startRow": start, "endRow": start + BLOCK_ROWS}


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


def _text(status: int, message: str) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")
