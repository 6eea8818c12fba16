"""Shared fixtures: a handmade transaction frame with hand-computed answers, the bundled real data (whole, or
its first lines as a small input file), and a private redis-server (tests/redis_fixture.py).

Every collected test gets its markers here (see ``pytest_collection_modifyitems``), so a new test is marked
by where it lives and which fixtures it uses, without a decorator.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings as hypothesis_settings

from analytics.settings import PROJECT_ROOT, InputParams

pytest_plugins = ["tests.redis_fixture"]

# Timing belongs in bench/, not in tests: no per-example deadline (a loaded CI machine would fail them at random).
hypothesis_settings.register_profile("project", deadline=None)
hypothesis_settings.load_profile("project")

TESTS = Path(__file__).resolve().parent
# Fixtures that decide a test's kind (transitively: a fixture using one of these counts too).
BROWSER_FIXTURES = {"dash_duo"}
REDIS_FIXTURES = {"redis_server", "redis_url", "redis_server_factory"}
SERVER_FIXTURES = {"live_server", "empty_server", "scheduler_process"}
SLOW_FIXTURES = {"published_store", "bundled_lines", "dash_app"}  # a refresh of, or a read of, the whole file
KINDS = ("browser", "server", "redis")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test: browser (dash_duo, tests/dashboard/browser), server (gunicorn or other real processes,
    tests/faults), redis (the private redis-server fixtures), slow (the whole bundled file); unit otherwise.

    Markers set by hand (``@pytest.mark.redis``, or ``pytest.param(..., marks=...)``) are kept."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        parts = Path(str(item.path)).resolve().relative_to(TESTS).parts
        if names & BROWSER_FIXTURES or parts[:2] == ("dashboard", "browser"):
            item.add_marker(pytest.mark.browser)
        if names & SERVER_FIXTURES or parts[:1] == ("faults",):
            item.add_marker(pytest.mark.server)
        if names & REDIS_FIXTURES:
            item.add_marker(pytest.mark.redis)
        if names & SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)
        if not any(item.get_closest_marker(kind) for kind in (*KINDS, "slow")):
            item.add_marker(pytest.mark.unit)


@pytest.fixture(autouse=True)
def _unbind_job_logging():
    """The CLIs under test point the root logger at the test's captured stderr (analytics.logs.configure_logging);
    drop that handler afterwards so a later test never writes to a closed stream."""
    yield
    from analytics.logs import JsonFormatter, LogfmtFormatter
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler.formatter, (JsonFormatter, LogfmtFormatter)):
            root.removeHandler(handler)

BUNDLED = PROJECT_ROOT / "data" / "online_retail.parquet"

# 14 lines; answers worked out by hand in tests/analytics (see the comments there).
_LINES = [
    # invoice, stock_code, description, quantity, invoice_date, unit_price, customer_id, country
    ("1", "X", "MUG", 2, "2024-01-01 10:00", 5.0, "A", "France"),
    ("1", "Y", "TEAPOT", 1, "2024-01-01 10:00", 10.0, "A", "France"),
    ("2", "X", "MUG", 1, "2024-01-10 09:00", 5.0, "A", "France"),
    ("3", "X", "MUG", 1, "2024-01-05 12:00", 5.0, "B", "Spain"),
    ("3", "Y", "TEAPOT", 1, "2024-01-05 12:00", 10.0, "B", "Spain"),
    ("4", "Y", "TEAPOT", 3, "2024-01-02 08:00", 10.0, "C", "Spain"),
    ("C5", "X", "MUG", -1, "2024-01-06 08:00", 5.0, "A", "France"),
    ("6", "Z", "SPOON", 0, "2024-01-06 09:00", 5.0, "D", "Spain"),
    ("7", "X", "MUG", 1, "2024-01-03 11:00", 5.0, None, "Spain"),
    ("7", "Y", "TEAPOT", 1, "2024-01-03 11:00", 10.0, None, "Spain"),
    ("8", "POST", "POSTAGE", 1, "2024-01-08 15:00", 18.0, "E", "Italy"),
    ("8", "Z", "SPOON", 1, "2024-01-08 15:00", 0.0, "E", "Italy"),
    ("8", "Z", "SPOON", 2, "2024-01-08 15:00", 3.0, "E", "Italy"),
    ("8", "Z", "SPOON", 2, "2024-01-08 15:00", 3.0, "E", "Italy"),
]


def handmade_lines() -> pd.DataFrame:
    """The 14 canonical transaction lines above."""
    frame = pd.DataFrame(_LINES, columns=["invoice", "stock_code", "description", "quantity", "invoice_date",
                                          "unit_price", "customer_id", "country"])
    return frame.astype({"quantity": "int64", "unit_price": "float64", "invoice_date": "datetime64[ns]"})


@pytest.fixture
def lines() -> pd.DataFrame:
    """Handmade canonical transaction lines."""
    return handmade_lines()


@pytest.fixture(scope="session")
def bundled_lines() -> pd.DataFrame:
    """The bundled UCI Online Retail file, loaded by the real loader."""
    from analytics.load import read_transactions

    return read_transactions(BUNDLED, InputParams(path=str(BUNDLED)))


@pytest.fixture(scope="session")
def bundled_head(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], Path]:
    """``bundled_head(n)``: a Parquet file of the first ``n`` lines of the bundled data (one file per n)."""
    files: dict[int, Path] = {}

    def head(lines: int) -> Path:
        if lines not in files:
            path = tmp_path_factory.mktemp("input") / f"head-{lines}.parquet"
            pd.read_parquet(BUNDLED).head(lines).to_parquet(path)
            files[lines] = path
        return files[lines]

    return head


@pytest.fixture(scope="session")
def small_input(bundled_head: Callable[[int], Path]) -> Path:
    """The first 3,000 lines of the bundled data: a refresh of it takes well under a second.
    (tests/faults/conftest.py overrides it with 60,000 lines.)"""
    return bundled_head(3_000)


@pytest.fixture(scope="session")
def bundled_path() -> Path:
    """Path of the bundled demo data."""
    return BUNDLED


@pytest.fixture(scope="session")
def published_store(tmp_path_factory) -> str:
    """A file store holding one snapshot of the bundled data, published by the real refresh job."""
    from dataclasses import replace

    from analytics.settings import load_settings
    from jobs.refresh import run

    url = "file://" + str(tmp_path_factory.mktemp("store"))
    settings = load_settings({})
    run(replace(settings, store=replace(settings.store, url=url)))
    return url
