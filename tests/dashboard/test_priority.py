"""Priority colours: one definition (dashboard/components/priority.py) used by every view."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from dashboard.components import action_view, client_view, priority, segment_view


@pytest.mark.parametrize(("rank", "badge", "hex_color"), [
    (1, "danger", "#c0392b"), (2, "warning", "#d9822b"), (3, "info", "#6c8ebf"), (4, "secondary", "#98a4b0"),
    (7, "secondary", "#98a4b0"),  # a scheme with more priorities: beyond the fourth, grey
    (None, "secondary", "#98a4b0"), ("?", "secondary", "#98a4b0"),  # unknown: grey, never an error
])
def test_colour_follows_the_rank(rank, badge, hex_color):
    assert priority.badge_color(rank) == badge
    assert priority.hex_color(rank) == hex_color


def test_high_is_amber_on_every_view(monkeypatch):
    # "High" is rank 2 in the default scheme; Client 360 used to show it blue (primary) and the others amber.
    segment = pd.Series({"segment": "Loyal", "priority": "High", "priority_rank": 2, "label_fr": "Fidèles",
                         "action": "Keep them", "tactic": "t", "description": "d"})
    customer = pd.Series({"customer_id": "12347", "segment": "Loyal", "country": "UK", "at_risk": False,
                          "risk_score": 10, "usual_gap_days": 30.0, "recency_days": 5, "frequency": 3,
                          "monetary": 100.0, "revenue_at_stake": 0.0, "last_purchase": pd.Timestamp("2011-12-01")})
    monkeypatch.setattr(client_view, "page_href", lambda *args, **kwargs: "/segments")  # no app needed
    header = repr(client_view.profile_header(customer, segment, {}))
    client_colour = re.search(r"Badge\(children='Loyal'[^)]*?color='(\w+)'", header)
    assert client_colour is not None and client_colour.group(1) == "warning"
    assert segment_view.priority_badge("High", 2).color == "warning"
    assert action_view.priority_color(2) == "warning"
    assert priority.badge("High", 2).text_color == "dark"  # dark text on the light amber badge
