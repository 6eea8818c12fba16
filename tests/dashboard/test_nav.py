"""The navbar is built from Dash's page registry: pages registered with nav=True, by their order."""

from __future__ import annotations

from collections import OrderedDict

import dash

from dashboard.components import shell


def test_nav_pages_come_from_the_registry_in_order(monkeypatch):
    registry = OrderedDict((module, page) for module, page in [
        ("pages.ops", {"name": "Operations", "path": "/ops", "order": 90}),  # not in the navbar
        ("pages.actions", {"name": "Actions", "path": "/actions", "order": 2, "nav": True}),
        ("pages.home", {"name": "Executive summary", "path": "/", "order": 0, "nav": True}),
        ("pages.client", {"name": "Client 360", "path": "/client", "order": 3, "nav": True}),
        ("pages.segments", {"name": "Segments", "path": "/segments", "order": 1, "nav": True}),
    ])
    monkeypatch.setattr(dash, "page_registry", registry)
    assert shell.nav_pages() == [("Executive summary", "/"), ("Segments", "/segments"), ("Actions", "/actions"),
                                 ("Client 360", "/client")]
