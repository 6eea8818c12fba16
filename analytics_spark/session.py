"""The Spark session of the engine, with the settings its jobs need.

Under ``spark-submit`` (or on Databricks) the session of the platform is used as it is; otherwise a local
one is started on ``$SPARK_MASTER`` (default ``local[*]``).
"""

from __future__ import annotations

import os
import warnings

from pyspark.sql import SparkSession

__all__ = ["SETTINGS", "spark_session"]

SETTINGS = {
    "spark.app.name": "customer-segments-refresh",
    "spark.sql.session.timeZone": "UTC",  # naive timestamps stay as they are (no local-time shift)
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.legacy.parquet.nanosAsLong": "true",  # Spark 4.3 refuses nanosecond Parquet timestamps otherwise
    "spark.driver.extraJavaOptions": "-Xss32m",  # FPGrowth recursion on long baskets overflows the default stack
    "spark.executor.extraJavaOptions": "-Xss32m",
    "spark.ui.showConsoleProgress": "false",
}


def spark_session(master: str | None = None, shuffle_partitions: int | None = None) -> SparkSession:
    """The active session, else a new one on ``master`` (``$SPARK_MASTER``, default ``local[*]``).

    ``shuffle_partitions``: ``spark.sql.shuffle.partitions`` (Spark's 200 is far too many for a few cores).
    """
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    warnings.filterwarnings("ignore", message=".*pandas.*", module="pyspark")  # pyspark warns about pandas 3
    builder = SparkSession.builder
    for key, value in SETTINGS.items():
        builder = builder.config(key, value)
    if "PYSPARK_GATEWAY_PORT" not in os.environ:  # not launched by spark-submit: we choose the master
        builder = builder.master(master or os.environ.get("SPARK_MASTER", "local[*]"))
    if shuffle_partitions:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    return builder.getOrCreate()
