"""Helpers of the dashboard unit tests: walk a Dash component tree, find components, read their text,
and get a registered page module."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import ModuleType

import dash
from dash.development.base_component import Component

__all__ = ["by_id", "find", "page_module", "text", "walk"]


def walk(tree: object) -> Iterator[Component]:
    """Every component of a tree (a component, or a list or tuple of them), depth first, parents first."""
    if isinstance(tree, (list, tuple)):
        for child in tree:
            yield from walk(child)
    elif isinstance(tree, Component):
        yield tree
        yield from walk(getattr(tree, "children", None))


def find(tree: object, component_id: str) -> Component | None:
    """The first component with ``component_id`` in a tree; None when there is none."""
    return next((c for c in walk(tree) if getattr(c, "id", None) == component_id), None)


def by_id(tree: object, component_id: str) -> Component:
    """The first component with ``component_id`` in a tree; fails the test when there is none."""
    found = find(tree, component_id)
    assert found is not None, f"no component with id {component_id!r}"
    return found


def text(tree: object, sep: str = "") -> str:
    """The strings and numbers of a tree, in document order, joined with ``sep`` (booleans render nothing)."""
    return sep.join(_leaves(tree))


def _leaves(tree: object) -> Iterator[str]:
    if tree is None or isinstance(tree, bool):
        return
    if isinstance(tree, (list, tuple)):
        for child in tree:
            yield from _leaves(child)
    elif isinstance(tree, (str, int, float)):
        yield str(tree)
    else:
        yield from _leaves(getattr(tree, "children", None))


def page_module(path: str) -> ModuleType:
    """The page module registered for ``path`` or path template (``dashboard.pages.<name>``)."""
    for page in dash.page_registry.values():
        if path in (page["path"], page["path_template"]):
            return importlib.import_module(page["module"])
    raise LookupError(f"no page registered for {path!r}")


def fetched(href: str) -> dict:
    """What the browser saves from an export link (dashboard/list_export.py), fetched from the app:
    ``{"filename", "content"}`` like a ``dcc.Download``'s data."""
    response = dash.get_app().server.test_client().get(href)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    filename = response.headers["Content-Disposition"].split('filename="', 1)[1].rstrip('"')
    return {"filename": filename, "content": response.get_data(as_text=True)}
