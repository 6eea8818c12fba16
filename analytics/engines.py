"""The seam between the pipeline and the engine that computes the line-scale aggregates.

An engine turns the transaction lines into the per-customer summary (R/F/M with returns) and the
order, product and monthly tables. :class:`PandasEngine` (the default) calls the analytics functions;
``analytics_spark.SparkEngine`` (optional install) computes the same tables on Apache Spark. Everything
customer-level (scores, segments, history, rules, recommendations, predictions) stays shared code.
"""

from __future__ import annotations

from typing import Protocol

import pandas as pd

from analytics.clean import CleanResult
from analytics.kpis import monthly_trend
from analytics.orders import order_history, returns_by_customer
from analytics.products import product_monthly, summarise_products
from analytics.rfm import summarise_customers, with_returns
from analytics.rules import Baskets
from analytics.settings import Settings

__all__ = ["Engine", "LineTables", "PandasEngine"]

LineTables = dict[str, pd.DataFrame]  # snapshot table name -> table: orders, products, product_monthly, monthly


class Engine(Protocol):
    """Computes the line-scale aggregates; every frame returned has the pandas engine's columns and dtypes."""

    name: str
    reads_lines: bool  # whether ``customers`` and ``tables`` read ``lines`` (else they get an empty frame)

    def customers(self, lines: pd.DataFrame, cleaned: CleanResult, as_of: pd.Timestamp,
                  settings: Settings) -> pd.DataFrame:
        """``rfm.with_returns(rfm.summarise_customers(...), orders.returns_by_customer(...), basis)``."""
        ...

    def tables(self, lines: pd.DataFrame, cleaned: CleanResult, baskets: Baskets, names: pd.Series,
               settings: Settings) -> LineTables:
        """The snapshot tables orders, products, product_monthly and monthly."""
        ...


class PandasEngine:
    """The default engine: the analytics functions on the cleaned pandas frames."""

    name = "pandas"
    reads_lines = False  # only the cleaned frames

    def customers(self, lines: pd.DataFrame, cleaned: CleanResult, as_of: pd.Timestamp,
                  settings: Settings) -> pd.DataFrame:
        return with_returns(summarise_customers(cleaned.sales, as_of), returns_by_customer(cleaned.returns),
                            settings.rfm.monetary)

    def tables(self, lines: pd.DataFrame, cleaned: CleanResult, baskets: Baskets, names: pd.Series,
               settings: Settings) -> LineTables:
        return {
            "products": summarise_products(cleaned.sales, baskets, names),
            "product_monthly": product_monthly(cleaned.sales),
            "orders": order_history(cleaned.sales, cleaned.returns),
            "monthly": monthly_trend(cleaned.sales, cleaned.returns),
        }
