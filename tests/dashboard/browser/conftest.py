"""Browser tests: dash_duo with Debian's chromium and chromedriver, headless (pytest --headless)."""

from __future__ import annotations

import csv
import io
import os
import shutil
import time
from dataclasses import replace

import pandas as pd
import pytest
from dash.testing.wait import until
from selenium.webdriver.chrome.options import Options

from analytics.errors import InputDataError
from analytics.settings import PROJECT_ROOT, load_settings
from jobs.refresh import run


def pytest_setup_options() -> Options:
    """Chromium flags for a root, offline, headless machine."""
    options = Options()
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary:
        options.binary_location = binary
    for flag in ("--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,1000"):
        options.add_argument(flag)
    return options


def downloaded_csv(dash_duo, prefix: str) -> list[dict]:
    """The rows of the CSV file whose name starts with ``prefix`` once the browser has saved it."""
    folder = dash_duo.download_path
    until(lambda: [f for f in os.listdir(folder) if f.startswith(prefix) and f.endswith(".csv")], timeout=15,
          msg=f"no {prefix}*.csv downloaded")
    name = [f for f in os.listdir(folder) if f.startswith(prefix) and f.endswith(".csv")][0]
    time.sleep(0.2)  # let the browser finish writing
    with open(os.path.join(folder, name), encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(io.StringIO(handle.read())))


def severe_logs(dash_duo) -> list[dict]:
    """Browser console errors (SEVERE), ignoring the favicon request."""
    return [entry for entry in dash_duo.get_logs() if "favicon" not in entry.get("message", "")]


@pytest.fixture(scope="module")
def ops_settings(tmp_path_factory):
    """A private file store with one published snapshot (3,000 lines) and one failed run."""
    root = tmp_path_factory.mktemp("ops")
    path = root / "small.parquet"
    pd.read_parquet(PROJECT_ROOT / "data" / "online_retail.parquet").head(3000).to_parquet(path)
    base = load_settings({})
    settings = replace(base, store=replace(base.store, url="file://" + str(root / "store")),
                       input=replace(base.input, path=str(path)))
    with pytest.raises(InputDataError):
        run(replace(settings, input=replace(settings.input, path=str(root / "missing.csv"))), trigger="schedule")
    run(settings, trigger="schedule")
    return settings
