"""What an Excel user waits for: the workbook refresh and the button's Python side.

    python benchmarks/bench_workbook.py                  # 100,000-row refresh, 1,000,000-row button
    python benchmarks/bench_workbook.py --refresh-rows 20000 --button-rows 100000

Refresh: ``clvxl recalc book.xlsx -o out.xlsx --quiet`` as a fresh process, on a workbook
whose Transactions sheet holds the seeded log (:mod:`generate_log`), median of
``repeat`` runs. Button: :func:`clvxl.excel.book.recalc_book` through
:class:`clvxl.excel.addin.XlwingsBook` on a stand-in for xlwings' book that hands over
Transactions as xlwings does (one 2-D object array, header first) and keeps what is
written; the first call warms the process (imports, caches), the median of the next
``repeat`` calls is the second click (the models it fitted reused, as when only a
setting changed; and fitted afresh, as when the log changed). What xlwings itself then does with each block (its
numpy converter's ``tolist`` and its per-cell clean-up before the COM call) is not timed. :func:`refresh_seconds` and
:func:`button_seconds` are what ``bench_pipeline.py`` calls for its table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from _reference import DATA, timed
from generate_log import generate

__all__ = ["button_seconds", "refresh_seconds", "workbook_file"]


def workbook_file(rows: int) -> Path:
    """A clvxl workbook of the seeded ``rows``-row log (built once, then reused)."""
    path = DATA / f"book_{rows}.xlsx"
    if not path.exists():
        from clvxl.excel import write_result_workbook
        from clvxl.recalc import recalculate
        from clvxl.sources import RawLog

        DATA.mkdir(exist_ok=True)
        log = generate(rows)
        log["order_date"] = log["order_date"].astype("datetime64[ns]")
        write_result_workbook(path, log, recalculate(RawLog.from_frame(log)))
    return path


def refresh_seconds(rows: int = 100_000, repeat: int = 3, python: str = sys.executable) -> dict:
    """Median wall time and peak MiB of ``clvxl recalc book.xlsx -o out.xlsx`` in a fresh
    process (``python``: the interpreter whose clvxl to time)."""
    book = workbook_file(rows)
    out = DATA / f"book_{rows}.refreshed.xlsx"
    runs = [
        timed([python, "-m", "clvxl.cli", "recalc", str(book), "-o", str(out), "--quiet"])
        for _ in range(repeat)
    ]
    return {
        "rows": rows,
        "seconds": statistics.median(r["seconds"] for r in runs),
        "peak_mb": max(r["peak_mb"] for r in runs),
    }


class _Range:
    def __init__(self, sheet, values=None):
        self.sheet, self.values, self.row = sheet, values, 1

    def options(self, *args, **kwargs):
        return self

    @property
    def value(self):
        return self.values

    @value.setter
    def value(self, block):
        self.sheet.written = block

    def resize(self, rows, columns):
        return (rows, columns)


class _Table:
    def __init__(self, sheet, values=None):
        self.range = _Range(sheet, values)

    def resize(self, size):
        self.size = size


class _Sheet:
    def __init__(self, name, values=None):
        self.name, self.written = name, None
        self.tables = {name: _Table(self, values)}

    def __getitem__(self, address):
        return _Range(self)

    def clear_contents(self):
        self.written = None


class _Sheets(dict):
    def __iter__(self):
        return iter(self.values())


class _Book:
    """xlwings' book as :class:`~clvxl.excel.addin.XlwingsBook` uses it."""

    def __init__(self, grid: np.ndarray, sheets: tuple[str, ...]):
        self.sheets = _Sheets({name: _Sheet(name) for name in sheets})
        self.sheets["Transactions"] = _Sheet("Transactions", grid)
        self.names = {}


def _excel_grid(rows: int) -> np.ndarray:
    """The log as xlwings hands it over: Python objects, dates as datetimes."""
    log = generate(rows)
    grid = np.empty((len(log) + 1, log.shape[1]), dtype=object)
    grid[0] = list(log.columns)
    for i, column in enumerate(log.columns):
        values = log[column]
        if values.dtype.kind == "M":
            grid[1:, i] = values.astype("datetime64[ns]").dt.to_pydatetime()
        else:
            grid[1:, i] = values.astype(object).to_numpy()
    return grid


def button_seconds(
    rows: int = 1_000_000,
    repeat: int = 3,
    sheets: tuple[str, ...] = ("Dashboard", "Customers", "Analysis", "Model"),
    afresh: bool = False,
) -> dict:
    """The button's Python side on a warm process: median seconds of the second and
    later clicks (``sheets``: the owned sheets the workbook has; ``afresh``: the models
    fitted again on each click, as after a change of the log, instead of reused)."""
    from clvxl._runtime.memo import forget_all
    from clvxl.excel.addin import XlwingsBook
    from clvxl.excel.book import recalc_book

    grid = _excel_grid(rows)
    book = _Book(grid, sheets)
    recalc_book(XlwingsBook(book))  # the first click: imports and caches
    times = []
    for _ in range(repeat):
        if afresh:
            forget_all()
        start = time.perf_counter()
        recalc_book(XlwingsBook(book))
        times.append(time.perf_counter() - start)
    return {"rows": rows, "seconds": statistics.median(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refresh-rows", type=int, default=100_000)
    parser.add_argument("--button-rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--python", default=sys.executable, help="interpreter whose clvxl the refresh times"
    )
    args = parser.parse_args()
    refresh = refresh_seconds(args.refresh_rows, args.repeat, args.python)
    print(
        f"workbook refresh, {refresh['rows']:,} rows: {refresh['seconds']:.2f} s, {refresh['peak_mb']:.0f} MiB"
    )
    for afresh, what in ((False, "fits reused"), (True, "fits made afresh")):
        button = button_seconds(args.button_rows, args.repeat, afresh=afresh)
        print(
            f"button's Python side, warm ({what}), {button['rows']:,} rows: "
            f"{button['seconds']:.2f} s"
        )


if __name__ == "__main__":
    main()
