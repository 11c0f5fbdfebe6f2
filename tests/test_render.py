"""Look at the template as LibreOffice renders it: value sheets show values, not errors."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from render_workbook import render_pdf, render_png  # noqa: E402

from clvxl.excel import TEMPLATE  # noqa: E402
from clvxl.excel.workbook import SHEETS  # noqa: E402

needs_office = pytest.mark.skipif(
    shutil.which("soffice") is None or shutil.which("pdftotext") is None,
    reason="LibreOffice and poppler-utils are not installed (.ci/run installs them)",
)


@needs_office
def test_rendered_value_sheets_have_no_error_values(tmp_path):
    pdf = render_pdf(TEMPLATE, tmp_path)
    pages = {}
    for number, sheet in enumerate(SHEETS, start=1):
        text = subprocess.run(
            ["pdftotext", "-f", str(number), "-l", str(number), "-layout", str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        pages[sheet] = text
    for sheet in ("Dashboard", "Customers", "Calculator"):
        for error in ("#NAME?", "#REF!", "#N/A", "#VALUE!"):
            assert error not in pages[sheet], f"{error} on {sheet}"
    assert "Customers" in pages["Dashboard"] and "1,178" in pages["Dashboard"]
    assert "673.33" in pages["Calculator"] and "Champions" in pages["Calculator"]
    png = render_png(pdf, tmp_path, 1, 1, dpi=40)
    assert len(png) == 1 and png[0].stat().st_size > 10_000
