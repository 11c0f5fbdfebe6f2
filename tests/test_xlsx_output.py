"""A workbook output is complete or refused (issue 13): what a sheet cannot hold whole
is refused with the reason, never written incomplete; a text log keeps its types."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import python_calamine as pc

from clvxl.cli import main
from clvxl.errors import InputError
from clvxl.excel import layout
from clvxl.excel.workbook import check_fits

LOG = "customer_id,order_date,amount\na,2024-01-01,10.5\nb,2024-01-05,20\na,2024-02-01,5\n"


def refused(capsys, source: Path, output: Path) -> str:
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    assert main(["recalc", str(source), "-o", str(output), "--quiet"]) == 2
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before
    assert not output.exists() and not list(output.parent.glob(f".{output.name}*"))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def test_headers_that_differ_only_in_case_are_refused(tmp_path, capsys):
    source = tmp_path / "log.csv"
    source.write_text("customer_id,order_date,amount,Note,note\n" + "a,2024-01-01,10,x,y\n")
    err = refused(capsys, source, tmp_path / "out.xlsx")
    assert "'Note' and 'note' differ only in case" in err


def test_more_columns_than_a_sheet_holds_are_refused(tmp_path, capsys):
    extra = [f"c{i}" for i in range(17_000)]
    source = tmp_path / "wide.csv"
    source.write_text(
        ",".join(["customer_id", "order_date", "amount", *extra])
        + "\n"
        + ",".join(["a", "2024-01-01", "1", *["0"] * len(extra)])
        + "\n"
    )
    err = refused(capsys, source, tmp_path / "out.xlsx")
    assert "17,003 columns, more than an Excel sheet holds (16,384)" in err


def test_an_id_longer_than_a_cell_holds_is_refused(tmp_path, capsys):
    source = tmp_path / "log.csv"
    source.write_text(f"customer_id,order_date,amount\n{'x' * 40_000},2024-01-01,10\n")
    err = refused(capsys, source, tmp_path / "out.xlsx")
    assert "column 'customer_id', row 2: 40,000 characters" in err and "32,767" in err


def test_list_columns_are_refused(tmp_path, capsys):
    source = tmp_path / "log.parquet"
    table = pa.table(
        {
            "customer_id": ["a", "b"],
            "order_date": pa.array([pd.Timestamp("2024-01-01")] * 2),
            "amount": [1.0, 2.0],
            "tags": pa.array([["x"], ["y", "z"]]),
        }
    )
    pq.write_table(table, source)
    err = refused(capsys, source, tmp_path / "out.xlsx")
    assert "column 'tags'" in err and "cell cannot hold" in err


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"id": ["a"], " ": ["b"]}), "column 2 has an empty header"),
        (pd.DataFrame({"id": ["a"], "data": [b"\x00\x01"]}), "holds bytes values (row 2)"),
        (pd.DataFrame({"id": ["a"], "d": [{"k": 1}]}), "holds dict values (row 2)"),
        (pd.DataFrame([["a", "b"]], columns=["x", "x "]), "differ only in case or spaces"),
    ],
)
def test_check_fits_names_what_a_sheet_cannot_hold(frame, message):
    with pytest.raises(InputError, match=re.escape(message)):
        check_fits(frame, "Transactions")


def test_a_text_log_written_into_a_workbook_keeps_numbers_and_dates(tmp_path):
    source = tmp_path / "log.csv"
    source.write_text(
        LOG.replace("customer_id", "customer_id,order_id", 1)
        .replace("\na,", "\na,007,", 1)
        .replace("\nb,", "\nb,8,")
        .replace("\na,2024-02", "\na,9,2024-02")
    )
    out = tmp_path / "out.xlsx"
    assert main(["recalc", str(source), "-o", str(out), "--quiet"]) == 0
    rows = pc.CalamineWorkbook.from_path(str(out)).get_sheet_by_name("Transactions").to_python()
    assert rows[0] == ["customer_id", "order_id", "order_date", "amount"]
    assert [r[3] for r in rows[1:]] == [10.5, 20.0, 5.0]  # numbers, so SUM works
    assert all(type(r[2]).__name__ in ("date", "datetime") for r in rows[1:])
    assert [r[1] for r in rows[1:]] == ["007", "8", "9"]  # a leading zero keeps ids text


def test_a_log_of_one_month_gets_a_workbook_without_the_cohort_chart(tmp_path):
    # Its cohort table has no later months to draw (was an IndexError).
    source = tmp_path / "orders.csv"
    rows = "".join(f"c{i},2024-01-{1 + i % 28:02d},{i + 1}\n" for i in range(60))
    source.write_text("customer,date,amount\n" + rows)
    output = tmp_path / "customers.xlsx"
    assert main(["recalc", str(source), "-o", str(output), "--quiet"]) == 0
    with zipfile.ZipFile(output) as book:
        charts = [n for n in book.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == len(layout.CHARTS) - 1


def test_a_bad_date_set_aside_stays_text_in_the_transactions_sheet(tmp_path):
    # Typing the column as dates overflowed on 2500-06-01 (found by the fuzzer).
    source = tmp_path / "orders.csv"
    source.write_text("customer,date,amount\na,2024-01-01,10\nb,2500-06-01,5\nc,2024-02-01,7\n")
    output = tmp_path / "customers.xlsx"
    assert main(["recalc", str(source), "-o", str(output), "--on-error", "skip", "--quiet"]) == 0
    rows = pc.CalamineWorkbook.from_path(str(output)).get_sheet_by_name("Transactions").to_python()
    assert [row[1] for row in rows[1:]] == ["2024-01-01", "2500-06-01", "2024-02-01"]


def test_an_all_blank_extra_column_gets_a_width(tmp_path):
    # Its longest value was NaN, and int(NaN) a traceback (found by the fuzzer).
    source = tmp_path / "orders.csv"
    source.write_text("customer,date,amount,note\na,2024-01-01,10,\nb,2024-02-01,5,\n")
    output = tmp_path / "customers.xlsx"
    assert main(["recalc", str(source), "-o", str(output), "--quiet"]) == 0
    rows = pc.CalamineWorkbook.from_path(str(output)).get_sheet_by_name("Transactions").to_python()
    assert rows[0] == ["customer", "date", "amount", "note"]


def test_dates_before_march_1900_keep_their_day_in_a_workbook(tmp_path):
    # Excel's serials count a phantom 1900-02-29: counted from 1899-12-30, 1900-01-01 was
    # written as serial 2, which Excel shows as 1900-01-02 (found by the fuzzer).
    source = tmp_path / "orders.csv"
    source.write_text(
        "customer,date,amount\na,1900-01-01,10\na,1900-02-10,5\nb,2024-02-01,7\nb,2024-03-01,7\n"
    )
    output = tmp_path / "customers.xlsx"
    assert main(["recalc", str(source), "-o", str(output), "--model", "bgnbd", "--quiet"]) == 0
    rows = pc.CalamineWorkbook.from_path(str(output)).get_sheet_by_name("Customers").to_python()
    assert [r[:3] for r in rows[1:]] == [
        ["a", dt.date(1900, 1, 1), dt.date(1900, 2, 10)],
        ["b", dt.date(2024, 2, 1), dt.date(2024, 3, 1)],
    ]


def test_an_impossible_date_set_aside_stays_text_in_the_transactions_sheet(tmp_path):
    # 2024-02-30 looks like an ISO date; typing the column raised ValueError (fuzzer).
    source = tmp_path / "orders.csv"
    source.write_text("customer,date,amount\na,2024-01-01,10\nb,2024-02-30,5\nc,2024-02-01,7\n")
    output = tmp_path / "customers.xlsx"
    assert main(["recalc", str(source), "-o", str(output), "--on-error", "skip", "--quiet"]) == 0
    rows = pc.CalamineWorkbook.from_path(str(output)).get_sheet_by_name("Transactions").to_python()
    assert [row[1] for row in rows[1:]] == ["2024-01-01", "2024-02-30", "2024-02-01"]


def test_a_parquet_date_beyond_the_range_set_aside_stays_text_in_the_transactions_sheet(
    tmp_path,
):
    # A date32 of 3000 reaches pandas as a datetime.date object (beyond datetime64[ns]);
    # writing the column as text raised ArrowTypeError (fuzzer).
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    source = tmp_path / "orders.parquet"
    dates = [dt.date(2024, 1, 1), dt.date(3000, 1, 1), dt.date(2024, 2, 1)]
    pq.write_table(
        pa.table({"customer": ["a", "b", "c"], "date": dates, "amount": [10.0, 5.0, 7.0]}), source
    )
    output = tmp_path / "customers.xlsx"
    assert main(["recalc", str(source), "-o", str(output), "--on-error", "skip", "--quiet"]) == 0
    rows = pc.CalamineWorkbook.from_path(str(output)).get_sheet_by_name("Transactions").to_python()
    assert [row[1] for row in rows[1:]] == ["2024-01-01", "3000-01-01", "2024-02-01"]
    rejected = (tmp_path / "customers.rejected.csv").read_text().splitlines()
    assert rejected[1].startswith('2,date,3000-01-01,"a date between 1900-01-01 and 2100-12-31')
