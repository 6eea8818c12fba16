"""Movement: how customers moved between segments from one period end to another (Sankey, transition matrix,
upgrades/downgrades/new/lapsed, high-value downgrades), and the customers of any flow, paged on the server.

URL: ``/movement?from=YYYY-MM-DD&to=YYYY-MM-DD&measure=customers|value`` plus the list shown:
``&from_segment=…&to_segment=…`` (a flow) or ``&list=downgrades``.
"""

from __future__ import annotations

from collections.abc import Mapping

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from analytics.errors import AppError
from dashboard import data, queries
from dashboard.components import action_view, audience_form
from dashboard.components import client_view as cv
from dashboard.components import format as fmt
from dashboard.components import movement_view as mv
from dashboard.components.charts import graph, segment_names
from dashboard.components.export import LOCAL_SUFFIX, export_buttons, safe_filename
from dashboard.components.grid_query import MAX_BLOCK_ROWS
from dashboard.components.shell import page_href
from dashboard.i18n import N_, _, ngettext
from dashboard.list_export import CustomerList, OpenedList, export_urls, register_list
from dashboard.pages._frame import page_state, page_title, render_cached

dash.register_page(__name__, path=mv.PATH, name=N_("Movement"), title=page_title(N_("Movement")), order=1.5, nav=True)

PREVIEW = 5  # high-value downgrades shown on the page before "See all"
_KEYS = ("from", "to", "measure", "list", "from_segment", "to_segment")


def layout(**query: str) -> html.Div:
    """Page layout for ``/movement?from=…&to=…&measure=…&from_segment=…&to_segment=…&list=…``."""
    state = {**page_state(query), **{k: query.get(k) or None for k in _KEYS}}
    return render_cached(mv.PATH, state, _body)


def _scope(manifest: Mapping, state: Mapping) -> dict | None:
    """The validated view: period window, measure and list (None when the snapshot has no history)."""
    window = mv.period_window(manifest, state.get("from"), state.get("to"))
    if window is None:
        return None
    known = set(mv.history_meta(manifest).get("ranking", []))
    scope = {"from": window[0], "to": window[1],
             "measure": state.get("measure") if state.get("measure") in mv.MEASURES else "customers",
             "list": None, "from_segment": None, "to_segment": None}
    if state.get("list") == "downgrades":
        scope["list"] = "downgrades"
    elif state.get("from_segment") in known | {mv.NEW} and state.get("to_segment") in known:
        scope.update(list="flow", from_segment=state["from_segment"], to_segment=state["to_segment"])
    return scope


def _href(state: Mapping, scope: Mapping, **changes: object) -> str:
    keys = {k: scope.get(k) for k in ("from", "to", "measure", "list", "from_segment", "to_segment")}
    keys["measure"] = None if keys["measure"] == "customers" else keys["measure"]
    keys = {**keys, **changes}
    if keys.get("list") != "flow":
        keys.update(from_segment=None, to_segment=None)
    keys["list"] = "downgrades" if keys.get("list") == "downgrades" else None
    return page_href(mv.PATH, state, **keys)


def _moves(version: str, start: str, end: str) -> tuple[str, list]:
    """Every customer's move between two period ends, as a SELECT and its parameters (dashboard.queries)."""
    manifest = data.manifest(version)
    return queries.moves_source(start, end, mv.history_meta(manifest).get("ranking", []),
                                queries.active_days(manifest), mv.NEW)


@data.by_version
def _flows(version: str, start: str, end: str) -> pd.DataFrame:
    return queries.flows(version, _moves(version, start, end))


@data.by_version
def _scope_count(version: str, start: str, end: str, kind: str | None, from_segment: str | None,
                 to_segment: str | None) -> int:
    return queries.scope_count(version, *_scoped(version, start, end, kind, from_segment, to_segment))


def _body(version: str, manifest: Mapping, state: Mapping) -> html.Div:
    scope = _scope(manifest, state)
    title = html.H2(_("Movement between segments"), className="h4 mb-1")
    if scope is None:
        return html.Div([title, dbc.Alert(_("This snapshot has no segment history yet. Run the refresh job again "
                                            "(python -m jobs.refresh) to publish one."), color="light",
                                          id="movement-empty")])
    meta, currency = mv.history_meta(manifest), manifest.get("currency", "")
    ranking = meta.get("ranking", [])
    names = segment_names(data.table("segments", version))
    found = queries.window_moves(version, scope["from"], scope["to"], mv.NEW)
    slipped, counts = found if found else (pd.DataFrame(columns=["customer_id", "monetary"]), {})
    flow_table = _flows(version, scope["from"], scope["to"])
    window = _("between {start} and {end}").format(start=fmt.day(scope["from"]), end=fmt.day(scope["to"]))
    return html.Div([
        dcc.Store(id="movement-scope", data={**scope, "embed": state.get("embed"), "segment": state.get("segment")}),
        title,
        html.P(_("Where each customer's segment was on the first date and where it is on the second, computed from "
                 "the transactions before each date ({scoring}). Up or down follows the scheme's ranking: "
                 "{ranking}.").format(
            scoring=_("quintile scores") if meta.get("scoring", "quantiles") == "quantiles" else _("fixed bounds"),
            ranking=" > ".join(mv.shown_name(name, names) for name in ranking)),
            className="small text-body-secondary mb-2"),
        _controls(meta, scope),
        mv.summary_badges(counts, window),
        dbc.Card(dbc.CardBody([
            graph(mv.sankey_figure(flow_table, ranking, scope["measure"], currency, scope["from"], scope["to"],
                                   names), id="movement-sankey"),
            html.P(_("Click a flow to list its customers. Green: upgrades, red: downgrades, grey: same segment, "
                     "blue: new customers."), className="small text-body-secondary mb-0"),
        ]), class_name="mb-3 mt-2"),
        dbc.Card(dbc.CardBody(_list_section(version, scope, state, meta, currency, names)),
                 class_name="mb-3", id="movement-list-card") if scope["list"] else None,
        dbc.Card(dbc.CardBody([
            html.H3(_("Transition matrix (customers and net value)"), className="h6 mb-1"),
            html.P(_("Rows: segment on the first date; columns: on the second. Click a cell to list those "
                     "customers."), className="small text-body-secondary mb-2"),
            mv.transition_matrix(flow_table, ranking, currency,
                                 lambda a, b: _href(state, scope, list="flow", from_segment=a, to_segment=b), names),
        ]), class_name="mb-3"),
        dbc.Card(dbc.CardBody(_downgrades_section(slipped, scope, state, meta, currency, names)), class_name="mb-3"),
    ], className="movement-page")


def _controls(meta: Mapping, scope: Mapping) -> dbc.Row:
    ends = [str(e) for e in meta.get("period_ends", [])]
    options = [{"label": (_("{day} (now)") if e == ends[-1] else _("{day} (period end)")).format(day=fmt.day(e)),
                "value": e} for e in ends]
    return dbc.Row([
        dbc.Col([dbc.Label(_("From (segments on)"), html_for="movement-from", className="small mb-0"),
                 dcc.Dropdown(id="movement-from", options=options[:-1], value=scope["from"], clearable=False)],
                xs=12, md=4),
        dbc.Col([dbc.Label(_("To (segments on)"), html_for="movement-to", className="small mb-0"),
                 dcc.Dropdown(id="movement-to", options=options[1:], value=scope["to"], clearable=False)],
                xs=12, md=4),
        dbc.Col([dbc.Label(_("Measure"), className="small mb-0"),
                 dbc.RadioItems(id="movement-measure", value=scope["measure"], inline=True,
                                options=[{"label": _("Customers"), "value": "customers"},
                                         {"label": _("Net value"), "value": "value"}])], xs=12, md=4),
    ], class_name="g-2 mb-2 align-items-end")


def _list_section(version: str, scope: Mapping, state: Mapping, meta: Mapping, currency: str,
                  names: Mapping[str, str] | None = None) -> list:
    ids = queries.ids_of(version, _scoped(version, scope["from"], scope["to"], scope["list"], scope["from_segment"],
                                          scope["to_segment"]))
    close = dcc.Link(_("× Close"), href=_href(state, scope, list=None), id="movement-list-close",
                     className="small ms-2")
    title = mv.list_title(scope, scope["from"], scope["to"], names)
    tools = html.Div([
        audience_form.button(disabled=not ids), html.Span(" "),
        *export_buttons("movement-export", not ids),
        close,
    ], className="d-flex align-items-center")
    header = html.Div([html.H3(title, className="h6 mb-0 me-3", id="movement-list-title"), tools],
                      className="d-flex flex-wrap align-items-center justify-content-between gap-2 mb-2")
    # "Create audience" (issue 14) from exactly this list: its ids and what it is, in words
    form = audience_form.modal(audience_form.source(ids, _("movement: {list}").format(list=title)))
    if not ids:
        return [header, dbc.Alert(_("No customer in this list."), color="light", id="movement-list-empty"), form]
    size = data.settings().dashboard.page_size
    size = size if 0 < size <= MAX_BLOCK_ROWS else 25
    grid = dag.AgGrid(
        id="movement-grid", columnDefs=mv.column_defs(currency, names), rowModelType="infinite",
        getRowId="params.data.customer_id",
        defaultColDef={"sortable": True, "resizable": True, "floatingFilter": True, "suppressHeaderMenuButton": True},
        dashGridOptions={"pagination": True, "paginationPageSize": size, "cacheBlockSize": size,
                         "paginationPageSizeSelector": False, "maxBlocksInCache": 20, "rowHeight": 34,
                         "rowClass": "customer-row"},
        style={"height": f"{size * 34 + 56 + 34 + 50}px", "width": "100%"}, className="movement-grid")
    return [header, grid, html.Div([html.Span(id="movement-count"), " · " + _("Click a customer to open Client 360.")],
                                   className="small text-body-secondary mt-2"), form]


def _downgrades_section(slipped: pd.DataFrame, scope: Mapping, state: Mapping, meta: Mapping, currency: str,
                        names: Mapping[str, str] | None = None) -> list:
    top, at_risk = meta.get("top_segments", []), meta.get("at_risk_segments", [])
    head = html.Div([
        html.H3(_("High-value downgrades: {customers}").format(customers=_customers(len(slipped))),
                className="h6 mb-0 me-3", id="downgrades-title"),
        dcc.Link(_("See all in the list →"), href=_href(state, scope, list="downgrades"), id="downgrades-link",
                 className="small") if len(slipped) else None,
    ], className="d-flex align-items-baseline flex-wrap mb-1")
    note = html.P(_("Customers who were in a top segment ({top}) on {start} and are in an at-risk segment "
                    "({at_risk}) on {end}, by value at stake (their net value).").format(
        top=", ".join(mv.shown_name(n, names) for n in top),
        at_risk=", ".join(mv.shown_name(n, names) for n in at_risk),
        start=fmt.day(scope["from"]), end=fmt.day(scope["to"])), className="small text-body-secondary mb-2")
    if slipped.empty:
        return [head, note, html.Div(_("Nobody slipped from a top segment to an at-risk one in this window."),
                                     className="text-body-secondary", id="downgrades-none")]
    links = html.Div([
        dcc.Link([html.Span(row["customer_id"], className="fw-semibold me-2"),
                  html.Span(f"{mv.shown_name(row['from_segment'], names)} → {mv.shown_name(row['to_segment'], names)}",
                            className="small text-body-secondary me-2"),
                  html.Span(fmt.money(float(row["monetary"]), currency), className="float-end")],
                 href=cv.customer_href(str(row["customer_id"]), state),
                 className="list-group-item list-group-item-action")
        for row in slipped.head(PREVIEW).to_dict("records")], className="list-group", id="downgrades-preview")
    return [head, note, links]


def _customers(value: int) -> str:
    """``1,234 customers``."""
    return ngettext("%(num)s customer", "%(num)s customers", value) % {"num": fmt.count(value)}


def _scoped(version: str, start: str, end: str, kind: str | None, from_segment: str | None,
            to_segment: str | None) -> tuple[str, list]:
    """The customers of one validated list, as a SELECT and its parameters."""
    manifest = data.manifest(version)
    meta = mv.history_meta(manifest)
    if kind == "downgrades":
        return queries.downgrades_source(start, end, meta.get("ranking", []), queries.active_days(manifest), mv.NEW,
                                         meta.get("top_segments", []), meta.get("at_risk_segments", []))
    return queries.scoped_moves_source(_moves(version, start, end), kind, from_segment, to_segment,
                                       meta.get("top_segments", []), meta.get("at_risk_segments", []))


def _list_frame(version: object, scope: object) -> tuple[tuple[str, list], Mapping, dict]:
    """The list at the pinned version, revalidated from the (untrusted) scope the browser sent back."""
    if not isinstance(version, str) or not isinstance(scope, Mapping):
        raise dash.exceptions.PreventUpdate
    manifest = data.manifest(version)
    checked = _scope(manifest, {k: scope.get(k) if isinstance(scope.get(k), str) else None for k in _KEYS})
    if checked is None or not checked["list"]:
        raise dash.exceptions.PreventUpdate
    rows = _scoped(version, checked["from"], checked["to"], checked["list"], checked["from_segment"],
                   checked["to_segment"])
    return rows, manifest, {**checked, "version": version}


def _query(rows: tuple[str, list], version: str, request: object, **limits: int) -> tuple[pd.DataFrame, int]:
    return data.grid_page(version, rows[0], rows[1], request, mv.GRID_COLUMNS, mv.DEFAULT_SORT, mv.TIEBREAK, **limits)


@callback(Output("url", "href", allow_duplicate=True), Input("movement-from", "value"),
          Input("movement-to", "value"), Input("movement-measure", "value"), State("movement-scope", "data"),
          prevent_initial_call=True)
def change_view(start: str | None, end: str | None, measure: str | None, scope: dict | None) -> str:
    """A new window or measure goes into the URL (the page is rebuilt from it); the open list is kept."""
    if not isinstance(scope, dict):
        raise dash.exceptions.PreventUpdate
    state = page_state(scope)
    return _href(state, scope, **{"from": start, "to": end, "measure": None if measure == "customers" else measure})


@callback(Output("url", "href", allow_duplicate=True), Input("movement-sankey", "clickData"),
          State("movement-scope", "data"), State("page-version", "data"), prevent_initial_call=True)
def open_flow(click: dict | None, scope: dict | None, version: str | None) -> str:
    """Clicking a Sankey flow lists its customers (segments checked against the snapshot's scheme)."""
    if not isinstance(scope, dict) or not isinstance(version, str):
        raise dash.exceptions.PreventUpdate
    known = set(mv.history_meta(data.manifest(version)).get("ranking", []))
    pair = mv.flow_from_click(click, known)
    if pair is None:
        raise dash.exceptions.PreventUpdate
    return _href(page_state(scope), scope, list="flow", from_segment=pair[0], to_segment=pair[1])


@callback(Output("movement-grid", "getRowsResponse"), Output("movement-count", "children"),
          Input("movement-grid", "getRowsRequest"), State("page-version", "data"), State("movement-scope", "data"))
def get_rows(request: dict | None, version: str | None, scope: dict | None) -> tuple[dict, str]:
    """One block of the list for the grid: filtered, sorted and paged on the server."""
    if not isinstance(request, dict):
        raise dash.exceptions.PreventUpdate
    try:
        rows, manifest, checked = _list_frame(version, scope)
        block, total = _query(rows, checked["version"], request)
        in_scope = _scope_count(checked["version"], checked["from"], checked["to"], checked["list"],
                                checked["from_segment"], checked["to_segment"])
    except AppError:
        return {"rowData": [], "rowCount": 0}, _("This list cannot be loaded right now.")
    names = segment_names(data.table("segments", str(version)))
    return ({"rowData": mv.grid_rows(block, manifest.get("currency", ""), names), "rowCount": total},
            action_view.list_count(total, in_scope))


@callback(Output("url", "href", allow_duplicate=True), Input("movement-grid", "cellClicked"),
          State("page-version", "data"), State("movement-scope", "data"), prevent_initial_call=True)
def open_client(cell: dict | None, version: str | None, scope: dict | None) -> str:
    """Clicking a customer opens Client 360 (only ids of the pinned snapshot)."""
    customer = cell.get("rowId") if isinstance(cell, dict) else None
    if not isinstance(customer, str) or not isinstance(version, str) or not 0 < len(customer) <= cv.MAX_ID_LENGTH:
        raise dash.exceptions.PreventUpdate
    try:
        known = queries.segment_of(version, customer) is not None
    except AppError:
        known = False
    if not known:
        raise dash.exceptions.PreventUpdate
    return cv.customer_href(customer, page_state(scope if isinstance(scope, dict) else {}))


def _open_list(version: str, scope: Mapping[str, str]) -> OpenedList:
    """The list of ``scope`` (from, to, list, from_segment, to_segment) at ``version``, for its CSV
    (dashboard/list_export.py); the file name carries the flow and the two dates."""
    rows, manifest, checked = _list_frame(version, scope)
    what = "high-value-downgrades" if checked["list"] == "downgrades" else \
        f"{checked['from_segment']}-to-{checked['to_segment']}"
    return OpenedList(version, manifest, safe_filename("movement", what, str(checked["from"]), str(checked["to"]),
                                                       version), rows)


def _list_block(opened: OpenedList, window: Mapping) -> tuple[pd.DataFrame, int]:
    """The rows of a grid request ``window`` of the list, however many it asks for, and how many rows match."""
    return _query(opened.state, opened.version, window, max_rows=window["endRow"] - window["startRow"])


register_list("movement", CustomerList(_open_list, _list_block))


@callback(Output("movement-export", "href"), Output("movement-export" + LOCAL_SUFFIX, "href"),
          Input("movement-grid", "getRowsRequest"), State("page-version", "data"), State("movement-scope", "data"))
def export_links(request: dict | None, version: str | None, scope: dict | None) -> tuple[str, str]:
    """The addresses of the list's CSV, kept in step with the grid's filters and sort: every row matching them, in
    that order, with the campaign columns of every customer-list export (docs/EXPORTS.md), streamed by
    dashboard/list_export.py; the second file heads the columns with their labels in the page's language."""
    if not isinstance(version, str) or not isinstance(scope, Mapping):
        raise dash.exceptions.PreventUpdate
    try:
        _list_frame(version, scope)
    except AppError as exc:
        raise dash.exceptions.PreventUpdate from exc
    return export_urls("movement", version, {key: scope.get(key) for key in _KEYS if key != "measure"}, request)


