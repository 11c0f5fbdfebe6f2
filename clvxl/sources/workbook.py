"""Excel workbooks (.xlsx, .xlsm): the Transactions table, or a sheet, read with calamine."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from clvxl.errors import InputError, NoDataError
from clvxl.sources.package import check_package
from clvxl.sources.raw import RawLog


def sheet_rows(path: str | Path, sheet: str) -> list[list[object]] | None:
    """The cell values of one sheet of a workbook, row by row; None when it has no such sheet.

    The package is checked first (zip bombs, entity declarations), as for a log.
    """
    import python_calamine as pc

    path = Path(path)
    check_package(path)
    try:
        book = pc.CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several private error types
        raise InputError(f"{path.name} cannot be opened as an Excel workbook ({exc})") from None
    if sheet not in book.sheet_names:
        return None
    return book.get_sheet_by_name(sheet).to_python()

def read_workbook(path: Path, sheet: str | None, header_row: int | None = None) -> RawLog:
    import python_calamine as pc

    check_package(path)
    try:
        book = pc.CalamineWorkbook.from_path(str(path), load_tables=True)
    except Exception as exc:  # calamine raises several private error types
        raise InputError(
            f"{path.name} cannot be opened as an Excel workbook ({exc}); "
            "save it again from Excel as .xlsx"
        ) from None
    if sheet is None and "Transactions" in book.table_names:
        table = book.get_table_by_name("Transactions")
        # The sheet's values, not the table's: only the sheet reader turns date-formatted
        # cells into dates (the table reader gives their serial numbers).
        # With skip_empty_area=False the rows start at A1, like the table's coordinates.
        cells = book.get_sheet_by_name(table.sheet).to_python(skip_empty_area=False)
        (first, col0), (last, col1) = table.start, table.end
        values = [row[col0 : col1 + 1] for row in cells[first : last + 1]]
        frame = pd.DataFrame(values, columns=[str(c) for c in table.columns], dtype=object)
        return RawLog.from_frame(frame, f"{path.name}, table Transactions", first + 1)
    names = book.sheet_names
    if sheet is None:
        sheet = "Transactions" if "Transactions" in names else names[0]
    elif sheet not in names:
        raise InputError(f"{path.name} has no sheet {sheet!r}; its sheets are {', '.join(names)}")
    data = book.get_sheet_by_name(sheet)
    values = data.to_python(skip_empty_area=True)
    if not values or not any(str(v).strip() for v in values[0]):
        raise NoDataError(f"{path.name}, sheet {sheet} is empty")
    at = _header_at(values, data.start[0] if data.start else 0, header_row, f"{path.name}, sheet {sheet}")
    header = [str(v).strip() for v in values[at]]
    frame = pd.DataFrame(values[at + 1 :], columns=header, dtype=object)
    first_row = (data.start[0] if data.start else 0) + at + 2
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
