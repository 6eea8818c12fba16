"""Uplift statistics against scipy and hand arithmetic, on hand-made numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from analytics.uplift_stats import compare_groups, mde_share


def one_stratum(target: list[float], control: list[float]):
    values = np.array(target + control, dtype=float)
    is_target = np.array([True] * len(target) + [False] * len(control))
    return compare_groups(values, is_target, np.zeros(len(values), dtype=int))


def test_one_stratum_is_exactly_welch_as_in_scipy():
    target = [0, 0, 1, 2, 0, 5, 3, 0, 1, 1, 0, 7]
    control = [0, 1, 0, 0, 2, 0, 1]
    expected = stats.ttest_ind(target, control, equal_var=False)
    ci = expected.confidence_interval(0.95)
    result = one_stratum(target, control)
    assert result.difference == pytest.approx(20 / 12 - 4 / 7)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert (result.low, result.high) == pytest.approx((ci.low, ci.high), rel=1e-9)


def test_shares_are_welch_on_zeros_and_ones():
    # 30 of 400 target members bought vs 4 of 100 control members
    target, control = [1] * 30 + [0] * 370, [1] * 4 + [0] * 96
    expected = stats.ttest_ind(target, control, equal_var=False)
    result = one_stratum(target, control)
    assert result.difference == pytest.approx(0.075 - 0.04)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert not result.significant and result.low < 0 < result.high


def test_two_strata_by_hand():
    # X: target 1,0,1,1 (mean 0.75, var 0.25), control 0,1 (0.5, 0.5); Y: target 0,0,1 (1/3, 1/3), control 0,0 (0, 0)
    # weights 6/11, 5/11; d = 6/11 × 0.25 + 5/11 × 1/3 = 0.287879
    # V = (6/11)² (0.25/4 + 0.5/2) + (5/11)² (1/3/3 + 0/2) = 0.092975 + 0.022957 = 0.115932
    values = np.array([1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 0], dtype=float)
    is_target = np.array([1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0], dtype=bool)
    strata = np.array(list("XXXXXXYYYYY"))
    result = compare_groups(values, is_target, strata)
    assert result.difference == pytest.approx(0.287879, abs=1e-6)
    assert result.std_error == pytest.approx(math.sqrt(0.115932), abs=1e-6)
    assert result.target == pytest.approx(4 / 7) and result.control == pytest.approx(1 / 4)  # plain means
    # Satterthwaite: terms 0.018595 (3 df), 0.074380 (1 df), 0.022957 (2 df), 0 (1 df)
    df = 0.115932 ** 2 / (0.018595 ** 2 / 3 + 0.074380 ** 2 / 1 + 0.022957 ** 2 / 2)
    half = stats.t.ppf(0.975, df) * math.sqrt(0.115932)
    assert (result.low, result.high) == pytest.approx((0.287879 - half, 0.287879 + half), abs=1e-4)


def test_strata_too_small_are_pooled():
    # Z has one control member only: it joins the pooled "other" stratum (here alone, so it is left out...)
    values = np.array([1, 0, 1, 0, 1, 1, 0], dtype=float)
    is_target = np.array([1, 1, 0, 0, 1, 1, 0], dtype=bool)
    strata = np.array(list("XXXXZZZ"))
    pooled = compare_groups(values, is_target, strata)
    assert pooled.compared == 4 and pooled.difference == pytest.approx(0.0)  # X: 0.5 - 0.5
    # ...and with a second small stratum W the pooled "other" (Z + W) has 2 controls and is compared
    more = compare_groups(np.append(values, [0, 1]), np.append(is_target, [True, False]), np.append(strata, ["W", "W"]))
    assert more.compared == 9


def test_edge_cases():
    none = compare_groups(np.array([1.0, 0.0]), np.array([True, True]), np.array([0, 0]))  # no control
    assert math.isnan(none.low) and math.isnan(none.control)
    same = one_stratum([0, 0, 0], [0, 0])  # no variance, no difference
    assert same.difference == 0 and same.p_value == 1.0 and not same.significant


def test_minimum_detectable_effect():
    # (1.959964 + 0.841621) × sqrt(0.25 × 0.75 × (1/900 + 1/100)) = 2.801585 × 0.045644 = 0.12788
    assert mde_share(0.25, 900, 100) == pytest.approx(0.12788, abs=1e-4)
    assert mde_share(0.25, 9000, 1000) < mde_share(0.25, 900, 100)
    assert mde_share(0.3, 100, 0) == math.inf
