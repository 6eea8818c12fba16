"""Segment priority, shown the same way everywhere: one colour per priority rank (1 = most urgent).

The labels are the scheme's own (``priority`` in the segments table, by default Critical, High, Medium, Low from
analytics.segments); the colour follows the rank, so a scheme with its own priority names is coloured too:
rank 1 red, 2 amber, 3 blue, 4 and beyond grey. The labels are data (and ids in URLs and exports): :func:`label`
shows the default ones in the page's language, a scheme's own names as they are.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc

from dashboard.i18n import N_, _

__all__ = ["LABELS", "label", "badge_color", "hex_color", "text_color", "badge"]

LABELS = (N_("Critical"), N_("High"), N_("Medium"), N_("Low"))  # analytics.segments' default priorities

_BADGE = ("danger", "warning", "info", "secondary")  # Bootstrap colour of a badge, by rank
_HEX = ("#c0392b", "#d9822b", "#6c8ebf", "#98a4b0")  # the same colours for charts and dots


def _index(rank: object) -> int:
    try:
        return min(max(int(rank), 1), len(_BADGE)) - 1  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return len(_BADGE) - 1


def label(priority: object) -> str:
    """``Élevée`` for ``High`` in French: a default priority in the page's language; any other name unchanged."""
    text = str(priority)
    return _(text) if text in LABELS else text


def badge_color(rank: object) -> str:
    """Bootstrap colour of a priority badge: 1 ``danger``, 2 ``warning``, 3 ``info``, else ``secondary``."""
    return _BADGE[_index(rank)]


def hex_color(rank: object) -> str:
    """The priority colour as hex, for figures and inline styles."""
    return _HEX[_index(rank)]


def text_color(rank: object) -> str | None:
    """Dark text on the light badges (amber, blue), Bootstrap's default (white) on the others."""
    return "dark" if badge_color(rank) in ("warning", "info") else None


def badge(text: str, rank: object, **kwargs: object) -> dbc.Badge:
    """A badge in the priority's colour (``kwargs`` go to ``dbc.Badge``: id, pill, class_name, title...)."""
    return dbc.Badge(text, color=badge_color(rank), text_color=text_color(rank), **kwargs)
