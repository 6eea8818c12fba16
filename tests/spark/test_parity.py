"""Both engines publish the same snapshot of the bundled data: exact integers, texts, dates and flags, floats
within 1e-9 (relative: a month's revenue, summed in another order, differs in its last bits), identical scores
and segments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.pipeline import build_snapshot
from analytics.segments import load_scheme
from analytics.settings import Settings


@pytest.fixture(scope="module")
def snapshots(bundled_lines, engine):
    """(pandas, spark) snapshots of the bundled data, default settings."""
    settings = Settings()
    scheme = load_scheme(settings.segments.scheme)
    return [build_snapshot(bundled_lines, settings, scheme, engine=each) for each in (None, engine)]


def test_every_table_is_the_same(snapshots):
    pandas_tables, spark_tables = snapshots[0].tables, snapshots[1].tables
    assert set(spark_tables) == set(pandas_tables)
    different = []  # every differing table.column, not only the first
    for name, expected in pandas_tables.items():
        found = spark_tables[name]
        assert list(found.columns) == list(expected.columns), name
        assert found.dtypes.to_dict() == expected.dtypes.to_dict(), name
        assert len(found) == len(expected), name
        for column in expected.columns:
            if pd.api.types.is_float_dtype(expected[column]):
                left, right = found[column].to_numpy(dtype=float), expected[column].to_numpy(dtype=float)
                same = np.allclose(left, right, rtol=1e-9, atol=1e-9, equal_nan=True)  # sums: another order
            else:
                same = found[column].reset_index(drop=True).equals(expected[column].reset_index(drop=True))
            if not same:
                different.append(f"{name}.{column}")
    assert different == []


def test_scores_and_segments_identical(snapshots):
    columns = ["customer_id", "r_score", "f_score", "m_score", "rfm_cell", "segment", "at_risk"]
    pandas_customers, spark_customers = (snap.tables["customers"][columns] for snap in snapshots)
    assert len(spark_customers) == 4338
    assert spark_customers.equals(pandas_customers)


def test_meta_names_the_engine(snapshots):
    assert [snap.meta["engine"] for snap in snapshots] == ["pandas", "spark"]
    assert snapshots[0].meta["cleaning"] == snapshots[1].meta["cleaning"]
