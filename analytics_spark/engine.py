"""The Spark engine (``refresh.engine: spark``): ``analytics.engines.Engine`` on Spark DataFrames."""

from __future__ import annotations

import pandas as pd

from analytics.clean import CleanResult
from analytics.engines import LineTables
from analytics.rules import Baskets
from analytics.settings import Settings
from analytics_spark import aggregates as agg
from analytics_spark.frames import SparkLines, clean_lines, temporary_folder, to_spark
from analytics_spark.itemsets import item_counts
from analytics_spark.session import spark_session

__all__ = ["SparkEngine"]


class SparkEngine:
    """Loads the canonical lines into Spark once, cleans them there, and computes the aggregates."""

    name = "spark"
    reads_lines = True  # the lines are loaded and cleaned in Spark
    builds_orders = True

    def __init__(self, master: str | None = None, shuffle_partitions: int | None = None) -> None:
        self.spark = spark_session(master, shuffle_partitions)
        self._folder = temporary_folder()
        self._source: pd.DataFrame | None = None
        self._lines: SparkLines | None = None

    def customers(self, lines: pd.DataFrame, cleaned: CleanResult, as_of: pd.Timestamp,
                  settings: Settings) -> pd.DataFrame:
        spark_lines = self._prepared(lines, settings)
        return agg.customer_summary(spark_lines.sales, spark_lines.returns, as_of, settings.rfm.monetary)

    def tables(self, lines: pd.DataFrame, cleaned: CleanResult, baskets: Baskets, names: pd.Series,
               settings: Settings) -> LineTables:
        spark_lines = self._prepared(lines, settings)
        return {
            "products": agg.product_summary(spark_lines.sales, item_counts(spark_lines.basket_lines), names),
            "product_monthly": agg.product_monthly(spark_lines.sales),
            "orders": agg.order_history(spark_lines.sales, spark_lines.returns),
            "monthly": agg.monthly_trend(spark_lines.sales, spark_lines.returns),
        }

    def _prepared(self, lines: pd.DataFrame, settings: Settings) -> SparkLines:
        """The cleaned Spark lines of ``lines`` (loaded and cached on first use)."""
        if self._lines is None or self._source is not lines:
            frame = to_spark(self.spark, lines, self._folder.name).cache()
            self._source, self._lines = lines, clean_lines(frame, settings.cleaning, settings.baskets)
        return self._lines
