"""Item and itemset counts of the baskets (invoices): items and pairs by a DataFrame self-join; FPGrowth
(``pyspark.ml.fpm``) only for longer itemsets."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from analytics import schema as s

__all__ = ["frequent_itemsets", "item_counts", "pair_counts"]


def item_counts(basket_lines: DataFrame) -> DataFrame:
    """stock_code, baskets: the number of distinct invoices holding each stock code."""
    return basket_lines.select(s.INVOICE, s.STOCK_CODE).distinct().groupBy(s.STOCK_CODE).agg(
        F.count("*").alias("baskets"))


def pair_counts(basket_lines: DataFrame, min_baskets: int = 1) -> DataFrame:
    """item_a, item_b (item_a < item_b), baskets: invoices holding both, for pairs in ≥ ``min_baskets`` baskets.

    Items in fewer than ``min_baskets`` baskets cannot be in such a pair: they are dropped before the join.
    """
    distinct = basket_lines.select(s.INVOICE, s.STOCK_CODE).distinct()
    if min_baskets > 1:
        frequent = item_counts(distinct).where(F.col("baskets") >= min_baskets).select(s.STOCK_CODE)
        distinct = distinct.join(frequent, s.STOCK_CODE, "left_semi")
    left = distinct.select(s.INVOICE, F.col(s.STOCK_CODE).alias("item_a"))
    right = distinct.select(s.INVOICE, F.col(s.STOCK_CODE).alias("item_b"))
    pairs = left.join(right, s.INVOICE).where(F.col("item_a") < F.col("item_b"))
    return pairs.groupBy("item_a", "item_b").agg(F.count("*").alias("baskets")).where(F.col("baskets") >= min_baskets)


def frequent_itemsets(basket_lines: DataFrame, min_support: float, partitions: int) -> DataFrame:
    """items (array of stock codes), freq: FPGrowth's frequent itemsets of any length.

    ``partitions``: FPGrowth's ``numPartitions`` (its default, the input's partitions, is far too many on a
    small cluster). The JVM needs a deep stack on long baskets (``-Xss32m``, ``analytics_spark.session``).
    """
    from pyspark.ml.fpm import FPGrowth

    baskets = basket_lines.groupBy(s.INVOICE).agg(F.array_sort(F.collect_set(s.STOCK_CODE)).alias("items"))
    model = FPGrowth(itemsCol="items", minSupport=min_support, numPartitions=partitions).fit(baskets)
    return model.freqItemsets
