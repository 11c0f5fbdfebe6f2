"""``clvxl recalc book.xlsx -o out.xlsx`` keeps the user's workbook: only clvxl's sheets change."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import python_calamine as pc
from openpyxl.comments import Comment
from openpyxl.workbook.defined_name import DefinedName

from clvxl.cli import main
from clvxl.excel import zipparts
from clvxl.excel.refresh import refresh_workbook
from clvxl.recalc import recalculate
from clvxl.sources import read_log

OWNED_PARTS = ("sheet1.xml", "sheet2.xml", "sheet4.xml", "sheet5.xml")  # Dashboard .. Model


@pytest.fixture(scope="module")
def user_book(tmp_path_factory) -> Path:
    """The demo workbook as a user leaves it: a sheet of their own with a formula over
    Customers, a defined name, a comment, a number format and a column width."""
    folder = tmp_path_factory.mktemp("refresh")
    demo = folder / "demo.xlsx"
    assert main(["demo", "-o", str(demo), "--quiet"]) == 0
    book = openpyxl.load_workbook(demo)
    mine = book.create_sheet("My notes")
    mine["A1"] = "Top customer CLV"
    mine["B1"] = "=MAX(Customers[Predicted CLV])"
    mine["B2"] = 1234.5
    mine["B2"].number_format = '"€"#,##0.00'
    mine.column_dimensions["A"].width = 33
    mine["A1"].comment = Comment("checked by finance", "Ann")
    book.defined_names["Budget"] = DefinedName("Budget", attr_text="'My notes'!$B$2")
    path = folder / "user.xlsx"
    book.save(path)
    return path


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_refresh_keeps_every_user_part(user_book, tmp_path):
    before = hashlib.sha256(user_book.read_bytes()).hexdigest()
    out = tmp_path / "out.xlsx"
    assert main(["recalc", str(user_book), "-o", str(out), "--horizon", "24", "--quiet"]) == 0
    assert hashlib.sha256(user_book.read_bytes()).hexdigest() == before
    old, new = parts(user_book), parts(out)
    changed = {n for n in old if old[n] != new.get(n)}
    # Only the owned sheets, their tables/drawing/charts and the package's indexes change.
    allowed = {f"xl/worksheets/{p}" for p in OWNED_PARTS} | {
        "xl/workbook.xml",
        "xl/styles.xml",
        "[Content_Types].xml",
        "xl/_rels/workbook.xml.rels",
    }
    assert {
        n
        for n in changed
        if not n.startswith(("xl/tables/", "xl/charts/", "xl/drawings/", "xl/worksheets/_rels/"))
    } <= allowed
    assert new["xl/worksheets/sheet3.xml"] == old["xl/worksheets/sheet3.xml"]  # Transactions
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == [*pc.CalamineWorkbook.from_path(str(user_book)).sheet_names]
    mine = book["My notes"]
    assert mine["B1"].value == "=MAX(Customers[Predicted CLV])"
    assert mine["B2"].number_format == '"€"#,##0.00' and mine["B2"].value == 1234.5
    assert mine.column_dimensions["A"].width == 33
    assert mine["A1"].comment.text == "checked by finance"
    assert book.defined_names["Budget"].attr_text == "'My notes'!$B$2"
    assert {"AsOfDate", "HorizonMonths"} <= set(book.defined_names)
    assert 'fullCalcOnLoad="1"' in new["xl/workbook.xml"].decode()  # user formulas recalculate
    customers = pc.CalamineWorkbook.from_path(str(out)).get_sheet_by_name("Customers").to_python()
    assert len(customers) == 1179 and customers[0][-3:] == [
        "Predicted CLV",
        "Predicted CLV (low)",
        "Predicted CLV (high)",
    ]
    assert "CLV over 24 months" in book["Dashboard"]["A2"].value
    # Tables keep distinct ids and the names formulas use.
    tables = {t.name: t.ref for ws in book for t in ws.tables.values()}
    assert tables == {"Customers": "A1:W1179", "Transactions": "A1:E3366"}  # 23 columns


def test_refreshing_again_adds_no_formats(user_book, tmp_path):
    once, twice = tmp_path / "once.xlsx", tmp_path / "twice.xlsx"
    assert main(["recalc", str(user_book), "-o", str(once), "--quiet"]) == 0
    assert main(["recalc", str(once), "-o", str(twice), "--quiet"]) == 0
    assert parts(once)["xl/styles.xml"] == parts(twice)["xl/styles.xml"]
    assert len(parts(twice)) == len(parts(once))


def test_refresh_adds_customers_to_a_workbook_without_it(tmp_path):
    source = tmp_path / "log.xlsx"
    with pd.ExcelWriter(source, engine="xlsxwriter") as writer:
        pd.DataFrame(
            {
                "customer": ["a", "b", "a"],
                "date": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-02-01"]),
                "amount": [10.0, 20.0, 5.0],
            }
        ).to_excel(writer, sheet_name="Transactions", index=False)
        pd.DataFrame({"note": ["mine"]}).to_excel(writer, sheet_name="Notes", index=False)
    out = tmp_path / "out.xlsx"
    refresh_workbook(source, out, recalculate(read_log(source)))
    book = pc.CalamineWorkbook.from_path(str(out))
    assert book.sheet_names == ["Transactions", "Notes", "Customers"]
    assert book.get_sheet_by_name("Notes").to_python() == [["note"], ["mine"]]
    rows = book.get_sheet_by_name("Customers").to_python()
    assert [r[0] for r in rows] == ["Customer", "a", "b"] and rows[1][3] == 2


def test_zip_entries_are_copied_compressed(tmp_path):
    source = tmp_path / "a.zip"
    with zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("keep.xml", b"x" * 10_000)
        z.writestr("change.xml", b"old")
        z.writestr("drop.xml", b"gone")
    out = tmp_path / "b.zip"
    with zipfile.ZipFile(source) as z:
        zipparts.write(out, z, {"change.xml": b"new", "add.xml": b"added"}, {"drop.xml"})
    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None
        assert z.namelist() == ["keep.xml", "change.xml", "add.xml"]
        assert z.read("keep.xml") == b"x" * 10_000 and z.read("change.xml") == b"new"
        assert z.getinfo("keep.xml").compress_size < 100  # still deflated
