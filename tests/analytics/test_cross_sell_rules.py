"""Cross-sell refresh features: redundancy, per-segment rules, blocklist, no length bound, itemset cap,
rule ids, and exactness against mlxtend with no length bound (bundled data and a dense generated
benchmark with itemsets of 5 to 8 items at support 0.001)."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from analytics.blocklist import blocklist_report
from analytics.clean import clean_transactions
from analytics.errors import ConfigError
from analytics.miner import ItemsetLimitError, mine_itemsets
from analytics.products import product_names
from analytics.redundancy import redundant_flags
from analytics.rules import basket_matrix, frequent_itemsets, mine_rules, rule_ids
from analytics.segment_rules import mine_segment_rules
from analytics.settings import RulesParams, load_settings

METRICS = ["antecedent_support", "consequent_support", "support", "confidence", "lift", "leverage", "conviction"]
ALL_RULES = RulesParams(min_support=0.3, min_baskets=1, min_confidence=0.1, min_lift=0.0, max_len=None)


def _lines(baskets: list[set[str]], customers: list[str | None] | None = None) -> pd.DataFrame:
    customers = customers or [None] * len(baskets)
    return pd.DataFrame([(f"I{b}", item, customers[b], pd.Timestamp("2011-01-01") + pd.Timedelta(days=b))
                         for b, basket in enumerate(baskets) for item in sorted(basket)],
                        columns=["invoice", "stock_code", "customer_id", "invoice_date"])


# 10 baskets: 4 × {A,B,C}, 2 × {A,C}, {B,C}, {A}, {B}, {A,B}.
# Counts: A 8, B 7, C 7, AB 5, AC 6, BC 5, ABC 4.
ABC = [{"A", "B", "C"}] * 4 + [{"A", "C"}] * 2 + [{"B", "C"}, {"A"}, {"B"}, {"A", "B"}]
NAMES = pd.Series({"A": "MUG", "B": "TEAPOT", "C": "PAPER CARRIER BAG"}, name="description")


def _rule(rules: pd.DataFrame, ante: list[str], cons: list[str]) -> pd.Series:
    found = rules[(rules["antecedents"].map(tuple) == tuple(ante)) & (rules["consequents"].map(tuple) == tuple(cons))]
    assert len(found) == 1, (ante, cons)
    return found.iloc[0]


def test_redundant_rules_by_hand():
    rules = mine_rules(_lines(ABC), ALL_RULES, NAMES)
    # AB→C: conf 4/5 = 0.8 beats A→C (6/8 = 0.75) and B→C (5/7 ≈ 0.714): kept.
    assert _rule(rules, ["A", "B"], ["C"])["confidence"] == pytest.approx(0.8)
    assert not _rule(rules, ["A", "B"], ["C"])["redundant"]
    # AC→B: conf 4/6 ≈ 0.667 < C→B 5/7 ≈ 0.714: redundant. BC→A: 4/5 = 0.8 < C→A 6/7 ≈ 0.857: redundant.
    assert _rule(rules, ["A", "C"], ["B"])["redundant"]
    assert _rule(rules, ["B", "C"], ["A"])["redundant"]
    # one-item antecedents are never redundant
    assert not rules.loc[rules["antecedents"].map(len) == 1, "redundant"].any()
    assert int(rules["redundant"].sum()) == 2


def test_redundancy_counts_an_equal_confidence_and_needs_the_same_consequent():
    flags = redundant_flags([["A", "B"], ["A"], ["A", "B"], ["B"]], [["C"], ["C"], ["D"], ["C"]], [0.5, 0.5, 0.6, 0.1])
    assert flags.tolist() == [True, False, False, False]  # AB→D: no A→D or B→D in the list


def test_rules_per_segment_on_each_segments_baskets():
    # S1 (customer c1): {X,Y} ×3, {Z} → n 4, X 3, Y 3, XY 3: X→Y support 0.75, confidence 1, lift 1/(3/4) = 4/3.
    # S2 (customer c2): {X,Z} ×2, {Y} ×2 → n 4, X 2, Z 2, XZ 2: X→Z support 0.5, confidence 1, lift 1/(2/4) = 2.
    # Guests: {Y,Z} ×3 — in no segment.
    baskets = [{"X", "Y"}] * 3 + [{"Z"}] + [{"X", "Z"}] * 2 + [{"Y"}] * 2 + [{"Y", "Z"}] * 3
    owners = ["c1"] * 4 + ["c2"] * 4 + [None] * 3
    lines = _lines(baskets, owners)
    customers = pd.DataFrame({"customer_id": ["c1", "c2"], "segment": ["S1", "S2"]})
    params = RulesParams(min_support=0.5, min_baskets=1, min_confidence=0.5, min_lift=1.0)
    table, cost = mine_segment_rules(basket_matrix(lines), lines, customers, params, pd.Series(dtype="str"))
    pairs = {(r.segment, r.antecedents[0], r.consequents[0]): r for r in table.itertuples()}
    assert set(pairs) == {("S1", "X", "Y"), ("S1", "Y", "X"), ("S2", "X", "Z"), ("S2", "Z", "X")}
    assert pairs["S1", "X", "Y"].support == pytest.approx(0.75)
    assert pairs["S1", "X", "Y"].lift == pytest.approx(4 / 3)
    assert pairs["S2", "X", "Z"].support == pytest.approx(0.5) and pairs["S2", "X", "Z"].lift == pytest.approx(2.0)
    assert {k: (v["baskets"], v["rules"]) for k, v in cost.items()} == {"S1": (4, 2), "S2": (4, 2)}
    assert table["rule_id"].is_unique  # the segment is part of the id
    assert list(table.columns) == ["segment", *mine_rules(lines, params, pd.Series(dtype="str")).columns]


def test_blocklist_keeps_products_out_of_rules_by_code_and_by_description():
    by_code = mine_rules(_lines(ABC), replace(ALL_RULES, blocklist=("C",)), NAMES)
    by_name = mine_rules(_lines(ABC), replace(ALL_RULES, blocklist_pattern="carrier bag"), NAMES)
    for rules in (by_code, by_name):
        assert sorted(map(tuple, rules["antecedents"])) == [("A",), ("B",)]
        assert _rule(rules, ["A"], ["B"])["support"] == pytest.approx(5 / 10)  # still out of all 10 baskets
    report = blocklist_report(_lines(ABC), NAMES, replace(ALL_RULES, blocklist_pattern="carrier bag"))
    assert report["products"] == [{"stock_code": "C", "description": "PAPER CARRIER BAG", "basket_lines": 7}]
    assert report["basket_lines"] == 7
    with pytest.raises(ConfigError, match="rules.blocklist_pattern"):
        mine_rules(_lines(ABC), replace(ALL_RULES, blocklist_pattern="(unclosed"), NAMES)


def test_max_len_null_in_yaml_means_no_bound(tmp_path):
    path = tmp_path / "settings.yaml"
    path.write_text("rules: {max_len: null}\n")
    params = load_settings({}, path).rules
    assert params.max_len is None
    path.write_text("rules: {min_support: 0.02}\n")
    assert load_settings({}, path).rules.max_len == 2  # absent: the default
    rules = mine_rules(_lines(ABC), replace(ALL_RULES, max_len=None), NAMES)
    assert (rules["antecedents"].map(len) + rules["consequents"].map(len)).max() == 3  # ABC (4/10 ≥ 0.3)
    assert len(mine_rules(_lines(ABC), replace(ALL_RULES, max_len=2), NAMES)) == 6  # AB, AC, BC both ways


def test_itemset_cap_raises_a_clear_error_naming_the_threshold():
    # 7 itemsets at support 0.3 (A, B, C, AB, AC, BC, ABC): a cap of 6 stops mining.
    with pytest.raises(ConfigError, match=r"rules.max_itemsets.*Raise rules.min_support \(now 0.3\)"):
        mine_rules(_lines(ABC), replace(ALL_RULES, max_itemsets=6), NAMES)
    assert len(mine_rules(_lines(ABC), replace(ALL_RULES, max_itemsets=7), NAMES)) == 12
    with pytest.raises(ConfigError, match="rules.max_itemsets"):
        frequent_itemsets(basket_matrix(_lines(ABC)), replace(ALL_RULES, algorithm="fpgrowth", max_itemsets=6))


def test_the_cap_stops_candidates_before_they_are_built():
    # 60 items in every basket: 1,770 pairs are frequent, the 34,220 triples would be candidates.
    matrix = basket_matrix(_lines([{f"P{i:02d}" for i in range(60)}] * 3)).matrix
    with pytest.raises(ItemsetLimitError) as caught:
        mine_itemsets(matrix, 0.5, None, max_itemsets=2_000)
    assert caught.value.size == 3 and caught.value.found == 34_220  # C(60, 3), counted before the join


def test_rule_ids_are_stable_short_and_depend_on_window():
    rules = pd.DataFrame({"window": ["all baskets", "last 60 days"], "antecedents": [["A"], ["A"]],
                          "consequents": [["B"], ["B"]]})
    ids = rule_ids(rules)
    assert ids == rule_ids(rules) and len(set(ids)) == 2 and all(len(i) == 12 for i in ids)
    import hashlib
    assert ids[0] == hashlib.sha256(b"all baskets|A>B").hexdigest()[:12]


def dense_baskets(n: int = 10_000, n_items: int = 400, seed: int = 7) -> pd.DataFrame:
    """A dense, retail-like basket file: Zipf item popularity, 8 baskets on average, and 3 % of baskets
    holding most of one of eight planted 5- to 8-item patterns (itemsets of 5-8 items at support 0.001)."""
    rng = np.random.default_rng(seed)
    popularity = 1 / np.arange(1, n_items + 1) ** 0.9
    popularity /= popularity.sum()
    sizes = rng.poisson(7, n) + 1
    patterns = [rng.choice(n_items, size=k, replace=False) for k in (5, 5, 6, 6, 6, 7, 7, 8)]
    rows = []
    for basket in range(n):
        items = set(rng.choice(n_items, size=sizes[basket], p=popularity))
        if rng.random() < 0.03:
            pattern = patterns[rng.integers(len(patterns))]
            items |= set(pattern[rng.random(len(pattern)) < 0.9])
        rows += [(f"B{basket}", f"P{item:03d}") for item in items]
    return pd.DataFrame(rows, columns=["invoice", "stock_code"])


def _itemsets(frame: pd.DataFrame) -> dict:
    return dict(zip(frame["itemsets"], frame["support"]))


def _same_rules(ours: pd.DataFrame, reference: pd.DataFrame) -> None:
    assert len(ours) == len(reference)
    pd.testing.assert_frame_equal(ours.drop(columns=METRICS), reference.drop(columns=METRICS))
    pd.testing.assert_frame_equal(ours[METRICS], reference[METRICS], check_exact=False, rtol=0, atol=1e-12)


def test_dense_benchmark_identical_to_mlxtend_with_no_length_bound():
    lines = dense_baskets()
    params = RulesParams(min_support=0.001, min_baskets=1, min_confidence=0.6, min_lift=1.0, max_len=None)
    baskets = basket_matrix(lines)
    ours = _itemsets(frequent_itemsets(baskets, params))
    reference = _itemsets(frequent_itemsets(baskets, replace(params, algorithm="fpgrowth")))
    assert ours.keys() == reference.keys() and len(ours) == 13_501
    assert max(map(len, ours)) == 8 and sum(len(i) in (5, 6) for i in ours) == 470 + 152
    assert max(abs(ours[i] - reference[i]) for i in reference) <= 1e-12
    names = pd.Series(dtype="str")
    _same_rules(mine_rules(lines, params, names), mine_rules(lines, replace(params, algorithm="fpgrowth"), names))


def test_bundled_rules_with_no_length_bound_identical_to_mlxtend(bundled_lines):
    settings = load_settings({})
    cleaned = clean_transactions(bundled_lines, settings.cleaning, settings.baskets)
    names = product_names(bundled_lines)
    params = replace(settings.rules, max_len=None, min_confidence=0.1)
    ours = mine_rules(cleaned.basket_lines, params, names)
    _same_rules(ours, mine_rules(cleaned.basket_lines, replace(params, algorithm="fpgrowth"), names))
    assert ours["antecedents"].map(len).max() >= 2 and ours["redundant"].any()


def test_pipeline_blocklist_segment_rules_and_product_tables_on_the_bundled_data(bundled_lines):
    from analytics.pipeline import build_snapshot
    from analytics.segments import load_scheme

    settings = load_settings({})
    blocked = "85123A"  # WHITE HANGING HEART T-LIGHT HOLDER, the most frequent product
    settings = replace(settings, rules=replace(settings.rules, blocklist=(blocked,)),
                       evaluation=replace(settings.evaluation, enabled=False))
    snapshot = build_snapshot(bundled_lines, settings, load_scheme(settings.segments.scheme))
    tables, report = snapshot.tables, snapshot.meta["rules"]
    for name in ("rules", "segment_rules"):
        codes = set().union(*map(set, tables[name]["antecedents"]), *map(set, tables[name]["consequents"]))
        assert blocked not in codes and len(tables[name]) > 1_000
    assert blocked not in set(tables["recommendations"]["stock_code"])
    assert report["blocklist"]["products"][0]["stock_code"] == blocked
    every_line = int((bundled_lines["stock_code"].astype(str) == blocked).sum())
    assert report["blocklist"]["basket_lines"] == every_line - _excluded_lines(bundled_lines, blocked) > 2_000
    assert report["redundant"] == int(tables["rules"]["redundant"].sum())
    assert set(report["segments"]) == set(tables["customers"]["segment"])
    assert sum(cost["rules"] for cost in report["segments"].values()) == len(tables["segment_rules"])
    by_product = tables["product_monthly"].groupby("stock_code")["revenue"].sum()
    products = tables["products"].set_index("stock_code")["revenue"]
    assert np.allclose(by_product.reindex(products.index).to_numpy(), products.to_numpy())
    assert len(tables["product_buyers"]) == len(tables["product_buyers"].drop_duplicates())


def _excluded_lines(lines: pd.DataFrame, code: str) -> int:
    """Lines of ``code`` that are not basket lines: cancellations, quantity or price ≤ 0 (cleaning)."""
    mine = lines[lines["stock_code"].astype(str) == code]
    cancelled = mine["invoice"].astype(str).str.startswith("C")
    return int((cancelled | (mine["quantity"] <= 0) | (mine["unit_price"] <= 0)).sum())
