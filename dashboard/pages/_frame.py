"""Common page rendering: pin one snapshot version per page load, frame the body, handle no-data."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from dash import dcc, html
from dash.development.base_component import ComponentType

from analytics.errors import AppError
from dashboard import data
from dashboard.components.shell import empty_state, not_found, page_frame
from dashboard.i18n import LANGUAGES, SOURCE_LANGUAGE, _, current_language, localised, use_language

__all__ = ["render", "render_cached", "page_state", "page_title"]

log = logging.getLogger("dashboard")
Body = Callable[[str, Mapping], ComponentType]  # (version, manifest) -> page body


def page_title(name: str) -> Callable[..., str]:
    """A page's ``title`` for ``dash.register_page``: ``name`` (marked with ``N_``) and the app's name, in the
    language of each request (Dash calls it with the page's path and query variables, unused here)."""
    def title(**_variables: object) -> str:
        return f"{_(name)} · {_('Customer segments')}"
    return title


def page_state(query: Mapping[str, object]) -> dict[str, object]:
    """The cross-filter state carried by the URL (segment, embed, lang — a known language only)."""
    lang = query.get("lang")
    return {"segment": query.get("segment") or None, "embed": query.get("embed") or None,
            "lang": lang if lang in LANGUAGES else None}


def render(path: str, state: Mapping[str, object], body: Body) -> html.Div:
    """Build a page for the current snapshot version; friendly states for no data and store failures.

    The version is read once and stored in the page (``page-version``), so the page's callbacks read
    the same snapshot as its layout.
    """
    status = data.status()
    if status.version is None:
        content = empty_state() if status.unavailable_since is None else not_found(
            _("The data source is unavailable and this server holds no snapshot yet ({error}).").format(
                error=status.error))
        return page_frame(path, state, content, None, status.unavailable_since)
    label = None
    try:
        manifest = data.manifest(status.version)
        content = body(status.version, manifest)
        label = _segment_label(status.version, state.get("segment"))
    except AppError as exc:
        log.warning("page %s failed: %s", path, exc)
        manifest, content = None, not_found(_("This page cannot be shown right now: {error}").format(error=exc))
    return page_frame(path, state, html.Div([dcc.Store(id="page-version", data=status.version), content]),
                      manifest, status.unavailable_since, status.version, label)


def _segment_label(version: str, segment: object) -> str | None:
    """The selected segment's name in the current language (``label_fr``…), for the filter chip; None when
    no segment is selected, the page is in English or the scheme does not know it."""
    if not isinstance(segment, str) or not segment or current_language() == SOURCE_LANGUAGE:
        return None
    segments = data.table("segments", version)
    rows = segments[segments["segment"] == segment].to_dict("records")
    return localised({str(k): v for k, v in rows[0].items()}, "segment") if rows else None


StateBody = Callable[[str, Mapping, Mapping], ComponentType]  # (version, manifest, state) -> page body


def render_cached(path: str, state: Mapping[str, object], body: StateBody) -> html.Div:
    """:func:`render` for a page whose body depends only on the snapshot version and the URL state.

    The body is built once per (version, state) and reused: building plotly figures is most of a
    page's cost, and a snapshot never changes. It is cached by :func:`dashboard.data.by_version`, so a new
    version drops the old bodies; one body per language (the request's, even when the URL has no ``lang``).
    """
    name = f"{body.__module__}.{body.__qualname__}"
    _BODIES.setdefault(name, body)
    items = tuple(sorted(state.items(), key=lambda item: item[0]))
    lang = current_language()
    return render(path, state, lambda version, manifest: _cached_body(version, name, items, lang))


_BODIES: dict[str, StateBody] = {}  # body functions by qualified name: the cache key holds the name, not the function


@data.by_version
def _cached_body(version: str, body_name: str, state_items: tuple, lang: str) -> ComponentType:
    with use_language(lang):
        return _BODIES[body_name](version, data.manifest(version), dict(state_items))
