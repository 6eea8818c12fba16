"""The synthetic generator: canonical columns, plausible distributions, deterministic for a seed."""

import pandas as pd
import pyarrow.parquet as pq
import pytest

from analytics import schema as s
from analytics.load import read_transactions
from analytics.settings import InputParams
from bench.synth import REAL_LINES, generate

LINES = 200_000


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    path = tmp_path_factory.mktemp("synth") / "synth.parquet"
    info = generate(LINES, path, seed=3)
    return path, info


def test_same_columns_and_types_as_the_bundled_file(synthetic, bundled_path):
    path, info = synthetic
    assert pq.read_schema(path).equals(pq.read_schema(bundled_path).remove_metadata(), check_metadata=False)
    assert info["lines"] == LINES == pq.ParquetFile(path).metadata.num_rows
    lines = read_transactions(path, InputParams(path=str(path)))  # the real loader accepts it as is
    assert list(lines.columns) == list(s.FIELDS) and lines["customer_id"].dropna().str.fullmatch(r"\d+").all()


def test_distributions_are_like_the_real_data(synthetic):
    raw = pd.read_parquet(synthetic[0])
    per_invoice = raw.groupby("InvoiceNo").size()
    assert 15 <= per_invoice.mean() <= 28 and 6 <= per_invoice.median() <= 15  # real: mean 20.9, median 10
    cancelled = raw["InvoiceNo"].str.startswith("C")
    assert 0.01 <= cancelled.mean() <= 0.025  # real: 1.7 % of lines
    assert (raw.loc[cancelled, "Quantity"] < 0).all()
    guests = raw["CustomerID"].isna()
    assert 0.18 <= guests.mean() <= 0.32  # real: 25 % of lines without customer id
    invoices = raw[~cancelled & ~guests].groupby("CustomerID")["InvoiceNo"].nunique()
    assert invoices.median() == 2 and 3 <= invoices.mean() <= 6  # repeat customers (real: 2 and 4.3)
    assert abs(len(invoices) / LINES - 4_339 / REAL_LINES) < 0.002
    popularity = raw[~cancelled].groupby("StockCode")["InvoiceNo"].nunique().sort_values(ascending=False)
    assert popularity.iloc[0] > 10 * popularity.iloc[999]  # long tail (real: 2,204 baskets vs 163 at rank 1,000)
    month = raw["InvoiceDate"].dt.month.value_counts(normalize=True)
    assert month[11] > 1.6 * month[2]  # seasonality: the November peak (real: 2.04 vs 0.66 of the mean)
    assert (raw["InvoiceDate"].dt.day_of_week != 5).all()  # no Saturdays
    assert 0.003 <= raw["StockCode"].isin(["POST", "DOT", "M", "C2", "D"]).mean() <= 0.009
    assert 0.003 <= raw.duplicated().mean() <= 0.03


def test_deterministic_for_a_seed(tmp_path):
    first, second, other = tmp_path / "a.parquet", tmp_path / "b.parquet", tmp_path / "c.parquet"
    generate(20_000, first, seed=5)
    generate(20_000, second, seed=5)
    generate(20_000, other, seed=6)
    assert pd.read_parquet(first).equals(pd.read_parquet(second))
    assert not pd.read_parquet(first).equals(pd.read_parquet(other))


def test_retailer_shape_has_many_customers_with_few_orders_each(tmp_path):
    """``--retailer``: the asked number of customers, 2.85 sale orders each on average (not the real file's 4.27)."""
    from bench.synth import RETAILER_LINES_PER_CUSTOMER, RETAILER_ORDERS_PER_CUSTOMER

    customers = 20_000
    path = tmp_path / "retailer.parquet"
    info = generate(round(customers * RETAILER_LINES_PER_CUSTOMER), path, seed=5, customers=customers,
                    orders_per_customer=RETAILER_ORDERS_PER_CUSTOMER)
    lines = pd.read_parquet(path)
    sales = lines[~lines["InvoiceNo"].str.startswith("C") & lines["CustomerID"].notna()]
    orders = sales.groupby("CustomerID")["InvoiceNo"].nunique()
    assert info["customers"] == customers
    assert orders.size >= 0.99 * customers  # (exact duplicates displace the last lines of each row group)
    assert orders.mean() == pytest.approx(RETAILER_ORDERS_PER_CUSTOMER, rel=0.05)
    assert info["lines"] == round(customers * RETAILER_LINES_PER_CUSTOMER)
