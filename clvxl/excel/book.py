"""One recalculation, two adapters: the ribbon button's workbook and an .xlsx file.

:func:`recalc_book` is what "Recalculate customers" does: read the Transactions table
and the Settings, recalculate, write every computed block back, each in one write.
It talks to a :class:`Book`, a small interface with two implementations:
:class:`FileBook` here (an .xlsx on disk, for ``clvxl recalc book.xlsx``) and
``XlwingsBook`` in ``clvxl_addin.py`` (the open workbook in Excel). The Transactions
data is only ever read.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from clvxl.excel.workbook import read_settings, write_result_workbook
from clvxl.recalc import RecalcResult, Settings, recalculate
from clvxl.sources import RawLog, read_log

__all__ = ["Book", "FileBook", "recalc_book"]


class Book(Protocol):
    """What a recalculation needs from a workbook."""

    def transactions(self) -> RawLog:
        """The Transactions table as read, with its sheet rows."""

    def settings(self) -> dict[str, object]:
        """The Settings sheet's values by key (``as_of``, ``horizon``, …)."""

    def write_results(self, result: RecalcResult, raw: RawLog) -> None:
        """Write Customers, the Dashboard figures, Analysis and Model."""


class FileBook:
    """A workbook file: read from ``source``, the refreshed copy written to ``target``.

    The copy is rebuilt from the template with the Transactions values exactly as
    read; ``source`` itself is never written. ``sheet`` names the sheet to read when the
    workbook has no Transactions table (as ``--sheet``).
    """

    def __init__(self, source: str | Path, target: str | Path, sheet: str | None = None):
        self.source, self.target, self.sheet = Path(source), Path(target), sheet

    def transactions(self) -> RawLog:
        return read_log(self.source, self.sheet)

    def settings(self) -> dict[str, object]:
        return read_settings(self.source)

    def write_results(self, result: RecalcResult, raw: RawLog) -> None:
        write_result_workbook(self.target, raw.table, result)


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
    """
    raw = book.transactions()
    values = {**book.settings(), **(overrides or {})}
    result = recalculate(raw, Settings.from_mapping(values), **options)
    book.write_results(result, raw)
    return result
