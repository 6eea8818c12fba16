"""Column names of the transaction input and of the snapshot tables: the contract, declared once.

The dashboard and the store know the snapshot only through these declarations.
"""

from __future__ import annotations

import re

__all__ = [
    "FIELDS",
    "REQUIRED_FIELDS",
    "OPTIONAL_FIELDS",
    "FIELD_ALIASES",
    "normalise_header",
    "SCHEMA_VERSION",
    "TABLES",
    "TABLE_NAMES",
]

# --- canonical transaction fields ------------------------------------------------------------------
INVOICE = "invoice"
STOCK_CODE = "stock_code"
DESCRIPTION = "description"
QUANTITY = "quantity"
INVOICE_DATE = "invoice_date"
UNIT_PRICE = "unit_price"
CUSTOMER_ID = "customer_id"
COUNTRY = "country"

REQUIRED_FIELDS = (INVOICE, STOCK_CODE, QUANTITY, INVOICE_DATE, UNIT_PRICE, CUSTOMER_ID)
OPTIONAL_FIELDS = (DESCRIPTION, COUNTRY)
FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS

# Spellings seen in real exports, compared after normalise_header (lower case, letters and digits only).
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    INVOICE: ("invoice", "invoiceno", "invoicenumber", "invoiceid", "order", "orderid", "orderno",
              "ordernumber", "transactionid", "receipt", "receiptno"),
    STOCK_CODE: ("stockcode", "stock", "productcode", "productid", "product", "sku", "itemcode", "itemid",
                 "article", "articleid"),
    DESCRIPTION: ("description", "productname", "productdescription", "itemname", "itemdescription", "name"),
    QUANTITY: ("quantity", "qty", "units", "quantityordered"),
    INVOICE_DATE: ("invoicedate", "date", "orderdate", "transactiondate", "invoicedatetime", "datetime",
                   "purchasedate", "timestamp"),
    UNIT_PRICE: ("unitprice", "price", "priceeach", "priceperunit", "unitcost", "saleprice"),
    CUSTOMER_ID: ("customerid", "customer", "customerno", "customernumber", "clientid", "client", "memberid"),
    COUNTRY: ("country", "countryname", "countrycode"),
}


def normalise_header(name: object) -> str:
    """Reduce a column header to lower-case letters and digits (`Customer ID` → `customerid`)."""
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


# --- sale flags added by cleaning --------------------------------------------------------------------
REVENUE = "revenue"

# --- snapshot tables ----------------------------------------------------------------------------------
SCHEMA_VERSION = 1

# Each table: column -> logical type. Logical types: str, int, float, bool, datetime, list[str].
TABLES: dict[str, dict[str, str]] = {
    "customers": {
        "customer_id": "str", "country": "str", "first_purchase": "datetime", "last_purchase": "datetime",
        "recency_days": "int", "frequency": "int", "monetary": "float", "avg_basket": "float",
        "r_score": "int", "f_score": "int", "m_score": "int", "rfm_cell": "str", "segment": "str",
        "usual_gap_days": "float", "risk_score": "float", "at_risk": "bool",
        "returns_count": "int", "returns_value": "float", "gross_value": "float", "net_value": "float",
        "yearly_value": "float",
        "previous_segment": "str", "segment_since": "datetime", "movement": "str",
        "expected_orders_90d": "float", "expected_value_12m": "float", "p_alive": "float", "p_order_90d": "float",
        "next_order_date": "datetime", "value_at_stake": "float", "risk_reason": "str",
    },
    "segments": {
        "segment": "str", "label_fr": "str", "priority": "str", "priority_rank": "int", "action": "str",
        "action_fr": "str", "tactic": "str", "tactic_fr": "str", "customers": "int", "customer_share": "float",
        "revenue": "float",
        "revenue_share": "float", "mean_recency_days": "float", "mean_frequency": "float",
        "mean_monetary": "float", "mean_r_score": "float", "mean_f_score": "float", "mean_m_score": "float",
        "avg_basket": "float", "at_risk_customers": "int", "revenue_at_stake": "float",
        "gross_sales": "float", "returns_value": "float", "net_revenue": "float", "pareto_share": "float",
    },
    "segment_products": {
        "segment": "str", "rank": "int", "stock_code": "str", "description": "str", "revenue": "float",
        "quantity": "int", "customers": "int",
    },
    "products": {
        "stock_code": "str", "description": "str", "revenue": "float", "quantity": "int",
        "customers": "int", "baskets": "int",
    },
    "rules": {
        "antecedents": "list[str]", "consequents": "list[str]", "antecedent_names": "list[str]",
        "consequent_names": "list[str]", "antecedent_support": "float", "consequent_support": "float",
        "support": "float", "baskets": "int", "confidence": "float", "lift": "float", "leverage": "float",
        "conviction": "float", "window": "str", "redundant": "bool", "rule_id": "str",
    },
    "product_monthly": {
        "stock_code": "str", "month": "datetime", "revenue": "float", "quantity": "int", "customers": "int",
        "orders": "int",
    },
    "product_buyers": {"customer_id": "str", "stock_code": "str"},
    "recommendations": {
        "customer_id": "str", "rank": "int", "stock_code": "str", "description": "str", "score": "float",
        "confidence": "float", "lift": "float", "source": "str", "because": "list[str]",
        "because_codes": "list[str]",
    },
    "orders": {
        "customer_id": "str", "invoice": "str", "invoice_date": "datetime", "items": "int",
        "quantity": "int", "total": "float", "is_return": "bool",
    },
    "order_lines": {
        "customer_id": "str", "invoice": "str", "stock_code": "str", "description": "str", "quantity": "int",
        "unit_price": "float", "total": "float", "is_return": "bool",
    },
    "customer_products": {
        "customer_id": "str", "rank": "int", "stock_code": "str", "description": "str", "orders": "int",
        "quantity": "int", "last_bought": "datetime",
    },
    "kpis": {
        "kpi": "str", "label": "str", "value": "float", "unit": "str", "definition": "str",
    },
    "pareto": {"customer_share": "float", "revenue_share": "float"},
    "monthly": {"month": "datetime", "revenue": "float", "returns": "float", "orders": "int", "customers": "int"},
    "pareto_by_segment": {"segment": "str", "customer_share": "float", "revenue_share": "float"},
    "monthly_by_segment": {"segment": "str", "month": "datetime", "revenue": "float", "returns": "float",
                           "orders": "int", "customers": "int"},
    # Campaigns (analytics/uplift.py): one row per audience, per audience and metric, per day and group.
    "campaigns": {
        "audience_id": "str", "name": "str", "note": "str", "created_by": "str", "created_at": "str",
        "snapshot_version": "str", "source": "str", "control_share": "float", "members": "int", "target": "int",
        "control": "int", "backdated": "bool", "as_of": "datetime", "measured_to": "datetime", "days": "int",
        "verdict": "str", "significant": "bool", "difference_points": "float", "mde_points": "float",
        "power_warning": "str",
    },
    "campaign_results": {
        "audience_id": "str", "metric": "str", "label": "str", "unit": "str", "target_value": "float",
        "control_value": "float", "difference": "float", "ci_low": "float", "ci_high": "float",
        "p_value": "float", "significant": "bool", "test": "str",
    },
    "campaign_daily": {
        "audience_id": "str", "day": "datetime", "group": "str", "members": "int", "buyers": "int",
        "share_bought": "float",
    },
    "segment_history": {
        "customer_id": "str", "period_end": "datetime", "segment": "str", "r_score": "int", "f_score": "int",
        "m_score": "int", "recency_days": "int", "frequency": "int", "monetary": "float",
    },
    "history_periods": {
        "period_start": "datetime", "period_end": "datetime", "customers": "int", "new_customers": "int",
        "lapsed_customers": "int", "upgraded": "int", "downgraded": "int", "unchanged": "int",
        "changed_without_purchase": "int", "high_value_slipped": "int", "high_value_slipped_value": "float",
    },
    "score_cutpoints": {"metric": "str", "score": "int", "lower": "float", "upper": "float", "unit": "str"},
    "prediction_backtest": {
        "method": "str", "label": "str", "customers": "int", "auc": "float", "orders_predicted": "float",
        "orders_actual": "float", "orders_mae": "float", "value_predicted": "float", "value_actual": "float",
        "value_mae": "float", "risk_precision_at_k": "float",
    },
    "prediction_deciles": {
        "decile": "int", "customers": "int", "predicted_orders": "float", "actual_orders": "float",
        "predicted_value": "float", "actual_value": "float",
    },
}
TABLES["segment_rules"] = {"segment": "str", **TABLES["rules"]}  # the rules mined on each segment's baskets
TABLE_NAMES = tuple(TABLES)

RECOMMENDATION_SOURCES = ("rule", "segment_bestseller")
