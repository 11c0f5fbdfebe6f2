"""Excel workbooks (.xlsx, .xlsm): the Transactions table, or a sheet, read with calamine.

Every workbook is checked first, completely (:func:`clvxl.sources.package.open_package`):
bombs, lying zip headers, entity declarations, missing parts, tables whose ranges do not
fit, sheets too large to hold. Calamine then reads only the sheet asked for, and
anything it still raises, a Rust panic included, becomes a message naming the file.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from clvxl.errors import InputError, NoDataError
from clvxl.sources.package import Package, Table, open_package
from clvxl.sources.raw import RawLog

#: The sheet or table a log is read from when none is named.
TRANSACTIONS = "Transactions"


@contextlib.contextmanager
def _calamine_errors(path: Path, sheet: str) -> Iterator[None]:
    """Calamine's errors as messages: its own error types, memory, and Rust panics.

    A panic in calamine reaches Python as ``pyo3_runtime.PanicException``, a
    ``BaseException`` that ``except Exception`` lets through (and that cannot be imported
    by name), so it is recognised by its type's name.
    """
    try:
        yield
    except MemoryError:
        raise InputError(
            f"{path.name}, sheet {sheet} needs more memory to read than is free; export the "
            "sheet as .csv, which clvxl reads in batches"
        ) from None
    except Exception as exc:  # calamine raises several private error types
        raise InputError(
            f"{path.name}, sheet {sheet} cannot be read as an Excel sheet ({exc}); "
            "open it in Excel and save it again as .xlsx"
        ) from None
    except BaseException as exc:
        if type(exc).__name__ != "PanicException":
            raise
        raise InputError(
            f"{path.name}, sheet {sheet}: the workbook reader failed on it ({exc}); open it "
            "in Excel and save it again as .xlsx, or export the sheet as .csv"
        ) from None


def _sheet_values(package: Package, sheet: str, from_a1: bool) -> tuple[list[list[object]], int]:
    """A sheet's cell values, row by row, and the 0-based row of the first one.

    With ``from_a1`` the rows start at A1 (like a table's coordinates); otherwise at the
    sheet's first used cell.
    """
    import python_calamine as pc

    package.check_extent(sheet)
    with _calamine_errors(package.path, sheet):
        book = pc.CalamineWorkbook.from_path(str(package.path))
        data = book.get_sheet_by_name(sheet)
        values = data.to_python(skip_empty_area=not from_a1)
        start = 0 if from_a1 or not data.start else data.start[0]
    return values, start


def find_name(names, wanted: str, what: str, source: str) -> str | None:
    """The one of ``names`` that is ``wanted``, ignoring case and surrounding spaces.

    An exact match wins; None when there is none; several inexact matches are refused.

    Parameters
    ----------
    names : iterable of str
        The names a workbook has (sheets or tables).
    wanted : str
        The name looked for.
    what : str
        ``"sheet"`` or ``"table"``, for the message.
    source : str
        The workbook's name, for the message.

    Returns
    -------
    str or None
        The name as the workbook spells it.

    Raises
    ------
    InputError
        When several names match ``wanted`` only without case and spaces.

    Examples
    --------
    >>> find_name(["Notes", "transactions "], "Transactions", "sheet", "b.xlsx")
    'transactions '
    """
    names = list(names)
    if wanted in names:
        return wanted
    key = " ".join(wanted.split()).casefold()
    found = [name for name in names if " ".join(name.split()).casefold() == key]
    if len(found) > 1:
        raise InputError(
            f"{source} has {len(found)} {what}s named like {wanted!r} "
            f"({', '.join(repr(n) for n in found)}); rename all but one"
        )
    return found[0] if found else None


def sheet_rows(path: str | Path, sheet: str) -> list[list[object]] | None:
    """The cell values of one sheet of a workbook, row by row; None when it has no such sheet.

    The package is checked first (:func:`~clvxl.sources.package.open_package`), as for a log;
    the sheet is found ignoring case and surrounding spaces.

    Parameters
    ----------
    path : str or Path
        The workbook.
    sheet : str
        The sheet's name.

    Returns
    -------
    list of list, or None
        The sheet's rows of cell values from its first used cell.
    """
    package = open_package(path)
    name = find_name(package.sheets, sheet, "sheet", package.path.name)
    return None if name is None else _sheet_values(package, name, from_a1=False)[0]


def read_workbook(path: Path, sheet: str | None, header_row: int | None = None) -> RawLog:
    """The log in a workbook: its Transactions table, else the sheet ``sheet``, else a
    sheet named Transactions, else the first sheet; on a sheet, the header is found below
    any title rows (or is row ``header_row``).

    Parameters
    ----------
    path : Path
        The workbook.
    sheet : str, optional
        The sheet to read (``--sheet``).
    header_row : int, optional
        The sheet row of the header (``--header-row``).

    Returns
    -------
    RawLog
        The rows as read, with their sheet rows; a note when title rows were skipped.

    Raises
    ------
    InputError
        For a hostile or broken package, or no such sheet.
    NoDataError
        For a workbook without cells, or an empty sheet.
    """
    package = open_package(path)
    if sheet is None:
        names = {table.name: table for table in package.tables}
        table = find_name(names, TRANSACTIONS, "table", path.name)
        if table is not None:
            return _read_table(package, names[table])
    names = list(package.sheets)
    if not names:
        raise NoDataError(f"{path.name} has no sheets with cells")
    if sheet is None:
        sheet = find_name(names, TRANSACTIONS, "sheet", path.name) or names[0]
    else:
        found = find_name(names, sheet, "sheet", path.name)
        if found is None:
            raise InputError(
                f"{path.name} has no sheet {sheet!r}; its sheets are {', '.join(names)}"
            )
        sheet = found
    values, start = _sheet_values(package, sheet, from_a1=False)
    if not values or not any(str(v).strip() for v in values[0]):
        raise NoDataError(f"{path.name}, sheet {sheet} is empty")
    at = _header_at(values, start, header_row, f"{path.name}, sheet {sheet}")
    header = [str(v).strip() for v in values[at]]
    frame = pd.DataFrame(values[at + 1 :], columns=header, dtype=object)
    first_row = (start) + at + 2
    log = RawLog.from_frame(frame, f"{path.name}, sheet {sheet}", first_row)
    if at:
        note = f"{path.name}, sheet {sheet}: the header is row {first_row - 1}; the title rows above it are not read"
        log = dataclasses.replace(log, notes=(note,))
    return log


def _header_at(values: list[list[object]], top: int, row: int | None, name: str) -> int:
    """The position in ``values`` (which start on sheet row ``top + 1``) of the header."""
    if row is None:
        return header_row(values)
    if not top < row <= top + len(values):
        raise InputError(f"{name} has no row {row} to read the header from")
    return row - top - 1


#: Rows searched for the header below a report's title rows.
_TITLE_ROWS = 20


def header_row(values: list[list[object]]) -> int:
    """Where the header stands: the first row that is all text and nearly as wide as the table.

    A report saved to Excel has title rows above its header ("Posted Sales Lines",
    "Company … Printed …"): one or two filled cells, where the header fills most columns.

    Examples
    --------
    >>> header_row([["Sales report", ""], ["customer", "amount"], ["a", 1.0]])
    1
    >>> header_row([["customer", "amount"], ["a", 1.0]])
    0
    """
    filled = [sum(1 for v in row if str(v).strip()) for row in values[: _TITLE_ROWS + 1]]
    wide = max(filled)
    for at, row in enumerate(values[: _TITLE_ROWS + 1]):
        texts = all(isinstance(v, str) for v in row if str(v).strip())
        if texts and filled[at] >= max(2, 0.6 * wide):
            return at
    return 0


def _read_table(package: Package, table: Table) -> RawLog:
    """A table's data rows under its column names, as far as the sheet has cells.

    The sheet's values, not calamine's table reader: only the sheet reader turns
    date-formatted cells into dates (the table reader gives their serial numbers), and a
    table whose range runs past the sheet's last cell is read up to that cell.
    """
    cells, _ = _sheet_values(package, table.sheet, from_a1=True)
    width = table.last_col - table.first_col + 1
    rows = table.data_rows
    values = []
    for row in cells[rows.start : rows.stop]:
        part = row[table.first_col : table.last_col + 1]
        values.append(part + [""] * (width - len(part)))
    frame = pd.DataFrame(values, columns=[str(c) for c in table.columns], dtype=object)
    return RawLog.from_frame(frame, f"{package.path.name}, table {table.name}", rows.start + 1)
