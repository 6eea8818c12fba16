"""Campaigns (/campaigns): every audience with its size, age and measured result."""

from __future__ import annotations

from collections.abc import Mapping

import dash
import pandas as pd
from dash import html

from analytics.errors import SnapshotError
from dashboard import data
from dashboard.components import campaign_view
from dashboard.components.ops_view import utc_now
from dashboard.components.shell import page_href
from dashboard.i18n import N_, _
from dashboard.pages._frame import page_state, page_title, render

dash.register_page(__name__, path="/campaigns", name=N_("Campaigns"),
                   title=page_title(N_("Campaigns")), order=5, nav=True)


def layout(**query: str) -> html.Div:
    """Page layout for ``/campaigns`` (audiences are read live from the store, results from the snapshot)."""
    state = page_state(query)
    return render("/campaigns", state, lambda version, manifest: _body(version, state))


def measured_campaigns(version: str) -> pd.DataFrame | None:
    """The snapshot's ``campaigns`` table (None for a snapshot published before campaigns existed)."""
    try:
        return data.table("campaigns", version)
    except SnapshotError:
        return None


def _body(version: str, state: Mapping) -> html.Div:
    rows = campaign_view.merge_results(data.store().audiences(), measured_campaigns(version))
    intro = html.P(_("Each audience holds out a random control group that is not contacted; every refresh compares "
                     "what the target and control groups bought since the audience's as-of date."),
                   className="text-body-secondary small")
    if not rows:
        content = campaign_view.empty_list(page_href("/actions", state, view="at-risk"))
    else:
        content = campaign_view.audience_table(rows, utc_now(), state)
    return html.Div([html.H2(_("Campaigns"), className="h4 mb-2"), intro, content], className="campaigns-page")
