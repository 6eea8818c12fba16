"""The numpy miner finds exactly what mlxtend finds: same itemsets, same supports, same rule metrics.

Handmade baskets (as in test_rules): 1 {X,Y}, 2 {X}, 3 {X,Y}, 4 {Y}, 7 {X,Y}, 8 {Z} — counts X 4,
Y 4, Z 1, XY 3. Random baskets are checked against brute-force counting and against mlxtend.
"""

from dataclasses import replace
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.clean import clean_transactions
from analytics.miner import min_count, mine_itemsets
from analytics.products import product_names
from analytics.rules import basket_matrix, effective_support, frequent_itemsets, mine_rules
from analytics.settings import BasketParams, RulesParams, load_settings

METRICS = ["antecedent_support", "consequent_support", "support", "confidence", "lift", "leverage", "conviction"]


def _matrix(baskets):
    rows = [r for r, basket in enumerate(baskets) for _ in basket]
    cols = [item for basket in baskets for item in sorted(basket)]
    n_items = max(cols, default=-1) + 1
    return sp.csr_matrix((np.ones(len(rows), dtype=bool), (rows, cols)), shape=(len(baskets), n_items))


def _as_dict(levels):
    return {tuple(int(i) for i in row): int(c) for columns, counts in levels for row, c in zip(columns, counts)}


def _brute_force(baskets, min_support, max_len):
    n, items = len(baskets), sorted(set().union(*baskets)) if baskets else []
    found = {}
    for k in range(1, (max_len or len(items)) + 1):
        for combo in combinations(items, k):
            count = sum(set(combo) <= b for b in baskets)
            if count / n >= min_support:
                found[combo] = count
    return found


def _basket_lines(baskets):
    return pd.DataFrame([(str(i), f"I{item}") for i, b in enumerate(baskets) for item in sorted(b)],
                        columns=["invoice", "stock_code"])


def _itemset_supports(frame):
    return dict(zip(frame["itemsets"], frame["support"]))


def test_handmade_baskets():
    baskets = [{0, 1}, {0}, {0, 1}, {1}, {0, 1}, {2}]  # X=0, Y=1, Z=2
    levels = mine_itemsets(_matrix(baskets), min_support=0.3)
    assert _as_dict(levels) == {(0,): 4, (1,): 4, (0, 1): 3}
    assert [columns.shape for columns, _ in levels] == [(2, 1), (1, 2)]
    assert _as_dict(mine_itemsets(_matrix(baskets), min_support=0.1)) == {(0,): 4, (1,): 4, (2,): 1, (0, 1): 3}
    assert _as_dict(mine_itemsets(_matrix(baskets), min_support=0.3, max_len=1)) == {(0,): 4, (1,): 4}
    assert mine_itemsets(_matrix(baskets), min_support=0.9) == []


def test_triples_need_every_pair_and_the_basket_count():
    # AB, AC, BC each in 4 baskets, ABC in 2: frequent at 2, not at 3; ABD never (BD absent).
    baskets = [{0, 1, 2}, {0, 1, 2}, {0, 1}, {0, 1}, {0, 2}, {0, 2}, {1, 2}, {1, 2}, {0, 3}, {0, 3}]
    at_two = _as_dict(mine_itemsets(_matrix(baskets), min_support=0.2, max_len=3))
    assert at_two[(0, 1, 2)] == 2 and (0, 1, 3) not in at_two and at_two[(0, 3)] == 2
    at_three = _as_dict(mine_itemsets(_matrix(baskets), min_support=0.3, max_len=3))
    assert (0, 1, 2) not in at_three and at_three[(0, 1)] == 4


def test_min_count_is_the_float_test_mlxtend_applies():
    assert min_count(0.01, 19_773) == 198
    assert min_count(0.1, 30) == 3  # 0.1 * 30 = 3.0000000000000004 in floats; 3 / 30 >= 0.1 holds
    assert min_count(10 / 19_773, 19_773) == 10
    assert min_count(1.0, 7) == 7
    with pytest.raises(ValueError, match="min_support"):
        mine_itemsets(_matrix([{0}]), min_support=0.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sets(st.integers(0, 7), min_size=1, max_size=6), min_size=1, max_size=40),
       st.integers(1, 6), st.sampled_from([1, 2, 3, 4, None]))
def test_random_baskets_match_brute_force(baskets, needed, max_len):
    min_support = needed / len(baskets)
    if min_support > 1:
        return
    found = _as_dict(mine_itemsets(_matrix(baskets), min_support, max_len))
    assert found == _brute_force(baskets, min_support, max_len)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sets(st.integers(0, 7), min_size=1, max_size=6), min_size=3, max_size=40),
       st.integers(1, 5), st.sampled_from([2, 3, 4]))
def test_random_baskets_match_mlxtend(baskets, needed, max_len):
    # a threshold between two counts, away from the float edge where mlxtend's tree and final filter disagree
    params = RulesParams(min_support=(needed - 0.5) / len(baskets), min_baskets=1, max_len=max_len)
    if params.min_support > 1:
        return
    matrix = basket_matrix(_basket_lines(baskets))
    ours = frequent_itemsets(matrix, replace(params, algorithm="numpy"))
    reference = frequent_itemsets(matrix, replace(params, algorithm="fpgrowth"))
    assert _itemset_supports(ours) == _itemset_supports(reference)


@pytest.fixture(scope="module")
def bundled_baskets(bundled_lines):
    settings = load_settings({})
    cleaned = clean_transactions(bundled_lines, settings.cleaning, settings.baskets)
    # itemsets up to 3 items (the reference figure; the default is 2) and every rule above lift 1
    params = replace(settings.rules, max_len=3, min_confidence=0.1)
    return cleaned.basket_lines, product_names(bundled_lines), params


def test_bundled_itemsets_identical_to_mlxtend_fpgrowth(bundled_baskets):
    basket_lines, _, params = bundled_baskets
    baskets = basket_matrix(basket_lines)
    assert baskets.count == 19_773 and effective_support(params, baskets.count) == 0.01
    ours = _itemset_supports(frequent_itemsets(baskets, replace(params, algorithm="numpy")))
    reference = _itemset_supports(frequent_itemsets(baskets, replace(params, algorithm="fpgrowth")))
    assert len(ours) == len(reference) == 1_981
    assert ours.keys() == reference.keys()
    assert max(abs(ours[itemset] - reference[itemset]) for itemset in reference) <= 1e-12


def test_bundled_rules_identical_to_mlxtend_fpgrowth(bundled_baskets):
    basket_lines, names, params = bundled_baskets
    ours = mine_rules(basket_lines, replace(params, algorithm="numpy"), names)
    reference = mine_rules(basket_lines, replace(params, algorithm="fpgrowth"), names)
    assert len(ours) == len(reference) > 1_000
    pd.testing.assert_frame_equal(ours.drop(columns=METRICS), reference.drop(columns=METRICS))
    pd.testing.assert_frame_equal(ours[METRICS], reference[METRICS], check_exact=False, rtol=0, atol=1e-12)


def test_customer_baskets_give_the_reference_itemset_count(bundled_lines):
    # The "1,031 itemsets at 1 %" reference figure: invoices of customer sale lines, service codes
    # included, no length bound (1,029 with max_len 3); guest baskets and the service-code filter give 1,981.
    settings = load_settings({})
    cleaned = clean_transactions(bundled_lines, settings.cleaning, BasketParams(include_guests=False))
    baskets = basket_matrix(cleaned.sales)
    assert baskets.count == 18_532
    assert sum(len(c) for c, _ in mine_itemsets(baskets.matrix, 0.01, None)) == 1_031
    assert sum(len(c) for c, _ in mine_itemsets(baskets.matrix, 0.01, 3)) == 1_029

