"""The functions through xlwings' own Office.js dispatch (what xlwings Lite and Server run),
with the payloads Office.js sends: every argument a 2-D array, null for an empty cell.

The Office.js decorators are chosen when xlwings is imported (``XLWINGS_ON_SERVER``), and
``xlwings.server`` wants a licence key, so each case runs in a child process with that
environment (``noncommercial``: for these tests only; the product never needs it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import xlwings

ROOT = Path(__file__).resolve().parents[1]

_DISPATCH = """
import asyncio, json, sys
import xlwings
from xlwings.server import custom_functions_call
import udfs
calls = json.loads(sys.stdin.read())
out = []
for name, args in calls:
    data = {"func_name": name, "args": args, "version": xlwings.__version__,
            "client": "Office.js", "runtime": "1.4", "culture_info_name": "en-US",
            "date_format": "yyyy-mm-dd"}
    out.append(asyncio.run(custom_functions_call(data, udfs)))
print(json.dumps(out))
"""


def dispatch(*calls: tuple[str, list]) -> list:
    env = {
        **os.environ,
        "XLWINGS_ON_SERVER": "true",
        "XLWINGS_LICENSE_KEY": "noncommercial",
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-c", _DISPATCH],
        input=json.dumps(calls),
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def column(*values):
    return [[v] for v in values]


VALUE = {"type": "Error", "errorType": "Value"}
NUM = {"type": "Error", "errorType": "Num"}


@pytest.fixture(scope="module")
def results():
    blanks = [[None]] * 200
    return dispatch(
        ("AOV", [[[800000]], [[20000]]]),
        ("AOV", [column("revenue", 100, 90) + blanks, column("orders", 4, 3) + blanks]),
        ("AOV", [[[None]], [[2]]]),
        ("AOV", [[[True]], [[2]]]),
        ("CLV", [[[50]], [["80%"]], [[0.05]], [[None]]]),
        ("CLV", [[[50]], [[40]], [[0.05]], [[None]]]),
        ("CLV_WHY", [[["CLV"]], [[50]], [[40]], [[0.05]]]),
        ("FIT_BGNBD", [column(0, 0), column(0, 0), column(5, 5)]),
        ("VALUE_TIER", [column(*range(1, 11)), column(*range(1, 11))]),
        (
            "RFM_SCORES",
            [
                column("customer_id", "a", "a", "b") + blanks,
                column("order_date", 45292, 45352, 45323) + blanks,
                column("amount", 10, 20, 5) + blanks,
                [[None]],
            ],
        ),
        ("P_ALIVE", [[[2]], [[30.43]], [[38.86]], [["r"]], [[4.414]], [[0.793]], [[2.426]]]),
    )


def test_values_come_back_as_cells(results):
    assert results[0] == [[40.0]]
    assert results[1] == [[25.0], [30.0]]  # whole columns: header and blanks ignored
    assert results[4] == [[800.0]]  # "80%" is 0.80


def test_errors_are_real_excel_error_values(results):
    assert results[2] == [[VALUE]]  # a blank required argument
    assert results[3] == [[VALUE]]  # TRUE is not a number
    assert results[5] == [[VALUE]]  # 40 is not a fraction
    assert results[7] == [[NUM]]  # the model cannot be fitted
    assert results[10] == [[VALUE]]  # a parameter given as text


def test_the_reason_is_reachable(results):
    assert results[6] == [
        ["#VALUE! CLV: gross_margin is a fraction between 0 and 1 (write 40% or 0.4), got 40"]
    ]


def test_columns_and_tables(results):
    # Ten customers: the top 20 % are two, the top 1 % (and 5 %) one.
    assert [row[0] for row in results[8]] == ["Rest"] * 8 + ["Top 20%", "Top 1%"]
    assert [row[0] for row in results[9]] == ["customer_id", "a", "b"]


def test_the_product_path_needs_no_licence_key():
    env = {k: v for k, v in os.environ.items() if k != "XLWINGS_LICENSE_KEY"}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-c", "import udfs, clvxl_addin; print(udfs.AOV(10, 2))"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.strip() == "5.0", done.stderr[-2000:]
    assert xlwings.__version__  # the tests run against the installed xlwings
