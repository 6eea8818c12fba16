"""One campaign (/campaigns/<audience_id>): verdict, results per outcome, outcome over time, exports."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from analytics.errors import AppError
from dashboard import audiences, data
from dashboard.components import campaign_view
from dashboard.components.charts import graph
from dashboard.components.export import csv_download, safe_filename
from dashboard.components.shell import not_found, page_href
from dashboard.i18n import N_, _
from dashboard.pages._frame import page_state, page_title, render
from dashboard.pages.campaigns import measured_campaigns

dash.register_page(__name__, path_template="/campaigns/<audience_id>", name=N_("Campaign"),
                   title=page_title(N_("Campaign")), order=6)

log = logging.getLogger("dashboard.campaigns")


def layout(audience_id: str | None = None, **query: str) -> html.Div:
    """Page layout for ``/campaigns/<audience_id>``."""
    state = page_state(query)
    audience_id = audiences.valid_id(audience_id)
    if audience_id is None:
        return render("/campaigns", state, lambda *_args: not_found(_("No such campaign: the address is not an "
                                                                     "audience id (aud- and 12 hex digits).")))
    return render(f"/campaigns/{audience_id}", state, lambda version, manifest: _body(version, manifest,
                                                                                       audience_id, state))


def _body(version: str, manifest: Mapping, audience_id: str, state: Mapping) -> html.Div:
    summary = next((item for item in data.store().audiences() if item.get("audience_id") == audience_id), None)
    back = dcc.Link(_("← All campaigns"), href=page_href("/campaigns", state), className="small")
    if summary is None:
        return html.Div([back, not_found(_("No audience {id}: it was deleted or never existed.").format(
            id=audience_id))])
    campaigns = measured_campaigns(version)
    row = None if campaigns is None else next(iter(campaigns[campaigns["audience_id"] == audience_id]
                                                   .to_dict("records")), None)
    parts = [back, dcc.Store(id="campaign-id", data=audience_id), campaign_view.header(summary),
             campaign_view.export_buttons(),
             campaign_view.verdict_alert(row, manifest.get("period", {}).get("end"))]
    if row is not None and row["days"] > 0:
        results = data.table("campaign_results", version)
        daily = data.table("campaign_daily", version)
        parts += [dbc.Card(dbc.CardBody(campaign_view.results_table(
                      results[results["audience_id"] == audience_id], manifest.get("currency", ""))),
                      class_name="mb-3"),
                  dbc.Card(dbc.CardBody(graph(campaign_view.daily_figure(daily[daily["audience_id"] == audience_id]),
                                              id="campaign-daily-graph")))]
    return html.Div(parts, className="campaign-page")


@callback(Output("campaign-download", "data"), Input("campaign-export-target", "n_clicks"),
          Input("campaign-export-full", "n_clicks"), State("campaign-id", "data"), State("page-version", "data"),
          prevent_initial_call=True)
def export(_target: int | None, _full: int | None, audience_id: str | None, version: str | None) -> dict:
    """The target list (campaign tool; never the control group) or the full file with a group column."""
    kind = "full" if dash.ctx.triggered_id == "campaign-export-full" else "target"
    if not isinstance(version, str):
        raise dash.exceptions.PreventUpdate
    try:
        frame, audience = audiences.export_frame(str(audience_id), kind, version)
    except AppError as exc:
        log.warning("campaign export failed: %s", exc)
        raise dash.exceptions.PreventUpdate from exc
    return csv_download(frame, safe_filename("audience", audience.name, kind, audience.audience_id))
