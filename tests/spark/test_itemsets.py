"""Item and pair counts (self-join) and FPGrowth on Spark, against the pandas basket matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics._categories import as_categories
from analytics.clean import clean_transactions
from analytics.rules import basket_matrix
from analytics.settings import Settings
from analytics_spark.frames import clean_lines, to_spark
from analytics_spark.itemsets import frequent_itemsets, item_counts, pair_counts


def _spark_baskets(spark, lines, tmp_path):
    settings = Settings()
    frame = to_spark(spark, as_categories(lines), tmp_path)
    return clean_lines(frame, settings.cleaning, settings.baskets).basket_lines


def test_counts_by_hand(spark, lines, tmp_path):
    basket_lines = _spark_baskets(spark, lines, tmp_path)
    items = dict(item_counts(basket_lines).toPandas().itertuples(index=False))
    # baskets: 1 {X, Y}, 2 {X}, 3 {X, Y}, 4 {Y}, 7 (guest) {X, Y}, 8 {Z} (two Z lines of one basket count once)
    assert items == {"X": 4, "Y": 4, "Z": 1}
    pairs = pair_counts(basket_lines).toPandas()
    assert pairs.values.tolist() == [["X", "Y", 3]]
    assert pair_counts(basket_lines, min_baskets=4).count() == 0


def test_pairs_match_the_basket_matrix(spark, bundled_lines, tmp_path):
    """On the first 20,000 bundled lines: every pair count of the self-join equals the pandas matrix product."""
    settings = Settings()
    head = as_categories(bundled_lines.head(20_000))
    baskets = basket_matrix(clean_transactions(head, settings.cleaning, settings.baskets).basket_lines)
    matrix = baskets.matrix.astype(np.int64)
    together = (matrix.T @ matrix).tocoo()
    upper = together.row != together.col
    expected = pd.DataFrame({"a": baskets.items[together.row[upper]], "b": baskets.items[together.col[upper]],
                             "n": together.data[upper]})
    expected = expected[expected["a"] < expected["b"]]
    expected = expected[expected["n"] >= 5].sort_values(["a", "b"]).reset_index(drop=True)
    found = pair_counts(_spark_baskets(spark, bundled_lines.head(20_000), tmp_path), min_baskets=5).toPandas()
    found = found.sort_values(["item_a", "item_b"]).reset_index(drop=True)
    assert len(found) > 1000
    assert found["item_a"].tolist() == expected["a"].tolist() and found["item_b"].tolist() == expected["b"].tolist()
    assert found["baskets"].tolist() == expected["n"].tolist()


def test_fpgrowth_agrees_with_the_counts(spark, lines, tmp_path):
    basket_lines = _spark_baskets(spark, lines, tmp_path)
    found = frequent_itemsets(basket_lines, min_support=0.5, partitions=1).toPandas()
    itemsets = {tuple(sorted(items)): freq for items, freq in found.itertuples(index=False)}
    assert itemsets == {("X",): 4, ("Y",): 4, ("X", "Y"): 3}  # 6 baskets: support ≥ 3 baskets
