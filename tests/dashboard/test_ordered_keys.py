"""The worker's kept grid orderings: slices of the keys in order, the last few kept, long ones not kept."""

from __future__ import annotations

import pyarrow as pa

from dashboard.ordered_keys import OrderedKeys


def _counting(keys: list[str]):
    calls = []

    def run() -> pa.Table:
        calls.append(1)
        return pa.table({"customer_id": keys})

    return run, calls


def test_slices_come_from_one_sort_per_version_query_and_parameters():
    kept = OrderedKeys(size=2)
    run, calls = _counting(["c", "a", "b", "d"])
    assert kept.keys("v1", "SELECT k", [None, True], run, 1, 3) == ["a", "b"]
    assert kept.keys("v1", "SELECT k", [None, True], run, 3, 10) == ["d"]  # the end beyond the list: what exists
    assert kept.keys("v1", "SELECT k", [None, True], run, 5, 6) == []
    assert len(calls) == 1
    kept.keys("v1", "SELECT k", [None, False], run, 0, 1)  # other parameters: another ordering
    kept.keys("v2", "SELECT k", [None, True], run, 0, 1)  # another version: another ordering
    assert len(calls) == 3


def test_the_least_recently_used_ordering_goes_first_and_long_ones_are_not_kept():
    kept = OrderedKeys(size=2, max_keys=3)
    run, calls = _counting(["a", "b", "c"])
    for sql in ("q1", "q2", "q1", "q3"):  # q2 is the least recently used when q3 comes
        kept.keys("v", sql, [], run, 0, 1)
    assert len(calls) == 3
    kept.keys("v", "q1", [], run, 0, 1)
    assert len(calls) == 3
    kept.keys("v", "q2", [], run, 0, 1)
    assert len(calls) == 4
    long_run, long_calls = _counting(["a", "b", "c", "d"])
    kept.keys("v", "long", [], long_run, 0, 2)
    kept.keys("v", "long", [], long_run, 2, 4)
    assert len(long_calls) == 2  # more than max_keys: sorted again each time, never held
