"""Canonical lines into Spark, and the cleaning rules of ``analytics.clean`` as Spark filters."""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from analytics import schema as s
from analytics.settings import BasketParams, CleaningParams

__all__ = ["SparkLines", "clean_lines", "to_spark"]


@dataclass(frozen=True)
class SparkLines:
    """The cleaned lines as Spark DataFrames (the tables of ``analytics.clean.CleanResult``)."""

    sales: DataFrame  # canonical columns + revenue, is_service
    returns: DataFrame  # cancelled lines of known customers, revenue negative
    basket_lines: DataFrame  # invoice, stock_code of the lines mined for rules


def to_spark(spark: SparkSession, lines: pd.DataFrame, folder: Path) -> DataFrame:
    """Canonical lines (``analytics.load.read_transactions``) as a Spark DataFrame, through a Parquet file in
    ``folder`` (text as strings, timestamps in microseconds: Spark has no nanoseconds)."""
    table = pa.Table.from_pandas(lines, preserve_index=False)
    columns = []
    for field in table.schema:
        column = table[field.name]
        if pa.types.is_dictionary(field.type):
            column = column.cast(pa.string())
        elif pa.types.is_timestamp(field.type):
            column = column.cast(pa.timestamp("us"))
        columns.append(column)
    path = Path(folder) / f"lines-{uuid.uuid4().hex}.parquet"  # a new file per hand-over: cached frames keep theirs
    pq.write_table(pa.table(columns, names=table.column_names), path)
    return spark.read.parquet(str(path))


def clean_lines(lines: DataFrame, params: CleaningParams, baskets: BasketParams) -> SparkLines:
    """``analytics.clean.clean_transactions``'s sales, returns and basket lines (same rules, same order)."""
    cancelled = F.coalesce(F.col(s.INVOICE).startswith(params.cancellation_prefix), F.lit(False))
    bad_quantity = ~cancelled & (F.col(s.QUANTITY) <= 0)
    bad_price = ~cancelled & ~bad_quantity & (F.col(s.UNIT_PRICE) <= 0)
    sale = ~(cancelled | bad_quantity | bad_price)
    known = F.col(s.CUSTOMER_ID).isNotNull()
    service = _is_service(params)
    with_revenue = lines.withColumn(s.REVENUE, F.col(s.QUANTITY).cast("double") * F.col(s.UNIT_PRICE))
    basket = sale & ~service & (known | F.lit(baskets.include_guests))
    return SparkLines(
        sales=with_revenue.where(sale & known).withColumn("is_service", service),
        returns=with_revenue.where(cancelled & known),
        basket_lines=lines.where(basket).select(s.INVOICE, s.STOCK_CODE),
    )


def _is_service(params: CleaningParams) -> Column:
    code = F.col(s.STOCK_CODE)
    found = code.isin(list(params.service_codes)) if params.service_codes else F.lit(False)
    if params.service_code_pattern:
        found = found | code.rlike(f"(?i){params.service_code_pattern}")
    return F.coalesce(found, F.lit(False))


def temporary_folder() -> tempfile.TemporaryDirectory:
    """A folder for the engine's Parquet hand-over, removed with the engine."""
    return tempfile.TemporaryDirectory(prefix="spark-engine-")
