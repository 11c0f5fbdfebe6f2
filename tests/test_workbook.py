"""The template workbook and workbook output: structure, formulas, text never a formula."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from clvxl.cli import main
from clvxl.excel import ADDIN, TEMPLATE, build_template
from clvxl.excel.calculator import EXAMPLES
from clvxl.excel.freeze import CLVXL_FUNCTIONS, freeze
from clvxl.excel.workbook import SETTING_NAMES, SHEETS, read_settings, write_result_workbook
from clvxl.recalc import recalculate


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return build_template(tmp_path_factory.mktemp("template") / "template.xlsx")


def contents(path: Path) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(path, read_only=True)
    return {
        ws.title: [tuple(c for c in row) for row in ws.iter_rows(values_only=True)] for ws in book
    }


def test_committed_template_matches_what_the_code_builds(built):
    # Numbers may differ in the last digits: the summary's sums run in parallel and the
    # model fits stop within ~1e-8 of the optimum.
    committed, rebuilt = contents(TEMPLATE), contents(built)
    assert committed.keys() == rebuilt.keys()
    for sheet in committed:
        assert len(committed[sheet]) == len(rebuilt[sheet]), sheet
        for old, new in zip(committed[sheet], rebuilt[sheet], strict=True):
            assert len(old) == len(new), sheet
            for a, b in zip(old, new, strict=True):
                assert a == pytest.approx(b, rel=1e-7) if isinstance(a, float) else a == b, (
                    sheet,
                    a,
                    b,
                )


def test_template_structure(built):
    book = openpyxl.load_workbook(built)
    assert book.sheetnames == list(SHEETS)
    assert set(book["Transactions"].tables) == {"Transactions"}
    assert set(book["Customers"].tables) == {"Customers"}
    assert book["Transactions"].tables["Transactions"].ref == "A1:E3366"
    names = set(book.defined_names)
    assert {name for name, _, _ in SETTING_NAMES.values()} <= names
    assert book.defined_names["DiscountRate"].attr_text == "Settings!$B$6"
    validations = book["Transactions"].data_validations.dataValidation
    assert {v.type for v in validations} == {"date", "decimal"}
    with zipfile.ZipFile(built) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        workbook_xml = z.read("xl/workbook.xml").decode()
    assert len(charts) == 4
    assert "fullCalcOnLoad" not in workbook_xml  # opens on its cached values


def test_calculator_calls_every_function_with_cached_core_values(built):
    sheet = openpyxl.load_workbook(built)["Calculator"]
    values = openpyxl.load_workbook(built, data_only=True)["Calculator"]
    formulas = {
        sheet.cell(r, 1).value: (sheet.cell(r, 3).value, values.cell(r, 3).value)
        for r in range(5, 5 + len(EXAMPLES) + 1)
    }
    for example in EXAMPLES:
        formula, cached = formulas[example.function]
        assert formula.startswith(f"={example.function}(")
        assert (
            cached == pytest.approx(example.value())
            if not isinstance(cached, str)
            else cached == example.value()
        )
    assert formulas["CLV"][1] == pytest.approx(673.3333, abs=1e-4)  # seed example
    assert formulas["GROSS_MARGIN"][1] == pytest.approx(0.4125)
    assert formulas["VALUE_TIER"][0] == "=VALUE_TIER(F23,Customers[Historic CLV])"
    called = {m for f, _ in formulas.values() for m in re.findall(r"=([A-Z_]+)\(", f)}
    assert called <= set(CLVXL_FUNCTIONS)


def test_data_text_is_never_a_formula(tmp_path):
    hostile = ["=1+1", "+cmd|'/C calc'!A0", "@SUM(A1)", "-2+3", '=HYPERLINK("http://x")']
    raw = pd.DataFrame(
        {
            "customer": hostile * 2,
            "date": ["2024-01-01"] * 5 + ["2024-02-01"] * 5,
            "amount": [10.0, 20, 30, 40, 50, 5, 6, 7, 8, 9],
        }
    )
    out = write_result_workbook(tmp_path / "x.xlsx", raw, recalculate(raw))
    with zipfile.ZipFile(out) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
    assert not any("<f>" in s for s in sheets)
    for value in ("=1+1", "@SUM(A1)", "-2+3"):
        assert any(f'<t xml:space="preserve">{value}</t>' in s for s in sheets)
    customers = openpyxl.load_workbook(out)["Customers"]
    assert sorted(c.value for c in customers["A"][1:]) == sorted(hostile)


def test_settings_sheet_is_read_back(built):
    values = read_settings(built)
    assert values["horizon"] == 12 and values["unit"] == "weeks" and values["model"] == "auto"


def test_freeze_replaces_clvxl_formulas_by_values(built, tmp_path, capsys):
    out = tmp_path / "frozen.xlsx"
    assert main(["freeze", str(built), "-o", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"{len(EXAMPLES) + 1} clvxl formula(s) replaced")
    frozen = openpyxl.load_workbook(out)
    calc = frozen["Calculator"]
    assert calc["C5"].value == 40  # was =AOV(F5,H5)
    assert calc["C19"].value == "Champions"  # a text result stays text
    help_rows = [
        r for r in frozen["Help"].iter_rows(values_only=True) if r[0] == "Frozen for sharing"
    ]
    assert len(help_rows) == 1 and "horizon=12" in help_rows[0][1]
    with zipfile.ZipFile(out) as z:
        assert not any("<f>" in z.read(n).decode() for n in z.namelist() if "worksheets/sheet" in n)
        assert len([n for n in z.namelist() if n.startswith("xl/charts/")]) == 4  # charts kept
    with pytest.raises(Exception, match="give an output other than the input"):
        freeze(built, built)


def test_addin_zip_ribbon_and_config():
    with zipfile.ZipFile(ADDIN) as z:
        assert z.testzip() is None
        names = set(z.namelist())
        ribbon = z.read("customUI/customUI.xml").decode()
        rels = z.read("_rels/.rels").decode()
        conf = z.read("xl/worksheets/sheet1.xml").decode()
    import defusedxml.ElementTree as ET

    ns = {"c": "http://schemas.microsoft.com/office/2006/01/customui"}
    root = ET.fromstring(ribbon)
    tab = root.find(".//c:tab", ns)
    button = root.find(".//c:button", ns)
    assert tab.get("label") == "CLV"
    assert button.get("label") == "Recalculate customers"
    assert button.get("onAction") == "RibbonMyAddin.RunMain"  # the template's VBA callback
    assert (
        'Type="http://schemas.microsoft.com/office/2007/relationships/ui/extensibility" Target="customUI/customUI.xml"'
        in rels
    )
    assert "xl/vbaProject.bin" in names
    assert '<c r="B6" s="1" t="inlineStr"><is><t>udfs</t></is></c>' in conf  # UDF Modules = udfs


def test_column_widths_fit_the_longest_value_and_the_header(built):
    """No truncated label: each Customers column is as wide as its longest value as
    formatted, and its header fits on two lines; the Dashboard's labels fit column A."""
    book = openpyxl.load_workbook(built)
    sheet = book["Customers"]
    for column in sheet.iter_cols(min_row=1, max_row=sheet.max_row):
        letter = column[0].column_letter
        width = sheet.column_dimensions[letter].width
        header = column[0].value
        longest = 0
        for cell in column[1:]:
            if isinstance(cell.value, float) and "0.00" in cell.number_format:
                longest = max(longest, len(f"{cell.value:,.2f}"))
            elif isinstance(cell.value, str):
                longest = max(longest, len(cell.value))
        assert width >= longest, (letter, width, longest)
        assert width >= len(header) / 2, (letter, header)
    dashboard = book["Dashboard"]
    labels = [
        c.value for c in dashboard["A"] if isinstance(c.value, str) and c.row > 3 and c.row < 30
    ]
    assert dashboard.column_dimensions["A"].width >= max(len(t) for t in labels)
