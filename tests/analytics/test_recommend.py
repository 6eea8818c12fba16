"""Recommendations on handmade frames with known answers."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.recommend import recommend
from analytics.settings import RecommendParams


def _sales(pairs):
    return pd.DataFrame({"customer_id": [c for c, _ in pairs], "stock_code": [i for _, i in pairs],
                         "is_service": [i == "POST" for _, i in pairs]})


def _rules(rows):
    return pd.DataFrame([
        {"antecedents": a, "consequents": c, "antecedent_names": [x.lower() for x in a], "confidence": conf,
         "lift": lift} for a, c, conf, lift in rows])


NAMES = pd.Series({"A": "apple", "B": "bread", "C": "cheese", "D": "dates", "E": "eggs", "F": "figs"})


def test_rules_apply_only_when_whole_antecedent_bought():
    customers = pd.DataFrame({"customer_id": ["u1", "u2"], "segment": ["S", "S"]})
    sales = _sales([("u1", "A"), ("u1", "B"), ("u2", "A")])
    rules = _rules([(["A", "B"], ["C"], 0.9, 3.0), (["A"], ["D"], 0.5, 2.0), (["A"], ["C"], 0.4, 1.5)])
    recs = recommend(customers, sales, rules, NAMES, RecommendParams(top_n=3, fallback="none"))
    u1 = recs[recs["customer_id"] == "u1"]
    assert u1["stock_code"].tolist() == ["C", "D"]
    assert u1["confidence"].tolist() == [0.9, 0.5]  # best applicable rule for C is the pair rule
    assert list(u1["because"].iloc[0]) == ["a", "b"]
    u2 = recs[recs["customer_id"] == "u2"]
    assert u2["stock_code"].tolist() == ["D", "C"]  # the pair rule does not apply to u2
    assert u2["rank"].tolist() == [1, 2]
    assert u2["description"].tolist() == ["dates", "cheese"]


def test_bought_items_are_never_recommended_and_fallback_fills():
    customers = pd.DataFrame({"customer_id": ["u1", "u2", "u3"], "segment": ["S", "S", "T"]})
    sales = _sales([("u1", "A"), ("u1", "C"), ("u2", "E"), ("u2", "F"), ("u2", "A"), ("u3", "B"), ("u3", "POST")])
    rules = _rules([(["A"], ["C"], 0.9, 3.0), (["A"], ["D"], 0.5, 2.0)])
    recs = recommend(customers, sales, rules, NAMES, RecommendParams(top_n=3))
    u1 = recs[recs["customer_id"] == "u1"]
    assert u1["stock_code"].tolist() == ["D", "E", "F"]
    assert u1["source"].tolist() == ["rule", "segment_bestseller", "segment_bestseller"]
    assert u1["score"].iloc[1] == pytest.approx(0.5)  # E bought by 1 of the 2 customers of segment S
    assert np.isnan(u1["confidence"].iloc[1])
    u3 = recs[recs["customer_id"] == "u3"]
    assert u3.empty  # u3 bought the only product of segment T; POST is not a product


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["u1", "u2", "u3", "u4"]), st.sampled_from(list("ABCDEF"))),
                min_size=1, max_size=20))
def test_recommendations_never_include_bought_items(pairs):
    customers = pd.DataFrame({"customer_id": ["u1", "u2", "u3", "u4"], "segment": ["S", "S", "T", "T"]})
    rules = _rules([([a], [c], 0.5, 1.5) for a in "ABC" for c in "DEF"] + [(["A", "B"], ["F"], 0.8, 2.0)])
    recs = recommend(customers, _sales(pairs), rules, NAMES, RecommendParams(top_n=4))
    bought = set(pairs)
    assert not any((row.customer_id, row.stock_code) in bought for row in recs.itertuples())
    assert not recs.duplicated(["customer_id", "stock_code"]).any()
    assert recs.groupby("customer_id")["rank"].apply(lambda r: r.tolist() == list(range(1, len(r) + 1))).all()


@pytest.mark.parametrize("block_bytes", [1, 7, 1 << 24])
def test_holds_reads_rows_in_blocks(monkeypatch, block_bytes):
    import scipy.sparse as sp

    from analytics import recommend as module

    rng = np.random.default_rng(0)
    matrix = sp.random(40, 9, density=0.3, format="csr", random_state=1)
    rows, cols = rng.integers(0, 40, 200), rng.integers(0, 9, 200)  # unsorted rows too
    monkeypatch.setattr(module, "_BLOCK_BYTES", block_bytes)
    for some_rows in (rows, np.sort(rows)):
        expected = np.asarray(matrix[some_rows, cols]).ravel() != 0
        assert module._holds(matrix, some_rows, cols).tolist() == expected.tolist()
    assert module._holds(matrix, rows[:0], cols[:0]).tolist() == []


def test_interleave_takes_each_antecedents_best_product_first():
    customers = pd.DataFrame({"customer_id": ["u1"], "segment": ["S"]})
    sales = _sales([("u1", "A"), ("u1", "B")])
    rules = _rules([(["A"], ["C"], 0.9, 3.0), (["A"], ["D"], 0.8, 2.0), (["B"], ["F"], 0.3, 1.5),
                    (["B"], ["E"], 0.2, 1.2)])
    interleaved = recommend(customers, sales, rules, NAMES, RecommendParams(top_n=4, fallback="none"))
    # round 1: A's best (C 0.9), B's best (F 0.3); round 2: D 0.8, E 0.2
    assert interleaved["stock_code"].tolist() == ["C", "F", "D", "E"]
    assert interleaved["rank"].tolist() == [1, 2, 3, 4]
    assert interleaved["confidence"].tolist() == [0.9, 0.3, 0.8, 0.2]
    plain = recommend(customers, sales, rules, NAMES,
                      RecommendParams(top_n=4, fallback="none", interleave_antecedents=False))
    assert plain["stock_code"].tolist() == ["C", "D", "F", "E"]
    top3 = recommend(customers, sales, rules, NAMES, RecommendParams(top_n=3, fallback="none"))
    assert top3["stock_code"].tolist() == ["C", "F", "D"]  # E, the weakest of round 2, is cut


def test_interleave_groups_by_the_best_rules_antecedent_across_customers():
    customers = pd.DataFrame({"customer_id": ["u1", "u2"], "segment": ["S", "S"]})
    sales = _sales([("u1", "A"), ("u1", "B"), ("u2", "B")])
    # the same antecedent twice (full-history and recent rules): one group; C's best rule is B -> C
    rules = _rules([(["A"], ["C"], 0.5, 2.0), (["B"], ["C"], 0.7, 2.0), (["A"], ["D"], 0.6, 2.0),
                    (["A"], ["E"], 0.4, 2.0), (["A"], ["E"], 0.55, 2.5)])
    recs = recommend(customers, sales, rules, NAMES, RecommendParams(top_n=4, fallback="none"))
    u1 = recs[recs["customer_id"] == "u1"]
    # round 1: C (B, 0.7), D (A, 0.6); round 2: E (A, best of its two rules 0.55)
    assert u1["stock_code"].tolist() == ["C", "D", "E"]
    assert u1["confidence"].tolist() == [0.7, 0.6, 0.55]
    assert u1["lift"].tolist() == [2.0, 2.0, 2.5]
    assert recs.loc[recs["customer_id"] == "u2", "stock_code"].tolist() == ["C"]
