"""Unknown paths: a "page not found" inside the app shell (navbar, snapshot caption), with ways back.

Dash pages shows the layout of the module named ``not_found_404`` for any path no page matches.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from analytics.errors import AppError
from dashboard import data
from dashboard.components.shell import page_frame, page_href
from dashboard.i18n import N_, _
from dashboard.pages._frame import page_state, page_title

dash.register_page(__name__, path="/404", name=N_("Page not found"), title=page_title(N_("Page not found")), order=99)

MENU_ORDER_END = 90  # pages ordered from here on (operations, this one) are not offered as ways back


def layout(**query: str) -> html.Div:
    """The not-found message, the main pages as links and the navbar (kept when embedded: no navbar)."""
    state = page_state(query)
    body = dbc.Card(dbc.CardBody([
        html.H2(_("Page not found"), className="h4", id="not-found-title"),
        html.P(_("There is no page at this address. The link may be mistyped or out of date."),
               className="text-body-secondary"),
        dcc.Link(_("← Back to the executive summary"), href=page_href("/", state), id="not-found-home",
                 className="fw-semibold"),
        html.Div([_("Or go to:") + " ", *_links(state)], className="small mt-2"),
    ]), class_name="mx-auto mt-4 not-found-page", id="not-found-page")
    return page_frame("/404", state, body, _manifest())


def _links(state: dict) -> list:
    """The other main pages (registered, no path variable, not the operators' or this one), in menu order."""
    pages = sorted((p for p in dash.page_registry.values() if p["path"] not in ("/", "/404")
                    and not p.get("path_template") and p.get("order", 0) < MENU_ORDER_END),
                   key=lambda p: p.get("order", 0))
    links: list = []
    for page in pages:
        links += [", " if links else None, dcc.Link(_(page["name"]), href=page_href(page["path"], state))]
    return links


def _manifest() -> dict | None:
    """The served snapshot's manifest, for the navbar caption (None when there is none or it is unreadable)."""
    version = data.current_version()
    try:
        return data.manifest(version) if version else None
    except AppError:
        return None
