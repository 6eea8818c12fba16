"""A rule's audience: the customers who bought every product of its antecedent but none of its consequent.

They are the campaign target of the rule ("people who bought A tend to buy B: offer B to A's buyers who do
not have it"). Read from the snapshot's ``product_buyers`` (who bought what) and ``customers``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from dashboard.components import format as fmt
from dashboard.components.campaign import CAMPAIGN_COLUMNS, campaign_rows
from dashboard.components.rules_view import window_label
from dashboard.i18n import _

__all__ = ["CAMPAIGN_EXPORT_COLUMNS", "RULE_COLUMNS", "audience", "buyers_index", "describe_rule", "export_frame"]

# The audience CSV: the campaign columns of every customer-list export (docs/EXPORTS.md), then what the
# rule adds at the end (the contract only ever grows at the end).
RULE_COLUMNS = ("suggested_product_code", "suggested_product_name", "because_they_bought", "rule_id",
                "rule_confidence", "rule_lift")
CAMPAIGN_EXPORT_COLUMNS = (*CAMPAIGN_COLUMNS, *RULE_COLUMNS)


def buyers_index(customer_products: pd.DataFrame) -> dict[str, np.ndarray]:
    """Sorted customer ids of each product's buyers."""
    grouped = customer_products.groupby("stock_code", sort=False)["customer_id"]
    return {str(code): np.sort(ids.to_numpy(dtype=object).astype(str)) for code, ids in grouped}


def audience(rule: Mapping | pd.Series, buyers: Mapping[str, np.ndarray], customers: pd.DataFrame,
             segment: str | None = None) -> pd.DataFrame:
    """Customers who bought every antecedent product and no consequent product (of ``segment`` when given).

    Returns:
        customer_id, country, segment, net_value (sales minus returns), frequency, last_purchase,
        recency_days — by net value, descending.
    """
    empty = np.zeros(0, dtype=str)
    owners: np.ndarray | None = None
    for code in rule["antecedents"]:
        found = buyers.get(str(code), empty)
        owners = found if owners is None else np.intersect1d(owners, found, assume_unique=True)
    owners = owners if owners is not None else empty
    for code in rule["consequents"]:
        owners = np.setdiff1d(owners, buyers.get(str(code), empty), assume_unique=True)
    chosen = customers[customers["customer_id"].astype(str).isin(owners)]
    if segment:
        chosen = chosen[chosen["segment"] == segment]
    columns = ["customer_id", "country", "segment", "net_value", "frequency", "last_purchase", "recency_days"]
    return chosen.sort_values(["net_value", "customer_id"], ascending=[False, True])[columns].reset_index(drop=True)


def export_frame(people: pd.DataFrame, rule: Mapping | pd.Series, customers: pd.DataFrame, segments: pd.DataFrame,
                 recommendations: pd.DataFrame, currency: str) -> pd.DataFrame:
    """The audience as the campaign CSV: :data:`CAMPAIGN_EXPORT_COLUMNS`, rows in the audience's order."""
    rows = campaign_rows(customers, segments, recommendations, people["customer_id"], currency)
    return rows.assign(
        suggested_product_code=" + ".join(map(str, rule["consequents"])),
        suggested_product_name=" + ".join(map(str, rule["consequent_names"])),
        because_they_bought=" + ".join(map(str, rule["antecedent_names"])), rule_id=str(rule["rule_id"]),
        rule_confidence=round(float(rule["confidence"]), 4), rule_lift=round(float(rule["lift"]), 3),
    )[list(CAMPAIGN_EXPORT_COLUMNS)]


def _names(names: Sequence[str]) -> str:
    items = [str(name).capitalize() for name in names]
    return items[0] if len(items) == 1 else _("{names} and {last}").format(names=", ".join(items[:-1]),
                                                                         last=items[-1])


def describe_rule(rule: Mapping | pd.Series) -> list[str]:
    """The rule's metrics in words, one sentence each (in the current language)."""
    ante, cons = _names(rule["antecedent_names"]), _names(rule["consequent_names"])
    lift = float(rule["lift"])
    conviction = float(rule["conviction"])
    sentences = [
        _("Bought together in {baskets} baskets: {support} of the baskets mined ({window}).").format(
            baskets=fmt.count(rule["baskets"]), support=fmt.share(rule["support"], 2),
            window=window_label(rule["window"])),
        _("{confidence} of the baskets with {antecedent} also have {consequent} (confidence).").format(
            confidence=fmt.share(rule["confidence"], 0), antecedent=ante, consequent=cons),
        _("That is {lift}× more often than chance: {consequent} is in {share} of all baskets (lift).").format(
            lift=fmt.number(lift, 1), consequent=cons, share=fmt.share(rule["consequent_support"], 1)),
        _("Leverage {leverage}: the share of baskets holding both beyond what independent purchases would "
          "give.").format(leverage=fmt.number(float(rule["leverage"]), 4)),
        (_("Conviction ∞: every basket with the antecedent had the consequent.") if not np.isfinite(conviction) else
         _("Conviction {conviction}: the rule would be wrong {times}× more often if the products were "
           "unrelated.").format(conviction=fmt.number(conviction, 2), times=fmt.number(conviction, 1))),
    ]
    if rule.get("redundant"):
        sentences.append(_("Redundant: a rule with fewer products in the antecedent and the same consequent is at "
                           "least as confident."))
    return sentences
