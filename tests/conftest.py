"""Shared fixtures: a handmade transaction frame with hand-computed answers, the bundled real data,
and a private redis-server (tests/redis_fixture.py)."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from analytics.settings import PROJECT_ROOT, InputParams

pytest_plugins = ["tests.redis_fixture"]


@pytest.fixture(autouse=True)
def _unbind_job_logging():
    """The CLIs under test point the root logger at the test's captured stderr (jobs.logs.configure_logging);
    drop that handler afterwards so a later test never writes to a closed stream."""
    yield
    from jobs.logs import JsonFormatter, LogfmtFormatter
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
