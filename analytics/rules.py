"""Association rules between products: baskets are invoices, items are stock codes.

All baskets are mined (no sampling). Items below ``min_support`` cannot belong to a frequent
itemset, so they are dropped before mining; support is still computed over every basket.

Miners (``rules.algorithm``): ``numpy`` (default; :mod:`analytics.miner`, exact, level by level with
sparse products and bitsets), or mlxtend's ``fpgrowth`` and ``apriori``. All three give the same
itemsets and supports (``tests/analytics/test_miner.py``); rule metrics come from mlxtend's
``association_rules`` in every case.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from mlxtend.frequent_patterns import apriori, association_rules, fpgrowth

from analytics import schema as s
from analytics.errors import ConfigError
from analytics.miner import mine_itemsets
from analytics.settings import RulesParams

__all__ = ["ALGORITHMS", "Baskets", "basket_matrix", "effective_support", "frequent_itemsets", "mine_rules",
           "rules_from_baskets", "RULE_COLUMNS"]

RULE_COLUMNS = list(s.TABLES["rules"])
_MLXTEND_MINERS = {"fpgrowth": fpgrowth, "apriori": apriori}
ALGORITHMS = ("numpy", *_MLXTEND_MINERS)


@dataclass(frozen=True)
class Baskets:
    """Sparse basket × item incidence matrix."""

    matrix: sp.csr_matrix  # bool, one row per basket
    items: np.ndarray  # item label (Python str) per column

    @property
    def count(self) -> int:
        """Number of baskets (the support denominator)."""
        return int(self.matrix.shape[0])


def basket_matrix(basket_lines: pd.DataFrame) -> Baskets:
    """Build the incidence matrix from lines with ``invoice`` and ``stock_code``."""
    rows, _ = pd.factorize(basket_lines[s.INVOICE])
    cols, items = pd.factorize(basket_lines[s.STOCK_CODE])
    shape = (int(rows.max()) + 1 if len(rows) else 0, len(items))
    matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=shape)
    matrix.data[:] = 1  # duplicate lines of one item in a basket count once
    labels = np.array([str(item) for item in items], dtype=object)  # mlxtend needs Python str
    return Baskets(matrix=matrix.astype(bool), items=labels)


def frequent_itemsets(baskets: Baskets, params: RulesParams) -> pd.DataFrame:
    """Frequent itemsets: ``support`` (share of baskets) and ``itemsets`` (frozensets of item labels).

    Raises:
        ConfigError: ``params.algorithm`` is not one of :data:`ALGORITHMS`.
    """
    if params.algorithm not in ALGORITHMS:
        raise ConfigError(f"rules.algorithm {params.algorithm!r} is not one of {sorted(ALGORITHMS)}.")
    if baskets.count == 0:
        return pd.DataFrame({"support": pd.Series(dtype=float), "itemsets": pd.Series(dtype=object)})
    threshold = effective_support(params, baskets.count)
    if params.algorithm == "numpy":
        levels = mine_itemsets(baskets.matrix, threshold, params.max_len)
        itemsets = [frozenset(baskets.items[row]) for columns, _ in levels for row in columns]
        counts = np.concatenate([counts for _, counts in levels]) if levels else np.zeros(0)
        return pd.DataFrame({"support": counts / float(baskets.count), "itemsets": itemsets})
    support = np.asarray(baskets.matrix.sum(axis=0)).ravel() / baskets.count
    keep = np.flatnonzero(support >= threshold)
    onehot = pd.DataFrame.sparse.from_spmatrix(baskets.matrix[:, keep], columns=list(baskets.items[keep]))
    miner = _MLXTEND_MINERS[params.algorithm]
    return miner(onehot, min_support=threshold, use_colnames=True, max_len=params.max_len)


def effective_support(params: RulesParams, n_baskets: int) -> float:
    """The support threshold used: ``min_support``, raised so an itemset needs ``min_baskets`` baskets.

    On small inputs a share like 1 % is one or two baskets, and a single large basket would then make
    every combination of its items "frequent" (millions of itemsets); the basket floor prevents that.
    """
    floor = min(params.min_baskets / n_baskets, 1.0) if n_baskets else 0.0  # fewer baskets than the floor: all
    return max(params.min_support, floor)


def mine_rules(basket_lines: pd.DataFrame, params: RulesParams, names: pd.Series) -> pd.DataFrame:
    """Association rules with lift above ``min_lift`` and confidence ≥ ``min_confidence``.

    Returns:
        antecedents, consequents (sorted lists of codes), antecedent_names, consequent_names,
        antecedent_support, consequent_support, support, confidence, lift, leverage, conviction —
        sorted by lift then confidence, descending.
    """
    return rules_from_baskets(basket_matrix(basket_lines), params, names)


def rules_from_baskets(baskets: Baskets, params: RulesParams, names: pd.Series) -> pd.DataFrame:
    """:func:`mine_rules` on an incidence matrix already built (``basket_matrix``)."""
    itemsets = frequent_itemsets(baskets, params)
    if len(itemsets) == 0 or itemsets["itemsets"].map(len).max() < 2:
        return _empty_rules()
    rules = association_rules(itemsets, num_itemsets=baskets.count, metric="confidence",
                              min_threshold=params.min_confidence)
    rules = rules[rules["lift"] > params.min_lift]
    return _to_table(rules, names)


def _to_table(rules: pd.DataFrame, names: pd.Series) -> pd.DataFrame:
    if rules.empty:
        return _empty_rules()
    antecedents = [sorted(items) for items in rules["antecedents"]]
    consequents = [sorted(items) for items in rules["consequents"]]
    lookup = dict(zip(names.index, names.to_numpy()))
    table = pd.DataFrame({
        "antecedents": antecedents,
        "consequents": consequents,
        "antecedent_names": [_names(items, lookup) for items in antecedents],
        "consequent_names": [_names(items, lookup) for items in consequents],
        "antecedent_support": rules["antecedent support"].to_numpy(dtype=float),
        "consequent_support": rules["consequent support"].to_numpy(dtype=float),
        "support": rules["support"].to_numpy(dtype=float),
        "confidence": rules["confidence"].to_numpy(dtype=float),
        "lift": rules["lift"].to_numpy(dtype=float),
        "leverage": rules["leverage"].to_numpy(dtype=float),
        "conviction": rules["conviction"].to_numpy(dtype=float),
    })
    order = table.assign(_key=table["antecedents"].map(" ".join) + "|" + table["consequents"].map(" ".join))
    order = order.sort_values(["lift", "confidence", "_key"], ascending=[False, False, True], kind="stable")
    return order.drop(columns="_key").reset_index(drop=True)


def _names(items: list[str], lookup: dict) -> list[str]:
    return [str(lookup.get(item, item)) for item in items]


def _empty_rules() -> pd.DataFrame:
    columns = {c: pd.Series(dtype=object if c.endswith(("cedents", "quents", "names")) else float)
               for c in RULE_COLUMNS}
    return pd.DataFrame(columns)
