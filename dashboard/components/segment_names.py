"""Segment names as shown: the scheme's name in English, its ``label_fr`` in French (:func:`dashboard.i18n.localised`).

Filters and URLs keep the English segment id; only the text shown changes.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from dashboard.i18n import localised

__all__ = ["segment_names", "segment_name"]


def segment_names(segments: pd.DataFrame) -> dict[str, str]:
    """Segment id → its name in the current language, from a ``segments`` table."""
    return {str(row["segment"]): localised({str(key): value for key, value in row.items()}, "segment")
            for row in segments.to_dict("records")}


def segment_name(names: Mapping[str, str], segment: object) -> str:
    """The shown name of ``segment`` (the id itself when the table does not know it)."""
    return names.get(str(segment), str(segment))
