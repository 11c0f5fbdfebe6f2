"""Dates: real dates, ISO or compact text, day-month-year text, Excel serial numbers.

The accepted range, the Excel epoch and the day numbering of the clean table are stated
here once.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
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
    "parse_date",
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
DATE_EXPECTED = (
    f"a date between {FIRST_DATE:%Y-%m-%d} and {LAST_DATE:%Y-%m-%d} (2024-01-31, "
    "2024-01-31T10:00+02:00, 31.01.2024, 01/31/2024, 31 Jan 2024, 20240131 or an Excel serial)"
)


def parse_date(value: object, name: str) -> pd.Timestamp:
    """One date given as a setting (``--as-of``): a day, without a time or a zone.

    Parameters
    ----------
    value : object
        The date: a datetime or date without a time zone, an Excel serial number, or
        text in one of the forms of :data:`DATE_EXPECTED` without a time or a zone.
    name : str
        The setting's name, for the error message.

    Returns
    -------
    Timestamp
        The day at midnight, without a time zone.

    Raises
    ------
    InputError
        If ``value`` has a time or a time zone, is a bool, or is not a date between
        :data:`FIRST_DATE` and :data:`LAST_DATE`.

    Examples
    --------
    >>> parse_date("2024-06-30", "as_of"), parse_date(45473, "as_of")
    (Timestamp('2024-06-30 00:00:00'), Timestamp('2024-06-30 00:00:00'))
    >>> parse_date("2024-06-30T00:00+02:00", "as_of")
    Traceback (most recent call last):
    ...
    clvxl.errors.InputError: as_of must be a day such as 2024-06-30, without a time or a time zone, got '2024-06-30T00:00+02:00'
    """
    refused = InputError(
        f"{name} must be a day such as 2024-06-30, without a time or a time zone, got {value!r}"
    )
    if isinstance(value, str):
        text = value.strip()
        if re.search(r"[:+]|\dT|\dZ$", text):  # a time or a zone
            raise refused
        values = pd.Series([text], dtype=object)
    elif isinstance(value, bool) or getattr(value, "tzinfo", None) is not None:
        raise refused
    else:
        values = pd.Series([value], dtype=object)
    parsed, bad = _parse_date_values(
        values, name, RawLog.from_frame(pd.DataFrame({name: values})), "auto", None
    )
    if bad[0]:
        raise InputError(f"{name} must be {DATE_EXPECTED}, got {value!r}")
    return parsed.iloc[0]


def day_numbers(dates: pd.Series | np.ndarray) -> np.ndarray:
    """Days since :data:`DAY_ZERO` of each date, as int32.

    Parameters
    ----------
    dates : Series or ndarray of datetime64, shape (n,)
        The dates; a time of day is dropped (truncated to the day).

    Returns
    -------
    ndarray of int32, shape (n,)
        Days since 1970-01-01 (negative before it).

    Examples
    --------
    >>> day_numbers(np.array(["1970-01-01", "2024-01-31"], dtype="datetime64[D]")).tolist()
    [0, 19753]
    """
    return (np.asarray(dates, dtype="datetime64[D]") - DAY_ZERO).astype(np.int32)



def parse_dates(
    values: pd.Series, column: str, rows: RawLog, dates: str, timezone: str | None = None
) -> tuple[pd.Series, np.ndarray]:
    """Dates as datetimes, ISO/compact text, day-month-year text or Excel serial numbers.

    Text dates are parsed once per distinct text (a log has a few thousand days, not
    millions): each distinct text stands at the position of its first row, so messages
    name the first row that shows it.

    Parameters
    ----------
    values : Series, shape (n,)
        The date column as read: datetimes (with or without a zone), numbers (Excel
        serials or yyyymmdd) or text (:data:`DATE_EXPECTED`).
    column : str
        The column's name, for messages.
    rows : RawLog
        The log the column comes from, for the rows messages name.
    dates : {"auto", "dayfirst", "monthfirst"}
        The order of day and month in d/m/y or m/d/y text; "auto" decides from the
        dates themselves (:func:`day_month_order`), dotted dates being day first.
    timezone : str, optional
        An IANA time zone: times with a zone or an offset count on their day in this
        zone. Default: the day as written (or in the column's own zone).

    Returns
    -------
    parsed : Series of datetime64[ns], shape (n,)
        Each date at midnight, on ``values``' index; NaT where the value is missing
        or not a date.
    bad : ndarray of bool, shape (n,)
        True where the value is missing, not a date, or outside
        :data:`FIRST_DATE` to :data:`LAST_DATE`.

    Raises
    ------
    InputError
        If ``dates`` is "auto" and slashed dates do not show whether the day or the
        month comes first, or some show one and others the other.
    """
    if values.dtype == object or not pd.api.types.is_string_dtype(values.dtype):
        return _parse_date_values(values, column, rows, dates, timezone)
    encoded = pc.dictionary_encode(text_array(values))
    distinct = len(encoded.dictionary)
    codes = pc.fill_null(encoded.indices, distinct).to_numpy()  # missing: one more slot
    first = np.full(distinct + 1, len(values), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(values) - 1, -1, -1)
    texts = pa.concat_arrays([encoded.dictionary, pa.nulls(1, encoded.dictionary.type)])
    texts = texts.to_pandas().set_axis(first)
    parsed, bad = _parse_date_values(texts, column, rows, dates, timezone)
    return pd.Series(parsed.to_numpy()[codes], index=values.index), bad[codes]


def _parse_date_values(
    values: pd.Series, column: str, rows: RawLog, dates: str, timezone: str | None
) -> tuple[pd.Series, np.ndarray]:
    n = len(values)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        if values.dt.tz is not None:  # the wall time in the column's zone, or in ``timezone``
            values = (values.dt.tz_convert(timezone) if timezone else values).dt.tz_localize(None)
        out = _in_range(values)
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
                wall = values[is_time].map(functools.partial(_wall_time, timezone=timezone))
                out[is_time] = _in_range(pd.to_datetime(wall, errors="coerce"))
            if is_num.any():
                out[is_num] = _from_numbers(
                    values[is_num].astype(float).to_numpy(), values.index[is_num]
                )
            text_mask = (kind == "text").to_numpy()
        else:
            text_mask = ~values.isna().to_numpy()
        if text_mask.any():
            out[text_mask] = _from_text(
                values[text_mask].astype(str).str.strip(), column, rows, dates, timezone
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


def _from_text(
    text: pd.Series, column: str, log: RawLog, dates: str, timezone: str | None
) -> pd.Series:
    """Plain YYYY-MM-DD at Arrow speed; only the rest goes through the slower forms."""
    array = text_array(text)
    parsed = pc.strptime(array, format="%Y-%m-%d", unit="s", error_is_null=True)
    # strptime rolls impossible days over (2024-02-30 -> 2024-03-01): such dates go to
    # the slower forms, which refuse them.
    day = pc.extract_regex(array, r"^\s*\d{4}-\d{1,2}-(?P<day>\d{1,2})\s*$").field("day")
    day = pc.if_else(pc.equal(day, ""), pa.scalar(None, pa.string()), day)  # no match
    rolled = pc.not_equal(pc.day(parsed), pc.cast(day, pa.int64()))
    # Outside the range (2500-01-01) a second count would wrap around as nanoseconds.
    outside = pc.or_(
        pc.less(parsed, pa.scalar(FIRST_DATE, parsed.type)),
        pc.greater(parsed, pa.scalar(LAST_DATE, parsed.type)),
    )
    wrong = pc.fill_null(pc.or_(rolled, outside), False)
    parsed = pc.if_else(wrong, pa.scalar(None, parsed.type), parsed)
    out = pd.Series(
        parsed.to_numpy(zero_copy_only=False).astype("datetime64[ns]"), index=text.index
    )
    rest = out.isna().to_numpy() & (text != "").to_numpy()
    if rest.any():
        out[rest] = _from_other_text(text[rest], column, log, dates, timezone)
    return out


def _from_other_text(
    text: pd.Series, column: str, log: RawLog, dates: str, timezone: str | None
) -> pd.Series:
    """The accepted forms other than plain YYYY-MM-DD (:data:`DATE_FORMS`); NaT elsewhere.

    The day is the calendar day as written: ``2024-12-20 19:45 -0500`` is 2024-12-20
    whatever the offset (the shop's own day), unless ``timezone`` converted it first.
    Years are checked before any timestamp is built, so 2500-01-01 or 1500-06-01 are
    bad rows, never wrapped around.
    """
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    iso = text.str.extract(_ISO)
    found = iso["year"].notna()
    if found.any():
        days = _calendar(iso[found], _month_number(iso.loc[found, "month"]))
        out[found] = _in_zone(days, iso[found], timezone)
    compact = text.str.fullmatch(r"\d{8}")
    if compact.any():
        out[compact] = pd.to_datetime(text[compact], format="%Y%m%d", errors="coerce")
    serial = text.str.fullmatch(_SERIAL_TEXT)
    if serial.any():
        out[serial] = _from_numbers(text[serial].astype(float).to_numpy(), text.index[serial])
    parts = text.str.extract(_SLASHED)
    dotted = text.str.match(_DOTTED)  # 31.01.2024: day first, as wherever dots are used
    for these in (parts[0].notna() & dotted, parts[0].notna() & ~dotted):
        if not these.any():
            continue
        order = (
            dates
            if dates in ("dayfirst", "monthfirst")
            else "dayfirst"
            if dotted[these].all()
            else day_month_order(DateEvidence.of(parts[these], log), column)
        )
        first, second = parts.loc[these, 0].astype(int), parts.loc[these, 1].astype(int)
        year = parts.loc[these, 2].astype(int)
        year = year.where(year >= 100, year + np.where(year < 70, 2000, 1900))
        day, month = (first, second) if order == "dayfirst" else (second, first)
        days = _calendar(pd.DataFrame({"year": year, "month": month, "day": day}), month)
        out[these] = _in_zone(days, parts[these], timezone)
    for form in _NAMED:
        named = text.str.extract(form)
        hit = named["year"].notna()
        if hit.any():
            days = _calendar(named[hit], _month_number(named.loc[hit, "month"]))
            out[hit] = _in_zone(days, named[hit], timezone)
    return out


def _calendar(parts: pd.DataFrame, month: pd.Series) -> pd.Series:
    """Dates from year, month and day parts; NaT for impossible days and other years."""
    year, day = parts["year"].astype(float), parts["day"].astype(float)
    month = month.astype(float)
    inside = year.between(FIRST_DATE.year, LAST_DATE.year) & month.between(1, 12) & day.between(1, 31)
    frame = pd.DataFrame({"year": year, "month": month, "day": day})[inside].astype(int)
    out = pd.Series(pd.NaT, index=parts.index, dtype="datetime64[ns]")
    if len(frame):
        out[inside] = pd.to_datetime(frame, errors="coerce")
    return out


def _in_zone(days: pd.Series, parts: pd.DataFrame, timezone: str | None) -> pd.Series:
    """The day in ``timezone`` of each time written with an offset; the rest as written."""
    zoned = parts["zone"].notna() & days.notna()
    if timezone is None or not zoned.any():
        return days
    p = parts[zoned]
    hour = p["hour"].astype(int) % 12 + np.where(p["ampm"].str.lower() == "pm", 12, 0)
    hour = hour.where(p["ampm"].notna(), p["hour"].astype(int))
    zone = p["zone"].str.replace(r"^(Z|UTC|GMT)$", "+00:00", regex=True).str.replace(":", "")
    zone = zone.where(zone.str.len() == 5, zone + "00")  # +05 -> +0500
    sign = np.where(zone.str[0] == "-", -1, 1)
    offset = sign * (zone.str[1:3].astype(int) * 60 + zone.str[3:5].astype(int))
    utc = days[zoned] + pd.to_timedelta(hour * 60 + p["minute"].astype(int) - offset, unit="min")
    local = utc.dt.tz_localize("UTC").dt.tz_convert(timezone).dt.tz_localize(None)
    out = days.copy()
    out[zoned] = local.dt.normalize()
    return out


def _wall_time(value: object, timezone: str | None) -> object:
    """A date or time as its wall time: in ``timezone`` when given and the value has a zone."""
    if getattr(value, "tzinfo", None) is None:
        return value
    if timezone is not None:
        value = value.astimezone(zoneinfo.ZoneInfo(timezone))
    return value.replace(tzinfo=None)


def _month_number(month: pd.Series) -> pd.Series:
    """Month numbers from digits or English month names ("Jan", "january")."""
    names = month.str.lower().str[:3].map(_MONTHS)
    return names.where(names.notna(), pd.to_numeric(month, errors="coerce"))


_MONTHS = {m: k for k, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
)}
#: A time of day after a date: hh:mm[:ss[.fff]], AM/PM, then a zone: Z, UTC, ±hh[:mm].
_TIME = (
    r"(?:[T ]\s*(?P<hour>[01]?\d|2[0-3]):(?P<minute>[0-5]\d)(?::[0-5]\d(?:[.,]\d{1,9})?)?"
    r"(?:\s*(?P<ampm>[AaPp][Mm]))?"
    r"(?:\s*(?P<zone>Z|UTC|GMT|[+-](?:[01]\d|2[0-3]):?[0-5]\d|[+-](?:[01]\d|2[0-3])))?)?"
)
_ISO = re.compile(
    r"^(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})" + _TIME + r"$"
)
_NAMED = (
    re.compile(  # 5 Jan 2024, 05-Jan-2024
        r"^(?P<day>\d{1,2})[ -](?P<month>[A-Za-z]{3,9})\.?[ -](?P<year>\d{4})" + _TIME + r"$"
    ),
    re.compile(  # Jan 5, 2024
        r"^(?P<month>[A-Za-z]{3,9})\.? (?P<day>\d{1,2}),? (?P<year>\d{4})" + _TIME + r"$"
    ),
)
#: d/m/y or m/d/y (slashes, dots or dashes; two- or four-digit years), a time allowed.
_SLASHED = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})" + _TIME + r"$")
#: d.m.y: dots are written day first (German, Finnish, Dutch ... dates), so they need no evidence.
_DOTTED = r"^\d{1,2}\.\d{1,2}\."
#: Excel serial numbers written as text: five digits (1927-05-18 on), a time part allowed.
#: "2024" or "-1" are not dates; as serials they would be 1905 or before 1900.
_SERIAL_TEXT = r"\d{5}(?:\.\d+)?"


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
        maybe = pc.fill_null(pc.match_substring_regex(array, r"^\s*\d{1,2}[/\-]\d"), False)
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
    """Day or month first, as the dates show; an error when they do not tell.

    Parameters
    ----------
    evidence : DateEvidence
        Whether a first or a second number above 12 was seen, and an example.
    column : str
        The column's name, for the error message.

    Returns
    -------
    {"dayfirst", "monthfirst"}
        The order the dates show.

    Raises
    ------
    InputError
        If no number above 12 tells the order, or both positions hold one.
    """
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

