"""The Excel edge: workbooks written and read back, the ribbon button, the functions.

:mod:`~clvxl.excel.workbook` writes a recalculated workbook, :mod:`~clvxl.excel.book`
recalculates one (a file, or through xlwings the open book: :mod:`~clvxl.excel.addin`),
:mod:`~clvxl.excel.freeze` replaces clvxl formulas by their values for sharing,
:mod:`~clvxl.excel.udfs` holds the Excel functions and :mod:`~clvxl.excel.calculator`
their worked examples. The template and the ribbon add-in ship in ``templates/``.
"""

from pathlib import Path

from clvxl.excel.book import FileBook, recalc_book
from clvxl.excel.layout import SHEETS
from clvxl.excel.workbook import (
    EXCEL_MAX_ROWS,
    SETTING_NAMES,
    build_template,
    read_settings,
    write_result_workbook,
)

__all__ = [
    "ADDIN",
    "EXCEL_MAX_ROWS",
    "SETTING_NAMES",
    "SHEETS",
    "TEMPLATE",
    "FileBook",
    "build_template",
    "read_settings",
    "recalc_book",
    "write_result_workbook",
]

_TEMPLATES = Path(__file__).resolve().parent / "templates"
#: The template workbook, shipped in the package (``clvxl build-workbook`` rebuilds it).
TEMPLATE = _TEMPLATES / "clvxl-template.xlsx"
#: The ribbon add-in, shipped in the package (``scripts/build_addin.py`` rebuilds it).
ADDIN = _TEMPLATES / "clvxl_addin.xlam"
