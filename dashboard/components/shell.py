"""The page chrome: navbar with the snapshot's dates and the language switch, filter chip, data-source banner,
empty state — every visible string in the request's language (:mod:`dashboard.i18n`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
from babel import Locale
from dash import dcc, get_relative_path, html
from dash.development.base_component import Component, ComponentType

from dashboard.components.format import day, moment
from dashboard.i18n import LANGUAGES, _, current_language

__all__ = ["FRAME_VERSION", "nav_pages", "page_href", "navbar", "language_switch", "snapshot_caption", "filter_chip",
           "source_banner", "empty_state", "not_found"]

STATE_KEYS = ("segment", "embed", "lang")  # query parameters that follow the user from page to page
# The snapshot version a framed page shows (None: no data). A pattern id, so that a callback can read it as a
# list that is empty on pages without a frame, instead of failing on a missing component.
FRAME_VERSION = {"type": "frame-version", "page": "frame"}


def page_href(path: str, state: Mapping[str, object] | None = None, **extra: object) -> str:
    """Link to ``path`` under the app's prefix, carrying the cross-filter state (segment, embed, lang)."""
    query = {k: v for k, v in {**(state or {}), **extra}.items() if k in STATE_KEYS + tuple(extra) and v}
    return get_relative_path(path) + (f"?{urlencode(query)}" if query else "")


def nav_pages() -> list[tuple[str, str]]:
    """(label, path) of the navbar's pages, in order: the pages registered with ``nav=True`` in
    ``dash.register_page`` (their ``name`` and ``order``)."""
    pages = sorted((page for page in dash.page_registry.values() if page.get("nav")),
                   key=lambda page: (page.get("order") is None, page.get("order") or 0, page["name"]))
    return [(page["name"], page["path"]) for page in pages]


def navbar(state: Mapping[str, object], active: str, caption: ComponentType) -> dbc.Navbar:
    """Top navigation: brand, page links (carrying the filter state), customer search, snapshot caption,
    language switch. Page names are translated here: register them as ``name=N_("...")``."""
    links = [dbc.NavItem(dbc.NavLink(_(label), href=page_href(path, state), active=_is_active(path, active),
                                     id=f"nav-{path.strip('/') or 'home'}"))
             for label, path in nav_pages()]
    search = dbc.InputGroup([
        dbc.Input(id="nav-search", placeholder=_("Customer id"), type="search", debounce=True, size="sm",
                  autocomplete="off", maxlength=40),
        dbc.Button(_("Open"), id="nav-search-go", size="sm", color="light"),
    ], size="sm", class_name="nav-search")
    collapsible = dbc.Collapse([
        dbc.Nav(links, navbar=True, class_name="me-auto"),
        html.Div(search, className="me-3 my-2 my-lg-0"),
        html.Small(caption, id="snapshot-caption", className="navbar-caption"),
    ], id="nav-collapse", navbar=True, is_open=False)
    return dbc.Navbar(dbc.Container([
        dbc.NavbarBrand(_("Customer segments"), href=page_href("/", state), class_name="fw-semibold"),
        language_switch(state, active),  # outside the menu: always visible, even when collapsed
        dbc.NavbarToggler(id="nav-toggler", n_clicks=0),
        collapsible,
    ], fluid=True), color="dark", dark=True, expand="lg", class_name="mb-3 app-navbar")


def language_switch(state: Mapping[str, object], path: str) -> html.Div:
    """``FR | EN``: the current language in bold, the others as links to the same page and state.

    Plain links (a full page load), so the server sets the ``lang`` cookie and the whole page, title
    included, comes back in the chosen language.
    """
    current, items = current_language(), list[Component]()
    hidden: dict[str, Any] = {"aria-hidden": "true"}
    for lang in LANGUAGES:
        name = str(Locale.parse(lang).get_display_name(lang)).capitalize()
        if items:
            items.append(html.Span("|", className="mx-1 text-white-50", **hidden))
        if lang == current:
            here: dict[str, Any] = {"aria-current": "true"}
            items.append(html.Span(lang.upper(), title=name, className="fw-bold text-white", id=f"lang-{lang}",
                                   **here))
        else:
            items.append(html.A(lang.upper(), href=page_href(path, state, lang=lang), title=name, hrefLang=lang,
                                lang=lang, id=f"lang-{lang}", className="text-white-50 text-decoration-none"))
    group: dict[str, Any] = {"aria-label": _("Language")}
    return html.Div(items, id="language-switch", className="language-switch small me-3",
                    role="group", **group)


def _is_active(path: str, active: str) -> bool:
    return active == path or (path != "/" and active.startswith(path))


def snapshot_caption(manifest: Mapping | None) -> ComponentType:
    """``Data 1 Dec 2010 – 9 Dec 2011 · refreshed 25 Nov 2026 07:25 UTC`` (with the version on hover)."""
    if not manifest:
        return _("No snapshot published yet")
    period = manifest.get("period", {})
    return html.Span([
        _("Data {start} – {end} · refreshed {refreshed}").format(
            start=day(period.get("start")), end=day(period.get("end")), refreshed=moment(manifest.get("created_at"))),
    ], title=_("Snapshot version {version}").format(version=manifest.get("version")))


def filter_chip(state: Mapping[str, object], path: str, label: str | None = None) -> ComponentType:
    """A removable chip for the selected segment (shown as ``label``, its name in the page's language), or
    nothing."""
    segment = state.get("segment")
    if not segment:
        return None
    remove = page_href(path, {k: v for k, v in state.items() if k != "segment"})
    return dbc.Badge([_("Segment: {segment}").format(segment=label or segment) + " ",
                      dcc.Link("×", href=remove, className="chip-remove text-white", title=_("Remove this filter"),
                               id="chip-remove")],
                     color="primary", pill=True, class_name="filter-chip", id="filter-chip")


def source_banner(unavailable_since: datetime | None, version: str | None) -> ComponentType:
    """Warning shown while the store cannot be read."""
    if not unavailable_since:
        return None
    since = moment(unavailable_since)
    text = (_("Data source unavailable since {since} — showing the last loaded snapshot ({version}).")
            if version else _("Data source unavailable since {since}."))
    return dbc.Alert(text.format(since=since, version=version), color="warning", class_name="py-2",
                     id="source-banner")


def empty_state() -> dbc.Card:
    """Shown when no snapshot has been published yet: what to do for a business user, the commands folded away."""
    return dbc.Card(dbc.CardBody([
        html.H4(_("No data yet"), className="card-title"),
        html.P(_("No data has been published yet. Ask your operator to run a refresh; this page shows the data "
                 "as soon as it is published (reload the page then)."), id="empty-state-message"),
        html.Details([
            html.Summary(_("Details for operators"), className="small"),
            html.P(_("Publish a snapshot to the store this dashboard reads with the refresh job, from the project "
                     "folder:"), className="small mt-2 mb-1"),
            html.Pre("python -m jobs.refresh            # " + _("bundled demo data") + "\n"
                     "python -m jobs.refresh --input your_transactions.csv\n"
                     "make refresh                      # " + _("the same, bundled data"),
                     className="bg-light p-2 mb-1"),
            html.P(_("or press \u201cRefresh now\u201d on the operations page (/ops) while the scheduler runs."),
                   className="small mb-0"),
        ], id="empty-state-details"),
    ]), class_name="empty-state mx-auto mt-4", id="empty-state")


def not_found(message: str) -> dbc.Alert:
    """A clear not-found message."""
    return dbc.Alert(message, color="secondary", id="not-found")


def page_frame(path: str, state: Mapping[str, object], body: ComponentType, manifest: Mapping | None,
               unavailable_since: datetime | None = None, version: str | None = None,
               segment_label: str | None = None) -> html.Div:
    """Everything around a page's body: navbar (not when embedded), source banner, filter chip (the segment
    shown as ``segment_label``)."""
    embedded = bool(state.get("embed"))
    top = [] if embedded else [navbar(state, path, snapshot_caption(manifest))]
    chip = filter_chip(state, path, segment_label)
    return html.Div([
        dcc.Store(id=FRAME_VERSION, data=version),  # what the "new data" notice compares with (app.py)
        *top,
        dbc.Container([
            source_banner(unavailable_since, version),
            html.Div(chip, className="mb-2") if chip else None,
            body,
        ], fluid=True, class_name="embedded" if embedded else "page-body"),
    ], className="embed-frame" if embedded else "app-frame")
