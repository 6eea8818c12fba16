"""Offline evaluation: metrics on a handmade example with answers worked out by hand, then the real split.

Top-3 lists (k = 3) and the new products each customer bought after the split:

    customer  recommended (rank 1, 2, 3, 4)   relevant   hits (rank)
    A         X, Y, Z                          Y, W       Y (2)
    B         X, Y                             Q          —
    C         (none)                           X          —
    D         P, Q, R, S                       S          — (S is rank 4, beyond k)

hit rate = 1/4; precision = (1/3) / 4 = 1/12;
NDCG: A = (1/log2 3) / (1 + 1/log2 3) = 0.386853..., others 0 -> mean 0.096713...
"""

import math
from dataclasses import replace

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.clean import clean_transactions
from analytics.evaluate import evaluate_recommendations, new_purchases, popularity_baseline, ranking_metrics
from analytics.products import product_names
from analytics.recommend import bought_pairs
from analytics.segments import load_scheme
from analytics.settings import load_settings


def _pairs(rows):
    return pd.DataFrame(rows, columns=["customer_id", "stock_code"])


RECOMMENDED = pd.DataFrame(
    [("A", 1, "X"), ("A", 2, "Y"), ("A", 3, "Z"), ("B", 1, "X"), ("B", 2, "Y"),
     ("D", 1, "P"), ("D", 2, "Q"), ("D", 3, "R"), ("D", 4, "S")],
    columns=["customer_id", "rank", "stock_code"])
RELEVANT = _pairs([("A", "Y"), ("A", "W"), ("B", "Q"), ("C", "X"), ("D", "S")])


def test_metrics_by_hand():
    metrics = ranking_metrics(RECOMMENDED, RELEVANT, k=3)
    a_ndcg = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert metrics["customers"] == 4
    assert metrics["hit_rate"] == pytest.approx(1 / 4)
    assert metrics["precision"] == pytest.approx(1 / 12)
    assert metrics["ndcg"] == pytest.approx(a_ndcg / 4)
    assert a_ndcg == pytest.approx(0.386853, abs=1e-6)


def test_perfect_list_scores_one():
    recommended = pd.DataFrame([("A", 1, "Y"), ("A", 2, "W"), ("A", 3, "Z")],
                               columns=["customer_id", "rank", "stock_code"])
    metrics = ranking_metrics(recommended, _pairs([("A", "Y"), ("A", "W")]), k=3)
    assert metrics == {"customers": 1, "hit_rate": 1.0, "precision": pytest.approx(2 / 3), "ndcg": pytest.approx(1.0)}


def test_new_purchases_are_new_products_of_known_customers():
    before = _pairs([("A", "X"), ("A", "Y"), ("B", "X")])
    after = _pairs([("A", "X"), ("A", "Z"), ("B", "Y"), ("S", "X"), ("N", "X")])
    # S bought only service codes before: known, evaluated; N did not buy before: not evaluated
    known = pd.Series(["A", "B", "S"], dtype="str")
    assert new_purchases(before, after, known).values.tolist() == [["A", "Z"], ["B", "Y"], ["S", "X"]]


def test_popularity_baseline_skips_what_each_customer_owns():
    bought = _pairs([("A", "X"), ("B", "X"), ("C", "X"), ("A", "Y"), ("B", "Y"), ("C", "Z"), ("D", "W")])
    # buyers: X 3, Y 2, W 1, Z 1 (ties by code: W before Z)
    baseline = popularity_baseline(bought, pd.Index(["A", "C", "E"]), k=2)
    assert baseline.values.tolist() == [["A", 1, "W"], ["A", 2, "Z"], ["C", 1, "Y"], ["C", 2, "W"],
                                        ["E", 1, "X"], ["E", 2, "Y"]]


def test_no_customer_to_evaluate_gives_nan(lines):
    # Before 2024-01-05: A bought X, Y; C bought Y. After: B and E (new customers, not evaluated), A (X: not new).
    settings = load_settings({})
    cleaned = clean_transactions(lines, settings.cleaning, settings.baskets)
    quality = evaluate_recommendations(cleaned, product_names(lines), settings, load_scheme(settings.segments.scheme),
                                       split=pd.Timestamp("2024-01-05"))
    assert quality["customers_evaluated"] == 0 and math.isnan(quality["hit_rate"])
    assert quality["split_date"] == "2024-01-05" and quality["k"] == 10


@pytest.fixture(scope="module")
def bundled(bundled_lines):
    settings = load_settings({})
    return (clean_transactions(bundled_lines, settings.cleaning, settings.baskets), product_names(bundled_lines),
            settings)


def test_bundled_split_of_the_benchmark(bundled):
    cleaned, names, settings = bundled
    quality = evaluate_recommendations(cleaned, names, settings, load_scheme(settings.segments.scheme),
                                       split=pd.Timestamp("2011-09-01"))
    assert quality["customers_evaluated"] == 1_887
    assert quality["baseline"]["hit_rate"] == pytest.approx(0.3328, abs=5e-4)
    assert quality["hit_rate"] > quality["baseline"]["hit_rate"] + 0.1
    assert quality["rule_based_share"] >= 0.9


def test_bought_pairs_keep_first_occurrences(lines):
    sales = lines.assign(is_service=lines["stock_code"] == "POST")
    pairs = bought_pairs(sales)
    assert not pairs.duplicated().any() and "POST" not in set(pairs["stock_code"])
    assert pairs.iloc[0].tolist() == ["A", "X"]


# The metrics of commit 51bcaad (before the evaluation reused the main run's work), pinned so that faster
# code must give the same numbers: (split, holdout end, max_customers) -> values. 2011-09-11 to 2011-12-10 is
# the refresh's own holdout; 500 customers exercises the sample; 2011-12-01 leaves nine days after the split.
PINNED = {
    ("2011-09-11", "2011-12-10", 5000): dict(
        customers_evaluated=1860, customers_qualifying=1860, hit_rate=0.4575268817204301,
        precision=0.08198924731182795, ndcg=0.09362611196004957, rule_based_share=0.9666666666666667,
        baseline=(0.3209677419354839, 0.046720430107526884, 0.04995565802009427)),
    ("2011-09-01", None, 500): dict(
        customers_evaluated=500, customers_qualifying=1887, hit_rate=0.48, precision=0.082,
        ndcg=0.093997423322896, rule_based_share=0.974, baseline=(0.338, 0.0508, 0.05226724583166936)),
    ("2011-12-01", None, 5000): dict(
        customers_evaluated=503, customers_qualifying=503, hit_rate=0.2882703777335984,
        precision=0.039761431411530816, ndcg=0.054853966928327856, rule_based_share=0.9721669980119284,
        baseline=(0.16500994035785288, 0.02047713717693837, 0.02288732178425791)),
}


# The same with the default interleaving over antecedents and rules of the last 60 days (support 1.5 %)
# added; the baseline does not change.
PINNED_DEFAULTS = {
    ("2011-09-11", "2011-12-10", 5000): dict(
        customers_evaluated=1860, customers_qualifying=1860, hit_rate=0.4913978494623656,
        precision=0.09069892473118281, ndcg=0.10170907470605449, rule_based_share=0.967741935483871,
        baseline=PINNED[("2011-09-11", "2011-12-10", 5000)]["baseline"]),
    ("2011-09-01", None, 500): dict(
        customers_evaluated=500, customers_qualifying=1887, hit_rate=0.524, precision=0.0918,
        ndcg=0.10316084145228473, rule_based_share=0.976, baseline=PINNED[("2011-09-01", None, 500)]["baseline"]),
    ("2011-12-01", None, 5000): dict(
        customers_evaluated=503, customers_qualifying=503, hit_rate=0.3220675944333996,
        precision=0.048111332007952284, ndcg=0.061210618519015866, rule_based_share=0.9761431411530815,
        baseline=PINNED[("2011-12-01", None, 5000)]["baseline"]),
}


@pytest.mark.parametrize("defaults", [False, True], ids=["previous recommendations", "defaults"])
@pytest.mark.parametrize("split, until, most", list(PINNED))
def test_bundled_metrics_pinned(bundled, split, until, most, defaults):
    cleaned, names, settings = bundled
    settings = replace(settings, evaluation=replace(settings.evaluation, max_customers=most))
    if not defaults:  # the recommendations of commit 51bcaad
        settings = replace(settings, recommendations=replace(settings.recommendations, interleave_antecedents=False,
                                                             recent_rules_days=0))
    quality = evaluate_recommendations(cleaned, names, settings, load_scheme(settings.segments.scheme),
                                       split=pd.Timestamp(split), until=until and pd.Timestamp(until))
    expected = (PINNED_DEFAULTS if defaults else PINNED)[(split, until, most)]
    for key in ("customers_evaluated", "customers_qualifying"):
        assert quality[key] == expected[key], key
    for key in ("hit_rate", "precision", "ndcg", "rule_based_share"):
        assert quality[key] == pytest.approx(expected[key], abs=1e-9), key
    got = (quality["baseline"]["hit_rate"], quality["baseline"]["precision"], quality["baseline"]["ndcg"])
    assert got == pytest.approx(expected["baseline"], abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.sets(st.tuples(st.sampled_from(["A", "B", "C", "D"]), st.sampled_from(["P", "Q", "R", "S", "T"]))),
       st.lists(st.sampled_from(["A", "B", "C", "D", "E"]), unique=True), st.integers(1, 6))
def test_popularity_baseline_by_brute_force(pairs, customers, k):
    bought = _pairs(sorted(pairs)).astype("str")
    buyers = {item: sum(1 for _, i in pairs if i == item) for _, item in pairs}
    ranking = sorted(buyers, key=lambda item: (-buyers[item], item))
    expected = [[c, rank, item] for c in customers
                for rank, item in enumerate([i for i in ranking if (c, i) not in pairs][:k], start=1)]
    baseline = popularity_baseline(bought, pd.Index(customers, dtype="str"), k)
    assert baseline.values.tolist() == expected
