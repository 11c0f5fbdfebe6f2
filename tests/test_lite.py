"""clvxl for xlwings Lite: the wheel, main.py and requirements.txt ``clvxl build-lite``
writes, run through xlwings' own Office.js function and script dispatch from the wheel's
contents alone, importing only what Pyodide has."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from clvxl.cli import main
from clvxl.excel.lite import REQUIREMENTS

ROOT = Path(__file__).resolve().parents[1]

#: Top-level modules Pyodide 314.0.7 ships or installs from PyPI as pure Python (see
#: /work/shared/EXCEL-NOTES.md), and the dependencies they pull in.
PYODIDE = {
    "numpy",
    "pandas",
    "scipy",
    "pyarrow",
    "duckdb",
    "python_calamine",
    "threadpoolctl",
    "xlsxwriter",
    "openpyxl",
    "defusedxml",
    "et_xmlfile",
    "xlwings",
    "dateutil",
    "pytz",
    "tzdata",
    "six",
    "cython_runtime",  # the module Cython-built extensions (pandas, scipy) register
    "clvxl",
    "udfs",
    "clvxl_addin",
    "main",
}

_RUN = r"""
import asyncio, importlib.util, json, sys, threading
import numpy as np
import xlwings as xw
from xlwings.server import custom_functions_meta, custom_scripts_call, custom_scripts_meta

spec = importlib.util.spec_from_file_location("main", sys.argv[1])
lite = importlib.util.module_from_spec(spec)
sys.modules["main"] = lite
spec.loader.exec_module(lite)

class Range:
    def __init__(self, sheet, values=None):
        self.sheet, self.values, self.row = sheet, values, 1
    def options(self, *a, **k):
        return self
    @property
    def value(self):
        return self.values
    @value.setter
    def value(self, block):
        self.sheet.written = block
    def resize(self, rows, columns):
        return (rows, columns)

class Table:
    def __init__(self, sheet, values=None):
        self.range = Range(sheet, values)
    def resize(self, size):
        pass

class Sheet:
    def __init__(self, name, values=None):
        self.name, self.written = name, None
        self.tables = {name: Table(self, values)}
    def __getitem__(self, address):
        return Range(self)
    def clear_contents(self):
        pass

class Sheets(dict):
    def __iter__(self):
        return iter(self.values())

class App:
    alerts = []
    def alert(self, prompt, title=None):
        self.alerts.append(prompt)

class Book:
    def __init__(self, rows):
        grid = np.array(rows, dtype=object)
        self.sheets = Sheets({n: Sheet(n) for n in ("Dashboard", "Customers")})
        self.sheets["Transactions"] = Sheet("Transactions", grid)
        self.names = {}
        self.app = App()

good = Book([["customer_id", "order_date", "amount"], ["a", 45292.0, 10.0],
             ["a", 45352.0, 20.0], ["b", 45323.0, 5.0]])
bad = Book([["customer_id", "order_date", "amount"], ["a", "soon", 10.0]])
for book in (good, bad):
    asyncio.run(custom_scripts_call(lite, "recalculate_customers", typehint_to_value={xw.Book: book}))
third_party = sorted({m.split(".")[0] for m in sys.modules} - set(sys.stdlib_module_names) - {"_distutils_hack"})
print(json.dumps({
    "functions": sorted(f["name"] for f in custom_functions_meta(lite)["functions"]),
    "scripts": [s["function_name"] for s in custom_scripts_meta(lite)],
    "customers": [row[0] for row in good.sheets["Customers"].written],
    "alert": bad.app.alerts,
    "modules": [m for m in third_party if not m.startswith("_")],
    "threads": threading.active_count(),
    "files": sorted({m.__file__.split("site-packages")[0] for m in (sys.modules["clvxl"],)}),
}))
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("lite")
    assert main(["build-lite", "-o", str(folder), "--wheel-url", "https://example.org/clvxl/"]) == 0
    return folder


def test_build_lite_writes_a_pure_python_wheel_main_and_requirements(built):
    [wheel] = built.glob("clvxl-*.whl")
    assert wheel.name.endswith("-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    assert {
        "clvxl/excel/lite.py",
        "clvxl/excel/udfs.py",
        "udfs.py",
        "clvxl_addin.py",
        "clvxl/excel/templates/clvxl-template.xlsx",
    } <= names
    assert not any(n.endswith((".so", ".pyd", ".dll")) for n in names)
    lines = (built / "requirements.txt").read_text().splitlines()
    assert lines == [f"https://example.org/clvxl/{wheel.name}", *REQUIREMENTS]


def test_the_lite_entry_runs_through_the_office_js_dispatch(built, tmp_path):
    [wheel] = built.glob("clvxl-*.whl")
    unpacked = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(unpacked)  # what Lite installs: the wheel's files, nothing else of clvxl
    env = {
        **os.environ,
        "XLWINGS_ON_SERVER": "true",
        "XLWINGS_LICENSE_KEY": "noncommercial",  # xlwings.server's dispatch, in this test only
        "PYTHONPATH": str(unpacked),
    }
    done = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            f"import sys; sys.path.insert(0, {str(unpacked)!r}); exec({_RUN!r})",
            str(built / "main.py"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout)
    assert out["files"][0].startswith(str(unpacked))  # clvxl came from the wheel
    import clvxl.excel.udfs as udfs

    assert out["functions"] == sorted(udfs.__all__)
    assert out["scripts"] == ["recalculate_customers"]
    assert out["customers"] == ["Customer", "a", "b"]
    assert len(out["alert"]) == 1 and out["alert"][0].startswith("Nothing was changed.")
    assert set(out["modules"]) <= PYODIDE, set(out["modules"]) - PYODIDE
    assert out["threads"] == 1  # no Python thread started
