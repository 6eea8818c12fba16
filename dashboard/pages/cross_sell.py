"""Cross-sell explorer: browse, filter and export the association rules; open one to see its audience.

Every filter is in the query string (``?sup=0.02&conf=0.5&lift=3&req=22697&req_in=antecedent&sort=lift:desc``):
the layout reads it, and a clientside callback writes the current filters back with
``history.replaceState`` (no navigation, so no re-render). With a segment selected (the chip), the
rules mined on that segment's baskets are shown (table ``segment_rules``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import replace

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import dash_cytoscape as cyto
import numpy as np
import pandas as pd
from dash import ALL, MATCH, Input, Output, State, callback, clientside_callback, dcc, html

from analytics.errors import AppError
from dashboard import data
from dashboard.components import format as fmt
from dashboard.components import rules_view as rv
from dashboard.components.charts import graph
from dashboard.components.export import csv_download, safe_filename
from dashboard.components.grid_query import query_rows
from dashboard.components.rule_charts import NETWORK_STYLESHEET, SCATTER_HEIGHT, network_elements, scatter_figure
from dashboard.components.segment_names import segment_name, segment_names
from dashboard.components.shell import page_href
from dashboard.i18n import N_, _
from dashboard.pages._frame import page_state, page_title, render

dash.register_page(__name__, path="/cross-sell", name=N_("Cross-sell"),
                   title=page_title(N_("Cross-sell")), order=3, nav=True)

PATH = "/cross-sell"
PAGE_SIZE = 20
EXPORT_MAX_ROWS = 200_000
SORT_COLUMNS = tuple(c for c, kind in rv.GRID_COLUMNS.items() if kind == "number") + ("antecedent", "consequent")


def layout(**query: str) -> html.Div:
    """Page layout for ``/cross-sell?segment=…&sup=…&conf=…&lift=…&len_min=…&len_max=…&req=…&exc=…``."""
    state = page_state(query)
    return render(PATH, state, lambda version, manifest: _body(version, manifest, state, query))


# --- data ------------------------------------------------------------------------------------------------

def _scope(version: str, segment: object) -> str | None:
    """A segment with published segment rules, or None (all customers)."""
    if not isinstance(segment, str) or not segment:
        return None
    return segment if segment in set(data.table("segments", version)["segment"]) else None


@data.by_version
def rule_set(version: str, segment: str | None) -> rv.RuleSet:
    """The prepared rules of one scope at one snapshot version (built once; shared by every callback)."""
    if segment is None:
        return rv.prepare(data.table("rules", version))
    rules = data.table("segment_rules", version)
    return rv.prepare(rules[rules["segment"] == segment].drop(columns="segment"))


@data.by_version
def product_options(version: str, segment: str | None) -> list[dict]:
    """Dropdown options of the products in the scope's rules: "NAME · code", searchable by both."""
    rules = rule_set(version, segment)
    names = data.table("products", version).set_index("stock_code")["description"]
    codes = rules.products
    labels = names.reindex(codes).fillna("").to_numpy(dtype=object)
    return [{"label": f"{label.capitalize() if label else code} · {code}", "value": code}
            for code, label in sorted(zip(codes, labels), key=lambda pair: str(pair[1] or pair[0]))]


def filtered(version: str, segment: str | None, filters: rv.RuleFilters) -> tuple[rv.RuleSet, pd.DataFrame]:
    """The scope's rules and the rows passing ``filters``."""
    rules = rule_set(version, segment)
    return rules, rules.frame[rv.matching(rules, filters)]


def _segment_name(version: str, segment: str | None) -> str:
    """The segment's name in the current language (``label_fr`` in French)."""
    return segment_name(segment_names(data.table("segments", version)), segment or "")


# --- layout ----------------------------------------------------------------------------------------------

def _body(version: str, manifest: Mapping, state: Mapping, query: Mapping) -> html.Div:
    segment = _scope(version, state.get("segment"))
    rules = rule_set(version, segment)
    filters = rv.parse_filters(query)
    scope = {"segment": segment, "embed": state.get("embed")}
    name = _segment_name(version, segment)
    title = _("Cross-sell — rules of {segment}").format(segment=name) if segment else _("Cross-sell")
    where = (_("Rules mined on the baskets of the {segment} customers only.").format(segment=name) if segment else
             _("Rules mined on every basket (guests included). Select a segment (Segments page) to see its own "
               "rules."))
    return html.Div([
        dcc.Store(id="cs-scope", data=scope),
        dcc.Store(id="cs-filters",
                  data={**rv.to_query(filters), **({"sort": query["sort"]} if query.get("sort") else {})}),
        dcc.Store(id="cs-url-sink"),
        html.Div([html.H1(title, className="h4 mb-0 me-3"), html.Small(where, className="text-body-secondary")],
                 className="d-flex flex-wrap align-items-baseline mb-2"),
        dbc.Card(dbc.CardBody(_filter_controls(version, segment, rules, filters, state)), class_name="mb-3"),
        html.Div([html.Span(id="cs-count", className="fw-semibold me-3"),
                  dcc.Link(_("Reset filters"), href=page_href(PATH, state), id="cs-reset", className="small")],
                 className="mb-2"),
        dbc.Alert(id="cs-hint", color="info", is_open=False, class_name="py-2"),
        dbc.Card(dbc.CardBody([
            html.Div([
                html.H2(_("Rules"), className="h6 mb-0 me-3"),
                html.Div([dbc.Button(_("Export CSV"), id="cs-export", color="secondary", outline=True, size="sm",
                                     title=_("Download every rule matching the filters, in the grid's order")),
                          dcc.Loading(dcc.Download(id="cs-download"), type="dot",
                                      parent_className="d-inline-block ms-2")]),
            ], className="d-flex justify-content-between align-items-center mb-2"),
            html.Div(id="cs-grid-box"),
            html.Div(_("Click a rule to see its products, what the figures mean and its audience (customers to "
                       "target). Sort by clicking a header; the sliders above set the thresholds."),
                     className="small text-body-secondary mt-2"),
        ]), class_name="mb-3"),
        dbc.Row([
            dbc.Col(dbc.Card(dbc.CardBody(graph(id="cs-scatter", height=SCATTER_HEIGHT))), lg=6, class_name="mb-3"),
            dbc.Col(dbc.Card(dbc.CardBody([
                html.H2(_("Strongest rules"), className="h6 mb-1"),
                html.P(_("Products are nodes; each arrow is a rule (antecedent → consequent), thicker for a higher "
                         "lift. The 30 highest-lift rules matching the filters."),
                       className="small text-body-secondary"),
                cyto.Cytoscape(id="cs-network", elements=[], stylesheet=NETWORK_STYLESHEET,
                               layout={"name": "cose", "animate": False, "nodeRepulsion": 9000,
                                                 "idealEdgeLength": 90}, style={"height": "340px", "width": "100%"},
                               userZoomingEnabled=False),
            ])), lg=6, class_name="mb-3"),
        ]),
    ], className="cross-sell-page")


def _filter_controls(version: str, segment: str | None, rules: rv.RuleSet, filters: rv.RuleFilters,
                     state: Mapping) -> list:
    top_support = float(rules.support.max()) if rules.total else 1.0
    top_confidence = float(rules.confidence.max()) if rules.total else 1.0
    top_lift = float(np.ceil(rules.lift.max())) if rules.total else 1.0
    longest = int(rules.length.max()) if rules.total else 2
    options = product_options(version, segment)
    where = [{"label": label, "value": value} for value, label in
             (("anywhere", _("anywhere")), ("antecedent", _("in the antecedent")),
              ("consequent", _("in the consequent")))]
    windows = [{"label": _("Every window"), "value": ""},
               *({"label": rv.window_label(w), "value": w} for w in rules.windows())]

    def slider(id_: str, label: str, tip: str, top: float, value: float, step: float, unit: str) -> html.Div:
        return html.Div([
            html.Label([label, " ", html.Span(id=f"{id_}-value", className="fw-semibold")], htmlFor=id_,
                       title=tip, className="small mb-0"),
            dcc.Slider(id=id_, min=0, max=top, step=step, value=min(value, top), updatemode="mouseup",
                       marks={0: "0", top: f"{top * (100 if unit == '%' else 1):g}{unit}"}, tooltip=None),
        ])

    return [dbc.Row([
        dbc.Col(slider("cs-sup", _("Minimum support"), _("Share of all baskets holding every product of the rule"),
                       round(top_support, 4), filters.min_support, 0.0005, "%"), md=4),
        dbc.Col(slider("cs-conf", _("Minimum confidence"),
                       _("Share of the baskets with the antecedent that also hold the consequent"),
                       round(top_confidence, 3), filters.min_confidence, 0.01, "%"), md=4),
        dbc.Col(slider("cs-lift", _("Minimum lift"), _("How many times more often than by chance (1 = chance)"),
                       top_lift, filters.min_lift, 0.1, "×"), md=4),
    ], class_name="g-3 mb-2"), dbc.Row([
        dbc.Col([html.Label(_("Products in the rule"), htmlFor="cs-len", className="small mb-0",
                            title=_("Number of products: antecedent + consequent")),
                 dcc.RangeSlider(id="cs-len", min=2, max=max(longest, 3), step=1, allowCross=False,
                                 value=[filters.min_len, filters.max_len or max(longest, 3)],
                                 marks={n: str(n) for n in range(2, max(longest, 3) + 1)})], md=2),
        dbc.Col([html.Label(_("Must contain"), htmlFor="cs-req", className="small mb-0",
                            title=_("Search a product by name or stock code")),
                 dcc.Dropdown(id="cs-req", options=options, value=list(filters.require), multi=True,
                              placeholder=_("Product name or code…"), optionHeight=30),
                 dcc.RadioItems(id="cs-req-in", options=where, value=filters.require_in, inline=True,
                                className="small", inputClassName="me-1", labelClassName="me-3")], md=4),
        dbc.Col([html.Label(_("Must not contain"), htmlFor="cs-exc", className="small mb-0"),
                 dcc.Dropdown(id="cs-exc", options=options, value=list(filters.exclude), multi=True,
                              placeholder=_("Product name or code…"), optionHeight=30),
                 dcc.RadioItems(id="cs-exc-in", options=where, value=filters.exclude_in, inline=True,
                                className="small", inputClassName="me-1", labelClassName="me-3")], md=4),
        dbc.Col([html.Label(_("Window"), htmlFor="cs-window", className="small mb-0",
                            title=_("Rules mined on all baskets, or on the recent baskets only")),
                 dcc.Dropdown(id="cs-window", options=windows, value=filters.window, clearable=False),
                 html.Div(dcc.Checklist(id="cs-redundant", options=[{"label": " " + _("Hide redundant rules"),
                                                                      "value": "hide"}],
                                        value=[] if filters.show_redundant else ["hide"], className="small mt-2",
                                        inputClassName="me-1"),
                          title=_("A rule X → Y is redundant when a rule with fewer products in X and the same Y "
                                  "is at least as confident (arules' definition)"))], md=2),
    ], class_name="g-3")]


def _grid(filters: Mapping, key: str) -> dag.AgGrid:
    """A fresh grid (a new id when the filters change, so the server is asked for the new rows)."""
    sort = _sort_model(filters.get("sort"))
    columns = [{**col, **({"sort": sort[col["colId"]][0], "sortIndex": sort[col["colId"]][1]}
                          if col["colId"] in sort else {"sort": None} if sort else {})}
               for col in rv.column_defs()]
    return dag.AgGrid(
        id={"type": "cs-grid", "key": key}, columnDefs=columns,
        defaultColDef={"sortable": True, "resizable": True, "floatingFilter": True, "suppressHeaderMenuButton": True,
                       "wrapHeaderText": True, "autoHeaderHeight": True},
        rowModelType="infinite", getRowId="params.data.rule_id",
        dashGridOptions={"pagination": True, "paginationPageSize": PAGE_SIZE, "cacheBlockSize": PAGE_SIZE,
                         "paginationPageSizeSelector": False, "maxBlocksInCache": 20, "rowHeight": 34,
                         "floatingFiltersHeight": 34, "tooltipShowDelay": 300, "rowClass": "rule-row"},
        style={"height": f"{PAGE_SIZE * 34 + 56 + 34 + 50}px", "width": "100%"}, className="rules-grid",
    )


def _sort_model(text: object) -> dict[str, tuple[str, int]]:
    """``lift:desc,support:asc`` → {column: (direction, index)} for the sortable columns."""
    found: dict[str, tuple[str, int]] = {}
    for part in str(text or "").split(",")[:3]:
        column, _, direction = part.partition(":")
        if column in SORT_COLUMNS and direction in ("asc", "desc") and column not in found:
            found[column] = (direction, len(found))
    return found


# --- callbacks ---------------------------------------------------------------------------------------------

@callback(Output("cs-filters", "data"), Output("cs-grid-box", "children"), Output("cs-count", "children"),
          Output("cs-hint", "children"), Output("cs-hint", "is_open"), Output("cs-scatter", "figure"),
          Output("cs-network", "elements"), Output("cs-sup-value", "children"), Output("cs-conf-value", "children"),
          Output("cs-lift-value", "children"),
          Input("cs-sup", "value"), Input("cs-conf", "value"), Input("cs-lift", "value"), Input("cs-len", "value"),
          Input("cs-req", "value"), Input("cs-req-in", "value"), Input("cs-exc", "value"), Input("cs-exc-in", "value"),
          Input("cs-window", "value"), Input("cs-redundant", "value"),
          State("cs-filters", "data"), State("page-version", "data"), State("cs-scope", "data"))
def apply_filters(sup: object, conf: object, lift: object, length: object, req: object, req_in: object, exc: object,
                  exc_in: object, window: object, redundant: object, current: dict | None, version: str | None,
                  scope: dict | None) -> tuple:
    """A filter changed: new counts, hint, charts and grid; the filters go to the URL (clientside)."""
    if not isinstance(version, str):
        raise dash.exceptions.PreventUpdate
    lengths = length if isinstance(length, list) and len(length) == 2 else [2, 0]
    filters = rv.parse_filters({"sup": sup, "conf": conf, "lift": lift, "len_min": lengths[0], "len_max": lengths[1],
                                "req": req or [], "req_in": req_in, "exc": exc or [], "exc_in": exc_in,
                                "window": window,
                                "redundant": "" if isinstance(redundant, list) and "hide" in redundant else "show"})
    try:
        segment = _scope(version, (scope or {}).get("segment"))
        rules, rows = filtered(version, segment, filters)
    except AppError as exc_:
        return (dash.no_update, None, _("The rules cannot be loaded right now."), str(exc_), True, {}, [], "", "",
                "")
    if filters.max_len and filters.max_len >= int(rules.length.max(initial=2)):
        filters = replace(filters, max_len=0)  # the slider at its top: no bound (and no len_max in the URL)
    hidden = int(rv.matching(rules, replace(filters, show_redundant=True)).sum()) - len(rows) \
        if not filters.show_redundant else 0
    query = {**rv.to_query(filters), **({"sort": current["sort"]} if isinstance(current, dict) and
                                        isinstance(current.get("sort"), str) else {})}
    key = hashlib.sha256(json.dumps(rv.to_query(filters), sort_keys=True).encode()).hexdigest()[:10]
    empty = len(rows) == 0
    return (query, _grid(query, key), rv.count_text(len(rows), rules.total, hidden),
            rv.empty_hint(rules, filters) if empty else None, empty, scatter_figure(rows, len(rows)),
            network_elements(rows), fmt.share(filters.min_support, 2), fmt.share(filters.min_confidence, 0),
            rv.lift_text(filters.min_lift))


def _filters_of(stored: object) -> rv.RuleFilters:
    return rv.parse_filters(stored if isinstance(stored, dict) else {})


def _rows(version: object, scope: object, stored: object) -> pd.DataFrame:
    if not isinstance(version, str):
        raise dash.exceptions.PreventUpdate
    segment = _scope(version, scope.get("segment") if isinstance(scope, dict) else None)
    return filtered(version, segment, _filters_of(stored))[1]


@callback(Output({"type": "cs-grid", "key": MATCH}, "getRowsResponse"),
          Input({"type": "cs-grid", "key": MATCH}, "getRowsRequest"),
          State("cs-filters", "data"), State("page-version", "data"), State("cs-scope", "data"))
def get_rows(request: dict | None, stored: dict | None, version: str | None, scope: dict | None) -> dict:
    """One block of rules for the grid: filtered, sorted and paged on the server."""
    if not isinstance(request, dict):
        raise dash.exceptions.PreventUpdate
    try:
        rows = _rows(version, scope, stored)
    except AppError:
        return {"rowData": [], "rowCount": 0}
    block, total = rv.page_rows(rows, request)
    return {"rowData": rv.grid_rows(block), "rowCount": total}


clientside_callback(
    """
    function(filters, requests, scope) {
        const query = new URLSearchParams();
        if (scope && scope.segment) { query.set("segment", scope.segment); }
        if (scope && scope.embed) { query.set("embed", scope.embed); }
        Object.entries(filters || {}).forEach(([key, value]) => { if (key !== "sort") { query.set(key, value); } });
        const request = (requests || []).filter(Boolean).slice(-1)[0];
        const sort = request && request.sortModel ? request.sortModel : null;
        if (sort && sort.length) {
            query.set("sort", sort.slice(0, 3).map(s => s.colId + ":" + s.sort).join(","));
        } else if (!sort && filters && filters.sort) {
            query.set("sort", filters.sort);
        }
        const text = query.toString();
        window.history.replaceState(window.history.state, "", window.location.pathname + (text ? "?" + text : ""));
        return text;
    }
    """,
    Output("cs-url-sink", "data"), Input("cs-filters", "data"),
    Input({"type": "cs-grid", "key": ALL}, "getRowsRequest"), State("cs-scope", "data"),
)


@callback(Output("url", "href", allow_duplicate=True), Input({"type": "cs-grid", "key": ALL}, "cellClicked"),
          Input("cs-scatter", "clickData"), State("page-version", "data"), State("cs-scope", "data"),
          prevent_initial_call=True)
def open_rule(cells: list | None, click: dict | None, version: str | None, scope: dict | None) -> str:
    """A click on a grid row or a scatter point opens that rule (only ids of the pinned snapshot)."""
    href = rule_href(clicked_rule_id(dash.ctx.triggered_id, cells, click), version, scope)
    if href is None:
        raise dash.exceptions.PreventUpdate
    return href


def clicked_rule_id(trigger: object, cells: list | None, click: dict | None) -> object:
    """The rule id of a scatter point's ``customdata`` (trigger ``cs-scatter``) or of a clicked grid row."""
    if trigger == "cs-scatter":
        points = click.get("points") if isinstance(click, dict) else None
        custom = points[0].get("customdata") if isinstance(points, list) and points and \
            isinstance(points[0], dict) else None
        return custom[0] if isinstance(custom, list) and custom else None
    cell = next((c for c in (cells or []) if isinstance(c, dict)), None)
    return cell.get("rowId") if cell else None


def rule_href(rule_id: object, version: object, scope: object) -> str | None:
    """Link to the rule page when ``rule_id`` is a rule of the scope at the pinned version, else None."""
    if not isinstance(rule_id, str) or not isinstance(version, str) or len(rule_id) > 40:
        return None
    scope = scope if isinstance(scope, dict) else {}
    if rule_id not in set(rule_set(version, _scope(version, scope.get("segment"))).frame["rule_id"]):
        return None
    return page_href(f"{PATH}/rule/{rule_id}", scope)


@callback(Output("cs-download", "data"), Input("cs-export", "n_clicks"),
          State({"type": "cs-grid", "key": ALL}, "getRowsRequest"), State("cs-filters", "data"),
          State("page-version", "data"), State("cs-scope", "data"), prevent_initial_call=True)
def export_csv(clicks: int | None, requests: list | None, stored: dict | None, version: str | None,
               scope: dict | None) -> dict:
    """CSV of every rule matching the filters (and the grid's column filters), in the grid's order."""
    if not clicks:
        raise dash.exceptions.PreventUpdate
    try:
        rows = _rows(version, scope, stored)
    except AppError as exc:
        raise dash.exceptions.PreventUpdate from exc
    request = next((r for r in reversed(requests or []) if isinstance(r, dict)), {})
    everything = {"filterModel": request.get("filterModel"), "sortModel": request.get("sortModel"),
                  "startRow": 0, "endRow": EXPORT_MAX_ROWS}
    block, _total = query_rows(rows, everything, rv.GRID_COLUMNS, rv.DEFAULT_SORT, rv.TIEBREAK,
                               max_rows=EXPORT_MAX_ROWS)
    segment = (scope or {}).get("segment") if isinstance(scope, dict) else None
    return csv_download(rv.export_frame(block), safe_filename("rules", segment or "all", str(version)))

