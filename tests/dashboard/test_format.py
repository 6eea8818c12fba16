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
