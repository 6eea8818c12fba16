"""The seam between the pipeline and the engine that computes the line-scale aggregates.

An engine turns the transaction lines into the per-customer summary (R/F/M with returns) and the
product and monthly tables. :class:`PandasEngine` (the default) calls the analytics functions; the
pipeline then builds the order table from the cleaned lines (in the second process, when there is one).
``analytics_spark.SparkEngine`` (optional install) computes the same tables, the order table included, on
Apache Spark. Everything customer-level (scores, segments, history, rules, recommendations, predictions)
stays shared code.
"""

from __future__ import annotations

from typing import Protocol

import pandas as pd

from analytics.clean import CleanResult
from analytics.kpis import monthly_trend
from analytics.orders import returns_by_customer
from analytics.products import product_monthly, summarise_products
from analytics.rfm import summarise_customers, with_returns
from analytics.rules import Baskets
from analytics.settings import Settings

__all__ = ["Engine", "LineTables", "PandasEngine"]

LineTables = dict[str, pd.DataFrame]  # snapshot table name -> table: products, product_monthly, monthly (orders)


class Engine(Protocol):
    """Computes the line-scale aggregates; every frame returned has the pandas engine's columns and dtypes."""

    name: str
    reads_lines: bool  # whether ``customers`` and ``tables`` read ``lines`` (else they get an empty frame)
    builds_orders: bool  # whether ``tables`` returns ``orders`` (else the pipeline builds it from the cleaned lines)

    def customers(self, lines: pd.DataFrame, cleaned: CleanResult, as_of: pd.Timestamp,
                  settings: Settings) -> pd.DataFrame:
        """``rfm.with_returns(rfm.summarise_customers(...), orders.returns_by_customer(...), basis)``."""
        ...

    def tables(self, lines: pd.DataFrame, cleaned: CleanResult, baskets: Baskets, names: pd.Series,
               settings: Settings) -> LineTables:
        """The snapshot tables products, product_monthly and monthly, and orders if ``builds_orders``."""
        ...


class PandasEngine:
    """The default engine: the analytics functions on the cleaned pandas frames."""

    name = "pandas"
    reads_lines = False  # only the cleaned frames
    builds_orders = False  # ``orders.order_history`` of the cleaned lines, which the pipeline may run aside

    def customers(self, lines: pd.DataFrame, cleaned: CleanResult, as_of: pd.Timestamp,
                  settings: Settings) -> pd.DataFrame:
        return with_returns(summarise_customers(cleaned.sales, as_of), returns_by_customer(cleaned.returns),
                            settings.rfm.monetary)

    def tables(self, lines: pd.DataFrame, cleaned: CleanResult, baskets: Baskets, names: pd.Series,
               settings: Settings) -> LineTables:
        return {
            "products": summarise_products(cleaned.sales, baskets, names),
            "product_monthly": product_monthly(cleaned.sales),
            "monthly": monthly_trend(cleaned.sales, cleaned.returns),
        }
