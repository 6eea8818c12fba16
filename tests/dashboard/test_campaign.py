"""Campaign rows (the customer-list CSV contract) on a handmade snapshot."""

from __future__ import annotations

import pandas as pd

from dashboard.components.campaign import CAMPAIGN_COLUMNS, campaign_rows
from dashboard.components.export import to_safe_csv

CUSTOMERS = pd.DataFrame({
    "customer_id": ["A", "B"], "country": ["France", "Spain"], "segment": ["Loyal", "Lost"],
    "r_score": [1, 5], "f_score": [4, 1], "m_score": [5, 1], "recency_days": [200, 3], "frequency": [6, 1],
    "last_purchase": pd.to_datetime(["2024-01-02 10:00", "2024-07-18 09:00"]),
    "gross_value": [1200.0, 50.0], "returns_value": [200.0, 50.0], "net_value": [1000.0, 0.0],
    "yearly_value": [1000 * 365 / 400, 0.0], "risk_score": [81.26, 0.0], "at_risk": [True, False],
    "previous_segment": ["Champions", None], "segment_since": pd.to_datetime(["2024-05-01", "2023-11-01"]),
})
SEGMENTS = pd.DataFrame({"segment": ["Loyal", "Lost"], "priority": ["High", "Low"], "action": ["Retain", "Ignore"],
                         "tactic": ["Thank them", "Nothing"]})
RECS = pd.DataFrame({"customer_id": ["A", "A", "A", "A", "B"], "rank": [2, 1, 4, 3, 1],
                     "stock_code": ["Y", "X", "W", "Z", "X"],
                     "description": ["TEAPOT", "MUG", "WALL", "=SPOON", "MUG"]})


def test_columns_order_and_values():
    rows = campaign_rows(CUSTOMERS, SEGMENTS, RECS, ["B", "nobody", "A", "B"], "£")
    assert tuple(rows.columns) == CAMPAIGN_COLUMNS
    assert rows["customer_id"].tolist() == ["B", "A"]  # the order asked, unknown and repeated ids left out
    assert rows[["previous_segment", "segment_since"]].iloc[1].tolist() == ["Champions", "2024-05-01"]
    assert pd.isna(rows["previous_segment"].iloc[0])  # the same segment over the whole history
    a = rows.set_index("customer_id").loc["A"]
    assert a[["country", "segment", "priority", "action", "tactic"]].tolist() == \
        ["France", "Loyal", "High", "Retain", "Thank them"]
    assert a[["r_score", "f_score", "m_score", "last_purchase", "at_risk", "currency"]].tolist() == \
        [1, 4, 5, "2024-01-02", "true", "£"]
    # yearly value 1000 × 365 / 400 = 912.50; at risk, so it is also the revenue at stake
    assert a[["net_value", "returns_value", "yearly_value", "revenue_at_stake", "risk_score"]].tolist() == \
        [1000.0, 200.0, 912.5, 912.5, 81.3]
    assert a[["product_1_code", "product_1_name", "product_2_code", "product_3_code", "product_3_name"]].tolist() == \
        ["X", "MUG", "Y", "Z", "=SPOON"]  # ranks 1–3, whatever the table's order


def test_customer_without_three_products_and_not_at_risk():
    b = campaign_rows(CUSTOMERS, SEGMENTS, RECS, ["B"]).iloc[0]
    assert b["revenue_at_stake"] == 0.0 and b["at_risk"] == "false"
    assert b["product_1_code"] == "X" and pd.isna(b["product_2_code"]) and pd.isna(b["product_3_name"])


def test_csv_of_campaign_rows_is_safe():
    text = to_safe_csv(campaign_rows(CUSTOMERS, SEGMENTS, RECS, ["A"], "£"))
    assert text.splitlines()[0] == ",".join(CAMPAIGN_COLUMNS)
    assert "'=SPOON" in text  # a formula-like product name is neutralised


def test_no_ids_gives_the_header_only():
    rows = campaign_rows(CUSTOMERS, SEGMENTS, RECS, [])
    assert rows.empty and tuple(rows.columns) == CAMPAIGN_COLUMNS
