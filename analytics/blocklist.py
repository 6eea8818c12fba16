"""Product blocklist: products kept out of the association rules and the recommendations.

Carrier bags, gift vouchers or postage are in many baskets and make rules nobody acts on. The list is
``rules.blocklist`` (stock codes) plus the products whose description matches ``rules.blocklist_pattern``
(a case-insensitive regular expression). The products stay in revenue, KPIs and the product pages.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from analytics.errors import ConfigError
from analytics.settings import RulesParams

__all__ = ["blocked_mask", "blocklist_report"]


def blocked_mask(codes: np.ndarray | pd.Index, names: pd.Series, params: RulesParams) -> np.ndarray:
    """True for each stock code on the blocklist (by code, or by its description matching the pattern).

    Raises:
        ConfigError: ``rules.blocklist_pattern`` is not a valid regular expression.
    """
    codes = np.asarray(codes, dtype=object)
    blocked = np.isin(codes.astype(str), np.asarray(params.blocklist, dtype=str)) if len(codes) else \
        np.zeros(0, dtype=bool)
    if params.blocklist_pattern:
        try:
            pattern = re.compile(params.blocklist_pattern, re.IGNORECASE)
        except re.error as exc:
            raise ConfigError(f"rules.blocklist_pattern {params.blocklist_pattern!r} is not a valid regular "
                              f"expression: {exc}.") from exc
        described = names.reindex(codes).fillna("").astype(str)
        blocked |= described.map(lambda text: bool(pattern.search(text))).to_numpy(dtype=bool)
    return blocked


def blocklist_report(basket_lines: pd.DataFrame, names: pd.Series, params: RulesParams) -> dict:
    """What the blocklist removed: the products (code, description, basket lines) and the line count."""
    counts = basket_lines["stock_code"].value_counts(sort=False)  # per category: no text work per line
    counts = counts[counts > 0]
    blocked = counts[blocked_mask(counts.index.astype(str), names, params)]
    products = [{"stock_code": str(code), "description": str(names.get(code, code)), "basket_lines": int(n)}
                for code, n in blocked.sort_index().items()]
    return {"codes": list(params.blocklist), "pattern": params.blocklist_pattern, "products": products,
            "basket_lines": int(blocked.sum())}
