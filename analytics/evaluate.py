"""Offline evaluation of the recommendations with a time split.

Recommendations are built by the usual stages (RFM, segments, rules, recommend) from the sales
before a split date only. A customer is evaluated when they bought before the split and bought at
least one product after it that they had never bought before (service codes excluded); those new
products are the relevant items. For each evaluated customer and their top ``k`` recommendations:

- hit rate@k: 1 if at least one recommendation is relevant (then averaged over customers);
- precision@k: relevant recommendations / k;
- NDCG@k: Σ 1/log2(rank + 1) over relevant recommendations, divided by the same sum for a perfect
  list (the first min(k, relevant items) ranks all relevant); binary relevance.

The baseline recommends the top sellers (most distinct buyers before the split, ties by stock code)
that the customer has not bought yet.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from analytics import schema as s
from analytics._categories import as_text, isin, positions, shared_codes, sorted_codes
from analytics.clean import CleanResult
from analytics.recommend import bought_pairs, recommend_from_pairs
from analytics.rfm import score_rfm, summarise_customers
from analytics.rules import (
    Baskets,
    basket_matrix,
    rules_from_baskets,
    select_baskets,
    with_recent_rules,
)
from analytics.segments import SegmentScheme, assign_segments
from analytics.settings import RecommendParams, Settings

__all__ = ["evaluate_recommendations", "new_purchases", "popularity_baseline", "ranking_metrics",
           "split_cleaned"]

_SALE_COLUMNS = [s.CUSTOMER_ID, s.INVOICE, s.INVOICE_DATE, s.STOCK_CODE, s.REVENUE, "is_service"]


def split_cleaned(cleaned: CleanResult, split: pd.Timestamp) -> tuple[CleanResult, pd.DataFrame]:
    """The cleaned sales and basket lines before ``split`` (no returns: recommendations do not use them),
    and the sale lines from ``split`` on."""
    before = CleanResult(
        sales=cleaned.sales[cleaned.sales[s.INVOICE_DATE] < split].reset_index(drop=True),
        returns=cleaned.returns.iloc[:0],
        basket_lines=cleaned.basket_lines[cleaned.basket_lines[s.INVOICE_DATE] < split].reset_index(drop=True),
        report=cleaned.report,
    )
    return before, cleaned.sales[cleaned.sales[s.INVOICE_DATE] >= split].reset_index(drop=True)


def new_purchases(before: pd.DataFrame, after: pd.DataFrame, customers: pd.Series) -> pd.DataFrame:
    """Products bought after the split by known customers who had never bought them before.

    Args:
        before, after: distinct customer_id, stock_code purchases (``recommend.bought_pairs``) before
            and after the split.
        customers: ids of the customers known before the split (the ones that get recommendations).

    Returns:
        the rows of ``after`` that are new purchases of known customers.
    """
    old_customer, new_customer, known = shared_codes(before[s.CUSTOMER_ID], after[s.CUSTOMER_ID], customers)
    old_item, new_item = shared_codes(before[s.STOCK_CODE], after[s.STOCK_CODE])
    width = int(max(old_item.max(initial=0), new_item.max(initial=0))) + 1
    fresh = ~isin(new_customer * width + new_item, old_customer * width + old_item)
    return after[fresh & isin(new_customer, known)].reset_index(drop=True)


def ranking_metrics(recommended: pd.DataFrame, relevant: pd.DataFrame, k: int) -> dict[str, float]:
    """Hit rate, precision and NDCG at ``k`` over the customers of ``relevant``.

    Args:
        recommended: customer_id, rank (1 = best), stock_code; customers without any count as misses.
        relevant: customer_id, stock_code (distinct pairs).

    Returns:
        customers, hit_rate, precision, ndcg.
    """
    customers = pd.Index(relevant[s.CUSTOMER_ID].unique())
    if customers.empty:
        return {"customers": 0, "hit_rate": float("nan"), "precision": float("nan"), "ndcg": float("nan")}
    top = recommended[recommended["rank"] <= k]
    who, owner = positions(customers, top[s.CUSTOMER_ID]), positions(customers, relevant[s.CUSTOMER_ID])
    item, wanted = shared_codes(top[s.STOCK_CODE], relevant[s.STOCK_CODE])
    width = int(max(item.max(initial=0), wanted.max(initial=0))) + 1
    hit = (who >= 0) & isin(who * width + item, owner * width + wanted)
    hits = np.bincount(who[hit], minlength=len(customers))
    dcg = np.bincount(who[hit], weights=1 / np.log2(top["rank"].to_numpy()[hit] + 1), minlength=len(customers))
    discounts = np.cumsum(1 / np.log2(np.arange(2, k + 2)))
    ideal = discounts[np.minimum(np.bincount(owner, minlength=len(customers)), k) - 1]
    return {"customers": len(customers), "hit_rate": float(np.mean(hits > 0)),
            "precision": float(np.mean(hits / k)), "ndcg": float(np.mean(dcg / ideal))}


def popularity_baseline(bought: pd.DataFrame, customer_ids: pd.Index, k: int) -> pd.DataFrame:
    """The ``k`` best sellers (most distinct buyers, ties by stock code) each customer has not bought.

    Args:
        bought: distinct customer_id, stock_code purchases.
        customer_ids: the customers to recommend to.

    Returns:
        customer_id, rank, stock_code.
    """
    code, items = sorted_codes(bought[s.STOCK_CODE])  # codes sort like stock codes: ties
    buyers = np.bincount(code, minlength=len(items))
    ranking = np.lexsort((np.arange(len(items)), -buyers))[:np.count_nonzero(buyers)]  # best seller first
    place = np.full(len(items), -1, dtype=np.int64)
    place[ranking] = np.arange(len(ranking))
    who = positions(customer_ids, bought[s.CUSTOMER_ID])
    # The (j+1)-th place a customer does not own is j + the number of their owned places p with
    # p - i <= j, p being the i-th owned place in ascending order (p - i free places come before p).
    width = len(ranking)
    owned = np.sort(who[who >= 0].astype(np.int64) * width + place[code[who >= 0]])
    owner = owned // width
    free_before = owned - (np.arange(len(owned)) - np.searchsorted(owner, owner))
    customer, j = np.repeat(np.arange(len(customer_ids)), k), np.tile(np.arange(k), len(customer_ids))
    position = j + np.searchsorted(free_before, customer * width + j, side="right") - np.searchsorted(owner, customer)
    keep = position < width
    return pd.DataFrame({s.CUSTOMER_ID: customer_ids.to_numpy()[customer[keep]], "rank": j[keep] + 1,
                         s.STOCK_CODE: as_text(items.take(ranking[position[keep]])).array})


def evaluate_recommendations(cleaned: CleanResult, names: pd.Series, settings: Settings, scheme: SegmentScheme,
                             split: pd.Timestamp, until: pd.Timestamp | None = None,
                             baskets: Baskets | None = None) -> dict:
    """Build recommendations from the sales before ``split`` and score them on the purchases after it.

    Args:
        cleaned: the cleaned tables of the whole period (basket lines with their invoice_date).
        names: description per stock code.
        settings: the settings of the run (rules, recommendations; ``evaluation.k``).
        scheme: the segment scheme (the fallback uses segments).
        split: first day held out; ``until``: end of the holdout (exclusive), default: no end.
        baskets: ``basket_matrix(cleaned.basket_lines)`` when already built (its rows before the split
            are the training baskets).

    Returns:
        split_date, holdout_end, k, customers_qualifying (bought something new), customers_evaluated
        (all of them, or a fixed sample of ``evaluation.max_customers``), hit_rate, precision, ndcg,
        rule_based_share (of evaluated customers) and baseline {name, hit_rate, precision, ndcg},
        scored on the same customers.
    """
    k = settings.evaluation.k
    sales = cleaned.sales[_SALE_COLUMNS]  # no country: the segments need recency, frequency, monetary only
    dates = sales[s.INVOICE_DATE]
    before = sales[(dates < split).to_numpy()].reset_index(drop=True)
    after = sales[((dates >= split) & (dates < until) if until is not None else dates >= split).to_numpy()]
    bought = bought_pairs(before)
    relevant = new_purchases(bought, bought_pairs(after), before[s.CUSTOMER_ID])
    qualifying = pd.Index(relevant[s.CUSTOMER_ID].unique())
    evaluated = _sample(qualifying, settings.evaluation.max_customers)
    relevant = relevant[relevant[s.CUSTOMER_ID].isin(evaluated)]
    baskets = baskets if baskets is not None else basket_matrix(cleaned.basket_lines)
    train = select_baskets(baskets, cleaned.basket_lines,
                           (cleaned.basket_lines[s.INVOICE_DATE] < split).to_numpy())
    params = settings.recommendations
    rules = with_recent_rules(rules_from_baskets(train, settings.rules, names), baskets, cleaned.basket_lines,
                              settings.rules, names, split, params.recent_rules_days, params.recent_rules_min_support)
    recommendations = _recommend_from(before, bought, rules, names, replace(settings.recommendations, top_n=k),
                                      scheme, split, evaluated)
    ours = ranking_metrics(recommendations, relevant, k)
    baseline = ranking_metrics(popularity_baseline(bought, evaluated, k), relevant, k)
    by_rule = recommendations.loc[recommendations["source"] == "rule", s.CUSTOMER_ID].nunique()  # all evaluated
    return {
        "split_date": split.date().isoformat(), "holdout_end": None if until is None else until.date().isoformat(),
        "k": k, "customers_evaluated": ours["customers"], "customers_qualifying": len(qualifying),
        "hit_rate": ours["hit_rate"], "precision": ours["precision"], "ndcg": ours["ndcg"],
        "rule_based_share": by_rule / len(evaluated) if len(evaluated) else float("nan"),
        "baseline": {"name": "top sellers not yet bought", "hit_rate": baseline["hit_rate"],
                     "precision": baseline["precision"], "ndcg": baseline["ndcg"]},
    }


def _sample(customers: pd.Index, most: int) -> pd.Index:
    """All customers, or a fixed random sample of ``most`` of them (seeded: the same on every run)."""
    if not most or len(customers) <= most:
        return customers
    chosen = np.random.default_rng(0).choice(len(customers), size=most, replace=False)
    return customers.sort_values()[np.sort(chosen)]


def _recommend_from(sales: pd.DataFrame, bought: pd.DataFrame, rules: pd.DataFrame, names: pd.Series,
                    params: RecommendParams, scheme: SegmentScheme, as_of: pd.Timestamp,
                    only: pd.Index) -> pd.DataFrame:
    """The pipeline's own stages on the sales before the split: customers, then recommendations from the
    rules mined before it (with the recent ones)."""
    if sales.empty:
        return pd.DataFrame({s.CUSTOMER_ID: [], s.STOCK_CODE: [], "rank": [], "source": []})
    customers = assign_segments(score_rfm(summarise_customers(sales, as_of)), scheme)
    return recommend_from_pairs(customers, bought, rules, names, params, only=only)
