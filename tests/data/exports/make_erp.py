#!/usr/bin/env python3
"""Regenerate erp_export.xlsx: a Dynamics 365 Business Central style
"Posted Sales Lines" report saved to Excel.

Layout quirks on purpose (all real-world):
  * two title rows above the header (report name; company + filter + print date)
  * header on row 3, data from row 4
  * invoice and credit-memo lines mixed; credit-memo amounts are POSITIVE
    (as BC stores them on "Sales Cr.Memo Line"); the Document Type says what
    they are
  * column D ("Line No.") is hidden
  * one Amount cell (document 103004, line 10000) is a number stored as text
  * a "Total" row at the bottom whose sums are what Excel's SUM() would show,
    i.e. they skip the number-stored-as-text cell (so they do NOT tie out)

Run:  /work/staging/.venv/bin/python make_erp.py
"""
import datetime as dt
import os

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "erp_export.xlsx")

HEADER = [
    "Posting Date", "Document Type", "Document No.", "Line No.",
    "Sell-to Customer No.", "Sell-to Customer Name", "Type", "No.", "Description",
    "Quantity", "Unit of Measure Code", "Unit Price Excl. VAT", "Line Discount %",
    "Amount", "Amount Including VAT", "VAT %", "Gen. Prod. Posting Group",
]
NAMES = {
    "10000": "The Cannon Group PLC",
    "20000": "Selangorian Ltd.",
    "30000": "John Haddock Insurance Co.",
    "40000": "Deerfield Graphics Company",
}
D = dt.date
# (posting date, doc type, doc no, line no, customer, type, no, description,
#  qty, uom, unit price, disc %, Amount (net), Amount Including VAT)
LINES = [
    (D(2024, 1, 10), "Invoice", "103001", 10000, "10000", "Item", "1896-S", "ATHENS Desk", 2, "PCS", 506.60, 0, 1013.20, 1266.50),
    (D(2024, 1, 10), "Invoice", "103001", 20000, "10000", "Item", "1900-S", "PARIS Guest Chair, black", 4, "PCS", 125.10, 0, 500.40, 625.50),
    (D(2024, 1, 22), "Invoice", "103002", 10000, "20000", "Item", "1906-S", "ATHENS Mobile Pedestal", 1, "PCS", 281.40, 0, 281.40, 351.75),
    (D(2024, 2, 5), "Invoice", "103003", 10000, "30000", "Item", "1920-S", "ANTWERP Conference Table", 1, "PCS", 420.40, 0, 420.40, 525.50),
    (D(2024, 2, 5), "Invoice", "103003", 20000, "30000", "Item", "1928-S", "AMSTERDAM Lamp", 5, "PCS", 35.60, 0, 178.00, 222.50),
    (D(2024, 2, 19), "Credit Memo", "104001", 10000, "10000", "Item", "1900-S", "PARIS Guest Chair, black", 1, "PCS", 125.10, 0, 125.10, 156.38),
    (D(2024, 3, 4), "Invoice", "103004", 10000, "40000", "Item", "1964-S", "TOKYO Guest Chair, blue", 10, "PCS", 125.00, 0, "1250", 1562.50),
    (D(2024, 3, 4), "Invoice", "103004", 20000, "40000", "G/L Account", "6610", "Freight", 1, "", 60.00, 0, 60.00, 75.00),
    (D(2024, 4, 15), "Invoice", "103005", 10000, "20000", "Item", "1896-S", "ATHENS Desk", 1, "PCS", 506.60, 0, 506.60, 633.25),
    (D(2024, 5, 2), "Invoice", "103006", 10000, "10000", "Item", "1928-S", "AMSTERDAM Lamp", 10, "PCS", 35.60, 5, 338.20, 422.75),
    (D(2024, 5, 20), "Credit Memo", "104002", 10000, "40000", "Item", "1964-S", "TOKYO Guest Chair, blue", 2, "PCS", 125.00, 0, 250.00, 312.50),
    (D(2024, 6, 11), "Invoice", "103007", 10000, "30000", "Item", "1906-S", "ATHENS Mobile Pedestal", 2, "PCS", 281.40, 0, 562.80, 703.50),
]
# Excel's SUM over the Amount column ignores the text cell "1250":
TOTAL_AMOUNT = 4236.10          # 5486.10 - 1250
TOTAL_AMOUNT_INCL_VAT = 6857.63


def build():
    wb = Workbook()
    ws = wb.active
    ws.title = "Posted Sales Lines"
    ws["A1"] = "Posted Sales Lines (Invoices and Credit Memos)"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = ("CRONUS International Ltd.    Posting Date filter: 01/01/24..06/30/24"
                "    Printed 07/01/24 08:15 by ADMIN")
    ws["A2"].font = Font(italic=True, size=9)

    hdr_row = 3
    fill = PatternFill("solid", fgColor="DDEBF7")
    for c, h in enumerate(HEADER, start=1):
        cell = ws.cell(row=hdr_row, column=c, value=h)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")

    r = hdr_row + 1
    for (pdate, dtype, dno, lno, cust, typ, no, desc, qty, uom, price, disc, amt, amt_vat) in LINES:
        vals = [pdate, dtype, dno, lno, cust, NAMES[cust], typ, no, desc, qty, uom, price,
                disc, amt, amt_vat, 25, "RETAIL" if typ == "Item" else "MISC"]
        for c, v in enumerate(vals, start=1):
            cell = ws.cell(row=r, column=c, value=v)
            if c == 1:
                cell.number_format = "mm/dd/yyyy"
            elif c in (12, 14, 15) and not isinstance(v, str):
                cell.number_format = "#,##0.00"
        r += 1

    ws.cell(row=r, column=1, value="Total").font = Font(bold=True)
    ws.cell(row=r, column=14, value=TOTAL_AMOUNT).number_format = "#,##0.00"
    ws.cell(row=r, column=15, value=TOTAL_AMOUNT_INCL_VAT).number_format = "#,##0.00"
    ws.cell(row=r, column=14).font = Font(bold=True)
    ws.cell(row=r, column=15).font = Font(bold=True)

    widths = [12, 13, 12, 9, 11, 28, 12, 9, 28, 9, 10, 12, 10, 12, 14, 7, 14]
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[chr(64 + i)].width = w
    ws.column_dimensions["D"].hidden = True   # "Line No." hidden
    ws.freeze_panes = "A4"
    wb.save(OUT)


if __name__ == "__main__":
    # sanity on the hand-typed values (not used for expected.json)
    num = sum(a for *_, a, _v in LINES if not isinstance(a, str))
    vat = sum(v for *_, v in LINES)
    assert round(num, 2) == TOTAL_AMOUNT, num
    assert round(vat, 2) == TOTAL_AMOUNT_INCL_VAT, vat
    build()
    print("wrote", OUT)
