"""One date parser: the accepted forms read to the day as written, everything else a bad
row naming the forms and the range; time zones in text, parquet and DuckDB; --as-of."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clvxl.clean import clean_transactions
from clvxl.clean.dates import DATE_EXPECTED
from clvxl.cli import main
from clvxl.errors import InputError
from clvxl.recalc import Settings, recalculate
from clvxl.sources import read_log, scan_log


def days(values: list[object], **options) -> tuple[list[str], list[object]]:
    """The days read from ``values``, and the values set aside as bad."""
    raw = pd.DataFrame({"customer": ["a"] * len(values), "date": values, "amount": [1] * len(values)})
    log = clean_transactions(raw, on_error="skip", **options)
    read = [f"{d:%Y-%m-%d}" for d in log.transactions["date"]]
    return read, log.rejected["value"].tolist()


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2024-01-05T10:00:00Z", "2024-01-05"),
        ("2024-01-05T23:59:59.123456+02:00", "2024-01-05"),
        ("2024-01-05T10:00:00-0500", "2024-01-05"),
        ("2024-12-20 19:45:30 -0500", "2024-12-20"),  # UTC's day would be 12-21
        ("2024-03-15 23:30 -04", "2024-03-15"),
        ("2024-01-05 10:00 UTC", "2024-01-05"),
        ("20240105", "2024-01-05"),
        ("45296.75", "2024-01-05"),  # an Excel serial with a time part
        ("5.1.2024", "2024-01-05"),  # dots: day first
        ("5 Jan 2024", "2024-01-05"),
        ("January 5, 2024 3:04 PM", "2024-01-05"),
        ("05-Jan-2024", "2024-01-05"),
    ],
)
def test_each_accepted_form_is_the_day_as_written(text, day):
    assert days([text]) == ([day], [])


def test_mixed_offsets_in_one_column_need_no_option():
    values = ["2024-03-09 23:00:00 -0500", "2024-03-11 23:00:00 -0400", "2024-03-12T01:00:00Z"]
    assert days(values) == (["2024-03-09", "2024-03-11", "2024-03-12"], [])


@pytest.mark.parametrize(
    "text",
    [
        "-1", "-0", "Jan", "T10:00", "now", "today", "10:00", "2024", "1 2 3", "2024Q1",
        "12/31/2999", "Jan 1 3000", "1500-06-01 12:00", "2500-01-01", "2262-04-12",
        "2024-02-30", "1899-12-31", "2024-01-05T25:00", "2024-01-05 10:00 +2500",
    ],
)
def test_odd_text_is_a_bad_row_naming_the_forms_and_the_range(text):
    raw = pd.DataFrame({"customer": ["a", "a"], "date": ["2024-01-01", text], "amount": [1, 2]})
    log = clean_transactions(raw, on_error="skip", dates="monthfirst")
    assert log.rejected.to_dict("records") == [
        {"row": 3, "column": "date", "value": text, "reason": DATE_EXPECTED}
    ]
    assert "between 1900-01-01 and 2100-12-31" in DATE_EXPECTED
    assert "2024-01-31T10:00+02:00" in DATE_EXPECTED


def test_a_time_zone_converts_first():
    values = ["2024-01-01T23:30:00-05:00", "2024-01-01T23:30:00+05:00", "2024-01-01 23:30"]
    # Berlin is UTC+1 in January: 04:30 on the 2nd, 19:30 on the 1st; no offset: as written.
    assert days(values, timezone="Europe/Berlin") == (
        ["2024-01-02", "2024-01-01", "2024-01-01"],
        [],
    )


def test_tz_aware_parquet_and_duckdb_times_are_the_day_in_their_zone(tmp_path):
    times = pd.to_datetime(["2024-01-01 23:30", "2024-06-30 22:00"]).tz_localize("UTC")
    frame = pd.DataFrame({"customer": ["a", "b"], "date": times, "amount": [1.0, 2.0]})
    path = tmp_path / "log.parquet"
    pq.write_table(pa.Table.from_pandas(frame), path)
    for raw in (read_log(path), scan_log(path)):
        assert [f"{d:%Y-%m-%d}" for d in clean_transactions(raw).transactions["date"]] == [
            "2024-01-01",
            "2024-06-30",
        ]
    berlin = clean_transactions(read_log(path), timezone="Europe/Berlin").transactions["date"]
    assert [f"{d:%Y-%m-%d}" for d in berlin] == ["2024-01-02", "2024-07-01"]
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        table = con.execute(
            "SELECT 'a' AS customer, TIMESTAMPTZ '2024-01-01 23:30:00+00' AS date, 1.0 AS amount"
        ).df()
    log = clean_transactions(table, timezone="Asia/Tokyo")
    assert [f"{d:%Y-%m-%d}" for d in log.transactions["date"]] == ["2024-01-02"]


def test_mixed_aware_python_times_in_one_column():
    east = dt.timezone(dt.timedelta(hours=2))
    west = dt.timezone(dt.timedelta(hours=-5))
    values = [dt.datetime(2024, 1, 1, 23, 0, tzinfo=east), dt.datetime(2024, 1, 2, 1, 0, tzinfo=west)]
    assert days(values) == (["2024-01-01", "2024-01-02"], [])


@pytest.mark.parametrize("value", ["NaT", "nan", "2024-06-30+02:00", "2024-06-30T10:00", "soon"])
def test_as_of_that_is_not_a_day_is_refused(value):
    with pytest.raises(InputError, match="as_of must be"):
        Settings(as_of=value)


def test_as_of_nat_through_the_command_line(tmp_path, capsys):
    source = tmp_path / "log.csv"
    source.write_text("customer,date,amount\na,2024-01-01,1\n")
    code = main(["recalc", str(source), "-o", str(tmp_path / "o.csv"), "--as-of", "NaT"])
    _, err = capsys.readouterr()
    assert code == 2 and "as_of must be a date between 1900-01-01 and 2100-12-31" in err


# A log written with a random offset on every row is the same log once the offsets are
# read: with --timezone, each time counts on its day in that zone, whatever offset it was
# written with.
ZONE = "America/New_York"


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from("abcde"),
            st.integers(0, 400 * 24 * 60),  # minutes after 2024-01-01 00:00 UTC
            st.integers(-12 * 4, 14 * 4),  # the offset it is written with, in quarter hours
            st.integers(1, 500),
        ),
        min_size=2,
        max_size=40,
    )
)
def test_random_offsets_per_row_give_the_customer_table_of_local_dates(rows):
    start = pd.Timestamp("2024-01-01", tz="UTC")
    instants = [start + pd.Timedelta(minutes=m) for _, m, _, _ in rows]
    local = [f"{t.tz_convert(ZONE):%Y-%m-%d}" for t in instants]
    written = []
    for t, (_, _, quarters, _) in zip(instants, rows, strict=True):
        offset = pd.Timedelta(minutes=15 * quarters)
        sign, size = ("+" if quarters >= 0 else "-"), abs(15 * quarters)
        written.append(f"{(t + offset).tz_localize(None):%Y-%m-%dT%H:%M:%S}{sign}{size // 60:02d}:{size % 60:02d}")
    base = {"customer": [c for c, *_ in rows], "amount": [float(a) for *_, a in rows]}
    as_local = recalculate(pd.DataFrame({**base, "date": local}), sheets=False)
    as_written = recalculate(pd.DataFrame({**base, "date": written}), sheets=False, timezone=ZONE)
    columns = ["customer_id", "first_purchase", "last_purchase", "orders", "frequency", "revenue"]
    pd.testing.assert_frame_equal(as_written.customers[columns], as_local.customers[columns])
    assert np.array_equal(as_written.customers["T"], as_local.customers["T"])
