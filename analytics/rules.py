"""Association rules between products: baskets are invoices, items are stock codes.

All baskets are mined (no sampling). Items below ``min_support`` cannot belong to a frequent
itemset, so they are dropped before mining; support is still computed over every basket.

Miners (``rules.algorithm``): ``numpy`` (default; :mod:`analytics.miner`, exact, level by level with
sparse products and bitsets), or mlxtend's ``fpgrowth`` and ``apriori``. All three give the same
itemsets and supports (``tests/analytics/test_miner.py``). Rule metrics are mlxtend's
``association_rules``: called for the mlxtend miners, computed with its formulas on the numpy miner's
arrays (the same floats; the tests compare both). mlxtend is imported only when one of its miners is
chosen (the default path never loads it).

Products on the blocklist (:mod:`analytics.blocklist`) are removed from the baskets before mining (the
baskets still count in the support denominator). Every rule gets ``redundant`` (arules' definition,
:mod:`analytics.redundancy`) and a stable ``rule_id`` (:func:`rule_ids`) for links.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from analytics import schema as s
from analytics.blocklist import blocked_mask
from analytics.errors import ConfigError
from analytics.miner import ItemsetLimitError, mine_itemsets
from analytics.redundancy import redundant_flags
from analytics.settings import RulesParams

__all__ = ["ALGORITHMS", "Baskets", "basket_matrix", "effective_support", "frequent_itemsets", "mine_rules",
           "rule_ids", "rules_from_baskets", "select_baskets", "with_recent_rules", "without_blocked", "RULE_COLUMNS"]

RULE_COLUMNS = list(s.TABLES["rules"])
ALL_BASKETS = "all baskets"  # the rules' ``window``; recent rules: "last N days"
ALGORITHMS = ("numpy", "fpgrowth", "apriori")  # fpgrowth and apriori: mlxtend's


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


def select_baskets(baskets: Baskets, basket_lines: pd.DataFrame, keep: np.ndarray) -> Baskets:
    """The baskets of the lines where ``keep`` is True, as ``basket_matrix(basket_lines[keep])`` counts them.

    Args:
        baskets: ``basket_matrix(basket_lines)``.
        basket_lines: the lines it was built from.
        keep: one flag per line.

    Returns:
        The same item columns (items of no kept line stay, with no basket); the rows of the baskets
        with a kept line. When every basket is kept or left out whole (a time split between invoices),
        they are a row subset of ``baskets``; otherwise they are rebuilt from the kept lines.
    """
    keep = np.asarray(keep, dtype=bool)
    rows = pd.factorize(basket_lines[s.INVOICE])[0]  # basket_matrix's row of each line
    kept = np.bincount(rows[keep], minlength=baskets.count)
    if np.array_equal(kept, np.where(kept > 0, np.bincount(rows, minlength=baskets.count), 0)):
        return Baskets(matrix=baskets.matrix[kept > 0], items=baskets.items)
    cols = pd.factorize(basket_lines[s.STOCK_CODE])[0]
    renumbered = np.cumsum(kept > 0) - 1
    matrix = sp.csr_matrix((np.ones(int(keep.sum()), dtype=np.int8), (renumbered[rows[keep]], cols[keep])),
                           shape=(int((kept > 0).sum()), len(baskets.items)))
    matrix.data[:] = 1
    return Baskets(matrix=matrix.astype(bool), items=baskets.items)


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
        levels = _mine(baskets, params)
        itemsets = [frozenset(baskets.items[row]) for columns, _ in levels for row in columns]
        counts = np.concatenate([counts for _, counts in levels]) if levels else np.zeros(0)
        return pd.DataFrame({"support": counts / float(baskets.count), "itemsets": itemsets})
    support = np.asarray(baskets.matrix.sum(axis=0)).ravel() / baskets.count
    keep = np.flatnonzero(support >= threshold)
    onehot = pd.DataFrame.sparse.from_spmatrix(  # type: ignore[attr-defined]  # pandas-stubs types .sparse as ...
        baskets.matrix[:, keep], columns=list(baskets.items[keep]))
    from mlxtend.frequent_patterns import apriori, fpgrowth

    miner = {"fpgrowth": fpgrowth, "apriori": apriori}[params.algorithm]
    found = miner(onehot, min_support=threshold, use_colnames=True, max_len=params.max_len or None)
    if params.max_itemsets and len(found) > params.max_itemsets:
        raise _limit_error(ItemsetLimitError(len(found), int(found["itemsets"].map(len).max()), params.max_itemsets),
                           params, baskets.count)
    return found


def _mine(baskets: Baskets, params: RulesParams) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`analytics.miner.mine_itemsets` with the settings; the itemset cap as a ConfigError."""
    try:
        return mine_itemsets(baskets.matrix, effective_support(params, baskets.count), params.max_len or None,
                             params.max_itemsets)
    except ItemsetLimitError as exc:
        raise _limit_error(exc, params, baskets.count) from exc


def _limit_error(exc: ItemsetLimitError, params: RulesParams, n_baskets: int) -> ConfigError:
    return ConfigError(
        f"Rule mining stopped: {exc} (rules.max_itemsets) at support "
        f"{effective_support(params, n_baskets):g} of {n_baskets:,} baskets. Raise rules.min_support "
        f"(now {params.min_support:g}) or rules.min_baskets (now {params.min_baskets}), set rules.max_len "
        f"(now {params.max_len or 'no bound'}), or raise rules.max_itemsets if the machine has the memory.")


def without_blocked(baskets: Baskets, names: pd.Series, params: RulesParams) -> Baskets:
    """The baskets without the blocklisted products' columns (same baskets, same denominator)."""
    blocked = blocked_mask(baskets.items, names, params)
    if not blocked.any():
        return baskets
    return Baskets(matrix=baskets.matrix[:, ~blocked], items=baskets.items[~blocked])


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
    """:func:`mine_rules` on an incidence matrix already built (``basket_matrix``).

    Raises:
        ConfigError: more frequent itemsets than ``rules.max_itemsets`` (names the thresholds to raise),
            unknown algorithm, invalid blocklist pattern.
    """
    baskets = without_blocked(baskets, names, params)
    if params.algorithm == "numpy" and baskets.count:
        levels = _mine(baskets, params)
        rules = _association_rules(levels, baskets, params.min_confidence)
    else:
        from mlxtend.frequent_patterns import association_rules

        itemsets = frequent_itemsets(baskets, params)
        if len(itemsets) == 0 or itemsets["itemsets"].map(len).max() < 2:
            return _empty_rules()
        rules = association_rules(itemsets, num_itemsets=baskets.count, metric="confidence",
                                  min_threshold=params.min_confidence)
    rules = rules[rules["lift"] > params.min_lift]
    table = _to_table(rules, names)
    return table.assign(baskets=np.rint(table["support"].to_numpy(dtype=float) * baskets.count).astype("int64"))


def with_recent_rules(rules: pd.DataFrame, baskets: Baskets, basket_lines: pd.DataFrame, params: RulesParams,
                      names: pd.Series, as_of: pd.Timestamp, days: int, min_support: float) -> pd.DataFrame:
    """``rules`` followed by the rules mined on the baskets of the ``days`` days before ``as_of`` only
    (their ``window`` is "last <days> days"; the full-history rules' is "all baskets").

    The recent rules use ``min_support`` (a share of the recent baskets) and the other thresholds of
    ``params``: products launched lately and this season's co-purchases, too rare over the whole
    history, get rules. A pair of products may then have two rules (the recommendations use the better
    one). ``days`` 0: ``rules`` alone.

    Args:
        baskets: ``basket_matrix(basket_lines)``; basket_lines: with their ``invoice_date``.

    Raises:
        ConfigError: ``days`` is negative or ``min_support`` not in (0, 1].
    """
    if days < 0:
        raise ConfigError(f"recommendations.recent_rules_days must be 0 (off) or more, got {days}.")
    if not 0 < min_support <= 1:
        raise ConfigError(f"recommendations.recent_rules_min_support must be in (0, 1], got {min_support}.")
    if days == 0:
        return rules
    dates = basket_lines[s.INVOICE_DATE]
    recent = ((dates >= as_of - pd.Timedelta(days=days)) & (dates < as_of)).to_numpy()
    mined = rules_from_baskets(select_baskets(baskets, basket_lines, recent),
                               replace(params, min_support=min_support), names)
    if not len(mined):
        return rules
    recent_rules = mined.assign(window=f"last {days} days")
    return pd.concat([rules, recent_rules.assign(rule_id=rule_ids(recent_rules))], ignore_index=True)


def rule_ids(rules: pd.DataFrame) -> list[str]:
    """A short stable id per rule (for URLs): 12 hex digits of the SHA-256 of window, antecedents and
    consequents (``all baskets|22697,22698>22699``), prefixed by the segment when the rules have one.
    The same rule in another snapshot keeps its id."""
    segments = rules["segment"].map(lambda name: f"{name}|") if "segment" in rules else [""] * len(rules)
    keys = (f"{segment}{window}|{','.join(ante)}>{','.join(cons)}" for segment, window, ante, cons
            in zip(segments, rules["window"], rules["antecedents"], rules["consequents"]))
    return [hashlib.sha256(key.encode()).hexdigest()[:12] for key in keys]


def _association_rules(levels: list[tuple[np.ndarray, np.ndarray]], baskets: Baskets,
                       min_confidence: float) -> pd.DataFrame:
    """mlxtend's ``association_rules`` on the levels of :func:`analytics.miner.mine_itemsets`, in arrays.

    Every split of a frequent itemset of two or more items into antecedent and consequent is a rule,
    kept when its confidence reaches ``min_confidence``. The metrics use mlxtend's formulas (confidence
    = (s(AC)·n) / (s(A)·n), lift, leverage, conviction), so they are the same floats.
    """
    n = baskets.count
    supports = [counts / float(n) for _, counts in levels]
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for size in range(2, len(levels) + 1):
        itemsets = levels[size - 1][0]
        for taken in (c for k in range(size - 1, 0, -1) for c in itertools.combinations(range(size), k)):
            rest = [column for column in range(size) if column not in taken]
            antecedent, consequent = itemsets[:, list(taken)], itemsets[:, rest]
            s_a = supports[len(taken) - 1][_row_positions(antecedent, levels[len(taken) - 1][0])]
            s_c = supports[len(rest) - 1][_row_positions(consequent, levels[len(rest) - 1][0])]
            keep = (supports[size - 1] * n) / (s_a * n) >= min_confidence
            found.append((antecedent[keep], consequent[keep], s_a[keep], s_c[keep], supports[size - 1][keep]))
    if not found:
        return pd.DataFrame(columns=["antecedents", "consequents", "lift"])
    s_a, s_c, s_ac = (np.concatenate([part[i] for part in found]) for i in (2, 3, 4))
    confidence = (s_ac * n) / (s_a * n)
    conviction = np.full(len(confidence), np.inf)
    below = confidence < 1.0
    conviction[below] = (1.0 - s_c[below]) / (1.0 - confidence[below])
    return pd.DataFrame({
        "antecedents": [list(baskets.items[row]) for part in found for row in part[0]],
        "consequents": [list(baskets.items[row]) for part in found for row in part[1]],
        "antecedent support": s_a, "consequent support": s_c, "support": s_ac, "confidence": confidence,
        "lift": confidence / s_c, "leverage": s_ac - s_a * s_c, "conviction": conviction,
    })


def _row_positions(rows: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Position in ``table`` of each row of ``rows`` (every row is in the table; same width)."""
    if rows.shape[1] == 1:
        where = np.full(int(table.max(initial=0)) + 1, -1)
        where[table[:, 0]] = np.arange(len(table))
        return where[rows[:, 0]]
    _, inverse = np.unique(np.concatenate([table, rows]), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    slot = np.empty(int(inverse.max(initial=-1)) + 1, dtype=np.int64)
    slot[inverse[:len(table)]] = np.arange(len(table))
    return slot[inverse[len(table):]]


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
        "baskets": 0,
        "confidence": rules["confidence"].to_numpy(dtype=float),
        "lift": rules["lift"].to_numpy(dtype=float),
        "leverage": rules["leverage"].to_numpy(dtype=float),
        "conviction": rules["conviction"].to_numpy(dtype=float),
        "window": ALL_BASKETS,
    })
    order = table.assign(_key=table["antecedents"].map(" ".join) + "|" + table["consequents"].map(" ".join))
    order = order.sort_values(["lift", "confidence", "_key"], ascending=[False, False, True], kind="stable")
    table = order.drop(columns="_key").reset_index(drop=True)
    table["redundant"] = redundant_flags(table["antecedents"], table["consequents"], table["confidence"])
    table["rule_id"] = pd.Series(rule_ids(table), dtype="str")
    return table[RULE_COLUMNS]


def _names(items: list[str], lookup: dict) -> list[str]:
    return [str(lookup.get(item, item)) for item in items]


def _empty_rules() -> pd.DataFrame:
    kinds: dict[str, Any] = {"list[str]": object, "str": "str", "bool": bool, "float": float, "int": "int64"}
    columns = {c: pd.Series(dtype=kinds[kind]) for c, kind in s.TABLES["rules"].items()}
    return pd.DataFrame(columns)
