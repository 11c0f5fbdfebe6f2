"""One recalculation, two adapters: the ribbon button's workbook and an .xlsx file.

:func:`recalc_book` is what "Recalculate customers" does: read the Transactions table
and the Settings, recalculate what the workbook's sheets show (holdout check only with
a Model sheet, cohorts only with an Analysis sheet), write every computed block back.
It talks to a :class:`Book`, a small interface with two implementations:
:class:`FileBook` here (an .xlsx on disk, for ``clvxl recalc book.xlsx``: the copy is
the book with clvxl's sheets replaced, :mod:`clvxl.excel.refresh`) and
:class:`~clvxl.excel.addin.XlwingsBook` (the open workbook in Excel). The Transactions
data is only ever read.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from clvxl.excel.layout import tables_for
from clvxl.excel.refresh import refresh_sheets, refresh_workbook
from clvxl.excel.workbook import read_settings
from clvxl.recalc import RecalcResult, Settings, recalculate
from clvxl.sources import RawLog, read_log

__all__ = ["Book", "FileBook", "recalc_book"]


class Book(Protocol):
    """What a recalculation needs from a workbook."""

    def sheet_names(self) -> list[str]:
        """The workbook's sheets, by name."""

    def transactions(self) -> RawLog:
        """The Transactions table as read, with its sheet rows."""

    def settings(self) -> dict[str, object]:
        """The Settings sheet's values by key (``as_of``, ``horizon``, …)."""

    def write_results(self, result: RecalcResult, raw: RawLog) -> None:
        """Write Customers, the Dashboard figures, Analysis and Model."""


class FileBook:
    """A workbook file: read from ``source``, the refreshed copy written to ``target``.

    The copy is ``source`` with the sheets clvxl owns rewritten and every other part as
    it was (:func:`clvxl.excel.refresh.refresh_workbook`); ``source`` itself is never
    written. ``sheet`` names the sheet to read when the workbook has no Transactions
    table (as ``--sheet``).
    """

    def __init__(self, source: str | Path, target: str | Path, sheet: str | None = None):
        self.source, self.target, self.sheet = Path(source), Path(target), sheet

    def sheet_names(self) -> list[str]:
        return list(refresh_sheets(self.source))

    def transactions(self) -> RawLog:
        return read_log(self.source, self.sheet)

    def settings(self) -> dict[str, object]:
        return read_settings(self.source)

    def write_results(self, result: RecalcResult, raw: RawLog) -> None:
        refresh_workbook(self.source, self.target, result)


def recalc_book(
    book: Book,
    overrides: Mapping[str, object] | None = None,
    **options,
) -> RecalcResult:
    """Recalculate a workbook: the one code path behind the button and ``clvxl recalc``.

    Parameters
    ----------
    book : Book
        Where the transactions and settings come from and the results go.
    overrides : mapping, optional
        Settings that win over the Settings sheet (command-line options).
    **options
        ``on_error``, ``columns``, ``dates``, ``dedupe``, ``engine``: as in
        :func:`clvxl.recalc.recalculate`.

    Returns
    -------
    RecalcResult
        The result, already written to ``book``; only the workbook-only tables its
        sheets show are computed (:func:`clvxl.excel.layout.tables_for`).

    Raises
    ------
    ClvxlError
        What reading the book, its settings (:meth:`clvxl.recalc.Settings.from_mapping`)
        or :func:`clvxl.recalc.recalculate` raise; nothing is written to the book then.
    """
    raw = book.transactions()
    values = {**book.settings(), **(overrides or {})}
    tables = tables_for(book.sheet_names())
    result = recalculate(raw, Settings.from_mapping(values), tables=tables, **options)
    book.write_results(result, raw)
    return result
