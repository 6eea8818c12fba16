"""Segment schemes: coverage validation and assignment."""

import itertools

import pandas as pd
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from analytics.errors import ConfigError
from analytics.segments import assign_segments, load_scheme, parse_scheme
from analytics.settings import PROJECT_ROOT

SCHEMES = PROJECT_ROOT / "config" / "segments"
SIX = ["Champions", "Can't Lose Them", "Loyal", "Potential Loyalists", "New Customers", "Hibernating"]


def _segment(name, cells, priority="Low"):
    return {"name": name, "priority": priority, "action": "a", "tactic": "t", "cells": cells}


def test_default_scheme_is_the_six_strategic_segments():
    scheme = load_scheme(SCHEMES / "strategic6.yaml")
    assert [seg.name for seg in scheme.segments] == SIX
    assert sum(len(seg.cells) for seg in scheme.segments) == 125
    by_name = {seg.name: seg for seg in scheme.segments}
    assert (by_name["Champions"].priority, by_name["Champions"].action) == ("High", "Retain")
    assert (by_name["Can't Lose Them"].priority, by_name["Can't Lose Them"].action) == ("Critical", "Reactivate")
    assert by_name["Can't Lose Them"].label_fr == "À ne pas perdre"


def test_ten_segment_rf_scheme_loads():
    scheme = load_scheme(SCHEMES / "rf10.yaml")
    assert len(scheme.segments) == 10
    lookup = scheme.lookup()
    names = [seg.name for seg in scheme.segments]
    assert names[lookup[5, 5, 1]] == "Champions" and names[lookup[1, 5, 5]] == "Can't Lose Them"
    assert all(lookup[r, f, 1] == lookup[r, f, 5] for r in range(1, 6) for f in range(1, 6))


def test_uncovered_cells_are_listed():
    raw = {"segments": [_segment("Top", [{"r": "2-5"}])]}
    with pytest.raises(ConfigError, match=r"25 uncovered cell\(s\) \(R,F,M\): 111, 112, .*155"):
        parse_scheme(raw)


def test_overlapping_cells_are_listed():
    raw = {"segments": [_segment("All", [{"r": "1-5"}]), _segment("Also", [{"r": 5, "f": 5, "m": 5}])]}
    with pytest.raises(ConfigError, match=r"1 cell\(s\) in several segments: 555 in \['All', 'Also'\]"):
        parse_scheme(raw)


def test_bad_range_and_priority_are_refused():
    with pytest.raises(ConfigError, match="must lie within 1-5"):
        parse_scheme({"segments": [_segment("X", [{"r": "0-5"}])]})
    with pytest.raises(ConfigError, match="priority 'Urgent' is not one of"):
        parse_scheme({"segments": [_segment("X", [{"r": "1-5"}], priority="Urgent")]})


def test_unreadable_scheme_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("segments: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="Cannot read segment scheme"):
        load_scheme(path)


def test_assignment_by_cell():
    scheme = load_scheme(SCHEMES / "strategic6.yaml")
    frame = pd.DataFrame({"r_score": [5, 1, 4, 3, 5, 1, 2], "f_score": [5, 5, 5, 1, 1, 1, 2],
                          "m_score": [5, 1, 2, 3, 1, 1, 5]})
    assert assign_segments(frame, scheme)["segment"].tolist() == [
        "Champions", "Can't Lose Them", "Loyal", "Potential Loyalists", "New Customers", "Hibernating",
        "Can't Lose Them"]


@given(st.lists(st.tuples(*[st.integers(1, 5)] * 3), min_size=1, max_size=50))
def test_every_customer_gets_exactly_one_known_segment(cells):
    scheme = load_scheme(SCHEMES / "strategic6.yaml")
    frame = pd.DataFrame(cells, columns=["r_score", "f_score", "m_score"])
    segments = assign_segments(frame, scheme)["segment"]
    assert segments.notna().all() and set(segments) <= set(SIX)


def test_shipped_schemes_are_valid_yaml_files():
    for path in SCHEMES.glob("*.yaml"):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        cells = {c for seg in parse_scheme(raw).segments for c in seg.cells}
        assert cells == set(itertools.product(range(1, 6), repeat=3))


def test_shipped_schemes_have_every_french_text():
    for path in (SCHEMES / "strategic6.yaml", SCHEMES / "rf10.yaml"):
        for seg in load_scheme(path).segments:
            assert seg.label_fr and seg.action_fr and seg.tactic_fr, (path.name, seg.name)
    six = {seg.name: seg for seg in load_scheme(SCHEMES / "strategic6.yaml").segments}
    assert six["Can't Lose Them"].tactic_fr.startswith("Campagne de réengagement")
    assert all(seg.description_fr for seg in six.values())
    rf10 = {seg.name: seg for seg in load_scheme(SCHEMES / "rf10.yaml").segments}
    assert rf10["Champions"].tactic == "Early access, exclusive offers, ask for reviews"  # quoted: commas kept


def test_french_texts_are_optional_but_never_blank():
    seg = parse_scheme({"segments": [_segment("All", [{"r": "1-5"}])]}).segments[0]
    assert (seg.label_fr, seg.action_fr, seg.tactic_fr, seg.description_fr) == ("All", "", "", "")
    table = parse_scheme({"segments": [{**_segment("All", [{"r": "1-5"}]), "action_fr": "Agir"}]}).table()
    assert table.loc[0, ["action", "action_fr", "tactic_fr"]].tolist() == ["a", "Agir", ""]
    with pytest.raises(ConfigError, match=r"segment #1 of <scheme> \(All\): tactic_fr must be a non-empty text"):
        parse_scheme({"segments": [{**_segment("All", [{"r": "1-5"}]), "tactic_fr": "  "}]})


def test_unknown_keys_are_refused():
    # An unquoted text with commas inside {...} becomes extra keys: refused instead of a silently cut text.
    raw = yaml.safe_load("segments:\n  - {name: All, priority: Low, action: a, tactic: Early access, offers, "
                         "cells: [{r: 1-5}]}")
    with pytest.raises(ConfigError, match=r"\(All\) has unknown key\(s\) \['offers'\].*quote texts"):
        parse_scheme(raw)
