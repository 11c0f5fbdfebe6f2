"""Dates: real dates, ISO or compact text, day-month-year text, Excel serial numbers.

The accepted range, the Excel epoch and the day numbering of the clean table are stated
here once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from clvxl._runtime.arrow import text_array
from clvxl.errors import InputError
from clvxl.sources import RawLog

__all__ = [
    "DATE_EXPECTED",
    "DAY_ZERO",
    "EXCEL_EPOCH",
    "FIRST_DATE",
    "LAST_DATE",
    "DateEvidence",
    "day_month_order",
    "day_numbers",
    "parse_dates",
]

FIRST_DATE = pd.Timestamp("1900-01-01")
LAST_DATE = pd.Timestamp("2100-12-31")
# Excel serial day 1 is 1900-01-01; counting from 1899-12-30 absorbs Excel's
# phantom 1900-02-29 for every date from 1900-03-01 on.
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_EXCEL_LAST_SERIAL = 73415  # 2100-12-31
#: Day 0 of the compact table's ``day`` column (and of the summary query's days).
DAY_ZERO = np.datetime64("1970-01-01", "D")
#: What a bad date cell should have held, for the bad-row report.
DATE_EXPECTED = f"a date between {FIRST_DATE:%Y-%m-%d} and {LAST_DATE:%Y-%m-%d}"


def day_numbers(dates: pd.Series | np.ndarray) -> np.ndarray:
    """Days since :data:`DAY_ZERO` of each date, as int32."""
    return (np.asarray(dates, dtype="datetime64[D]") - DAY_ZERO).astype(np.int32)


_SLASHED = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?:[ T].*)?\s*$")


def parse_dates(
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
            else day_month_order(DateEvidence.of(parts[slashed], log), column)
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
class DateEvidence:
    """What a log's d/m/y-or-m/d/y dates show about their order."""

    first_over_12: bool = False
    second_over_12: bool = False
    example: str | None = None
    example_row: int = 0

    @classmethod
    def of(cls, parts: pd.DataFrame, log: RawLog) -> DateEvidence:
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
    def in_column(cls, values: pd.Series, log: RawLog) -> DateEvidence:
        """From a whole column as read (only its text values can be slashed dates)."""
        if values.dtype == object:
            values = values[values.map(_kind, na_action="ignore") == "text"]
        elif not pd.api.types.is_string_dtype(values.dtype):
            return cls()
        array = text_array(values)
        maybe = pc.fill_null(pc.match_substring_regex(array, r"^\s*\d{1,2}[/.\-]\d"), False)
        text = values[maybe.to_numpy(zero_copy_only=False)].astype(str).str.strip()
        return cls.of(text.str.extract(_SLASHED).dropna(subset=[0]), log)

    def __or__(self, other: DateEvidence) -> DateEvidence:
        first = self if self.example is not None else other
        return DateEvidence(
            self.first_over_12 or other.first_over_12,
            self.second_over_12 or other.second_over_12,
            first.example,
            first.example_row,
        )


def day_month_order(evidence: DateEvidence, column: str) -> str:
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
