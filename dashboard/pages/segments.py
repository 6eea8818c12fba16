"""Segments: pick a segment to see its RFM profile, weight, top products and recommended action."""

from __future__ import annotations

from collections.abc import Mapping

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html
from dash.development.base_component import ComponentType

from dashboard import data, queries
from dashboard.components import segment_view as view
from dashboard.components.charts import graph, segment_names
from dashboard.components.history_view import history_cards
from dashboard.components.shell import page_href
from dashboard.i18n import N_, _
from dashboard.pages._frame import page_state, page_title, render_cached

dash.register_page(__name__, path="/segments", name=N_("Segments"), title=page_title(N_("Segments")), order=1, nav=True)

PATH = "/segments"


def layout(**query: str) -> html.Div:
    """Page layout for ``/segments?segment=…`` (overview without a segment)."""
    state = page_state(query)
    return render_cached(PATH, state, _body)


def _body(version: str, manifest: Mapping, state: Mapping) -> html.Div:
    currency = manifest.get("currency", "")
    segments = data.table("segments", version)
    selected = state.get("segment")
    if selected and selected not in set(segments["segment"]):
        content = view.unknown_segment(str(selected), segments, state)
    elif selected:
        content = _segment(version, segments, selected, currency, state)
    else:
        content = _overview(segments, currency, state)
    scheme = manifest.get("segment_scheme")
    return html.Div([
        html.Div([html.H1(_("Segments"), className="h4 mb-0 me-2"),
                  html.Small(_("Scheme: {scheme}").format(scheme=scheme) if scheme else None,
                             className="text-body-secondary")],
                 className="d-flex align-items-baseline mb-2"),
        view.segment_picker(segments, selected, state),
        content,
        history_cards(queries.segment_sizes(version), data.table("score_cutpoints", version), manifest,
                      selected, state, segment_names(segments)),
    ], className="segments-page")


def _overview(segments: pd.DataFrame, currency: str, state: Mapping) -> html.Div:
    return html.Div([
        html.P(_("All {count} segments, most urgent first. Click a segment (card, pill or bubble) to see its "
                 "profile, top products and recommended action.").format(count=len(segments)),
               className="text-body-secondary mb-3",
               id="segment-overview-note"),
        view.overview_grid(segments, currency, state),
        dbc.Card(dbc.CardBody(_comparison(segments, None, currency)), class_name="mt-3"),
    ])


def _segment(version: str, segments: pd.DataFrame, selected: str, currency: str, state: Mapping) -> html.Div:
    row = segments[segments["segment"] == selected].iloc[0]  # names are unique; the caller checked it is there
    overall = queries.profile_means(version)
    kpis = data.table("kpis", version).set_index("kpi")
    products = data.table("segment_products", version)
    products = products[products["segment"] == selected]
    return html.Div([
        view.segment_header(row),
        dbc.Row(view.segment_cards(row, overall, float(kpis["value"]["avg_basket"]), currency),
                class_name="g-3 mb-3"),
        html.Div(view.action_card(row, state), className="mb-3"),
        dbc.Row([
            dbc.Col(dbc.Card(dbc.CardBody([
                graph(view.radar_figure(row, overall, currency), id="segment-radar"),
                html.P(_("Scores are quintiles among all customers: 5 = the best fifth (most recent, most frequent, "
                         "highest spend). Dashed: mean of all customers. Hover a point for days, orders and spend."),
                       className="small text-body-secondary mb-0 mt-2", id="segment-radar-note"),
            ]), class_name="h-100"), xs=12, lg=5),
            dbc.Col(dbc.Card(dbc.CardBody([
                html.H2(_("Top products of the segment (by revenue)"), className="card-section-title"),
                view.products_table(products, currency, state),
            ]), class_name="h-100"), xs=12, lg=7),
        ], class_name="g-3 mb-3"),
        dbc.Card(dbc.CardBody(_comparison(segments, selected, currency))),
    ])


def _comparison(segments: pd.DataFrame, selected: str | None, currency: str) -> ComponentType:
    return dcc.Loading(graph(view.comparison_figure(segments, selected, currency), id="segment-comparison-graph"))


@callback(Output("url", "href", allow_duplicate=True), Input("segment-comparison-graph", "clickData"),
          State("filters", "data"), prevent_initial_call=True)
def select_segment(click: dict | None, filters: dict | None) -> str:
    """Clicking a bubble selects its segment (the URL carries it)."""
    if not click or not click.get("points"):
        raise dash.exceptions.PreventUpdate
    point = click["points"][0]
    custom = point.get("customdata")
    segment = custom[0] if isinstance(custom, list) and custom else point.get("text")
    if not segment:
        raise dash.exceptions.PreventUpdate
    return page_href(PATH, filters or {}, segment=segment)
