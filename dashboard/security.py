"""HTTP security of the web app: response headers (CSP, framing), access control and no debug output.

    apply_security(app, settings)     # in create_app, after data.init_app

Headers, on every response (pages, assets, component suites, callbacks, errors):

- ``Content-Security-Policy``: scripts from the app only plus the SHA-256 hashes of the inline scripts
  Dash writes into its index page (``app.csp_hashes()``: the renderer and any clientside callback),
  no ``unsafe-eval``, no inline scripts; styles need ``'unsafe-inline'`` (Dash components and plotly
  set ``style`` attributes); ``frame-ancestors`` from ``FRAME_ANCESTORS`` (default ``'self'``).
- ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: strict-origin-when-cross-origin``.

Access control, from the environment (nothing configured: open, for a trusted network or ``make demo``):

- ``BASIC_AUTH_USER`` + ``BASIC_AUTH_PASSWORD``: HTTP Basic auth (use it over TLS only).
- ``TRUSTED_USER_HEADER`` (e.g. ``X-Forwarded-User``): the user name an SSO reverse proxy adds; a request
  without it gets 401. Only safe when every request goes through that proxy and the proxy removes the
  header from what clients send — otherwise anyone can type the header.
- Both set: either one lets a request in. Only one of the Basic auth pair set: startup fails (ConfigError)
  rather than serving an app the operator believes is protected.

When access control is on, every path needs it (pages, ``/_dash-*`` endpoints, assets, component
suites, unknown paths) except the orchestrator's health checks ``/healthz`` and ``/readyz``.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import dash
import flask
from flask import Flask, Response

from analytics.errors import ConfigError
from analytics.settings import Settings, WebParams

__all__ = ["apply_security", "check_web_settings", "content_security_policy", "SecurityConfig", "EXTENSION",
           "HEALTH_PATHS"]

EXTENSION = "dashboard.security"  # key of the SecurityConfig in app.server.extensions
HEALTH_PATHS = ("healthz", "readyz")  # open even when access control is on (orchestrator probes)
REALM = "Customer segments"


@dataclass
class SecurityConfig:
    """What the request hooks read on every request (kept on the Flask app, so tests can swap it)."""

    web: WebParams
    script_hashes: Callable[[], Sequence[str]]  # app.csp_hashes, called once on the first response
    _policy: str | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def policy(self) -> str:
        """The Content-Security-Policy header value, computed on first use."""
        if self._policy is None:
            with self._lock:
                if self._policy is None:
                    self._policy = content_security_policy(self.script_hashes(), self.web.frame_ancestors)
        return self._policy

    @property
    def auth_enabled(self) -> bool:
        """Whether any access control is configured."""
        return self.basic_enabled or bool(self.web.trusted_user_header)

    @property
    def basic_enabled(self) -> bool:
        """Whether HTTP Basic auth is configured (user and password)."""
        return bool(self.web.basic_auth_user and self.web.basic_auth_password)


def content_security_policy(script_hashes: Sequence[str], frame_ancestors: tuple[str, ...] | list[str]) -> str:
    """The CSP header value: everything from 'self', hashed inline scripts, inline styles allowed."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],  # Dash/plotly/dbc set inline styles; 11 violations without
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": list(frame_ancestors) or ["'self'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def check_web_settings(web: WebParams) -> None:
    """Refuse settings that would not protect the app as the operator intends.

    Raises:
        ConfigError: only one of BASIC_AUTH_USER / BASIC_AUTH_PASSWORD is set; a FRAME_ANCESTORS entry
            that is not a single CSP source (``;`` would start another directive, e.g. ``script-src *``).
    """
    if bool(web.basic_auth_user) != bool(web.basic_auth_password):
        raise ConfigError("Set both BASIC_AUTH_USER and BASIC_AUTH_PASSWORD (or neither): only one is set, "
                          "so the dashboard would not be protected as intended.")
    for source in web.frame_ancestors:
        if not source or any(ch in source for ch in ";,\"") or any(ch.isspace() or ord(ch) < 32 for ch in source):
            raise ConfigError(f"Invalid FRAME_ANCESTORS source {source!r}: use origins such as "
                              "https://intranet.example.com or 'self', separated by spaces.")


def apply_security(app: dash.Dash, settings: Settings) -> None:
    """Add the security headers and the configured access control to every request of ``app``.

    The CSP hashes are computed lazily on the first response, i.e. after ``create_app`` has registered
    every page and callback (Dash's own CSP test calls ``csp_hashes()`` once the app is fully defined).
    """
    check_web_settings(settings.web)
    server: Flask = app.server
    server.debug = False  # no Werkzeug debugger, no tracebacks in responses; Dash dev tools are never enabled
    server.extensions[EXTENSION] = SecurityConfig(web=settings.web, script_hashes=app.csp_hashes)
    prefix = app.config.routes_pathname_prefix
    open_paths = frozenset(f"/{name}" for name in HEALTH_PATHS) | {f"{prefix}{name}" for name in HEALTH_PATHS}

    def require_auth() -> Response | None:
        config: SecurityConfig = server.extensions[EXTENSION]
        if not config.auth_enabled or flask.request.path in open_paths:
            return None
        if _authorized(flask.request, config):
            return None
        return _unauthorized(config)

    def add_headers(response: Response) -> Response:
        config: SecurityConfig = server.extensions[EXTENSION]
        response.headers["Content-Security-Policy"] = config.policy()
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        # No X-Frame-Options: it can only say DENY or SAMEORIGIN (ALLOW-FROM is obsolete), which would
        # forbid the intranet portals listed in FRAME_ANCESTORS. CSP frame-ancestors governs framing
        # (browsers ignore X-Frame-Options when frame-ancestors is present anyway).
        response.headers.pop("X-Frame-Options", None)
        return response

    # Registered after Dash's own before_request hooks on purpose: on the very first request (even an
    # unauthenticated one) Dash registers the pages' clientside title callback, an inline script whose
    # hash the CSP (computed on the first response) must include. Those hooks serve nothing themselves.
    server.before_request(require_auth)
    server.after_request(add_headers)


def _authorized(request: flask.Request, config: SecurityConfig) -> bool:
    web = config.web
    if web.trusted_user_header and request.headers.get(web.trusted_user_header, "").strip():
        return True
    user, password = web.basic_auth_user, web.basic_auth_password
    if config.basic_enabled and user is not None and password is not None:
        auth = request.authorization
        if auth is not None and auth.type == "basic":
            # Compare both fields in constant time, always both (no early exit on a wrong user name).
            user_ok = hmac.compare_digest((auth.username or "").encode(), user.encode())
            password_ok = hmac.compare_digest((auth.password or "").encode(), password.encode())
            return user_ok and password_ok
    return False


def _unauthorized(config: SecurityConfig) -> Response:
    response = Response("Authentication required.\n", status=401, mimetype="text/plain")
    if config.basic_enabled:
        response.headers["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
    return response
