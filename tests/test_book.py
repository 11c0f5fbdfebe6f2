"""One recalculation through both adapters: the .xlsx file and the open workbook (xlwings)."""

from __future__ import annotations

import hashlib
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import python_calamine as pc
from hypothesis import given
from hypothesis import strategies as st
from xlwings.conversion.numpy_conv import NumpyArrayConverter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from clvxl.cli import main  # noqa: E402
from clvxl.customers import CUSTOMER_COLUMNS  # noqa: E402
from clvxl.errors import InputError  # noqa: E402
from clvxl.excel import addin  # noqa: E402
from clvxl.excel.addin import sheet_grid, typed_column, typed_columns  # noqa: E402
from clvxl.excel.book import FileBook, recalc_book  # noqa: E402
from clvxl.excel.layout import OWNED_SHEETS, Block, Item  # noqa: E402
from clvxl_addin import XlwingsBook  # noqa: E402
from clvxl_addin import main as button  # noqa: E402


class FakeRange:
    def __init__(self, sheet, address, grid=None, row=1):
        self.sheet, self.address, self.grid, self.row = sheet, address, grid, row

    def options(self, convert, ndim, dtype, empty):
        assert convert is np.array and ndim == 2 and dtype is object and empty is None
        return self

    @property
    def value(self):
        return self.grid

    @value.setter
    def value(self, block):
        assert self.sheet.name != "Transactions", "Transactions must never be written"
        assert isinstance(block, np.ndarray) and block.ndim == 2, "one 2-D block per write"
        # what xlwings' own numpy converter hands on to Excel
        self.sheet.writes.append((self.address, NumpyArrayConverter.write_value(block, {})))

    def resize(self, rows, columns):
        return (rows, columns)


class FakeTable:
    def __init__(self, sheet, grid=None):
        self.range = FakeRange(sheet, "table", grid, row=1)
        self.sized = None

    def resize(self, size):
        self.sized = size


class FakeSheet:
    def __init__(self, name, grid=None):
        self.name, self.writes, self.cleared = name, [], 0
        self.tables = {name: FakeTable(self, grid)}

    def __getitem__(self, address):
        return FakeRange(self, address)

    def clear_contents(self):
        assert self.name != "Transactions"
        self.cleared += 1


class FakeSheets(dict):
    """``book.sheets``: by name, and iterating gives the sheets (as xlwings does)."""

    def __iter__(self):
        return iter(self.values())


class FakeName:
    def __init__(self, value):
        self.refers_to_range = type("Cell", (), {"value": value})()


class FakeApp:
    def __init__(self):
        self.alerts = []

    def alert(self, prompt, title=None):
        self.alerts.append((title, prompt))


class FakeBook:
    """Exactly the xlwings calls XlwingsBook makes; Transactions as Excel hands them
    over (one 2-D array, header first, None for empty cells, numbers as floats)."""

    def __init__(self, transactions: pd.DataFrame, settings: dict, sheets=OWNED_SHEETS):
        grid = np.vstack(
            [np.array(transactions.columns, dtype=object), transactions.astype(object).to_numpy()]
        )
        grid[pd.isna(grid)] = None
        self.sheets = FakeSheets({name: FakeSheet(name) for name in sheets})
        self.sheets["Transactions"] = FakeSheet("Transactions", grid)
        self.names = {name: FakeName(value) for name, value in settings.items()}
        self.app = FakeApp()


SETTINGS = {
    "AsOfDate": None,
    "HorizonMonths": 12.0,
    "DiscountRate": 0.1,
    "TimeUnit": "weeks",
    "PurchaseModel": "auto",
}


def excel_transactions(path: Path) -> pd.DataFrame:
    """The Transactions sheet as Excel holds it (the demo's ids are text)."""
    return pd.read_excel(
        path,
        sheet_name="Transactions",
        engine="calamine",
        dtype={"customer_id": str, "order_id": str},
    )


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
    fake = FakeBook(excel_transactions(demo_book), SETTINGS)
    xl_result = recalc_book(XlwingsBook(fake))
    pd.testing.assert_frame_equal(xl_result.customers, file_result.customers)
    # One write per sheet, each one 2-D block from A1.
    assert {s: [a for a, _ in fake.sheets[s].writes] for s in OWNED_SHEETS} == {
        s: ["A1"] for s in OWNED_SHEETS
    }
    customers = fake.sheets["Customers"].writes[0][1]
    assert customers[0][:3] == ["Customer", "First purchase", "Last purchase"]
    assert len(customers) == 1179 and len(customers[0]) == len(CUSTOMER_COLUMNS)
    assert fake.sheets["Customers"].tables["Customers"].sized == (1179, len(CUSTOMER_COLUMNS))
    # The same headers, KPI block and as-of line as the file.
    assert customers[0] == sheet_values(tmp_path / "out.xlsx", "Customers")[0]
    dashboard = fake.sheets["Dashboard"].writes[0][1]
    written = sheet_values(tmp_path / "out.xlsx", "Dashboard")
    assert [r[0] for r in dashboard] == [r[0] or None for r in written[: len(dashboard)]]
    kpis = {r[0]: r[1] for r in dashboard if r[1] is not None}
    assert kpis["Customers"] == 1178
    assert kpis["Top 5% of customers bring (share of historic CLV)"] == pytest.approx(
        0.341, abs=5e-4
    )


def test_button_computes_only_what_the_sheets_show(demo_book):
    fake = FakeBook(excel_transactions(demo_book), SETTINGS, sheets=("Customers", "Dashboard"))
    result = recalc_book(XlwingsBook(fake))
    assert result.holdout.empty and result.cohorts.empty
    assert len(result.customers) == 1178
    with_model = recalc_book(
        XlwingsBook(FakeBook(excel_transactions(demo_book), SETTINGS, ("Customers", "Model")))
    )
    assert len(with_model.holdout) == 9 and with_model.cohorts.empty


def test_button_shows_a_clvxl_error_in_words(monkeypatch):
    bad = pd.DataFrame(
        {"customer_id": [1.0, 2.0], "order_date": ["2024-01-01", "soon"], "amount": [5.0, 6.0]}
    )
    fake = FakeBook(bad, SETTINGS)
    monkeypatch.setattr("xlwings.Book.caller", lambda: fake, raising=False)
    button()
    [(title, message)] = fake.app.alerts
    assert title == "clvxl: Recalculate customers"
    assert message.startswith("Nothing was changed.") and "row 3" in message and "soon" in message
    assert all(not fake.sheets[s].writes for s in OWNED_SHEETS)


def test_button_without_a_transactions_table_says_so(monkeypatch):
    fake = FakeBook(pd.DataFrame({"a": [1.0]}), SETTINGS)
    del fake.sheets["Transactions"]
    monkeypatch.setattr("xlwings.Book.caller", lambda: fake, raising=False)
    button()
    assert "no Transactions table" in fake.app.alerts[0][1]


def test_settings_sheet_round_trip(demo_book, tmp_path):
    out = tmp_path / "r.xlsx"
    assert main(["recalc", str(demo_book), "-o", str(out), "--margin", "0.4", "--quiet"]) == 0
    # The Settings sheet is the user's: an option given on the command line is used
    # and stated on the Dashboard, not written into Settings.
    assert sheet_values(out, "Settings") == sheet_values(demo_book, "Settings")
    assert "in margin (40%)" in sheet_values(out, "Dashboard")[1][0]
    result = recalc_book(FileBook(out, tmp_path / "r2.xlsx"), {"margin": "40%"})
    assert result.settings.margin == pytest.approx(0.4)
    np.testing.assert_allclose(result.customers["clv_historic"], result.customers["revenue"] * 0.4)


def test_a_block_holds_the_cells_excel_takes():
    frame = pd.DataFrame(
        {
            "customer_id": pd.Series(["a", None, "c"], dtype="str"),
            "first_purchase": pd.to_datetime(["2024-01-02", None, "2024-01-02"]),
            "orders": np.array([3, 1, 2], dtype=np.int64),
            "r_score": np.array([5, 1, 2], dtype=np.int8),
            "clv": [1.5, np.nan, -2.0],
            "segment": pd.Categorical(["Loyal", None, "Loyal"]),
            "alive": [True, False, True],
            "visits": pd.array([4, None, 6], dtype="Int64"),
            "gap": pd.to_timedelta([1, None, 2], unit="D"),
        }
    )
    grid = sheet_grid([Item(0, block=Block(None, frame))], "weeks")
    cells = grid[1:].tolist()
    day = pd.Timedelta(days=1)
    assert cells == [
        ["a", datetime(2024, 1, 2), 3, 5, 1.5, "Loyal", True, 4, day],
        [None, None, 1, 1, None, None, False, None, None],
        ["c", datetime(2024, 1, 2), 2, 2, -2.0, "Loyal", True, 6, 2 * day],
    ]
    assert [type(c) for c in cells[0]] == [
        str,
        datetime,
        int,
        int,
        float,
        str,
        bool,
        int,
        pd.Timedelta,
    ]


def cells(*values) -> np.ndarray:
    """A column as xlwings hands it over: an object array."""
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column


def test_excel_columns_are_typed_by_their_cells():
    frame = typed_columns(
        np.array(
            [
                ["order_id ", "customer_id", "order_date", "amount", "note", None],
                ["O1", 123.0, datetime(2024, 1, 2, 3, 4, 5, 6), 9.5, "a", True],
                [None, None, None, None, 1.5, None],
                ["O3", 7.0, datetime(2024, 2, 1), -0.25, None, False],
            ],
            dtype=object,
        )
    )
    assert frame.columns.tolist() == ["order_id", "customer_id", "order_date", "amount", "note", ""]
    assert frame.dtypes.astype(str).tolist() == [
        "str",
        "Int64",
        "datetime64[us]",
        "float64",
        "object",
        "object",
    ]
    assert frame["order_id"].tolist()[::2] == ["O1", "O3"] and pd.isna(frame["order_id"][1])
    assert frame["customer_id"].tolist() == [123, pd.NA, 7]
    assert frame["order_date"].tolist() == [
        pd.Timestamp(2024, 1, 2, 3, 4, 5, 6),
        pd.NaT,
        pd.Timestamp(2024, 2, 1),
    ]
    assert frame["amount"].tolist()[::2] == [9.5, -0.25] and np.isnan(frame["amount"][1])
    # A mixed column keeps every value as it was, of its own type.
    assert [(type(v), v) for v in frame["note"]] == [(str, "a"), (float, 1.5), (type(None), None)]
    assert frame[""].tolist() == [True, None, False]


def test_a_column_excel_cannot_type_in_one_go_keeps_what_pandas_infers():
    aware = typed_column(cells(datetime(2024, 1, 2, tzinfo=timezone.utc), None))
    assert str(aware.dtype) == "datetime64[us, UTC]"
    assert aware[0] == pd.Timestamp("2024-01-02", tz="UTC") and aware[1] is pd.NaT
    text_numbers = typed_column(cells("12.5", 3.0, None))
    assert text_numbers.dtype == object and text_numbers.tolist() == ["12.5", 3.0, None]
    assert typed_column(cells(None, None)).tolist() == [None, None]
    assert typed_column(cells(2.0**53, 1.0)).dtype == np.float64  # past exact integers
    assert len(typed_column(cells())) == 0


@pytest.mark.parametrize(
    ("row", "column", "text", "place"),
    [
        (0, 1, "Kunde\ud800", "row 4, header 2"),  # the table's header on sheet row 4
        (2, 1, "Mü\ud800", "row 6, column 'customer'"),  # a column of text
        (3, 2, "2024-01-0\udc00", "row 7, column 'date'"),  # text among dates
    ],
)
def test_a_broken_character_in_excels_text_is_refused_naming_its_cell(row, column, text, place):
    grid = np.array(
        [["order", "customer", "date"], ["1", "A", datetime(2024, 1, 1)],
         ["2", "B", datetime(2024, 1, 2)], ["3", "C", datetime(2024, 1, 3)]],
        dtype=object,
    )  # fmt: skip
    grid[row, column] = text
    shown = text.encode("utf-8", "backslashreplace").decode("utf-8")
    with pytest.raises(InputError) as refused:
        typed_columns(grid, first_row=5)
    assert str(refused.value) == (
        f"{place}: the text {shown} holds a broken character (half of a UTF-16 pair, which "
        "no file can hold); retype the cell"
    )


EXCEL_CELLS = st.one_of(
    st.floats(),
    st.text(max_size=3),
    st.datetimes(),
    st.datetimes(timezones=st.just(timezone.utc)),
    st.booleans(),
    st.integers(-(2**60), 2**60),
)


@given(
    st.one_of(
        # a column of one kind with empty cells, the common case
        EXCEL_CELLS.flatmap(
            lambda first: st.lists(st.one_of(st.none(), st.from_type(type(first))), max_size=8)
        ),
        st.lists(st.one_of(st.none(), EXCEL_CELLS), max_size=8),
    )
)
def test_typing_a_column_in_one_go_equals_pandas_inference(values):
    column = cells(*values)
    fast = typed_column(column)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(addin, "_CONVERSIONS", {})  # every column through pandas' inference
        inferred = typed_column(column)
    pd.testing.assert_series_equal(fast, inferred, check_exact=True)


def test_a_long_block_holds_every_cell(monkeypatch):
    monkeypatch.setattr(addin, "_ROWS_AT_A_TIME", 7)  # four stretches of 7 rows and one of 1
    n = 29
    frame = pd.DataFrame(
        {
            "clv": np.where(np.arange(n) % 4 == 3, np.nan, np.arange(n) / 2),
            "orders": np.arange(n),
            "customer_id": pd.Series([f"c{i}" if i % 5 else None for i in range(n)], dtype="str"),
            "segment": pd.Categorical(["Loyal" if i % 2 else None for i in range(n)]),
        }
    )
    grid = sheet_grid([Item(2, block=Block("Top customers", frame))], "weeks")
    assert grid[:4].tolist() == [
        [None] * 4,
        [None] * 4,
        ["Top customers", None, None, None],
        ["Predicted CLV", "Orders", "Customer", "Segment"],
    ]
    expected = [
        [
            None if i % 4 == 3 else i / 2,
            i,
            f"c{i}" if i % 5 else None,
            "Loyal" if i % 2 else None,
        ]
        for i in range(n)
    ]
    assert grid[4:].tolist() == expected
    assert {type(row[0]) for row in grid[4:]} == {float, type(None)}
    assert {type(row[1]) for row in grid[4:]} == {int}
