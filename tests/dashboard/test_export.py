"""CSV export: formula injection is neutralised in text cells, numbers and plain values are untouched."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from dashboard.components.export import csv_download, neutralise_csv_cell, safe_filename, to_safe_csv


@pytest.mark.parametrize(("cell", "safe"), [
    ("=1+1", "'=1+1"), ("+x", "'+x"), ("-x", "'-x"), ("@x", "'@x"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"), ("-1", "'-1"),  # a *string* "-1" is text
])
def test_formula_cells_get_a_leading_quote(cell, safe):
    assert neutralise_csv_cell(cell) == safe


@pytest.mark.parametrize("cell", ["17850", "Can't Lose Them", "a=b", "x-1", "", " =1", "'quoted", "£5,391.21",
                                  -12.5, 0, 3, True, None])
def test_plain_values_and_numbers_are_untouched(cell):
    assert neutralise_csv_cell(cell) is cell


def _read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_to_safe_csv_neutralises_text_and_keeps_numbers():
    frame = pd.DataFrame({"Customer": ["=1+1", "+x", "-x", "@x", "\tx", "\rx", "plain"],
                          "Balance": [-12.5, 3.0, 0.0, 1.0, 2.0, 4.0, 5.0],
                          "Orders": [-1, 2, 3, 4, 5, 6, 7]})
    rows = _read(to_safe_csv(frame))
    assert rows[0] == ["Customer", "Balance", "Orders"]
    assert [r[0] for r in rows[1:]] == ["'=1+1", "'+x", "'-x", "'@x", "'\tx", "'\rx", "plain"]
    assert rows[1][1:] == ["-12.5", "-1"]  # numbers stay numbers, even negative ones


def test_to_safe_csv_quotes_separators_and_neutralises_headers():
    frame = pd.DataFrame({"=cmd": ["a,b", 'say "hi"', None, "two\r\nlines"], "n": [1.5, None, 2.0, 3.0]})
    text = to_safe_csv(frame)
    assert text.startswith("'=cmd,n\r\n")
    assert _read(text)[1:] == [["a,b", "1.5"], ['say "hi"', ""], ["", "2.0"], ["two\r\nlines", "3.0"]]


def test_to_safe_csv_handles_the_new_string_dtype_and_does_not_modify_the_input():
    frame = pd.DataFrame({"s": pd.array(["=x", None], dtype="string"), "t": pd.Series(["-y", "z"], dtype="str")})
    before = frame.copy()
    assert _read(to_safe_csv(frame))[1:] == [["'=x", "'-y"], ["", "z"]]
    pd.testing.assert_frame_equal(frame, before)


def test_safe_filename():
    assert safe_filename("customers", "can't lose them", "at-risk", "20261125T061012Z-3f2a9c") == \
        "customers-cant-lose-them-at-risk-20261125T061012Z-3f2a9c.csv"
    assert safe_filename("customers", "../../etc/passwd", "all") == "customers-etc-passwd-all.csv"


def test_csv_download_is_utf8_text_with_a_bom():
    download = csv_download(pd.DataFrame({"Monetary (£)": [1.0]}), "x.csv")
    assert download["filename"] == "x.csv" and download["type"] == "text/csv" and download["base64"] is False
    assert download["content"] == "\ufeffMonetary (£)\r\n1.0\r\n"
