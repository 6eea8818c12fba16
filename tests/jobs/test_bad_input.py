"""Bad input battery at the job level: one clear message naming what is wrong, a non-zero exit,
and the published snapshot untouched. Valid but unusual files (BOM, cp1252) load correctly."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from analytics.settings import PROJECT_ROOT, StoreParams
from jobs.refresh import main as refresh_main
from jobs.store import open_store

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"
ROWS = [
    "536365,85123A,WHITE HANGING HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom",
    "536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom",
    "536366,22633,HAND WARMER UNION JACK,6,2010-12-01 08:28:00,1.85,17851,France",
]


def _csv(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes("\n".join(lines).encode(encoding) + b"\n")
    return path


def _raw(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _xlsx(path: Path, rows: list[list[object]], sheets: int = 1) -> Path:
    book = openpyxl.Workbook()
    for index in range(sheets):
        sheet = book.active if index == 0 else book.create_sheet(f"Copy {index}")
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def _xlsx_rows() -> list[list[object]]:
    return [HEADER.split(",")] + [row.split(",") for row in ROWS]


BAD_FILES = {
    "missing column": (lambda d: _csv(d / "f.csv", [HEADER.replace(",CustomerID", "")] +
                                      [r.rsplit(",", 2)[0] + "," + r.rsplit(",", 1)[1] for r in ROWS]),
                       ["f.csv", "customer_id", "CustomerID"]),
    "wrong types": (lambda d: _csv(d / "f.csv", [HEADER, ROWS[0].replace(",6,", ",six,")]),
                    ["f.csv", "quantity", "line 2", "six"]),
    "empty file": (lambda d: _raw(d / "f.csv", b""), ["f.csv", "empty"]),
    "header only": (lambda d: _csv(d / "f.csv", [HEADER]), ["f.csv", "no data"]),
    "wrong delimiter": (lambda d: _csv(d / "f.csv", [HEADER.replace(",", ":")] + [r.replace(",", ":") for r in ROWS]),
                        ["f.csv", "delimiter"]),
    "unparsable dates": (lambda d: _csv(d / "f.csv", [HEADER, ROWS[0].replace("2010-12-01 08:26:00", "first of may")]),
                         ["f.csv", "invoice_date", "line 2"]),
    "absurd values": (lambda d: _csv(d / "f.csv", [HEADER, ROWS[0].replace(",2.55,", ",99999999,")]),
                      ["f.csv", "unit_price", "line 2"]),
    "duplicated header": (lambda d: _csv(d / "f.csv", [HEADER + ",Country"] + [r + ",France" for r in ROWS]),
                          ["f.csv", "Country"]),
    "xlsx formulas": (lambda d: _formula_book(d / "f.xlsx"), ["f.xlsx", "formula"]),
    "xlsx several sheets": (lambda d: _xlsx(d / "f.xlsx", _xlsx_rows(), sheets=2), ["f.xlsx", "input.sheet"]),
    "not utf-8 nor cp1252": (lambda d: _raw(d / "f.csv", (HEADER + "\n" + ROWS[0].replace("WHITE", "WHITÉ")
                                                           + "\n").encode("utf-8") + b"\x81\n"), ["f.csv", "UTF-8"]),
}


def _formula_book(path: Path) -> Path:
    rows = _xlsx_rows()
    rows[1][3] = "=2*3"  # a formula without a saved value: pandas would read it as empty
    return _xlsx(path, rows)


@pytest.fixture(scope="module")
def store_url(tmp_path_factory) -> str:
    """A file store with one published snapshot of a cut of the bundled data."""
    folder = tmp_path_factory.mktemp("bad-input")
    source = folder / "good.parquet"
    pd.read_parquet(PROJECT_ROOT / "data" / "online_retail.parquet").head(20_000).to_parquet(source)
    url = "file://" + str(folder / "store")
    assert refresh_main(["--store", url, "--input", str(source)]) == 0
    return url


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_is_refused_clearly_and_store_untouched(case, store_url, tmp_path, capsys):
    build, expected = BAD_FILES[case]
    path = build(tmp_path)
    store = open_store(StoreParams(url=store_url))
    before = (store.current_version(), store.versions())
    capsys.readouterr()
    status = refresh_main(["--store", store_url, "--input", str(path)])
    err = capsys.readouterr().err
    message = [line for line in err.splitlines() if line.startswith("error:")]
    assert status == 2, err
    assert len(message) == 1 and "Traceback" not in err
    for fragment in expected:
        assert fragment.lower() in err.lower(), (fragment, err)
    assert (store.current_version(), store.versions()) == before


def test_file_above_the_size_limit(store_url, tmp_path, capsys, monkeypatch):
    path = _csv(tmp_path / "big.csv", [HEADER] + ROWS * 20_000)
    monkeypatch.setenv("INPUT_MAX_MB", "1")
    status = refresh_main(["--store", store_url, "--input", str(path)])
    err = capsys.readouterr().err
    assert status == 2 and "big.csv" in err and "MB" in err


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252"])
def test_bom_and_cp1252_files_load_correctly(tmp_path, encoding):
    lines = [HEADER] + [row.replace("WHITE", "WHITÉ £") for row in ROWS]
    path = _csv(tmp_path / "ok.csv", lines, encoding=encoding)
    url = "file://" + str(tmp_path / "store")
    assert refresh_main(["--store", url, "--input", str(path)]) == 0
    store = open_store(StoreParams(url=url))
    from analytics.snapshot import parse_manifest, verify_table

    manifest = parse_manifest(store.read_manifest(store.current_version()))
    products = verify_table(manifest, "products", store.read_table(manifest["version"], "products"))
    assert "WHITÉ £ HANGING HEART" in set(products["description"])
