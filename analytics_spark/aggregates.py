"""The line-scale aggregates on Spark DataFrames, collected as pandas frames with the pandas engine's dtypes.

Each function is the Spark twin of an analytics function (named in its docstring): same rows, same order,
same columns; sums of money may differ from pandas' in the last bits (another summation order).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from analytics import schema as s
from analytics.products import describe

__all__ = ["collect", "customer_summary", "monthly_trend", "order_history", "product_monthly", "product_summary"]


def _month() -> Column:
    """The line's calendar month (first day, midnight)."""
    return F.trunc(F.col(s.INVOICE_DATE), "month").cast("timestamp_ntz")


def collect(frame: DataFrame) -> pd.DataFrame:
    """The (small) result as pandas, through Arrow."""
    return frame.toArrow().to_pandas()


def customer_summary(sales: DataFrame, returns: DataFrame, as_of: pd.Timestamp, basis: str) -> pd.DataFrame:
    """``rfm.with_returns(rfm.summarise_customers(sales, as_of), orders.returns_by_customer(returns), basis)``."""
    summary = sales.groupBy(s.CUSTOMER_ID).agg(
        F.min(s.INVOICE_DATE).alias("first_purchase"), F.max(s.INVOICE_DATE).alias("last_purchase"),
        F.count_distinct(s.INVOICE).alias("frequency"), F.sum(s.REVENUE).alias("gross_value"))
    returned = returns.groupBy(s.CUSTOMER_ID).agg(
        F.count_distinct(s.INVOICE).alias("returns_count"), (-F.sum(s.REVENUE)).alias("returns_value"))
    table = (summary.join(returned, s.CUSTOMER_ID, "left").join(_main_country(sales), s.CUSTOMER_ID, "left")
             .fillna({"returns_count": 0, "returns_value": 0.0})
             .withColumn("recency_days", F.datediff(F.lit(as_of.date()), F.to_date("last_purchase")))
             .orderBy(s.CUSTOMER_ID))
    frame = collect(table)
    gross = frame["gross_value"].to_numpy(dtype=float)
    value = frame["returns_value"].to_numpy(dtype=float)
    net = np.maximum(gross - value, 0.0)
    frequency = frame["frequency"].astype("int64")
    return pd.DataFrame({
        s.CUSTOMER_ID: frame[s.CUSTOMER_ID].astype("str"), "country": frame["country"].astype("str"),
        "first_purchase": _datetimes(frame["first_purchase"]), "last_purchase": _datetimes(frame["last_purchase"]),
        "recency_days": frame["recency_days"].astype("int64"), "frequency": frequency,
        "monetary": net if basis == "net" else gross, "avg_basket": gross / frequency.to_numpy(),
        "gross_value": gross, "returns_count": frame["returns_count"].astype("int64"), "returns_value": value,
        "net_value": net,
    })


def order_history(sales: DataFrame, returns: DataFrame) -> pd.DataFrame:
    """``orders.order_history``: one row per (customer, invoice, is_return), by customer, newest first."""
    columns = [s.CUSTOMER_ID, s.INVOICE, s.INVOICE_DATE, s.STOCK_CODE, s.QUANTITY, s.REVENUE]
    lines = (sales.select(*columns).withColumn("is_return", F.lit(False))
             .unionByName(returns.select(*columns).withColumn("is_return", F.lit(True))))
    orders = lines.groupBy(s.CUSTOMER_ID, s.INVOICE, "is_return").agg(
        F.min(s.INVOICE_DATE).alias(s.INVOICE_DATE), F.count_distinct(s.STOCK_CODE).alias("items"),
        F.sum(s.QUANTITY).alias("quantity"), F.sum(s.REVENUE).alias("total"))
    frame = collect(orders.orderBy(F.col(s.CUSTOMER_ID), F.col(s.INVOICE_DATE).desc(), F.col(s.INVOICE).desc()))
    return pd.DataFrame({
        s.CUSTOMER_ID: frame[s.CUSTOMER_ID].astype("str"), s.INVOICE: frame[s.INVOICE].astype("str"),
        s.INVOICE_DATE: _datetimes(frame[s.INVOICE_DATE]), "items": frame["items"].astype("int64"),
        "quantity": frame["quantity"].astype("int64"), "total": frame["total"].astype("float64"),
        "is_return": frame["is_return"].astype(bool),
    })[list(s.TABLES["orders"])]


def product_summary(sales: DataFrame, item_baskets: DataFrame, names: pd.Series) -> pd.DataFrame:
    """``products.summarise_products``: per product sold, by revenue descending (then stock code).

    ``item_baskets``: stock_code, baskets (``itemsets.item_counts`` of every basket line).
    """
    sold = sales.groupBy(s.STOCK_CODE).agg(
        F.sum(s.REVENUE).alias(s.REVENUE), F.sum(s.QUANTITY).alias(s.QUANTITY),
        F.count_distinct(s.CUSTOMER_ID).alias("customers"))
    table = sold.join(item_baskets, s.STOCK_CODE, "left").fillna({"baskets": 0})
    frame = collect(table.orderBy(s.STOCK_CODE))
    frame = frame.iloc[np.lexsort((np.arange(len(frame)), -frame[s.REVENUE].round(2).to_numpy()))]  # as pandas
    codes = frame[s.STOCK_CODE].astype("str").reset_index(drop=True)
    frame = frame.reset_index(drop=True)
    return pd.DataFrame({
        s.STOCK_CODE: codes, "description": describe(codes, names),
        s.REVENUE: frame[s.REVENUE].astype("float64"), s.QUANTITY: frame[s.QUANTITY].astype("int64"),
        "customers": frame["customers"].astype("int64"), "baskets": frame["baskets"].astype("int64"),
    })


def product_monthly(sales: DataFrame) -> pd.DataFrame:
    """``products.product_monthly``: per product and calendar month, by code then month."""
    table = sales.groupBy(F.col(s.STOCK_CODE), _month().alias("month")).agg(
        F.sum(s.REVENUE).alias(s.REVENUE), F.sum(s.QUANTITY).alias(s.QUANTITY),
        F.count_distinct(s.CUSTOMER_ID).alias("customers"), F.count_distinct(s.INVOICE).alias("orders"))
    frame = collect(table.orderBy(s.STOCK_CODE, "month"))
    return pd.DataFrame({
        s.STOCK_CODE: frame[s.STOCK_CODE].astype("str"), "month": _datetimes(frame["month"]),
        s.REVENUE: frame[s.REVENUE].astype("float64"), s.QUANTITY: frame[s.QUANTITY].astype("int64"),
        "customers": frame["customers"].astype("int64"), "orders": frame["orders"].astype("int64"),
    })


def monthly_trend(sales: DataFrame, returns: DataFrame) -> pd.DataFrame:
    """``kpis.monthly_trend``: per month with sales, the month's sales, returns (positive), orders, customers."""
    sold = sales.groupBy(_month().alias("month")).agg(
        F.sum(s.REVENUE).alias("revenue"), F.count_distinct(s.INVOICE).alias("orders"),
        F.count_distinct(s.CUSTOMER_ID).alias("customers"))
    returned = returns.groupBy(_month().alias("month")).agg((-F.sum(s.REVENUE)).alias("returns"))
    frame = collect(sold.join(returned, "month", "left").fillna({"returns": 0.0}).orderBy("month"))
    return pd.DataFrame({
        "month": _datetimes(frame["month"]).astype("datetime64[us]"), "revenue": frame["revenue"].astype("float64"),
        "returns": frame["returns"].astype("float64"), "orders": frame["orders"].astype("int64"),
        "customers": frame["customers"].astype("int64"),
    })


def _main_country(sales: DataFrame) -> DataFrame:
    """customer_id, country: the customer's most frequent country (ties: alphabetical first)."""
    counts = sales.where(F.col(s.COUNTRY).isNotNull()).groupBy(s.CUSTOMER_ID, s.COUNTRY).count()
    best = Window.partitionBy(s.CUSTOMER_ID).orderBy(F.col("count").desc(), F.col(s.COUNTRY))
    return (counts.withColumn("place", F.row_number().over(best)).where(F.col("place") == 1)
            .select(s.CUSTOMER_ID, F.col(s.COUNTRY).alias("country")))


def _datetimes(values: pd.Series) -> pd.Series:
    """Naive timestamps as datetime64[ns], the pandas engine's unit."""
    return pd.to_datetime(values).astype("datetime64[ns]")
