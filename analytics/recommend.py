"""Per-customer recommendations: the top N products a customer has not bought yet.

Rule-based first: a rule applies to a customer who bought every item of its antecedent; each
candidate product is scored by the best applicable rule (highest confidence, then lift). When rules
give fewer than N products, the customer's segment best sellers (share of the segment's customers who
bought them) fill the list. Everything is matrix and group-by work: no Python loop over rules or
customers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from analytics import schema as s
from analytics.settings import RecommendParams

__all__ = ["recommend", "bought_pairs", "RECOMMENDATION_COLUMNS"]

RECOMMENDATION_COLUMNS = list(s.TABLES["recommendations"])
_FALLBACK_POOL = 60  # best sellers considered per segment


def bought_pairs(sales: pd.DataFrame) -> pd.DataFrame:
    """Distinct (customer_id, stock_code) product purchases, service codes excluded."""
    products = sales.loc[~sales["is_service"], [s.CUSTOMER_ID, s.STOCK_CODE]]
    return products.drop_duplicates().reset_index(drop=True)


def recommend(customers: pd.DataFrame, sales: pd.DataFrame, rules: pd.DataFrame, names: pd.Series,
              params: RecommendParams) -> pd.DataFrame:
    """Top ``params.top_n`` recommendations per customer.

    Args:
        customers: customer_id, segment.
        sales: customer sale lines (customer_id, stock_code, is_service).
        rules: the rules table (antecedents, consequents, confidence, lift, antecedent_names).
        names: description per stock code.

    Returns:
        customer_id, rank (1 = best), stock_code, description, score, confidence, lift,
        source ("rule" | "segment_bestseller"), because (antecedent names of the rule used).
    """
    bought = bought_pairs(sales)
    ids = pd.Index(customers[s.CUSTOMER_ID])
    from_rules = _rule_candidates(ids, bought, rules)
    top = _top_n(from_rules, params.top_n)
    if params.fallback == "segment_bestseller":
        missing = params.top_n - top.groupby(s.CUSTOMER_ID).size().reindex(ids, fill_value=0)
        fill = _bestseller_candidates(customers, bought, top, missing[missing > 0])
        top = pd.concat([top, fill], ignore_index=True)
    return _finish(top, ids, names)


def _rule_candidates(ids: pd.Index, bought: pd.DataFrame, rules: pd.DataFrame) -> pd.DataFrame:
    """(customer, product) candidates from single-consequent rules whose antecedent they bought."""
    single = rules[rules["consequents"].map(len) == 1].reset_index(drop=True)
    if single.empty or bought.empty:
        return _empty_candidates()
    items = pd.Index(pd.unique(np.concatenate([
        bought[s.STOCK_CODE].to_numpy(dtype=object),
        np.concatenate(single["antecedents"].to_numpy()).astype(object),
        single["consequents"].str[0].to_numpy(dtype=object),
    ])))
    owner_idx, owned_idx = ids.get_indexer(bought[s.CUSTOMER_ID]), items.get_indexer(bought[s.STOCK_CODE])
    owned = _incidence(owner_idx, owned_idx, (len(ids), len(items)))
    sizes = single["antecedents"].map(len).to_numpy()
    antecedent_items = items.get_indexer(np.concatenate(single["antecedents"].to_numpy()))
    antecedents = _incidence(np.repeat(np.arange(len(single)), sizes), antecedent_items, (len(single), len(items)))
    hits = (owned.astype(np.int32) @ antecedents.T.astype(np.int32)).tocoo()
    applies = hits.data == sizes[hits.col]
    customer_idx, rule_idx = hits.row[applies], hits.col[applies]
    item_idx = items.get_indexer(single["consequents"].str[0])[rule_idx]
    new = ~np.isin(customer_idx.astype(np.int64) * len(items) + item_idx,
                   owner_idx.astype(np.int64) * len(items) + owned_idx)
    chosen = rule_idx[new]
    return pd.DataFrame({
        s.CUSTOMER_ID: ids.to_numpy()[customer_idx[new]],
        s.STOCK_CODE: items.to_numpy()[item_idx[new]],
        "score": single["confidence"].to_numpy()[chosen],
        "confidence": single["confidence"].to_numpy()[chosen],
        "lift": single["lift"].to_numpy()[chosen],
        "because": single["antecedent_names"].to_numpy()[chosen],
        "source": "rule",
    })


def _top_n(candidates: pd.DataFrame, n: int) -> pd.DataFrame:
    """Best rule per (customer, product), then the n best products per customer."""
    ordered = candidates.sort_values([s.CUSTOMER_ID, "score", "lift", s.STOCK_CODE],
                                     ascending=[True, False, False, True], kind="stable")
    best = ordered.drop_duplicates([s.CUSTOMER_ID, s.STOCK_CODE])
    return best.groupby(s.CUSTOMER_ID, sort=False).head(n).reset_index(drop=True)


def _bestseller_candidates(customers: pd.DataFrame, bought: pd.DataFrame, chosen: pd.DataFrame,
                           missing: pd.Series) -> pd.DataFrame:
    """Segment best sellers the customer has neither bought nor been recommended, up to ``missing``."""
    if missing.empty or bought.empty:
        return _empty_candidates()
    segment_of = customers.set_index(s.CUSTOMER_ID)["segment"]
    popular = (bought.assign(segment=segment_of.reindex(bought[s.CUSTOMER_ID]).to_numpy())
               .groupby(["segment", s.STOCK_CODE]).size().rename("buyers").reset_index())
    popular["score"] = popular["buyers"] / popular["segment"].map(segment_of.value_counts())
    popular = popular.sort_values(["segment", "score", s.STOCK_CODE], ascending=[True, False, True])
    pool = popular.groupby("segment").head(_FALLBACK_POOL)
    wanted = pd.DataFrame({s.CUSTOMER_ID: missing.index, "missing": missing.to_numpy(),
                           "segment": segment_of.reindex(missing.index).to_numpy()})
    pairs = wanted.merge(pool[["segment", s.STOCK_CODE, "score"]], on="segment")
    taken = pd.concat([bought[[s.CUSTOMER_ID, s.STOCK_CODE]], chosen[[s.CUSTOMER_ID, s.STOCK_CODE]]])
    pairs = pairs.merge(taken.assign(_taken=True), on=[s.CUSTOMER_ID, s.STOCK_CODE], how="left")
    pairs = pairs[pairs["_taken"].isna()].sort_values([s.CUSTOMER_ID, "score", s.STOCK_CODE],
                                                      ascending=[True, False, True], kind="stable")
    pairs = pairs[pairs.groupby(s.CUSTOMER_ID).cumcount() < pairs["missing"]]
    return pairs.assign(confidence=np.nan, lift=np.nan, because=[[] for _ in range(len(pairs))],
                        source="segment_bestseller")[_empty_candidates().columns]


def _finish(top: pd.DataFrame, ids: pd.Index, names: pd.Series) -> pd.DataFrame:
    """Order by customer then rank, add rank and descriptions."""
    order = pd.Series(np.arange(len(ids)), index=ids)
    top = top.assign(_order=order.reindex(top[s.CUSTOMER_ID]).to_numpy(),
                     _fallback=top["source"] != "rule")
    top = top.sort_values(["_order", "_fallback", "score", "lift", s.STOCK_CODE],
                          ascending=[True, True, False, False, True], kind="stable")
    top["rank"] = top.groupby(s.CUSTOMER_ID).cumcount() + 1
    top["description"] = names.reindex(top[s.STOCK_CODE]).fillna(top[s.STOCK_CODE]).to_numpy()
    return top[RECOMMENDATION_COLUMNS].reset_index(drop=True)


def _incidence(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=shape)
    matrix.data[:] = 1
    return matrix


def _empty_candidates() -> pd.DataFrame:
    return pd.DataFrame({
        s.CUSTOMER_ID: pd.Series(dtype="str"), s.STOCK_CODE: pd.Series(dtype="str"),
        "score": pd.Series(dtype=float), "confidence": pd.Series(dtype=float), "lift": pd.Series(dtype=float),
        "because": pd.Series(dtype=object), "source": pd.Series(dtype="str"),
    })
