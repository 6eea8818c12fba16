"""Pick the aggregation engine of a refresh by name (``refresh.engine`` / ``--engine``).

The Spark engine is imported only when asked for: the default install never loads pyspark.
"""

from __future__ import annotations

from analytics.engines import Engine, PandasEngine
from analytics.errors import ConfigError
from analytics.settings import ENGINES

__all__ = ["make_engine"]


def make_engine(name: str) -> Engine:
    """The engine called ``name`` (one of ``analytics.settings.ENGINES``).

    Raises:
        ConfigError: unknown name, or ``spark`` without pyspark installed (the message says what to install).
    """
    if name == "pandas":
        return PandasEngine()
    if name == "spark":
        try:
            from analytics_spark.engine import SparkEngine
        except ImportError as exc:
            raise ConfigError(f"refresh.engine 'spark' needs PySpark and a Java runtime: install "
                              f"requirements-spark.txt (README, \"Spark engine\"); import failed: {exc}.") from exc
        return SparkEngine()
    raise ConfigError(f"refresh.engine {name!r} is not one of {list(ENGINES)}.")
