"""Segment names as shown: the scheme's name in English, its ``label_fr`` in French (:func:`dashboard.i18n.localised`).

Filters and URLs keep the English segment id; only the text shown changes.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from dashboard.i18n import localised

__all__ = ["segment_names", "segment_name", "scheme_row"]


def segment_names(segments: pd.DataFrame) -> dict[str, str]:
    """Segment id → its name in the current language, from a ``segments`` table (only its name columns read:
    the table's figures make ``to_dict`` ten times slower, and every page asks this)."""
    names = segments[[c for c in segments.columns if c == "segment" or str(c).startswith("label_")]]
    return {str(row["segment"]): localised(scheme_row(row), "segment") for row in names.to_dict("records")}


def scheme_row(row: pd.Series | Mapping) -> dict[str, object]:
    """A ``segments`` row as the mapping :func:`dashboard.i18n.localised` reads."""
    return {str(key): value for key, value in row.items()}


def segment_name(names: Mapping[str, str], segment: object) -> str:
    """The shown name of ``segment`` (the id itself when the table does not know it)."""
    return names.get(str(segment), str(segment))
