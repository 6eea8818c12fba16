"""Display rules of dashboard/components/format.py."""

from __future__ import annotations

import math

from dashboard.components import format as fmt


def test_product_name_is_one_rule_for_every_page():
    assert fmt.product_name("WHITE HANGING HEART T-LIGHT HOLDER") == "White Hanging Heart T-light Holder"
    assert fmt.product_name("DOLLY GIRL'S  LUNCH BOX") == "Dolly Girl's Lunch Box"  # not "Girl'S"; spaces tidied
    assert fmt.product_name("regency cakestand 3 tier") == "Regency Cakestand 3 Tier"
    assert fmt.product_name(None) == fmt.product_name(math.nan) == fmt.product_name(" ") == "–"


def test_pages_use_the_rule(dash_app, in_request):
    """Segments' top products and Client 360's recommendations show the same name for the same product."""
    import pandas as pd

    from dashboard.components import client_view, segment_view
    from tests.dashboard.components import text

    products = pd.DataFrame({"segment": ["S"], "rank": [1], "stock_code": ["22423"],
                             "description": ["REGENCY CAKESTAND 3 TIER"], "revenue": [10.0], "quantity": [1],
                             "customers": [1]})
    recs = pd.DataFrame({"customer_id": ["c"], "rank": [1], "stock_code": ["22423"],
                         "description": ["REGENCY CAKESTAND 3 TIER"], "score": [0.5], "confidence": [0.5],
                         "lift": [2.0], "source": ["rule"], "because": [["ROSES REGENCY TEACUP AND SAUCER"]]})
    assert "Regency Cakestand 3 Tier" in text(segment_view.products_table(products, "£"))
    shown = text(client_view.recommendation_list(recs, "S"))
    assert "Regency Cakestand 3 Tier" in shown and "Bought with Roses Regency Teacup And Saucer" in shown


def test_digits_are_the_cldr_pattern_digits_in_english_and_french():
    """The fast path (Python's rounding, the language's symbols) against Babel's ``#,##0.00`` pattern, on
    ties, huge and tiny values."""
    import random
    from decimal import ROUND_HALF_EVEN, Decimal

    from babel import Locale
    from babel.numbers import parse_pattern

    from dashboard.i18n import use_language

    rng = random.Random(7)
    values = [0.0, 0.005, 0.015, 0.125, 2.675, 999.995, 1000.5, 1234567.891, 1e15 + 0.5, -0.004, -1234.565]
    values += [rng.uniform(-1e7, 1e7) for _ in range(400)] + [rng.uniform(-2, 2) for _ in range(400)]
    for lang in ("en", "fr"):
        with use_language(lang):
            for value in values:
                for decimals, grouping in ((0, True), (1, True), (2, True), (1, False)):
                    exact = Decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)
                    pattern = ("#,##0" if grouping else "0") + ("." + "0" * decimals if decimals else "")
                    expected = parse_pattern(pattern).apply(abs(exact), Locale.parse(lang))
                    assert fmt._digits(value, decimals, grouping) == expected, (lang, value, decimals)
        with use_language(lang):
            assert fmt.money(-1234567.891, "£") == ("-£1,234,568" if lang == "en" else "-1\u202f234\u202f568\u00a0£")
