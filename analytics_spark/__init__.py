"""The optional Spark engine of the refresh (``--engine spark``): the line-scale aggregates on Apache Spark.

Never imported by ``analytics`` nor by default: ``jobs.engine`` imports it when the engine is asked for.
Needs requirements-spark.txt (PySpark) and a Java runtime (README, "Spark engine").
"""
