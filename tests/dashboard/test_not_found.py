"""Unknown paths (defect 6): the not-found page inside the app shell, with ways back."""

from __future__ import annotations

from tests.dashboard.components import by_id, find, page_module, text, walk


def test_not_found_page_has_the_navbar_and_ways_back(dash_app, in_request):
    page = page_module("/404").layout(segment="Loyal")
    assert text(by_id(page, "not-found-title")) == "Page not found"
    assert by_id(page, "not-found-home").href == "/?segment=Loyal"
    assert find(page, "nav-search") is not None  # the app's navbar, with its customer search
    hrefs = [c.href for c in walk(by_id(page, "not-found-page")) if type(c).__name__ == "Link"]
    assert hrefs[0] == "/?segment=Loyal" and all(h.endswith("?segment=Loyal") for h in hrefs)
    assert {"/segments?segment=Loyal", "/actions?segment=Loyal", "/client?segment=Loyal"} <= set(hrefs)


def test_not_found_page_embedded_has_no_navbar(dash_app, in_request):
    page = page_module("/404").layout(embed="1")
    assert find(page, "nav-search") is None and find(page, "not-found-home") is not None
