"""Recommendation quality: time-split evaluation of the defaults and of every variant tried.

    python -m bench.recommendations [--split 2011-09-01]

The snapshot is built from the purchases before the split with the pipeline's own functions
(``analytics.evaluate``); every customer who bought before the split and bought a product new to them
after it is evaluated on their top 10 (hit rate, precision and NDCG at 10), against the popularity
baseline (top sellers not yet bought). Each variant changes one setting of the defaults (the rules
count includes the recent rules, ``recommendations.recent_rules_days``); the
"seasonal fill" experiment (benchmark-only code) replaces the last three rule-based slots by last
year's best sellers of the coming season. The defaults and the best variants are also scored on two
other splits (robustness). Writes ``bench/out/recommendations.json``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

import pandas as pd

from analytics import schema as s
from analytics.clean import clean_transactions
from analytics.evaluate import (
    evaluate_recommendations,
    new_purchases,
    popularity_baseline,
    ranking_metrics,
    split_cleaned,
)
from analytics.load import read_transactions
from analytics.products import product_names
from analytics.recommend import bought_pairs, recommend
from analytics.rfm import score_rfm, summarise_customers
from analytics.rules import basket_matrix, rules_from_baskets, with_recent_rules
from analytics.segments import assign_segments, load_scheme
from analytics.settings import BasketParams, load_settings
from bench._common import machine, print_table, write_results

SPLIT = "2011-09-01"
OTHER_SPLITS = ("2011-09-11", "2011-10-01")  # the refresh's own 90-day holdout, and one month later
TARGET_HIT_RATE = 0.50
PREVIOUS = "previous defaults (no interleaving, no recent rules)"


def variants(settings) -> dict[str, object]:
    """Name -> settings: the defaults, then one change at a time."""
    rules, recs = settings.rules, settings.recommendations
    table = {"defaults": settings,
             PREVIOUS: replace(settings, recommendations=replace(recs, interleave_antecedents=False,
                                                                 recent_rules_days=0))}
    table["interleave_antecedents = false"] = replace(
        settings, recommendations=replace(recs, interleave_antecedents=False))
    for days in (0, 30, 90, 120):
        table[f"recent_rules_days = {days}"] = replace(settings, recommendations=replace(recs, recent_rules_days=days))
    for support in (0.01, 0.02):
        table[f"recent_rules_min_support = {support}"] = replace(
            settings, recommendations=replace(recs, recent_rules_min_support=support))
    for scoring in ("confidence_sum", "noisy_or", "lift"):
        table[f"scoring = {scoring}"] = replace(settings, recommendations=replace(recs, scoring=scoring))
    table["fallback = none"] = replace(settings, recommendations=replace(recs, fallback="none"))
    for support in (0.005, 0.0075, 0.015, 0.02):
        table[f"min_support = {support}"] = replace(settings, rules=replace(rules, min_support=support))
    for confidence in (0.05, 0.1, 0.3):
        table[f"min_confidence = {confidence}"] = replace(settings, rules=replace(rules, min_confidence=confidence))
    for lift in (1.5, 2.0, 3.0):
        table[f"min_lift = {lift}"] = replace(settings, rules=replace(rules, min_lift=lift))
    for length in (3, 4):
        table[f"max_len = {length}"] = replace(settings, rules=replace(rules, max_len=length))
    table["baskets.include_guests = false"] = replace(settings, baskets=BasketParams(include_guests=False))
    return table


def score(lines: pd.DataFrame, names: pd.Series, settings, scheme, split: pd.Timestamp) -> dict:
    """Metrics of one configuration on one split, plus the rule coverage of all customers before it."""
    cleaned = clean_transactions(lines, settings.cleaning, settings.baskets)
    quality = evaluate_recommendations(cleaned, names, settings, scheme, split)
    before, _ = split_cleaned(cleaned, split)
    customers = assign_segments(score_rfm(summarise_customers(before.sales, split)), scheme)
    baskets = basket_matrix(before.basket_lines)
    params = settings.recommendations
    rules = with_recent_rules(rules_from_baskets(baskets, settings.rules, names), baskets, before.basket_lines,
                              settings.rules, names, split, params.recent_rules_days, params.recent_rules_min_support)
    recs = recommend(customers, before.sales, rules, names, settings.recommendations)
    coverage = recs.loc[recs["source"] == "rule", s.CUSTOMER_ID].nunique() / len(customers)
    return {**quality, "rules": len(rules), "rule_coverage": coverage}


def seasonal_fill(lines: pd.DataFrame, names: pd.Series, settings, scheme, split: pd.Timestamp,
                  rule_slots: int = 7, season_days: int = 120) -> dict:
    """Experiment: rule-based top ``rule_slots``, then last year's best sellers of the next ``season_days``."""
    k = settings.evaluation.k
    cleaned = clean_transactions(lines, settings.cleaning, settings.baskets)
    before, after = split_cleaned(cleaned, split)
    bought = bought_pairs(before.sales)
    relevant = new_purchases(bought, bought_pairs(after), before.sales[s.CUSTOMER_ID])
    evaluated = pd.Index(relevant[s.CUSTOMER_ID].unique())
    customers = assign_segments(score_rfm(summarise_customers(before.sales, split)), scheme)
    baskets = basket_matrix(before.basket_lines)
    params = settings.recommendations
    rules = with_recent_rules(rules_from_baskets(baskets, settings.rules, names), baskets, before.basket_lines,
                              settings.rules, names, split, params.recent_rules_days, params.recent_rules_min_support)
    recs = recommend(customers, before.sales, rules, names, replace(settings.recommendations, top_n=k), only=evaluated)
    kept = recs[(recs["source"] == "rule") & (recs["rank"] <= rule_slots)][[s.CUSTOMER_ID, s.STOCK_CODE, "rank"]]
    start = split - pd.Timedelta(days=365)
    season = before.sales[(before.sales[s.INVOICE_DATE] >= start)
                          & (before.sales[s.INVOICE_DATE] < start + pd.Timedelta(days=season_days))]
    # season's best sellers, skipping what the customer owns or already has in the list
    taken = pd.concat([bought, kept[[s.CUSTOMER_ID, s.STOCK_CODE]]], ignore_index=True).astype("str")
    extra = popularity_baseline_excluding(bought_pairs(season), evaluated, taken, k)
    extra = extra.merge(kept.groupby(s.CUSTOMER_ID).size().rename("used").reset_index(), how="left")
    extra["rank"] = extra["rank"] + extra["used"].fillna(0).astype(int)
    combined = pd.concat([kept, extra[extra["rank"] <= k][[s.CUSTOMER_ID, s.STOCK_CODE, "rank"]]])
    return {**ranking_metrics(combined, relevant, k), "season_pairs": len(season)}


def popularity_baseline_excluding(season: pd.DataFrame, customers: pd.Index, taken: pd.DataFrame, k: int):
    """Top ``k`` of the season's best sellers per customer, leaving out the (customer, product) pairs taken."""
    if season.empty:
        return pd.DataFrame({s.CUSTOMER_ID: [], s.STOCK_CODE: [], "rank": []})
    ranked = popularity_baseline(season, customers, k + 1000)  # deep enough to skip owned products
    ranked = ranked.astype({s.CUSTOMER_ID: "str", s.STOCK_CODE: "str"})
    ranked = ranked.merge(taken.assign(_taken=True).drop_duplicates(), how="left")
    ranked = ranked[ranked["_taken"].isna()].copy()
    ranked["rank"] = ranked.groupby(s.CUSTOMER_ID).cumcount() + 1
    return ranked[ranked["rank"] <= k]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.recommendations", description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default=SPLIT)
    args = parser.parse_args(argv)
    settings = load_settings({})
    settings = replace(settings, evaluation=replace(settings.evaluation, max_customers=0))  # every customer
    scheme = load_scheme(settings.segments.scheme)
    lines = read_transactions(settings.input.path, settings.input)
    names = product_names(lines)
    split = pd.Timestamp(args.split)

    rows = []
    for name, variant in variants(settings).items():
        result = score(lines, names, variant, scheme, split)
        rows.append({"variant": name, "hit_rate": result["hit_rate"], "precision": result["precision"],
                     "ndcg": result["ndcg"], "rules": result["rules"], "rule_coverage": result["rule_coverage"]})
        if name == "defaults":
            baseline, evaluated = result["baseline"], result["customers_evaluated"]
    rows.insert(0, {"variant": "popularity baseline (top sellers not yet bought)", "hit_rate": baseline["hit_rate"],
                    "precision": baseline["precision"], "ndcg": baseline["ndcg"]})
    season = seasonal_fill(lines, names, settings, scheme, split)
    rows.append({"variant": "experiment: 7 rule slots + 3 best sellers of the season last year",
                 "hit_rate": season["hit_rate"], "precision": season["precision"], "ndcg": season["ndcg"]})

    robustness = []
    best = sorted((r for r in rows[2:-1] if r.get("rule_coverage", 0) >= 0.9), key=lambda r: -r["hit_rate"])[:3]
    chosen = ["defaults", PREVIOUS, "interleave_antecedents = false", "recent_rules_days = 0",
              *(r["variant"] for r in best)]
    for other in (args.split, *OTHER_SPLITS):
        when = pd.Timestamp(other)
        for name in dict.fromkeys(chosen):
            result = score(lines, names, variants(settings)[name], scheme, when)
            robustness.append({"split": other, "variant": name, "customers": result["customers_evaluated"],
                               "hit_rate": result["hit_rate"], "baseline_hit_rate": result["baseline"]["hit_rate"]})
        season = seasonal_fill(lines, names, settings, scheme, when)
        robustness.append({"split": other, "variant": "experiment: seasonal fill", "customers": season["customers"],
                           "hit_rate": season["hit_rate"]})

    results = {"machine": machine(), "split": args.split, "customers_evaluated": evaluated, "k": 10,
               "target_hit_rate": TARGET_HIT_RATE, "command": "python -m bench.recommendations "
               + " ".join(argv or sys.argv[1:]), "variants": rows, "robustness": robustness}
    write_results("recommendations", results)
    print(f"\nSplit {args.split}: {evaluated:,} customers evaluated (top 10)")
    print_table(rows, ["variant", "hit_rate", "precision", "ndcg", "rules", "rule_coverage"])
    print("\nRobustness (hit rate at 10 on other splits)")
    print_table(robustness, ["split", "variant", "customers", "hit_rate", "baseline_hit_rate"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
