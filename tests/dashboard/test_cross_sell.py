"""Cross-sell explorer, rule page and product page: filter logic on handmade rules, the audience by hand,
and the pages' callbacks on the bundled snapshot (answers computed independently from the tables)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard import data
from dashboard.components import audience as au
from dashboard.components import rules_view as rv
from tests.dashboard.components import by_id, page_module, text


def _rules() -> pd.DataFrame:
    """Four rules: A→B (lift 5), A,C→B (redundant), B→D (recent window), C→A (lift 1.5)."""
    return pd.DataFrame({
        "antecedents": [["A"], ["A", "C"], ["B"], ["C"]], "consequents": [["B"], ["B"], ["D"], ["A"]],
        "antecedent_names": [["MUG"], ["MUG", "CUP"], ["TEAPOT"], ["CUP"]],
        "consequent_names": [["TEAPOT"], ["TEAPOT"], ["SPOON"], ["MUG"]],
        "antecedent_support": [0.1, 0.05, 0.1, 0.2], "consequent_support": [0.1, 0.1, 0.2, 0.1],
        "support": [0.05, 0.02, 0.04, 0.03], "baskets": [50, 20, 40, 30], "confidence": [0.5, 0.4, 0.4, 0.15],
        "lift": [5.0, 4.0, 2.0, 1.5], "leverage": [0.04, 0.015, 0.02, 0.01], "conviction": [1.8, 1.5, 1.33, np.inf],
        "window": ["all baskets", "all baskets", "last 60 days", "all baskets"],
        "redundant": [False, True, False, False], "rule_id": ["r1", "r2", "r3", "r4"],
    })


def _ids(rules: rv.RuleSet, **filters) -> list[str]:
    mask = rv.matching(rules, rv.RuleFilters(**filters))
    return sorted(rules.frame.loc[mask, "rule_id"])


def test_filters_on_handmade_rules():
    rules = rv.prepare(_rules())
    assert list(rules.frame["rule_id"]) == ["r1", "r2", "r3", "r4"]  # lift order
    assert _ids(rules) == ["r1", "r3", "r4"]  # redundant r2 hidden by default
    assert _ids(rules, show_redundant=True) == ["r1", "r2", "r3", "r4"]
    assert _ids(rules, min_lift=2.0) == ["r1", "r3"] and _ids(rules, min_support=0.04) == ["r1", "r3"]
    assert _ids(rules, min_confidence=0.45) == ["r1"]
    assert _ids(rules, min_len=3, show_redundant=True) == ["r2"] and _ids(rules, max_len=2) == ["r1", "r3", "r4"]
    assert _ids(rules, require=("B",)) == ["r1", "r3"]  # anywhere
    assert _ids(rules, require=("B",), require_in="antecedent") == ["r3"]
    assert _ids(rules, require=("B",), require_in="consequent") == ["r1"]
    assert _ids(rules, require=("A", "B")) == ["r1"]  # every product required
    assert _ids(rules, exclude=("A",)) == ["r3"]
    assert _ids(rules, exclude=("A",), exclude_in="antecedent") == ["r3", "r4"]
    assert _ids(rules, require=("ZZZ",)) == [] and _ids(rules, window="last 60 days") == ["r3"]


def test_query_string_round_trip_and_untrusted_values():
    filters = rv.RuleFilters(min_support=0.02, min_lift=3.0, require=("22697", "22698"), require_in="antecedent",
                             show_redundant=True, max_len=3)
    query = rv.to_query(filters)
    assert query == {"sup": "0.02", "lift": "3", "len_max": "3", "req": "22697,22698", "req_in": "antecedent",
                     "redundant": "show"}
    assert rv.parse_filters(query) == filters
    assert rv.to_query(rv.RuleFilters()) == {}
    many = ",".join(f"c{i}" for i in range(50)) + ",b" + "b" * 99
    junk = rv.parse_filters({"sup": "nan", "conf": "7", "lift": "-3", "len_min": "x", "req": many,
                             "req_in": "<script>", "redundant": ["show"]})
    assert junk.min_support == 0 and junk.min_confidence == 1.0 and junk.min_lift == 0 and junk.min_len == 2
    assert junk.require == tuple(f"c{i}" for i in range(10)) and rv.MAX_CODES == 10
    assert junk.require_in == "anywhere" and not junk.show_redundant
    assert rv.parse_filters({"req": "b" * 99}).require == ("b" * rv.MAX_CODE_LENGTH,)


def test_empty_state_says_which_threshold_to_lower():
    rules = rv.prepare(_rules())
    # lift ≥ 6 matches nothing; without it the best remaining lift is 5 (r1): lower it to ×5.
    hint = rv.empty_hint(rules, rv.RuleFilters(min_lift=6.0))
    assert hint == "No rule matches. To see rules, lower the minimum lift to ×5 or less (now ×6)."
    # with D required only r3 (lift 2) is left: only the lift is worth changing
    hint = rv.empty_hint(rules, rv.RuleFilters(min_lift=6.0, require=("D",)))
    assert hint == "No rule matches. To see rules, lower the minimum lift to ×2 or less (now ×6)."
    # support ≥ 6 % and lift ≥ 6: no rule passes either one alone
    hint = rv.empty_hint(rules, rv.RuleFilters(min_lift=6.0, min_support=0.06))
    assert hint.startswith("No rule passes these filters together") and "lower the minimum support" in hint
    assert rv.count_text(3, 4, 1) == "3 of 4 rules · 1 redundant hidden"


def test_audience_by_hand():
    # c1 bought A; c2 A and B; c3 B; c4 A (segment S2). Rule A→B: c1 and c4 (never B), by net value.
    bought = pd.DataFrame({"customer_id": ["c1", "c2", "c2", "c3", "c4"], "stock_code": ["A", "A", "B", "B", "A"]})
    customers = pd.DataFrame({
        "customer_id": ["c1", "c2", "c3", "c4"], "country": ["UK"] * 4, "segment": ["S1", "S1", "S1", "S2"],
        "net_value": [80.0, 50.0, 10.0, 300.0], "frequency": [2, 1, 1, 5],
        "last_purchase": pd.to_datetime(["2011-01-01"] * 4), "recency_days": [30, 40, 50, 60],
    })
    rule = {"antecedents": ["A"], "consequents": ["B"], "antecedent_names": ["MUG"], "consequent_names": ["TEAPOT"],
            "confidence": 0.5, "lift": 5.0, "rule_id": "r1"}
    people = au.audience(rule, au.buyers_index(bought), customers)
    assert people["customer_id"].tolist() == ["c4", "c1"] and people["net_value"].tolist() == [300.0, 80.0]
    assert au.audience(rule, au.buyers_index(bought), customers, "S1")["customer_id"].tolist() == ["c1"]
    rule_b = {**rule, "antecedents": ["A", "B"]}  # every antecedent product needed: only c2, who has B
    assert au.audience(rule_b, au.buyers_index(bought), customers).empty


def test_audience_export_has_the_campaign_columns_then_the_rules(dash_app, version):
    from dashboard.components.campaign import CAMPAIGN_COLUMNS
    customers, segments = data.table("customers", version), data.table("segments", version)
    recommendations = data.table("recommendations", version)
    rules = data.table("rules", version)
    rule = rules.iloc[0]
    people = au.audience(rule, au.buyers_index(data.table("product_buyers", version)), customers)
    frame = au.export_frame(people, rule, customers, segments, recommendations, "£")
    assert list(frame.columns) == [*CAMPAIGN_COLUMNS, *au.RULE_COLUMNS]
    assert frame["customer_id"].tolist() == people["customer_id"].tolist()
    assert set(frame["rule_id"]) == {rule["rule_id"]}
    assert set(frame["suggested_product_code"]) == {rule["consequents"][0]}


# --- pages on the bundled snapshot ------------------------------------------------------------------

@pytest.fixture
def version(in_request) -> str:
    return data.current_version()


def _expected(rules: pd.DataFrame, code: str, min_lift: float) -> int:
    """Non-redundant rules holding ``code`` anywhere with lift ≥ min_lift, counted with plain pandas."""
    holds = rules["antecedents"].map(lambda a: code in list(a)) | rules["consequents"].map(lambda c: code in list(c))
    return int((holds & (rules["lift"] >= min_lift) & ~rules["redundant"]).sum())


def test_explorer_filters_count_and_grid(dash_app, version):
    page = page_module("/cross-sell")
    rules = data.table("rules", version)
    out = page.apply_filters(0, 0, 3, [2, 3], ["22697"], "anywhere", [], "anywhere", "", ["hide"], {}, version,
                             {"segment": None})
    query, _grid, count, hint, hint_open = out[:5]
    expected = _expected(rules, "22697", 3)
    assert expected > 5 and count == f"{expected} of {len(rules):,} rules"
    assert query == {"lift": "3", "req": "22697"} and hint is None and hint_open is False
    response = page.get_rows({"startRow": 0, "endRow": 20}, query, version, {"segment": None})
    assert response["rowCount"] == expected
    lifts = [float(row["lift"].lstrip("×")) for row in response["rowData"]]
    assert lifts == sorted(lifts, reverse=True) and all("22697" in row["antecedent_codes"] + row["consequent_codes"]
                                                        for row in response["rowData"])
    # nothing matches: the hint names the threshold
    out = page.apply_filters(0, 0, 500, [2, 3], [], "anywhere", [], "anywhere", "", ["hide"], {}, version,
                             {"segment": None})
    assert out[2] == f"0 of {len(rules):,} rules" and out[4] is True and "lower the minimum lift to ×" in out[3]


def test_segment_chip_shows_that_segments_rules(dash_app, version):
    page = page_module("/cross-sell")
    segment_rules = data.table("segment_rules", version)
    champions = segment_rules[segment_rules["segment"] == "Champions"]
    out = page.apply_filters(0, 0, 0, [2, 3], [], "anywhere", [], "anywhere", "", [], {}, version,
                             {"segment": "Champions"})
    assert len(champions) > 100 and out[2] == f"{len(champions):,} of {len(champions):,} rules"
    assert "Champions" in text(page.layout(segment="Champions"))


def test_scatter_click_opens_the_rule_and_export_has_every_row(dash_app, version):
    page = page_module("/cross-sell")
    rules = data.table("rules", version)
    rule_id = rules.iloc[3]["rule_id"]
    clicked = page.clicked_rule_id("cs-scatter", None, {"points": [{"customdata": [rule_id, "a", "b", 2.0]}]})
    assert clicked == rule_id and page.rule_href(clicked, version, {"segment": None}) == f"/cross-sell/rule/{rule_id}"
    assert page.clicked_rule_id({"type": "cs-grid", "key": "k"}, [None, {"rowId": "r9"}], None) == "r9"
    assert page.rule_href("not-a-rule", version, {"segment": None}) is None
    export = page.export_csv(1, [], {"lift": "3", "req": "22697"}, version, {"segment": None})
    lines = export["content"].strip().split("\r\n")
    assert len(lines) == 1 + _expected(rules, "22697", 3) and lines[0].lstrip("\ufeff").startswith("Rule id,")


def test_rule_page_audience_matches_the_purchases(dash_app, in_request, version):
    page = page_module("/cross-sell/rule/<rule_id>")
    rules = data.table("rules", version)
    rule = rules[rules["antecedents"].map(len) == 1].iloc[0]
    bought = data.table("product_buyers", version)
    ante = set(bought.loc[bought["stock_code"] == rule["antecedents"][0], "customer_id"])
    cons = set(bought.loc[bought["stock_code"].isin(list(rule["consequents"])), "customer_id"])
    expected = ante - cons
    layout = page.layout(rule_id=rule["rule_id"])
    assert text(by_id(layout, "rule-audience-count")).startswith(f"{len(expected):,} customers bought the antecedent")
    assert f"in {int(rule['baskets']):,} baskets" in text(by_id(layout, "rule-words"))
    # "Create audience" (issue 14) starts from exactly this list
    assert by_id(layout, "audience-open").disabled is False
    source = by_id(layout, "audience-source").data
    assert set(source["ids"]) == expected and source["description"].startswith(f"cross-sell rule {rule['rule_id']}")
    export = page.export_audience(1, {"rule_id": rule["rule_id"]}, version)
    rows = export["content"].strip().split("\r\n")
    assert len(rows) == 1 + len(expected) and rows[0].lstrip("\ufeff").startswith("customer_id,country,segment,")
    assert {row.split(",")[0] for row in rows[1:]} == expected
    assert "No rule with this id" in text(page.layout(rule_id="0000"))


def test_product_page_figures(dash_app, version):
    page = page_module("/products/<code>")
    product = data.table("products", version).set_index("stock_code").loc["22697"]
    recommended = int((data.table("recommendations", version)["stock_code"] == "22697").sum())
    layout = page.layout(code="22697")
    assert text(by_id(layout, "product-buyers")) == f"{int(product['customers']):,}"
    assert text(by_id(layout, "product-recommended-to")) == f"{recommended:,}"
    monthly = data.table("product_monthly", version)
    assert monthly.loc[monthly["stock_code"] == "22697", "revenue"].sum() == pytest.approx(product["revenue"])
    assert "Pink Regency Teacup And Saucer" in text(by_id(layout, "product-then"))  # format.product_name
    assert "No product with stock code" in text(page.layout(code="NOPE"))
