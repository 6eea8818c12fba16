"""Fixtures of the Spark engine tests (``make test-spark``; never collected by make check/test).

One local[1] Spark session for the whole run, with few shuffle partitions: the machine stays quiet.
"""

from __future__ import annotations

import pytest

from analytics_spark.engine import SparkEngine
from analytics_spark.session import spark_session


@pytest.fixture(scope="session")
def spark():
    session = spark_session("local[1]", shuffle_partitions=2)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def engine(spark) -> SparkEngine:
    return SparkEngine()
