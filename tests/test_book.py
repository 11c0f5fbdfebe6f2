"""One recalculation through both adapters: the .xlsx file and the open workbook (xlwings)."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import python_calamine as pc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from clvxl.cli import main  # noqa: E402
from clvxl.customers import CUSTOMER_COLUMNS  # noqa: E402
from clvxl.excel.book import FileBook, recalc_book  # noqa: E402
from clvxl_addin import XlwingsBook  # noqa: E402


class FakeRange:
    def __init__(self, sheet, address, frame=None, row=1):
        self.sheet, self.address, self.frame, self.row = sheet, address, frame, row

    def options(self, convert, index, header):
        assert convert is pd.DataFrame and index is False and header is True
        return self

    @property
    def value(self):
        return self.frame

    @value.setter
    def value(self, block):
        assert self.sheet.name != "Transactions", "Transactions must never be written"
        widths = {len(r) for r in block}
        assert len(widths) == 1, "a block must be rectangular"
        self.sheet.writes.append((self.address, block))

    def resize(self, rows, columns):
        return (rows, columns)


class FakeTable:
    def __init__(self, sheet, frame=None):
        self.range = FakeRange(sheet, "table", frame, row=1)
        self.sized = None

    def resize(self, size):
        self.sized = size


class FakeSheet:
    def __init__(self, name, frame=None):
        self.name, self.writes, self.cleared = name, [], 0
        self.tables = {name: FakeTable(self, frame)}

    def __getitem__(self, address):
        return FakeRange(self, address)

    def clear_contents(self):
        assert self.name != "Transactions"
        self.cleared += 1


class FakeName:
    def __init__(self, value):
        self.refers_to_range = type("Cell", (), {"value": value})()


class FakeBook:
    """Exactly the xlwings calls XlwingsBook makes."""

    def __init__(self, transactions: pd.DataFrame, settings: dict):
        self.sheets = {
            name: FakeSheet(name) for name in ("Customers", "Dashboard", "Analysis", "Model")
        }
        self.sheets["Transactions"] = FakeSheet("Transactions", transactions)
        self.names = {name: FakeName(value) for name, value in settings.items()}


@pytest.fixture(scope="module")
def demo_book(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("book") / "demo.xlsx"
    assert main(["demo", "-o", str(path), "--quiet"]) == 0
    return path


def sheet_values(path: Path, name: str) -> list[list]:
    return pc.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


def test_file_adapter_keeps_transactions_and_input(demo_book, tmp_path):
    before = hashlib.sha256(demo_book.read_bytes()).hexdigest()
    out = tmp_path / "refreshed.xlsx"
    result = recalc_book(FileBook(demo_book, out), {"horizon": 24})
    assert hashlib.sha256(demo_book.read_bytes()).hexdigest() == before
    assert sheet_values(out, "Transactions") == sheet_values(demo_book, "Transactions")
    customers = sheet_values(out, "Customers")
    assert len(customers) - 1 == len(result.customers) == 1178
    assert result.settings.horizon_months == 24  # the override wins over the Settings sheet


def test_both_adapters_compute_the_same_customers(demo_book, tmp_path):
    file_result = recalc_book(FileBook(demo_book, tmp_path / "out.xlsx"))
    transactions = pd.read_excel(
        demo_book,
        sheet_name="Transactions",
        engine="calamine",
        dtype={"customer_id": str, "order_id": str},
    )
    fake = FakeBook(
        transactions,
        {
            "AsOfDate": None,
            "HorizonMonths": 12.0,
            "DiscountRate": 0.1,
            "TimeUnit": "weeks",
            "PurchaseModel": "auto",
        },
    )
    xl_result = recalc_book(XlwingsBook(fake))
    pd.testing.assert_frame_equal(xl_result.customers, file_result.customers)
    address, block = fake.sheets["Customers"].writes[0]
    assert address == "A1" and block[0] == CUSTOMER_COLUMNS and len(block) == 1179
    assert fake.sheets["Customers"].tables["Customers"].sized == (1179, len(CUSTOMER_COLUMNS))
    kpis = dict(fake.sheets["Dashboard"].writes[0][1])
    assert kpis["Customers"] == 1178
    # One write per block: Customers 1, Dashboard 1, Analysis 4, Model 2.
    assert [
        len(fake.sheets[s].writes) for s in ("Customers", "Dashboard", "Analysis", "Model")
    ] == [1, 1, 4, 2]
    titles = [block[0][0] for _, block in fake.sheets["Analysis"].writes]
    assert titles == ["Segments", "Value tiers", "CLV distribution", "Cohort retention"]


def test_settings_sheet_round_trip(demo_book, tmp_path):
    out = tmp_path / "r.xlsx"
    assert main(["recalc", str(demo_book), "-o", str(out), "--margin", "0.4", "--quiet"]) == 0
    result = recalc_book(FileBook(out, tmp_path / "r2.xlsx"))
    assert result.settings.margin == pytest.approx(0.4)
    np.testing.assert_allclose(result.customers["clv_historic"], result.customers["revenue"] * 0.4)
