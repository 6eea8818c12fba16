"""Tests for analytics.load.read_transactions: formats, header spellings, mapping, and every bad input.

Bad files are written to tmp_path by the tests themselves, so each one is a real file on disk.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import re
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics import schema as s
from analytics.errors import InputDataError
from analytics.load import read_transactions
from analytics.settings import InputParams

UCI = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]
RETAIL_II = ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID", "Country"]
SNAKE = ["invoice_no", "stock_code", "description", "quantity", "invoice_date", "unit_price", "customer_id", "country"]

# invoice, stock_code, description, quantity, invoice_date, unit_price, customer_id, country
ROWS = [
    ("536365", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 6, "2010-12-01 08:26", 2.55, "17850", "United Kingdom"),
    ("536365", "71053", "WHITE METAL LANTERN", 6, "2010-12-01 08:26", 3.39, "17850", "United Kingdom"),
    ("536366", "22633", "HAND WARMER UNION JACK", 6, "2010-12-01 08:28", 1.85, "17850", "United Kingdom"),
    ("536367", "84879", "ASSORTED COLOUR BIRD ORNAMENT", 32, "2010-12-01 08:34", 1.69, "13047", "United Kingdom"),
    ("C536379", "D", "Discount", -1, "2010-12-01 09:41", 27.5, "14527", "United Kingdom"),
    ("536381", "22139", "CAFÉ CRÈME £5 SET", 3, "2010-12-13 14:05", 4.25, "15311", "France"),
    ("536382", "10002", "INFLATABLE POLITICAL GLOBE", 12, "2011-01-05 10:00", 0.85, None, "United Kingdom"),
    ("536383", "35004C", None, -3, "2011-02-07 16:30", 4.65, None, "EIRE"),
    ("536384", "85099B", "JUMBO BAG RED RETROSPOT", 10, "2011-03-10 11:15", 1.95, "12583", None),
    ("536385", "M", "Manual", 1, "2011-12-09 12:50", 0.0, "12583", "Spain"),
]


def expected_frame() -> pd.DataFrame:
    """ROWS as the canonical frame read_transactions must return."""
    columns = [s.INVOICE, s.STOCK_CODE, s.DESCRIPTION, s.QUANTITY, s.INVOICE_DATE, s.UNIT_PRICE, s.CUSTOMER_ID,
               s.COUNTRY]
    frame = pd.DataFrame(ROWS, columns=columns)
    frame = frame.astype({s.QUANTITY: "int64", s.UNIT_PRICE: "float64", s.INVOICE_DATE: "datetime64[ns]"})
    for name in (s.INVOICE, s.STOCK_CODE, s.DESCRIPTION, s.CUSTOMER_ID, s.COUNTRY):
        frame[name] = frame[name].astype("str")
    return frame[list(s.FIELDS)]


def write_csv(path: Path, header: list[str], rows: list[list[object]], encoding: str = "utf-8",
              delimiter: str = ",", newline: str = "\n") -> Path:
    """Write a delimited text file with csv.writer (fields quoted only when needed)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
    writer.writerow(header)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def text_rows(date_format: str, decimal: str = ".", customer_suffix: str = "") -> list[list[object]]:
    """ROWS as a text export would have them, with padding spaces around one description."""
    out = []
    for invoice, code, description, quantity, when, price, customer, country in ROWS:
        if description == "WHITE METAL LANTERN":
            description = "  WHITE METAL LANTERN "
        stamp = _format_date(pd.Timestamp(when), date_format)
        price_text = f"{price:.2f}".replace(".", decimal)
        out.append([invoice, code, description, quantity, stamp, price_text,
                    None if customer is None else customer + customer_suffix, country])
    return out


def _format_date(when: pd.Timestamp, style: str) -> str:
    if style == "us":  # 12/1/2010 8:26, as in the UCI file
        return f"{when.month}/{when.day}/{when.year} {when.hour}:{when.minute:02d}"
    if style == "eu":  # 01/12/2010 08:26
        return when.strftime("%d/%m/%Y %H:%M")
    return when.strftime("%Y-%m-%d %H:%M:%S")


def read(path: Path, **params: object) -> pd.DataFrame:
    """read_transactions, its text columns (categoricals) as str to compare them with expected_frame()."""
    frame = read_transactions(path, InputParams(**params))
    text = [s.INVOICE, s.STOCK_CODE, s.DESCRIPTION, s.CUSTOMER_ID, s.COUNTRY]
    assert all(isinstance(frame[name].dtype, pd.CategoricalDtype) for name in text)
    return frame.astype({name: "str" for name in text})


def lines_of(message: str) -> list[int]:
    return [int(n) for n in re.findall(r"line (\d+)", message)]


# --- the bundled real file -------------------------------------------------------------------------------

def test_bundled_file_loads_with_canonical_types(bundled_lines: pd.DataFrame) -> None:
    frame = bundled_lines
    assert list(frame.columns) == list(s.FIELDS)
    assert len(frame) == 541_909
    assert frame[s.QUANTITY].dtype == "int64"
    assert frame[s.UNIT_PRICE].dtype == "float64"
    assert frame[s.INVOICE_DATE].dtype == "datetime64[ns]"
    for name in (s.INVOICE, s.STOCK_CODE, s.DESCRIPTION, s.CUSTOMER_ID, s.COUNTRY):
        assert isinstance(frame[name].dtype, pd.CategoricalDtype) and frame[name].cat.categories.dtype == "str", name
        assert frame[name].cat.categories.is_monotonic_increasing, name  # sorted: codes compare like the text
    assert frame[s.CUSTOMER_ID].nunique() == 4_372
    assert frame[s.CUSTOMER_ID].isna().sum() == 135_080
    assert frame[s.INVOICE_DATE].min() == pd.Timestamp("2010-12-01 08:26")
    assert frame[s.INVOICE_DATE].max() == pd.Timestamp("2011-12-09 12:50")
    first = frame.iloc[0]
    assert (first[s.INVOICE], first[s.STOCK_CODE], first[s.CUSTOMER_ID]) == ("536365", "85123A", "17850")
    assert first[s.DESCRIPTION] == "WHITE HANGING HEART T-LIGHT HOLDER"
    assert not frame[s.DESCRIPTION].str.match(r"^\s|.*\s$").fillna(False).any()
    assert isinstance(frame.index, pd.RangeIndex)


def test_bundled_file_loads_fast(bundled_path: Path, bundled_lines: pd.DataFrame) -> None:
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        read_transactions(bundled_path, InputParams())
        timings.append(time.perf_counter() - start)
    assert min(timings) < 1.0, timings


# --- round trips -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("header", "encoding", "delimiter", "dates", "decimal", "suffix"),
    [
        (UCI, "utf-8", ",", "us", ".", ".0"),
        (RETAIL_II, "utf-8-sig", ",", "iso", ".", ""),
        (SNAKE, "cp1252", ";", "eu", ",", ""),
        (UCI, "utf-8", "\t", "eu", ".", ""),
        (RETAIL_II, "cp1252", "|", "us", ".", ".0"),
    ],
    ids=["uci-utf8-us", "retail2-bom-iso", "snake-cp1252-semicolon-eu", "tab", "pipe-cp1252"],
)
def test_csv_round_trip(tmp_path: Path, header, encoding, delimiter, dates, decimal, suffix) -> None:
    newline = "\r\n" if encoding == "cp1252" else "\n"  # Windows exports
    path = write_csv(tmp_path / "export.csv", header, text_rows(dates, decimal, suffix), encoding, delimiter, newline)
    frame = read(path)
    pd.testing.assert_frame_equal(frame, expected_frame())
    assert frame.loc[5, s.DESCRIPTION] == "CAFÉ CRÈME £5 SET"


def test_gzip_csv_and_txt(tmp_path: Path) -> None:
    plain = write_csv(tmp_path / "export.txt", UCI, text_rows("us"))
    packed = tmp_path / "export.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    pd.testing.assert_frame_equal(read(plain), expected_frame())
    pd.testing.assert_frame_equal(read(packed), expected_frame())


def test_parquet_round_trip_with_float_customer_ids(tmp_path: Path) -> None:
    source = expected_frame().rename(columns=dict(zip(s.FIELDS, ["InvoiceNo", "StockCode", "Quantity",
                                                                 "InvoiceDate", "UnitPrice", "CustomerID",
                                                                 "Description", "Country"])))
    source["CustomerID"] = pd.to_numeric(source["CustomerID"]).astype("float64")
    source["Description"] = source["Description"].str.pad(40, side="right")
    source.to_parquet(tmp_path / "export.parquet", index=False)
    pd.testing.assert_frame_equal(read(tmp_path / "export.parquet"), expected_frame())


def test_parquet_text_is_read_per_distinct_value(tmp_path: Path) -> None:
    # row groups of two lines hold different dictionaries; "Spain " and "Spain" become one category, "" null
    source = expected_frame().rename(columns={s.INVOICE: "Invoice", s.INVOICE_DATE: "Date"})
    padded = source.assign(country=source[s.COUNTRY].where(source.index % 3 != 1, source[s.COUNTRY] + " "))
    padded.loc[0, s.DESCRIPTION] = ""
    pq.write_table(pa.Table.from_pandas(padded, preserve_index=False), tmp_path / "groups.parquet", row_group_size=2)
    frame = read_transactions(tmp_path / "groups.parquet", InputParams())
    expected = expected_frame()
    expected.loc[0, s.DESCRIPTION] = np.nan
    for name in (s.INVOICE, s.STOCK_CODE, s.DESCRIPTION, s.CUSTOMER_ID, s.COUNTRY):
        categories = frame[name].cat.categories
        assert categories.tolist() == sorted(expected[name].dropna().unique()), name
        assert frame[name].astype("str").equals(expected[name]), name


def write_xlsx(path: Path, header: list[str], rows: list[list[object]], title: str = "Data") -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def excel_rows() -> list[list[object]]:
    """ROWS as Excel cells: numeric invoices and customer ids, real dates."""
    out = []
    for invoice, code, description, quantity, when, price, customer, country in ROWS:
        out.append([int(invoice) if invoice.isdigit() else invoice, int(code) if code.isdigit() else code,
                    description, quantity, pd.Timestamp(when).to_pydatetime(), price,
                    None if customer is None else int(customer), country])
    return out


def test_parquet_stored_index_and_other_types(tmp_path: Path) -> None:
    source = expected_frame().rename(columns={s.INVOICE: "Invoice", s.INVOICE_DATE: "Date"})
    source.iloc[2:].to_parquet(tmp_path / "sliced.parquet")  # stores a RangeIndex starting at 2
    pd.testing.assert_frame_equal(read(tmp_path / "sliced.parquet"), expected_frame().iloc[2:].reset_index(drop=True))
    source.set_index("Invoice").to_parquet(tmp_path / "indexed.parquet")  # the invoice is stored as the index
    pd.testing.assert_frame_equal(read(tmp_path / "indexed.parquet"), expected_frame())
    typed = source.assign(Date=source["Date"].astype("datetime64[s]"), country=source[s.COUNTRY].astype("category"),
                          quantity=source[s.QUANTITY].astype("float64"),
                          customer_id=pd.to_numeric(source[s.CUSTOMER_ID]).astype("Int64"))
    typed.to_parquet(tmp_path / "typed.parquet", index=False)
    pd.testing.assert_frame_equal(read(tmp_path / "typed.parquet"), expected_frame())


def test_xlsx_round_trip(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "export.xlsx", RETAIL_II, excel_rows())
    pd.testing.assert_frame_equal(read(path), expected_frame())


def test_xlsx_text_dates_and_blank_rows(tmp_path: Path) -> None:
    rows = [[*row[:4], _format_date(pd.Timestamp(ROWS[i][4]), "eu"), *row[5:]] for i, row in enumerate(excel_rows())]
    path = write_xlsx(tmp_path / "export.xlsx", UCI, rows[:3] + [[None] * 8] + rows[3:] + [[None] * 8])
    pd.testing.assert_frame_equal(read(path), expected_frame())


def test_xlsx_with_a_wrong_declared_size(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "export.xlsx", RETAIL_II, excel_rows())
    patched = _rewrite_sheets(path, tmp_path / "patched.xlsx",
                              lambda xml: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:B2"/>', xml))
    pd.testing.assert_frame_equal(read(patched), expected_frame())


def _rewrite_sheets(source: Path, target: Path, rewrite) -> Path:
    """Copy an .xlsx, passing each worksheet's XML through ``rewrite`` (bytes -> bytes)."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
        for item in original.infolist():
            data = original.read(item.filename)
            copy.writestr(item, rewrite(data) if item.filename.startswith("xl/worksheets/") else data)
    return target


def test_xlsx_title_rows_above_the_header(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Sales export, all shops"])
    sheet.append([])
    sheet.append(UCI)
    for row in excel_rows():
        sheet.append(row)
    workbook.save(tmp_path / "export.xlsx")
    pd.testing.assert_frame_equal(read(tmp_path / "export.xlsx"), expected_frame())
    sheet["E5"] = dt.datetime(1900, 1, 5)  # first data row is Excel row 4; E5 is the second one
    workbook.save(tmp_path / "export.xlsx")
    with pytest.raises(InputDataError, match=r"1 row with a date before 1990-01-01 \(line 5: 1900-01-05"):
        read(tmp_path / "export.xlsx")


def test_mapping_with_odd_headers(tmp_path: Path) -> None:
    header = ["Bon", "Article", "Libellé", "Qte", "Jour", "PU", "Client", "Pays"]
    path = write_csv(tmp_path / "ventes.csv", header, text_rows("eu", ","), "cp1252", ";")
    mapping = {"Bon": "invoice", "Article": "stock_code", "Libellé": "description", "Qte": "quantity",
               "Jour": "invoice_date", "PU": "unit_price", "Client": "customer_id", "Pays": "country"}
    pd.testing.assert_frame_equal(read(path, mapping=mapping), expected_frame())


def test_mapping_names_match_ignoring_case_and_padding(tmp_path: Path) -> None:
    header = ["Bon ", "Article", "Qte", "Jour", "PU", "Client"]
    rows = [[r[0], r[1], r[3], r[4], r[5], r[6]] for r in text_rows("iso")]
    mapping = {"bon": "invoice", "ARTICLE": "stock_code", "Qte": "quantity", "Jour": "invoice_date",
               "PU": "unit_price", "Client": "customer_id"}
    frame = read(write_csv(tmp_path / "export.csv", header, rows), mapping=mapping)
    assert frame[s.INVOICE].tolist() == [r[0] for r in ROWS]
    assert frame[s.DESCRIPTION].isna().all()


def test_mapping_overrides_aliases(tmp_path: Path) -> None:
    header = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID",
              "Country", "Customer"]
    rows = [[*row, "someone-else"] for row in text_rows("iso")]
    frame = read(write_csv(tmp_path / "export.csv", header, rows), mapping={"Customer": "customer_id"})
    assert (frame[s.CUSTOMER_ID] == "someone-else").all()


def test_optional_columns_absent_are_null_text(tmp_path: Path) -> None:
    rows = [[r[0], r[1], r[3], r[4], r[5], r[6]] for r in text_rows("iso")]
    frame = read(write_csv(tmp_path / "export.csv", ["Invoice", "SKU", "Qty", "Date", "Price", "Customer ID"], rows))
    expected = expected_frame().assign(description=pd.Series(np.nan, dtype="str"),
                                       country=pd.Series(np.nan, dtype="str"))
    pd.testing.assert_frame_equal(frame, expected)


def test_unknown_extension_is_detected_by_content(tmp_path: Path) -> None:
    expected_frame().to_parquet(tmp_path / "export.bin", index=False)
    text = write_csv(tmp_path / "export.dat", UCI, text_rows("us"))
    (tmp_path / "export.packed").write_bytes(gzip.compress(text.read_bytes()))
    write_xlsx(tmp_path / "export.sheet", UCI, excel_rows())
    for name in ("export.bin", "export.dat", "export.packed", "export.sheet"):
        pd.testing.assert_frame_equal(read(tmp_path / name), expected_frame())


def test_hyperlink_text_loads_as_plain_text(tmp_path: Path) -> None:
    link = '=HYPERLINK("http://shop.example/85123A","Heart")'
    rows = text_rows("iso")
    rows[0][2] = link
    assert read(write_csv(tmp_path / "export.csv", UCI, rows)).loc[0, s.DESCRIPTION] == link
    cells = excel_rows()
    cells[0][2] = link
    path = write_xlsx(tmp_path / "export.xlsx", UCI, cells)
    workbook = openpyxl.load_workbook(path)
    workbook.active["C2"].data_type = "s"  # text that looks like a formula, as Excel stores it
    workbook.save(path)
    assert read(path).loc[0, s.DESCRIPTION] == link


def test_timezone_aware_dates_become_naive_utc(tmp_path: Path) -> None:
    rows = text_rows("iso")[:2]
    rows[0][4], rows[1][4] = "2010-12-01T09:26:00+01:00", "2010-12-01T08:26:00Z"
    frame = read(write_csv(tmp_path / "export.csv", UCI, rows))
    assert frame[s.INVOICE_DATE].tolist() == [pd.Timestamp("2010-12-01 08:26")] * 2
    parquet = expected_frame().rename(columns={s.INVOICE: "Invoice"})
    parquet[s.INVOICE_DATE] = parquet[s.INVOICE_DATE].dt.tz_localize("Europe/Paris")
    parquet.to_parquet(tmp_path / "export.parquet", index=False)
    dates = read(tmp_path / "export.parquet")[s.INVOICE_DATE]
    assert dates.dtype == "datetime64[ns]"
    assert dates[0] == pd.Timestamp("2010-12-01 07:26")


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["01/02/2011 10:00", "03/04/2011 10:00"], ["2011-01-02 10:00", "2011-03-04 10:00"]),  # undecided: US
        (["01/02/2011 10:00", "13/04/2011 10:00"], ["2011-02-01 10:00", "2011-04-13 10:00"]),  # 13: day first
        (["01/02/2011 10:00", "03/14/2011 10:00"], ["2011-01-02 10:00", "2011-03-14 10:00"]),  # 14: month first
        (["1/2/2011 1:05 PM", "1/2/2011 12:05 AM"], ["2011-01-02 13:05", "2011-01-02 00:05"]),
        (["1/2/2011 8:26:59", "13/2/2011 0:00"], ["2011-02-01 08:26:59", "2011-02-13 00:00"]),
        (["2011-01-02", "2011-01-02T10:00:00"], ["2011-01-02 00:00", "2011-01-02 10:00"]),
        (["1/2/2011", "2011-03-04 10:00:30"], ["2011-01-02 00:00", "2011-03-04 10:00:30"]),
    ],
)
def test_date_order_is_read_from_the_data(tmp_path: Path, dates: list[str], expected: list[str]) -> None:
    rows = [[*row[:4], when, *row[5:]] for row, when in zip(text_rows("iso"), dates)]
    frame = read(write_csv(tmp_path / "export.csv", UCI, rows))
    assert frame[s.INVOICE_DATE].tolist() == [pd.Timestamp(e) for e in expected]


def test_explicit_date_format_is_used(tmp_path: Path) -> None:
    rows = [[*row[:4], "02.01.2011 10:00", *row[5:]] for row in text_rows("iso")[:2]]
    frame = read(write_csv(tmp_path / "export.csv", UCI, rows), date_format="%d.%m.%Y %H:%M")
    assert frame[s.INVOICE_DATE].tolist() == [pd.Timestamp("2011-01-02 10:00")] * 2
    rows = [[*row[:4], "01/02/2011 10:00", *row[5:]] for row in text_rows("iso")[:2]]
    frame = read(write_csv(tmp_path / "export2.csv", UCI, rows), date_format="%d/%m/%Y %H:%M")
    assert frame[s.INVOICE_DATE].tolist() == [pd.Timestamp("2011-02-01 10:00")] * 2


# --- hypothesis --------------------------------------------------------------------------------------------

ALIASES = {name: st.sampled_from(aliases) for name, aliases in s.FIELD_ALIASES.items()}


def _spell(alias: str, style: str) -> str:
    return {"lower": alias, "upper": alias.upper(), "title": alias.title(), "spaced": f" {alias.capitalize()} "}[style]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=st.fixed_dictionaries(ALIASES), order=st.permutations(list(s.FIELDS)),
       style=st.sampled_from(["lower", "upper", "title", "spaced"]), fmt=st.sampled_from(["csv", "parquet"]))
def test_any_alias_spelling_and_column_order_loads_the_same_frame(names, order, style, fmt) -> None:
    headers = {name: _spell(names[name], style) for name in s.FIELDS}
    rows = text_rows("iso")
    position = {name: i for i, name in enumerate([s.INVOICE, s.STOCK_CODE, s.DESCRIPTION, s.QUANTITY,
                                                  s.INVOICE_DATE, s.UNIT_PRICE, s.CUSTOMER_ID, s.COUNTRY])}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"export.{fmt}"
        if fmt == "csv":
            write_csv(path, [headers[n] for n in order], [[row[position[n]] for n in order] for row in rows])
        else:
            expected_frame()[order].rename(columns=headers).to_parquet(path, index=False)
        pd.testing.assert_frame_equal(read(path), expected_frame())


@settings(max_examples=40, deadline=None)
@given(st.lists(st.datetimes(min_value=dt.datetime(1995, 1, 1), max_value=dt.datetime(2024, 12, 31)),
                min_size=1, max_size=30),
       st.sampled_from(["us", "eu"]))
def test_slash_dates_parse_back_when_the_data_decides(moments, style) -> None:
    moments = [m.replace(second=0, microsecond=0) for m in moments]
    decisive = dt.datetime(2011, 1, 13, 10, 0)  # day 13: proves the order either way
    moments.append(decisive)
    rows = [[*text_rows("iso")[0][:4], _format_date(pd.Timestamp(m), style), *text_rows("iso")[0][5:]]
            for m in moments]
    with tempfile.TemporaryDirectory() as folder:
        frame = read(write_csv(Path(folder) / "export.csv", UCI, rows))
    assert frame[s.INVOICE_DATE].tolist() == [pd.Timestamp(m) for m in moments]


# --- bad files ---------------------------------------------------------------------------------------------

def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match=r"not found: .*nowhere\.csv"):
        read(tmp_path / "nowhere.csv")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match=r"is a directory"):
        read(tmp_path)


def test_unreadable_path(tmp_path: Path) -> None:
    (tmp_path / "file.csv").write_text("x")
    with pytest.raises(InputDataError, match=r"Cannot read input file .*file\.csv/export\.csv"):
        read(tmp_path / "file.csv" / "export.csv")


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_csv(tmp_path / "export.csv", UCI, text_rows("iso"))

    def refuse(self: Path, *args: object, **kwargs: object):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", refuse)  # root can read any file, so simulate a chmod 000
    with pytest.raises(InputDataError, match=r"Cannot read input file .*export\.csv: Permission denied"):
        read(path)


@pytest.mark.parametrize(
    ("name", "content", "pattern"),
    [
        ("export.parquet", b"InvoiceNo,StockCode\n1,2\n", r"export\.parquet is not a Parquet file .*CSV"),
        ("export.xlsx", b"InvoiceNo,StockCode\n1,2\n", r"export\.xlsx is not an Excel \.xlsx workbook"),
        ("export.csv", b"PAR1" + b"\x00" * 20, r"export\.csv is not a CSV text file .*Parquet"),
        ("export.csv.gz", b"InvoiceNo\n", r"export\.csv\.gz has a \.gz extension but is not gzip"),
        ("export.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 20, r"legacy Excel \.xls"),
        ("export.xlsx", b"PK\x03\x04" + b"\x00" * 40, r"export\.xlsx is not a readable \.xlsx workbook"),
        ("export.parquet", b"PAR1" + b"\x00" * 40, r"export\.parquet is not a readable Parquet file"),
        ("export.csv", b"\x00\x01\x02\x03binary", r"export\.csv is not a text file"),
    ],
)
def test_content_not_matching_its_extension(tmp_path: Path, name: str, content: bytes, pattern: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(InputDataError, match=pattern):
        read(tmp_path / name)


def test_file_above_size_limit(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "export.csv", UCI, text_rows("iso") * 20)
    size = path.stat().st_size
    assert size > 1024 * 1024 * 0.001
    with pytest.raises(InputDataError, match=rf"export\.csv is {size:,} bytes, above the 0\.001 MB limit"):
        read(path, max_mb=0.001)
    assert len(read(path, max_mb=0.1)) == 200


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "export.csv").write_bytes(b"")
    with pytest.raises(InputDataError, match=r"export\.csv is empty \(0 bytes\)"):
        read(tmp_path / "export.csv")


def test_blank_file(tmp_path: Path) -> None:
    (tmp_path / "export.csv").write_text("\n\n  \n")
    with pytest.raises(InputDataError, match=r"export\.csv has no header line"):
        read(tmp_path / "export.csv")


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_header_only(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"export.{fmt}"
    if fmt == "csv":
        write_csv(path, UCI, [])
    elif fmt == "parquet":
        expected_frame().iloc[:0].to_parquet(path, index=False)
    else:
        write_xlsx(path, UCI, [])
    with pytest.raises(InputDataError, match=rf"export\.{fmt}.* has a header but no data rows"):
        read(path)


def test_missing_required_columns(tmp_path: Path) -> None:
    rows = [row[:4] + row[6:] for row in text_rows("iso")]
    path = write_csv(tmp_path / "export.csv", UCI[:4] + UCI[6:], rows)
    with pytest.raises(InputDataError) as caught:
        read(path)
    message = str(caught.value)
    assert "export.csv: missing required column(s) invoice_date, unit_price." in message
    assert "Columns found: ['InvoiceNo', 'StockCode', 'Description', 'Quantity', 'CustomerID', 'Country']" in message
    assert "invoice_date: invoicedate, date, orderdate" in message
    assert "unit_price: unitprice, price, priceeach" in message
    assert "--map SRC=FIELD" in message


def test_two_columns_for_one_field(tmp_path: Path) -> None:
    header = ["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "Price", "UnitPrice", "CustomerID"]
    path = write_csv(tmp_path / "export.csv", header, [["1", "A", "1", "2011-01-01", "1", "1", "7"]])
    with pytest.raises(InputDataError, match=r"export\.csv: ambiguous columns: 'Price' and 'UnitPrice' both mean "
                                             r"unit_price"):
        read(path)


def test_two_mapped_columns_for_one_field(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "export.csv", UCI, text_rows("iso"))
    with pytest.raises(InputDataError, match=r"'InvoiceNo' and 'StockCode' both mean invoice"):
        read(path, mapping={"InvoiceNo": "invoice", "StockCode": "invoice"})


def test_duplicated_header(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "export.csv", [*UCI, "Quantity"], [[*row, 1] for row in text_rows("iso")])
    with pytest.raises(InputDataError, match=r"export\.csv: duplicated column name\(s\) \['Quantity'\]"):
        read(path)


def test_mapping_to_unknown_field(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "export.csv", UCI, text_rows("iso"))
    with pytest.raises(InputDataError, match=r"export\.csv: input\.mapping maps column 'Qte' to 'qty', which is not a "
                                             r"field; valid fields: \['invoice', "):
        read(path, mapping={"Qte": "qty"})


def test_mapping_of_absent_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "export.csv", UCI, text_rows("iso"))
    with pytest.raises(InputDataError, match=r"export\.csv: input\.mapping names column 'Qte', which is not in "
                                             r"the file\. Columns found: \['InvoiceNo'"):
        read(path, mapping={"Qte": "quantity"})
    with pytest.raises(InputDataError, match=r"did you mean Quantity=quantity\?"):
        read(path, mapping={"quantity": "Quantity"})


def test_wrong_delimiter(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "export.csv", UCI, text_rows("iso"), delimiter=":")
    with pytest.raises(InputDataError, match=r"export\.csv: cannot find the column delimiter: the header line "
                                             r"'InvoiceNo:StockCode:.*' is a single column"):
        read(path)


def test_line_with_wrong_field_count(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "export.csv", UCI, text_rows("iso"))
    path.write_text(path.read_text() + "536399,22,too,few\n")
    with pytest.raises(InputDataError, match=r"export\.csv: 1 line with a number of fields other than the "
                                             r"header's 8 \(delimiter ','\): line 12 has 4"):
        read(path)


def _with_values(column: int, values: dict[int, object], dates: str = "iso") -> list[list[object]]:
    rows = text_rows(dates)
    for index, value in values.items():
        rows[index][column] = value
    return rows


def test_unparsable_numbers_name_column_lines_and_values(tmp_path: Path) -> None:
    rows = _with_values(3, {1: "six", 4: "1O"})
    rows[7][5] = "£4.65"
    with pytest.raises(InputDataError) as caught:
        read(write_csv(tmp_path / "export.csv", UCI, rows))
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'export.csv'}: 2 problems:")
    assert "column 'Quantity' (quantity): 2 rows with a value that is not a number (line 3: 'six', line 6: '1O')" \
        in message
    assert "column 'UnitPrice' (unit_price): 1 row with a value that is not a number (line 9: '£4.65')" in message


def test_at_most_five_examples(tmp_path: Path) -> None:
    rows = _with_values(5, {i: f"x{i}" for i in range(8)})
    with pytest.raises(InputDataError, match=r"8 rows with a value that is not a number \(line 2: 'x0', line 3: "
                                             r"'x1', line 4: 'x2', line 5: 'x3', line 6: 'x4', \.\.\.\)"):
        read(write_csv(tmp_path / "export.csv", UCI, rows))


def test_line_numbers_count_multiline_fields_and_blank_lines(tmp_path: Path) -> None:
    rows = _with_values(2, {0: "TWO\nLINES"})
    rows[3][3] = "many"
    path = write_csv(tmp_path / "export.csv", UCI, rows)
    text = path.read_text().splitlines(keepends=True)
    path.write_text("".join(text[:3] + ["\n"] + text[3:]))  # a blank line before the 3rd row
    with pytest.raises(InputDataError) as caught:
        read(path)
    # header 1, row 1 spans lines 2-3, row 2 line 4, blank line 5, row 3 line 6, row 4 line 7
    assert lines_of(str(caught.value)) == [7]


def test_not_whole_quantity(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match=r"'Quantity' \(quantity\): 1 row with a quantity that is not a whole "
                                             r"number \(line 4: '2\.5'\)"):
        read(write_csv(tmp_path / "export.csv", UCI, _with_values(3, {2: "2.5"})))


@pytest.mark.parametrize(
    ("column", "name", "field"),
    [(0, "InvoiceNo", "invoice"), (1, "StockCode", "stock_code"), (3, "Quantity", "quantity"),
     (4, "InvoiceDate", "invoice_date"), (5, "UnitPrice", "unit_price")],
)
def test_empty_required_values(tmp_path: Path, column: int, name: str, field: str) -> None:
    rows = _with_values(column, {2: None, 6: "   "})
    with pytest.raises(InputDataError, match=rf"export\.csv: column '{name}' \({field}\): 2 rows with an empty "
                                             r"value \(line 4, line 8: '   '\)"):
        read(write_csv(tmp_path / "export.csv", UCI, rows))


def test_empty_values_in_parquet_are_reported_by_row(tmp_path: Path) -> None:
    frame = expected_frame()
    frame.loc[2, s.INVOICE] = np.nan
    frame.to_parquet(tmp_path / "export.parquet", index=False)
    with pytest.raises(InputDataError, match=r"export\.parquet: column 'invoice' \(invoice\): 1 row with an empty "
                                             r"value \(row 3\)"):
        read(tmp_path / "export.parquet")


def test_unparsable_dates(tmp_path: Path) -> None:
    rows = _with_values(4, {1: "yesterday", 3: "2/30/2011 10:00"}, dates="us")
    with pytest.raises(InputDataError, match=r"'InvoiceDate' \(invoice_date\): 2 rows with a date in no recognised "
                                             r"format .* \(line 3: 'yesterday', line 5: '2/30/2011 10:00'\); set "
                                             r"input\.date_format"):
        read(write_csv(tmp_path / "export.csv", UCI, rows))


def test_contradicting_date_orders(tmp_path: Path) -> None:
    rows = _with_values(4, {1: "13/01/2011 10:00", 4: "01/14/2011 10:00"}, dates="eu")
    with pytest.raises(InputDataError) as caught:
        read(write_csv(tmp_path / "export.csv", UCI, rows))
    assert str(caught.value) == (
        f"{tmp_path / 'export.csv'}: column 'InvoiceDate' (invoice_date): 3 rows with dates in contradicting orders "
        "(2 can only be day/month/year, 1 only month/day/year) (line 3: '13/01/2011 10:00', line 6: "
        "'01/14/2011 10:00', line 7: '13/12/2010 14:05'); set input.date_format (e.g. '%d/%m/%Y %H:%M') to give "
        "the format")


def test_dates_not_matching_the_given_format(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "export.csv", UCI, text_rows("iso"))
    with pytest.raises(InputDataError, match=r"10 rows with a date not matching input\.date_format '%d/%m/%Y' "
                                             r"\(line 2: '2010-12-01 08:26:00'"):
        read(path, date_format="%d/%m/%Y")


def test_dates_outside_the_nanosecond_range_are_reported_not_crashing(tmp_path: Path) -> None:
    rows = _with_values(4, {0: "0201-12-01 10:00", 1: "2601-01-01 10:00"})
    with pytest.raises(InputDataError) as caught:
        read(write_csv(tmp_path / "export.csv", UCI, rows))
    assert "1 row with a date before 1990-01-01 (line 2: '0201-12-01 10:00')" in str(caught.value)
    assert "1 row with a date more than one day in the future (line 3: '2601-01-01 10:00')" in str(caught.value)


def test_absurd_values(tmp_path: Path) -> None:
    rows = text_rows("iso")
    rows[0][3], rows[1][3] = "1000001", "-2000000"
    rows[2][5], rows[3][5] = "1e7", "inf"
    rows[4][4], rows[5][4] = "1989-12-31 23:59", "2199-01-01 00:00"
    rows[6][3], rows[6][5] = "-5", "-11062.06"  # returns and bad-debt adjustments are fine
    with pytest.raises(InputDataError) as caught:
        read(write_csv(tmp_path / "export.csv", UCI, rows))
    message = str(caught.value)
    assert "4 problems" not in message and "5 problems" in message
    assert "'Quantity' (quantity): 2 rows with an absurd quantity (beyond ±1,000,000) (line 2: '1000001', " \
           "line 3: '-2000000')" in message
    assert "'UnitPrice' (unit_price): 1 row with a value that is not finite (line 5: 'inf')" in message
    assert "'UnitPrice' (unit_price): 1 row with an absurd unit price (above 1,000,000) (line 4: '1e7')" in message
    assert "1 row with a date before 1990-01-01 (line 6: '1989-12-31 23:59')" in message
    assert "1 row with a date more than one day in the future (line 7: '2199-01-01 00:00')" in message


def test_negative_quantities_and_prices_load(tmp_path: Path) -> None:
    rows = text_rows("iso")
    rows[6][3], rows[6][5] = "-5", "-11062.06"
    frame = read(write_csv(tmp_path / "export.csv", UCI, rows))
    assert (frame.loc[6, s.QUANTITY], frame.loc[6, s.UNIT_PRICE]) == (-5, -11062.06)


# --- encodings ---------------------------------------------------------------------------------------------

def test_cp1252_bytes_come_back_as_pound_and_accents(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(",".join(UCI).encode() + b"\n1,A,Caf\xe9 \x80 \xa35 \x93gift\x94,1,2011-01-01,1,7,UK\n")
    assert read(path).loc[0, s.DESCRIPTION] == "Café € £5 “gift”"


def test_bytes_undefined_in_cp1252_fall_back_to_latin1(tmp_path: Path, caplog) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(",".join(UCI).encode() + b"\n1,A,\xa35 caf\xe9\x81,1,2011-01-01,1,7,UK\n")
    assert read(path).loc[0, s.DESCRIPTION] == "£5 café\x81"
    assert "latin-1" in caplog.text


def test_mixed_utf8_and_cp1252_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(",".join(UCI).encode() + "\n1,A,Café,1,2011-01-01,1,7,UK\n".encode("utf-8")
                     + "2,B,Crème,1,2011-01-01,1,7,UK\n".encode("cp1252"))
    with pytest.raises(InputDataError, match=r"export\.csv mixes UTF-8 text with another encoding \(first non-UTF-8 "
                                             r"byte on line 3\)"):
        read(path)


def test_utf16_with_bom(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "export.csv", UCI, text_rows("us"), encoding="utf-16", delimiter="\t")
    pd.testing.assert_frame_equal(read(path), expected_frame())


# --- XLSX specifics ----------------------------------------------------------------------------------------

def _two_sheet_workbook(path: Path, second_header: list[str]) -> Path:
    workbook = openpyxl.Workbook()
    notes = workbook.active
    notes.title = "Notes"
    notes.append(second_header)
    notes.append(["exported by the till"] + [None] * (len(second_header) - 1))
    sales = workbook.create_sheet("Sales")
    sales.append(RETAIL_II)
    for row in excel_rows():
        sales.append(row)
    workbook.save(path)
    return path


def test_xlsx_picks_the_only_sheet_with_the_columns(tmp_path: Path) -> None:
    path = _two_sheet_workbook(tmp_path / "export.xlsx", ["Comment"])
    pd.testing.assert_frame_equal(read(path), expected_frame())


def test_xlsx_ambiguous_sheets_need_input_sheet(tmp_path: Path) -> None:
    path = _two_sheet_workbook(tmp_path / "export.xlsx", RETAIL_II)
    with pytest.raises(InputDataError, match=r"export\.xlsx: several sheets have the required columns; sheets: "
                                             r"\['Notes', 'Sales'\]\. Choose one with input\.sheet"):
        read(path)
    pd.testing.assert_frame_equal(read(path, sheet="Sales"), expected_frame())
    with pytest.raises(InputDataError, match=r"export\.xlsx, sheet 'Notes': 4 problems:\n- column 'StockCode' "
                                             r"\(stock_code\): 1 row with an empty value \(line 2\)"):
        read(path, sheet="Notes")


def test_xlsx_unknown_sheet(tmp_path: Path) -> None:
    path = _two_sheet_workbook(tmp_path / "export.xlsx", ["Comment"])
    with pytest.raises(InputDataError, match=r"export\.xlsx has no sheet 'Ventes' \(input\.sheet\); sheets: "
                                             r"\['Notes', 'Sales'\]"):
        read(path, sheet="Ventes")


def test_xlsx_no_sheet_has_the_columns(tmp_path: Path) -> None:
    path = _two_sheet_workbook(tmp_path / "export.xlsx", ["Comment"])
    with pytest.raises(InputDataError, match=r"no sheet has the required columns"):
        read(path, mapping={"Bon": "invoice"})


def _formula_workbook(path: Path) -> Path:
    rows = excel_rows()
    for row in rows[:3]:
        row[3] = f"=2*{row[3] // 2}"  # quantity as a formula, never calculated by openpyxl
    return write_xlsx(path, RETAIL_II, rows, title="Sales")


def test_xlsx_formulas_without_saved_values(tmp_path: Path) -> None:
    path = _formula_workbook(tmp_path / "export.xlsx")
    with pytest.raises(InputDataError, match=r"export\.xlsx, sheet 'Sales': 3 formula cell\(s\) in column\(s\) "
                                             r"\['Quantity'\] have no saved value \(D2, D3, D4\)"):
        read(path)


def test_xlsx_formulas_in_unused_columns_are_ignored(tmp_path: Path) -> None:
    rows = [[*row, f"=D{i + 2}*F{i + 2}"] for i, row in enumerate(excel_rows())]
    path = write_xlsx(tmp_path / "export.xlsx", [*RETAIL_II, "Total"], rows)
    pd.testing.assert_frame_equal(read(path), expected_frame())


def test_xlsx_formulas_with_saved_values_use_them(tmp_path: Path) -> None:
    path = _formula_workbook(tmp_path / "export.xlsx")

    def save_values(xml: bytes) -> bytes:  # what Excel writes: the formula and its last value
        return re.sub(rb"<f>2\*(\d+)</f><v></v>", lambda m: b"<f>2*%s</f><v>%d</v>" % (m[1], 2 * int(m[1])), xml)

    pd.testing.assert_frame_equal(read(_rewrite_sheets(path, tmp_path / "saved.xlsx", save_values)), expected_frame())


def test_xlsx_errors_report_excel_rows(tmp_path: Path) -> None:
    rows = excel_rows()
    rows[4][5] = "#VALUE!"
    path = write_xlsx(tmp_path / "export.xlsx", RETAIL_II, rows[:2] + [[None] * 8] + rows[2:])
    with pytest.raises(InputDataError, match=r"export\.xlsx, sheet 'Data': column 'Price' \(unit_price\): 1 row with "
                                             r"a value that is not a number \(line 7: '#VALUE!'\)"):
        read(path)

