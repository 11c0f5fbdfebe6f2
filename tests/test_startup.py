"""Start-up: the command line loads only what the chosen command runs on.

Each check runs in a fresh interpreter (the test process has everything loaded) and
reads ``sys.modules`` after the command.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

DEMO = Path(__file__).resolve().parents[1] / "clvxl" / "data" / "demo_transactions.csv"
#: What a command that computes nothing must not load.
HEAVY = ("numpy", "pandas", "scipy", "duckdb", "pyarrow")
#: What a csv -> parquet recalculation must not load: the Excel edge, its writers and
#: readers, and Spark.
EXCEL_SIDE = (
    "clvxl.excel",
    "xlsxwriter",
    "openpyxl",
    "python_calamine",
    "defusedxml",
    "xlwings",
    "pyspark",
)


def loaded_after(code: str) -> set[str]:
    """The modules (top-level and clvxl's own) loaded after running ``code`` fresh."""
    script = (
        "import json, sys\n"
        f"{code}\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules}"
        " | {m for m in sys.modules if m.startswith('clvxl')})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_version_loads_nothing_heavy():
    code = (
        "from clvxl.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit as exc:\n    assert exc.code == 0\n"
    )
    loaded = loaded_after(code)
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_every_command_registers_without_the_core():
    loaded = loaded_after("from clvxl.cli import build_parser\nbuild_parser()")
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
    assert "clvxl.recalc" not in loaded and "clvxl.excel" not in loaded


def test_option_constants_are_light():
    loaded = loaded_after(
        "from clvxl.models import PURCHASE_MODELS\n"
        "from clvxl.summary import ENGINES\n"
        "from clvxl.summary.spark import DEFAULT_MASTER\n"
        "from clvxl.units import UNIT_NAMES\n"
        "assert PURCHASE_MODELS == ('bgnbd', 'mbgnbd', 'paretonbd')\n"
        "assert ENGINES == ('duckdb', 'spark') and DEFAULT_MASTER == 'local[*]'\n"
        "assert UNIT_NAMES == ('days', 'weeks', 'months')\n"
    )
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_csv_to_parquet_recalc_loads_no_excel_side(tmp_path):
    output = tmp_path / "customers.parquet"
    loaded = loaded_after(
        "from clvxl.cli import main\n"
        f"assert main(['recalc', {str(DEMO)!r}, '-o', {str(output)!r}, '--quiet']) == 0\n"
    )
    assert loaded.isdisjoint(EXCEL_SIDE), sorted(loaded & set(EXCEL_SIDE))
    assert pq.read_metadata(output).num_rows == 1178  # the demo's customers: it did run
