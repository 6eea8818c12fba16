"""Association rules per segment: the same mining, on each segment's customers' baskets only.

"What sells together with what" differs between loyal customers and one-off buyers. Each segment's
rules use the thresholds of ``rules`` (``min_support`` as a share of that segment's baskets, the
``min_baskets`` floor, confidence, lift, length, blocklist, itemset cap); guest baskets belong to no
segment. The cost is one mining per segment, on fewer baskets than the full run: the report gives the
baskets, rules and seconds of each.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from analytics import schema as s
from analytics._categories import positions
from analytics.rules import Baskets, rule_ids, rules_from_baskets
from analytics.settings import RulesParams

__all__ = ["SEGMENT_RULE_COLUMNS", "mine_segment_rules"]

SEGMENT_RULE_COLUMNS = list(s.TABLES["segment_rules"])


def mine_segment_rules(baskets: Baskets, basket_lines: pd.DataFrame, customers: pd.DataFrame,
                       params: RulesParams, names: pd.Series) -> tuple[pd.DataFrame, dict[str, dict]]:
    """Rules mined on each segment's baskets.

    Args:
        baskets: ``basket_matrix(basket_lines)``.
        basket_lines: invoice, stock_code, customer_id (missing for guests).
        customers: customer_id, segment.
        params: the ``rules`` settings (every threshold applies per segment).
        names: description per stock code.

    Returns:
        The ``segment_rules`` table (the ``rules`` columns after ``segment``; ``rule_id`` includes the
        segment) and per segment ``{"baskets", "rules", "seconds"}``.
    """
    code, segments = pd.factorize(customers["segment"])  # segments in order of first appearance
    line_segment = np.append(code, -1)[positions(pd.Index(customers[s.CUSTOMER_ID]), basket_lines[s.CUSTOMER_ID])]
    basket_segment = np.full(baskets.count, -1)  # an invoice has one customer: one segment (guests: -1)
    basket_segment[pd.factorize(basket_lines[s.INVOICE])[0]] = line_segment  # basket_matrix's row numbers
    frames, report = [], {}
    for number, segment in enumerate(str(name) for name in segments):
        start = time.perf_counter()
        subset = Baskets(matrix=baskets.matrix[basket_segment == number], items=baskets.items)
        rules = rules_from_baskets(subset, params, names)
        frames.append(rules.assign(segment=segment))
        report[segment] = {"baskets": subset.count, "rules": len(rules),
                           "seconds": round(time.perf_counter() - start, 3)}
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=SEGMENT_RULE_COLUMNS)
    table = table.assign(rule_id=pd.Series(rule_ids(table), dtype="str", index=table.index))
    return table[SEGMENT_RULE_COLUMNS], report
