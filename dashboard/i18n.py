"""Interface language: gettext catalogues (Babel) and the language of the current request.

    from dashboard.i18n import _, ngettext, N_
    html.H2(_("Run history"))
    ngettext("%(num)d customer", "%(num)d customers", n) % {"num": n}
    NAME = N_("Operations")          # module level: marked for extraction, translated where shown: _(NAME)

Catalogues: ``dashboard/locale/<lang>/LC_MESSAGES/messages.po``, compiled in memory on first use
(``read_po`` + ``write_mo``; fuzzy entries are not used), so nothing binary is committed or built. English
is the source language: its messages are the msgids. ``make messages-check`` (run by ``make check``) fails
when a message of the code has no translation in a catalogue.

Language of a request, first found (:func:`resolve_language`, run before every request by :func:`init_app`):

1. ``?lang=xx`` in the URL — of the page, or for Dash callbacks the ``search`` of a ``dcc.Location`` input
   (the page-routing callback has one) or else the query of the page that made the call (``Referer``);
2. the ``lang`` cookie, set whenever a page is opened with ``?lang=xx`` (SameSite=Lax, a year);
3. the browser's ``Accept-Language``;
4. ``dashboard.language`` in the settings (default ``en``).

Outside a request (tests, scripts) the language is ``en`` unless :func:`use_language` says otherwise.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import flask
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy, NullTranslations, Translations
from flask import Flask, Response

from analytics.errors import ConfigError

__all__ = ["_", "ngettext", "N_", "lazy_gettext", "LANGUAGES", "SOURCE_LANGUAGE", "COOKIE", "current_language",
           "use_language", "resolve_language", "check_language", "init_app", "translations", "localised"]

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"
COOKIE = "lang"
COOKIE_MAX_AGE_S = 365 * 24 * 3600
LANGUAGES: tuple[str, ...] = (SOURCE_LANGUAGE, *sorted(
    path.parent.parent.name for path in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")))

_override: ContextVar[str | None] = ContextVar("dashboard_language", default=None)


def current_language() -> str:
    """The language of this request (``flask.g.lang``), or of :func:`use_language`, or ``en``."""
    override = _override.get()
    if override:
        return override
    if flask.has_request_context():
        return str(getattr(flask.g, "lang", None) or SOURCE_LANGUAGE)
    return SOURCE_LANGUAGE


@contextmanager
def use_language(lang: str) -> Iterator[None]:
    """Render in ``lang`` inside the block (tests, cached page bodies built for one language)."""
    token = _override.set(lang if lang in LANGUAGES else SOURCE_LANGUAGE)
    try:
        yield
    finally:
        _override.reset(token)


@lru_cache(maxsize=None)
def translations(lang: str) -> NullTranslations:
    """The compiled catalogue of ``lang`` (compiled from its .po in memory once per process)."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if lang == SOURCE_LANGUAGE or not path.exists():
        return NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def _(message: str) -> str:
    """``message`` in the current language (the English text when untranslated)."""
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` in the current language (format ``%(num)d`` yourself)."""
    return translations(current_language()).ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 — the gettext convention for "mark only"
    """Mark ``message`` for extraction without translating it (module-level names; translate with ``_``)."""
    return message


def lazy_gettext(message: str) -> LazyProxy:
    """A string translated each time it is used (module-level constants shown in requests)."""
    return LazyProxy(_, message, enable_cache=False)


def localised(row: Mapping[str, object], field: str) -> str:
    """``row[field + "_fr"]`` in French when present and not empty, else ``row[field]`` (scheme texts:
    ``label``, ``action``, ``tactic``, ``description``; the French segment name is ``label_fr``)."""
    lang = current_language()
    if lang != SOURCE_LANGUAGE:
        value = row.get(f"{field}_{lang}") if field != "segment" else row.get(f"label_{lang}")
        if isinstance(value, str) and value.strip():
            return value
    return str(row.get(field, ""))


def check_language(lang: str, where: str = "dashboard.language") -> str:
    """``lang`` if a catalogue exists for it, else a ConfigError naming the key and the choices."""
    if lang not in LANGUAGES:
        raise ConfigError(f"Invalid value {lang!r} for '{where}': use one of {list(LANGUAGES)}.")
    return lang


def resolve_language(request: flask.Request, default: str) -> tuple[str, bool]:
    """(language, explicit) for ``request``: explicit when it came from a ``lang`` in a URL."""
    for query in _queries(request):
        asked = query.get("lang", [""])[0]
        if asked in LANGUAGES:
            return asked, True
    cookie = request.cookies.get(COOKIE, "")
    if cookie in LANGUAGES:
        return cookie, False
    best = request.accept_languages.best_match(LANGUAGES)
    return (best, False) if best else (default, False)


def _queries(request: flask.Request) -> Iterator[dict[str, list[str]]]:
    """Where a ``lang`` may be written: the URL, a Dash callback's ``search`` input, the calling page's URL."""
    yield parse_qs(request.query_string.decode("latin-1"))
    if request.method != "POST" or not request.path.endswith("_dash-update-component"):
        return
    body = request.get_json(silent=True) or {}
    for item in _flat(body.get("inputs", [])) + _flat(body.get("state", [])):
        if isinstance(item, dict) and item.get("property") == "search" and isinstance(item.get("value"), str):
            yield parse_qs(item["value"].lstrip("?"))
    referrer = request.referrer or ""
    if referrer and urlsplit(referrer).netloc == request.host:
        yield parse_qs(urlsplit(referrer).query)


def _flat(items: object) -> list:
    if not isinstance(items, list):
        return []
    return [leaf for item in items for leaf in (item if isinstance(item, list) else [item])]


def init_app(server: Flask, default: str, cookie_path: str = "/") -> None:
    """Resolve the language before every request; remember a ``?lang=`` of a page in the cookie.

    Raises:
        ConfigError: ``default`` has no catalogue.
    """
    check_language(default)

    def choose() -> None:
        flask.g.lang, flask.g.lang_explicit = resolve_language(flask.request, default)

    def remember(response: Response) -> Response:
        asked = flask.request.args.get("lang")
        if asked in LANGUAGES and flask.request.method == "GET" and flask.request.cookies.get(COOKIE) != asked:
            response.set_cookie(COOKIE, asked, max_age=COOKIE_MAX_AGE_S, path=cookie_path, samesite="Lax",
                                secure=flask.request.is_secure, httponly=True)
        response.vary.add("Cookie")
        response.vary.add("Accept-Language")
        return response

    server.before_request(choose)
    server.after_request(remember)
