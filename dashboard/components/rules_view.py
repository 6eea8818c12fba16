"""Cross-sell explorer logic: the filters carried by the URL, fast filtering of many rules, the grid rows.

Everything that comes from the browser (query string, filter controls, grid requests) is untrusted:
numbers are coerced and clamped, product codes are cut to a bounded length and count, unknown values
fall back to the defaults. Filtering is array work on a :class:`RuleSet` prepared once per snapshot
version and scope (all customers or one segment): comparisons on numpy columns and, for products, the
rule rows of one column of a sparse rule × product matrix (100,000 rules: a few milliseconds).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dashboard.components import format as fmt
from dashboard.components.grid_query import filter_rows, query_rows, row_window
from dashboard.i18n import N_, _, ngettext

if TYPE_CHECKING:  # scipy costs 0.15 s of the app's start-up: imported when the cross-sell pages first need it
    import scipy.sparse as sp

__all__ = [
    "DEFAULT_SORT",
    "GRID_COLUMNS",
    "MAX_CODES",
    "MAX_CODE_LENGTH",
    "TIEBREAK",
    "WHERE",
    "RuleFilters",
    "RuleSet",
    "column_defs",
    "count_text",
    "empty_hint",
    "export_frame",
    "grid_rows",
    "lift_text",
    "matching",
    "page_rows",
    "parse_filters",
    "prepare",
    "to_query",
    "window_label",
]

WHERE = ("anywhere", "antecedent", "consequent")  # where a required or excluded product must (not) be
MAX_CODES = 10  # products one filter may name
MAX_CODE_LENGTH = 40
GRID_COLUMNS = {"antecedent": "text", "antecedent_codes": "text", "consequent": "text", "consequent_codes": "text",
                "support": "number", "confidence": "number", "lift": "number", "leverage": "number",
                "conviction": "number", "baskets": "number", "length": "number", "window": "text"}
DEFAULT_SORT = (("lift", False), ("confidence", False))
TIEBREAK = "rule_id"
_TEXT_FILTER = ("agTextColumnFilter", ["contains", "equals", "startsWith", "notContains"])


@dataclass(frozen=True)
class RuleFilters:
    """The explorer's filters (defaults: every non-redundant rule)."""

    min_support: float = 0.0  # share of baskets, 0..1
    min_confidence: float = 0.0  # 0..1
    min_lift: float = 0.0
    min_len: int = 2  # products in the rule (antecedent + consequent)
    max_len: int = 0  # 0: no bound
    require: tuple[str, ...] = ()  # product codes the rule must hold ...
    require_in: str = "anywhere"  # ... in the antecedent, the consequent or anywhere
    exclude: tuple[str, ...] = ()  # product codes the rule must not hold ...
    exclude_in: str = "anywhere"
    show_redundant: bool = False
    window: str = ""  # "": every window ("all baskets", "last 60 days")


# query-string key -> field name
_KEYS = {"sup": "min_support", "conf": "min_confidence", "lift": "min_lift", "len_min": "min_len",
         "len_max": "max_len", "req": "require", "req_in": "require_in", "exc": "exclude", "exc_in": "exclude_in",
         "redundant": "show_redundant", "window": "window"}


def _number(value: object, low: float, high: float, default: float) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    return min(max(number, low), high) if math.isfinite(number) else default


def _codes(value: object) -> tuple[str, ...]:
    items = value if isinstance(value, (list, tuple)) else str(value or "").split(",")
    codes = [str(item).strip()[:MAX_CODE_LENGTH] for item in items if isinstance(item, (str, int, float))]
    return tuple(dict.fromkeys(code for code in codes if code))[:MAX_CODES]


def parse_filters(query: Mapping[str, object]) -> RuleFilters:
    """Filters from a query string or the page's controls (``_KEYS`` names); anything invalid: the default."""
    base = RuleFilters()
    length_min = int(_number(query.get("len_min"), 2, 50, base.min_len))
    length_max = int(_number(query.get("len_max"), 0, 50, base.max_len))
    return RuleFilters(
        min_support=_number(query.get("sup"), 0.0, 1.0, 0.0),
        min_confidence=_number(query.get("conf"), 0.0, 1.0, 0.0),
        min_lift=_number(query.get("lift"), 0.0, 1e9, 0.0),
        min_len=length_min, max_len=length_max if length_max == 0 or length_max >= length_min else length_min,
        require=_codes(query.get("req")), require_in=_where(query.get("req_in")),
        exclude=_codes(query.get("exc")), exclude_in=_where(query.get("exc_in")),
        show_redundant=str(query.get("redundant") or "") in ("show", "1", "true", "True"),
        window=str(query.get("window") or "")[:40],
    )


def _where(value: object) -> str:
    return value if isinstance(value, str) and value in WHERE else WHERE[0]


def to_query(filters: RuleFilters) -> dict[str, str]:
    """The query-string parameters of the filters that differ from the defaults (shareable URL)."""
    base, query = RuleFilters(), {}
    names = {field: key for key, field in _KEYS.items()}
    for field in fields(RuleFilters):
        value = getattr(filters, field.name)
        if value == getattr(base, field.name):
            continue
        if isinstance(value, tuple):
            value = ",".join(value)
        elif isinstance(value, bool):
            value = "show" if value else ""
        elif isinstance(value, float):
            value = f"{value:g}"
        query[names[field.name]] = str(value)
    return {key: value for key, value in query.items() if value}


@dataclass(frozen=True)
class RuleSet:
    """Rules prepared for filtering: display frame, metric arrays, rule × product matrices."""

    frame: pd.DataFrame  # one row per rule: the grid columns (GRID_COLUMNS), rule_id, redundant
    support: np.ndarray
    confidence: np.ndarray
    lift: np.ndarray
    length: np.ndarray
    redundant: np.ndarray
    window: np.ndarray
    products: pd.Index  # product codes, the matrices' columns
    antecedent: sp.csc_matrix  # rule × product, True when the product is in the antecedent
    consequent: sp.csc_matrix

    @property
    def total(self) -> int:
        """Number of rules published (in this scope)."""
        return len(self.frame)

    def windows(self) -> list[str]:
        """The distinct windows, in order of first appearance."""
        return list(dict.fromkeys(self.window.tolist()))


def _incidence(lists: pd.Series, products: pd.Index) -> sp.csc_matrix:
    import scipy.sparse as sp

    lengths = lists.map(len).to_numpy(dtype=np.int64)
    flat = np.concatenate([np.asarray(items, dtype=object) for items in lists]) if len(lists) else np.zeros(0, object)
    rows = np.repeat(np.arange(len(lists)), lengths)
    cols = products.get_indexer(pd.Index(flat.astype(str)))
    return sp.csc_matrix((np.ones(len(rows), dtype=bool), (rows, cols)), shape=(len(lists), len(products)))


def prepare(rules: pd.DataFrame) -> RuleSet:
    """A :class:`RuleSet` from a ``rules`` (or ``segment_rules``) table."""
    rules = rules.reset_index(drop=True)
    codes = [np.asarray(items, dtype=object) for items in [*rules["antecedents"], *rules["consequents"]]]
    products = pd.Index(np.unique(np.concatenate(codes).astype(str)) if codes else np.zeros(0, dtype=str))
    length = (rules["antecedents"].map(len) + rules["consequents"].map(len)).to_numpy(dtype=np.int64)
    conviction = rules["conviction"].to_numpy(dtype=float)
    frame = pd.DataFrame({
        "rule_id": rules["rule_id"].astype("str"),
        "antecedent": rules["antecedent_names"].map(_joined), "antecedent_codes": rules["antecedents"].map(_joined),
        "consequent": rules["consequent_names"].map(_joined), "consequent_codes": rules["consequents"].map(_joined),
        "support": rules["support"].to_numpy(dtype=float), "confidence": rules["confidence"].to_numpy(dtype=float),
        "lift": rules["lift"].to_numpy(dtype=float), "leverage": rules["leverage"].to_numpy(dtype=float),
        "conviction": np.where(np.isinf(conviction), np.nan, conviction),  # inf (confidence 1): shown as ∞
        "baskets": rules["baskets"].to_numpy(dtype=np.int64), "length": length,
        "window": rules["window"].astype("str"), "redundant": rules["redundant"].to_numpy(dtype=bool),
    })
    order = np.lexsort((frame["rule_id"].to_numpy(dtype=object), -frame["confidence"].to_numpy(),
                        -frame["lift"].to_numpy()))  # DEFAULT_SORT then TIEBREAK: the usual order costs no sort
    frame, length = frame.iloc[order].reset_index(drop=True), length[order]
    return RuleSet(frame=frame, support=frame["support"].to_numpy(), confidence=frame["confidence"].to_numpy(),
                   lift=frame["lift"].to_numpy(), length=length, redundant=frame["redundant"].to_numpy(),
                   window=frame["window"].to_numpy(dtype=object), products=products,
                   antecedent=_incidence(rules["antecedents"].iloc[order], products),
                   consequent=_incidence(rules["consequents"].iloc[order], products))


def page_rows(rows: pd.DataFrame, request: object) -> tuple[pd.DataFrame, int]:
    """One grid block of ``rows`` (a filtered :attr:`RuleSet.frame`, already in the default order): no sort
    when the grid asks for the default order (lift, then confidence, descending), else ``query_rows``."""
    request = request if isinstance(request, Mapping) else {}
    sort = request.get("sortModel")
    if not sort or sort == [{"colId": "lift", "sort": "desc"}]:
        filtered = filter_rows(rows, request.get("filterModel"), GRID_COLUMNS)
        start, end = row_window(request.get("startRow"), request.get("endRow"), len(filtered))
        return filtered.iloc[start:end], len(filtered)
    return query_rows(rows, request, GRID_COLUMNS, DEFAULT_SORT, TIEBREAK)


def _joined(items: Sequence[str]) -> str:
    return " + ".join(str(item) for item in items)


def _holding(rules: RuleSet, code: str, where: str) -> np.ndarray:
    """True for the rules holding product ``code`` in the antecedent, the consequent or either."""
    found = np.zeros(rules.total, dtype=bool)
    column = rules.products.get_indexer(pd.Index([code]))[0]
    if column < 0:
        return found
    for side, matrix in (("antecedent", rules.antecedent), ("consequent", rules.consequent)):
        if where in (side, "anywhere"):
            found[matrix.indices[matrix.indptr[column]:matrix.indptr[column + 1]]] = True
    return found


def matching(rules: RuleSet, filters: RuleFilters) -> np.ndarray:
    """Boolean mask of the rules passing every filter."""
    mask = (rules.support >= filters.min_support) & (rules.confidence >= filters.min_confidence) \
        & (rules.lift >= filters.min_lift) & (rules.length >= filters.min_len)
    if filters.max_len:
        mask &= rules.length <= filters.max_len
    if not filters.show_redundant:
        mask &= ~rules.redundant
    if filters.window:
        mask &= rules.window == filters.window
    for code in filters.require:
        mask &= _holding(rules, code, filters.require_in)
    for code in filters.exclude:
        mask &= ~_holding(rules, code, filters.exclude_in)
    return mask


# filter field -> (what to tell the user, how the current value reads, the metric a threshold applies to)
_RELAXABLE = (
    ("min_support", N_("lower the minimum support"), lambda f: fmt.share(f.min_support, 2), "support"),
    ("min_confidence", N_("lower the minimum confidence"), lambda f: fmt.share(f.min_confidence, 0), "confidence"),
    ("min_lift", N_("lower the minimum lift"), lambda f: lift_text(f.min_lift), "lift"),
    ("min_len", N_("allow shorter rules"), lambda f: _("{num} products or more").format(num=f.min_len), None),
    ("max_len", N_("allow longer rules"), lambda f: _("{num} products at most").format(num=f.max_len), None),
    ("require", N_("require fewer products"), lambda f: ", ".join(f.require), None),
    ("exclude", N_("exclude fewer products"), lambda f: ", ".join(f.exclude), None),
    ("window", N_("show every window"), lambda f: window_label(f.window), None),
    ("show_redundant", N_("show redundant rules"), lambda f: _("hidden"), None),
)
_SHOWN = {"support": lambda v: fmt.share(v, 2), "confidence": lambda v: fmt.share(v, 0),
          "lift": lambda v: lift_text(v)}
_RECENT = re.compile(r"^last (\d+) days$")


def lift_text(value: float) -> str:
    """``×3`` or ``×2.5`` (``×2,5`` in French): a lift threshold as the sliders show it."""
    return "×" + (fmt.count(value) if float(value).is_integer() else fmt.number(value, 1))


def window_label(window: object) -> str:
    """A rule's window as shown: ``all baskets`` / ``last 60 days`` in the current language (the data keeps
    the English value, which the filters use)."""
    text = str(window or "")
    recent = _RECENT.match(text)
    if recent:
        days = int(recent.group(1))
        return ngettext("last %(num)d day", "last %(num)d days", days) % {"num": days}
    return _("all baskets") if text == "all baskets" else text


def empty_hint(rules: RuleSet, filters: RuleFilters) -> str:
    """What to change when no rule matches: each filter whose change alone gives rules (thresholds: the value
    to lower them to), most rules first; when no single change is enough, every active filter to relax."""
    if rules.total == 0:
        return _("No rule was published for this scope: lower rules.min_support in the refresh settings.")
    base, options, active = RuleFilters(), [], []
    for name, advice_id, shown, metric in _RELAXABLE:
        if getattr(filters, name) == getattr(base, name):
            continue
        advice = _(advice_id)
        active.append(advice)
        without = matching(rules, replace(filters, **{name: getattr(base, name)}))
        if not without.any():
            continue
        if metric:
            best = float(getattr(rules, metric)[without].max())
            level = math.floor(best * 1e4) / 1e4 if metric != "lift" else math.floor(best * 10) / 10
            options.append((int(without.sum()), _("{advice} to {level} or less (now {now})").format(
                advice=advice, level=_SHOWN[metric](level), now=shown(filters))))
        else:
            options.append((int(without.sum()), _("{advice} (now {now})").format(advice=advice, now=shown(filters))))
    if not options:
        return _("No rule passes these filters together, and changing one alone is not enough: {filters} (or Reset "
                 "filters).").format(filters="; ".join(active))
    options.sort(key=lambda option: -option[0])
    return _("No rule matches. To see rules, {changes}.").format(
        changes=_("; or ").join(text for _count, text in options[:3]))


def count_text(shown: int, total: int, hidden_redundant: int) -> str:
    """``412 of 2,555 rules`` (+ the redundant ones hidden)."""
    text = ngettext("{shown} of {total} rule", "{shown} of {total} rules", total).format(
        shown=fmt.count(shown), total=fmt.count(total))
    return text + (" · " + _("{num} redundant hidden").format(num=fmt.count(hidden_redundant))
                   if hidden_redundant else "")


def column_defs() -> list[dict]:
    """AG Grid columns of the rules grid (sorting and filtering happen on the server)."""
    def col(field: str, header: str, tip: str, **extra: object) -> dict:
        if GRID_COLUMNS[field] == "number":  # thresholds are the sliders above the grid
            return {"field": field, "colId": field, "headerName": header, "headerTooltip": tip, "filter": False,
                    "type": "rightAligned", **extra}
        name, options = _TEXT_FILTER
        return {"field": field, "colId": field, "headerName": header, "headerTooltip": tip, "filter": name,
                "filterParams": {"filterOptions": options, "maxNumConditions": 1, "buttons": ["reset"]}, **extra}

    return [
        col("antecedent", _("If a basket has…"), _("The rule's antecedent: products already in the basket"),
            minWidth=220, flex=2, cellClass="rule-link", tooltipField="antecedent_codes"),
        col("consequent", _("…it often also has"), _("The rule's consequent: the product to suggest"),
            minWidth=200, flex=2, cellClass="rule-link", tooltipField="consequent_codes"),
        col("support", _("Support"), _("Share of all baskets holding every product of the rule"), minWidth=100,
            flex=1),
        col("confidence", _("Confidence"), _("Share of the baskets with the antecedent that also hold the consequent"),
            minWidth=115, flex=1),
        col("lift", _("Lift"), _("How many times more often the products are bought together than by chance"),
            sort="desc", minWidth=90, flex=1),
        col("leverage", _("Leverage"), _("support − support(antecedent) × support(consequent)"), minWidth=105,
            flex=1),
        col("conviction", _("Conviction"),
            _("(1 − support(consequent)) / (1 − confidence); ∞ when confidence is 100 %"), minWidth=110, flex=1),
        col("baskets", _("Baskets"), _("Baskets holding every product of the rule"), minWidth=95, flex=1),
        col("window", _("Window"), _("Baskets mined: all history or only the recent days"), minWidth=115, flex=1),
        col("antecedent_codes", _("Antecedent codes"), _("Stock codes of the antecedent"), minWidth=120, flex=1,
            hide=True),
        col("consequent_codes", _("Consequent codes"), _("Stock codes of the consequent"), minWidth=120, flex=1,
            hide=True),
    ]


def grid_rows(rows: pd.DataFrame) -> list[dict]:
    """Display rows for the grid: shares in %, lift as ×, ∞ conviction."""
    return [{
        "rule_id": row["rule_id"], "antecedent": row["antecedent"], "antecedent_codes": row["antecedent_codes"],
        "consequent": row["consequent"], "consequent_codes": row["consequent_codes"],
        "support": fmt.share(row["support"], 2), "confidence": fmt.share(row["confidence"], 1),
        "lift": "×" + fmt.number(row["lift"], 2), "leverage": fmt.number(row["leverage"], 4),
        "conviction": "∞" if pd.isna(row["conviction"]) else fmt.number(row["conviction"], 2),
        "baskets": fmt.count(row["baskets"]), "window": window_label(row["window"]),
    } for row in rows.to_dict("records")]


def export_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """The rules as the CSV shows them: readable headers (stable English names), numbers as numbers."""
    return pd.DataFrame({
        "Rule id": rows["rule_id"], "Antecedent": rows["antecedent"], "Antecedent codes": rows["antecedent_codes"],
        "Consequent": rows["consequent"], "Consequent codes": rows["consequent_codes"],
        "Support": rows["support"].round(6), "Confidence": rows["confidence"].round(6),
        "Lift": rows["lift"].round(4), "Leverage": rows["leverage"].round(6),
        "Conviction": rows["conviction"].round(4), "Baskets": rows["baskets"], "Window": rows["window"],
        "Redundant": rows["redundant"].map({True: "yes", False: "no"}),
    })
