"""Intranet embedding in a real browser: the app under a sub-path, framed by an allowed intranet page,
refused by any other origin, CSP clean on every page; and behind a proxy that strips the prefix.

Servers: gunicorn as deployed (gunicorn.conf.py from the project root) serving the bundled snapshot, and
tiny http.server "intranet portals" on their own ports (other origins) hosting an <iframe>.
"""

from __future__ import annotations

import http.client
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from selenium.webdriver.common.action_chains import ActionChains

from bench.servers import free_port, serve
from tests.dashboard.browser.conftest import severe_logs

PREFIX = "/analytics/"
FIRST_CELL = '.ag-row[row-index="0"] .ag-cell[col-id="customer_id"]'
EMBEDDED = PREFIX + "actions?view=at-risk&embed=1"


@contextmanager
def served_app(env: dict[str, str], log_dir: Path) -> Iterator[tuple[str, Path]]:
    """gunicorn as deployed (the project's gunicorn.conf.py, 2 workers) on a free port, stdout and stderr
    in ``log_dir``; yields (origin, access log file). Ready when ``/healthz`` answers, in either prefix mode."""
    with serve(env, log_dir / "gunicorn.out", stderr_log=log_dir / "gunicorn.err", workers=2,
               ready_timeout_s=30) as server:
        yield server.url, server.log


@contextmanager
def http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A threaded http.server on a free port (another origin); yields its origin."""
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def portal(page: Callable[[], str]) -> type[BaseHTTPRequestHandler]:
    """An intranet page: ``/`` answers ``page()`` (HTML), anything else 404."""
    class Portal(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = page().encode() if self.path == "/" else b"not found"
            self.send_response(200 if self.path == "/" else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass
    return Portal


def iframe_page(src: str) -> str:
    return ("<!doctype html><html><head><title>Intranet portal</title></head><body>"
            "<h1 id='portal-title'>Sales portal</h1>"
            f"<iframe id='app-frame' src='{src}' width='1300' height='900' title='Customer segments'></iframe>"
            "</body></html>")


def stripping_proxy(upstream: str, prefix: str) -> type[BaseHTTPRequestHandler]:
    """A reverse proxy that serves ``prefix`` and forwards to ``upstream`` with the prefix stripped."""
    host, port = urlsplit(upstream).hostname, urlsplit(upstream).port
    hop_by_hop = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization"}

    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            if not self.path.startswith(prefix):
                self.send_error(404)
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in hop_by_hop | {"host"}}
            connection = http.client.HTTPConnection(host, port, timeout=30)
            connection.request(self.command, "/" + self.path[len(prefix):], body=body, headers=headers)
            reply = connection.getresponse()
            data = reply.read()
            self.send_response(reply.status)
            for key, value in reply.getheaders():
                if key.lower() not in hop_by_hop | {"content-length"}:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            connection.close()

        do_GET = do_POST = _forward  # noqa: N815

        def log_message(self, *args: object) -> None:
            pass
    return Proxy


@pytest.fixture(scope="module")
def portals() -> Iterator[dict[str, object]]:
    """Two intranet portals on two origins; each serves an iframe of whatever ``src`` is set later."""
    src: dict[str, str] = {"value": "about:blank"}
    with http_server(portal(lambda: iframe_page(src["value"]))) as allowed, \
            http_server(portal(lambda: iframe_page(src["value"]))) as other:
        yield {"allowed": allowed, "other": other, "src": src}


@pytest.fixture(scope="module")
def prefixed_app(published_store, portals, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """The app serving under /analytics/ itself, framable by 'self' and the allowed portal only."""
    env = {"STORE_URL": published_store, "DASH_URL_BASE_PATHNAME": PREFIX,
           "FRAME_ANCESTORS": f"'self' {portals['allowed']}"}
    with served_app(env, tmp_path_factory.mktemp("prefixed")) as (origin, log):
        portals["src"]["value"] = origin + EMBEDDED
        yield origin, log


def frame_location(dash_duo) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(dash_duo.driver.execute_script("return window.location.href"))
    return parts.path, parse_qs(parts.query)


def internal_hrefs(dash_duo) -> list[str]:
    """The raw href of every link on the page that points into the app (not external, not '#', not a download)."""
    hrefs = [a.get_dom_attribute("href") for a in dash_duo.find_elements("a[href]:not([download])")]
    return [h for h in hrefs if h and not h.startswith(("http:", "https:", "mailto:", "#"))]


def test_allowed_portal_frames_the_embedded_page_and_links_stay_embedded(dash_duo, prefixed_app, portals):
    origin, _ = prefixed_app
    dash_duo.driver.get(portals["allowed"] + "/")
    dash_duo.driver.switch_to.frame(dash_duo.find_element("#app-frame"))
    dash_duo.wait_for_text_to_equal(FIRST_CELL, "12590", timeout=30)  # the default risk ranking's first
    assert dash_duo.find_elements(".app-navbar") == []
    hrefs = internal_hrefs(dash_duo)
    assert hrefs and all(h.startswith(PREFIX) and "embed=1" in h for h in hrefs), hrefs

    dash_duo.find_element("#view-all").click()  # a link: same frame, still embedded, still under the prefix
    dash_duo.wait_for_text_to_equal("#list-count", "4,338 customers", timeout=20)  # every customer, new grid
    path, query = frame_location(dash_duo)
    assert (path, query.get("view"), query.get("embed")) == (PREFIX + "actions", ["all"], ["1"])

    dash_duo.wait_for_element(FIRST_CELL, timeout=20)
    cell = dash_duo.find_element(FIRST_CELL)  # a callback navigation (url.href) from a grid row
    customer = cell.text
    assert customer.isdigit(), customer
    ActionChains(dash_duo.driver).move_to_element(cell).click().perform()
    dash_duo.wait_for_text_to_equal("#client-title", customer, timeout=20)
    path, query = frame_location(dash_duo)
    assert (path, query.get("embed")) == (f"{PREFIX}client/{customer}", ["1"])
    assert dash_duo.find_elements(".app-navbar") == []
    hrefs = internal_hrefs(dash_duo)
    assert all(h.startswith(PREFIX) and "embed=1" in h for h in hrefs), [h for h in hrefs if "embed=1" not in h]

    dash_duo.driver.switch_to.default_content()
    assert dash_duo.driver.current_url == portals["allowed"] + "/"  # the portal itself never navigated
    assert dash_duo.find_element("#portal-title").text == "Sales portal"
    assert severe_logs(dash_duo) == []  # no CSP violation in the portal or the framed app


def test_other_origins_are_refused_by_frame_ancestors(dash_duo, prefixed_app, portals):
    origin, _ = prefixed_app
    dash_duo.driver.get(portals["other"] + "/")
    deadline = time.monotonic() + 15
    violations: list[dict] = []
    while not violations and time.monotonic() < deadline:
        violations = [e for e in dash_duo.get_logs() if "frame-ancestors" in e["message"]]
        time.sleep(0.3)
    assert violations, "expected a frame-ancestors violation in the console"
    assert portals["allowed"] in violations[0]["message"] and origin in violations[0]["message"]
    dash_duo.driver.switch_to.frame(dash_duo.find_element("#app-frame"))
    time.sleep(1)
    assert dash_duo.find_elements("#react-entry-point") == []  # the browser shows its error page instead
    dash_duo.driver.switch_to.default_content()


@pytest.mark.parametrize(("path", "ready"), [
    ("", "#pareto-graph .main-svg"),
    ("segments?segment=Champions", "#segment-radar .main-svg"),
    ("actions?view=at-risk", FIRST_CELL),
    ("client/12347", "#client-history-summary"),
    ("client", "#client-search-title"),
])
def test_main_pages_under_the_prefix_have_no_csp_violation(dash_duo, prefixed_app, path, ready):
    origin, _ = prefixed_app
    dash_duo.server_url = origin + PREFIX + path
    dash_duo.wait_for_element(ready, timeout=30)
    time.sleep(1)  # let late callbacks (charts, grid blocks) run under the policy too
    assert dash_duo.find_elements(".app-navbar")  # not embedded: the navbar is there
    hrefs = internal_hrefs(dash_duo)
    assert hrefs and all(h.startswith(PREFIX) for h in hrefs), hrefs
    assert severe_logs(dash_duo) == []  # CSP violations are SEVERE console entries


def test_behind_a_proxy_that_strips_the_prefix(dash_duo, published_store, tmp_path_factory):
    env = {"STORE_URL": published_store, "DASH_REQUESTS_PATHNAME_PREFIX": PREFIX}
    with served_app(env, tmp_path_factory.mktemp("proxied")) as (origin, _):
        with http_server(stripping_proxy(origin, PREFIX)) as proxy:
            assert urllib.request.urlopen(proxy + PREFIX + "healthz", timeout=5).status == 200
            dash_duo.server_url = proxy + PREFIX + "segments?segment=Champions"
            dash_duo.wait_for_element("#segment-radar .main-svg", timeout=30)
            hrefs = internal_hrefs(dash_duo)
            assert hrefs and all(h.startswith(PREFIX) for h in hrefs), hrefs
            dash_duo.find_element("#nav-actions").click()  # client-side navigation, then the page's callbacks
            dash_duo.wait_for_contains_text("#list-title", "— Champions", timeout=30)
            path, query = frame_location(dash_duo)
            assert (path, query.get("segment")) == (PREFIX + "actions", ["Champions"])
            dash_duo.find_element("#view-all").click()
            dash_duo.wait_for_element(FIRST_CELL, timeout=30)  # grid rows: callbacks through the proxy
            export = dash_duo.find_element("#export-csv").get_dom_attribute("href")  # the list's CSV, via the proxy
            assert export.startswith(PREFIX + "export/customers.csv?")
            with urllib.request.urlopen(proxy + export, timeout=30) as response:
                assert response.status == 200 and response.read().decode("utf-8-sig").startswith("customer_id,")
            assert severe_logs(dash_duo) == []


def test_access_log_is_structured_and_free_of_customer_ids(prefixed_app):
    origin, log = prefixed_app
    urllib.request.urlopen(origin + PREFIX + "client/12347?segment=Champions", timeout=5).read()
    deadline = time.monotonic() + 5
    while "client/<id>" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    lines = log.read_text().splitlines()
    requests = [line for line in lines if "logger=gunicorn.access" in line]
    assert requests and all(" msg=request method=" in line and " status=" in line for line in requests)
    assert f"path={PREFIX}client/<id> status=200" in log.read_text()
    assert "12347" not in log.read_text() and "17850" not in log.read_text()
