"""Read a retailer's transaction export into canonical lines. The only module that reads input files.

Formats: CSV (``.csv``, ``.txt``, ``.tsv``, optionally ``.gz``; UTF-8 with or without BOM, UTF-16
with BOM, else cp1252, or latin-1 when cp1252 cannot be), Parquet and XLSX. Columns are recognised
through :data:`analytics.schema.FIELD_ALIASES`; ``InputParams.mapping`` overrides them.

Text dates: ISO (``2010-12-01 08:26:00``, offsets converted to naive UTC) or ``D/M/YYYY [h:mm[:ss]
[AM|PM]]`` slash dates, whose order is read from the data (a first component above 12 means day
first, a second one above 12 month first) and is month first (US) when nothing tells; values
proving both orders are an error. ``InputParams.date_format`` replaces the detection.

Every problem is an :class:`~analytics.errors.InputDataError` naming the file, the column and up to
five example rows as the user finds them ("line N" for CSV/XLSX, header = line 1; "row N" for Parquet).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics import schema as s
from analytics._categories import TEXT_KEYS, categorical
from analytics._readers import RawTable, open_source
from analytics.errors import InputDataError
from analytics.settings import InputParams

__all__ = ["read_transactions"]

MAX_QUANTITY = 1_000_000
MAX_UNIT_PRICE = 1_000_000.0
MIN_DATE = pd.Timestamp("1990-01-01")
MAX_EXAMPLES = 5

_ALIAS_TO_FIELD = {alias: name for name, aliases in s.FIELD_ALIASES.items() for alias in aliases}
_NOT_NULL = (s.INVOICE, s.STOCK_CODE, s.QUANTITY, s.INVOICE_DATE, s.UNIT_PRICE)
_SLASH_DATE = (r"^(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4})(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})"
               r"(?::(?P<S>\d{2})(?:\.\d+)?)?\s*(?P<p>[AaPp][Mm])?)?$")
_DATE_HINT = "set input.date_format (e.g. '%d/%m/%Y %H:%M') to give the format"


@dataclass(frozen=True)
class _Issue:
    """Rows of one column that break one rule: "<count> rows <what>" (count defaults to the mask's)."""

    mask: np.ndarray
    what: str
    count: int | None = None
    hint: str = ""


def read_transactions(path: str | Path, params: InputParams) -> pd.DataFrame:
    """Read a transaction export (one line per invoice line) into the canonical columns.

    Args:
        path: CSV, Parquet or XLSX file.
        params: column mapping, size limit, XLSX sheet and optional date format.

    Returns:
        The columns of ``schema.FIELDS`` in order: invoice, stock_code, description (text),
        quantity (int64), invoice_date (datetime64[ns], naive), unit_price (float64),
        customer_id, country (text). Text columns are categoricals of ``str`` with sorted categories
        (``analytics._categories``: the later stages work on their codes). Text is stripped; empty text
        and absent optional columns are null. Rows keep the file's order.

    Raises:
        InputDataError: missing, oversized, empty or malformed file, missing or ambiguous columns,
            unparsable, empty or absurd values (the message names the file, column and rows).
    """
    path = Path(path)
    _check_file(path, params.max_mb)
    source = open_source(path, params.sheet, accepts=lambda headers: _accepts(headers, params.mapping))
    columns = _resolve_columns(source.headers, params.mapping, source.label)
    raw = source.read(list(columns.values()), text=[src for name, src in columns.items() if name in TEXT_KEYS])
    if raw.frame.empty:
        raise InputDataError(f"{source.label} has a header but no data rows.")
    _check_formulas(raw, source.label)
    return _convert(raw, columns, params.date_format, source.label)


def _check_file(path: Path, max_mb: float) -> None:
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        raise InputDataError(f"Input file not found: {path}") from exc
    except OSError as exc:
        raise InputDataError(f"Cannot read input file {path}: {exc.strerror or exc}.") from exc
    if path.is_dir():
        raise InputDataError(f"Input path {path} is a directory, not a file.")
    if info.st_size == 0:
        raise InputDataError(f"Input file {path} is empty (0 bytes).")
    if info.st_size > max_mb * 1024 * 1024:
        size = f"{info.st_size / 1024 / 1024:,.1f} MB" if info.st_size > 100_000 else f"{info.st_size:,} bytes"
        raise InputDataError(f"Input file {path} is {size}, above the {max_mb:g} MB limit "
                             "(input.max_mb / INPUT_MAX_MB).")


# --- columns -------------------------------------------------------------------------------------------

def _resolve_columns(headers: list[str], mapping: Mapping[str, str], label: str) -> dict[str, str]:
    """Canonical field -> source column, for every field found (all required ones are)."""
    duplicated = sorted({h for h in headers if h and headers.count(h) > 1})
    if duplicated:
        raise InputDataError(f"{label}: duplicated column name(s) {duplicated}; each header must be unique.")
    explicit = _explicit_columns(headers, mapping, label)
    candidates: dict[str, list[str]] = {}
    for src, name in explicit.items():
        candidates.setdefault(name, []).append(src)
    for header in headers:
        field = _ALIAS_TO_FIELD.get(s.normalise_header(header))
        if header not in explicit and field is not None and field not in explicit.values():
            candidates.setdefault(field, []).append(header)
    clashes = {name: srcs for name, srcs in candidates.items() if len(srcs) > 1}
    if clashes:
        text = "; ".join(f"{' and '.join(map(repr, srcs))} {'both' if len(srcs) == 2 else 'all'} mean {name}"
                         for name, srcs in clashes.items())
        raise InputDataError(f"{label}: ambiguous columns: {text}. Remove one, or choose one with "
                             "input.mapping (--map SRC=FIELD).")
    missing = [name for name in s.REQUIRED_FIELDS if name not in candidates]
    if missing:
        accepted = "; ".join(f"{name}: {', '.join(s.FIELD_ALIASES[name])}" for name in missing)
        raise InputDataError(
            f"{label}: missing required column(s) {', '.join(missing)}. Columns found: {headers}. "
            f"Accepted headers (case, spaces and punctuation ignored): {accepted}. "
            "Or name the column with input.mapping (--map SRC=FIELD).")
    return {name: candidates[name][0] for name in s.FIELDS if name in candidates}


def _explicit_columns(headers: list[str], mapping: Mapping[str, str], label: str) -> dict[str, str]:
    """Source header -> field from ``mapping``; names are matched exactly, else ignoring case/spaces."""
    for src, name in mapping.items():
        if name not in s.FIELDS:
            hint = f" (did you mean {name}={src}?)" if src in s.FIELDS and name in headers else ""
            raise InputDataError(f"{label}: input.mapping maps column {src!r} to {name!r}, which is not a field"
                                 f"{hint}; valid fields: {list(s.FIELDS)}.")
    resolved: dict[str, str] = {}
    for src, name in mapping.items():
        matches = [src] if src in headers else [h for h in headers if h.strip().casefold() == src.strip().casefold()]
        if len(matches) != 1:
            raise InputDataError(f"{label}: input.mapping names column {src!r}, which is not in the file. "
                                 f"Columns found: {headers}.")
        resolved[matches[0]] = name
    return resolved


def _accepts(headers: list[str], mapping: Mapping[str, str]) -> bool:
    try:
        _resolve_columns(headers, mapping, "")
    except InputDataError:
        return False
    return True


def _check_formulas(raw: RawTable, label: str) -> None:
    if not raw.uncached_formulas:
        return
    count = sum(len(cells) for cells in raw.uncached_formulas.values())
    cells = [cell for column in raw.uncached_formulas.values() for cell in column][:MAX_EXAMPLES]
    raise InputDataError(
        f"{label}: {count:,} formula cell(s) in column(s) {list(raw.uncached_formulas)} have no saved value "
        f"({', '.join(cells)}{', ...' if count > len(cells) else ''}) and would load as empty. Open the "
        "workbook in Excel or LibreOffice and save it (values are then stored), or paste the values.")


# --- values --------------------------------------------------------------------------------------------

def _convert(raw: RawTable, columns: Mapping[str, str], date_format: str | None, label: str) -> pd.DataFrame:
    """Convert each column to its canonical type, gathering every issue into one error."""
    index = pd.RangeIndex(len(raw.frame))
    out: dict[str, pd.Series] = {}
    problems: list[str] = []
    for name in s.FIELDS:
        src = columns.get(name)
        if src is None:
            out[name] = _to_text(pd.Series(np.nan, index=index, dtype="str"))
            continue
        values = raw.frame[src]
        if name == s.QUANTITY:
            out[name], issues = _to_quantity(values)
        elif name == s.UNIT_PRICE:
            out[name], issues = _to_price(values)
        elif name == s.INVOICE_DATE:
            out[name], issues = _to_dates(values, date_format)
        else:
            out[name] = _to_text(values, drop_point_zero=name == s.CUSTOMER_ID)
            issues = []
        if name in _NOT_NULL:  # empty: null after conversion without being reported as unparsable
            issues.append(_Issue(out[name].isna().to_numpy() & ~_flagged(issues, len(index)), "with an empty value"))
        problems += [_describe(issue, raw, src, name) for issue in issues if issue.mask.any()]
    if problems:
        head = problems[0] if len(problems) == 1 else f"{len(problems)} problems:\n- " + "\n- ".join(problems)
        raise InputDataError(f"{label}: {head}")
    return pd.DataFrame(out, index=index)


def _describe(issue: _Issue, raw: RawTable, src: str, name: str) -> str:
    positions = np.flatnonzero(issue.mask)[:MAX_EXAMPLES].tolist()
    values = raw.frame[src].iloc[positions]
    examples = [loc if pd.isna(v) else f"{loc}: {_show(v)}" for loc, v in zip(raw.locate(positions), values)]
    count = int(issue.mask.sum()) if issue.count is None else issue.count
    more = ", ..." if count > len(positions) else ""
    rows = f"{count:,} row{'s' if count != 1 else ''}"
    hint = f"; {issue.hint}" if issue.hint else ""
    return f"column {src!r} ({name}): {rows} {issue.what} ({', '.join(examples)}{more}){hint}"


def _show(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(str(value)) if isinstance(value, str) else str(value)


def _to_text(values: pd.Series, drop_point_zero: bool = False) -> pd.Series:
    """Stripped text as a categorical with sorted categories; numbers become their digits
    (17850.0 -> "17850"); empty text is null.

    Text is cleaned on its distinct values (a file has far fewer than lines), which a categorical
    (a Parquet string column) already lists; the codes are kept for the later stages.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes, distinct = values.cat.codes.to_numpy(), pd.Series(values.cat.categories)
    else:
        numeric = pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype)
        codes, uniques = pd.factorize(values if numeric else values.astype("str"))
        distinct = pd.Series(uniques)
    if pd.api.types.is_numeric_dtype(distinct.dtype) and not pd.api.types.is_bool_dtype(distinct.dtype):
        text = _numbers_to_text(distinct)
    else:
        text = distinct.astype("str").str.strip()
        if drop_point_zero:
            text = text.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
    categories, recode = _sorted_distinct(text.mask(text == ""))
    return pd.Series(categorical(recode[codes], categories), index=values.index)


def _sorted_distinct(text: pd.Series) -> tuple[pd.Index, np.ndarray]:
    """The distinct non-null values of ``text`` in sorted order, and the position among them of each
    value of ``text`` (null: -1), plus a last -1 for the null code -1. One sort, no hashing."""
    ordered = text.dropna().sort_values()  # index: positions in text
    values = ordered.array
    fresh = np.r_[True, np.asarray(values[1:] != values[:-1], dtype=bool)] if len(values) else np.zeros(0, bool)
    recode = np.full(len(text) + 1, -1, dtype=np.int64)
    recode[ordered.index.to_numpy()] = np.cumsum(fresh) - 1
    return pd.Index(values[fresh], dtype="str"), recode


def _numbers_to_text(values: pd.Series) -> pd.Series:
    numbers = pa.array(values, from_pandas=True)
    try:
        return pd.Series(pc.cast(pc.cast(numbers, pa.int64()), pa.string()), dtype="str")
    except pa.ArrowInvalid:  # some values are not whole numbers
        floats = values.astype("float64")
        whole = np.isfinite(floats) & (floats == np.floor(floats)) & (floats.abs() < 2**53)
        digits = floats.where(whole, 0).astype("int64").astype("str")
        return digits.where(whole, floats.astype("str")).mask(floats.isna())


def _to_numbers(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Float values and a mask of present values that are not numbers (vectorised, decimal comma ok)."""
    if pd.api.types.is_bool_dtype(values.dtype) or not pd.api.types.is_numeric_dtype(values.dtype):
        if not (values.dtype == "str" or values.dtype == object):
            return pd.Series(np.nan, index=values.index), values.notna().to_numpy()
        text = values.astype("str").str.strip()
        text = text.mask(text == "")
        numbers = _parse_floats(text)
        bad = text.notna() & numbers.isna()
        if bad.any() and _decimal_comma(text, bad):
            numbers = _parse_floats(text.str.replace(",", ".", regex=False))
            bad = text.notna() & numbers.isna()
        return numbers, bad.to_numpy()
    return values.astype("float64"), np.zeros(len(values), dtype=bool)


def _parse_floats(text: pd.Series) -> pd.Series:
    try:
        return pd.Series(pc.cast(pa.array(text), pa.float64()), index=text.index, dtype="float64")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pd.to_numeric(text, errors="coerce").astype("float64")


def _decimal_comma(text: pd.Series, bad: pd.Series) -> bool:
    """True when no value has a '.' and every non-number looks like 2,55 (a decimal comma)."""
    return (not text.str.contains(".", regex=False).any()
            and bool(text[bad].str.fullmatch(r"[+-]?\d+,\d+").all()))


def _to_quantity(values: pd.Series) -> tuple[pd.Series, list[_Issue]]:
    numbers, bad = _to_numbers(values)
    finite = numbers.to_numpy()
    issues = [
        _Issue(bad, "with a value that is not a number"),
        _Issue(np.isfinite(finite) & (np.abs(finite) > MAX_QUANTITY),
               f"with an absurd quantity (beyond ±{MAX_QUANTITY:,})"),
        _Issue(np.isfinite(finite) & (np.abs(finite) <= MAX_QUANTITY) & (finite != np.round(finite)),
               "with a quantity that is not a whole number"),
        _Issue(np.isinf(finite), "with a value that is not finite"),
    ]
    if any(issue.mask.any() for issue in issues) or numbers.isna().any():
        return numbers, issues
    return numbers.astype("int64"), issues


def _to_price(values: pd.Series) -> tuple[pd.Series, list[_Issue]]:
    numbers, bad = _to_numbers(values)
    prices = numbers.to_numpy()
    issues = [
        _Issue(bad, "with a value that is not a number"),
        _Issue(np.isinf(prices), "with a value that is not finite"),
        _Issue(np.isfinite(prices) & (prices > MAX_UNIT_PRICE),
               f"with an absurd unit price (above {MAX_UNIT_PRICE:,.0f})"),
    ]
    return numbers, issues


def _to_dates(values: pd.Series, date_format: str | None) -> tuple[pd.Series, list[_Issue]]:
    """Naive datetimes; issues for unparsable, empty, contradictory and out-of-range dates."""
    issues: list[_Issue] = []
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        dates = values.dt.tz_convert("UTC").dt.tz_localize(None)
    elif pd.api.types.is_datetime64_dtype(values.dtype):
        dates = values
    elif values.dtype == "str" or values.dtype == object:
        dates, issues = _parse_text_dates(values.astype("str").str.strip(), date_format)
    else:
        dates = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
        issues = [_Issue(values.notna().to_numpy(), "with a value that is not a date")]
    dates = dates.astype("datetime64[us]")
    latest = pd.Timestamp.now(tz="UTC").tz_localize(None) + pd.Timedelta(days=1)
    issues += [
        _Issue((dates < MIN_DATE).to_numpy(), f"with a date before {MIN_DATE:%Y-%m-%d}"),
        _Issue((dates > latest).to_numpy(), "with a date more than one day in the future"),
    ]
    if any(issue.mask.any() for issue in issues) or dates.isna().any():
        return dates, issues
    return dates.astype("datetime64[ns]"), issues


def _parse_text_dates(text: pd.Series, date_format: str | None) -> tuple[pd.Series, list[_Issue]]:
    text = text.mask(text == "")
    if date_format:
        dates = _naive(pd.to_datetime(text, format=date_format, errors="coerce", utc=True))
        bad = (text.notna() & dates.isna()).to_numpy()
        return dates, [_Issue(bad, f"with a date not matching input.date_format {date_format!r}")]
    iso = pc.equal(pc.utf8_slice_codeunits(pa.array(text), 4, 5), "-").to_numpy(zero_copy_only=False)
    iso = np.asarray(iso == True)  # noqa: E712 - nulls (missing text) are not ISO
    dates = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    if iso.any():
        dates[iso] = _naive(pd.to_datetime(text[iso], format="ISO8601", errors="coerce", utc=True))
    issues: list[_Issue] = []
    others = text.notna().to_numpy() & ~iso
    if others.any():
        slash, issues = _parse_slash_dates(text[others])
        dates[others] = slash
    bad = (text.notna() & dates.isna()).to_numpy()
    what = "with a date in no recognised format (2010-12-01 08:26, 12/1/2010 8:26 or 01/12/2010 08:26)"
    return dates, [_Issue(bad & ~_flagged(issues, len(bad)), what, hint=_DATE_HINT), *issues]


def _parse_slash_dates(text: pd.Series) -> tuple[pd.Series, list[_Issue]]:
    """Parse D/M/Y or M/D/Y dates, the order read from the data (month first when undecided)."""
    us_style = pd.to_datetime(text, format="%m/%d/%Y %H:%M", errors="coerce")
    if us_style.notna().all():  # fast path: the UCI layout; no first component above 12
        return us_style.astype("datetime64[us]"), []
    parts = pc.extract_regex(pa.array(text), _SLASH_DATE).flatten()
    a, b, year, hour, minute, second = (_ints(parts[i], text.index) for i in range(6))
    first_over, second_over = (a > 12).to_numpy(), (b > 12).to_numpy()
    issues: list[_Issue] = []
    if first_over.any() and second_over.any():
        days, months = int(first_over.sum()), int(second_over.sum())
        what = (f"with dates in contradicting orders ({days:,} can only be day/month/year, {months:,} only "
                "month/day/year)")
        mask = np.zeros(len(text), dtype=bool)
        mask[np.flatnonzero(first_over)[:3]] = mask[np.flatnonzero(second_over)[:2]] = True
        issues = [_Issue(mask, what, days + months, _DATE_HINT)]
    day, month = (a, b) if first_over.any() else (b, a)
    if issues:  # still parse each value in an order it allows, so only garbage is reported as unparsable
        day, month = a.where(~second_over, b), b.where(~second_over, a)
    pm = pd.Series(pc.utf8_lower(parts[6]), index=text.index, dtype="str")
    hour = hour.fillna(0)
    hour = hour.where(~((pm == "pm") & (hour < 12)), hour + 12).where(~((pm == "am") & (hour == 12)), 0)
    components = pd.DataFrame({"year": year, "month": month, "day": day, "hour": hour,
                               "minute": minute.fillna(0), "second": second.fillna(0)})
    return pd.to_datetime(components, errors="coerce").astype("datetime64[us]"), issues


def _ints(strings: pa.Array, index: pd.Index) -> pd.Series:
    empty_as_null = pc.if_else(pc.equal(strings, ""), pa.scalar(None, pa.string()), strings)
    return pd.Series(pc.cast(empty_as_null, pa.int64()), index=index, dtype="float64")


def _naive(dates: pd.Series) -> pd.Series:
    return dates.dt.tz_localize(None).astype("datetime64[us]")


def _flagged(issues: Sequence[_Issue], size: int) -> np.ndarray:
    """Rows already reported by one of ``issues``."""
    flagged = np.zeros(size, dtype=bool)
    for issue in issues:
        flagged |= issue.mask
    return flagged
