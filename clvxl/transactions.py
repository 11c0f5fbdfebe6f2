"""From a raw transaction log to clean transactions, or a report of every bad row.

A finance export arrives with its own header names ("Customer No", "Invoice Date",
"Net Amount"), dates as ISO text, Excel serial numbers or real dates, and amounts as
numbers or currency text ("$1,234.50", "(12.00)", "1.234,50"). This module maps the
columns by name, parses every value, and either

* ``on_error="stop"`` (default): raises one :class:`~clvxl.errors.BadRowsError`
  listing each bad row (row, column, value, what was expected), or
* ``on_error="skip"``: sets the bad rows aside in :attr:`CleanLog.rejected` and
  keeps the rest.

The input is never modified. The clean table follows the contract in
``docs/architecture.md``: ``customer_id`` (text, trimmed: "00123" stays "00123"),
``date``, ``amount`` (negative = refund), and ``order_id``, ``cost``, ``quantity``
when the log has them, plus ``source_row`` for messages.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from clvxl.errors import BadRow, BadRowsError, InputError, NoDataError
from clvxl.memory import release_memory
from clvxl.sources import LogScan, RawLog

__all__ = ["ALIASES", "CleanLog", "clean_transactions", "find_columns"]

#: Accepted header names for each role, compared ignoring case, spaces and punctuation.
ALIASES: dict[str, tuple[str, ...]] = {
    "customer_id": (
        "customer_id",
        "customer",
        "customer_no",
        "customer_number",
        "customer_code",
        "cust_id",
        "client",
        "client_id",
        "account",
        "account_id",
        "user_id",
        "buyer",
        "master_id",
    ),
    "date": (
        "date",
        "order_date",
        "transaction_date",
        "invoice_date",
        "purchase_date",
        "sale_date",
        "posting_date",
        "timestamp",
        "datetime",
    ),
    "amount": (
        "amount",
        "revenue",
        "sales",
        "sales_amount",
        "net_amount",
        "order_value",
        "value",
        "total",
        "dollar_value",
        "net_sales",
        "turnover",
    ),
    "order_id": (
        "order_id",
        "order",
        "order_no",
        "order_number",
        "invoice",
        "invoice_no",
        "invoice_number",
        "transaction_id",
        "receipt",
    ),
    "cost": ("cost", "cogs", "cost_of_goods", "cost_of_sales", "unit_cost_total"),
    "margin": ("margin", "gross_margin", "profit", "gross_profit"),
    "quantity": ("quantity", "qty", "units", "number_of_cds"),
}
REQUIRED = ("customer_id", "date", "amount")
FIRST_DATE = pd.Timestamp("1900-01-01")
LAST_DATE = pd.Timestamp("2100-12-31")
# Excel serial day 1 is 1900-01-01; counting from 1899-12-30 absorbs Excel's
# phantom 1900-02-29 for every date from 1900-03-01 on.
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_EXCEL_LAST_SERIAL = 73415  # 2100-12-31
#: Day 0 of the compact table's ``day`` column (and of the summary query's days).
DAY_ZERO = np.datetime64("1970-01-01", "D")


@dataclass(frozen=True)
class CleanLog:
    """Clean transactions and the rows set aside.

    Attributes
    ----------
    table : pyarrow.Table
        The clean table in compact form: ``customer_id`` and ``order_id`` as
        dictionary-encoded text, ``day`` (days since 1970-01-01), ``amount`` and, when
        the log has them, ``cost`` and ``quantity``, plus ``source_row``.
    rejected : DataFrame
        Columns ``row``, ``column``, ``value``, ``reason``: one line per bad cell of a
        row set aside with ``on_error="skip"``; empty otherwise.
    source : str
        The source's name for messages.
    notes : tuple of str
        What was noticed and how it was handled (duplicated order lines).
    """

    table: pa.Table
    rejected: pd.DataFrame
    source: str
    notes: tuple[str, ...] = ()

    @property
    def transactions(self) -> pd.DataFrame:
        """The clean table as a DataFrame (see the module docstring)."""
        out = {}
        for name, column in zip(self.table.column_names, self.table.columns, strict=True):
            if name == "day":
                out["date"] = (DAY_ZERO + column.to_numpy()).astype("datetime64[ns]")
            elif pa.types.is_dictionary(column.type):
                out[name] = column.cast(pa.string()).to_pandas().astype("str")
            else:
                out[name] = column.to_numpy()
        return pd.DataFrame(out)


def _key(name: object) -> str:
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


def find_columns(header: list[str], columns: Mapping[str, str] | None = None) -> dict[str, str]:
    """Map each role (customer_id, date, amount, ...) to a header of the log.

    Parameters
    ----------
    header : list of str
        The log's column names.
    columns : mapping, optional
        Overrides, role → header name (``--customer-col`` and friends).

    Returns
    -------
    dict
        Role → header name, for every role found; the three required roles are
        always present.

    Examples
    --------
    >>> find_columns(["Customer No", "Invoice Date", "Net Amount", "Qty"])
    {'customer_id': 'Customer No', 'date': 'Invoice Date', 'amount': 'Net Amount', 'quantity': 'Qty'}
    >>> find_columns(["Client", "Amount"])
    Traceback (most recent call last):
    ...
    clvxl.errors.InputError: the log has no date column. Columns found: 'Client', 'Amount'. ...
    """
    columns = dict(columns or {})
    unknown = set(columns) - set(ALIASES)
    if unknown:
        raise InputError(f"unknown column role(s) {sorted(unknown)}; use {', '.join(ALIASES)}")
    by_key: dict[str, list[str]] = {}
    for name in header:
        by_key.setdefault(_key(name), []).append(str(name))
    found: dict[str, str] = {}
    for role, aliases in ALIASES.items():
        wanted = [columns[role]] if role in columns else list(aliases)
        for alias in wanted:
            names = by_key.get(_key(alias), [])
            if len(names) > 1:
                raise InputError(
                    f"the column {names[0]!r} appears {len(names)} times in the header; "
                    "rename or delete the duplicates so it is clear which one to use"
                )
            if names:
                found[role] = names[0]
                break
        else:
            if role in columns:
                raise InputError(
                    f"there is no column {columns[role]!r} (given for {role}); "
                    f"the columns are: {', '.join(map(repr, header))}"
                )
    missing = [r for r in REQUIRED if r not in found]
    if missing:
        labels = {"customer_id": "customer id", "date": "date", "amount": "amount"}
        lines = [
            "the log has " + ", ".join(f"no {labels[r]} column" for r in missing) + ".",
            f"Columns found: {', '.join(map(repr, header)) or 'none'}.",
        ]
        for r in missing:
            flag = {
                "customer_id": "--customer-col",
                "date": "--date-col",
                "amount": "--amount-col",
            }[r]
            lines.append(
                f"Accepted names for {labels[r]}: {', '.join(ALIASES[r])} (or name it with {flag})."
            )
        raise InputError(" ".join(lines))
    return found


# --- parsing one column: each returns (values, bad mask, what was expected) -------------


def _is_blank(values: pd.Series) -> np.ndarray:
    blank = values.isna().to_numpy().copy()
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        text = values.astype("string").str.strip()
        blank |= (text == "").fillna(True).to_numpy(dtype=bool)
    return blank


def _parse_ids(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    if pd.api.types.is_float_dtype(values.dtype) or pd.api.types.is_object_dtype(values.dtype):
        values = values.map(_id_text, na_action="ignore")
    ids = values.astype("string").str.strip()
    bad = (ids.isna() | (ids == "")).to_numpy(dtype=bool)
    return ids.fillna("").astype(str), bad


def _id_text(value: object) -> object:
    """Excel and parquet hold numeric ids as floats: 123.0 is the id "123"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value


_THOUSANDS_COMMA = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d*)?$")
_THOUSANDS_DOT = re.compile(r"^\d{1,3}(?:\.\d{3})+(?:,\d*)?$")
_DECIMAL_COMMA = r"^\d+,\d{1,2}$|^\d{1,3}(?:\.\d{3})+,\d*$|^\d+,\d{4,}$"


def _parse_money(
    values: pd.Series, decimal_comma: bool | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Numbers, or currency text: "$1,234.50", "(12.00)", "1.234,50", "-€5".

    ``decimal_comma`` says whether the column writes decimals with a comma; None
    decides from ``values`` themselves (:func:`_decimal_comma`).
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        return np.full(len(values), np.nan), np.ones(len(values), dtype=bool)
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        return numbers, ~np.isfinite(numbers)
    numbers, todo = _plain_numbers(values)
    if todo.any():
        numbers[todo] = _parse_money_text(values[todo].astype(str).str.strip(), decimal_comma)
    return numbers, ~np.isfinite(numbers)


def _plain_numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Plain numbers (NaN elsewhere), and which values need a closer look."""
    numbers = _to_float(values)
    return numbers, np.isnan(numbers) & ~values.isna().to_numpy()


def _decimal_comma(values: pd.Series) -> bool:
    """Whether a money column shows decimal commas ("12,50", "1.234,5")."""
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return False
    _, todo = _plain_numbers(values)
    if not todo.any():
        return False
    return _shows_decimal_comma(_money_core(values[todo].astype(str).str.strip())[1])


def _shows_decimal_comma(core: pd.Series) -> bool:
    """Whether any amount (digits and separators alone) is written with a decimal comma."""
    return bool(core.str.contains(_DECIMAL_COMMA, regex=True).any())


def _to_float(values: pd.Series) -> np.ndarray:
    """Plain numbers at Arrow speed; NaN where a value needs a closer look."""
    if values.dtype != object:
        try:
            array = pa.array(values.astype("string"), from_pandas=True)
            return pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False).copy()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    else:
        values = values.map(lambda v: None if isinstance(v, bool) else v, na_action="ignore")
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan, copy=True)


def _money_core(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Whether each amount is negative, and its digits and separators alone."""
    negative = text.str.match(r"^\(.*\)$") | text.str.match(r"^-") | text.str.endswith("-")
    core = (
        text.str.replace(r"^\((.*)\)$", r"\1", regex=True)
        .str.replace(r"[\s\u00a0'$€£¥]|\b(USD|EUR|GBP|CHF|JPY|CAD|AUD)\b", "", regex=True)
        .str.strip("-+")
    )
    return negative, core


def _parse_money_text(text: pd.Series, decimal_comma: bool | None) -> np.ndarray:
    negative, core = _money_core(text)
    if decimal_comma is None:
        decimal_comma = _shows_decimal_comma(core)
    both = core.str.contains(",") & core.str.contains(r"\.")
    comma_last = core.str.rfind(",") > core.str.rfind(".")
    if decimal_comma:
        as_comma = ~both | comma_last
    else:
        as_comma = (both & comma_last) | (
            core.str.contains(",") & ~both & ~core.str.match(_THOUSANDS_COMMA)
        )
    # Where a dot-only number is really thousands ("1.234") in a decimal-comma log.
    dots_thousands = ~core.str.contains(",") & core.str.match(_THOUSANDS_DOT)
    as_comma = as_comma | (dots_thousands & decimal_comma)
    normal = core.where(~as_comma, core.str.replace(".", "", regex=False).str.replace(",", "."))
    normal = normal.where(as_comma, normal.str.replace(",", "", regex=False))
    numbers = pd.to_numeric(
        normal.where(normal.str.match(r"^\d*\.?\d+$|^\d+\.$")), errors="coerce"
    ).to_numpy(dtype=float, na_value=np.nan)
    return np.where(negative.to_numpy(dtype=bool), -numbers, numbers)


_SLASHED = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?:[ T].*)?\s*$")


def _parse_dates(
    values: pd.Series, column: str, rows: RawLog, dates: str
) -> tuple[pd.Series, np.ndarray]:
    """Dates as datetimes, ISO/compact text, day-month-year text or Excel serial numbers.

    Text dates are parsed once per distinct text (a log has a few thousand days, not
    millions): each distinct text stands at the position of its first row, so messages
    name the first row that shows it.
    """
    if values.dtype == object or not pd.api.types.is_string_dtype(values.dtype):
        return _parse_date_values(values, column, rows, dates)
    encoded = pc.dictionary_encode(text_array(values))
    distinct = len(encoded.dictionary)
    codes = pc.fill_null(encoded.indices, distinct).to_numpy()  # missing: one more slot
    first = np.full(distinct + 1, len(values), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(values) - 1, -1, -1)
    texts = pa.concat_arrays([encoded.dictionary, pa.nulls(1, encoded.dictionary.type)])
    texts = texts.to_pandas().set_axis(first)
    parsed, bad = _parse_date_values(texts, column, rows, dates)
    return pd.Series(parsed.to_numpy()[codes], index=values.index), bad[codes]


def _parse_date_values(
    values: pd.Series, column: str, rows: RawLog, dates: str
) -> tuple[pd.Series, np.ndarray]:
    n = len(values)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        out = _in_range(values.dt.tz_localize(None) if values.dt.tz is not None else values)
    elif pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
        values.dtype
    ):
        out = _from_numbers(values.to_numpy(dtype=float, na_value=np.nan), values.index)
    else:
        kind = values.map(_kind, na_action="ignore") if values.dtype == object else None
        if kind is not None:
            is_time = (kind == "time").to_numpy()
            is_num = (kind == "number").to_numpy()
            if is_time.any():
                out[is_time] = _in_range(
                    pd.to_datetime(values[is_time].astype(object), errors="coerce")
                )
            if is_num.any():
                out[is_num] = _from_numbers(
                    values[is_num].astype(float).to_numpy(), values.index[is_num]
                )
            text_mask = (kind == "text").to_numpy()
        else:
            text_mask = ~values.isna().to_numpy()
        if text_mask.any():
            out[text_mask] = _from_text(
                values[text_mask].astype(str).str.strip(), column, rows, dates
            )
    out = out.dt.normalize()
    bad = (out.isna() | (out < FIRST_DATE) | (out > LAST_DATE)).to_numpy(dtype=bool)
    assert len(bad) == n
    return out, bad


def _in_range(times: pd.Series) -> pd.Series:
    """Real dates as nanosecond timestamps; NaT for those outside 1900-2100.

    Such dates (year 1000 in a parquet file) may not fit a nanosecond timestamp at all,
    so they are set aside before converting; they are bad rows either way.
    """
    inside = (times >= FIRST_DATE) & (times < LAST_DATE + pd.Timedelta(days=1))
    return times.where(inside).astype("datetime64[ns]")


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "bad"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "number"
    if hasattr(value, "year"):
        return "time"
    return "text"


def _from_numbers(numbers: np.ndarray, index: pd.Index) -> pd.Series:
    """Excel serial numbers (1 = 1900-01-01), or yyyymmdd as a number (19970101)."""
    out = pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    compact = (numbers >= 19000101) & (numbers <= 21001231) & (numbers == np.floor(numbers))
    serial = (numbers >= 1) & (numbers <= _EXCEL_LAST_SERIAL)
    if compact.any():
        text = pd.Series(numbers[compact].astype(np.int64).astype(str), index=index[compact])
        out[compact] = pd.to_datetime(text, format="%Y%m%d", errors="coerce")
    if serial.any():
        days = np.floor(numbers[serial]).astype(np.int64)
        out[serial] = EXCEL_EPOCH + pd.to_timedelta(days, unit="D")
    return out


def _from_text(text: pd.Series, column: str, log: RawLog, dates: str) -> pd.Series:
    """Plain YYYY-MM-DD at Arrow speed; only the rest goes through the slower forms."""
    array = text_array(text)
    parsed = pc.strptime(array, format="%Y-%m-%d", unit="s", error_is_null=True)
    # strptime rolls impossible days over (2024-02-30 -> 2024-03-01): such dates go to
    # the slower forms, which refuse them.
    day = pc.extract_regex(array, r"^\s*\d{4}-\d{1,2}-(?P<day>\d{1,2})\s*$").field("day")
    day = pc.if_else(pc.equal(day, ""), pa.scalar(None, pa.string()), day)  # no match
    rolled = pc.not_equal(pc.day(parsed), pc.cast(day, pa.int64()))
    parsed = pc.if_else(pc.fill_null(rolled, False), pa.scalar(None, parsed.type), parsed)
    out = pd.Series(
        parsed.to_numpy(zero_copy_only=False).astype("datetime64[ns]"), index=text.index
    )
    rest = out.isna().to_numpy() & (text != "").to_numpy()
    if rest.any():
        out[rest] = _from_other_text(text[rest], column, log, dates)
    return out


def _from_other_text(text: pd.Series, column: str, log: RawLog, dates: str) -> pd.Series:
    """ISO with times, yyyymmdd, serial numbers as text, d/m/y or m/d/y, month names."""
    out = pd.to_datetime(
        text.where(text.str.match(r"^\d{4}-\d{1,2}-\d{1,2}")), format="ISO8601", errors="coerce"
    )
    compact = text.str.fullmatch(r"\d{8}")
    if compact.any():
        out[compact] = pd.to_datetime(text[compact], format="%Y%m%d", errors="coerce")
    serial = text.str.fullmatch(r"\d{1,5}(\.\d+)?") & ~compact
    if serial.any():
        out[serial] = _from_numbers(text[serial].astype(float).to_numpy(), text.index[serial])
    parts = text.str.extract(_SLASHED)
    slashed = parts[0].notna() & out.isna()
    if slashed.any():
        order = (
            dates
            if dates in ("dayfirst", "monthfirst")
            else _day_month_order(_DateEvidence.of(parts[slashed], log), column)
        )
        first = parts.loc[slashed, 0].astype(int)
        second = parts.loc[slashed, 1].astype(int)
        year = parts.loc[slashed, 2].astype(int)
        year = year.where(year >= 100, year + np.where(year < 70, 2000, 1900))
        day, month = (first, second) if order == "dayfirst" else (second, first)
        out[slashed] = pd.to_datetime(
            pd.DataFrame({"year": year, "month": month, "day": day}), errors="coerce"
        )
    rest = out.isna() & (text != "")
    if rest.any():
        out[rest] = pd.to_datetime(text[rest], format="mixed", errors="coerce")
    return out


@dataclass(frozen=True)
class _DateEvidence:
    """What a log's d/m/y-or-m/d/y dates show about their order."""

    first_over_12: bool = False
    second_over_12: bool = False
    example: str | None = None
    example_row: int = 0

    @classmethod
    def of(cls, parts: pd.DataFrame, log: RawLog) -> _DateEvidence:
        """From the parts of slashed dates (``_SLASHED`` groups), rows of ``log``."""
        if parts.empty:
            return cls()
        example = parts.iloc[0]
        return cls(
            bool((parts[0].astype(int) > 12).any()),
            bool((parts[1].astype(int) > 12).any()),
            f"{example[0]}/{example[1]}/{example[2]}",
            int(log.row_numbers(np.array([parts.index[0]]))[0]),
        )

    @classmethod
    def in_column(cls, values: pd.Series, log: RawLog) -> _DateEvidence:
        """From a whole column as read (only its text values can be slashed dates)."""
        if values.dtype == object:
            values = values[values.map(_kind, na_action="ignore") == "text"]
        elif not pd.api.types.is_string_dtype(values.dtype):
            return cls()
        array = text_array(values)
        maybe = pc.fill_null(pc.match_substring_regex(array, r"^\s*\d{1,2}[/.\-]\d"), False)
        text = values[maybe.to_numpy(zero_copy_only=False)].astype(str).str.strip()
        return cls.of(text.str.extract(_SLASHED).dropna(subset=[0]), log)

    def __or__(self, other: _DateEvidence) -> _DateEvidence:
        first = self if self.example is not None else other
        return _DateEvidence(
            self.first_over_12 or other.first_over_12,
            self.second_over_12 or other.second_over_12,
            first.example,
            first.example_row,
        )


def _day_month_order(evidence: _DateEvidence, column: str) -> str:
    """Day or month first, as the dates show; an error when they do not tell."""
    if evidence.first_over_12 and not evidence.second_over_12:
        return "dayfirst"
    if evidence.second_over_12 and not evidence.first_over_12:
        return "monthfirst"
    if evidence.first_over_12 and evidence.second_over_12:
        reason = "some dates have the day first and others the month first"
    else:
        reason = (
            f"{evidence.example!r} (row {evidence.example_row}) could be day/month or "
            "month/day, and no date in the log tells"
        )
    raise InputError(
        f"column {column!r}: {reason}. Say which with --dayfirst or --monthfirst "
        "(dates='dayfirst' / 'monthfirst'), or use ISO dates such as 2024-04-03."
    )


# --- the whole table -----------------------------------------------------------------


def clean_transactions(
    raw: RawLog | LogScan | pd.DataFrame,
    columns: Mapping[str, str] | None = None,
    on_error: str = "stop",
    dates: str = "auto",
    dedupe: bool = False,
) -> CleanLog:
    """Check and convert a raw transaction log.

    Parameters
    ----------
    raw : RawLog, LogScan or DataFrame
        The log as read (:func:`clvxl.sources.read_log`) or scanned in batches
        (:func:`clvxl.sources.scan_log`), or a DataFrame whose first row is row 2
        (under a header on row 1). A scanned log is checked batch by batch and only
        the compact clean columns are kept; how dates and decimal commas are written
        is then decided from the whole log first, so the result is the same as for the
        log read whole.
    columns : mapping, optional
        Role → header name overrides (roles: ``customer_id``, ``date``, ``amount``,
        ``order_id``, ``cost``, ``margin``, ``quantity``). A ``margin`` column is
        turned into ``cost = amount − margin``.
    on_error : {"stop", "skip"}
        ``"stop"`` raises :class:`~clvxl.errors.BadRowsError` listing every bad row;
        ``"skip"`` sets bad rows aside in ``rejected`` and keeps the rest.
    dates : {"auto", "dayfirst", "monthfirst"}
        How to read dates such as 03/04/2024. ``"auto"`` decides from the log
        itself (a day above 12 tells) and refuses when nothing tells.
    dedupe : bool
        Lines repeating an earlier line exactly, order id included (an order exported
        twice), are always reported in ``notes``; with ``dedupe=True`` they are
        counted once.

    Returns
    -------
    CleanLog

    Examples
    --------
    >>> raw = pd.DataFrame({
    ...     "Customer": [" 00123", "7", "7"],
    ...     "Date": ["2024-01-05", "2024-02-01", "45352"],
    ...     "Amount": ["$1,234.50", "(12.00)", "20"],
    ... })
    >>> clean_transactions(raw).transactions[["customer_id", "date", "amount"]]
      customer_id       date   amount
    0       00123 2024-01-05  1234.50
    1           7 2024-02-01   -12.00
    2           7 2024-03-01    20.00
    """
    if on_error not in ("stop", "skip"):
        raise InputError(f"on_error must be 'stop' or 'skip', got {on_error!r}")
    if dates not in ("auto", "dayfirst", "monthfirst"):
        raise InputError(f"dates must be 'auto', 'dayfirst' or 'monthfirst', got {dates!r}")
    log = raw if isinstance(raw, (RawLog, LogScan)) else RawLog.from_frame(raw)
    if not log.columns:
        raise NoDataError(f"{log.source} has no header row")
    roles = find_columns(log.columns, columns)
    batches = log.batches()
    peeked = list(itertools.islice(batches, 2))
    many = len(peeked) > 1
    money = {log_column: None for role, log_column in roles.items() if role in _MONEY_ROLES}
    if many:
        dates, money = _conventions(log, roles, dates)
    report = _Report(on_error)
    ids = {role: _IdCodes(many) for role in _ID_ROLES if role in roles}
    parts = []
    for batch in _drain(peeked, batches):
        # Cleaning takes about twice what it cleans while it runs, and a long log's
        # clean columns grow with every batch: its batches are cleaned in pieces.
        for piece in batch.pieces(_PIECE_ROWS) if many else [batch]:
            part = _clean_batch(piece, roles, dates, money, report)
            del piece
            for role, codes in ids.items():
                codes.add(part.column(role).combine_chunks())
            parts.append(part.drop_columns(list(ids)))
        del batch  # before the next one is read
    rejected = report.finish(log.source)
    if not parts or sum(part.num_rows for part in parts) == 0:
        what = "no rows that could be read" if report.count else "no transactions"
        raise NoDataError(f"{log.source} has {what}")
    table = pa.concat_tables(parts)  # the batches stay chunks: nothing is copied
    release_memory()
    for role, codes in ids.items():  # back in their places: customer_id, day, amount, order_id
        table = table.add_column(0 if role == "customer_id" else 3, role, codes.finish())
    table, notes = _duplicates(table, dedupe)
    return CleanLog(table, rejected, log.source, notes)


def _drain(peeked: list[RawLog], rest: Iterator[RawLog]) -> Iterator[RawLog]:
    """The peeked batches, then the rest, holding none of them longer than needed."""
    while peeked:
        yield peeked.pop(0)
    yield from rest


_MONEY_ROLES = ("amount", "cost", "margin", "quantity")
#: Rows cleaned at a time when a log comes in more than one batch.
_PIECE_ROWS = 250_000


def _conventions(
    log: LogScan, roles: dict[str, str], dates: str
) -> tuple[str, dict[str, bool | None]]:
    """How the whole log writes dates and decimals, read before any batch is parsed."""
    money = [roles[r] for r in _MONEY_ROLES if r in roles]
    evidence = _DateEvidence()
    comma = dict.fromkeys(money, False)
    for batch in log.batches([roles["date"], *money]):
        if dates == "auto":
            evidence = evidence | _DateEvidence.in_column(batch.table[roles["date"]], batch)
        for column in money:
            comma[column] = comma[column] or _decimal_comma(batch.table[column])
    if dates == "auto" and evidence.example is not None:
        dates = _day_month_order(evidence, roles["date"])
    return dates, comma


def _clean_batch(
    log: RawLog,
    roles: dict[str, str],
    dates: str,
    decimal_comma: dict[str, bool | None],
    report: _Report,
) -> pa.Table:
    """One batch's clean rows in compact form; its bad rows go to ``report``."""
    table = log.table
    blank_row = np.logical_and.reduce([_is_blank(table[c]) for c in roles.values()])
    data = {}
    problems: list[tuple[str, np.ndarray, str]] = []

    data["customer_id"], bad = _parse_ids(table[roles["customer_id"]])
    problems.append((roles["customer_id"], bad, "a customer id (the cell is empty)"))
    data["date"], bad = _parse_dates(table[roles["date"]], roles["date"], log, dates)
    problems.append((roles["date"], bad, "a date between 1900-01-01 and 2100-12-31"))
    data["amount"], bad = _parse_money(table[roles["amount"]], decimal_comma[roles["amount"]])
    problems.append((roles["amount"], bad, "an amount: a finite number such as 1234.50"))
    if "order_id" in roles:
        data["order_id"], bad = _parse_ids(table[roles["order_id"]])
        problems.append((roles["order_id"], bad, "an order id (the cell is empty)"))
    for role in ("cost", "margin", "quantity"):
        if role in roles:
            data[role], bad = _parse_money(table[roles[role]], decimal_comma[roles[role]])
            problems.append((roles[role], bad, f"a {role}: a finite number"))
    if "margin" in data:
        margin = data.pop("margin")
        data["cost"] = data["amount"] - margin if "cost" not in data else data["cost"]

    keep = ~blank_row
    bad_any = np.zeros(len(table), dtype=bool)
    for _, bad, _ in problems:
        bad_any |= bad & keep
    report.add(log, problems, bad_any)
    rows = np.flatnonzero(keep & ~bad_any)
    columns = {}
    for name, values in data.items():
        if name in _ID_ROLES:
            columns[name] = text_array(values.iloc[rows])
        elif name == "date":
            columns["day"] = pa.array(day_numbers(values.to_numpy()[rows]))
        else:
            columns[name] = pa.array(np.asarray(values, dtype=float)[rows])
    columns["source_row"] = pa.array(log.row_numbers(rows).astype(np.int32))
    return pa.table(columns)


_ID_ROLES = ("customer_id", "order_id")


class _IdCodes:
    """Text ids of many batches coded against one dictionary.

    A single hash table of every distinct id (Arrow's ``unify_dictionaries``) needs
    about 100 bytes per id: 1 GB for ten million order ids. Here each batch's distinct
    ids are spread over :attr:`BUCKETS` buckets by a hash of their bytes, and each
    bucket is encoded on its own, so no table ever holds more than a bucket's share.
    The codes are exact: equal ids always land in the same bucket.

    Between batches a row is kept as its bucket and its place among the bucket's ids
    (5 bytes); :meth:`finish` turns those into codes and writes the dictionary once,
    bucket by bucket, so neither is ever held twice.
    """

    BUCKETS = 16

    def __init__(self, many: bool) -> None:
        self.many = many
        self.values: list[list[pa.Array]] = [[] for _ in range(self.BUCKETS)]
        self.sizes = np.zeros(self.BUCKETS, dtype=np.int64)
        self.rows: list[tuple[np.ndarray, np.ndarray]] = []
        self.whole: pa.DictionaryArray | None = None

    def add(self, ids: pa.Array) -> None:
        """Code one batch's ids (a string array); unless ``many``, the only batch."""
        encoded = pc.dictionary_encode(ids.cast(pa.string()))
        if not self.many:  # one batch: coded already
            if self.whole is not None:
                raise ValueError("ids of more than one batch need _IdCodes(many=True)")
            self.whole = encoded
            return
        bucket = _buckets(encoded.dictionary, self.BUCKETS)
        local = np.empty(len(bucket), dtype=np.int32)
        for k in range(self.BUCKETS):
            members = np.flatnonzero(bucket == k)
            local[members] = np.arange(self.sizes[k], self.sizes[k] + len(members))
            self.sizes[k] += len(members)
            self.values[k].append(encoded.dictionary.take(pa.array(members)))
        indices = encoded.indices.to_numpy()
        self.rows.append((bucket[indices], local[indices]))

    def finish(self) -> pa.DictionaryArray:
        """Every batch's ids, in order, against one dictionary."""
        if not self.many:
            return self.whole  # set: clean_transactions codes every batch, even an empty one
        starts = np.concatenate([[0], np.cumsum(self.sizes)[:-1]])  # of each bucket's ids
        code_of = np.empty(int(self.sizes.sum()), dtype=np.int32)  # bucket's id -> code
        dictionary = _StringsWriter(self.values)
        for k in range(self.BUCKETS):
            unique, indices = _unique(self.values[k])
            self.values[k] = []
            code_of[starts[k] : starts[k] + self.sizes[k]] = indices + dictionary.count
            dictionary.append(unique)
            del unique, indices
            release_memory()  # the bucket's ids, before the next bucket is written
        codes = np.empty(sum(len(local) for _, local in self.rows), dtype=np.int32)
        at = 0
        while self.rows:
            bucket, local = self.rows.pop(0)
            codes[at : at + len(local)] = code_of[starts[bucket] + local]
            at += len(local)
        return pa.DictionaryArray.from_arrays(pa.array(codes), dictionary.finish())


def _unique(parts: list[pa.Array]) -> tuple[pa.Array, np.ndarray]:
    """The distinct strings of ``parts`` (one after the other), and the index of each."""
    if len(parts) == 1:  # one batch's distinct ids: already distinct
        return parts[0], np.arange(len(parts[0]))
    encoded = pc.dictionary_encode(pa.concat_arrays(parts) if parts else pa.array([], pa.string()))
    return encoded.dictionary, encoded.indices.to_numpy()


class _StringsWriter:
    """One string array written piece by piece into space reserved up front.

    ``pa.concat_arrays`` would need every piece and the result at once; here each
    piece can be let go of as soon as it is written. The space is an upper bound
    (``pieces``, every string that may be written); what is never written is never
    touched, so it costs address space, not memory. Text of 2 GiB or more becomes a
    ``large_string`` array (64-bit offsets).
    """

    LARGE = 2**31  # bytes of text that need 64-bit offsets

    def __init__(self, pieces: list[list[pa.Array]]) -> None:
        arrays = [a for bucket in pieces for a in bucket]
        size = sum(_text_bytes(a) for a in arrays)
        self.large = size >= self.LARGE
        self.offsets = np.zeros(
            sum(len(a) for a in arrays) + 1, dtype=np.int64 if self.large else np.int32
        )
        self.data = np.empty(size, dtype=np.uint8)
        self.count = 0

    def append(self, strings: pa.Array) -> None:
        """Add ``strings`` (a string array without nulls) at the end."""
        n, size = len(strings), _text_bytes(strings)
        offsets = np.frombuffer(strings.buffers()[1], dtype=np.int32)[
            strings.offset : strings.offset + n + 1
        ]
        end = self.offsets[self.count]
        self.offsets[self.count + 1 : self.count + n + 1] = offsets[1:] - offsets[0] + end
        if size:
            data = np.frombuffer(strings.buffers()[2], dtype=np.uint8)
            self.data[end : end + size] = data[offsets[0] : offsets[-1]]
        self.count += n

    def finish(self) -> pa.Array:
        """The strings written, without a copy."""
        offsets = self.offsets[: self.count + 1]
        data = self.data[: offsets[-1]]
        kind = pa.LargeStringArray if self.large else pa.StringArray
        return kind.from_buffers(self.count, pa.py_buffer(offsets), pa.py_buffer(data))


def _text_bytes(strings: pa.Array) -> int:
    """How many bytes of text a string array holds."""
    offsets = strings.buffers()[1]
    if offsets is None or len(strings) == 0:
        return 0
    first, last = np.frombuffer(offsets, dtype=np.int32)[
        [strings.offset, strings.offset + len(strings)]
    ]
    return int(last - first)


def _buckets(strings: pa.Array, buckets: int) -> np.ndarray:
    """A bucket in ``range(buckets)`` for each string, from a hash of its bytes.

    The hash mixes the length with the first and the last eight bytes (all of a short
    id), each read as one 64-bit number, multiplied by large odd constants (Fibonacci
    hashing); ids that share all of those share a bucket, which costs balance, never
    exactness.
    """
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int32)[
        strings.offset : strings.offset + len(strings) + 1
    ]
    first, last = int(offsets[0]), int(offsets[-1])
    # The text with eight zero bytes on each side, so that every 8-byte window exists.
    padded = np.zeros(last - first + 16, dtype=np.uint8)
    if last > first:
        padded[8:-8] = np.frombuffer(strings.buffers()[2], dtype=np.uint8)[first:last]
    windows = np.lib.stride_tricks.sliding_window_view(padded, 8)
    starts, ends = offsets[:-1] - first, offsets[1:] - first
    length = np.minimum(ends - starts, 8)
    # Bytes past a short id's end (in its head) or before its start (in its tail) are
    # another id's: masked off. Little-endian: the head's own bytes are the low ones.
    key = windows[starts + 8].view("<u8").ravel()  # the head, a new array; "<": bytes in order
    key &= _LOW_BYTES[length]
    key *= np.uint64(0x9E3779B97F4A7C15)
    tail = windows[ends].view("<u8").ravel()
    tail &= ~_LOW_BYTES[8 - length]
    tail *= np.uint64(0xC2B2AE3D27D4EB4F)
    key ^= tail
    del tail
    key ^= (ends - starts).astype(np.uint64) * np.uint64(0x165667B19E3779F9)
    key *= np.uint64(0x9E3779B97F4A7C15)
    return ((key >> np.uint64(40)) % np.uint64(buckets)).astype(np.int8)


#: The low k bytes of a 64-bit number set, k = 0 ... 8.
_LOW_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)


class _Report:
    """The bad rows of all batches: each one with ``"skip"``, the first 20 with ``"stop"``."""

    LIMIT = 20

    def __init__(self, on_error: str) -> None:
        self.on_error = on_error
        self.records: list[BadRow] = []
        self.rows = 0  # bad rows listed
        self.count = 0  # bad rows in all

    def add(
        self, log: RawLog, problems: list[tuple[str, np.ndarray, str]], bad: np.ndarray
    ) -> None:
        positions = np.flatnonzero(bad)
        self.count += len(positions)
        if self.on_error == "stop":
            positions = positions[: self.LIMIT - self.rows]
        self.rows += len(positions)
        rows = log.row_numbers(positions) if len(positions) else np.array([], dtype=np.int64)
        for pos, row in zip(positions, rows, strict=True):
            for column, bad_cells, expected in problems:
                if bad_cells[pos]:
                    value = log.table[column].iloc[pos]
                    self.records.append(
                        BadRow(int(row), column, None if pd.isna(value) else value, expected)
                    )

    def finish(self, source: str) -> pd.DataFrame:
        """The rows set aside; with ``"stop"``, an error listing them when there are any."""
        if self.on_error == "stop" and self.records:
            raise BadRowsError(self.records, source, total_rows=self.count)
        return pd.DataFrame(
            [(b.row, b.column, b.value, b.expected) for b in self.records],
            columns=["row", "column", "value", "reason"],
        )


def _duplicates(table: pa.Table, dedupe: bool) -> tuple[pa.Table, tuple[str, ...]]:
    """Lines that repeat an earlier line exactly, when the log has order ids."""
    if "order_id" not in table.column_names:
        return table, ()
    repeated = _repeated_lines(table.drop_columns(["source_row"]))
    count = int(repeated.sum())
    if not count:
        return table, ()
    first = int(table.column("source_row").to_numpy()[repeated][0])
    if dedupe:
        return table.filter(pa.array(~repeated)), (
            f"{count} line(s) repeated an earlier line exactly (first at row {first}) and were counted once",
        )
    return table, (
        f"{count} line(s) repeat an earlier line exactly, order id included (first at row {first}); "
        "if the order was exported twice, use --dedupe to count them once",
    )


def _repeated_lines(table: pa.Table) -> np.ndarray:
    """Which lines repeat an earlier line exactly (order id included).

    ``table`` holds the ids as dictionary codes, so equal codes are equal ids. Only
    lines whose order id occurs more than once can repeat one, so the full comparison
    runs on those alone.
    """
    repeated = np.zeros(table.num_rows, dtype=bool)
    orders = one_array(table.column("order_id"))
    if all_distinct(orders):
        return repeated
    codes = orders.indices.to_numpy()
    candidates = (np.bincount(codes) > 1)[codes]
    if candidates.any():
        frame = pd.DataFrame(
            {
                name: one_array(column).indices.to_numpy()
                if pa.types.is_dictionary(column.type)
                else column.to_numpy()
                for name, column in zip(table.column_names, table.columns, strict=True)
            }
        )
        repeated[candidates] = frame[candidates].duplicated().to_numpy()
    return repeated


def one_array(column: pa.ChunkedArray) -> pa.Array:
    """A column of the clean table as one array: its only chunk as it is (combining
    would copy it)."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def all_distinct(ids: pa.DictionaryArray) -> bool:
    """Whether no id of a dictionary-encoded column of the clean table occurs twice.

    The dictionaries are built from the rows kept, so every entry is used: the ids are
    all distinct exactly when there are as many entries as rows.
    """
    return len(ids.dictionary) == len(ids)


def day_numbers(dates: pd.Series | np.ndarray) -> np.ndarray:
    """Days since :data:`DAY_ZERO` of each date, as int32."""
    return (np.asarray(dates, dtype="datetime64[D]") - DAY_ZERO).astype(np.int32)


def text_array(values: pd.Series) -> pa.Array:
    """``values`` as one contiguous Arrow string array (ids are compared as text)."""
    array = pa.array(values, from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return (
        array
        if pa.types.is_string(array.type) or pa.types.is_large_string(array.type)
        else array.cast(pa.string())
    )
