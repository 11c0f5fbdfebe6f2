"""The clvxl workbook: Dashboard, Customers, Transactions, Analysis, Model, Settings, Help.

Built with XlsxWriter, in one pass, written atomically (:func:`clvxl.output.write_atomic`).
Every value that comes from data is written as a value: text stays text even when it
starts with ``=``, ``+``, ``-`` or ``@`` (``strings_to_formulas`` is off), so a customer
id such as ``=HYPERLINK(...)`` can never become a live formula. Charts are native Excel
charts over the Analysis sheet, so they render without Python.

The Settings sheet holds one named cell per setting (:data:`SETTING_NAMES`); a
recalculation of a workbook reads them back with :func:`read_settings`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from clvxl.analytics import tiers
from clvxl.errors import InputError
from clvxl.excel.calculator import EXAMPLES
from clvxl.models import PURCHASE_MODELS, REGISTRY
from clvxl.output import write_atomic
from clvxl.recalc import RecalcResult, Settings, recalculate
from clvxl.sources import demo_log, sheet_rows
from clvxl.units import UNIT_NAMES

__all__ = [
    "EXCEL_MAX_ROWS",
    "SETTING_NAMES",
    "SHEETS",
    "analysis_blocks",
    "build_template",
    "read_settings",
    "write_result_workbook",
]

EXCEL_MAX_ROWS = 1_048_576

#: The sheets, in order (Calculator only in the template).
SHEETS = (
    "Dashboard",
    "Customers",
    "Transactions",
    "Analysis",
    "Model",
    "Calculator",
    "Settings",
    "Help",
)

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
        " or ".join(f"{n} ({REGISTRY[n].label})" for n in PURCHASE_MODELS) + ".",
    ),
}

_FRIENDLY = {
    "customer_id": "Customer",
    "first_purchase": "First purchase",
    "last_purchase": "Last purchase",
    "orders": "Orders",
    "frequency": "Repeat purchases",
    "recency": "Recency",
    "T": "Age (T)",
    "revenue": "Revenue",
    "aov": "AOV",
    "monetary": "Avg repeat value",
    "r_score": "R",
    "f_score": "F",
    "m_score": "M",
    "rfm": "RFM",
    "segment": "Segment",
    "value_tier": "Value tier",
    "clv_historic": "Historic CLV",
    "p_alive": "P(alive)",
    "expected_purchases": "Expected purchases",
    "expected_avg_value": "Expected avg value",
    "clv": "Predicted CLV",
    "clv_low": "Predicted CLV, 90 % low",
    "clv_high": "Predicted CLV, 90 % high",
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


def _clean(value):
    """A cell value XlsxWriter writes as a value: NaN → blank, numpy → Python."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    if value is pd.NaT:
        return None
    return value


def _write_table(
    book,
    sheet,
    frame: pd.DataFrame,
    name: str,
    headers: list[str],
    formats: dict[str, object] | None = None,
    first_row: int = 0,
) -> None:
    """Write ``frame`` as an Excel Table, column by column (values only)."""
    formats = formats or {}
    n = len(frame)
    for col, column in enumerate(frame.columns):
        values = [_clean(v) for v in frame[column].tolist()]
        if n:
            sheet.write_column(first_row + 1, col, values, formats.get(column))
        sheet.set_column(col, col, max(10, min(40, len(headers[col]) + 4)), formats.get(column))
    sheet.add_table(
        first_row,
        0,
        first_row + max(n, 1),
        max(len(headers) - 1, 0),
        {
            "name": name,
            "style": "Table Style Medium 2",
            "columns": [{"header": h} for h in headers],
        },
    )


def build_template(path: str | Path) -> Path:
    """Write the template: the demo log recalculated, with the Calculator sheet."""
    raw = demo_log()
    return write_result_workbook(path, raw.table, recalculate(raw), calculator=True)


def write_result_workbook(
    path: str | Path, transactions: pd.DataFrame, result: RecalcResult, calculator: bool = False
) -> Path:
    """Write the full workbook for a recalculation, completely or not at all.

    Parameters
    ----------
    path : str or Path
        The ``.xlsx`` to write.
    transactions : DataFrame
        The Transactions table exactly as read (written back value for value).
    result : RecalcResult
        What :func:`clvxl.recalc.recalculate` computed.
    calculator : bool
        Add the Calculator sheet (live clvxl formulas with their values cached), as
        the template has.
    """
    if len(result.customers) >= EXCEL_MAX_ROWS or len(transactions) >= EXCEL_MAX_ROWS:
        raise InputError(
            f"{max(len(result.customers), len(transactions)):,} rows do not fit on an Excel "
            f"sheet ({EXCEL_MAX_ROWS:,} rows at most); write .parquet or .csv instead"
        )
    return write_atomic(path, lambda tmp: _build(tmp, transactions, result, calculator))


def _build(path: Path, transactions: pd.DataFrame, result: RecalcResult, calculator: bool) -> None:
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
    f = {
        "title": book.add_format({"bold": True, "font_size": 16, "font_color": "#1F4E78"}),
        "bold": book.add_format({"bold": True}),
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
        "money": book.add_format({"num_format": "#,##0.00"}),
        "int": book.add_format({"num_format": "#,##0"}),
        "pct": book.add_format({"num_format": "0.0%"}),
        "dec": book.add_format({"num_format": "0.00"}),
        "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
        "kpi_label": book.add_format({"font_color": "#595959"}),
        "kpi": book.add_format({"bold": True, "font_size": 13, "num_format": "#,##0.00"}),
        "kpi_int": book.add_format({"bold": True, "font_size": 13, "num_format": "#,##0"}),
        "kpi_pct": book.add_format({"bold": True, "font_size": 13, "num_format": "0.0%"}),
        "input": book.add_format({"bg_color": "#FFF2CC", "border": 1}),
        "input_date": book.add_format(
            {"bg_color": "#FFF2CC", "border": 1, "num_format": "yyyy-mm-dd"}
        ),
        "input_pct": book.add_format({"bg_color": "#FFF2CC", "border": 1, "num_format": "0.0%"}),
    }
    sheets = {
        name: book.add_worksheet(name) for name in SHEETS if calculator or name != "Calculator"
    }
    _customers_sheet(book, sheets["Customers"], result.customers, f)
    _transactions_sheet(book, sheets["Transactions"], transactions, f)
    ranges = _analysis_sheet(sheets["Analysis"], result, f)
    _model_sheet(sheets["Model"], result, f)
    _settings_sheet(book, sheets["Settings"], result.settings, f)
    _help_sheet(sheets["Help"], result, f)
    if calculator:
        _calculator_sheet(sheets["Calculator"], result, f)
    _dashboard(book, sheets["Dashboard"], result, ranges, f)
    sheets["Dashboard"].activate()
    book.close()


def _customers_sheet(book, sheet, table: pd.DataFrame, f) -> None:
    formats = {
        "first_purchase": f["date"],
        "last_purchase": f["date"],
        "orders": f["int"],
        "frequency": f["int"],
        "recency": f["dec"],
        "T": f["dec"],
        "revenue": f["money"],
        "aov": f["money"],
        "monetary": f["money"],
        "clv_historic": f["money"],
        "p_alive": f["pct"],
        "expected_purchases": f["dec"],
        "expected_avg_value": f["money"],
        "clv": f["money"],
        "clv_low": f["money"],
        "clv_high": f["money"],
    }
    _write_table(book, sheet, table, "Customers", [_FRIENDLY.get(c, c) for c in table.columns], formats)
    sheet.freeze_panes(1, 1)


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


def _transactions_sheet(book, sheet, transactions: pd.DataFrame, f) -> None:
    headers = [str(c) for c in transactions.columns]
    formats = {c: f["date"] for c in transactions.columns if _holds_dates(transactions[c])}
    _write_table(book, sheet, transactions, "Transactions", headers, formats)
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


def analysis_blocks(result: RecalcResult) -> list[tuple[str, pd.DataFrame]]:
    """The Analysis sheet's blocks, top to bottom: the data behind the Dashboard charts.

    Each block is a title row, a header row and the data, then three blank rows; both
    the file writer and the ribbon button write them in this layout.
    """
    cohorts = result.cohorts.reset_index()
    cohorts["cohort"] = cohorts["cohort"].dt.strftime("%Y-%m")
    cohorts.columns = ["cohort", "size", *[f"month {c}" for c in result.cohorts.columns[1:]]]
    return [
        ("Segments", result.segments),
        ("Value tiers", result.tiers),
        ("CLV distribution", _clv_histogram(result.customers)),
        ("Cohort retention", cohorts),
    ]


def _analysis_sheet(sheet, result: RecalcResult, f) -> dict[str, tuple[int, int, int]]:
    """Write :func:`analysis_blocks`; returns where each block's data sits."""
    shares = {"customer_share", "revenue_share", "value_share", "cumulative_share"}
    ranges = {}
    row = 0
    for title, frame in analysis_blocks(result):
        sheet.write_string(row, 0, title, f["bold"])
        sheet.write_row(row + 1, 0, [str(c) for c in frame.columns], f["bold"])
        for col, column in enumerate(frame.columns):
            style = f["pct"] if column in shares or str(column).startswith("month ") else None
            sheet.write_column(row + 2, col, [_clean(v) for v in frame[column].tolist()], style)
        ranges[title] = (row + 2, row + 1 + len(frame), len(frame.columns))
        row += len(frame) + 4
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 40, 12)
    return ranges


def _clv_histogram(customers: pd.DataFrame) -> pd.DataFrame:
    values = customers["clv"].to_numpy(dtype=float)
    label = "predicted CLV"
    if not np.isfinite(values).any():
        values, label = customers["clv_historic"].to_numpy(dtype=float), "historic CLV"
    values = values[np.isfinite(values)]
    top = np.quantile(values, 0.99) if len(values) else 1.0
    edges = np.linspace(0, max(top, 1e-9), 11)
    counts, _ = np.histogram(np.clip(values, 0, top), bins=edges)
    return pd.DataFrame(
        {
            f"{label} from": edges[:-1].round(2),
            "to": edges[1:].round(2),
            "customers": counts,
        }
    )


def _model_sheet(sheet, result: RecalcResult, f) -> None:
    sheet.write_string(0, 0, "Fitted models", f["title"])
    frame = result.model
    sheet.write_row(2, 0, [str(c) for c in frame.columns], f["bold"])
    for col, column in enumerate(frame.columns):
        sheet.write_column(3, col, [_clean(v) for v in frame[column].tolist()])
    row = 4 + len(frame)
    if not len(frame):
        sheet.write_string(3, 0, "No model could be fitted; see the notes below.")
    holdout = result.holdout
    if len(holdout):
        sheet.write_string(
            row,
            0,
            "Holdout check: fitted on the first half of the log, "
            "mean purchases per customer in the second half",
            f["bold"],
        )
        headers = ["Calibration repeat purchases", "Customers", "Actual", "Predicted"]
        sheet.write_row(row + 1, 0, headers, f["bold"])
        for col, column in enumerate(holdout.columns):
            sheet.write_column(
                row + 2,
                col,
                [_clean(v) for v in holdout[column].tolist()],
                f["dec"] if col >= 2 else None,
            )
        row += len(holdout) + 3
    sheet.write_string(row, 0, "Notes", f["bold"])
    for i, note in enumerate(result.notes or ("none",)):
        sheet.write_string(row + 1 + i, 0, note)
    sheet.set_column(0, 1, 22)
    sheet.set_column(2, 3, 14)


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
    }
    styles = {"as_of": f["input_date"], "discount_rate": f["input_pct"], "margin": f["input_pct"]}
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
    sheet.data_validation(
        3 + list(SETTING_NAMES).index("unit"),
        1,
        3 + list(SETTING_NAMES).index("unit"),
        1,
        {"validate": "list", "source": list(UNIT_NAMES)},
    )
    sheet.data_validation(
        3 + list(SETTING_NAMES).index("model"),
        1,
        3 + list(SETTING_NAMES).index("model"),
        1,
        {"validate": "list", "source": list(PURCHASE_MODELS)},
    )
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 2, 16)
    sheet.set_column(3, 3, 70)


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


def _dashboard(book, sheet, result: RecalcResult, ranges, f) -> None:
    sheet.set_row(0, 26)
    sheet.write_string(0, 0, "Customer lifetime value", f["title"])
    as_of = result.settings.as_of
    sheet.write_string(
        1,
        0,
        f"As of {as_of.date() if as_of is not None else ''}; "
        f"{result.settings.unit.value}; model {result.settings.model}",
        f["kpi_label"],
    )
    for i, (name, value) in enumerate(zip(result.kpis["kpi"], result.kpis["value"], strict=True)):
        row = 3 + i
        sheet.write_string(row, 0, name, f["kpi_label"])
        value = _clean(value)
        style = (
            f["kpi_pct"]
            if "rate" in name.lower()
            else (f["kpi_int"] if name.split(" ")[0] in ("Customers", "Orders") else f["kpi"])
        )
        if value is None:
            sheet.write_string(row, 1, "n/a", f["kpi_label"])
        else:
            sheet.write_number(row, 1, value, style)
    sheet.set_column(0, 0, 44)
    sheet.set_column(1, 1, 16)

    first, last, _ = ranges["Segments"]
    seg = book.add_chart({"type": "column"})
    seg.add_series(
        {
            "name": "Customers",
            "categories": ["Analysis", first, 0, last, 0],
            "values": ["Analysis", first, 1, last, 1],
        }
    )
    revenue = book.add_chart({"type": "line"})
    revenue.add_series(
        {
            "name": "Revenue",
            "categories": ["Analysis", first, 0, last, 0],
            "values": ["Analysis", first, 3, last, 3],
            "y2_axis": True,
            "marker": {"type": "circle"},
        }
    )
    seg.combine(revenue)
    seg.set_title({"name": "Customers and revenue per segment"})
    seg.set_legend({"position": "bottom"})
    seg.set_size({"width": 620, "height": 320})
    sheet.insert_chart(3, 3, seg)

    first, last, _ = ranges["Value tiers"]
    tiers = book.add_chart({"type": "bar"})
    tiers.add_series(
        {
            "name": "Share of value",
            "categories": ["Analysis", first, 0, last, 0],
            "values": ["Analysis", first, 3, last, 3],
            "data_labels": {"value": True, "num_format": "0%"},
        }
    )
    tiers.set_title({"name": "Value tiers: share of value"})
    tiers.set_legend({"none": True})
    tiers.set_x_axis({"num_format": "0%"})
    tiers.set_y_axis({"reverse": True})
    tiers.set_size({"width": 460, "height": 320})
    sheet.insert_chart(3, 13, tiers)

    first, last, _ = ranges["CLV distribution"]
    hist = book.add_chart({"type": "column"})
    hist.add_series(
        {
            "name": "Customers",
            "categories": ["Analysis", first, 0, last, 0],
            "values": ["Analysis", first, 2, last, 2],
            "gap": 10,
        }
    )
    hist.set_title({"name": "CLV distribution (customers per band)"})
    hist.set_legend({"none": True})
    hist.set_size({"width": 620, "height": 320})
    sheet.insert_chart(20, 3, hist)

    first, last, width = ranges["Cohort retention"]
    cohort = book.add_chart({"type": "line"})
    for row in range(first, min(last, first + 5) + 1):
        cohort.add_series(
            {
                "name": ["Analysis", row, 0],
                "categories": ["Analysis", first - 1, 3, first - 1, width - 1],
                "values": ["Analysis", row, 3, row, width - 1],
            }
        )
    cohort.set_title({"name": "Cohort retention (share active, months 1+)"})
    cohort.set_y_axis({"num_format": "0%"})
    cohort.set_legend({"position": "bottom"})
    cohort.set_size({"width": 460, "height": 320})
    sheet.insert_chart(20, 13, cohort)


def read_settings(path: str | Path) -> dict[str, object]:
    """The Settings sheet of a clvxl workbook as a mapping (empty when there is none).

    Reads the key column written by :func:`write_result_workbook`, so moving rows
    around or editing labels does not break it.
    """
    values: dict[str, object] = {}
    for row in sheet_rows(path, "Settings") or []:
        if len(row) >= 3 and str(row[2]).strip() in SETTING_NAMES:
            values[str(row[2]).strip()] = row[1]
    return values
