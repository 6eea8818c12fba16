"""RFM on the handmade frame: A (F=2, M=25, R=1), B (F=1, M=15, R=6), C (F=1, M=30, R=9),
E (F=1, M=30, R=3); as-of 2024-01-11."""

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.clean import clean_transactions
from analytics.rfm import as_of_date, min_ranks_within, quintile_scores, score_rfm, summarise_customers
from analytics.settings import BasketParams, CleaningParams


@pytest.fixture
def customers(lines):
    sales = clean_transactions(lines, CleaningParams(), BasketParams()).sales
    return score_rfm(summarise_customers(sales, as_of_date(sales))).set_index("customer_id")


def test_as_of_is_day_after_last_invoice(lines):
    sales = clean_transactions(lines, CleaningParams(), BasketParams()).sales
    assert as_of_date(sales) == pd.Timestamp("2024-01-11")
    assert as_of_date(sales, date(2024, 2, 1)) == pd.Timestamp("2024-02-01")


def test_raw_values(customers):
    assert customers["recency_days"].to_dict() == {"A": 1, "B": 6, "C": 9, "E": 3}
    assert customers["frequency"].to_dict() == {"A": 2, "B": 1, "C": 1, "E": 1}
    assert customers["monetary"].to_dict() == {"A": 25.0, "B": 15.0, "C": 30.0, "E": 30.0}
    assert customers.loc["A", "avg_basket"] == 12.5
    assert customers.loc["A", "country"] == "France"


def test_scores_by_hand(customers):
    # recency ranks (best last): C=1, B=2, E=3, A=4 -> 1 + floor(5*(rank-1)/4)
    assert customers["r_score"].to_dict() == {"A": 4, "B": 2, "C": 1, "E": 3}
    # frequency: the three one-time buyers tie at rank 1
    assert customers["f_score"].to_dict() == {"A": 4, "B": 1, "C": 1, "E": 1}
    # monetary: C and E tie at 30
    assert customers["m_score"].to_dict() == {"A": 2, "B": 1, "C": 3, "E": 3}
    assert customers.loc["A", "rfm_cell"] == "442"


def test_equal_values_never_split():
    values = pd.Series([1] * 60 + [2] * 25 + [5] * 15)
    scores = quintile_scores(values)
    assert scores[:60].nunique() == 1 and scores[60:85].nunique() == 1
    assert scores.iloc[0] == 1 and scores.iloc[99] == 5


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=80))
def test_scores_in_range_monotonic_and_order_free(raw):
    values = pd.Series(raw)
    scores = quintile_scores(values)
    assert scores.between(1, 5).all()
    ordered = pd.DataFrame({"v": values, "s": scores}).sort_values("v")
    assert ordered["s"].is_monotonic_increasing  # higher value, never lower score
    assert ordered.groupby("v")["s"].nunique().max() == 1  # ties share a score
    shuffled = values.sample(frac=1, random_state=1)
    assert quintile_scores(shuffled).sort_index().equals(scores)
    low_is_good = quintile_scores(values, higher_is_better=False)
    assert pd.DataFrame({"v": values, "s": low_is_good}).sort_values("v")["s"].is_monotonic_decreasing


def test_min_ranks_within_groups_by_hand():
    values = np.array([30.0, 10.0, 10.0, 20.0, 5.0, 5.0, 7.0])
    group = np.array([0, 0, 0, 0, 1, 1, 1])
    # group 0: 10, 10 share rank 1, 20 is 3rd, 30 4th; group 1: 5, 5 rank 1, 7 rank 3
    assert min_ranks_within(values, group).tolist() == [4, 1, 1, 3, 1, 1, 3]
    # descending: 30 first, 20 second, the two 10s share rank 3; 7 first, the two 5s share rank 2
    assert min_ranks_within(values, group, ascending=False).tolist() == [1, 3, 3, 2, 2, 2, 1]
    # the same values as integers (a small range: counted, not sorted)
    days = values.astype(np.int64)
    assert min_ranks_within(days, group).tolist() == [4, 1, 1, 3, 1, 1, 3]
    assert min_ranks_within(days, group, ascending=False).tolist() == [1, 3, 3, 2, 2, 2, 1]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=3), st.integers(min_value=-5, max_value=5)),
                min_size=1, max_size=60), st.booleans())
def test_min_ranks_within_groups_equal_pandas_grouped_min_rank(rows, ascending):
    group, values = (np.array(column) for column in zip(*rows))
    # small integers are counted; integers of a wide range and floats are sorted
    for column in (values, values * 10 ** 12, values.astype(np.float64)):
        expected = pd.Series(column).groupby(group).rank(method="min", ascending=ascending)
        assert min_ranks_within(column, group, ascending).tolist() == expected.tolist()


def test_grouped_quintiles_score_each_group_apart():
    values = pd.Series([1.0, 2, 3, 4, 5, 50, 40, 30, 20, 10])
    groups = pd.Series(["b"] * 5 + ["a"] * 5)
    assert quintile_scores(values, groups=groups).tolist() == [1, 2, 3, 4, 5, 5, 4, 3, 2, 1]
    assert quintile_scores(values, higher_is_better=False, groups=groups).tolist() == [5, 4, 3, 2, 1, 1, 2, 3, 4, 5]
