"""Integer-code helpers (analytics/_categories.py) against the plain pandas/numpy operations they replace."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics._categories import (
    as_categories,
    as_text,
    categorical,
    combined_key,
    concat_rows,
    first_occurrence,
    group_codes,
    isin,
    positions,
    run_starts,
    sorted_codes,
    take_rows,
    text_of,
)
from analytics._readers import _categorical

# short runs of repeated values, as the lines of one invoice follow each other
values = st.lists(st.sampled_from(["b", "a", "c", None]), max_size=30)


def test_sorted_codes_follow_the_text_order():
    text = pd.Series(["b", None, "a", "b"], dtype="str")
    for column in (text, text.astype("category")):
        codes, distinct = sorted_codes(column)
        assert codes.tolist() == [1, -1, 0, 1] and distinct.tolist() == ["a", "b"]


@settings(max_examples=60, deadline=None)
@given(values, values)
def test_first_occurrence_and_group_codes_match_pandas(left, right):
    size = min(len(left), len(right))
    frame = pd.DataFrame({"x": left[:size], "y": right[:size]}, dtype="str")
    expected = ~frame.duplicated().to_numpy()
    assert first_occurrence(frame["x"], frame["y"]).tolist() == expected.tolist()
    assert first_occurrence(frame["x"].astype("category"), frame["y"]).tolist() == expected.tolist()
    key = combined_key(frame["x"], frame["y"])
    assert (pd.Series(key).duplicated() == frame.duplicated()).all()  # equal keys exactly for equal rows
    codes, distinct = group_codes(key)
    reference = pd.factorize(key)
    assert codes.tolist() == reference[0].tolist() and distinct.tolist() == reference[1].tolist()


def test_first_occurrence_of_integer_codes():
    assert first_occurrence(np.array([3, 3, 1, 3]), np.array([0, 0, 0, 1])).tolist() == [True, False, True, True]


def test_run_starts_and_isin():
    assert run_starts(np.array([1, 1, 2, 1])).tolist() == [True, False, True, True]
    assert run_starts(np.array([], dtype=np.int64)).tolist() == []
    pool, values_ = np.array([5, 9, 2 ** 40]), np.array([9, 1, 2 ** 40, 5, 0])
    assert isin(values_, pool).tolist() == np.isin(values_, pool).tolist()


def test_as_categories_sorts_categories_once():
    frame = pd.DataFrame({"invoice": pd.Categorical(["2", "1"], categories=["2", "1"]), "quantity": [1, 2]})
    converted = as_categories(frame)
    assert converted["invoice"].cat.categories.tolist() == ["1", "2"]
    assert converted["invoice"].tolist() == ["2", "1"]
    assert as_categories(converted) is converted  # already sorted categoricals: nothing to do


def test_text_of_a_categorical_is_pandas_own_conversion():
    column = pd.Series(pd.Categorical(["b", None, "a", "b"]), index=[7, 8, 9, 10], name="code")
    converted = as_text(column)
    pd.testing.assert_series_equal(converted, column.astype("str"))  # same values, nulls, index, dtype
    assert pa.array(converted.array).type == pa.array(column.astype("str").array).type  # same Parquet schema
    assert as_text(pd.Series(pd.Categorical([1.5, 2.0, 1.5]))).tolist() == ["1.5", "2.0", "1.5"]
    taken = pd.Series(text_of(np.array([2, -1, 0]), pd.Index(["x", "y", "z"], dtype="str")))
    assert taken.dtype == "str" and taken.isna().tolist() == [False, True, False]
    assert taken.dropna().tolist() == ["z", "x"]


def test_take_rows_reads_rows_numbered_across_the_parts_in_the_order_asked():
    first = pd.DataFrame({"a": [10, 11, 12], "b": ["x", "y", "z"], "c": [0.5, 1.5, 2.5]})
    second = pd.DataFrame({"a": [20, 21], "b": ["v", "w"], "c": [3.5, 4.5]})
    taken = take_rows([first, second], np.array([3, 0, 4, 2, 1]), ["b", "a"])
    assert taken.to_dict("list") == {"b": ["v", "x", "w", "z", "y"], "a": [20, 10, 21, 12, 11]}
    assert take_rows([first, second], np.array([], dtype=np.int64), ["a"]).empty


def test_concat_rows_puts_categoricals_of_one_dtype_together_by_their_codes():
    frame = pd.DataFrame({"k": pd.Categorical(["b", "a", "c", "a"], categories=["a", "b", "c"]), "n": [1, 2, 3, 4]})
    first, second = frame.iloc[:3], frame.iloc[3:]
    joined = concat_rows([second, first], ["n", "k"])
    assert list(joined.columns) == ["n", "k"] and joined.index.tolist() == [0, 1, 2, 3]
    assert joined["k"].dtype is frame["k"].dtype  # the same categories, not a union of them
    assert joined["k"].tolist() == ["a", "b", "a", "c"] and joined["n"].tolist() == [4, 1, 2, 3]
    pd.testing.assert_frame_equal(joined, pd.concat([second, first], ignore_index=True)[["n", "k"]])
    # categoricals of different categories (or text): pandas' own concatenation
    other = pd.DataFrame({"k": pd.Categorical(["d"]), "n": [5]})
    mixed = concat_rows([first, other], ["k"])
    assert mixed["k"].tolist() == ["b", "a", "c", "d"]
    pd.testing.assert_frame_equal(mixed, pd.concat([first[["k"]], other[["k"]]], ignore_index=True))


def test_categorical_of_distinct_categories_is_pandas_own():
    categories = pd.Index(["a", "b", "c"], dtype="str")
    codes = np.array([2, -1, 0, 2])
    made = categorical(codes, categories)
    pd.testing.assert_series_equal(pd.Series(made), pd.Series(pd.Categorical.from_codes(codes, categories=categories)))
    assert made.dtype == pd.CategoricalDtype(categories) and not made.ordered
    assert made.tolist()[:3] == ["c", np.nan, "a"]


def test_categorical_without_pandas_fast_path(monkeypatch):
    monkeypatch.delattr(pd.CategoricalDtype, "_from_fastpath")
    made = categorical(np.array([1, 0]), pd.Index(["x", "y"], dtype="str"))
    assert made.tolist() == ["y", "x"] and made.dtype == pd.CategoricalDtype(["x", "y"])


@pytest.mark.parametrize("distinct", [3, 400], ids=["few values: dictionaries unified", "mostly distinct: re-encoded"])
def test_a_parquet_dictionary_column_becomes_the_same_categorical(distinct):
    """Row groups of 100 lines with their own dictionaries; either way of joining them gives the categorical of the
    text, in order of first appearance, nulls as -1."""
    values = [None if i % 7 == 3 else f"v{(i * 37) % distinct}" for i in range(500)]
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"text": values}), sink, row_group_size=100)
    column = pq.read_table(pa.BufferReader(sink.getvalue()), read_dictionary=["text"]).column("text")
    assert column.num_chunks == 5
    made = _categorical(column)
    expected = pd.Categorical(values, categories=pd.unique(pd.Series([v for v in values if v is not None])))
    assert made.categories.tolist() == expected.categories.tolist()
    np.testing.assert_array_equal(made.codes, expected.codes)


def test_text_positions_and_order_checks_are_pandas_own():
    """Arrow's lookup and comparison of text give pandas' answers, nulls and non-ASCII text included."""
    index = pd.Index(["b", "é", "a", "z"], dtype="str")
    values = pd.Series(["z", None, "é", "q", "a", "z"], dtype="str")
    expected = index.get_indexer(values)
    np.testing.assert_array_equal(positions(index, values), expected)
    np.testing.assert_array_equal(positions(index, values.astype("category")), expected)
    assert positions(index, values).dtype == np.int64
    unsorted = pd.Series(["b", "a"], dtype="str").astype(pd.CategoricalDtype(pd.Index(["b", "a"], dtype="str")))
    assert as_categories(pd.DataFrame({"stock_code": unsorted}))["stock_code"].cat.categories.tolist() == ["a", "b"]
    ordered = pd.Series(["é", "z", "a"], dtype="str").astype("category")
    assert ordered.cat.categories.tolist() == ["a", "z", "é"]  # code point order, which Arrow's check agrees with
    kept = pd.DataFrame({"stock_code": ordered})
    assert as_categories(kept) is kept


def test_positions_of_a_categorical_whose_categories_are_the_index():
    index = pd.Index(["a", "b", "c"], dtype="str")
    values = pd.Series(["c", "a", None, "c"], dtype="str").astype(pd.CategoricalDtype(index))
    np.testing.assert_array_equal(positions(index, values), [2, 0, -1, 2])
    np.testing.assert_array_equal(positions(index, values.astype("str")), [2, 0, -1, 2])
