"""Browser tests: dash_duo with Debian's chromium and chromedriver, headless (pytest --headless)."""

from __future__ import annotations

import shutil

from selenium.webdriver.chrome.options import Options


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


def severe_logs(dash_duo) -> list[dict]:
    """Browser console errors (SEVERE), ignoring the favicon request."""
    return [entry for entry in dash_duo.get_logs() if "favicon" not in entry.get("message", "")]
