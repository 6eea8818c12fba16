"""Per-customer recommendations: the top N products a customer has not bought yet.

Rule-based first: a rule applies to a customer who bought every item of its antecedent. Each
candidate product is scored from the rules that recommend it (``recommendations.scoring``; default:
the best rule's confidence) and shown with its best rule (highest confidence, then lift). With
``recommendations.interleave_antecedents`` (default) the list takes the best product of each
antecedent (the purchase that triggers the rule) before a second product of any antecedent: one
popular purchase cannot fill the whole list with its companions. When rules give fewer than N
products, the customer's segment best sellers (share of the segment's customers who bought them)
fill the list. Everything is matrix and array work: no Python loop over rules or customers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from analytics import schema as s
from analytics._categories import as_text, first_occurrence, isin, positions, rank_within, run_starts, take_rows
from analytics.errors import ConfigError
from analytics.products import describe
from analytics.settings import RecommendParams
from analytics.snapshot import BLOCK_ROWS, Blocks, row_blocks

__all__ = ["recommend", "recommend_from_pairs", "recommendation_blocks", "bought_pairs", "RECOMMENDATION_COLUMNS",
           "SCORINGS"]

RECOMMENDATION_COLUMNS = list(s.TABLES["recommendations"])
SCORINGS = ("confidence", "confidence_sum", "noisy_or", "lift")
FALLBACKS = ("segment_bestseller", "none")
_FALLBACK_POOL = 60  # best sellers considered per segment
_BLOCK_BYTES = 1 << 24  # dense block of customer rows read at once by _holds
_FILL_PAIRS = 2_000_000  # (customer, best seller) candidates examined at once by the fill (memory: ~25 bytes each)
# each part's source, one byte a row until a block of the table is built (as text: 260 MB for 10 M best sellers)
_SOURCES = pd.CategoricalDtype(["rule", "segment_bestseller"])


def bought_pairs(sales: pd.DataFrame) -> pd.DataFrame:
    """Distinct (customer_id, stock_code) product purchases, service codes excluded (first occurrences)."""
    first = first_occurrence(sales[s.CUSTOMER_ID], sales[s.STOCK_CODE])  # a code is a service code or not
    return sales.loc[first & ~sales["is_service"].to_numpy(), [s.CUSTOMER_ID, s.STOCK_CODE]].reset_index(drop=True)


def recommend(customers: pd.DataFrame, sales: pd.DataFrame, rules: pd.DataFrame, names: pd.Series,
              params: RecommendParams, only: pd.Index | None = None) -> pd.DataFrame:
    """Top ``params.top_n`` recommendations per customer.

    Args:
        customers: customer_id, segment.
        sales: customer sale lines (customer_id, stock_code, is_service).
        rules: the rules table (antecedents, consequents, confidence, lift, antecedent_names).
        names: description per stock code.
        only: recommend to these customers only (segment best sellers still count every customer).

    Returns:
        customer_id, rank (1 = best), stock_code, description, score, confidence, lift,
        source ("rule" | "segment_bestseller"), because (antecedent names of the best rule),
        because_codes (their stock codes).

    Raises:
        ConfigError: unknown ``scoring`` or ``fallback``.
    """
    return recommend_from_pairs(customers, bought_pairs(sales), rules, names, params, only)


def recommend_from_pairs(customers: pd.DataFrame, bought: pd.DataFrame, rules: pd.DataFrame, names: pd.Series,
                         params: RecommendParams, only: pd.Index | None = None) -> pd.DataFrame:
    """:func:`recommend` from the distinct purchases (customer_id, stock_code) of :func:`bought_pairs`."""
    return recommendation_blocks(customers, bought, rules, names, params, only)[0].concat()


def recommendation_blocks(customers: pd.DataFrame, bought: pd.DataFrame, rules: pd.DataFrame, names: pd.Series,
                          params: RecommendParams, only: pd.Index | None = None) -> tuple[Blocks, dict[str, int]]:
    """:func:`recommend_from_pairs` as consecutive blocks of rows (at 1 M customers the table has 10 M rows,
    1.4 GB as one frame), and how many customers got a rule-based recommendation and any recommendation.

    Raises:
        ConfigError: unknown ``scoring`` or ``fallback``.
    """
    if params.scoring not in SCORINGS:
        raise ConfigError(f"recommendations.scoring {params.scoring!r} is not one of {list(SCORINGS)}.")
    if params.fallback not in FALLBACKS:
        raise ConfigError(f"recommendations.fallback {params.fallback!r} is not one of {list(FALLBACKS)}.")
    ids = pd.Index(as_text(customers[s.CUSTOMER_ID]))
    single = rules[rules["consequents"].map(len) == 1].reset_index(drop=True)
    items = pd.Index(np.sort(pd.unique(np.concatenate([  # sorted: item order is stock-code order
        np.asarray(pd.unique(bought[s.STOCK_CODE]), dtype=object),
        *(single["antecedents"].to_numpy()), single["consequents"].str[0].to_numpy(dtype=object),
    ]).astype(object))), dtype="str")
    owned = _incidence(positions(ids, bought[s.CUSTOMER_ID]), positions(items, bought[s.STOCK_CODE]),
                       (len(ids), len(items)))
    targets = np.arange(len(ids)) if only is None else np.flatnonzero(ids.isin(only))
    top = _rule_recommendations(owned if only is None else owned[targets], single, items, params)
    top["_customer"] = targets[top["_customer"].to_numpy()]
    parts = [top]
    if params.fallback == "segment_bestseller":
        parts.append(_bestseller_fill(customers, owned, top, items, params.top_n, targets))
    with_rules = int(np.count_nonzero(run_starts(top["_customer"].to_numpy())))  # top: by customer
    del top, owned
    table, with_any = _finish(parts, ids, items, names)
    return table, {"customers_with_rules": with_rules, "customers_with_recommendations": with_any}


def _rule_recommendations(owned: sp.csr_matrix, single: pd.DataFrame, items: pd.Index,
                          params: RecommendParams) -> pd.DataFrame:
    """The best ``top_n`` rule-based products per customer (_customer, _item, score, rule columns)."""
    customer, item, rule = _applicable(owned, single, items)
    if len(rule) == 0:
        return _empty()
    confidence, lift = single["confidence"].to_numpy(float), single["lift"].to_numpy(float)
    primary, secondary = (lift, confidence) if params.scoring == "lift" else (confidence, lift)
    rule_rank = np.empty(len(single), dtype=np.int64)  # 0 = best rule: primary, then secondary metric
    rule_rank[np.lexsort((np.arange(len(single)), -secondary, -primary))] = np.arange(len(single))
    pair = customer * len(items) + item
    order = np.argsort(pair * len(single) + rule_rank[rule])  # unique keys: by pair, its best rule first
    pair, rule = pair[order], rule[order]
    starts = np.flatnonzero(run_starts(pair))
    best = rule[starts]
    score = _aggregate(params.scoring, confidence[rule], lift[rule], starts)
    customer, item = pair[starts] // len(items), pair[starts] % len(items)
    order = np.lexsort((-lift[best], -score, customer))  # stable: ties by higher lift, then stock code
    if params.interleave_antecedents:
        order = _interleave(order, customer, _antecedent_ids(single)[best])
    keep = order[rank_within(customer[order]) <= params.top_n]
    return pd.DataFrame({
        "_customer": customer[keep], "_item": item[keep], "score": score[keep],
        "confidence": confidence[best[keep]], "lift": lift[best[keep]],
        "because": single["antecedent_names"].to_numpy()[best[keep]],
        "because_codes": single["antecedents"].to_numpy()[best[keep]], "source": _source("rule", len(keep)),
    })


def _antecedent_ids(single: pd.DataFrame) -> np.ndarray:
    """One number per rule, equal for rules with the same antecedent (however many tables they come from)."""
    return pd.factorize(single["antecedents"].map(tuple))[0].astype(np.int64)


def _interleave(order: np.ndarray, customer: np.ndarray, antecedent: np.ndarray) -> np.ndarray:
    """``order`` (each customer's candidates, best first) re-ordered round robin over antecedents.

    A candidate's round is its place among the customer's candidates of the same antecedent (1 = the
    antecedent's best); customers keep their order, then rounds, then the best first within a round.
    """
    if len(order) == 0:
        return order
    key = customer[order] * (int(antecedent.max()) + 1) + antecedent[order]
    grouped = np.argsort(key, kind="stable")  # by (customer, antecedent), best first within each
    rounds = np.empty(len(order), dtype=np.int64)
    rounds[grouped] = rank_within(key[grouped])
    return order[np.lexsort((rounds, customer[order]))]  # stable: best first within a round


def _applicable(owned: sp.csr_matrix, single: pd.DataFrame, items: pd.Index
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(customer, item, rule) for every rule whose whole antecedent the customer bought, item new to them."""
    if single.empty or owned.nnz == 0:
        return (np.zeros(0, dtype=np.int64),) * 3
    sizes = single["antecedents"].map(len).to_numpy()
    antecedents = _incidence(np.repeat(np.arange(len(single)), sizes),
                             items.get_indexer(np.concatenate(single["antecedents"].to_numpy())),  # type: ignore[arg-type]
                             (len(single), len(items)))
    hits = (owned.astype(np.int32) @ antecedents.T.astype(np.int32)).tocoo()
    applies = hits.data == sizes[hits.col]
    customer, rule = hits.row[applies].astype(np.int64), hits.col[applies].astype(np.int64)
    item = items.get_indexer(single["consequents"].str[0])[rule]  # type: ignore[arg-type]  # pandas-stubs: array-likes work
    consequents = np.unique(item)  # what the customers bought is read among the consequents only
    new = ~_holds(owned[:, consequents].tocsr(), customer, item, consequents)
    return customer[new], item[new], rule[new]


def _aggregate(scoring: str, confidence: np.ndarray, lift: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """One score per (customer, product) group of rules; ``starts`` are the groups' first rows."""
    if scoring == "confidence":
        return confidence[starts]
    if scoring == "lift":
        return lift[starts]
    if scoring == "confidence_sum":
        return np.add.reduceat(confidence, starts)
    with np.errstate(divide="ignore"):  # noisy-OR: 1 - Π(1 - confidence); confidence 1 gives 1
        return -np.expm1(np.add.reduceat(np.log1p(-confidence), starts))


def _bestseller_fill(customers: pd.DataFrame, owned: sp.csr_matrix, chosen: pd.DataFrame, items: pd.Index,
                     top_n: int, targets: np.ndarray) -> pd.DataFrame:
    """Segment best sellers the target customers have neither bought nor been recommended, up to
    ``top_n`` in all (rows sorted by customer, then best seller first)."""
    segment, segments = pd.factorize(customers["segment"])
    if owned.nnz == 0 or len(segments) == 0:
        return _empty()
    members = _incidence(segment, np.arange(len(segment)), (len(segments), len(segment)))
    by_segment = (members.astype(np.int32) @ owned.astype(np.int32)).toarray()
    share = by_segment / np.bincount(segment, minlength=len(segments))[:, None]
    pool = np.argsort(-share, axis=1, kind="stable")[:, :_FALLBACK_POOL]  # columns = stock-code order
    missing = top_n - np.bincount(chosen["_customer"], minlength=len(segment))
    short = targets[missing[targets] > 0]
    recommended = (chosen["_customer"] * len(items) + chosen["_item"]).to_numpy()
    step = max(1, _FILL_PAIRS // pool.shape[1])  # customers at a time: memory bounded by _FILL_PAIRS candidates
    pooled = np.unique(pool)  # what the customers bought is read among the pools' items only
    owned_pooled = owned[:, pooled].tocsr()
    parts = [_fill_block(block, segment, pool, share, owned_pooled, pooled, recommended, missing, len(items))
             for block in np.array_split(short, max(1, -(-len(short) // step)))]
    customer, item, score = (np.concatenate([part[i] for part in parts]) for i in range(3))
    del parts
    # no rule columns: a block of the table gives its best-seller rows theirs (10 M rows of them held 320 MB)
    return pd.DataFrame({"_customer": customer, "_item": item, "score": score,
                         "source": _source("segment_bestseller", len(customer))}, copy=False)


def _fill_block(short: np.ndarray, segment: np.ndarray, pool: np.ndarray, share: np.ndarray,
                owned_pooled: sp.csr_matrix, pooled: np.ndarray, recommended: np.ndarray, missing: np.ndarray,
                n_items: int) -> tuple[np.ndarray, ...]:
    """The best sellers of customers ``short`` (ascending): their segment's pool, less what they bought
    (``owned_pooled``: the purchases' columns of the items ``pooled``) or were recommended, the first
    ``missing`` of each (customer, item, score)."""
    customer, item = np.repeat(short, pool.shape[1]), pool[segment[short]].ravel()
    score = share[segment[customer], item]
    taken = _holds(owned_pooled, customer, item, pooled) | isin(customer * n_items + item, recommended)
    free = (score > 0) & ~taken
    customer, item, score = customer[free], item[free], score[free]
    keep = rank_within(customer) <= missing[customer]
    return customer[keep], item[keep], score[keep]


def _finish(parts: list[pd.DataFrame], ids: pd.Index, items: pd.Index, names: pd.Series) -> tuple[Blocks, int]:
    """The rows of ``parts`` (rules, then best sellers; each already in rank order and by customer) by customer
    in the given order, with rank, ids and descriptions, in blocks of ``BLOCK_ROWS``; and how many customers
    have a row. Each block takes its rows from the parts, so the table is never held whole."""
    parts = [part for part in parts if len(part)] or parts[:1]
    offsets = np.cumsum([0, *map(len, parts)])
    customer = np.concatenate([part["_customer"].to_numpy() for part in parts])
    order = np.argsort(customer, kind="stable")  # row numbers of the parts, concatenated, in table order
    customer = customer[order]
    rank = rank_within(customer)
    descriptions = pd.Index(describe(items, names), dtype="str")

    def block(rows: slice) -> pd.DataFrame:
        picked = order[rows]
        top = take_rows(parts, picked, ["_item", "score", "source"]).assign(**_rule_columns(parts, offsets, picked))
        item = top.pop("_item").to_numpy()
        return top.assign(**{
            s.CUSTOMER_ID: ids.take(customer[rows]).array, s.STOCK_CODE: items.take(item).array,
            "rank": rank[rows], "description": descriptions.take(item).array, "source": as_text(top["source"]),
        })[RECOMMENDATION_COLUMNS]

    # the first row of each part: the types of the whole table (best sellers alone have empty "because" lists)
    firsts = np.sort([np.flatnonzero(order == offset)[0] for offset in offsets[:-1] if offset < len(order)])
    sample = (pd.concat([block(slice(i, i + 1)) for i in firsts], ignore_index=True) if len(firsts)
              else block(slice(0, 0)))
    return (Blocks(map(block, row_blocks(len(order), BLOCK_ROWS)), sample),
            int(np.count_nonzero(run_starts(customer))))


def _rule_columns(parts: list[pd.DataFrame], offsets: np.ndarray, rows: np.ndarray) -> dict[str, np.ndarray]:
    """confidence, lift, because and because_codes of the ``rows`` of ``parts``: the rule part's own, or none (NaN,
    an empty list) for the rows of a part without them (the best sellers)."""
    columns = {"confidence": np.full(len(rows), np.nan), "lift": np.full(len(rows), np.nan),
               "because": np.empty(len(rows), dtype=object), "because_codes": np.empty(len(rows), dtype=object)}
    columns["because"].fill([])  # one empty list shared by every best-seller row (read-only)
    columns["because_codes"].fill([])
    for part, start, end in zip(parts, offsets[:-1], offsets[1:]):
        if "because" in part.columns:
            inside = (rows >= start) & (rows < end)
            for name, column in columns.items():
                column[inside] = part[name].to_numpy()[rows[inside] - start]
    return columns


def _holds(matrix: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray, columns: np.ndarray | None = None
           ) -> np.ndarray:
    """True where matrix[row, col] is non-zero, for aligned arrays of rows and columns.

    ``columns``: the sorted column numbers ``matrix`` was cut to (``cols`` are looked up among them), so that
    its dense blocks are only as wide as the columns asked about. The rows are read in dense blocks of at most
    ``_BLOCK_BYTES`` (looking each value up in the sparse rows, ``matrix[rows, cols]``, is five times slower).
    """
    if columns is not None:
        cols = np.searchsorted(columns, cols)
    order = np.argsort(rows, kind="stable") if np.any(rows[1:] < rows[:-1]) else slice(None)
    rows, cols = rows[order], cols[order]
    step = max(1, _BLOCK_BYTES // max(matrix.shape[1], 1))
    bounds = np.searchsorted(rows, np.arange(0, matrix.shape[0] + step, step))
    held = np.empty(len(rows), dtype=bool)
    for block, (first, last) in enumerate(zip(bounds[:-1], bounds[1:])):
        if last > first:
            dense = matrix[block * step:(block + 1) * step].toarray()
            held[first:last] = dense[rows[first:last] - block * step, cols[first:last]] != 0
    result = np.empty_like(held)
    result[order] = held
    return result


def _incidence(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=shape)
    matrix.data[:] = 1
    return matrix


def _empty() -> pd.DataFrame:
    return pd.DataFrame({
        "_customer": pd.Series(dtype=np.int64), "_item": pd.Series(dtype=np.int64),
        "score": pd.Series(dtype=float), "confidence": pd.Series(dtype=float), "lift": pd.Series(dtype=float),
        "because": pd.Series(dtype=object), "because_codes": pd.Series(dtype=object),
        "source": _source("rule", 0),
    })


def _source(name: str, rows: int) -> pd.Categorical:
    """A part's ``source`` column: ``rows`` times ``name``."""
    return pd.Categorical.from_codes(np.full(rows, _SOURCES.categories.get_loc(name), dtype=np.int8), dtype=_SOURCES)
