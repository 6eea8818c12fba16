"""Association rules on the handmade baskets.

Basket lines (guests included, POST excluded): invoices 1 {X,Y}, 2 {X}, 3 {X,Y}, 4 {Y}, 7 {X,Y}, 8 {Z}.
support(X) = support(Y) = 4/6, support(XY) = 3/6, support(Z) = 1/6.
X→Y: confidence = (3/6)/(4/6) = 0.75, lift = 0.75 / (4/6) = 1.125.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.clean import clean_transactions
from analytics.errors import ConfigError
from analytics.products import product_names
from analytics.rules import (
    basket_matrix,
    effective_support,
    mine_rules,
    rules_from_baskets,
    select_baskets,
    with_recent_rules,
)
from analytics.settings import BasketParams, CleaningParams, RulesParams


@pytest.fixture
def basket_lines(lines):
    return clean_transactions(lines, CleaningParams(), BasketParams(include_guests=True)).basket_lines


def test_basket_matrix(basket_lines):
    baskets = basket_matrix(basket_lines)
    assert baskets.count == 6
    assert sorted(baskets.items) == ["X", "Y", "Z"]
    assert all(type(item) is str for item in baskets.items)  # mlxtend fails on np.str_
    assert baskets.matrix.sum() == 9


@pytest.mark.parametrize("algorithm", ["fpgrowth", "apriori"])
def test_rules_by_hand(basket_lines, lines, algorithm):
    params = RulesParams(algorithm=algorithm, min_support=0.3, min_baskets=1, min_confidence=0.5, min_lift=1.0)
    rules = mine_rules(basket_lines, params, product_names(lines))
    assert rules["antecedents"].tolist() == [["X"], ["Y"]]
    assert rules["consequents"].tolist() == [["Y"], ["X"]]
    assert rules["antecedent_names"].tolist() == [["MUG"], ["TEAPOT"]]
    assert rules["consequent_names"].tolist() == [["TEAPOT"], ["MUG"]]
    np.testing.assert_allclose(rules["support"], [0.5, 0.5])
    np.testing.assert_allclose(rules["confidence"], [0.75, 0.75])
    np.testing.assert_allclose(rules["lift"], [1.125, 1.125])
    np.testing.assert_allclose(rules["leverage"], [0.5 - 4 / 9] * 2)
    np.testing.assert_allclose(rules["conviction"], [(1 - 4 / 6) / (1 - 0.75)] * 2)


def test_lift_threshold_is_strict(basket_lines, lines):
    rules = mine_rules(basket_lines, RulesParams(min_support=0.3, min_baskets=1, min_confidence=0.1, min_lift=1.125),
                       product_names(lines))
    assert rules.empty
    assert list(rules.columns)[:2] == ["antecedents", "consequents"]


def test_unknown_algorithm(basket_lines, lines):
    with pytest.raises(ConfigError, match="rules.algorithm 'magic' is not one of"):
        mine_rules(basket_lines, RulesParams(algorithm="magic"), product_names(lines))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sets(st.sampled_from("ABCDEF"), min_size=1, max_size=4), min_size=3, max_size=30))
def test_rule_metrics_are_consistent(baskets):
    lines = pd.DataFrame([(str(i), item) for i, basket in enumerate(baskets) for item in sorted(basket)],
                         columns=["invoice", "stock_code"])
    rules = mine_rules(lines, RulesParams(min_support=0.1, min_baskets=1, min_confidence=0.0, min_lift=0.0, max_len=3),
                       pd.Series(dtype="str"))
    sets = [set(b) for b in baskets]
    for row in rules.itertuples():
        both = set(row.antecedents) | set(row.consequents)
        support = sum(both <= b for b in sets) / len(sets)
        antecedent = sum(set(row.antecedents) <= b for b in sets) / len(sets)
        consequent = sum(set(row.consequents) <= b for b in sets) / len(sets)
        assert row.support == pytest.approx(support)
        assert row.confidence == pytest.approx(support / antecedent)
        assert row.lift == pytest.approx(row.confidence / consequent)


def test_one_huge_basket_in_small_data_does_not_explode():
    # 150 baskets; one holds 120 items. At 1 % support every pair and triple of that basket would be
    # "frequent" (~280,000 itemsets); the min_baskets floor keeps only real co-occurrences.
    rows = [("big", f"I{i}") for i in range(120)]
    rows += [(f"b{n}", item) for n in range(149) for item in (("A", "B") if n % 3 else ("A", "C"))]
    lines = pd.DataFrame(rows, columns=["invoice", "stock_code"])
    params = RulesParams(min_support=0.01, min_baskets=10, min_confidence=0.1, min_lift=0.0)
    assert effective_support(params, 150) == pytest.approx(10 / 150)
    rules = mine_rules(lines, params, pd.Series(dtype="str"))
    assert {tuple(r) for r in rules["antecedents"]} <= {("A",), ("B",), ("C",)}
    assert len(rules) == 4  # A->B, B->A, A->C, C->A


def test_fewer_baskets_than_the_floor_gives_no_rules_not_an_error():
    lines = pd.DataFrame({"invoice": ["1", "1", "2", "2"], "stock_code": ["A", "B", "A", "B"]})
    params = RulesParams(min_support=0.01, min_baskets=10)
    assert effective_support(params, 2) == 1.0
    rules = mine_rules(lines, params, pd.Series(dtype="str"))
    assert rules.empty  # A and B are in every basket: lift 1, no rule above chance


def _counted(baskets):
    """{frozenset of item labels: baskets holding it} for single items and pairs, from an incidence matrix."""
    matrix = baskets.matrix.astype(np.int64)
    singles = np.asarray(matrix.sum(axis=0)).ravel()
    pairs = (matrix.T @ matrix).toarray()
    found = {frozenset([baskets.items[i]]): int(singles[i]) for i in np.flatnonzero(singles)}
    found.update({frozenset([baskets.items[i], baskets.items[j]]): int(pairs[i, j])
                  for i, j in zip(*np.nonzero(np.triu(pairs, 1)))})
    return found


@pytest.mark.parametrize("split", ["2024-01-05", "2024-01-03 11:00", "2024-01-08 15:00"])
def test_selected_baskets_count_like_a_matrix_of_the_kept_lines(basket_lines, split):
    # a time split keeps or drops whole invoices (each handmade invoice has one time): a row subset
    keep = (basket_lines["invoice_date"] < pd.Timestamp(split)).to_numpy()
    selected = select_baskets(basket_matrix(basket_lines), basket_lines, keep)
    reference = basket_matrix(basket_lines[keep])
    assert selected.count == reference.count and _counted(selected) == _counted(reference)


def test_selected_baskets_rebuild_invoices_cut_by_the_selection(basket_lines):
    keep = np.ones(len(basket_lines), dtype=bool)
    keep[np.flatnonzero(basket_lines["invoice"] == "1")[0]] = False  # invoice 1 keeps one of its two lines
    selected = select_baskets(basket_matrix(basket_lines), basket_lines, keep)
    reference = basket_matrix(basket_lines[keep])
    assert selected.count == reference.count == 6 and _counted(selected) == _counted(reference)


def _dated_lines(baskets):
    """Basket lines from (date, items) per invoice."""
    rows = [(f"i{n}", date, item) for n, (date, items) in enumerate(baskets) for item in items]
    return pd.DataFrame(rows, columns=["invoice", "invoice_date", "stock_code"]).astype(
        {"invoice_date": "datetime64[ns]"})


def test_with_recent_rules_adds_the_rules_of_the_last_days_only():
    lines = _dated_lines([("2011-01-05", "XY")] * 8 + [("2011-06-20", "PQ")] * 2 + [("2011-06-25", "X")] * 2
                         + [("2011-07-05", "PQ")])  # the last basket is after as_of
    names = pd.Series({c: c.lower() for c in "PQXY"})
    params = RulesParams(min_support=0.25, min_baskets=1, min_confidence=0.5, max_len=2)
    baskets = basket_matrix(lines)
    full = rules_from_baskets(baskets, params, names)  # P, Q in 3 of 13 baskets: below 0.25
    assert sorted(map(tuple, full["antecedents"])) == [("X",), ("Y",)]
    as_of = pd.Timestamp("2011-07-01")
    both = with_recent_rules(full, baskets, lines, params, names, as_of, days=30, min_support=0.5)
    assert len(both) == 4 and both.iloc[:2].equals(full)
    recent = both.iloc[2:].sort_values("antecedents", key=lambda c: c.str[0])
    # 4 baskets from 2011-06-01 to before 2011-07-01: P and Q together in 2 of them, X alone in 2
    assert recent["antecedents"].tolist() == [["P"], ["Q"]]
    assert recent["consequents"].tolist() == [["Q"], ["P"]]
    assert recent["support"].tolist() == pytest.approx([0.5, 0.5])
    assert recent["confidence"].tolist() == pytest.approx([1.0, 1.0])
    assert recent["lift"].tolist() == pytest.approx([2.0, 2.0])
    assert full["window"].tolist() == ["all baskets"] * 2 and recent["window"].tolist() == ["last 30 days"] * 2
    # the recent support threshold is its own: P, Q in 2 of the 4 recent baskets < 0.6
    assert with_recent_rules(full, baskets, lines, params, names, as_of, days=30, min_support=0.6) is full
    assert with_recent_rules(full, baskets, lines, params, names, as_of, days=0, min_support=0.5) is full
    assert with_recent_rules(full, baskets, lines, params, names, pd.Timestamp("2010-01-01"), days=30,
                             min_support=0.5) is full  # no basket in the window
    with pytest.raises(ConfigError, match="recent_rules_days"):
        with_recent_rules(full, baskets, lines, params, names, as_of, days=-1, min_support=0.5)
    with pytest.raises(ConfigError, match="recent_rules_min_support"):
        with_recent_rules(full, baskets, lines, params, names, as_of, days=30, min_support=0)
