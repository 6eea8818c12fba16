"""File-format specifics behind :mod:`analytics.load`: CSV, Parquet and XLSX sources.

Each source exposes its header names first (so columns can be resolved before any data is read) and
then reads only the columns asked for into a :class:`RawTable`: raw values, no validation. Every
failure is an :class:`~analytics.errors.InputDataError` that names the file.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import io
import logging
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from analytics._categories import categorical
from analytics.errors import InputDataError

__all__ = ["RawTable", "Source", "open_source"]

log = logging.getLogger(__name__)

_EXTENSIONS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet",
               ".xlsx": "xlsx", ".xlsm": "xlsx"}
_MAGIC = {b"PAR1": "parquet", b"PK\x03\x04": "xlsx", b"\xd0\xcf\x11\xe0": "xls"}
_FORMAT_NAMES = {"csv": "a CSV text file", "parquet": "a Parquet file", "xlsx": "an Excel .xlsx workbook",
                 "xls": "a legacy Excel .xls workbook"}
_DELIMITERS = (",", ";", "\t", "|")
_CHUNK = 1 << 24
_SNIFF_BYTES = 1 << 16
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_XML_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


@dataclass(frozen=True)
class RawTable:
    """Raw values of the requested columns, plus how to point the user at a row.

    Attributes:
        frame: one column per requested source column, RangeIndex, values as stored in the file.
        locate: 0-based row positions -> labels the user can find in the file ("line 7", "row 7").
        uncached_formulas: source column -> cells holding a formula without a saved value (XLSX).
    """

    frame: pd.DataFrame
    locate: Callable[[Sequence[int]], list[str]]
    uncached_formulas: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


class Source(Protocol):
    """An opened input file: its label for messages, its header names, and a column reader."""

    label: str
    headers: list[str]

    def read(self, columns: Sequence[str], text: Sequence[str] = ()) -> RawTable:
        """Read the named source columns; those of ``text`` may come back as categoricals."""
        ...


def open_source(path: Path, sheet: str | None, accepts: Callable[[list[str]], bool]) -> Source:
    """Open ``path`` as CSV, Parquet or XLSX (by extension, checked against the magic bytes).

    Args:
        path: an existing, non-empty regular file.
        sheet: XLSX sheet to use (None: the only sheet, or the only one ``accepts``).
        accepts: tells whether a list of header names holds the required columns.
    """
    fmt, gzipped = _detect_format(path)
    if fmt == "parquet":
        return ParquetSource(path)
    if fmt == "xlsx":
        return XlsxSource(path, sheet, accepts)
    return CsvSource(path, gzipped)


def _detect_format(path: Path) -> tuple[str, bool]:
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    gzipped = bool(suffixes) and suffixes[-1] == ".gz"
    declared = _EXTENSIONS.get(suffixes[-2] if gzipped and len(suffixes) == 2 else path.suffix.lower())
    head = _read_head_bytes(path, 4)
    actual = "gzip" if head[:2] == b"\x1f\x8b" else _MAGIC.get(head, "csv")
    if path.suffix.lower() == ".xls" or actual == "xls":
        raise InputDataError(f"{path} is a legacy Excel .xls workbook, which is not supported: "
                             "save it as .xlsx or CSV.")
    if gzipped or (declared is None and actual == "gzip"):
        if actual != "gzip":
            raise InputDataError(f"{path} has a .gz extension but is not gzip-compressed.")
        return "csv", True
    if declared is not None and declared != actual:
        raise InputDataError(f"{path} is not {_FORMAT_NAMES[declared]} as its extension says: "
                             f"its content looks like {_FORMAT_NAMES.get(actual, 'gzip data')}.")
    return actual, False


def _read_head_bytes(path: Path, size: int) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(size)
    except OSError as exc:
        raise InputDataError(f"Cannot read input file {path}: {exc.strerror or exc}.") from exc


# --- Parquet -----------------------------------------------------------------------------------------

class ParquetSource:
    """A Parquet file; rows are reported as "row N" (1-based)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = str(path)
        try:
            self.schema = pq.read_schema(path)
        except (OSError, pa.ArrowException) as exc:
            raise InputDataError(f"{path} is not a readable Parquet file: {exc}") from exc
        self.headers = list(self.schema.names)

    def read(self, columns: Sequence[str], text: Sequence[str] = ()) -> RawTable:
        """Read the named columns (only those are loaded into memory); the string columns of ``text``
        as categoricals, straight from Parquet's dictionary encoding (each distinct text decoded once)."""
        strings = [name for name in text if pa.types.is_string(self.schema.field(name).type)
                   or pa.types.is_large_string(self.schema.field(name).type)]
        try:
            table = pq.read_table(self.path, columns=list(columns), read_dictionary=strings or None)
        except (OSError, pa.ArrowException) as exc:
            raise InputDataError(f"Cannot read Parquet file {self.path}: {exc}") from exc
        frame = table.drop_columns(strings).to_pandas(ignore_metadata=True)  # a stored index stays a column
        frame = frame.assign(**{name: _categorical(table.column(name)) for name in strings})[list(columns)]
        return RawTable(frame, lambda positions: [f"row {p + 1}" for p in positions])


def _categorical(column: pa.ChunkedArray) -> pd.Categorical:
    """A dictionary-encoded column as a categorical (to_pandas would check every code again).

    A column with about as many distinct values as lines (invoice numbers) comes with chunk dictionaries
    nearly as long as their chunks: its text is then encoded again in one hash table (all chunks share its
    dictionary), which is several times faster than unifying the chunks' dictionaries.
    """
    if sum(len(chunk.dictionary) for chunk in column.chunks) > len(column) // 2:
        combined = pc.dictionary_encode(column.cast(column.type.value_type)).combine_chunks()
    else:
        combined = column.unify_dictionaries().combine_chunks()
    return categorical(combined.indices.fill_null(-1).to_numpy(), pd.Index(pd.array(combined.dictionary, dtype="str")))


# --- CSV ---------------------------------------------------------------------------------------------

class CsvSource:
    """A delimited text file (optionally gzip-compressed); rows are reported by their line in the file."""

    def __init__(self, path: Path, gzipped: bool) -> None:
        self.path, self.gzipped, self.label = path, gzipped, str(path)
        self.encoding = self._detect_encoding()
        self.delimiter, self.headers = self._sniff()

    def read(self, columns: Sequence[str], text: Sequence[str] = ()) -> RawTable:
        """Read the named columns as text (empty fields are null); a malformed line is an error."""
        bad_lines: list[str] = []

        def on_invalid(row: pa_csv.InvalidRow) -> str:
            bad_lines.append(row.text)
            return "skip"

        encoding = "utf8" if self.encoding.startswith("utf-8") else self.encoding
        try:
            with pa.input_stream(str(self.path), compression="gzip" if self.gzipped else None) as stream:
                table = pa_csv.read_csv(
                    stream,
                    read_options=pa_csv.ReadOptions(encoding=encoding),
                    parse_options=pa_csv.ParseOptions(delimiter=self.delimiter, newlines_in_values=True,
                                                      invalid_row_handler=on_invalid),
                    convert_options=pa_csv.ConvertOptions(
                        include_columns=list(columns), column_types={c: pa.string() for c in columns},
                        strings_can_be_null=True, null_values=[""]),
                )
        except (OSError, pa.ArrowException, UnicodeError) as exc:
            raise InputDataError(f"Cannot parse CSV file {self.path}: {exc}") from exc
        if bad_lines:
            raise InputDataError(self._field_count_message(len(bad_lines)))
        frame = pd.DataFrame({name: pd.Series(table.column(name), dtype="str") for name in columns})
        return RawTable(frame, lambda positions: self._locate(positions, len(frame)))

    def _open_text(self) -> IO[str]:
        opener = gzip.open if self.gzipped else open
        return opener(self.path, "rt", encoding=self.encoding, errors="replace", newline="")

    def _open_bytes(self) -> gzip.GzipFile | io.BufferedReader:
        return gzip.open(self.path, "rb") if self.gzipped else self.path.open("rb")

    def _detect_encoding(self) -> str:
        """UTF-8 (with or without BOM) or UTF-16 with BOM; else cp1252, or latin-1 if cp1252 cannot be."""
        try:
            with self._open_bytes() as f:
                head = f.read(4)
                if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                    return "utf-16"
                if b"\x00" in head:
                    raise InputDataError(f"{self.path} is not a text file (it contains NUL bytes).")
                f.seek(0)
                decoder, offset = codecs.getincrementaldecoder("utf-8")(), 0
                try:
                    for chunk in iter(lambda: f.read(_CHUNK), b""):
                        decoder.decode(chunk)
                        offset += len(chunk)
                    decoder.decode(b"", final=True)
                except UnicodeDecodeError as exc:
                    return self._fallback_encoding(offset + exc.start)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise InputDataError(f"Cannot read input file {self.path}: {exc}") from exc
        return "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"

    def _fallback_encoding(self, bad_offset: int) -> str:
        """Not UTF-8: refuse a mix (it would come back garbled), prefer cp1252, else latin-1."""
        mixed = undefined = False
        line, offset = 1, 0
        with self._open_bytes() as f:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                line += chunk.count(b"\n", 0, max(0, bad_offset - offset))
                offset += len(chunk)
                mixed = mixed or bool(_UTF8_MULTIBYTE.search(chunk))
                undefined = undefined or bool(_CP1252_UNDEFINED.search(chunk))
        if mixed:
            raise InputDataError(
                f"{self.path} mixes UTF-8 text with another encoding (first non-UTF-8 byte on line {line}); "
                "reading it either way would garble some characters. Re-save the file as UTF-8.")
        if undefined:
            log.warning("%s is neither UTF-8 nor cp1252 (it has bytes 0x81, 0x8D, 0x8F, 0x90 or 0x9D): read as "
                        "latin-1; symbols such as the euro sign or curly quotes may be wrong.", self.path)
            return "latin-1"
        return "cp1252"

    def _sniff(self) -> tuple[str, list[str]]:
        """Pick the delimiter that splits the first lines into the same number (> 1) of fields."""
        try:
            with self._open_text() as f:
                sample = f.read(_SNIFF_BYTES)
                complete = f.read(1) == ""
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise InputDataError(f"Cannot read input file {self.path}: {exc}") from exc
        if not complete and "\n" in sample:
            sample = sample[: sample.rindex("\n") + 1]
        best: tuple[tuple[bool, int], str, list[list[str]]] | None = None
        for delimiter in _DELIMITERS:
            records = _sample_records(sample, delimiter)
            if records and len(records[0]) > 1:
                score = (all(len(r) == len(records[0]) for r in records), len(records[0]))
                if best is None or score > best[0]:
                    best = (score, delimiter, records)
        if best is None:
            first = sample.lstrip("\ufeff").strip().splitlines()[:1]
            if not first:
                raise InputDataError(f"{self.path} has no header line (the file is blank).")
            raise InputDataError(
                f"{self.path}: cannot find the column delimiter: the header line {first[0][:120]!r} is a "
                "single column. Columns must be separated by ',', ';', tab or '|'.")
        return best[1], best[2][0]

    def _records(self) -> Iterator[tuple[int, list[str]]]:
        """(first line number, fields) of each non-empty record, header included; error path only."""
        with self._open_text() as f:
            reader = csv.reader(f, delimiter=self.delimiter)
            line = 0
            try:
                for fields in reader:
                    start, line = line + 1, reader.line_num
                    if fields:
                        yield start, fields
            except csv.Error:
                return

    def _locate(self, positions: Sequence[int], rows: int) -> list[str]:
        if self._newlines() == rows + 1:  # one line per record: no blank lines, no line breaks in values
            return [f"line {p + 2}" for p in positions]
        wanted: dict[int, int | None] = {p + 1: None for p in positions}  # record 0 is the header
        last = max(wanted, default=0)
        for index, (line, _) in enumerate(self._records()):
            if index in wanted:
                wanted[index] = line
            if index >= last:
                break
        return [f"line {wanted[p + 1]}" if wanted[p + 1] else f"data row {p + 1}" for p in positions]

    def _newlines(self) -> int:
        """Line breaks in the file, plus one if the last line has none (-1 when not countable)."""
        if self.encoding == "utf-16":
            return -1
        count, last = 0, b""
        with self._open_bytes() as f:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                count, last = count + chunk.count(b"\n"), chunk[-1:]
        return count + (last != b"\n")

    def _field_count_message(self, count: int) -> str:
        expected = len(self.headers)
        examples = []
        for line, fields in self._records():
            if len(fields) != expected:
                examples.append(f"line {line} has {len(fields)}")
                if len(examples) == 5:
                    break
        lines = f"{count:,} line{'s' if count != 1 else ''}"
        return (f"{self.path}: {lines} with a number of fields other than the header's {expected} "
                f"(delimiter {self.delimiter!r}): {', '.join(examples) or 'check for unbalanced quotes'}.")


def _sample_records(sample: str, delimiter: str, limit: int = 50) -> list[list[str]]:
    reader = csv.reader(io.StringIO(sample.lstrip("\ufeff")), delimiter=delimiter)
    records: list[list[str]] = []
    try:
        for fields in reader:
            if fields:
                records.append(fields)
            if len(records) == limit:
                break
    except csv.Error:
        pass
    return records


# --- XLSX --------------------------------------------------------------------------------------------

class XlsxSource:
    """One sheet of an .xlsx workbook; rows are reported by their Excel row number ("line N").

    The header is the first non-blank row among the first 20 that holds the required columns (title
    rows above it are skipped), else the first non-blank row. Blank rows are skipped like blank lines.
    """

    def __init__(self, path: Path, sheet: str | None, accepts: Callable[[list[str]], bool]) -> None:
        self.path = path
        with _workbook(path, data_only=True) as workbook:
            self.sheet = self._choose_sheet(workbook, sheet, accepts)
            self.label = f"{path}, sheet '{self.sheet}'"
            rows = list(_worksheet(workbook, self.sheet).iter_rows(min_row=1, values_only=True))
        self.headers, self._columns, self._lines, positions = _split_sheet(rows, accepts)
        uncached = self._find_uncached_formulas(rows) if len(self._lines) and self._has_formulas() else {}
        self._uncached = {i: uncached[p] for i, p in enumerate(positions) if p in uncached}

    def read(self, columns: Sequence[str], text: Sequence[str] = ()) -> RawTable:
        """The named columns, typed per column (dates, numbers, or text when mixed)."""
        index = {name: i for i, name in enumerate(self.headers)}
        frame = pd.DataFrame({name: _excel_series(self._columns[index[name]]) for name in columns})
        lines = self._lines
        uncached = {name: tuple(self._uncached[index[name]]) for name in columns if index[name] in self._uncached}
        return RawTable(frame, lambda positions: [f"line {lines[p]}" for p in positions], uncached)

    def _choose_sheet(self, workbook: Any, sheet: str | None, accepts: Callable[[list[str]], bool]) -> str:
        names = [worksheet.title for worksheet in workbook.worksheets]  # chart sheets hold no rows
        if sheet is not None:
            if sheet not in names:
                raise InputDataError(f"{self.path} has no sheet {sheet!r} (input.sheet); sheets: {names}.")
            return sheet
        if len(names) == 1:
            return names[0]
        fitting = [name for name in names if _header_row(_top_rows(_worksheet(workbook, name)), accepts)[1]]
        if len(fitting) == 1:
            return fitting[0]
        which = "several sheets have" if fitting else "no sheet has"
        raise InputDataError(f"{self.path}: {which} the required columns; sheets: {names}. "
                             "Choose one with input.sheet in the configuration.")

    def _has_formulas(self) -> bool:
        try:
            with zipfile.ZipFile(self.path) as archive:
                return any(_XML_FORMULA.search(archive.read(name)) for name in archive.namelist()
                           if name.startswith("xl/worksheets/") and name.endswith(".xml"))
        except (OSError, zipfile.BadZipFile) as exc:
            raise InputDataError(f"{self.path} is not a readable .xlsx workbook: {exc}") from exc

    def _find_uncached_formulas(self, rows: list[tuple]) -> dict[int, list[str]]:
        """Column position -> data cells whose formula has no saved value (they would read as empty)."""
        found: dict[int, list[str]] = {}
        with _workbook(self.path, data_only=False) as workbook:
            for cells in _worksheet(workbook, self.sheet).iter_rows(min_row=int(self._lines[0])):
                for cell in cells:
                    if getattr(cell, "data_type", None) == "f" and _value_at(rows, cell.row, cell.column) is None:
                        found.setdefault(cell.column - 1, []).append(cell.coordinate)
        return found


@contextmanager
def _workbook(path: Path, data_only: bool) -> Iterator[Any]:
    """A read-only openpyxl workbook; any failure inside becomes an InputDataError naming the file."""
    import openpyxl  # only needed for workbooks

    with path.open("rb") as handle:  # a file object: openpyxl then does not insist on the extension
        try:
            workbook = openpyxl.load_workbook(handle, read_only=True, data_only=data_only)
        except Exception as exc:  # openpyxl raises zipfile, KeyError, XML and its own errors
            raise InputDataError(f"{path} is not a readable .xlsx workbook: {exc}") from exc
        try:
            yield workbook
        except InputDataError:
            raise
        except Exception as exc:
            raise InputDataError(f"Cannot read workbook {path}: {exc}") from exc
        finally:
            workbook.close()


def _worksheet(workbook: Any, name: str) -> Any:
    """The sheet, not trusting the size it declares (some exporters write a wrong one)."""
    worksheet = workbook[name]
    if hasattr(worksheet, "reset_dimensions"):  # read-only worksheets
        worksheet.reset_dimensions()
    return worksheet


def _top_rows(worksheet: Any, count: int = 50) -> list[tuple]:
    return list(worksheet.iter_rows(min_row=1, max_row=count, values_only=True))


def _header_row(rows: list[tuple], accepts: Callable[[list[str]], bool]) -> tuple[int | None, bool]:
    """Index of the header row and whether it holds the required columns."""
    filled = [i for i, row in enumerate(rows[:50]) if any(v is not None for v in row)][:20]
    fitting = next((i for i in filled if accepts(_header_names(rows[i]))), None)
    return (fitting, True) if fitting is not None else (filled[0] if filled else None, False)


def _value_at(rows: list[tuple], row: int, column: int) -> object:
    values = rows[row - 1] if row <= len(rows) else ()
    return values[column - 1] if column <= len(values) else None


def _header_names(row: tuple) -> list[str]:
    from openpyxl.utils import get_column_letter

    return [str(v).strip() if v is not None else f"(column {get_column_letter(i + 1)})" for i, v in enumerate(row)]


def _split_sheet(rows: list[tuple], accepts: Callable[[list[str]], bool]
                 ) -> tuple[list[str], list[list], np.ndarray, list[int]]:
    """Header names, column values, Excel row numbers of the data, kept column positions.

    Unnamed columns without any value are dropped.
    """
    header = _header_row(rows, accepts)[0]
    if header is None:
        return [], [], np.array([], dtype=np.int64), []
    data = [i for i in range(header + 1, len(rows)) if any(v is not None for v in rows[i])]
    width = max([len(rows[header])] + [len(rows[i]) for i in data])
    title = tuple(rows[header]) + (None,) * (width - len(rows[header]))
    columns = [[rows[i][c] if c < len(rows[i]) else None for i in data] for c in range(width)]
    keep = [c for c in range(width) if title[c] is not None or any(v is not None for v in columns[c])]
    names = _header_names(title)
    return [names[c] for c in keep], [columns[c] for c in keep], np.array(data, dtype=np.int64) + 1, keep


def _excel_series(values: list) -> pd.Series:
    kinds = {type(v) for v in values if v is not None}
    if kinds and kinds <= {dt.datetime, dt.date}:
        return pd.Series(pd.to_datetime(values), dtype="datetime64[us]")  # us: any year Excel allows
    if kinds and kinds <= {int, float}:
        return pd.Series([np.nan if v is None else v for v in values], dtype="float64")
    return pd.Series([None if v is None else _cell_text(v) for v in values], dtype="str")


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(value)
