"""App factory: the Dash multi-page app, its shell and its server-wide callbacks.

    app = create_app(settings)        # settings from analytics.settings.load_settings()
    server = app.server               # what gunicorn serves (see dashboard/wsgi.py)
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any
from urllib.parse import quote

import dash
import dash_bootstrap_components as dbc
import flask
from dash import ALL, Input, Output, State, dcc, html

from analytics.errors import AppError
from analytics.settings import PROJECT_ROOT, Settings, load_settings
from dashboard import data, i18n, queries
from dashboard.components.charts import use_chart_theme
from dashboard.components.client_view import clean_id, customer_href
from dashboard.health import register_health
from dashboard.list_export import register_list_export
from dashboard.security import apply_security

__all__ = ["canonical_client_path", "create_app", "new_data_notice", "search_target"]

PAGES = Path(__file__).resolve().parent / "pages"
ASSETS = PROJECT_ROOT / "assets"


def create_app(settings: Settings | None = None) -> dash.Dash:
    """Build the Dash app (debug off, assets served locally) around the snapshot reader."""
    settings = settings or load_settings()
    use_chart_theme()
    app = dash.Dash(
        "dashboard",  # page modules then import as dashboard.pages.<name>, like everywhere else
        use_pages=True,
        pages_folder=str(PAGES),
        assets_folder=str(ASSETS),
        serve_locally=True,
        suppress_callback_exceptions=True,
        title="Customer segments",
        update_title="",  # no "Updating..." title while callbacks run
        url_base_pathname=None if settings.web.requests_pathname_prefix else settings.web.url_base_pathname,
        requests_pathname_prefix=settings.web.requests_pathname_prefix,
        routes_pathname_prefix="/" if settings.web.requests_pathname_prefix else None,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.server.config["MAX_CONTENT_LENGTH"] = int(settings.web.max_upload_mb * 1024 * 1024)
    data.init_app(app.server, settings)
    i18n.init_app(app.server, settings.dashboard.language, cookie_path=app.config.requests_pathname_prefix)
    register_health(app.server, app.config.routes_pathname_prefix)
    register_list_export(app.server, app.config.routes_pathname_prefix)
    apply_security(app, settings)
    app.layout = functools.partial(_shell, settings.dashboard.new_data_poll_s)
    _declare_language(app)
    _register_callbacks(app)
    _redirect_to_canonical_customer_ids(app)
    _finish_setup(app)
    return app


def _finish_setup(app: dash.Dash) -> None:
    """Let Dash finish its one-time setup now, in one thread, instead of on the first real request.

    Dash completes its setup (assets, scripts, the pages' inline title script) on the first request;
    concurrent first requests in a threaded worker could otherwise compute the CSP hashes before that
    inline script exists. With gunicorn's preload_app this runs once in the master, before the fork.
    """
    app.server.test_client().get(app.config.routes_pathname_prefix + "_dash-layout")


def _declare_language(app: dash.Dash) -> None:
    """``<html lang="fr">``: the page's language for screen readers, hyphenation and browser translation."""
    interpolate = app.interpolate_index

    def interpolate_index(**kwargs: str) -> str:
        return interpolate(**kwargs).replace("<html>", f'<html lang="{i18n.current_language()}">', 1)

    app.interpolate_index = interpolate_index  # type: ignore[method-assign,assignment]


def canonical_client_path(path: str, routes_prefix: str = "/") -> str | None:
    """The customer id of a (decoded) ``<prefix>client/<id>`` request path in its canonical form, when it is not.

    ``/client/17850.0`` (how spreadsheets write ids) gives ``17850``; ``/client/17850``, other paths and ids
    that :func:`clean_id` leaves as they are give None.
    """
    start = routes_prefix + "client/"
    raw = path[len(start):] if path.startswith(start) else ""
    customer = clean_id(raw) if raw and "/" not in raw else ""
    return customer if customer and customer != raw else None


def _redirect_to_canonical_customer_ids(app: dash.Dash) -> None:
    """``/client/17850.0?segment=…`` answers 301 to ``/client/17850?segment=…`` (under the app's prefix), so the
    address bar, bookmarks and shared links carry the id the way the page shows it."""
    routes = app.config.routes_pathname_prefix

    @app.server.before_request
    def canonical_customer_url() -> Any:
        customer = canonical_client_path(flask.request.path, routes)
        if customer is None:
            return None
        query = flask.request.query_string.decode("latin-1")
        target = app.get_relative_path("/client/" + quote(customer, safe=""))
        return flask.redirect(target + (f"?{query}" if query else ""), code=301)


ARIA_LIVE: Any = {"aria-live": "polite"}  # typed Any: the component stubs know no hyphenated names


def _shell(new_data_poll_s: float = 60.0) -> html.Div:
    """The layout around every page: location, the cross-filter store, the "new data" notice, the page container."""
    return html.Div([
        dcc.Location(id="url", refresh="callback-nav"),
        dcc.Store(id="filters", storage_type="session"),
        dcc.Interval(id="new-data-poll", interval=max(new_data_poll_s, 1) * 1000, disabled=new_data_poll_s <= 0),
        html.Div(id="new-data-notice", className="new-data-notice", role="status", **ARIA_LIVE),
        dash.page_container,
    ])


def new_data_notice(page_version: str | None, current: str | None, href: str | None) -> object:
    """A discreet "new data — reload" notice when a newer snapshot than the page's was published, else nothing."""
    if not page_version or not current or current == page_version:
        return None
    return dbc.Alert([
        html.Strong("New data published. "),
        "This page shows the previous snapshot. ",
        html.A("Reload", href=href or "", id="new-data-reload", className="alert-link"),
    ], color="info", class_name="py-2 px-3 mb-0 shadow-sm small", id="new-data-alert")


def _register_callbacks(app: dash.Dash) -> None:
    @app.callback(Output("new-data-notice", "children"), Input("new-data-poll", "n_intervals"),
                  State({"type": "frame-version", "page": ALL}, "data"), State("url", "href"),
                  prevent_initial_call=True)
    def check_new_data(_ticks: int | None, versions: list, href: str | None) -> object:
        """Every ``dashboard.new_data_poll_s``: is the served version newer than the page's? (a pointer read)"""
        return new_data_notice(versions[0] if versions else None, data.current_version(), href)

    @app.callback(Output("filters", "data"), Input("url", "search"), State("filters", "data"))
    def remember_filters(search: str | None, current: dict | None) -> dict:
        """Keep the selected segment and language (ids and filters only, never tables) in the session store."""
        from urllib.parse import parse_qs

        query = {k: v[0] for k, v in parse_qs((search or "").lstrip("?")).items()}
        return {"segment": query.get("segment"), "embed": query.get("embed"), "lang": query.get("lang")}

    @app.callback(Output("nav-collapse", "is_open"), Input("nav-toggler", "n_clicks"),
                  State("nav-collapse", "is_open"), prevent_initial_call=True)
    def toggle_menu(_clicks: int, is_open: bool) -> bool:
        """Open or close the navbar menu on narrow screens."""
        return not is_open

    @app.callback(Output("url", "href", allow_duplicate=True),
                  Input("nav-search", "value"), Input("nav-search-go", "n_clicks"),
                  State("nav-search", "value"), State("filters", "data"), prevent_initial_call=True)
    def open_customer(_value: str | None, _clicks: int | None, value: str | None, filters: dict | None) -> str:
        """Navbar search: open Client 360 for the typed id."""
        return search_target(value, filters)


def search_target(value: str | None, filters: dict | None) -> str:
    """Where the navbar search goes: the typed customer (id normalised), with the customer's own segment."""
    customer = clean_id(value)
    if not customer:
        raise dash.exceptions.PreventUpdate
    return customer_href(customer, filters or {}, _segment_of(customer))


def _segment_of(customer_id: str) -> str | None:
    """The customer's segment in the snapshot being served (None: unknown customer, or no readable data)."""
    version = data.current_version()
    try:
        return queries.segment_of(version, customer_id) if version else None
    except AppError:
        return None


