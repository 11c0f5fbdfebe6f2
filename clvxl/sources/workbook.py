"""Excel workbooks (.xlsx, .xlsm): the Transactions table, or a sheet, read with calamine."""

from __future__ import annotations

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


def read_workbook(path: Path, sheet: str | None) -> RawLog:
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
    header = [str(v).strip() for v in values[0]]
    frame = pd.DataFrame(values[1:], columns=header, dtype=object)
    first_row = data.start[0] + 2 if data.start else 2
    return RawLog.from_frame(frame, f"{path.name}, sheet {sheet}", first_row)
