"""The Excel functions in udfs.py, called as Python, and the VBA xlwings generates for them."""

from __future__ import annotations

import datetime as dt
import importlib
import io
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import udfs  # noqa: E402
from clvxl.excel import udfs as excel_udfs  # noqa: E402
from clvxl.excel.freeze import CLVXL_FUNCTIONS  # noqa: E402

PAPER = (0.243, 4.414, 0.793, 2.426)


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda: udfs.AOV(800_000, 20_000), 40.0),
        (lambda: udfs.PURCHASE_FREQUENCY(20_000, 8_000), 2.5),
        (lambda: udfs.COGS(180_000, 450_000, 160_000), 470_000.0),
        (lambda: udfs.GROSS_MARGIN(800_000, 470_000), 0.4125),
        (lambda: udfs.CHURN(1000, 950, 100), 0.15),
        (lambda: udfs.RETENTION(1000, 950, 100), 0.85),
        (lambda: udfs.LIFETIME(0.25), 4.0),
        (lambda: udfs.ARPU(120_000, 1_000, 12), 10.0),
        (lambda: udfs.CUSTOMER_VALUE(40, 2.5), 100.0),
        (lambda: udfs.CLV_SIMPLE(40, 2.5, 4), 400.0),
        (lambda: udfs.CLV(50, 0.8, 0.05), 800.0),
        (lambda: udfs.CAC(50_000, 400), 125.0),
        (lambda: udfs.LTV_CAC(375, 125), 3.0),
        (lambda: udfs.CAC_PAYBACK(125, 50, 0.5), 5.0),
        (lambda: udfs.RFM_SEGMENT(5, 5, 4), "Champions"),
        (lambda: udfs.VALUE_TIER(96, list(range(1, 101))), "Top 5%"),
        (lambda: udfs.P_ALIVE(2, 30.43, 38.86, *PAPER), pytest.approx(0.7266, abs=1e-4)),
        (
            lambda: udfs.EXPECTED_PURCHASES(39, 2, 30.43, 38.86, *PAPER),
            pytest.approx(1.226, abs=5e-4),
        ),
        (
            lambda: udfs.CLV_PREDICTED(2, 30.43, 38.86, 22.35, *PAPER, 6.25, 3.74, 15.44),
            pytest.approx(36.75, abs=0.01),
        ),
    ],
)
def test_functions_give_the_core_values(call, expected):
    assert call() == expected


def test_columns_in_column_out():
    assert udfs.AOV([[100], [90]], [[4], [3]]) == [[25.0], [30.0]]
    assert udfs.RFM_SEGMENT([[5], [1]], [[1], [5]], [[1], [4]]) == [
        ["New Customers"],
        ["Can't Lose Them"],
    ]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: udfs.CLV(50, 0.8, 1.5),
            "#VALUE! CLV: churn is a fraction between 0 and 1 (write 40% or 0.4), got 1.5",
        ),
        (lambda: udfs.AOV(100, 0), "#VALUE! AOV: orders must be positive, got 0"),
        (lambda: udfs.AOV("lots", 2), "#VALUE! AOV: revenue must be a number, got the text 'lots'"),
        (lambda: udfs.LIFETIME(None), "#VALUE! LIFETIME: churn is empty"),
        (lambda: udfs.AOV(True, 2), "#VALUE! AOV: revenue must be a number, got a logical"),
        (
            lambda: udfs.CLV(50, 40, 0.05),
            "#VALUE! CLV: gross_margin is a fraction between 0 and 1 (write 40% or 0.4), got 40",
        ),
        (
            lambda: udfs.AOV([[1.0], [None], [3.0]], [[1], [1], [1]]),
            "#VALUE! AOV: revenue is empty (cell 2 of the range)",
        ),
        (
            lambda: udfs.P_ALIVE(2, 30, 38, "r", 4.4, 0.8, 2.4),
            "#VALUE! P_ALIVE: r must be a number, got the text 'r'",
        ),
        (
            lambda: udfs.RFM_SEGMENT(6, 1, 1),
            "#VALUE! RFM_SEGMENT: R must be a whole number from 1 to 5, got 6",
        ),
        (
            lambda: udfs.P_ALIVE(2, 40, 30, *PAPER),
            "#VALUE! P_ALIVE: recency must be between 0 and T",
        ),
        (
            lambda: udfs.FIT_BGNBD([0, 0], [0, 0], [5, 5]),
            "#NUM! FIT_BGNBD: no customer has bought more than once",
        ),
        (
            lambda: udfs.CUSTOMERS(["a", "b"], ["2024-01-01"], [1.0]),
            "#VALUE! CUSTOMERS: customer_ids, dates and amounts must be columns of the same length",
        ),
    ],
)
def test_wrong_arguments_give_a_readable_cell_not_a_traceback(call, message):
    text = call()
    assert text.startswith(message)
    assert "Traceback" not in text


def test_classic_windows_returns_a_com_error_variant_as_cverr_would(monkeypatch):
    # pywin32 turns a win32com.client.VARIANT returned by xlwings' COM server into that
    # VARIANT (oleargs.cpp, PyCom_VariantFromPyObject), so the VBA wrapper's cell gets a
    # real error. The codes are the ones Excel hands over through COM when it is read.
    import types

    pythoncom = types.ModuleType("pythoncom")
    pythoncom.VT_ERROR = 10
    client = types.ModuleType("win32com.client")
    client.VARIANT = lambda vt, value: ("VARIANT", vt, value)
    win32com = types.ModuleType("win32com")
    win32com.client = client
    monkeypatch.setitem(sys.modules, "pythoncom", pythoncom)
    monkeypatch.setitem(sys.modules, "win32com", win32com)
    monkeypatch.setitem(sys.modules, "win32com.client", client)
    monkeypatch.setattr(excel_udfs, "_RUNTIME", "com")
    assert udfs.AOV(100, 0) == ("VARIANT", 10, -2146826273)  # #VALUE! = 0x800A07DF
    assert udfs.FIT_BGNBD([0, 0], [0, 0], [5, 5]) == ("VARIANT", 10, -2146826252)  # #NUM!
    assert udfs.CLV_WHY("AOV", 100, 0) == "#VALUE! AOV: orders must be positive, got 0"
    assert udfs.AOV(800_000, 20_000) == 40.0


def test_customer_table_spills_with_a_header():
    ids = [["a"], ["a"], ["b"], ["c"]]
    dates = [[dt.datetime(2024, 1, 1)], [dt.datetime(2024, 2, 1)], [45300.0], ["2024-03-01"]]
    amounts = [[10.0], [20.0], [5.0], ["$7.00"]]
    table = udfs.CUSTOMERS(ids, dates, amounts)
    assert table[0][:4] == ["customer_id", "first_purchase", "last_purchase", "orders"]
    assert [row[0] for row in table[1:]] == ["a", "b", "c"]
    assert [row[7] for row in table[1:]] == [30.0, 5.0, 7.0]  # revenue
    scores = udfs.RFM_SCORES(ids, dates, amounts)
    assert scores[0] == ["customer_id", "r_score", "f_score", "m_score", "rfm", "segment"]


def test_fit_bgnbd_spills_parameters(reference_data):
    import pandas as pd

    data = pd.read_csv(reference_data / "cdnow_customers_summary_with_transactions.csv")
    table = udfs.FIT_BGNBD(data["x"].tolist(), data["t_x"].tolist(), data["T"].tolist())
    assert table[0] == ["parameter", "value"]
    assert [row[0] for row in table[1:]] == ["r", "alpha", "a", "b", "log-likelihood"]
    assert round(table[1][1], 3) == 0.243


def test_generated_vba_declares_every_function(monkeypatch):
    """With the classic decorators, xlwings' generate_vba_wrapper writes valid declarations."""
    import types

    import xlwings

    # xlwings.udfs imports the Windows COM modules at the top; stand-ins let it load here.
    com = types.ModuleType("pythoncom")
    com.CoInitialize = lambda: None
    client = types.ModuleType("win32com.client")
    client.Dispatch = None
    for name, module in {
        "pythoncom": com,
        "pywintypes": types.ModuleType("pywintypes"),
        "win32com": types.ModuleType("win32com"),
        "win32com.client": client,
    }.items():
        monkeypatch.setitem(sys.modules, name, module)
    xlwings_udfs = importlib.import_module("xlwings.udfs")

    monkeypatch.setattr(xlwings, "func", xlwings_udfs.xlfunc)
    monkeypatch.setattr(xlwings, "arg", xlwings_udfs.xlarg)
    monkeypatch.setattr(xlwings, "ret", xlwings_udfs.xlret)
    importlib.reload(excel_udfs)  # its decorators, now the classic ones
    classic = importlib.reload(udfs)
    try:
        out = io.StringIO()

        class Book:
            Name = "clvxl_addin.xlam"

        xlwings_udfs.generate_vba_wrapper("udfs", classic, out, Book())
        vba = out.getvalue()
        registered = {n: f.__xlfunc__ for n, f in vars(classic).items() if hasattr(f, "__xlfunc__")}
    finally:
        monkeypatch.undo()
        importlib.reload(excel_udfs)
        importlib.reload(udfs)
    names = list(excel_udfs.__all__)
    assert set(CLVXL_FUNCTIONS) <= set(names)
    declared = re.findall(r"^Function (\w+)\((.*)\)$", vba, re.M)
    assert sorted(name for name, _ in declared) == sorted(names)
    for name, args in declared:
        params = [
            a.strip().removeprefix("Optional ").removeprefix("ParamArray ").removesuffix("()")
            for a in args.split(",")
            if a.strip()
        ]
        assert all(re.fullmatch(r"[A-Za-z]\w*", p) for p in params), name
        assert len({p.lower() for p in params}) == len(params), f"{name}: VBA names ignore case"
    assert vba.count("End Function") == len(names)
    assert (
        'CLV = XLPy.CallUDF("udfs", "CLV", Array(arpu, gross_margin, churn, discount_rate), '
        "ActiveWorkbook, Application.Caller)" in vba
    )
    # Help text for the function wizard on every function and argument.
    assert sorted(registered) == sorted(names)
    for info in registered.values():
        assert info["ret"]["doc"]
        assert all(not a["doc"].startswith("Positional argument") for a in info["args"])


def test_whole_columns_lose_trailing_blanks_and_a_header():
    revenue = [["revenue"], [100.0], [90.0], *[[None]] * 1000]
    orders = [["orders"], [4.0], [3.0], *[[None]] * 1000]
    assert udfs.AOV(revenue, orders) == [[25.0], [30.0]]
    ids = [["customer_id"], ["a"], ["a"], ["b"], *[[None]] * 50]
    dates = [["order_date"], ["2024-01-01"], ["2024-03-01"], ["2024-02-01"], *[[None]] * 50]
    amounts = [["amount"], [10.0], [20.0], [5.0], *[[None]] * 50]
    scores = udfs.RFM_SCORES(ids, dates, amounts)
    assert [row[0] for row in scores] == ["customer_id", "a", "b"]


def test_fractions_follow_one_rule():
    assert udfs.CLV(50, "80%", 0.05) == udfs.CLV(50, 0.8, 0.05) == 800.0
    assert udfs.CLV_SIMPLE(40, 2.5, 4, "50%") == 200.0
    assert udfs.CHURN(1000, 950, None) == 0.05  # a blank optional argument takes its default


def test_value_tier_takes_a_column():
    values = [[v] for v in range(1, 101)]
    tiers = udfs.VALUE_TIER(values, values)
    assert tiers[-1] == ["Top 1%"] and tiers[-2] == ["Top 5%"] and tiers[0] == ["Rest"]
    assert udfs.VALUE_TIER([[96], [None]], values) == "Top 5%"


def test_clv_why_gives_the_reason_for_the_same_arguments():
    assert udfs.CLV_WHY("CLV", 50, 0.8, 1.5) == (
        "#VALUE! CLV: churn is a fraction between 0 and 1 (write 40% or 0.4), got 1.5"
    )
    assert udfs.CLV_WHY("clv", 50, 0.8, 0.05) == ""
    assert udfs.CLV_WHY("NOPE").startswith("#VALUE! CLV_WHY: 'NOPE' is not a clvxl function")
