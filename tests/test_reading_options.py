"""The reading rules of known exports as options for any log, each with a hand-worked case:
statuses, refunds, quantity × unit price, currencies, --where, placeholder ids, time
zones, and notes that are true (repeated lines, no order id)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from clvxl.cli import main


def run(capsys, tmp_path: Path, text: str, *options: str) -> tuple[int, pd.DataFrame | None, str]:
    source = tmp_path / "log.csv"
    source.write_text(text, encoding="utf-8")
    output = tmp_path / "out.csv"
    code = main(["recalc", str(source), "-o", str(output), *options])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    table = pd.read_csv(output, dtype={"customer_id": str}) if code == 0 else None
    return code, table, out + err


def customers(table: pd.DataFrame) -> dict[str, tuple[int, float, str]]:
    return {
        c: (int(o), round(float(r), 2), la)
        for c, o, r, la in table[["customer_id", "orders", "revenue", "last_purchase"]].values
    }


STATUS_LOG = """order,customer,date,amount,status
1,a,2024-01-01,10,paid
2,a,2024-01-05,20,failed
3,b,2024-01-02,30,Bezahlt
4,b,2024-01-03,40,storniert
5,c,2024-01-04,50,pending
"""


def test_status_col_keeps_paid_words_in_several_languages(capsys, tmp_path):
    code, table, out = run(capsys, tmp_path, STATUS_LOG, "--status-col", "status")
    assert code == 0
    # a: 10 (the failed 20 is not revenue); b: 30 (Bezahlt), not the storniert 40; c only pending.
    assert customers(table) == {"a": (1, 10.0, "2024-01-01"), "b": (1, 30.0, "2024-01-02")}
    for word in ("failed", "storniert", "pending"):
        assert f"1 lines with status {word!r} left out" in out


def test_paid_status_names_what_is_revenue(capsys, tmp_path):
    code, table, out = run(
        capsys, tmp_path, STATUS_LOG, "--status-col", "status", "--paid-status", "paid,pending"
    )
    assert code == 0
    assert customers(table) == {"a": (1, 10.0, "2024-01-01"), "c": (1, 50.0, "2024-01-04")}
    assert "1 lines with status 'Bezahlt' left out" in out


def test_an_unknown_status_word_is_a_bad_row(capsys, tmp_path):
    text = "customer,date,amount,status\na,2024-01-01,10,paid\na,2024-01-02,10,shipped\n"
    code, _, out = run(capsys, tmp_path, text, "--status-col", "status")
    assert code == 2
    assert "row 3, column 'status': 'shipped' — expected a status: one of paid" in out


def test_refund_col_nets_refunds_and_a_fully_refunded_order_is_no_purchase(capsys, tmp_path):
    text = """order,customer,date,amount,refund
1,a,2024-01-01,100,0
2,a,2024-02-01,50,50
3,b,2024-01-10,80,30
"""
    code, table, out = run(capsys, tmp_path, text, "--refund-col", "refund")
    assert code == 0
    # a: order 2 nets 50 − 50 = 0: no purchase, so the last purchase stays 01-01; b: 80 − 30.
    assert customers(table) == {"a": (1, 100.0, "2024-01-01"), "b": (1, 50.0, "2024-01-10")}
    assert "1 lines fully refunded (net 0): not purchases" in out


def test_unit_price_col_makes_the_amount_quantity_times_price(capsys, tmp_path):
    text = "order,customer,date,qty,price,amount\n1,a,2024-01-01,3,2.50,2.50\n1,a,2024-01-01,2,4,4\n"
    code, table, out = run(
        capsys, tmp_path, text, "--quantity-col", "qty", "--unit-price-col", "price"
    )
    assert code == 0
    assert customers(table) == {"a": (1, 3 * 2.50 + 2 * 4.0, "2024-01-01")}
    assert "amount = qty × price" in out


def test_a_quantity_column_is_no_longer_silently_ignored(capsys, tmp_path):
    text = "customer,date,qty,amount\na,2024-01-01,3,2.50\n"
    code, table, out = run(capsys, tmp_path, text, "--quantity-col", "qty")
    assert code == 0 and customers(table) == {"a": (1, 2.5, "2024-01-01")}
    assert "qty is kept as the quantity, not multiplied in" in out


CURRENCY_LOG = """order,customer,date,amount,currency
1,a,2024-01-01,10,EUR
2,a,2024-01-02,20,usd
3,b,2024-01-03,30,SEK
4,b,2024-01-04,40,EUR
"""


def test_mixed_currencies_are_refused_listing_them(capsys, tmp_path):
    code, _, out = run(capsys, tmp_path, CURRENCY_LOG, "--currency-col", "currency")
    assert code == 2
    assert "the log mixes currencies (EUR, SEK, USD); adding them up would be wrong" in out


def test_one_named_currency_is_kept(capsys, tmp_path):
    code, table, out = run(
        capsys, tmp_path, CURRENCY_LOG, "--currency-col", "currency", "--currency", "eur"
    )
    assert code == 0
    assert customers(table) == {"a": (1, 10.0, "2024-01-01"), "b": (1, 40.0, "2024-01-04")}
    assert "2 lines in other currencies than EUR left out" in out


def test_where_keeps_the_lines_the_condition_selects(capsys, tmp_path):
    text = "customer,date,amount,region\na,2024-01-01,10,EU\na,2024-01-02,20,US\nb,2024-01-03,5,EU\n"
    code, table, out = run(capsys, tmp_path, text, "--where", "region = 'EU'")
    assert code == 0
    assert customers(table) == {"a": (1, 10.0, "2024-01-01"), "b": (1, 5.0, "2024-01-03")}
    assert "--where region = 'EU': 2 of 3 lines kept" in out
    code, _, out = run(capsys, tmp_path, text, "--where", "nosuch = 1")
    assert code == 2 and "--where 'nosuch = 1' could not be run on the columns" in out


def test_placeholder_customer_ids_are_not_customers(capsys, tmp_path):
    text = "customer,date,amount\n0,2024-01-01,10\nguest,2024-01-02,20\nN/A,2024-01-03,5\na,2024-01-04,7\n"
    code, table, out = run(capsys, tmp_path, text)
    assert code == 0 and customers(table) == {"a": (1, 7.0, "2024-01-04")}
    assert "3 lines with a placeholder customer id (0, N/A, guest): not customers, left out" in out


def test_na_ids_are_named_as_written(capsys, tmp_path):
    # "NA" is no longer read as an empty cell: it is a placeholder, named as written;
    # a really empty cell is still a bad row.
    text = "customer,date,amount\nNA,2024-01-01,10\n,2024-01-02,20\na,2024-01-03,5\n"
    code, table, out = run(capsys, tmp_path, text, "--on-error", "skip")
    assert code == 0 and customers(table) == {"a": (1, 5.0, "2024-01-03")}
    assert "1 lines with a placeholder customer id (NA): not customers, left out" in out
    assert "1 bad row set aside" in out
    rejected = pd.read_csv(tmp_path / "out.rejected.csv")
    assert rejected[["row", "column"]].values.tolist() == [[3, "customer"]]


@pytest.mark.parametrize(
    ("zone", "day"), [(None, "2024-01-01"), ("Europe/Berlin", "2024-01-02"), ("UTC", "2024-01-02")]
)
def test_the_day_is_the_day_as_written_unless_a_time_zone_is_given(capsys, tmp_path, zone, day):
    text = "customer,date,amount\na,2024-01-01T23:30:00-05:00,10\n"
    options = ("--timezone", zone) if zone else ()
    code, table, _ = run(capsys, tmp_path, text, *options)
    assert code == 0 and table["first_purchase"].tolist() == [day]


def test_an_unknown_time_zone_is_refused(capsys, tmp_path):
    code, _, out = run(capsys, tmp_path, "customer,date,amount\na,2024-01-01,1\n", "--timezone", "Mars/Olympus")
    assert code == 2 and "unknown time zone 'Mars/Olympus'" in out


def test_repeated_line_note_only_for_lines_equal_in_every_column(capsys, tmp_path):
    # Two lines of order 1 differ only in sku, a column clvxl does not read: both real.
    text = "order,customer,date,amount,sku\n1,a,2024-01-01,10,X\n1,a,2024-01-01,10,Y\n"
    code, table, out = run(capsys, tmp_path, text)
    assert code == 0 and "repeat an earlier line" not in out
    assert customers(table) == {"a": (1, 20.0, "2024-01-01")}
    code, _, out = run(capsys, tmp_path, text.replace(",Y", ",X"))
    assert "1 line(s) repeat an earlier line exactly" in out


def test_no_order_id_is_said(capsys, tmp_path):
    code, _, out = run(capsys, tmp_path, "customer,date,amount\na,2024-01-01,1\n")
    assert code == 0 and "note: no order id found: each line is counted as one order" in out


def test_encoding_option_overrides_what_the_bytes_suggest(capsys, tmp_path):
    source = tmp_path / "log.csv"
    source.write_bytes(b"customer,date,amount\nJos\xe8,2024-01-01,5\n")
    for encoding, name in (("cp1252", "Josè"), ("cp1250", "Josč")):
        assert main(["recalc", str(source), "-o", str(tmp_path / "o.csv"), "--encoding", encoding]) == 0
        capsys.readouterr()
        assert pd.read_csv(tmp_path / "o.csv")["customer_id"].tolist() == [name]
    code = main(["recalc", str(source), "-o", str(tmp_path / "o.csv"), "--encoding", "klingon"])
    assert code == 2 and "unknown encoding 'klingon'" in capsys.readouterr().err


def test_header_row_option_names_the_header_of_a_workbook(capsys, tmp_path):
    workbook = Path(__file__).parent / "data" / "exports" / "erp_export.xlsx"
    output = tmp_path / "o.csv"
    assert main(["recalc", str(workbook), "-o", str(output), "--header-row", "3"]) == 0
    capsys.readouterr()
    assert pd.read_csv(output)["revenue"].round(2).tolist() == [1726.70, 788.00, 1161.20, 1060.00]
    code = main(["recalc", str(workbook), "-o", str(output), "--header-row", "99"])
    assert code == 2 and "has no row 99 to read the header from" in capsys.readouterr().err


def test_a_currency_column_is_found_by_name_and_any_accepts_converted_amounts(capsys, tmp_path):
    # Without --currency-col: the "currency" column is found by its name, and refused mixed.
    code, _, out = run(capsys, tmp_path, CURRENCY_LOG)
    assert code == 2 and "the log mixes currencies (EUR, SEK, USD)" in out
    code, table, _ = run(capsys, tmp_path, CURRENCY_LOG, "--currency", "any")
    assert code == 0
    assert customers(table) == {"a": (2, 30.0, "2024-01-02"), "b": (2, 70.0, "2024-01-04")}
