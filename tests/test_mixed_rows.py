"""A log mixing valid and broken rows at random places (docs/bad-input.md).

* By default (``on_error="stop"``) the run stops with one report naming exactly the broken
  rows, by the file's own line numbers (blank lines counted), each with its column: the
  first 20 rows and a count of the rest.
* With ``on_error="skip"`` the broken rows are set aside, each named, and the customer
  table is the one computed from a log holding only the valid rows.
* Through the command line: exit code 2 or 0, never a traceback.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clvxl.clean import clean_transactions
from clvxl.errors import BadRowsError
from clvxl.recalc import recalculate
from clvxl.sources import read_log

HEADER = ["customer_id", "order_date", "amount"]
EXPECTED = {
    "customer_id": "a customer id (the cell is empty)",
    "order_date": "a date between 1900-01-01 and 2100-12-31 (2024-01-31, 2024-01-31T10:00+02:00, 31.01.2024, 01/31/2024, 31 Jan 2024, 20240131 or an Excel serial)",
    "amount": "an amount: a finite number such as 1234.50, below 1,000,000,000,000,000 in size and written like the rest of its column",
}
#: What a broken cell holds, per column; "" is an empty cell (read as missing).
BROKEN = {
    "customer_id": ["", "   "],
    # Impossible calendar days ("2024-02-30") belong here too, but are read as a later date:
    # see test_impossible_calendar_days_are_bad_rows.
    "order_date": ["2024-13-45", "1899-06-01", "2100-13-01", "someday", ""],
    "amount": ["abc", "nan", "inf", "-inf", "", "12..5"],
}

customers = st.sampled_from(["c1", "c2", "c3", "c4", "c5", "00123", "=1+1"])
dates = st.dates(
    min_value=pd.Timestamp("2023-01-01").date(), max_value=pd.Timestamp("2024-12-31").date()
)
cents = st.integers(min_value=1, max_value=250_000)


@st.composite
def amounts(draw) -> tuple[str, float]:
    """An amount as the log writes it, and its value."""
    c = draw(cents)
    text = draw(st.sampled_from([f"{c / 100:.2f}", f"{c / 100:g}", f"${c / 100:,.2f}"]))
    return text, c / 100


@st.composite
def valid_rows(draw) -> list[str]:
    return [draw(customers), draw(dates).isoformat(), draw(amounts())[0]]


@st.composite
def broken_rows(draw) -> tuple[list[str], tuple[str, ...]]:
    """A row with one or two broken cells (never all three empty: that is a blank row)."""
    row = draw(valid_rows())
    columns = draw(
        st.lists(st.sampled_from(HEADER), min_size=1, max_size=2, unique=True).map(sorted)
    )
    for column in columns:
        row[HEADER.index(column)] = draw(st.sampled_from(BROKEN[column]))
    return row, tuple(columns)


@st.composite
def mixed_logs(draw):
    """(lines of the file, {file line: (cells, broken columns)}, the valid rows in order)."""
    valid = draw(st.lists(valid_rows(), min_size=1, max_size=30))
    broken = draw(st.lists(broken_rows(), min_size=1, max_size=25))
    order = draw(st.permutations([None] * len(valid) + list(range(len(broken)))))
    blank_before = draw(st.sets(st.integers(0, len(order) - 1), max_size=3))
    lines: list[list[str] | None] = [HEADER]
    bad: dict[int, tuple[list[str], tuple[str, ...]]] = {}
    rows = iter(valid)
    for position, which in enumerate(order):
        if position in blank_before:
            lines.append(None)  # a blank line: skipped, but counted in line numbers
        if which is None:
            lines.append(next(rows))
        else:
            row, columns = broken[which]
            lines.append(row)
            bad[len(lines)] = (row, columns)  # 1-based file line
    return lines, bad, valid


def write_csv(path: Path, lines: list[list[str] | None]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        for line in lines:
            if line is None:
                fh.write("\n")
            else:
                writer.writerow(line)


def expected_cells(bad: dict) -> set[tuple[int, str]]:
    return {(row, column) for row, (_, columns) in bad.items() for column in columns}


def check_value(reported: object, cell: str, missing: object = None) -> None:
    """The value shown is the cell's text; an empty cell shows as None (NaN in a table)."""
    if cell == "":
        assert reported is missing or (missing is not None and pd.isna(reported))
    elif cell != "nan":  # the CSV reader takes the text "nan" for a missing value
        assert reported == cell


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(mixed_logs())
def test_broken_rows_are_named_exactly_and_skipping_them_equals_the_valid_log(log):
    lines, bad, valid = log
    with tempfile.TemporaryDirectory() as folder:
        mixed, clean = Path(folder) / "log.csv", Path(folder) / "valid.csv"
        write_csv(mixed, lines)
        write_csv(clean, [HEADER, *valid])
        before = mixed.read_bytes()

        # (i) stop: one report naming exactly the broken rows (the first 20) and counting all.
        with pytest.raises(BadRowsError) as caught:
            recalculate(read_log(mixed))
        error = caught.value
        first = sorted(bad)[:20]
        assert {(b.row, b.column) for b in error.bad_rows} == expected_cells(
            {r: bad[r] for r in first}
        )
        assert {b.expected for b in error.bad_rows} <= set(EXPECTED.values())
        assert all(b.expected == EXPECTED[b.column] for b in error.bad_rows)
        for b in error.bad_rows:
            check_value(b.value, bad[b.row][0][HEADER.index(b.column)])
        message = str(error)
        n = len(bad)
        assert message.startswith(
            f"{n} bad row{'s' if n != 1 else ''} in log.csv; nothing was computed:\n"
        )
        for row in first:
            for column in bad[row][1]:
                assert f"  row {row}, column {column!r}: " in message
        if n > 20:
            assert f"  ... and {n - 20} more bad rows" in message
            assert f"row {sorted(bad)[20]}, " not in message
        else:
            assert "more bad rows" not in message

        # (ii) skip: every broken cell set aside with its reason; the table is the valid log's.
        skipped = recalculate(read_log(mixed), on_error="skip")
        rejected = skipped.rejected
        assert set(zip(rejected["row"], rejected["column"], strict=True)) == expected_cells(bad)
        assert len(rejected) == len(expected_cells(bad))
        assert (rejected["reason"] == rejected["column"].map(EXPECTED)).all()
        for row, column, value in zip(
            rejected["row"], rejected["column"], rejected["value"], strict=True
        ):
            check_value(value, bad[row][0][HEADER.index(column)], missing=np.nan)
        reference = recalculate(read_log(clean))
        assert len(reference.rejected) == 0
        pd.testing.assert_frame_equal(skipped.customers, reference.customers)
        pd.testing.assert_frame_equal(skipped.kpis, reference.kpis)
        assert skipped.settings == reference.settings
        assert mixed.read_bytes() == before


def test_the_valid_rows_are_really_counted():
    """The property above compares two computations; pin one of them to hand-worked values."""
    lines = [
        HEADER,
        ["c1", "2024-01-05", "$1,000.50"],
        ["c1", "2024-13-45", "10"],
        None,
        ["c2", "2024-02-01", "abc"],
        ["c2", "2024-03-01", "20"],
        ["", "2024-03-02", "5"],
        ["c1", "2024-04-01", "9.5"],
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.csv"
        write_csv(path, lines)
        result = recalculate(read_log(path), on_error="skip")
    table = result.customers.set_index("customer_id")
    assert table["revenue"].to_dict() == {"c1": 1010.0, "c2": 20.0}
    assert table["orders"].to_dict() == {"c1": 2, "c2": 1}
    assert result.rejected[["row", "column"]].values.tolist() == [
        [3, "order_date"],
        [5, "amount"],
        [7, "customer_id"],
    ]


def test_impossible_calendar_days_are_bad_rows():
    raw = pd.DataFrame(
        {
            "customer": ["a", "b", "c", "d"],
            "date": ["2024-01-31", "2024-02-30", "2023-02-29", "2024-04-31"],
            "amount": ["1", "2", "3", "4"],
        }
    )
    with pytest.raises(BadRowsError) as caught:
        clean_transactions(raw)
    assert [(b.row, b.column, b.value) for b in caught.value.bad_rows] == [
        (3, "date", "2024-02-30"),
        (4, "date", "2023-02-29"),
        (5, "date", "2024-04-31"),
    ]


# --- through the command line: never a traceback -----------------------------------------

MIXED = [
    HEADER,
    ["c1", "2024-01-05", "10"],
    ["c1", "1899-06-01", "inf"],
    ["c2", "2024-02-01", "12.50"],
    ["", "2024-03-01", "abc"],
    ["c2", "2024-04-01", "7"],
    ["c3", "2024-05-01", ""],
]


def cli(source: Path, output: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "clvxl.cli", "recalc", str(source), "-o", str(output), *options],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_stops_on_mixed_rows_naming_them_without_traceback(tmp_path):
    source = tmp_path / "log.csv"
    write_csv(source, MIXED)
    before = source.read_bytes()
    done = cli(source, tmp_path / "out.csv")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        "clvxl: 3 bad rows in log.csv; nothing was computed:",
        "  row 3, column 'order_date': '1899-06-01' — expected a date between 1900-01-01 and 2100-12-31 (2024-01-31, 2024-01-31T10:00+02:00, 31.01.2024, 01/31/2024, 31 Jan 2024, 20240131 or an Excel serial)",
        "  row 3, column 'amount': 'inf' — expected an amount: a finite number such as 1234.50, below 1,000,000,000,000,000 in size and written like the rest of its column",
        "  row 5, column 'customer_id': None — expected a customer id (the cell is empty)",
        "  row 5, column 'amount': 'abc' — expected an amount: a finite number such as 1234.50, below 1,000,000,000,000,000 in size and written like the rest of its column",
        "  row 7, column 'amount': None — expected an amount: a finite number such as 1234.50, below 1,000,000,000,000,000 in size and written like the rest of its column",
        "Fix these rows, or use --on-error skip to set them aside and compute with the rest.",
    ]
    assert source.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv"]


def test_cli_skip_on_mixed_rows_equals_the_valid_rows_alone(tmp_path):
    source, valid = tmp_path / "log.csv", tmp_path / "valid.csv"
    write_csv(source, MIXED)
    write_csv(valid, [MIXED[0], MIXED[1], MIXED[3], MIXED[5]])
    done = cli(source, tmp_path / "out.parquet", "--on-error", "skip")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "2 customers written to" in done.stdout
    assert "3 bad rows set aside" in done.stdout
    rejected = pd.read_csv(tmp_path / "out.rejected.csv")
    assert rejected[["row", "column"]].values.tolist() == [
        [3, "order_date"],
        [3, "amount"],
        [5, "customer_id"],
        [5, "amount"],
        [7, "amount"],
    ]
    written = pd.read_parquet(tmp_path / "out.parquet")
    reference = recalculate(read_log(valid)).customers
    pd.testing.assert_frame_equal(written, reference, check_dtype=False)
    assert written["customer_id"].tolist() == ["c1", "c2"]
    assert written["revenue"].tolist() == [10.0, 19.5]
