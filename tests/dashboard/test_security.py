"""HTTP security of the real app (Flask test client): headers, CSP, access control, 413, generic 500,
and the gunicorn settings file."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import runpy
import subprocess
import sys

import pytest
from dash import Input, Output

from analytics.errors import ConfigError
from analytics.settings import PROJECT_ROOT, load_settings
from dashboard.security import EXTENSION, SecurityConfig, check_web_settings, content_security_policy

FIXED_DIRECTIVES = ("default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
                    "form-action 'self'")
CALLBACK = {  # the shell's remember_filters callback, as the browser posts it
    "output": "filters.data", "outputs": {"id": "filters", "property": "data"},
    "inputs": [{"id": "url", "property": "search", "value": "?segment=Champions"}],
    "changedPropIds": ["url.search"], "state": [{"id": "filters", "property": "data", "value": None}],
}
PAGES = ["/", "/segments?segment=Champions", "/actions?view=at-risk", "/client/12347", "/client"]


@pytest.fixture
def client(dash_app):
    return dash_app.server.test_client()


@pytest.fixture
def secure_with(dash_app, monkeypatch):
    """Reconfigure the session app's security (the hooks read it per request) for one test."""
    def configure(**env: str) -> None:
        web = load_settings(env).web
        current: SecurityConfig = dash_app.server.extensions[EXTENSION]
        monkeypatch.setitem(dash_app.server.extensions, EXTENSION,
                            SecurityConfig(web=web, script_hashes=current.script_hashes))
    return configure


def _directives(header: str) -> dict[str, list[str]]:
    parts = (part.strip().split() for part in header.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


def _suite_url(index_html: str) -> str:
    return re.search(r'src="([^"]*_dash-component-suites/[^"]+)"', index_html).group(1)


def _assert_security_headers(response, frame_ancestors: list[str] | None = None) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    directives = _directives(csp)
    assert directives["frame-ancestors"] == (frame_ancestors or ["'self'"]), csp
    assert directives["script-src"][0] == "'self'"
    assert all(source.startswith("'sha256-") for source in directives["script-src"][1:]), csp
    assert "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "X-Frame-Options" not in response.headers  # frame-ancestors governs framing


# --- headers ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", PAGES)
def test_pages_carry_the_security_headers(client, path):
    response = client.get(path)
    assert response.status_code == 200
    _assert_security_headers(response)


def test_assets_suites_dash_endpoints_callbacks_and_errors_carry_the_headers(client):
    index = client.get("/").get_data(as_text=True)
    responses = {
        "asset": client.get("/assets/app.css"),
        "component suite": client.get(_suite_url(index)),
        "layout": client.get("/_dash-layout"),
        "dependencies": client.get("/_dash-dependencies"),
        "callback": client.post("/_dash-update-component", json=CALLBACK),
        "missing asset": client.get("/assets/no-such-file.css"),
    }
    assert {name: r.status_code for name, r in responses.items()} == {
        "asset": 200, "component suite": 200, "layout": 200, "dependencies": 200, "callback": 200,
        "missing asset": 404}
    assert responses["callback"].get_json()["response"]["filters"]["data"] == {"segment": "Champions", "embed": None,
                                                                                  "lang": None}
    for response in responses.values():
        _assert_security_headers(response)


def test_csp_is_exactly_the_documented_policy(client):
    csp = client.get("/").headers["Content-Security-Policy"]
    assert re.sub(r"script-src [^;]+; ", "", csp) == FIXED_DIRECTIVES + "; frame-ancestors 'self'"
    assert "'unsafe-inline'" not in _directives(csp)["script-src"]


def test_csp_hashes_cover_every_inline_script_of_the_index_page(client):
    response = client.get("/")
    html = re.sub(r"<!--.*?-->", "", response.get_data(as_text=True), flags=re.S)  # e.g. Dash's IE-only alert
    inline = [body for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
              if "src=" not in attrs and "application/json" not in attrs]
    assert len(inline) >= 2  # the renderer and the pages' document-title clientside callback
    allowed = set(_directives(response.headers["Content-Security-Policy"])["script-src"][1:])
    for body in inline:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in allowed, body[:80]


def test_frame_ancestors_come_from_the_settings(client, secure_with):
    secure_with(FRAME_ANCESTORS="'self' https://intranet.example.com,https://portal.example.com")
    response = client.get("/actions?view=at-risk&embed=1")
    _assert_security_headers(response, ["'self'", "https://intranet.example.com", "https://portal.example.com"])


def test_content_security_policy_builder():
    assert content_security_policy(["'sha256-abc='"], ("https://a.example",)) == (
        "default-src 'self'; script-src 'self' 'sha256-abc='; " + FIXED_DIRECTIVES.split("; ", 1)[1]
        + "; frame-ancestors https://a.example")
    assert content_security_policy([], ()).endswith("frame-ancestors 'self'")


# --- access control -------------------------------------------------------------------------------------

def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def _protected_requests(client) -> dict[str, object]:
    """A request of every kind (page, customer page, asset, component suite, Dash endpoints, unknown path)."""
    suite = _suite_url(client.get("/").get_data(as_text=True))  # read while access is still open
    return {
        "page": lambda **kw: client.get("/", **kw),
        "customer page": lambda **kw: client.get("/client/12347", **kw),
        "asset": lambda **kw: client.get("/assets/app.css", **kw),
        "component suite": lambda **kw: client.get(suite, **kw),
        "layout": lambda **kw: client.get("/_dash-layout", **kw),
        "dependencies": lambda **kw: client.get("/_dash-dependencies", **kw),
        "callback": lambda **kw: client.post("/_dash-update-component", json=CALLBACK, **kw),
        "unknown path": lambda **kw: client.get("/whatever", **kw),
    }


def test_basic_auth_protects_every_path_but_health_checks(client, secure_with):
    requests = _protected_requests(client)
    secure_with(BASIC_AUTH_USER="analyst", BASIC_AUTH_PASSWORD="s3cret pass:word")
    for name, call in requests.items():
        for headers in ({}, _basic("analyst", "wrong"), _basic("someone", "s3cret pass:word"),
                        {"Authorization": "Bearer s3cret"}):
            response = call(headers=headers)
            assert response.status_code == 401, (name, headers)
            assert response.headers["WWW-Authenticate"] == 'Basic realm="Customer segments", charset="UTF-8"'
            assert b"12347" not in response.data and b"Champions" not in response.data
            _assert_security_headers(response)
        assert call(headers=_basic("analyst", "s3cret pass:word")).status_code == 200, name
    _assert_health_checks_open(client)


def test_trusted_proxy_header_protects_every_path_but_health_checks(client, secure_with):
    requests = _protected_requests(client)
    secure_with(TRUSTED_USER_HEADER="X-Forwarded-User")
    for name, call in requests.items():
        for headers in ({}, {"X-Forwarded-User": ""}, {"X-Forwarded-User": "  "}, {"X-Other-User": "alice"}):
            response = call(headers=headers)
            assert response.status_code == 401, (name, headers)
            assert "WWW-Authenticate" not in response.headers  # no browser prompt: sign-in is the proxy's job
        assert call(headers={"X-Forwarded-User": "alice@example.com"}).status_code == 200, name
    _assert_health_checks_open(client)


def test_with_both_configured_either_lets_a_request_in(client, secure_with):
    secure_with(BASIC_AUTH_USER="analyst", BASIC_AUTH_PASSWORD="pw", TRUSTED_USER_HEADER="X-Forwarded-User")
    assert client.get("/").status_code == 401
    assert client.get("/", headers=_basic("analyst", "pw")).status_code == 200
    assert client.get("/", headers={"X-Forwarded-User": "alice"}).status_code == 200


@pytest.mark.parametrize("env", [{"BASIC_AUTH_USER": "analyst"}, {"BASIC_AUTH_PASSWORD": "pw"}])
def test_half_configured_basic_auth_refuses_to_start(env):
    with pytest.raises(ConfigError, match="BASIC_AUTH_USER and BASIC_AUTH_PASSWORD"):
        check_web_settings(load_settings(env).web)
    check_web_settings(load_settings({}).web)  # neither: fine (open, e.g. make demo)


def test_frame_ancestors_cannot_smuggle_another_directive():
    with pytest.raises(ConfigError, match="FRAME_ANCESTORS"):
        check_web_settings(load_settings({"FRAME_ANCESTORS": "https://a.example; script-src *"}).web)
    with pytest.raises(ConfigError, match="FRAME_ANCESTORS"):
        check_web_settings(load_settings({"FRAME_ANCESTORS": "https://a.example\"onload"}).web)
    check_web_settings(load_settings({"FRAME_ANCESTORS": "'self' https://a.example http://10.0.0.7:8080"}).web)


def _assert_health_checks_open(client) -> None:
    rules = {rule.rule for rule in client.application.url_map.iter_rules()}
    for path in ("/healthz", "/readyz"):
        response = client.get(path)
        assert response.status_code != 401, path
        if path in rules:  # dashboard/health.py: 200, or 503 while the store is not ready
            assert response.status_code in (200, 503), path
            _assert_security_headers(response)


# --- errors and limits ----------------------------------------------------------------------------------

def test_oversized_body_gets_413(client, dash_app):
    limit = dash_app.server.config["MAX_CONTENT_LENGTH"]
    assert limit == 10 * 1024 * 1024  # web.max_upload_mb default
    body = b"{" + b" " * limit + b"}"
    response = client.post("/_dash-update-component", data=body, content_type="application/json")
    assert response.status_code == 413
    _assert_security_headers(response)
    assert client.post("/_dash-update-component", json=CALLBACK).status_code == 200  # a normal one still passes


def test_a_raising_callback_returns_a_generic_500_without_details(client, dash_app):
    if "test-boom-out.children" not in dash_app.callback_map:
        @dash_app.callback(Output("test-boom-out", "children"), Input("test-boom-in", "value"))
        def boom(value):
            raise RuntimeError(f"secret internal detail {value} at /srv/app/secret.py")
    body = {"output": "test-boom-out.children", "outputs": {"id": "test-boom-out", "property": "children"},
            "inputs": [{"id": "test-boom-in", "property": "value", "value": "x42"}],
            "changedPropIds": ["test-boom-in.value"], "state": []}
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    for leak in ("secret internal detail", "x42", "Traceback", "RuntimeError", "secret.py", "File \""):
        assert leak not in text
    assert "Internal Server Error" in text
    _assert_security_headers(response)


def test_debug_and_dev_tools_are_off(client, dash_app):
    assert dash_app.server.debug is False
    config = re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>',
                       client.get("/").get_data(as_text=True), flags=re.S).group(1)
    assert json.loads(config)["ui"] is False  # no dev-tools UI, no callback graph, no hot reload


def test_first_request_unauthenticated_still_yields_a_complete_csp(published_store):
    """A fresh process whose very first request is refused still hashes every inline script (the pages'
    title callback is registered by Dash during that first request), and importing the WSGI module opens
    no store connection (gunicorn preloads it in the master)."""
    code = r"""
import base64, hashlib, json, re
import dashboard.wsgi as wsgi
from dashboard import data
store_opened_at_import = data._state["store"] is not None
client = wsgi.server.test_client()
first = client.get("/")
auth = {"Authorization": "Basic " + base64.b64encode(b"u:p").decode()}
page = client.get("/", headers=auth)
html = re.sub(r"<!--.*?-->", "", page.get_data(as_text=True), flags=re.S)
inline = [b for a, b in re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
          if "src=" not in a and "application/json" not in a]
allowed = page.headers["Content-Security-Policy"]
missing = [b[:60] for b in inline
           if "'sha256-%s'" % base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() not in allowed]
print(json.dumps({"opened": store_opened_at_import, "first": first.status_code, "page": page.status_code,
                  "inline": len(inline), "missing": missing}))
"""
    env = {**os.environ, "STORE_URL": "redis://127.0.0.1:1/0", "BASIC_AUTH_USER": "u", "BASIC_AUTH_PASSWORD": "p"}
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"opened": False, "first": 401, "page": 200, "inline": result["inline"], "missing": []}
    assert result["inline"] >= 2


# --- gunicorn.conf.py -----------------------------------------------------------------------------------

GUNICORN_ENV = ("PORT", "WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_TIMEOUT", "FORWARDED_ALLOW_IPS",
                "GUNICORN_ACCESS_LOG", "LOG_FORMAT", "TRUSTED_USER_HEADER")


def _gunicorn_conf(monkeypatch, **env: str) -> dict:
    for name in GUNICORN_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))


def test_gunicorn_defaults(monkeypatch):
    conf = _gunicorn_conf(monkeypatch)
    assert conf["bind"] == ["0.0.0.0:8050"]
    assert (conf["workers"], conf["worker_class"], conf["threads"], conf["timeout"]) == (2, "gthread", 4, 30)
    assert conf["preload_app"] is True and conf["control_socket_disable"] is True
    assert conf["forwarded_allow_ips"] == "127.0.0.1,::1"
    assert conf["logconfig_dict"]["loggers"]["gunicorn.access"]["handlers"] == ["access"]


def test_gunicorn_settings_follow_the_environment(monkeypatch):
    conf = _gunicorn_conf(monkeypatch, PORT="9000", WEB_CONCURRENCY="5", GUNICORN_THREADS="8", GUNICORN_TIMEOUT="45",
                          FORWARDED_ALLOW_IPS="10.0.0.5", GUNICORN_ACCESS_LOG="off")
    assert conf["bind"] == ["0.0.0.0:9000"]
    assert (conf["workers"], conf["threads"], conf["timeout"]) == (5, 8, 45)
    assert conf["forwarded_allow_ips"] == "10.0.0.5"
    assert conf["logconfig_dict"]["loggers"]["gunicorn.access"]["handlers"] == ["null"]


@pytest.mark.parametrize("fmt", ["logfmt", "json"])
def test_access_log_lines_are_structured_without_customer_ids(monkeypatch, fmt):
    conf = _gunicorn_conf(monkeypatch, LOG_FORMAT=fmt, TRUSTED_USER_HEADER="X-Forwarded-User")
    atoms = {"m": "GET", "U": "/analytics/client/12347", "q": "segment=Champions&q=12347", "s": "200", "B": 5120,
             "M": 12, "h": "10.1.2.3", "u": "-", "{x-forwarded-user}i": "alice"}
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%(h)s %(r)s", (atoms,), None)
    assert conf["AccessFields"]().filter(record)
    formatter = conf["logconfig_dict"]["formatters"]["structured"]["()"]()
    line = formatter.format(record)
    assert "12347" not in line and "Champions" not in line
    fields = json.loads(line) if fmt == "json" else dict(part.split("=", 1) for part in line.split(" "))
    expected = {"logger": "gunicorn.access", "msg": "request", "method": "GET", "path": "/analytics/client/<id>",
                "status": 200, "bytes": 5120, "duration_ms": 12, "remote": "10.1.2.3", "user": "alice"}
    if fmt == "logfmt":
        expected = {key: str(value) for key, value in expected.items()}
    assert {key: fields[key] for key in expected} == expected


def test_log_handler_drops_lines_instead_of_blocking_on_a_full_pipe(monkeypatch):
    conf = _gunicorn_conf(monkeypatch)
    read_end, write_end = os.pipe()
    saved = os.dup(1)
    handler = None
    try:
        os.dup2(write_end, 1)  # stdout is now a pipe nobody reads
        handler = conf["PipeSafeHandler"]("stdout")
        handler.setFormatter(logging.Formatter("%(message)s"))
        record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "x" * 200, (), None)
        for _ in range(2000):  # ~400 KB: far more than a pipe holds; a blocking handler would hang here
            handler.emit(record)
        assert handler.dropped > 0
        os.set_blocking(read_end, False)
        kept = os.read(read_end, 1 << 20)
        assert kept and set(kept.split(b"\n")) == {b"x" * 200, b""}  # whole lines only, nothing torn
    finally:
        os.dup2(saved, 1)
        for fd in (saved, read_end, write_end):
            os.close(fd)
        if getattr(handler, "_fd", None) is not None:
            os.close(handler._fd)


def test_csp_covers_every_inline_script_when_first_requests_arrive_together(published_store):
    """A threaded worker's first requests race Dash's one-time setup; the CSP must still be complete."""
    from concurrent.futures import ThreadPoolExecutor

    import requests

    from tests.dashboard.conftest import gunicorn

    with gunicorn({"STORE_URL": published_store, "GUNICORN_THREADS": "8"}, workers=1) as url:
        with ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(lambda path: requests.get(url + path, timeout=30),
                                      ["/", "/actions", "/_dash-layout", "/segments"] * 2))
    pages = [r for r in responses if r.headers["Content-Type"].startswith("text/html")]
    assert pages and all(r.status_code == 200 for r in responses)
    for page in pages:
        html = re.sub(r"<!--.*?-->", "", page.text, flags=re.S)  # Dash's IE-only alert is a comment
        inline = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
        assert inline  # the renderer and the pages' title script
        policy = page.headers["Content-Security-Policy"]
        for script in inline:
            digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in policy
