"""The clvxl workbook: Dashboard, Customers, Transactions, Analysis, Model, Settings, Help.

Built with XlsxWriter following :mod:`clvxl.excel.layout` (the layout the ribbon button
writes too), written atomically (:func:`clvxl.output.write_atomic`). The body rows of
the two big tables (Customers, Transactions) are written as sheet XML by
:mod:`clvxl.excel.sheetxml`; everything else by XlsxWriter. Every value that comes from
data is written as a value: text stays text even when it starts with ``=``, ``+``,
``-`` or ``@``, so a customer id such as ``=HYPERLINK(...)`` can never become a live
formula. Charts are native Excel charts over the Analysis sheet (:data:`layout.CHARTS`).

The Settings sheet holds one named cell per setting (:data:`SETTING_NAMES`); a
recalculation of a workbook reads them back with :func:`read_settings`.
:func:`build_sheets` writes only some sheets, for :mod:`clvxl.excel.refresh` to put
into a user's workbook.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_range, xl_rowcol_to_cell

from clvxl.analytics import tiers
from clvxl.clean.dates import FIRST_DATE, LAST_DATE
from clvxl.errors import InputError
from clvxl.excel import layout, sheetxml, zipparts
from clvxl.excel.calculator import EXAMPLES
from clvxl.excel.layout import SHEETS, Block, Item
from clvxl.models import BUSINESSES, MODEL_CHOICES, PURCHASE_MODELS
from clvxl.output import write_atomic
from clvxl.recalc import RecalcResult, Settings, recalculate
from clvxl.sources import demo_log, sheet_rows
from clvxl.units import CURRENCIES, CURRENCY_NAMES, MONTHS, UNIT_NAMES

__all__ = [
    "EXCEL_MAX_COLUMNS",
    "EXCEL_MAX_ROWS",
    "SETTING_NAMES",
    "SHEETS",
    "build_sheets",
    "build_template",
    "check_fits",
    "read_settings",
    "typed_log",
    "write_result_workbook",
]

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
EXCEL_MAX_CHARS = 32_767  # characters in one cell

#: Settings key → (defined name, label on the Settings sheet, help text).
SETTING_NAMES: dict[str, tuple[str, str, str]] = {
    "as_of": (
        "AsOfDate",
        "As-of date",
        "End of the observation period; empty: the last date in the log.",
    ),
    "horizon": (
        "HorizonMonths",
        "CLV horizon (months)",
        "How far ahead predicted CLV and purchases look.",
    ),
    "discount_rate": (
        "DiscountRate",
        "Discount rate (yearly)",
        "Rate used to discount future margin, e.g. 10%.",
    ),
    "margin": (
        "GrossMargin",
        "Gross margin",
        "Share of revenue kept as margin; empty: from the cost column, else 100%.",
    ),
    "cac": (
        "AcquisitionCost",
        "Customer acquisition cost",
        "Marketing and sales spend per new customer, for LTV:CAC.",
    ),
    "unit": ("TimeUnit", "Time unit", f"{', '.join(UNIT_NAMES)}: the unit of recency and T."),
    "model": (
        "PurchaseModel",
        "Purchase model",
        "auto (best on a holdout check, no one-time buyer certainly alive) or "
        + ", ".join(PURCHASE_MODELS)
        + ".",
    ),
    "month": (
        "MonthLength",
        "Month length",
        f"{', '.join(MONTHS)}: how long a month of the CLV horizon is.",
    ),
    "business": (
        "BusinessType",
        "Business",
        "auto (detected), transactions (repeat purchases) or subscription (regular invoices).",
    ),
    "recency_days": (
        "RecencyWindows",
        "Recency windows (days)",
        "Empty: from the typical repurchase gap; or four numbers, e.g. 30, 60, 90, 180.",
    ),
    "currency": (
        "Currency",
        "Currency",
        "How money is shown, not converted: empty for plain numbers, or EUR, € ... (list).",
    ),
}
#: The settings chosen from a list, and the list.
_SETTING_LISTS = {
    "unit": UNIT_NAMES,
    "model": MODEL_CHOICES,
    "month": tuple(MONTHS),
    "business": BUSINESSES,
    "currency": CURRENCY_NAMES,
}

_HELP = [
    (
        "Recalculate customers",
        "Ribbon button (CLV tab): rebuilds Customers, Dashboard, Analysis and Model from the Transactions table and Settings. Transactions are never changed.",
    ),
    (
        "clvxl recalc BOOK.xlsx -o OUT.xlsx",
        "The same recalculation without Excel, for scheduled refreshes.",
    ),
    (
        "Transactions",
        "One line per order line: customer, date, amount (refunds negative); optional order id, cost, quantity.",
    ),
    (
        "Customers",
        "One row per customer: RFM scores and segment, value tier, historic and predicted CLV.",
    ),
    (
        "Recency / Age (T)",
        "Time from first to last purchase / from first purchase to the as-of date, in the time unit.",
    ),
    ("P(alive)", "Probability the customer is still active (BG/NBD, Fader, Hardie & Lee 2005)."),
    (
        "Predicted CLV",
        "Expected margin over the horizon, discounted: BG/NBD purchases × Gamma-Gamma spend.",
    ),
    (
        "Segments",
        "Putler's eleven RFM segments on R and the average of F and M; first matching rule wins.",
    ),
    ("Value tiers", "Top 1 %, 5 % and 20 % of customers by historic CLV."),
    ("Model", "Fitted parameters and log-likelihood: check them before trusting predictions."),
]


_MAX_WIDTH = 60


def _formats(book, currency: str | None) -> dict[str, object]:
    """The cell formats, money in ``currency`` (:func:`clvxl.excel.layout.number_format`)."""
    number = {k: layout.number_format(k, currency) for k in layout.NUMBER_FORMATS}
    f = {k: book.add_format({"num_format": v} if v else {}) for k, v in number.items()}
    f.update(
        title=book.add_format({"bold": True, "font_size": 16, "font_color": "#1F4E78"}),
        bold=book.add_format({"bold": True}),
        header=book.add_format({"bold": True, "text_wrap": True, "valign": "bottom"}),
        header_number=book.add_format(
            {"bold": True, "text_wrap": True, "valign": "bottom", "align": "right"}
        ),
        wrap=book.add_format({"text_wrap": True, "valign": "top"}),
        note=book.add_format({"font_color": "#595959"}),
        note_wrap=book.add_format({"font_color": "#595959", "text_wrap": True, "valign": "top"}),
        kpi_label=book.add_format({"font_color": "#595959"}),
        input=book.add_format({"bg_color": "#FFF2CC", "border": 1}),
        input_date=book.add_format(
            {"bg_color": "#FFF2CC", "border": 1, "num_format": "yyyy-mm-dd"}
        ),
        input_pct=book.add_format({"bg_color": "#FFF2CC", "border": 1, "num_format": "0.0%"}),
        input_money=book.add_format(
            {"bg_color": "#FFF2CC", "border": 1, "num_format": number["money"]}
        ),
    )
    for name in ("int", "money", "pct", "dec"):
        f[f"kpi_{name}"] = book.add_format(
            {"bold": True, "font_size": 13, "num_format": number[name]}
        )
    return f


def _clean(value):
    """A cell value XlsxWriter writes as a value: NaN → blank, numpy → Python."""
    if value is None or value is pd.NaT or (isinstance(value, float) and not np.isfinite(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return _clean(value.item())
    return value


def _width(values: pd.Series, what: str, header: str, symbol: int = 0) -> float:
    """A column width that fits the header (on two lines at most) and the longest value
    as its format shows it (``symbol``: the characters money's currency adds)."""
    head = max(len(header) / 2 + 1, max((len(w) for w in header.split()), default=0))
    if not len(values):
        return min(max(10, head + 2), _MAX_WIDTH)
    if what in ("date", "month"):
        longest = 10
    elif what in ("int", "money", "dec", "param", "pct"):
        finite = pd.to_numeric(values, errors="coerce").abs()
        top = float(finite.max()) if finite.notna().any() else 0.0
        decimals = {"int": 0, "money": 2, "dec": 2, "param": 4, "pct": 1}[what]
        scaled = top * 100 if what == "pct" else top
        longest = len(f"{scaled:,.{decimals}f}") + 2 + (symbol if what == "money" else 0)
    else:  # an all-blank column (a huge header's empty extras) has no longest value
        longest = int(values.astype(str).str.len().fillna(0).max())
    return min(max(8, head, longest) + 2, _MAX_WIDTH)


def _write_block(
    book, sheet, row: int, block: Block, f, unit: str, widths: dict, symbol: int
) -> tuple[int, int]:
    """Write a block at ``row``; returns the rows its data covers (first, last)."""
    frame = block.frame
    kinds = [layout.kind(c, frame[c]) for c in frame.columns]
    headers = [layout.label(c, unit) for c in frame.columns]
    if block.title is not None:
        sheet.write_string(row, 0, block.title, f["bold"])
        row += 1
    for col, (column, what, header) in enumerate(zip(frame.columns, kinds, headers, strict=True)):
        widths[col] = max(widths.get(col, 0), _width(frame[column], what, header, symbol))
        if block.table is None:
            # A number column's header sits over its right-aligned numbers.
            sheet.write_string(row, col, header, f["header" if what == "text" else "header_number"])
            values = [_clean(v) for v in frame[column].tolist()]
            sheet.write_column(row + 1, col, values, f[what] if what != "text" else None)
        else:
            sheet.set_column(col, col, widths[col], f[what] if what != "text" else None)
    if block.table is not None:
        _add_table(sheet, row, len(frame), headers, block.table, f["header"])
    sheet.set_row(row, 30)  # headers wrap onto two lines within the fitted widths
    return row + 1, row + len(frame)


#: Each Excel Table's full range by name: XlsxWriter is given a one-row table (its
#: overlap check visits every cell: a second for 100,000 × 21) and the range is set
#: in the table part afterwards (:func:`_finish_package`).
_TableSizes = dict[str, str]


def _add_table(sheet, row: int, rows: int, headers: list[str], name: str, header=None) -> None:
    last_col = max(len(headers) - 1, 0)
    sheet.add_table(
        row,
        0,
        row + 1,
        last_col,
        {
            "name": name,
            "style": "Table Style Medium 2",
            "columns": [{"header": h, "header_format": header} for h in headers],
        },
    )
    sheet.table_sizes = {
        **getattr(sheet, "table_sizes", {}),
        name: xl_range(row, 0, row + max(rows, 1), last_col),
    }


#: Sheets wider than a portrait page, printed landscape and fitted to the page's width.
_PRINT_WIDE = ("Dashboard", "Model")

#: A note longer than this many characters wraps over the first :data:`_NOTE_COLUMNS`
#: columns, this many characters a line (about what they hold at their usual widths).
_NOTE_LINE = 110
_NOTE_COLUMNS = 8


def _write_items(
    book, sheet, items: list[Item], f, unit: str, symbol: int
) -> dict[str, tuple[int, int, Block]]:
    """Write a sheet's layout items; returns each block's data rows by title."""
    widths: dict[int, float] = {}
    placed = {}
    for item in items:
        if item.block is not None:
            first, last = _write_block(book, sheet, item.row, item.block, f, unit, widths, symbol)
            placed[item.block.title] = (first, last, item.block)
        elif item.pairs:
            for i, (name, value) in enumerate(item.pairs):
                sheet.write_string(item.row + i, 0, name, f["kpi_label"])
                value = _clean(value)
                if value is None:
                    sheet.write_string(item.row + i, 1, "n/a", f["kpi_label"])
                else:
                    sheet.write_number(item.row + i, 1, value, f[f"kpi_{layout.kpi_kind(name)}"])
            widths[0] = max(widths.get(0, 0), max(len(n) for n, _ in item.pairs) + 2)
            widths[1] = max(widths.get(1, 0), 16)
        elif item.style == "note" and len(item.text) > _NOTE_LINE:
            # Wrapped over the first columns: one long cell would widen the printed page.
            sheet.merge_range(item.row, 0, item.row, _NOTE_COLUMNS - 1, "", f["note_wrap"])
            sheet.write_string(item.row, 0, item.text, f["note_wrap"])
            sheet.set_row(item.row, 15 * -(-len(item.text) // _NOTE_LINE))
        else:
            sheet.write_string(item.row, 0, item.text, f[item.style])
            if item.style == "title":
                sheet.set_row(item.row, 26)
    if not any(i.block is not None and i.block.table for i in items):
        for col, width in widths.items():
            sheet.set_column(col, col, width)
    return placed


def _chart(book, spec: layout.ChartSpec, where: tuple[int, int, Block], unit: str):
    """The chart ``spec`` over its block; None when the block has nothing to draw (a
    cohort table of a log shorter than two months has no later months)."""
    first, last, block = where
    names = list(block.frame.columns)
    periods = [i for i, c in enumerate(names) if isinstance(c, (int, np.integer)) and c > 0]
    if spec.rows and not periods:
        return None
    chart = book.add_chart({"type": spec.kind})
    if spec.rows:  # one series per row of the block, over the period columns
        for row in range(first, min(last, first + spec.rows - 1) + 1):
            chart.add_series(
                {
                    "name": ["Analysis", row, 0],
                    "categories": ["Analysis", first - 1, periods[0], first - 1, periods[-1]],
                    "values": ["Analysis", row, periods[0], row, periods[-1]],
                }
            )
    named = names.index(spec.categories) if spec.categories is not None else 0
    for i, (column, kind, secondary) in enumerate(spec.series):
        part = chart if i == 0 else book.add_chart({"type": kind})
        col = names.index(column)
        part.add_series(
            {
                "name": layout.label(column, unit),
                "categories": ["Analysis", first, named, last, named],
                "values": ["Analysis", first, col, last, col],
                "y2_axis": secondary,
                **(
                    {"data_labels": {"value": True, "num_format": spec.y_format}}
                    if spec.kind == "bar"
                    else {}
                ),
                **({"marker": {"type": "circle"}} if kind == "line" else {}),
            }
        )
        if part is not chart:
            part.set_y2_axis({"name": spec.y2_title, "num_format": "#,##0"})
            chart.combine(part)
    # A bar chart's value axis is its x axis.
    value_axis, category_axis = (
        ("set_x_axis", "set_y_axis") if spec.kind == "bar" else ("set_y_axis", "set_x_axis")
    )
    getattr(chart, value_axis)(
        {
            "name": spec.x_title if spec.kind == "bar" else spec.y_title,
            "num_format": spec.y_format or "#,##0",
            **({"max": spec.y_max} if spec.y_max is not None else {}),
        }
    )
    getattr(chart, category_axis)(
        {
            "name": spec.y_title if spec.kind == "bar" else spec.x_title,
            **({"reverse": True} if spec.kind == "bar" else {}),
        }
    )
    chart.set_title({"name": spec.title, "name_font": {"size": 12}})
    chart.set_legend(
        {"position": "bottom"} if spec.rows or len(spec.series) > 1 else {"none": True}
    )
    chart.set_size({"width": spec.size[0], "height": spec.size[1]})
    return chart


def build_template(path: str | Path) -> Path:
    """Write the template: the demo log recalculated, with the Calculator sheet.

    Parameters
    ----------
    path : str or Path
        The ``.xlsx`` to write.

    Returns
    -------
    Path
        The workbook written (:func:`write_result_workbook`).
    """
    raw = demo_log()
    return write_result_workbook(path, raw.table, recalculate(raw), calculator=True)


def _check_headers(headers: list[str], what: str) -> None:
    if len(headers) > EXCEL_MAX_COLUMNS:
        raise InputError(
            f"{what} has {len(headers):,} columns, more than an Excel sheet holds "
            f"({EXCEL_MAX_COLUMNS:,}); write .parquet or .csv instead"
        )
    seen: dict[str, str] = {}
    for i, header in enumerate(headers, start=1):
        if not header.strip():
            raise InputError(f"{what}: column {i} has an empty header; an Excel table needs one")
        key = header.strip().lower()
        if key in seen:
            raise InputError(
                f"{what}: the headers {seen[key]!r} and {header!r} differ only in case or spaces; "
                "Excel table headers must be distinct: rename one"
            )
        seen[key] = header


def check_fits(frame: pd.DataFrame, what: str, first_row: int = 2) -> None:
    """Refuse, before writing, a table an Excel sheet cannot hold whole.

    Too many rows or columns, empty or duplicate headers (Excel compares them without
    case), cells over 32,767 characters, or list, struct and binary values, which
    have no cell type.

    Parameters
    ----------
    frame : DataFrame
        The table to be written below a header row.
    what : str
        How to name the table in messages, e.g. ``"Customers"``.
    first_row : int, default 2
        The sheet row of the first data row, for naming rows in messages.

    Raises
    ------
    InputError
        Naming the column (and row) that does not fit.

    Examples
    --------
    >>> check_fits(pd.DataFrame({"id": ["a"], "ID": ["b"]}), "Transactions")
    Traceback (most recent call last):
    ...
    clvxl.errors.InputError: Transactions: the headers 'id' and 'ID' differ only in case or spaces; Excel table headers must be distinct: rename one
    """
    if len(frame) >= EXCEL_MAX_ROWS:
        raise InputError(
            f"{what}: {len(frame):,} rows do not fit on an Excel sheet ({EXCEL_MAX_ROWS - 1:,} "
            "below the header at most); write .parquet or .csv instead"
        )
    _check_headers([str(c) for c in frame.columns], what)
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_datetime64_any_dtype(
            values.dtype
        ):
            continue
        if isinstance(values.dtype, pd.ArrowDtype) and not pd.api.types.is_string_dtype(
            values.dtype
        ):
            raise InputError(
                f"{what}: column {column!r} holds {values.dtype} values, which a cell cannot hold"
            )
        present = values.dropna()
        odd = present.map(
            lambda v: isinstance(v, (list, tuple, dict, set, bytes, bytearray, np.ndarray))
        )
        if odd.any():
            row = first_row + int(np.flatnonzero(odd.to_numpy())[0])
            kind_ = type(present[odd].iloc[0]).__name__
            raise InputError(
                f"{what}: column {column!r} holds {kind_} values (row {row}), which a cell cannot "
                "hold; write .parquet instead"
            )
        lengths = present.astype(str).str.len()
        if len(lengths) and int(lengths.max()) > EXCEL_MAX_CHARS:
            row = first_row + int(values.index.get_loc(lengths.idxmax()))
            raise InputError(
                f"{what}: column {column!r}, row {row}: {int(lengths.max()):,} characters, more "
                f"than an Excel cell holds ({EXCEL_MAX_CHARS:,}); write .parquet or .csv instead"
            )


_NUMBER = re.compile(r"-?(?:0|[1-9]\d{0,14})(?:\.\d+)?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?")


def typed_log(frame: pd.DataFrame) -> pd.DataFrame:
    """A text log's columns as Excel should hold them: a column whose every value is a
    plain number (no leading zeros, at most 15 digits before the point, so ids keep
    every digit) becomes numbers, one whose every value is an ISO date becomes dates;
    every other column stays text. The frame given is not changed.

    Parameters
    ----------
    frame : DataFrame
        The log as read; columns that are not text are kept as they are.

    Returns
    -------
    DataFrame
        A new frame, same columns and index: numbers as ``float64``, dates as
        ``datetime64[ns]``, blank cells of those columns missing.

    Examples
    --------
    >>> t = typed_log(pd.DataFrame({"id": ["007", "8"], "n": ["1.5", "-2"], "d": ["2024-01-02", ""]}))
    >>> t["id"].tolist(), t["n"].tolist(), t["d"].dtype.kind, str(t["d"].iloc[0].date())
    (['007', '8'], [1.5, -2.0], 'M', '2024-01-02')
    """
    out = {}
    for column in frame.columns:
        values = frame[column]
        if not (pd.api.types.is_string_dtype(values.dtype) or values.dtype == object):
            out[column] = values
            continue
        text = values.astype("string").str.strip()
        present = text[text.notna() & (text != "")]
        if len(present) and present.str.fullmatch(_NUMBER.pattern).all():
            out[column] = pd.to_numeric(text.where(text != ""), errors="raise").astype(float)
        elif len(present) and present.str.fullmatch(_ISO_DATE.pattern).all() and _in_range(present):
            dates = pd.to_datetime(text.where(text != ""), format="ISO8601", errors="coerce")
            # A bad row's impossible day (2024-02-30, set aside) keeps the column text.
            parsed = dates.notna() | (text.isna() | (text == ""))
            out[column] = dates.astype("datetime64[ns]") if parsed.all() else values
        else:
            out[column] = values
    return pd.DataFrame(out, index=frame.index)


def _in_range(dates: pd.Series) -> bool:
    """Whether ISO date texts all fall within the dates a log may hold (a bad row's
    2500-06-01, set aside with ``--on-error skip``, stays text in the Transactions sheet)."""
    years = dates.str.slice(0, 4).astype(int)
    return bool(years.between(FIRST_DATE.year, LAST_DATE.year).all())


def write_result_workbook(
    path: str | Path, transactions: pd.DataFrame, result: RecalcResult, calculator: bool = False
) -> Path:
    """Write the full workbook for a recalculation, completely or not at all.

    Parameters
    ----------
    path : str or Path
        The ``.xlsx`` to write.
    transactions : DataFrame
        The Transactions table as read; text columns that hold only numbers or ISO
        dates are written typed (:func:`typed_log`), so ``SUM`` works on them.
    result : RecalcResult
        What :func:`clvxl.recalc.recalculate` computed.
    calculator : bool
        Add the Calculator sheet (live clvxl formulas with their values cached), as
        the template has.

    Returns
    -------
    Path
        The workbook written.

    Raises
    ------
    InputError
        If the Transactions or the Customers table does not fit a sheet
        (:func:`check_fits`); nothing is written then.
    """
    check_fits(transactions, "Transactions")
    check_fits(result.customers, "Customers")
    sheets = tuple(n for n in SHEETS if calculator or n != "Calculator")
    typed = typed_log(transactions)
    return write_atomic(path, lambda tmp: build_sheets(tmp, result, sheets, typed))


def build_sheets(
    path: Path,
    result: RecalcResult,
    sheets: tuple[str, ...],
    transactions: pd.DataFrame | None = None,
    bodies: bool = True,
) -> None:
    """Write ``sheets`` (in that order) of the workbook for ``result`` to ``path``.

    With ``bodies=False`` the Customers and Transactions tables are laid out (header,
    formats, Table definition) without their rows, for the caller to put in.

    Parameters
    ----------
    path : Path
        The ``.xlsx`` to write (directly: callers write to a temporary file).
    result : RecalcResult
        What :func:`clvxl.recalc.recalculate` computed.
    sheets : tuple of str
        The names of the sheets to write, from :data:`SHEETS`.
    transactions : DataFrame, optional
        The Transactions table, typed for Excel (:func:`typed_log`); needed when
        ``sheets`` holds Transactions.
    bodies : bool, default True
        Write the rows of the Customers and Transactions tables.
    """
    book = xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "nan_inf_to_errors": False,
        },
    )
    # Open with the cached values: no full recalculation on load, so a colleague without
    # the add-in sees numbers rather than #NAME? in the Calculator's live formulas.
    book.calc_on_load = False
    book.set_properties(
        {"title": "clvxl customer lifetime value", "created": dt.datetime(2024, 1, 1)}
    )
    currency = result.settings.currency
    f = _formats(book, currency)
    unit = result.settings.unit.value
    symbol = len(CURRENCIES[currency][0]) + 1 if currency is not None else 0
    ws = {name: book.add_worksheet(name) for name in sheets}
    items = layout.sheet_items(result, tuple(s for s in layout.OWNED_SHEETS if s in ws))
    placed = {name: _write_items(book, ws[name], items[name], f, unit, symbol) for name in items}
    tables = {}
    for name in set(ws) & set(_PRINT_WIDE):
        ws[name].set_landscape()
        ws[name].fit_to_pages(1, 0)  # as wide as one page, as many pages long as it takes
    if "Customers" in ws:
        ws["Customers"].freeze_panes(1, 1)
        tables["Customers"] = result.customers
    if "Transactions" in ws:
        _transactions_sheet(book, ws["Transactions"], transactions, f, symbol)
        tables["Transactions"] = transactions
    if "Settings" in ws:
        _settings_sheet(book, ws["Settings"], result.settings, f)
    if "Help" in ws:
        _help_sheet(ws["Help"], result, f)
    if "Calculator" in ws:
        _calculator_sheet(ws["Calculator"], result, f)
    if "Dashboard" in ws and "Analysis" in placed:
        for spec in layout.CHARTS:
            if spec.block in placed["Analysis"]:
                chart = _chart(book, spec, placed["Analysis"][spec.block], unit)
                if chart is not None:
                    ws["Dashboard"].insert_chart(*spec.cell, chart)
    ws[sheets[0]].activate()
    book.close()
    sizes = {k: v for sheet in ws.values() for k, v in getattr(sheet, "table_sizes", {}).items()}
    rows = {sheets.index(name) + 1: frame for name, frame in tables.items()} if bodies else {}
    _finish_package(path, sizes, rows)


def _finish_package(path: Path, sizes: dict[str, str], bodies: dict[int, pd.DataFrame]) -> None:
    """Set each Table's full range, and put the big tables' body rows into the sheets
    XlsxWriter wrote (sheet N is ``xl/worksheets/sheetN.xml``, in the order added)."""
    parts = {f"xl/worksheets/sheet{n}.xml": frame for n, frame in bodies.items()}
    written = path.with_name(path.name + ".body")
    try:
        with zipfile.ZipFile(path) as zin, zipparts.writer(written) as zout:
            for info in zin.infolist():
                data = zin.read(info)
                if info.filename in parts:
                    data = sheetxml.with_body(data, parts[info.filename])
                elif info.filename.startswith("xl/tables/"):
                    name = re.search(rb' name="([^"]+)"', data)[1].decode()
                    data = re.sub(rb' ref="[^"]+"', f' ref="{sizes[name]}"'.encode(), data)
                zout.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
        written.replace(path)
    finally:
        written.unlink(missing_ok=True)


def _holds_dates(values: pd.Series) -> bool:
    """A datetime column, or a column of date objects as read from a workbook."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return True
    first = values.dropna()
    return (
        values.dtype == object
        and len(first) > 0
        and isinstance(first.iloc[0], (dt.date, dt.datetime))
    )


def _transactions_sheet(book, sheet, transactions: pd.DataFrame, f, symbol: int) -> None:
    """The Transactions table's layout (its rows are written by :func:`_insert_bodies`)."""
    block = Block(None, transactions, "Transactions")
    kinds = {c: layout.kind(c, transactions[c]) for c in transactions.columns}
    for col, column in enumerate(transactions.columns):
        what = "date" if _holds_dates(transactions[column]) else kinds[column]
        what = "dec" if what in ("param", "pct") else what
        sheet.set_column(
            col,
            col,
            _width(transactions[column], what, str(column), symbol),
            f[what] if what != "text" else None,
        )
    headers = [str(c) for c in transactions.columns]
    _add_table(sheet, 0, len(transactions), headers, block.table)
    n = max(len(transactions), 1)
    lowered = [h.lower() for h in headers]
    for col, name in enumerate(lowered):
        if "date" in name:
            sheet.data_validation(
                1,
                col,
                n + 5000,
                col,
                {
                    "validate": "date",
                    "criteria": "between",
                    "minimum": dt.date(1900, 1, 1),
                    "maximum": dt.date(2100, 12, 31),
                    "error_title": "Date",
                    "error_message": "Enter a date between 1900 and 2100.",
                },
            )
        if name in ("amount", "revenue", "sales", "value", "dollar_value"):
            sheet.data_validation(
                1,
                col,
                n + 5000,
                col,
                {
                    "validate": "decimal",
                    "criteria": "between",
                    "minimum": -1e12,
                    "maximum": 1e12,
                    "error_title": "Amount",
                    "error_message": "Enter a number (refunds negative).",
                },
            )
    sheet.freeze_panes(1, 0)


def _settings_sheet(book, sheet, settings: Settings, f) -> None:
    sheet.write_string(0, 0, "Settings", f["title"])
    sheet.write_row(2, 0, ["Setting", "Value", "Key", "What it does"], f["bold"])
    values = {
        "as_of": settings.as_of.to_pydatetime() if settings.as_of is not None else None,
        "horizon": settings.horizon_months,
        "discount_rate": settings.discount_rate,
        "margin": settings.margin,
        "cac": settings.cac,
        "unit": settings.unit.value,
        "model": settings.model,
        "month": settings.month,
        "business": settings.business,
        "recency_days": ", ".join(f"{d:g}" for d in settings.recency_days)
        if settings.recency_days
        else None,
        "currency": settings.currency,
    }
    styles = {
        "as_of": f["input_date"],
        "discount_rate": f["input_pct"],
        "margin": f["input_pct"],
        "cac": f["input_money"],
    }
    for i, (key, (name, label, text)) in enumerate(SETTING_NAMES.items()):
        row = 3 + i
        sheet.write_string(row, 0, label)
        value, style = values[key], styles.get(key, f["input"])
        if value is None:
            sheet.write_blank(row, 1, None, style)
        elif isinstance(value, dt.datetime):
            sheet.write_datetime(row, 1, value, style)
        elif isinstance(value, str):
            sheet.write_string(row, 1, value, style)
        else:
            sheet.write_number(row, 1, value, style)
        sheet.write_string(row, 2, key)
        sheet.write_string(row, 3, text)
        book.define_name(name, f"=Settings!$B${row + 1}")
    for key, choices in _SETTING_LISTS.items():
        row = 3 + list(SETTING_NAMES).index(key)
        sheet.data_validation(row, 1, row, 1, {"validate": "list", "source": list(choices)})
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 2, 16)
    # The help column as wide as its longest text, so none is cut at the page edge.
    sheet.set_column(3, 3, max(len(text) for _, _, text in SETTING_NAMES.values()) + 2)


def _calculator_sheet(sheet, result: RecalcResult, f) -> None:
    """Every function with its inputs; the Result column is a live formula."""
    sheet.write_string(0, 0, "Calculator: every clvxl function, worked", f["title"])
    sheet.write_string(
        1,
        0,
        "Change the yellow inputs; Result recalculates with the CLV add-in installed.",
        f["kpi_label"],
    )
    sheet.write_row(3, 0, ["Function", "Example", "Result", "Formula"], f["bold"])
    row = 4
    for example in EXAMPLES:
        refs = []
        for i, (name, value) in enumerate(example.inputs):
            sheet.write_string(row, 4 + 2 * i, name, f["kpi_label"])
            sheet.write_number(row, 5 + 2 * i, value, f["input"])
            refs.append(xl_rowcol_to_cell(row, 5 + 2 * i))
        formula = f"={example.function}({','.join(refs)})"
        sheet.write_string(row, 0, example.function, f["bold"])
        sheet.write_string(row, 1, example.what)
        sheet.write_formula(row, 2, formula, f["dec"], example.value())
        sheet.write_string(row, 3, formula)
        row += 1
    first_value = float(result.customers["clv_historic"].iloc[0])
    tier = tiers.value_tier(first_value, result.customers["clv_historic"].to_numpy())
    formula = f"=VALUE_TIER(F{row + 1},Customers[Historic CLV])"
    sheet.write_string(row, 0, "VALUE_TIER", f["bold"])
    sheet.write_string(row, 1, "The first customer's historic CLV among all customers")
    sheet.write_formula(row, 2, formula, None, tier)
    sheet.write_string(row, 3, formula)
    sheet.write_string(row, 4, "value", f["kpi_label"])
    sheet.write_number(row, 5, first_value, f["input"])
    spills = [
        (
            "CUSTOMERS",
            "Spills the whole customer table",
            "=CUSTOMERS(Transactions[customer_id],Transactions[order_date],Transactions[amount])",
        ),
        (
            "RFM_SCORES",
            "Spills R, F, M, code and segment per customer",
            "=RFM_SCORES(Transactions[customer_id],Transactions[order_date],Transactions[amount])",
        ),
        (
            "FIT_BGNBD",
            "Spills the BG/NBD parameters",
            "=FIT_BGNBD(Customers[Repeat purchases],Customers[Recency],Customers[Age (T)])",
        ),
    ]
    for i, (name, what, text) in enumerate(spills, start=row + 1):
        sheet.write_string(i, 0, name, f["bold"])
        sheet.write_string(i, 1, what + " (type the formula into an empty area)")
        sheet.write_string(i, 3, text)
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 1, 58)
    sheet.set_column(2, 2, 14)
    sheet.set_column(3, 3, 44)
    sheet.set_column(4, 30, 11)


def _help_sheet(sheet, result: RecalcResult, f) -> None:
    sheet.write_string(0, 0, "clvxl — help", f["title"])
    for i, (topic, text) in enumerate(_HELP):
        sheet.write_string(2 + i, 0, topic, f["bold"])
        sheet.write_string(2 + i, 1, text, f["wrap"])
    row = 3 + len(_HELP)
    sheet.write_string(row, 0, "Data", f["bold"])
    sheet.write_string(
        row,
        1,
        "Demo data: CDNOW (Fader, Hardie & Lee 2005), as redistributed in lifetimes (MIT).",
        f["wrap"],
    )
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 1, 100)


def read_settings(path: str | Path) -> dict[str, object]:
    """The Settings sheet of a clvxl workbook as a mapping (empty when there is none).

    Reads the key column written by :func:`write_result_workbook`, so moving rows
    around or editing labels does not break it.

    Parameters
    ----------
    path : str or Path
        The workbook.

    Returns
    -------
    dict of str to object
        Setting key (one of :data:`SETTING_NAMES`) → the cell value as read, not
        yet checked.

    Raises
    ------
    InputError
        If ``path`` is not a readable workbook (checked as a log is).
    """
    values: dict[str, object] = {}
    for row in sheet_rows(path, "Settings") or []:
        if len(row) >= 3 and str(row[2]).strip() in SETTING_NAMES:
            values[str(row[2]).strip()] = row[1]
    return values
