"""The refresh input as an http(s) URL: served by a real local HTTP server, validated like a file."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from analytics.errors import InputDataError
from analytics.settings import PROJECT_ROOT, StoreParams
from analytics.snapshot import parse_manifest, verify_table
from jobs.fetch import display_location, is_url, local_input
from jobs.refresh import main as refresh_main
from jobs.store import open_store


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """(base URL, folder) of a real HTTP server on a free port serving the folder."""
    folder = tmp_path_factory.mktemp("served")
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", folder
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def cut(served) -> str:
    """URL of the first 20,000 lines of the bundled data, as CSV."""
    base, folder = served
    frame = pd.read_parquet(PROJECT_ROOT / "data" / "online_retail.parquet").head(20_000)
    frame.to_csv(folder / "cut.csv", index=False)
    return f"{base}/cut.csv"


def test_refresh_from_a_url_publishes_the_same_snapshot_as_the_file(cut, served, tmp_path, capsys):
    _, folder = served
    by_url, by_file = "file://" + str(tmp_path / "a"), "file://" + str(tmp_path / "b")
    assert refresh_main(["--store", by_url, "--input", cut + "?token=s3cret"]) == 0
    assert refresh_main(["--store", by_file, "--input", str(folder / "cut.csv")]) == 0
    printed = capsys.readouterr()
    assert "stage=load" in printed.out + printed.err and "s3cret" not in printed.out + printed.err
    tables = []
    for url in (by_url, by_file):
        store = open_store(StoreParams(url=url))
        manifest = parse_manifest(store.read_manifest(store.current_version()))
        tables.append(verify_table(manifest, "customers", store.read_table(manifest["version"], "customers")))
    pd.testing.assert_frame_equal(tables[0], tables[1])
    store = open_store(StoreParams(url=by_url))
    manifest = parse_manifest(store.read_manifest(store.current_version()))
    assert manifest["source"]["path"] == cut  # no query string: it may hold a token
    assert manifest["source"]["sha256"] == parse_manifest(open_store(StoreParams(url=by_file)).read_manifest(
        open_store(StoreParams(url=by_file)).current_version()))["source"]["sha256"]
    assert store.runs()[0]["input"] == cut


@pytest.mark.parametrize("path, fragment", [("missing.csv", "HTTP 404"), ("", "file name")])
def test_bad_url_is_one_clear_error_and_store_untouched(served, cut, tmp_path, capsys, path, fragment):
    base, _ = served
    store_url = "file://" + str(tmp_path / "store")
    assert refresh_main(["--store", store_url, "--input", cut]) == 0
    store = open_store(StoreParams(url=store_url))
    before = (store.current_version(), store.versions())
    capsys.readouterr()
    status = refresh_main(["--store", store_url, "--input", f"{base}/{path}"])
    err = capsys.readouterr().err
    assert status == 2 and fragment in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if line.startswith("error:")]) == 1
    assert (store.current_version(), store.versions()) == before


def test_unreachable_server_is_a_clear_error(tmp_path):
    with pytest.raises(InputDataError, match=r"Cannot download input URL http://127\.0\.0\.1:9/x\.csv"):
        with local_input("http://user:pw@127.0.0.1:9/x.csv", max_mb=1):
            pass


def test_download_above_the_size_limit_is_refused(cut):
    with pytest.raises(InputDataError, match=r"cut\.csv is .*MB, above the 0\.1 MB limit"):
        with local_input(cut, max_mb=0.1):
            pass


def test_downloaded_file_is_removed_after_use(cut):
    with local_input(cut, max_mb=100) as path:
        assert path.name == "cut.csv" and path.stat().st_size > 1_000_000
    assert not path.exists()


def test_local_paths_pass_through_and_locations_are_shown_without_secrets(tmp_path):
    with local_input(str(tmp_path / "x.csv"), max_mb=1) as path:
        assert path == tmp_path / "x.csv"
    assert not is_url("/data/x.csv") and not is_url("file:///data/x.csv") and is_url("HTTPS://h/x.csv")
    assert display_location("https://u:pw@files.example.com:8443/exports/x.csv?sig=abc") == \
        "https://files.example.com:8443/exports/x.csv"
    assert display_location("/data/x.csv") == "/data/x.csv"
