"""/healthz and /readyz: on the session app, a bare Flask app under a routes prefix, an empty store served by
gunicorn, and a Redis store served by gunicorn while its redis-server is stopped and restarted."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import replace

import pandas as pd
from flask import Flask

from analytics.settings import load_settings
from dashboard import data
from dashboard.health import register_health
from jobs.refresh import run
from tests.dashboard.conftest import gunicorn


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _until(url: str, code: int, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        status, body = _get(url)
        if status == code:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} answered {status} {body}, expected {code}")
        time.sleep(0.2)


def test_healthz_answers_without_the_store(dash_app, monkeypatch):
    def no_store():
        raise AssertionError("/healthz must not touch the store")

    monkeypatch.setattr(data, "store", no_store)
    response = dash_app.server.test_client().get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_reports_the_published_snapshot(dash_app, in_request):
    response = dash_app.server.test_client().get("/readyz")
    body = response.get_json()
    assert response.status_code == 200 and body["status"] == "ready"
    assert body["version"] == data.current_version()
    assert body["published_at"] == data.manifest(body["version"])["created_at"]
    age = (pd.Timestamp.now(tz="UTC") - pd.Timestamp(body["published_at"])).total_seconds()
    assert isinstance(body["age_s"], int) and abs(body["age_s"] - age) <= 2
    assert body["period"] == {"start": "2010-12-01T08:26:00", "end": "2011-12-09T12:50:00"}


def test_routes_follow_the_routes_prefix(dash_app):
    server = Flask("health-under-prefix")
    register_health(server, "/seg/")
    client = server.test_client()
    assert client.get("/seg/healthz").status_code == 200 and client.get("/healthz").status_code == 200
    assert client.get("/seg/readyz").get_json()["status"] == "ready"
    # the app registers them under Dash's own routes prefix, the one the security layer exempts
    app_client = dash_app.server.test_client()
    assert app_client.get(dash_app.config.routes_pathname_prefix + "healthz").status_code == 200


def test_readyz_is_503_on_an_empty_store(empty_server):
    assert _get(empty_server + "/healthz") == (200, {"status": "ok"})
    status, body = _get(empty_server + "/readyz")
    assert status == 503 and body == {"status": "not_ready", "reason": "no snapshot published yet"}


def test_readyz_is_503_while_redis_is_down(redis_url, redis_server, small_input):
    settings = load_settings({})
    version = run(replace(settings, store=replace(settings.store, url=redis_url),
                          input=replace(settings.input, path=str(small_input))))
    with gunicorn({"STORE_URL": redis_url}, workers=1) as url:
        status, body = _get(url + "/readyz")
        assert status == 200 and body["version"] == version and body["status"] == "ready"
        try:
            redis_server.stop()
            started = time.monotonic()
            status, body = _get(url + "/readyz")
            assert status == 503 and body["status"] == "unavailable"
            assert body["reason"].startswith("store unreachable: Redis at 127.0.0.1:")
            assert time.monotonic() - started < 3  # a dead Redis is reported at once
            assert _get(url + "/healthz") == (200, {"status": "ok"})  # liveness does not depend on Redis
        finally:
            redis_server.start()
        # The restarted server has no persistence: it is empty, so nothing is published any more.
        assert _until(url + "/readyz", 503)["reason"] == "no snapshot published yet"
