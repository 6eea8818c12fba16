"""Health endpoints for load balancers and orchestrators: ``/healthz`` (liveness) and ``/readyz`` (readiness).

Plain Flask routes on the Dash server, outside the pages and callbacks:

* ``/healthz`` — the process answers: 200 ``{"status": "ok"}``. It never touches the store, so a Redis
  outage does not get healthy workers restarted.
* ``/readyz`` — the store answers and a snapshot is published: 200 ``{"status": "ready", "version",
  "published_at", "age_s", "period"}``; 503 ``{"status": "unavailable" | "not_ready", "reason"}`` otherwise.

They are mounted at the root of the Flask app (``/healthz``: what probes hitting the pod directly use)
and, when the app has its own routes prefix (``DASH_URL_BASE_PATHNAME=/seg/``), under it too
(``/seg/healthz``). Behind a proxy that strips ``DASH_REQUESTS_PATHNAME_PREFIX``, the public
``https://host/<prefix>/healthz`` arrives as ``/healthz``.
"""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Flask, Response, jsonify

from analytics.errors import AppError
from dashboard import data

__all__ = ["register_health"]


def register_health(server: Flask, routes_prefix: str = "/") -> None:
    """Add ``/healthz`` and ``/readyz``, and ``<prefix>healthz``, ``<prefix>readyz`` under Dash's routes
    prefix (``app.config.routes_pathname_prefix``: ``/`` when a proxy strips the requests prefix)."""
    prefixes = dict.fromkeys(["/", routes_prefix])
    for number, prefix in enumerate(prefixes):
        server.add_url_rule(f"{prefix}healthz", endpoint=f"healthz_{number}", view_func=healthz)
        server.add_url_rule(f"{prefix}readyz", endpoint=f"readyz_{number}", view_func=readyz)


def healthz() -> Response:
    """Liveness: the process is up (no store access)."""
    return _reply(200, status="ok")


def readyz() -> Response:
    """Readiness: store reachable and a snapshot published (its version, age and data period)."""
    try:
        data.store().ping()
    except AppError as exc:
        return _reply(503, status="unavailable", reason=f"store unreachable: {exc}")
    status = data.status()
    if status.version is None:
        reason = f"no readable snapshot: {status.error}" if status.error else "no snapshot published yet"
        return _reply(503, status="not_ready", reason=reason)
    try:
        manifest = data.manifest(status.version)
    except AppError as exc:
        return _reply(503, status="not_ready", reason=f"snapshot {status.version} unreadable: {exc}")
    return _reply(200, status="ready", version=status.version, published_at=manifest.get("created_at"),
                  age_s=_age_s(manifest.get("created_at")), period=manifest.get("period"))


def _age_s(created_at: object) -> int | None:
    try:
        created = datetime.fromisoformat(str(created_at))
    except ValueError:
        return None
    if created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    return max(0, round((datetime.now(timezone.utc) - created).total_seconds()))


def _reply(code: int, **body: object) -> Response:
    response = jsonify(body)
    response.status_code = code
    response.headers["Cache-Control"] = "no-store"
    return response
