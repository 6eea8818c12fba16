"""Reusable pieces: pure functions that turn tables into components or figures."""

from collections.abc import Iterator
from typing import Any

import pandas as pd

__all__ = ["rows"]


def rows(frame: pd.DataFrame, index: bool = True) -> Iterator[Any]:
    """``frame.itertuples(index=index)``, each row typed ``Any``: a table's columns have different types, which
    the pandas stubs cannot express per attribute (they type every attribute as any scalar)."""
    return frame.itertuples(index=index)
