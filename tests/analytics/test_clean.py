"""Cleaning rules on the handmade frame and the published figures of the bundled data."""

import pandas as pd

from analytics.clean import clean_transactions, count_exact_duplicates, is_service_code
from analytics.settings import BasketParams, CleaningParams


def _report(result):
    return {row["rule"]: row["rows"] for row in result.report}


def test_handmade_counts_each_rule(lines):
    result = clean_transactions(lines, CleaningParams(), BasketParams(include_guests=True))
    assert _report(result) == {
        "input_lines": 14, "exact_duplicates": 1, "cancellations": 1, "non_positive_quantity": 1,
        "non_positive_price": 1, "no_customer_id": 2, "service_codes": 1, "customer_sale_lines": 9,
        "basket_lines": 10,
    }
    assert len(result.sales) == 9
    assert result.sales["revenue"].sum() == 100.0
    assert sorted(result.sales["customer_id"].unique()) == ["A", "B", "C", "E"]
    assert result.returns["invoice"].tolist() == ["C5"]
    assert result.returns["revenue"].tolist() == [-5.0]
    assert "POST" not in set(result.basket_lines["stock_code"])


def test_guests_left_out_of_baskets_when_configured(lines):
    result = clean_transactions(lines, CleaningParams(), BasketParams(include_guests=False))
    assert len(result.basket_lines) == 8
    assert result.basket_lines["customer_id"].notna().all()
    assert _report(result)["no_customer_id"] == 2


def test_service_codes_by_list_and_pattern():
    codes = pd.Series(["POST", "85123A", "gift_0001_20", "DCGSSBOY", "BANK CHARGES", "M", "22423"])
    flags = is_service_code(codes, CleaningParams())
    assert flags.tolist() == [True, False, True, True, True, True, False]


def test_duplicates_are_kept(lines):
    result = clean_transactions(lines, CleaningParams(), BasketParams())
    spoon = result.sales[result.sales["stock_code"] == "Z"]
    assert len(spoon) == 2  # the duplicate line is still a sale


def test_bundled_data_gives_published_figures(bundled_lines):
    result = clean_transactions(bundled_lines, CleaningParams(), BasketParams())
    assert len(result.sales) == 397_884
    assert result.sales["customer_id"].nunique() == 4_338
    assert round(result.sales["revenue"].sum(), 2) == 8_911_407.90
    report = _report(result)
    assert report["input_lines"] == 541_909
    assert report["exact_duplicates"] == 5_268
    assert report["cancellations"] == 9_288


def test_exact_duplicates_count_every_repeat_of_a_line_wherever_it_is():
    lines = pd.DataFrame({
        "invoice": ["2", "1", "2", "1", "2", "3", "1"],
        "stock_code": ["A", "A", "A", "B", "A", "A", "A"],
        "quantity": [1, 1, 1, 1, 1, 1, 2],
    })
    # invoice 2 / A three times (2 repeats); invoice 1 / A twice but with another quantity: not a duplicate
    assert count_exact_duplicates(lines) == 2
    assert count_exact_duplicates(lines[["quantity"]]) == 5  # no keys: compared in full (six 1s)
