"""Redundant rules, as arules' ``is.redundant`` defines them.

A rule X → Y is redundant when a more general rule X' → Y (X' a proper, non-empty subset of X, same
consequent) has a confidence at least as high: the extra items of X add nothing. Rules with one
antecedent item are never redundant. The general rules need not be searched outside the rule set:
X' ∪ Y is frequent (a subset of X ∪ Y) and conf(X' → Y) ≥ conf(X → Y) implies the same or a higher
lift, so a general rule that makes X → Y redundant passed every threshold X → Y passed.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["redundant_flags"]


def redundant_flags(antecedents: Iterable[Sequence[str]], consequents: Iterable[Sequence[str]],
                    confidence: Iterable[float]) -> np.ndarray:
    """One flag per rule: True when a rule of the same list with a smaller antecedent, the same consequent
    and a confidence at least as high exists. Antecedents and consequents are lists of item labels."""
    antecedents, consequents, confidence = list(antecedents), list(consequents), list(confidence)
    best: dict[tuple[frozenset, frozenset], float] = {}
    for ante, cons, conf in zip(antecedents, consequents, confidence):
        key = (frozenset(ante), frozenset(cons))
        best[key] = max(best.get(key, -np.inf), float(conf))
    flags = np.zeros(len(confidence), dtype=bool)
    for row, (ante, cons, conf) in enumerate(zip(antecedents, consequents, confidence)):
        if len(ante) < 2:
            continue
        consequent = frozenset(cons)
        flags[row] = any(best.get((frozenset(general), consequent), -np.inf) >= conf
                         for size in range(1, len(ante)) for general in itertools.combinations(ante, size))
    return flags
