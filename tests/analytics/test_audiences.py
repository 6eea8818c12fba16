"""Audiences: validation, the deterministic stratified split, the JSON record."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analytics.audiences import (
    audience_json,
    build_audience,
    check_control_share,
    check_name,
    check_note,
    draws,
    parse_audience,
    split_members,
    split_sizes,
    summary,
)
from analytics.errors import AudienceError

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=timezone.utc)


def members(sizes: dict[str, int]) -> pd.DataFrame:
    rows = [(f"{segment[0]}{i}", segment) for segment, n in sizes.items() for i in range(n)]
    return pd.DataFrame(rows, columns=["customer_id", "segment"])


def test_the_split_is_deterministic_and_depends_on_the_audience_id():
    frame = members({"A": 500, "B": 300})
    first = split_members(frame, "aud-000000000001", 0.1)
    again = split_members(frame.sample(frac=1, random_state=3), "aud-000000000001", 0.1)
    other = split_members(frame, "aud-000000000002", 0.1)
    assert first.equals(split_members(frame, "aud-000000000001", 0.1))
    # the group of a customer does not depend on the order of the list
    shuffled = again.set_index("customer_id")["group"].loc[first["customer_id"]]
    assert first.set_index("customer_id")["group"].equals(shuffled)
    assert (first["group"] != other["group"]).sum() > 20  # another id, another draw
    assert first["customer_id"].tolist() == frame["customer_id"].tolist()  # input order kept


def test_each_segment_holds_the_control_share_exactly():
    # A: 10 × 0.1 = 1; B: 3 × 0.1 = 0.3 → 0; C: 25 × 0.1 = 2.5 → 3 (halves up); with 0.5: 5, 1.5 → 2, 12.5 → 13
    frame = members({"A": 10, "B": 3, "C": 25})
    for share, expected in ((0.1, {"A": 1, "C": 3}), (0.5, {"A": 5, "B": 2, "C": 13})):
        split = split_members(frame, "aud-00000000000a", share)
        control = split[split["group"] == "control"].groupby("segment").size().to_dict()
        assert control == expected
        assert split_sizes(split) == split_sizes(frame, share)  # the preview gives the saved sizes


def test_the_share_is_random_within_binomial_tolerance_on_what_is_not_stratified():
    # 20,000 members of one segment, share 0.2: among even-numbered ids (not a stratum) the control
    # share is binomial: sd = sqrt(0.2 × 0.8 / 10,000) = 0.004, so ±0.016 is 4 sd.
    frame = members({"S": 20_000})
    split = split_members(frame, "aud-00000000beef", 0.2)
    even = split["customer_id"].str[1:].astype(int) % 2 == 0
    assert (split["group"] == "control").sum() == 4000
    assert abs((split.loc[even, "group"] == "control").mean() - 0.2) < 0.016
    # the draws are uniform on [0, 1) (Kolmogorov-Smirnov)
    assert stats.kstest(draws("aud-00000000beef", frame["customer_id"]), "uniform").pvalue > 0.001


def test_draw_is_sha256_of_audience_and_customer():
    import hashlib
    expected = int.from_bytes(hashlib.sha256(b"aud-000000000001:17850").digest()[:8], "big") / 2**64
    assert draws("aud-000000000001", ["17850"])[0] == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize("name", ["", "   ", "x" * 81, "<script>", "a\nb"])
def test_bad_names_are_refused(name):
    with pytest.raises(AudienceError):
        check_name(name)


def test_names_notes_and_shares_that_are_accepted():
    assert check_name("  Noël win-back (email) 15% #2 ") == "Noël win-back (email) 15% #2"
    assert check_note(None) == "" and check_note(" a\nb ") == "a\nb"
    assert check_control_share("0.5") == 0.5
    for bad in (0, -0.1, 0.51, "x", float("nan"), None):
        with pytest.raises(AudienceError):
            check_control_share(bad)
    with pytest.raises(AudienceError, match="at most 500"):
        check_note("x" * 501)


def test_member_limits_and_duplicates():
    common = dict(name="n", note="", control_share=0.1, created_by="me", snapshot_version="v", source="s", now=NOW)
    with pytest.raises(AudienceError, match="at most 5"):
        build_audience(members({"A": 6}), max_members=5, **common)
    with pytest.raises(AudienceError, match="twice"):
        build_audience(pd.DataFrame({"customer_id": ["1", "1"], "segment": ["A", "A"]}), max_members=5, **common)
    with pytest.raises(AudienceError, match="future"):
        build_audience(members({"A": 6}), max_members=10, as_of=date(2027, 1, 1), **common)


def test_record_round_trips_through_json_and_is_checked():
    audience = build_audience(pd.DataFrame({"customer_id": [17850, 12346, 13047], "segment": ["A", "A", "B"]}),
                              name="Spring", note="mail", control_share=0.5, created_by="ann", snapshot_version="v1",
                              source="segment A", max_members=10, as_of=date(2011, 9, 1), now=NOW)
    assert audience.backdated and audience.as_of == date(2011, 9, 1)
    assert audience.members["customer_id"].tolist() == ["17850", "12346", "13047"]  # ids as strings
    back = parse_audience(audience_json(audience))
    assert back.members.equals(audience.members)
    assert summary(back) == summary(audience)
    assert back.sizes == {"members": 3, "target": 1, "control": 2}  # A: 2 × 0.5 = 1; B: 0.5 → 1
    record = json.loads(audience_json(audience))
    record["members"]["group"][0] = "vip"
    with pytest.raises(AudienceError):
        parse_audience(json.dumps(record))
    with pytest.raises(AudienceError):
        parse_audience(b"\x80not json")
    assert np.isclose(back.control_share, 0.5)
