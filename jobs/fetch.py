"""The refresh input as a local file: a path as it is, or an http(s) URL downloaded to a temporary file.

A URL is fetched with ``requests`` (streamed, ``input.max_mb`` enforced while reading, redirects
followed, TLS verified), saved under the URL's file name so the reader picks the format from its
suffix (``.csv``, ``.csv.gz``, ``.parquet``, ``.xlsx``, …), then validated exactly like a local file.
Credentials belong in the URL's query string or a proxy, never in the config file; they are removed
from log lines and the snapshot meta (:func:`display_location`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from analytics.errors import InputDataError

__all__ = ["is_url", "local_input", "display_location"]

TIMEOUT_S = (10, 60)  # connect, then between two reads
_CHUNK = 1 << 20


def is_url(location: str) -> bool:
    """True for http:// and https:// locations."""
    return urlsplit(location).scheme.lower() in ("http", "https")


def display_location(location: str) -> str:
    """The location without user, password or query string (safe for logs and the snapshot meta)."""
    if not is_url(location):
        return location
    parts = urlsplit(location)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path}"


@contextmanager
def local_input(location: str, max_mb: float) -> Iterator[Path]:
    """A local path for ``location``; a downloaded URL is deleted when the block ends.

    Raises:
        InputDataError: the URL is unreachable, answers an HTTP error, is not a file name, or is
            larger than ``max_mb``.
    """
    if not is_url(location):
        yield Path(location)
        return
    with tempfile.TemporaryDirectory(prefix="refresh-input-") as tmp:
        yield _download(location, Path(tmp), max_mb)


def _download(url: str, folder: Path, max_mb: float) -> Path:
    import requests  # only when an input is a URL

    shown = display_location(url)
    name = PurePosixPath(unquote(urlsplit(url).path)).name
    if not name:
        raise InputDataError(f"Input URL {shown} does not end with a file name (e.g. …/transactions.csv); "
                             "the name's suffix tells the format.")
    target, limit = folder / name, max_mb * 1024 * 1024
    try:
        with requests.get(url, stream=True, timeout=TIMEOUT_S) as response:
            if response.status_code >= 400:
                raise InputDataError(f"Input URL {shown} answered HTTP {response.status_code} "
                                     f"{response.reason or ''}".rstrip() + ".")
            declared = int(response.headers.get("Content-Length") or 0)
            if declared > limit:
                raise InputDataError(_too_big(shown, declared, max_mb))
            size = 0
            with target.open("wb") as out:
                for chunk in response.iter_content(_CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise InputDataError(_too_big(shown, size, max_mb, at_least=True))
                    out.write(chunk)
    except requests.RequestException as exc:
        raise InputDataError(f"Cannot download input URL {shown}: {type(exc).__name__}: "
                             f"{_reason(exc)}.") from exc
    return target


def _too_big(shown: str, size: int, max_mb: float, at_least: bool = False) -> str:
    return (f"Input URL {shown} is {'more than ' if at_least else ''}{size / 1024 / 1024:,.1f} MB, above the "
            f"{max_mb:g} MB limit (input.max_mb / INPUT_MAX_MB).")


def _reason(exc: Exception) -> str:
    text = str(exc.__context__ or exc) or type(exc).__name__
    return text.split("(Caused by")[0].strip().rstrip(":")[:300]
