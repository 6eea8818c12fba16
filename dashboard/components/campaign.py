"""Campaign rows of customer-list CSVs: the contract lives in :mod:`analytics.campaign_columns` (pure, so the
command line's audience export shares it); re-exported here for the dashboard's pages."""

from __future__ import annotations

from analytics.campaign_columns import CAMPAIGN_COLUMNS, TOP_PRODUCTS, campaign_rows

__all__ = ["CAMPAIGN_COLUMNS", "TOP_PRODUCTS", "campaign_rows"]
