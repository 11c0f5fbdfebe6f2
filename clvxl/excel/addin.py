"""The CLV ribbon add-in's Python side: "Recalculate customers" on the open workbook.

The add-in ``clvxl_addin.xlam`` (in ``clvxl/excel/templates``) runs ``import clvxl_addin;
clvxl_addin.main()`` (xlwings names the module after the add-in file). ``main``
recalculates the active workbook through :func:`clvxl.excel.book.recalc_book` with an
:class:`XlwingsBook`, the same function ``clvxl recalc book.xlsx`` runs on a file.
Every block is written with one ``Range.value`` assignment; Transactions is only read.
"""

from __future__ import annotations

import pandas as pd
import xlwings as xw

from clvxl.excel.book import recalc_book
from clvxl.excel.workbook import SETTING_NAMES, analysis_blocks
from clvxl.recalc import RecalcResult
from clvxl.sources import RawLog

__all__ = ["XlwingsBook", "main"]


def _rows(frame: pd.DataFrame, title: str | None = None) -> list[list]:
    """Header and values as one rectangular block (a title row on top when given)."""
    values = frame.astype(object).where(frame.notna(), None).to_numpy().tolist()
    block = [[str(c) for c in frame.columns], *values]
    if title is not None:
        block.insert(0, [title] + [None] * (len(frame.columns) - 1))
    return block


class XlwingsBook:
    """The open workbook, through exactly these xlwings calls: ``sheets[name]``,
    ``sheet.tables[name].range`` / ``.resize(range)``, ``range.options(...).value``,
    ``range.row``, ``range.resize(rows, columns)``, ``names[name].refers_to_range.value``,
    ``sheet.clear_contents()`` and ``sheet[address].value = …``.
    """

    def __init__(self, book):
        self.book = book

    def transactions(self) -> RawLog:
        table = self.book.sheets["Transactions"].tables["Transactions"]
        frame = table.range.options(pd.DataFrame, index=False, header=True).value
        first_row = table.range.row + 1
        return RawLog.from_frame(frame, "the Transactions table", first_row)

    def settings(self) -> dict[str, object]:
        values = {}
        for key, (name, _, _) in SETTING_NAMES.items():
            try:
                values[key] = self.book.names[name].refers_to_range.value
            except KeyError:
                continue
        return values

    def write_results(self, result: RecalcResult, raw: RawLog) -> None:
        customers = self.book.sheets["Customers"]
        customers.clear_contents()
        block = _rows(result.customers)
        customers["A1"].value = block
        customers.tables["Customers"].resize(customers["A1"].resize(len(block), len(block[0])))
        dashboard = self.book.sheets["Dashboard"]
        dashboard["A4"].value = _rows(result.kpis)[1:]
        analysis = self.book.sheets["Analysis"]
        analysis.clear_contents()
        row = 1
        for title, frame in analysis_blocks(result):
            analysis[f"A{row}"].value = _rows(frame, title)
            row += len(frame) + 4
        model = self.book.sheets["Model"]
        model.clear_contents()
        model["A1"].value = _rows(result.model, "Fitted models")
        if len(result.holdout):
            model[f"A{len(result.model) + 4}"].value = _rows(result.holdout, "Holdout check")


def main() -> None:
    """Entry point of the ribbon button: recalculate the workbook that called it."""
    recalc_book(XlwingsBook(xw.Book.caller()))
