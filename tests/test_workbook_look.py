"""How the sheets look: money in the Settings' currency in both writers, the value
concentration's labels, Yes / No in the model comparison, the Model sheet's page."""

from __future__ import annotations

import dataclasses
import re
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from clvxl.cli import main
from clvxl.errors import InputError
from clvxl.excel import layout
from clvxl.excel.book import FileBook, recalc_book
from clvxl.excel.workbook import read_settings, write_result_workbook
from clvxl.recalc import Settings, recalculate
from clvxl.sources import demo_log

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_book import SETTINGS, FakeBook, FakeRange, excel_transactions

from clvxl.sources.package import cell_name
from clvxl_addin import XlwingsBook

EURO = "[$€-x-euro2] #,##0.00"
POUND = "[$£-809]#,##0.00"
PLAIN = "#,##0.00"


@pytest.fixture(scope="module")
def demo():
    raw = demo_log()
    return raw, recalculate(raw, Settings(currency="€"), tables=frozenset({"holdout", "cohorts"}))


def in_currency(result, currency):
    return dataclasses.replace(
        result, settings=dataclasses.replace(result.settings, currency=currency)
    )


@pytest.fixture(scope="module")
def books(demo, tmp_path_factory):
    """The demo workbook written in euros and in plain numbers."""
    raw, result = demo
    folder = tmp_path_factory.mktemp("look")
    return {
        currency: write_result_workbook(
            folder / f"{currency}.xlsx", raw.table, in_currency(result, currency)
        )
        for currency in ("EUR", None)
    }


def header_formats(sheet, header_row: int = 1) -> dict[str, str]:
    """Header → the number format of the first cell below it."""
    headers = [c.value for c in sheet[header_row]]
    return {h: sheet.cell(header_row + 1, i + 1).number_format for i, h in enumerate(headers) if h}


def kpi_formats(sheet) -> dict[str, str]:
    return {
        sheet.cell(r, 1).value: sheet.cell(r, 2).number_format
        for r in range(4, 30)
        if isinstance(sheet.cell(r, 2).value, (int, float))
    }


def test_the_currency_setting_is_read_and_refused_in_words():
    assert Settings.from_mapping({"currency": " gbp "}).currency == "GBP"
    assert Settings.from_mapping({"currency": "€"}).currency == "EUR"
    assert Settings.from_mapping({"currency": ""}).currency is None
    with pytest.raises(InputError, match=r"Currency cell on the Settings sheet.*one of EUR, USD"):
        Settings.from_mapping({"currency": "Euro"})


@pytest.mark.parametrize(("currency", "money"), [("EUR", EURO), (None, PLAIN)])
def test_every_money_column_and_kpi_has_the_currency_format(books, currency, money):
    book = openpyxl.load_workbook(books[currency])
    customers = header_formats(book["Customers"])
    for header in (
        "Revenue",
        "Average order value",
        "Average repeat order value",
        "Historic CLV",
        "Expected order value",
        "Predicted CLV",
        "Predicted CLV (low)",
        "Predicted CLV (high)",
    ):
        assert customers[header] == money, header
    assert customers["Orders"] == "#,##0" and customers["P(alive)"] == "0.0%"
    kpis = kpi_formats(book["Dashboard"])
    for name in (
        "Revenue",
        "Average order value",
        "Average historic CLV",
        "Total CLV (next 12 months)",
    ):
        assert kpis[name] == money, name
    assert kpis["Customers"] == "#,##0" and kpis["Churn rate (last 8 months)"] == "0.0%"
    assert kpis["Purchase frequency"] == "#,##0.00"
    assert header_formats(book["Transactions"])["amount"] == money
    settings = book["Settings"]
    row = next(r for r in range(1, 30) if settings.cell(r, 3).value == "currency")
    assert settings.cell(row, 2).value == currency
    assert read_settings(books[currency])["currency"] == (currency or "")  # a blank cell


def test_a_subscription_kpi_in_money_is_money():
    for name in ("MRR", "ARPA (MRR per active subscriber)", "LTV = ARPA × margin / churn", "CAC"):
        assert layout.kpi_kind(name) == "money", name
    assert layout.kpi_kind("LTV:CAC") == "dec" and layout.kpi_kind("Gross margin") == "pct"
    assert layout.number_format("money", "JPY") == "[$¥-411]#,##0"


def test_a_refreshed_workbook_has_the_same_formats(books, tmp_path):
    # The currency on the Settings sheet (EUR) is read back and the refreshed sheets
    # carry it; an option overrides it (GBP), without touching Settings.
    for override, money in ((None, EURO), ("GBP", POUND)):
        out = tmp_path / f"refreshed-{override}.xlsx"
        overrides = {"currency": override} if override else None
        result = recalc_book(FileBook(books["EUR"], out), overrides)
        assert result.settings.currency == (override or "EUR")
        book = openpyxl.load_workbook(out)
        customers = header_formats(book["Customers"])
        assert customers["Predicted CLV"] == money and customers["Historic CLV"] == money
        assert kpi_formats(book["Dashboard"])["Revenue"] == money
        assert header_formats(book["Transactions"])["amount"] == EURO  # the user's sheet


def test_the_button_sets_the_same_formats(books, monkeypatch):
    formats: dict[tuple[str, str], str] = {}

    def number_format(self, code):
        formats[(self.sheet.name, self.address)] = code

    monkeypatch.setattr(FakeRange, "number_format", property(fset=number_format), raising=False)
    book = FakeBook(excel_transactions(books["EUR"]), {**SETTINGS, "Currency": "£"})
    result = recalc_book(XlwingsBook(book))
    n = len(result.customers) + 1
    columns = list(result.customers.columns)
    for first, last in (("revenue", "monetary"), ("expected_avg_value", "clv_high")):
        cells = [
            cell_name(1, columns.index(first)),
            cell_name(n - 1, columns.index(last)),
        ]
        assert formats[("Customers", ":".join(cells))] == POUND, first
    assert formats[("Customers", f"D2:E{n}")] == "#,##0"  # orders, repeat purchases
    revenue = 4 + list(result.kpis["kpi"]).index("Revenue")
    assert formats[("Dashboard", f"B{revenue}:B{revenue}")] == POUND
    assert formats[("Dashboard", "B4:B4")] == "#,##0"  # Customers


def test_value_concentration_says_whom_each_share_counts(books):
    book = openpyxl.load_workbook(books["EUR"])
    rows = list(book["Analysis"].iter_rows(values_only=True))
    title = layout.PLACES["tiers"][1]
    at = next(i for i, r in enumerate(rows) if r[0] == title)
    header = rows[at + 1]
    tier, counted = header.index("Tier"), header.index("Cumulative: customers")
    share, cumulative = header.index("Share of value"), header.index("Cumulative share of value")
    assert counted == cumulative - 1
    body = rows[at + 2 : at + 6]
    assert [r[tier] for r in body] == ["Top 1%", "Top 5%", "Top 20%", "Rest"]
    assert [r[counted] for r in body] == ["Top 1%", "Top 5%", "Top 20%", "All customers"]
    assert body[-1][cumulative] == pytest.approx(1.0)
    assert body[-1][share] == pytest.approx(1 - body[-2][cumulative])  # the rest's own share
    # The chart's bars are named by the cumulative column: no bar reads "Rest 100%".
    column = chr(ord("A") + counted)
    with zipfile.ZipFile(books["EUR"]) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    bars = [c for c in charts if 'barDir val="bar"' in c]
    assert len(bars) == 1
    assert f"<c:f>Analysis!${column}${at + 3}:${column}${at + 6}</c:f>" in bars[0]


def test_model_comparison_reads_yes_and_no(books, demo):
    _, result = demo
    rows = list(openpyxl.load_workbook(books["EUR"])["Model"].iter_rows(values_only=True))
    at = next(i for i, r in enumerate(rows) if r[0] == layout.PLACES["model_comparison"][1])
    header = rows[at + 1]
    body = rows[at + 2 : at + 2 + len(result.model_comparison)]
    chosen = [r[header.index("Chosen")] for r in body]
    alive = [r[header.index("One time buyers alive")] for r in body]
    expected = result.model_comparison
    assert chosen == ["Yes" if v else "No" for v in expected["chosen"]]
    assert alive == ["Yes" if v else "No" for v in expected["one_time_buyers_alive"]]
    # the demo: BG/NBD holds one-time buyers alive; Pareto/NBD is chosen
    by_model = dict(zip(expected["model"], zip(alive, chosen, strict=True), strict=True))
    assert by_model["bgnbd"] == ("Yes", "No") and by_model["paretonbd"] == ("No", "Yes")
    # a number column's header sits over its right-aligned numbers; a text column's does not
    sheet = openpyxl.load_workbook(books["EUR"])["Model"]
    aligned = {c.value: c.alignment.horizontal for c in sheet[at + 2] if c.value}
    assert aligned["Error 0"] == "right" and aligned["Calibration loglik"] == "right"
    assert aligned["Label"] is None and aligned["Chosen"] is None


def test_the_model_sheet_prints_one_page_wide(books):
    with zipfile.ZipFile(books["EUR"]) as z:
        workbook = z.read("xl/workbook.xml").decode()
        names = re.findall(r'<sheet name="([^"]+)"', workbook)
        model = z.read(f"xl/worksheets/sheet{names.index('Model') + 1}.xml").decode()
    assert '<pageSetUpPr fitToPage="1"/>' in model
    setup = re.search(r"<pageSetup [^>]*/>", model)[0]
    assert 'orientation="landscape"' in setup and 'fitToHeight="0"' in setup  # width: 1


def test_a_bad_currency_on_the_settings_sheet_is_refused_and_nothing_written(
    books, tmp_path, capsys
):
    edited = openpyxl.load_workbook(books[None])
    settings = edited["Settings"]
    row = next(r for r in range(1, 30) if settings.cell(r, 3).value == "currency")
    settings.cell(row, 2).value = "dollars"
    typed = tmp_path / "typed.xlsx"
    edited.save(typed)
    out = tmp_path / "out.xlsx"
    assert main(["recalc", str(typed), "-o", str(out), "--quiet"]) != 0
    message = capsys.readouterr().err
    assert "currency (the Currency cell on the Settings sheet) must be empty" in message
    assert "EUR, USD, GBP" in message and "got 'dollars'" in message
    assert not out.exists()

