"""Real exports read right with the plain command: one fixture per format, numbers by hand.

The fixtures (tests/data/exports, their README gives the layouts' sources and the
arithmetic) copy the column layouts of the systems' own exports. Each test runs
``clvxl recalc FILE -o out.csv`` with no option and checks every customer's orders,
revenue and first and last purchase day against the numbers worked out below, and the
note saying how the file was read.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from clvxl.cli import main

EXPORTS = Path(__file__).parent / "data" / "exports"


def recalc(capsys, tmp_path: Path, name: str, *options: str) -> tuple[pd.DataFrame, str]:
    """The customer table and the printed lines of a plain run on one fixture."""
    source = EXPORTS / name
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    output = tmp_path / "out.csv"
    code = main(["recalc", str(source), "-o", str(output), *options])
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in err
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before
    table = pd.read_csv(output, dtype={"customer_id": str})
    return table[["customer_id", "orders", "revenue", "first_purchase", "last_purchase"]], out


def rows(*customers: tuple[str, int, float, str, str]) -> list[tuple]:
    return sorted((c, o, round(r, 2), f, la) for c, o, r, f, la in customers)


def as_rows(table: pd.DataFrame) -> list[tuple]:
    return sorted(
        (c, int(o), round(float(r), 2), f, la) for c, o, r, f, la in table.itertuples(index=False)
    )


def test_shopify_orders(capsys, tmp_path):
    table, out = recalc(capsys, tmp_path, "shopify_orders.csv")
    # alice: #1001 2×18.00 + 42.00 + 6.00 shipping + 6.24 tax = 90.24 (01-05, -0500);
    # #1009 50.00 on 2024-12-20 19:45 -0500 (the day as written, not UTC's 12-21);
    # #1003 refunded 32.00 − 32.00 = 0: not a purchase.
    # bob: #1002 129.60 − 40.00 refunded = 89.60 (03-15 23:30 -0400);
    # #1007 18.00 + 2×6.50 + 6.00 + 2.48 = 39.48 (its second line has no order fields).
    # carol: #1008 42.00 + 3.36 = 45.36; #1004 voided. dave: #1006 2×24.50 + 6.00 + 3.92
    # = 58.92 (10-31 22:15 -0400); #1005 pending.
    assert as_rows(table) == rows(
        ("alice@example.com", 2, 90.24 + 50.00, "2024-01-05", "2024-12-20"),
        ("bob@example.org", 2, 89.60 + 39.48, "2024-03-15", "2024-12-02"),
        ("carol@example.net", 1, 45.36, "2024-06-18", "2024-06-18"),
        ("dave@example.com", 1, 58.92, "2024-10-31", "2024-10-31"),
    )
    assert (
        "note: read as a Shopify orders export: customer = Email, order = Name, amount = "
        "Total − Refunded Amount, paid, partially_refunded, refunded orders only" in out
    )
    assert "note: 1 orders with status 'voided' left out" in out
    assert "note: 1 orders with status 'pending' left out" in out
    assert "note: 1 orders fully refunded (net 0): not purchases" in out


def test_stripe_payments(capsys, tmp_path):
    table, out = recalc(capsys, tmp_path, "stripe_payments.csv")
    # Converted Amount − Converted Amount Refunded, in the settlement currency (USD):
    # Bernd 45 EUR → 48.87, then 86.96 − 21.60 = 65.36; Claire 38.10 + 31.55;
    # Diego's 120 − 120 charge is not a purchase; three failed charges and two charges
    # without a customer (15.00 and 37.66) are left out.
    assert as_rows(table) == rows(
        ("cus_PQa1Anna7Kx2", 2, 49.00 + 49.00, "2024-01-05", "2024-03-22"),
        ("cus_PQb2Bernd9Lw4", 2, 114.23, "2024-01-19", "2024-03-01"),
        ("cus_PQc3Claire5Mz", 2, 69.65, "2024-02-02", "2024-04-12"),
        ("cus_PQd4Diego1Nr8", 1, 200.00, "2024-04-15", "2024-04-15"),
    )
    assert "note: read as a Stripe payments export: customer = Customer ID" in out
    assert "note: 3 charges with status 'Failed' left out" in out
    assert "note: 2 charges without a customer left out" in out
    assert "note: 1 charges fully refunded (net 0): not purchases" in out


def test_woocommerce_orders(capsys, tmp_path):
    table, out = recalc(capsys, tmp_path, "woocommerce_orders.csv")
    # The order columns repeat on every item line: each order counted once.
    # maria 3101 40.59 + 3110 48.60; tom 3104 48.60 − 10 refund; lena (guest, user id 0,
    # known by her e-mail) 24.39 + 20.50; sam (guest) 35.19; noah only failed: no customer.
    assert as_rows(table) == rows(
        ("maria.jensen@example.com", 2, 89.19, "2024-02-03", "2024-05-06"),
        ("tom.h@example.net", 1, 38.60, "2024-03-01", "2024-03-01"),
        ("lena.guest@example.com", 2, 44.89, "2024-02-11", "2024-03-19"),
        ("sam.k@example.org", 1, 35.19, "2024-04-20", "2024-04-20"),
    )
    assert "note: read as a WooCommerce orders export" in out
    for status in ("Cancelled", "Pending payment", "Failed", "On hold", "Refunded"):
        assert f"note: 1 orders with status {status!r} left out" in out


def test_online_retail(capsys, tmp_path):
    table, out = recalc(capsys, tmp_path, "online_retail.csv")
    # Quantity × UnitPrice; "17850.0" is 17850; C invoices subtract and are not orders:
    # 17850: 57.64 + 22.20 + 30.60 − 4.65; 13047: 66.68 + 30.92 − 4.20 (12-06, a
    # cancellation, does not move the last purchase); 12583: 90 + 90 + 54.
    assert as_rows(table) == rows(
        ("17850", 3, 105.79, "2010-12-01", "2011-02-23"),
        ("13047", 2, 93.40, "2010-12-01", "2010-12-05"),
        ("12583", 1, 234.00, "2010-12-01", "2010-12-01"),
    )
    assert "note: read as a UCI Online Retail export" in out
    assert "note: 2 lines without a customer left out" in out


def test_online_retail_ii(capsys, tmp_path):
    table, out = recalc(capsys, tmp_path, "online_retail_ii.csv")
    # 13085: 245.40 + 75.60 + 41.70; 13078: 157.60 + 32.70; 16321: 90.60 − 45.30.
    assert as_rows(table) == rows(
        ("13085", 3, 362.70, "2009-12-01", "2010-01-04"),
        ("13078", 2, 190.30, "2009-12-01", "2009-12-09"),
        ("16321", 1, 45.30, "2009-12-01", "2009-12-01"),
    )
    assert "note: read as a UCI Online Retail II export" in out
    assert "note: 2 lines without a customer left out" in out


def test_stripe_invoices(capsys, tmp_path):
    table, out = recalc(capsys, tmp_path, "stripe_invoices.csv")
    # Amount Paid, not Amount Due: acme 5 × 49; bright 3 × 99 (then void); cedar one
    # annual 12 × 49; echo 14.50 (coupon) + 19.00 (credit balance) + 29.00; delta never
    # paid (uncollectible, open): not a customer; five $0 trial invoices are no purchases.
    assert as_rows(table) == rows(
        ("cus_PkA1acme0001", 5, 5 * 49.00, "2024-02-03", "2024-06-03"),
        ("cus_PkB2bright002", 3, 3 * 99.00, "2024-02-15", "2024-04-15"),
        ("cus_PkC3cedar0003", 1, 12 * 49.00, "2024-02-15", "2024-02-15"),
        ("cus_PkE5echo00005", 3, 14.50 + 19.00 + 29.00, "2024-04-20", "2024-06-20"),
    )
    assert "note: read as a Stripe invoices export: customer = Customer, amount = Amount Paid" in out
    assert "note: 5 invoices of 0 (trials): not purchases" in out
    for status in ("void", "uncollectible", "open", "draft"):
        assert f"note: 1 invoices with status {status!r} left out" in out


def test_german_excel_csv(capsys, tmp_path):
    table, out = recalc(capsys, tmp_path, "german_excel.csv")
    # Windows-1252, semicolons, decimal commas; Nettobetrag (net), not Bruttobetrag;
    # Gutschrift rows subtract; the Summe row (9.248,05) is no customer.
    assert as_rows(table) == rows(
        ("10001", 2, 1234.50 + 412.80 - 100.00, "2024-01-08", "2024-02-02"),
        ("10002", 3, 860.00 + 95.50 + 1005.25, "2024-01-15", "2024-04-30"),
        ("10003", 2, 2100.00 + 640.00, "2024-02-29", "2024-04-18"),
        ("10004", 1, 3450.00 - 450.00, "2024-03-28", "2024-03-28"),
    )
    assert "note: column 'Nettobetrag': amounts read with a decimal comma" in out
    assert "note: amount = Nettobetrag (net); Bruttobetrag (gross) is not used" in out
    assert "note: 1 total or subtotal row(s) left out" in out


def test_german_names_are_read_as_windows_1252(tmp_path, capsys):
    source = tmp_path / "kunden.csv"
    source.write_bytes("Kunde;Datum;Betrag\n„Müller“ – Süd;02.01.2024;12,50 €\n".encode("cp1252"))
    main(["recalc", str(source), "-o", str(tmp_path / "o.csv")])
    capsys.readouterr()
    table = pd.read_csv(tmp_path / "o.csv")
    assert table[["customer_id", "revenue"]].values.tolist() == [["„Müller“ – Süd", 12.5]]


def test_finnish_csv(capsys, tmp_path):
    table, out = recalc(capsys, tmp_path, "finnish.csv")
    # UTF-8 with BOM, d.m.yyyy, NBSP thousands (1 250,00); the Yhteensä row left out.
    assert as_rows(table) == rows(
        ("Mäkinen Oy", 3, 3 * 450.00, "2024-01-05", "2024-03-04"),
        ("Virtanen Tmi", 2, 540.00 + 315.00, "2024-01-12", "2024-03-01"),
        ("Lahtinen & Korhonen Ky", 1, 1250.00, "2024-01-19", "2024-01-19"),
        ("Järvinen Oyj", 2, 980.50 + 490.25, "2024-02-16", "2024-03-28"),
    )
    assert "note: 1 total or subtotal row(s) left out" in out


def test_erp_workbook(capsys, tmp_path):
    table, out = recalc(capsys, tmp_path, "erp_export.xlsx")
    # Header on row 3 below two title rows; Amount (net) over Amount Including VAT;
    # Credit Memo lines (stored positive) subtract; "1250" stored as text is 1250;
    # the hidden Line No. column is read like any other; the Total row is left out.
    assert as_rows(table) == rows(
        ("10000", 2, 1013.20 + 500.40 + 338.20 - 125.10, "2024-01-10", "2024-05-02"),
        ("20000", 2, 281.40 + 506.60, "2024-01-22", "2024-04-15"),
        ("30000", 2, 420.40 + 178.00 + 562.80, "2024-02-05", "2024-06-11"),
        ("40000", 1, 1250.00 + 60.00 - 250.00, "2024-03-04", "2024-03-04"),
    )
    assert "note: erp_export.xlsx, sheet Posted Sales Lines: the header is row 3" in out
    assert "note: amount = Amount (net); Amount Including VAT (gross) is not used" in out
    assert "note: 1 total or subtotal row(s) left out" in out


def test_format_plain_turns_recognition_off(capsys, tmp_path):
    # Read as a plain log, lines without a customer are bad rows, not left out by rule;
    # the amount is still Quantity × UnitPrice (the generic rule for a log without one).
    table, out = recalc(
        capsys, tmp_path, "online_retail.csv", "--format", "plain", "--on-error", "skip"
    )
    assert "read as a UCI" not in out and "without a customer left out" not in out
    assert "2 bad rows set aside" in out and "note: amount = Quantity × UnitPrice" in out
    assert sorted(table["revenue"].round(2)) == [93.40, 105.79, 234.00]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--format", "sap"), "unknown --format 'sap'; known: shopify, stripe-payments"),
        (("--format", "shopify"), "the file is not a Shopify orders export: it has no column 'Name'"),
    ],
)
def test_a_format_that_does_not_fit_is_refused(capsys, tmp_path, options, message):
    code = main(["recalc", str(EXPORTS / "finnish.csv"), "-o", str(tmp_path / "o.csv"), *options])
    assert code == 2 and message in capsys.readouterr().err


def test_quoted_multi_line_fields_are_named_by_file_line(tmp_path, capsys):
    source = tmp_path / "log.csv"
    source.write_text(
        'customer,note,date,amount\na,"two\nlines",2024-01-01,5\n\nb,"x",2024-01-02,abc\n'
    )
    code = main(["recalc", str(source), "-o", str(tmp_path / "o.csv")])
    err = capsys.readouterr().err
    # The bad record is the 3rd (row 3 by record count) but starts on line 5 of the file.
    assert code == 2 and "row 5, column 'amount': 'abc'" in err


def test_utf16_and_long_header(tmp_path, capsys):
    source = tmp_path / "unicode.txt"
    source.write_bytes("customer\tdate\tamount\nMäkinen\t2024-01-01\t5\n".encode("utf-16"))
    wide = tmp_path / "wide.csv"
    filler = ",".join(f"column_{i:06d}" for i in range(8000))  # a header of 120 KB
    wide.write_text(f"customer,date,amount,{filler}\na,2024-01-01,5{',' * 8000}\n")
    for path in (source, wide):
        assert main(["recalc", str(path), "-o", str(tmp_path / "o.csv")]) == 0
        capsys.readouterr()
        table = pd.read_csv(tmp_path / "o.csv")
        assert table["revenue"].tolist() == [5.0]
    assert table["customer_id"].tolist() == ["a"]
