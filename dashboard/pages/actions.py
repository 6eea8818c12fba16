"""Actions: the priority action matrix and the high-value customers at risk, paged on the server."""

from __future__ import annotations

from collections.abc import Mapping

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import (
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    dcc,
    html,
)

from analytics.errors import AppError
from dashboard import data, queries
from dashboard.components import action_view, audience_form
from dashboard.components import client_view as cv
from dashboard.components import prediction_view as pv
from dashboard.components.charts import segment_names
from dashboard.components.export import LOCAL_SUFFIX, export_buttons, safe_filename
from dashboard.components.grid_query import (
    MAX_BLOCK_ROWS,
    choice_filter_params,
    filter_from_query,
    locale_text,
    sort_from_query,
)
from dashboard.components.shell import page_href
from dashboard.i18n import N_, _
from dashboard.list_export import CustomerList, OpenedList, export_urls, register_list
from dashboard.pages._frame import page_state, page_title, render

dash.register_page(__name__, path="/actions", name=N_("Actions"), title=page_title(N_("Actions")), order=2, nav=True)


def layout(**query: str) -> html.Div:
    """Page layout for ``/actions?segment=…&view=at-risk|all&filter=…&sort=…`` (filter, sort: the grid's)."""
    state = page_state(query)
    grid_state = {"filter": filter_from_query(query.get("filter"), action_view.GRID_COLUMNS),
                  "sort": sort_from_query(query.get("sort"), action_view.GRID_COLUMNS)}
    return render("/actions", state,
                  lambda version, manifest: _body(version, manifest, state, query.get("view"), grid_state))


def _page_size() -> int:
    """``dashboard.page_size`` from the app's settings (25 when unset)."""
    size = data.settings().dashboard.page_size
    return size if 0 < size <= MAX_BLOCK_ROWS else 25


def _scope(segments: pd.DataFrame, segment: object, view: object) -> tuple[str | None, str]:
    """A known segment (or None) and a known view, whatever the URL or the browser sent."""
    segment = segment if isinstance(segment, str) and segment in set(segments["segment"]) else None
    return segment, view if view in action_view.VIEWS else action_view.VIEWS[0]


def _body(version: str, manifest: Mapping, state: Mapping, view: str | None,
          grid_state: Mapping | None = None) -> html.Div:
    currency = manifest.get("currency", "")
    segments = data.table("segments", version)
    segment, view = _scope(segments, state.get("segment"), view)
    state = {**state, "segment": segment}
    links = {name: page_href("/actions", {**state, "segment": None if name == segment else name}, view=view)
             for name in segments["segment"]}
    scope_rows = _scope_count(version, segment, view)
    names = segment_names(segments)
    shown = names.get(segment) if segment else None
    return html.Div([
        dcc.Store(id="actions-scope", data={"segment": segment, "view": view, "embed": state.get("embed")}),
        html.H2(_("Actions — {segment}").format(segment=shown) if shown else _("Actions"), className="h4 mb-3"),
        action_view.headline(*action_view.scope_totals(segments, segment), currency, shown),
        dbc.Card(dbc.CardBody([
            html.H3(_("Priority action matrix"), className="h6 mb-1"),
            html.P(_("Most urgent segments first. Click a segment to focus the customer list on it (click it again "
                     "to show every segment).") if segment else
                   _("Most urgent segments first. Click a segment to focus the customer list on it."),
                   className="small text-body-secondary mb-2"),
            action_view.action_matrix(segments, currency, segment, links),
        ]), class_name="mb-3"),
        dbc.Card(dbc.CardBody(_list_section(segment, view, state, currency, scope_rows, names,
                                            grid_state or {}, pv.risk_sort(manifest)))),
        audience_form.modal(),
    ], className="actions-page")


def _list_section(segment: str | None, view: str, state: Mapping, currency: str, scope_rows: int,
                  names: Mapping[str, str], grid_state: Mapping, sort: tuple[str, bool]) -> list:
    what = _("High-value customers at risk") if view == "at-risk" else _("All customers")
    shown = names.get(segment, segment) if segment else None
    title = f"{what} — {shown}" if shown else what
    hrefs = {name: page_href("/actions", state, view=name) for name in action_view.VIEWS}
    tools = html.Div([
        action_view.view_toggle(view, hrefs, segment),
        audience_form.button(disabled=not scope_rows),
        *export_buttons("export-csv", not scope_rows),
    ], className="d-flex flex-wrap align-items-center gap-1")
    header = html.Div([html.H3(title, className="h6 mb-0 me-3", id="list-title"), tools],
                      className="d-flex flex-wrap align-items-center justify-content-between gap-2 mb-2")
    if not scope_rows:
        return [header, action_view.empty_list(view, shown, hrefs["all"])]
    return [header, _grid(currency, names, grid_state, sort), dcc.Store(id="grid-url-sync"),
            dcc.Store(id="grid-url-defaults", data=url_defaults(currency, sort)),
            html.Div([html.Span(id="list-count"), " · " + _(
                "Click a customer to open Client 360. Sort by clicking a header (Shift+click to add a sort), filter "
                "with the boxes under the headers. The address bar keeps the filters and sort: copy it to share this "
                "list.")],
                     className="small text-body-secondary mt-2")]


def grid_columns(currency: str, segment_names: list[str] | Mapping[str, str], sort: list[dict],
                 default_sort: tuple[str, bool] = action_view.DEFAULT_SORT[0]) -> list[dict]:
    """The list's column definitions: the segment filter as a list of the segments (``segment_names``: the ids,
    or the names to show by id), the URL's sort if any (else ``default_sort``, the backtest's best risk ranking)."""
    order = {entry["colId"]: (i, entry["sort"]) for i, entry in enumerate(sort)}
    labels = segment_names if isinstance(segment_names, Mapping) else {}
    columns = []
    for column in action_view.column_defs(currency, default_sort):
        if column["colId"] == "segment":
            column = {**column, "filterParams": choice_filter_params(list(segment_names), labels),
                      "headerTooltip": _("Pick one segment from the list (exact match)")}
        if order:
            column = {k: v for k, v in column.items() if k not in ("sort", "sortIndex")}
            if column["colId"] in order:
                column.update(sortIndex=order[column["colId"]][0], sort=order[column["colId"]][1])
        columns.append(column)
    return columns


def url_defaults(currency: str, default_sort: tuple[str, bool] = action_view.DEFAULT_SORT[0]) -> dict:
    """What the URL sync needs: the list page's path (under the app's prefix), where the grid's state may be
    written, and the columns' own sort (``risk_score:desc``), which the URL leaves out."""
    columns = action_view.column_defs(currency, default_sort)
    default = sorted((c.get("sortIndex", 0), c["colId"], c["sort"]) for c in columns if c.get("sort"))
    return {"path": dash.get_relative_path("/actions"),
            "sort": ",".join(f"{col}:{direction}" for _, col, direction in default)}


def _grid(currency: str, segment_names: Mapping[str, str], grid_state: Mapping,
          sort: tuple[str, bool]) -> dag.AgGrid:
    size = _page_size()
    filters = grid_state.get("filter") or {}
    return dag.AgGrid(
        id="at-risk-grid",
        columnDefs=grid_columns(currency, segment_names, grid_state.get("sort") or [], sort),
        **({"filterModel": filters} if filters else {}),
        defaultColDef={"sortable": True, "resizable": True, "floatingFilter": True, "suppressHeaderMenuButton": True,
                       "wrapHeaderText": True, "autoHeaderHeight": True},
        rowModelType="infinite",
        getRowId="params.data.customer_id",
        dashGridOptions={"pagination": True, "paginationPageSize": size, "cacheBlockSize": size,
                         "paginationPageSizeSelector": False, "maxBlocksInCache": 20, "rowHeight": 34,
                         "floatingFiltersHeight": 34, "tooltipShowDelay": 300,
                         "suppressCellFocus": False, "rowClass": "customer-row", "localeText": locale_text()},
        style={"height": f"{size * 34 + 56 + 34 + 50 + 16}px", "width": "100%"},  # + the horizontal scrollbar
        className="at-risk-grid",
    )


def _list_frame(version: object, scope: object) -> tuple[str, Mapping, str | None, str]:
    """The pinned version, its manifest and the validated scope of the customer list."""
    if not isinstance(version, str):
        raise dash.exceptions.PreventUpdate
    scope = scope if isinstance(scope, Mapping) else {}
    segments = data.table("segments", version)
    segment, view = _scope(segments, scope.get("segment"), scope.get("view"))
    return version, data.manifest(version), segment, view


@data.by_version
def _scope_count(version: str, segment: str | None, view: str) -> int:
    """Customers in one validated scope (once per snapshot version)."""
    return queries.scope_count(version, *queries.customer_list_source(segment, view))


def _query(version: str, segment: str | None, view: str, request: object, manifest: Mapping,
           **limits: int) -> tuple[pd.DataFrame, int]:
    """The grid's (untrusted) request applied to the list in SQL, columns limited to the allow-list; without a
    sort, the backtest's best risk ranking first (prediction_view.risk_sort), then the most valuable."""
    default = (pv.risk_sort(manifest), ("monetary", False))
    source, params = queries.customer_list_source(segment, view)
    return data.grid_page(version, source, params, request, action_view.GRID_COLUMNS, default,
                          action_view.TIEBREAK, **limits)


@callback(Output("at-risk-grid", "getRowsResponse"), Output("list-count", "children"),
          Input("at-risk-grid", "getRowsRequest"), State("page-version", "data"), State("actions-scope", "data"))
def get_rows(request: dict | None, version: str | None, scope: dict | None) -> tuple[dict, str]:
    """One block of the customer list for the grid: filtered, sorted and paged on the server."""
    if not isinstance(request, dict):
        raise dash.exceptions.PreventUpdate
    try:
        pinned, manifest, segment, view = _list_frame(version, scope)
        block, total = _query(pinned, segment, view, request, manifest)
        segments = data.table("segments", str(version))
    except AppError:
        return {"rowData": [], "rowCount": 0}, _("This list cannot be loaded right now.")
    rows_shown = _with_links(action_view.grid_rows(block, manifest.get("currency", ""), segments), scope)
    return {"rowData": rows_shown, "rowCount": total}, action_view.list_count(
        total, _scope_count(pinned, segment, view))


def _with_links(rows: list[dict], scope: object) -> list[dict]:
    """Each grid row with ``href``, its Client 360 link (under the app's prefix), for the CustomerLink renderer
    (``segment_id``, the id of the segment shown in the page's language, goes into the link and not to the grid)."""
    state = page_state(scope if isinstance(scope, Mapping) else {})
    return [{**{k: v for k, v in row.items() if k != "segment_id"},
             "href": cv.customer_href(row["customer_id"], state, row.get("segment_id", row["segment"]))}
            for row in rows]


@callback(Output("url", "href", allow_duplicate=True), Input("at-risk-grid", "cellClicked"),
          State("page-version", "data"), State("actions-scope", "data"), prevent_initial_call=True)
def open_client(cell: dict | None, version: str | None, scope: dict | None) -> str:
    """Clicking a customer's row opens Client 360 on that customer (only ids of the pinned snapshot).

    The customer id cell itself is a link (assets/dashAgGridComponentFunctions.js) that navigates on its own.
    """
    if isinstance(cell, dict) and cell.get("colId") == "customer_id":
        raise dash.exceptions.PreventUpdate
    customer = cell.get("rowId") if isinstance(cell, dict) else None
    if not isinstance(customer, str) or not isinstance(version, str) or not 0 < len(customer) <= cv.MAX_ID_LENGTH:
        raise dash.exceptions.PreventUpdate
    try:
        segment = queries.segment_of(version, customer)
    except AppError:
        segment = None
    if segment is None:
        raise dash.exceptions.PreventUpdate
    return cv.customer_href(customer, page_state(scope if isinstance(scope, dict) else {}), segment)


@callback(Output(audience_form.SOURCE, "data"), Input("audience-open", "n_clicks"),
          State("at-risk-grid", "getRowsRequest"), State("page-version", "data"), State("actions-scope", "data"),
          prevent_initial_call=True)
def audience_source(clicks: int | None, request: dict | None, version: str | None, scope: dict | None) -> dict:
    """The customers for "Create audience": every row matching the grid's current filters (as the export)."""
    if not clicks:
        raise dash.exceptions.PreventUpdate
    try:
        pinned, manifest, segment, view = _list_frame(version, scope)
        request = request if isinstance(request, dict) else {}
        filters = request.get("filterModel") or None
        limit = data.settings().campaigns.max_members + 1  # one more: a too-long list is refused, never cut
        block, _total = _query(pinned, segment, view, {"filterModel": filters, "startRow": 0, "endRow": limit},
                               manifest, max_rows=limit)
    except AppError as exc:
        raise dash.exceptions.PreventUpdate from exc
    what = _("at-risk list") if view == "at-risk" else _("all customers")
    shown = segment_names(data.table("segments", str(version))).get(segment, segment) if segment else None
    description = f"{what} — {shown}" if shown else what
    return audience_form.source(block["customer_id"].tolist(),
                                _("{list} (filtered)").format(list=description) if filters else description)


def _open_list(version: str, scope: Mapping[str, str]) -> OpenedList:
    """The list of ``scope`` (segment, view) at ``version``, for its CSV (dashboard/list_export.py)."""
    pinned, manifest, segment, view = _list_frame(version, scope)
    return OpenedList(pinned, manifest, safe_filename("customers", (segment or "all").lower(), view, pinned),
                      (segment, view))


def _list_block(opened: OpenedList, window: Mapping) -> tuple[pd.DataFrame, int]:
    """The rows of a grid request ``window`` of the list, however many it asks for, and how many rows match."""
    segment, view = opened.state
    return _query(opened.version, segment, view, window, opened.manifest,
                  max_rows=window["endRow"] - window["startRow"])


register_list("customers", CustomerList(_open_list, _list_block))


@callback(Output("export-csv", "href"), Output("export-csv" + LOCAL_SUFFIX, "href"),
          Input("at-risk-grid", "getRowsRequest"), State("page-version", "data"), State("actions-scope", "data"))
def export_links(request: dict | None, version: str | None, scope: dict | None) -> tuple[str, str]:
    """The addresses of the list's CSV, kept in step with the grid's filters and sort: every row matching them,
    in the list's order, with the campaign columns (docs/EXPORTS.md), streamed by dashboard/list_export.py; the
    second file heads the columns with their labels in the page's language."""
    if not isinstance(version, str):
        raise dash.exceptions.PreventUpdate
    try:
        pinned, _manifest, segment, view = _list_frame(version, scope)
    except AppError as exc:
        raise dash.exceptions.PreventUpdate from exc
    return export_urls("customers", pinned, {"segment": segment, "view": view}, request)


# The grid's filter and sort go to the address bar (history.replaceState, no reload) as they change, so the
# URL can be shared; layout() reads them back. assets/dashAgGridComponentFunctions.js: gridUrl.sync (only while
# the address is still the list's page; the columns' default sort is left out).
clientside_callback(ClientsideFunction(namespace="gridUrl", function_name="sync"),
                    Output("grid-url-sync", "data"), Input("at-risk-grid", "getRowsRequest"),
                    State("grid-url-defaults", "data"), prevent_initial_call=True)
