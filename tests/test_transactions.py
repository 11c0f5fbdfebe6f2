"""Reading and cleaning transaction logs: column names, ids, dates, amounts, bad rows."""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st

from clvxl.clean import clean_transactions, find_columns
from clvxl.errors import BadRowsError, InputError, NoDataError
from clvxl.sources import RawLog, read_log, scan_log


def clean(table: pd.DataFrame, **kwargs) -> pd.DataFrame:
    return clean_transactions(table, **kwargs).transactions


def test_columns_matched_by_alias_ignoring_case_and_punctuation():
    roles = find_columns(["CUSTOMER-ID", "Order Date", "Net Amount", "Invoice No", "COGS"])
    assert roles == {
        "customer_id": "CUSTOMER-ID",
        "date": "Order Date",
        "amount": "Net Amount",
        "order_id": "Invoice No",
        "cost": "COGS",
    }


def test_column_override_wins_over_alias():
    roles = find_columns(["customer", "date", "amount", "gross"], {"amount": "gross"})
    assert roles["amount"] == "gross"


def test_missing_column_lists_found_columns_and_aliases():
    with pytest.raises(InputError) as err:
        find_columns(["Client", "When", "Amount"])
    message = str(err.value)
    assert "no date column" in message
    assert "Columns found: 'Client', 'When', 'Amount'" in message
    assert "order_date" in message and "--date-col" in message


def test_override_naming_an_absent_column_is_refused():
    with pytest.raises(InputError, match="there is no column 'Total'"):
        find_columns(["customer", "date", "amount"], {"amount": "Total"})


def test_duplicate_header_is_refused():
    with pytest.raises(InputError, match="appears 2 times"):
        find_columns(["customer", "date", "Amount", "amount"])


def test_ids_are_trimmed_text_and_keep_leading_zeros():
    raw = pd.DataFrame(
        {
            "customer": [" 00123 ", "123", 123, 123.0, "A-7"],
            "date": ["2024-01-01"] * 5,
            "amount": [1, 2, 3, 4, 5],
        }
    )
    ids = clean(raw)["customer_id"].tolist()
    assert ids == ["00123", "123", "123", "123", "A-7"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01", "2024-03-01"),
        ("2024-03-01T17:45:00", "2024-03-01"),
        ("20240301", "2024-03-01"),
        ("45352", "2024-03-01"),  # Excel serial: 45352 days after 1899-12-30
        (45352, "2024-03-01"),
        (45352.75, "2024-03-01"),  # a serial with a time of day
        (dt.datetime(2024, 3, 1, 9, 30), "2024-03-01"),
        (dt.date(2024, 3, 1), "2024-03-01"),
    ],
)
def test_date_forms(text, expected):
    raw = pd.DataFrame(
        {"customer": ["a"], "date": pd.Series([text], dtype=object), "amount": [1.0]}
    )
    assert clean(raw)["date"].iloc[0] == pd.Timestamp(expected)


def test_day_first_dates_recognised_from_a_day_above_12():
    raw = pd.DataFrame(
        {"customer": ["a", "b"], "date": ["03/04/2024", "25/04/2024"], "amount": [1, 2]}
    )
    assert clean(raw)["date"].tolist() == [pd.Timestamp("2024-04-03"), pd.Timestamp("2024-04-25")]


def test_ambiguous_dates_are_refused_unless_told():
    raw = pd.DataFrame(
        {"customer": ["a", "b"], "date": ["03/04/2024", "05/06/2024"], "amount": [1, 2]}
    )
    with pytest.raises(InputError) as err:
        clean(raw)
    assert "'03/04/2024' (row 2) could be day/month or month/day" in str(err.value)
    assert "--dayfirst" in str(err.value)
    assert clean(raw, dates="monthfirst")["date"].iloc[0] == pd.Timestamp("2024-03-04")
    assert clean(raw, dates="dayfirst")["date"].iloc[0] == pd.Timestamp("2024-04-03")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["$1,234.50", "12"], [1234.50, 12.0]),
        (["(12.00)", "-3"], [-12.0, -3.0]),
        (["1.234,50", "7,25"], [1234.50, 7.25]),  # a decimal-comma export
        (["€ 99", "USD 5.5"], [99.0, 5.5]),
        (["1,234", "5"], [1234.0, 5.0]),  # comma as thousands separator
    ],
)
def test_currency_text(values, expected):
    raw = pd.DataFrame({"customer": ["a", "b"], "date": ["2024-01-01"] * 2, "amount": values})
    np.testing.assert_allclose(clean(raw)["amount"], expected)


def test_margin_column_becomes_cost():
    raw = pd.DataFrame(
        {"customer": ["a"], "date": ["2024-01-01"], "amount": [100.0], "margin": [30.0]}
    )
    assert clean(raw)["cost"].iloc[0] == 70.0


def test_bad_rows_all_listed_with_row_column_value_and_expectation():
    raw = pd.DataFrame(
        {
            "Customer": ["a", "", "c", "d"],
            "Date": ["2024-01-05", "2024-01-06", "1899-06-01", "2024-01-07"],
            "Amount": ["10", "abc", "inf", "12"],
        }
    )
    with pytest.raises(BadRowsError) as err:
        clean(raw)
    message = str(err.value)
    assert message.startswith("2 bad rows in the table; nothing was computed:")
    assert "row 3, column 'Customer': None — expected a customer id" not in message
    assert "row 3, column 'Customer': '' — expected a customer id (the cell is empty)" in message
    assert "row 3, column 'Amount': 'abc' — expected an amount" in message
    assert (
        "row 4, column 'Date': '1899-06-01' — expected a date between 1900-01-01 and 2100-12-31 (2024-01-31, 2024-01-31T10:00+02:00, 31.01.2024, 01/31/2024, 31 Jan 2024, 20240131 or an Excel serial)"
        in message
    )
    assert "row 4, column 'Amount': 'inf'" in message
    assert {b.row for b in err.value.bad_rows} == {3, 4}


def test_report_lists_first_twenty_rows_and_counts_the_rest():
    raw = pd.DataFrame({"customer": ["a"] * 30, "date": ["2024-01-01"] * 30, "amount": ["x"] * 30})
    with pytest.raises(BadRowsError) as err:
        clean(raw)
    message = str(err.value)
    assert message.startswith("30 bad rows")
    assert "row 21," in message and "row 22," not in message
    assert "... and 10 more bad rows" in message


def test_skip_sets_bad_rows_aside_with_reason():
    raw = pd.DataFrame(
        {
            "customer": ["a", "b", "c"],
            "date": ["2024-01-01", "nope", "2024-01-02"],
            "amount": [1.0, 2.0, 3.0],
        }
    )
    log = clean_transactions(raw, on_error="skip")
    assert log.transactions["customer_id"].tolist() == ["a", "c"]
    assert log.transactions["source_row"].tolist() == [2, 4]
    assert log.rejected.to_dict("records") == [
        {
            "row": 3,
            "column": "date",
            "value": "nope",
            "reason": "a date between 1900-01-01 and 2100-12-31 (2024-01-31, 2024-01-31T10:00+02:00, 31.01.2024, 01/31/2024, 31 Jan 2024, 20240131 or an Excel serial)",
        }
    ]


def test_blank_rows_are_ignored_not_reported():
    raw = pd.DataFrame(
        {
            "customer": ["a", None, "b"],
            "date": ["2024-01-01", None, "2024-01-02"],
            "amount": [1.0, None, 2.0],
        }
    )
    assert clean(raw)["customer_id"].tolist() == ["a", "b"]


def test_all_rows_bad_under_skip_is_no_data():
    raw = pd.DataFrame({"customer": ["a"], "date": ["x"], "amount": [1.0]})
    with pytest.raises(NoDataError, match="no rows that could be read"):
        clean_transactions(raw, on_error="skip")


def test_csv_report_names_file_lines_across_blank_lines(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("customer,date,amount\na,2024-01-01,10\n\nb,2024-01-02,oops\n")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(BadRowsError) as err:
        clean_transactions(read_log(path))
    assert "row 4, column 'amount': 'oops'" in str(err.value)
    assert "in orders.csv" in str(err.value)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_semicolon_csv_with_decimal_commas_and_bom(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(
        "\ufeffKunde;Date;Amount\n00123;2024-01-01;1.234,50\n7;2024-01-02;12,00\n".encode()
    )
    tx = clean_transactions(read_log(path), columns={"customer_id": "Kunde"}).transactions
    assert tx["customer_id"].tolist() == ["00123", "7"]
    np.testing.assert_allclose(tx["amount"], [1234.5, 12.0])


def test_latin1_csv(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("customer,date,amount\nJosé,2024-01-01,5\n".encode("latin-1"))
    assert clean_transactions(read_log(path)).transactions["customer_id"].tolist() == ["José"]


def test_parquet_and_dataframe_give_the_same_clean_log(tmp_path):
    raw = pd.DataFrame(
        {
            "customer_id": ["001", "002"],
            "date": pd.to_datetime(["2024-01-01", "2024-02-01"]),
            "amount": [10.0, 20.0],
        }
    )
    raw.to_parquet(tmp_path / "log.parquet")
    from_file = clean_transactions(read_log(tmp_path / "log.parquet")).transactions
    from_frame = clean_transactions(RawLog.from_frame(raw, first_row=1)).transactions
    pd.testing.assert_frame_equal(from_file, from_frame)


def test_workbook_transactions_table_rows_are_sheet_rows(tmp_path):
    path = tmp_path / "book.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Transactions")
    sheet.add_table(
        "A3:C6",
        {
            "name": "Transactions",
            "columns": [{"header": "Customer"}, {"header": "Date"}, {"header": "Amount"}],
        },
    )
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_string(3, 0, "00123")
    sheet.write_datetime(3, 1, dt.datetime(2024, 1, 5), date_format)
    sheet.write_number(3, 2, 10)
    sheet.write_string(4, 0, "B")
    sheet.write_number(4, 1, 45352)
    sheet.write_string(4, 2, "$1,234.50")
    sheet.write_string(5, 0, "C")
    sheet.write_string(5, 1, "2024-01-07")
    sheet.write_string(5, 2, "twelve")
    book.close()
    with pytest.raises(BadRowsError) as err:
        clean_transactions(read_log(path))
    assert "row 6, column 'Amount': 'twelve'" in str(err.value)
    assert "book.xlsx, table Transactions" in str(err.value)
    tx = clean_transactions(read_log(path), on_error="skip").transactions
    assert tx["customer_id"].tolist() == ["00123", "B"]
    assert tx["date"].tolist() == [pd.Timestamp("2024-01-05"), pd.Timestamp("2024-03-01")]
    assert tx["amount"].tolist() == [10.0, 1234.5]


def test_unknown_file_type_is_refused(tmp_path):
    path = tmp_path / "log.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(InputError, match=r"cannot read \.xls"):
        read_log(path)


def test_empty_file_is_no_data(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(NoDataError, match=r"empty\.csv is empty"):
        read_log(path)


def test_zip_bomb_is_refused_before_parsing(tmp_path):
    import zipfile

    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"0" * (60 * 1024**2))
    with pytest.raises(InputError, match=r"would unpack to 60 MB .*zip bomb"):
        read_log(path)


def test_password_protected_workbook_is_explained(tmp_path):
    path = tmp_path / "locked.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)  # encrypted: an OLE file
    with pytest.raises(InputError, match="password-protected"):
        read_log(path)


def test_repeated_lines_need_the_same_order_id_and_values():
    from clvxl.clean.report import _repeated_mask

    table = pa.table(
        {
            "order_id": pa.array(["o1", "o1", "o2", "o1", "o3"]).dictionary_encode(),
            "amount": [5.0, 5.0, 5.0, 6.0, 5.0],
        }
    )
    assert _repeated_mask(table).tolist() == [False, True, False, False, False]


@pytest.mark.parametrize("read", [read_log, scan_log])
def test_real_dates_far_outside_the_range_are_bad_rows(tmp_path, read):
    # Parquet (and DuckDB) dates can be years that no nanosecond timestamp holds.
    path = tmp_path / "log.parquet"
    dates = [dt.date(2024, 1, 1), dt.date(1000, 1, 1), dt.date(3000, 1, 1)]
    pq.write_table(
        pa.table(
            {
                "customer": ["A", "B", "C"],
                "date": pa.array(dates, pa.date32()),
                "amount": [1.0, 2.0, 3.0],
            }
        ),
        path,
    )
    log = clean_transactions(read(path), on_error="skip")
    assert log.transactions["customer_id"].tolist() == ["A"]
    assert log.rejected["row"].tolist() == [2, 3]
    assert set(log.rejected["reason"]) == {
        "a date between 1900-01-01 and 2100-12-31 (2024-01-31, 2024-01-31T10:00+02:00, 31.01.2024, 01/31/2024, 31 Jan 2024, 20240131 or an Excel serial)"
    }


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80).map(lambda b: bytes(b'a"\n\r,'[x % 5] for x in b)), st.integers(0, 3))
def test_the_odd_quote_check_agrees_with_counting_line_by_line(text, repeat):
    # A quoted field that spans lines shows as a line with an odd number of quotes; a
    # line ends in LF, CRLF or a lone CR (bytes.splitlines, as the csv reader reads
    # them); the check works on 1 MB chunks, so lines also cross chunk boundaries here.
    import io

    from clvxl.sources.raw import _odd_quotes

    data = b"x" * ((1 << 20) - 3) * repeat + text
    expected = any(line.count(b'"') % 2 for line in data.splitlines())
    assert _odd_quotes(io.BytesIO(data)) is expected
