"""Fault tests: a larger small input, so a refresh lasts long enough to be killed at any stage."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def small_input(bundled_head: Callable[[int], Path]) -> Path:
    """The first 60,000 lines of the bundled data: a refresh of it takes about a second."""
    return bundled_head(60_000)
