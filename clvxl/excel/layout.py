"""What each clvxl sheet shows and where: the one layout both writers follow.

The file writer (:mod:`clvxl.excel.workbook`, XlsxWriter) and the ribbon button
(:mod:`clvxl.excel.addin`, xlwings) both turn a :class:`~clvxl.recalc.RecalcResult`
into the same sheets through :func:`sheet_items`: a list of items per sheet (a title,
a line of text, a label/value block, a table), each at the row this module gives it.
Every DataFrame field of the result is rendered generically as a :class:`Block` (a
title and a table), so a table added to ``RecalcResult`` appears on the Analysis sheet
(or where :data:`PLACES` puts it) without code of its own here; its columns get words
for labels (:func:`label`) and a number format from their name and type (:func:`kind`,
:func:`number_format`; money in the Settings' currency).
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from clvxl.analytics.tiers import REST
from clvxl.units import money_format

__all__ = [
    "CHARTS",
    "OWNED_SHEETS",
    "PLACES",
    "SHEETS",
    "Block",
    "ChartSpec",
    "Item",
    "as_of_line",
    "format_ranges",
    "kind",
    "kpi_kind",
    "label",
    "number_format",
    "result_blocks",
    "sheet_items",
    "tables_for",
]

#: The sheets of a clvxl workbook, in order (Calculator only in the template).
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
#: The sheets a recalculation rewrites; every other part of a workbook is the user's.
OWNED_SHEETS = ("Dashboard", "Customers", "Analysis", "Model")

#: The Dashboard's notes start below its charts (:data:`CHARTS`), so none covers them.
NOTES_ROW = 39

#: RecalcResult field → (sheet, title). A DataFrame field not listed goes on Analysis
#: under its name in words; a sheet of None means the field is not shown in a workbook.
PLACES: dict[str, tuple[str | None, str | None]] = {
    "customers": ("Customers", None),
    "kpis": ("Dashboard", None),
    "rejected": (None, None),
    "segments": ("Analysis", "Segments"),
    "tiers": ("Analysis", "Value tiers (top 1 / 5 / 20 % of customers by historic CLV)"),
    "cohorts": ("Analysis", "Cohort retention (share of each cohort buying in month n)"),
    "model": ("Model", "Fitted models"),
    "model_comparison": (
        "Model",
        "Purchase models compared: fitted on the first half of the log, checked on the second",
    ),
    "holdout": (
        "Model",
        "Holdout check: fitted on the first half of the log, "
        "mean purchases per customer in the second half",
    ),
}

#: Column name → label, where the name in words is not enough.
LABELS = {
    "customer_id": "Customer",
    "frequency": "Repeat purchases",
    "recency": "Recency (weeks)",
    "T": "Age (weeks)",
    "aov": "Average order value",
    "monetary": "Average repeat order value",
    "r_score": "Recency score",
    "f_score": "Frequency score",
    "m_score": "Monetary score",
    "rfm": "RFM code",
    "clv_historic": "Historic CLV",
    "p_alive": "P(alive)",
    "expected_avg_value": "Expected order value",
    "clv": "Predicted CLV",
    "clv_low": "Predicted CLV (low)",
    "clv_high": "Predicted CLV (high)",
    "stderr": "Standard error",
    "value_share": "Share of value",
    "cumulative_share": "Cumulative share of value",
    "customer_share": "Share of customers",
    "revenue_share": "Share of revenue",
    "calibration_purchases": "Repeat purchases (first half)",
    "actual": "Actual purchases (second half)",
    "predicted": "Predicted purchases (second half)",
    "cohort": "Cohort (first purchase)",
    "size": "Customers",
    "cumulative_tier": "Cumulative: customers",
}

_MONEY = re.compile(
    r"(^|_)(revenue|value|clv|aov|monetary|amount|cost|margin|cac|spend|mrr|arpa)(_|$)"
)
_SHARE = re.compile(r"(share|rate|p_alive|probability)")
_UNITS = {"recency", "T"}


def label(column: object, unit: str = "weeks") -> str:
    """A column's label in words (``unit``: the time unit of recency and age).

    Parameters
    ----------
    column : object
        The column name; an integer is a period column (cohort retention).
    unit : str, default "weeks"
        The time unit written into the labels of ``recency`` and ``T``.

    Returns
    -------
    str
        The label from :data:`LABELS`, else the name with spaces for underscores and
        its first letter capitalised; ``"Month n"`` for an integer.

    Examples
    --------
    >>> label("clv_historic"), label("expected_purchases"), label(3)
    ('Historic CLV', 'Expected purchases', 'Month 3')
    >>> label("recency", "days")
    'Recency (days)'
    """
    if isinstance(column, (int, np.integer)):
        return f"Month {column}"  # a period column (cohort retention)
    name = str(column)
    if name in LABELS:
        text = LABELS[name]
        return text.replace("weeks", unit) if name in _UNITS else text
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def kind(column: object, values: pd.Series) -> str:
    """How a column is shown: ``date``, ``month``, ``int``, ``money``, ``pct``, ``dec``,
    ``param`` or ``text``, from its name and type.

    Parameters
    ----------
    column : object
        The column name; an integer (a cohort period) is a share.
    values : Series
        The column; only its dtype is used.

    Returns
    -------
    str
        One of the kinds above; booleans, text and integer ``*_score`` columns are
        ``text``.

    Examples
    --------
    >>> kind("clv_low", pd.Series([1.5])), kind("revenue_share", pd.Series([0.2]))
    ('money', 'pct')
    >>> kind("orders", pd.Series([3])), kind("segment", pd.Series(["x"]))
    ('int', 'text')
    """
    name = str(column)
    if isinstance(column, (int, np.integer)) or _SHARE.search(name):
        return "pct"
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return "month" if name == "cohort" else "date"
    if pd.api.types.is_bool_dtype(values.dtype) or not pd.api.types.is_numeric_dtype(values.dtype):
        return "text"
    if pd.api.types.is_integer_dtype(values.dtype):
        return "int" if not name.endswith("_score") else "text"
    if name in ("value", "stderr"):  # fitted parameters and their errors
        return "param"
    if _MONEY.search(name):
        return "money"
    return "dec"


#: Number format per column kind (:func:`kind`); money's is the currency's
#: (:func:`number_format`).
NUMBER_FORMATS = {
    "date": "yyyy-mm-dd",
    "month": "yyyy-mm",
    "int": "#,##0",
    "money": money_format(None),
    "pct": "0.0%",
    "dec": "#,##0.00",
    "param": "#,##0.0###",
    "text": None,
}


def number_format(what: str, currency: str | None = None) -> str | None:
    """The Excel number format of a column kind; money in ``currency`` (an ISO code of
    :data:`clvxl.units.CURRENCIES`, None: plain numbers). None for text.

    Examples
    --------
    >>> number_format("money", "EUR"), number_format("money"), number_format("pct", "EUR")
    ('[$€-x-euro2] #,##0.00', '#,##0.00', '0.0%')
    """
    return money_format(currency) if what == "money" else NUMBER_FORMATS[what]


def kpi_kind(name: str) -> str:
    """How a Dashboard KPI is shown, from its label: ``pct``, ``int``, ``dec`` or
    ``money`` (everything else: revenue, AOV, CLV, MRR, ARPA, LTV, CAC).

    Examples
    --------
    >>> [kpi_kind(k) for k in ("Revenue", "Churn rate (last 8 months)", "Orders", "LTV:CAC")]
    ['money', 'pct', 'int', 'dec']
    """
    lowered = name.lower()
    if any(w in lowered for w in ("rate", "share", "bring")) or lowered == "gross margin":
        return "pct"
    if name.split(" ")[0] in ("Customers", "Orders", "Subscribers"):
        return "int"
    if lowered.startswith(("purchase frequency", "ltv:cac", "expected purchases", "cac payback")):
        return "dec"
    return "money"


@dataclass(frozen=True)
class Block:
    """A titled table: what every RecalcResult table becomes on a sheet.

    ``frame`` keeps its column names (the writers label them with :func:`label`);
    ``table`` names the Excel Table it is written as (None: a plain range).
    """

    title: str | None
    frame: pd.DataFrame
    table: str | None = None


@dataclass(frozen=True)
class Item:
    """One thing on a sheet at ``row`` (0-based): ``text`` (with a ``style``: title,
    note, bold), ``pairs`` (label/value rows, KPI style) or a ``block``."""

    row: int
    text: str | None = None
    style: str = "note"
    pairs: tuple[tuple[str, object], ...] = ()
    block: Block | None = None

    @property
    def height(self) -> int:
        """Rows this item covers."""
        if self.block is not None:
            return len(self.block.frame) + 1 + (self.block.title is not None)
        return len(self.pairs) or 1


def _display(frame: pd.DataFrame) -> pd.DataFrame:
    """A result table as shown: a meaningful index becomes the first column, and
    booleans read Yes / No (Excel shows TRUE / FALSE, or 1 / 0 once summed or copied)."""
    if not (isinstance(frame.index, pd.RangeIndex) or frame.index.name is None):
        frame = frame.reset_index()
    flags = [c for c in frame.columns if pd.api.types.is_bool_dtype(frame[c].dtype)]
    if flags:
        frame = frame.copy()
        for column in flags:
            frame[column] = frame[column].map({True: "Yes", False: "No"}).astype(object)
    return frame


def _tier_display(frame: pd.DataFrame) -> pd.DataFrame:
    """The tier summary as shown: each row's cumulative share says whom it counts (the
    top tiers so far; all customers on the last row, whose own share is the rest's)."""
    shown = frame.rename(columns={"value": "clv_historic"})
    counted = shown["tier"].astype(str).where(shown["tier"] != REST, "All customers")
    at = shown.columns.get_loc("cumulative_share")
    shown.insert(at, "cumulative_tier", counted.to_numpy(dtype=object))
    return shown


def result_blocks(result) -> dict[str, list[Block]]:
    """Every shown DataFrame of ``result`` as blocks, by sheet, in field order.

    An empty table is left out, except ``customers`` and ``model``; ``customers`` also
    adds the CLV distribution (:func:`clv_histogram`) to Analysis.

    Parameters
    ----------
    result : RecalcResult
        A recalculation (any dataclass whose DataFrame fields are its tables).

    Returns
    -------
    dict of str to list of Block
        Sheet name → its blocks, placed by :data:`PLACES`; only ``customers`` is a
        named Excel Table (``"Customers"``).
    """
    sheets: dict[str, list[Block]] = {}
    for field in dataclasses.fields(result):
        frame = getattr(result, field.name)
        if not isinstance(frame, pd.DataFrame):
            continue
        sheet, title = PLACES.get(field.name, ("Analysis", label(field.name)))
        if sheet is None or (not len(frame) and field.name not in ("customers", "model")):
            continue
        table = "Customers" if field.name == "customers" else None
        if field.name == "tiers":
            frame = _tier_display(frame)
        sheets.setdefault(sheet, []).append(Block(title, _display(frame), table))
        if field.name == "customers":
            sheets.setdefault("Analysis", []).append(
                Block("CLV distribution (customers per band)", clv_histogram(frame))
            )
    return sheets


def as_of_line(result) -> str:
    """The Dashboard's second line: the as-of date, the unit, the model, the horizon.

    Parameters
    ----------
    result : RecalcResult
        A recalculation; its settings, fitted models and business kind are read.

    Returns
    -------
    str
        One line; for the demo log with the default settings: ``"As of 1998-06-30 ·
        time unit weeks · model Pareto/NBD, chosen by the holdout check · CLV over 12
        months, discounted 10% a year, in revenue (no margin set)"``.
    """
    s = result.settings
    as_of = s.as_of.date().isoformat() if s.as_of is not None else "the last date in the log"
    values = f"margin ({s.margin:.0%})" if s.margin is not None else "revenue (no margin set)"
    fitted = result.model["model"] if "model" in result.model else []
    if getattr(result, "business", "transactions") == "subscription":
        model = "sBG per acquisition cohort (a subscription log)"
    elif s.model == "auto" and len(fitted):
        model = f"{fitted.iloc[0]}, chosen by the holdout check"
    else:
        model = s.model
    return (
        f"As of {as_of} · time unit {s.unit.value} · model {model} · "
        f"CLV over {s.horizon_months:g} months, discounted {s.discount_rate:.0%} a year, in {values}"
    )


def _kpi_pairs(result) -> tuple[tuple[str, object], ...]:
    pairs = list(zip(result.kpis["kpi"], result.kpis["value"], strict=True))
    tiers = result.tiers
    for tier, share in zip(tiers["tier"], tiers["cumulative_share"], strict=True):
        if tier != REST:
            pairs.append((f"{tier} of customers bring (share of historic CLV)", share))
    return tuple(pairs)


def notes(result) -> tuple[str, ...]:
    """The notes shown under the KPIs and on the Model sheet: the run's own notes,
    then what a reader needs to read P(alive) and churn right."""
    extra = []
    customers = result.customers
    if len(customers) and "p_alive" in customers:
        one_time = customers["frequency"] == 0
        certain = float((customers["p_alive"] >= 0.9995).mean())
        if result.settings.model == "bgnbd" and one_time.any():
            extra.append(
                f"P(alive) is the probability a customer still buys. BG/NBD gives every one-time "
                f"buyer 100 % ({certain:.0%} of customers show 100 %); choose the Pareto/NBD or "
                "MBG/NBD model on Settings to score one-time buyers."
            )
    extra.append(
        "Churn: customers who had bought before the period and did not buy during it, over "
        "customers who had bought before it; new customers are not counted as lost."
    )
    return tuple(result.notes) + tuple(extra)


def sheet_items(result, sheets: tuple[str, ...] = OWNED_SHEETS) -> dict[str, list[Item]]:
    """The owned sheets' contents, item by item with their rows (0-based).

    Dashboard: title, as-of line, KPI block, notes. Customers: the Customers table at
    A1. Analysis: its blocks, three rows apart. Model: its blocks, then Notes.

    Parameters
    ----------
    result : RecalcResult
        A recalculation.
    sheets : tuple of str, default OWNED_SHEETS
        The sheets to lay out.

    Returns
    -------
    dict of str to list of Item
        Sheet name → its items, for each of ``sheets``.
    """
    blocks = result_blocks(result)
    out: dict[str, list[Item]] = {}
    for sheet in sheets:
        if sheet == "Dashboard":
            kpis = Item(3, pairs=_kpi_pairs(result))
            items = [Item(0, "Customer lifetime value", "title"), Item(1, as_of_line(result))]
            items.append(kpis)
            row = max(kpis.row + kpis.height + 1, NOTES_ROW)
            items.append(Item(row, "Notes", "bold"))
            items += [Item(row + 1 + i, text) for i, text in enumerate(notes(result))]
        elif sheet == "Customers":
            items = [Item(0, block=b) for b in blocks.get("Customers", ())]
        else:
            items, row = [], 0
            for block in blocks.get(sheet, ()):
                items.append(Item(row, block=block))
                row += items[-1].height + 2
            if sheet == "Model":
                items.append(Item(row, "Notes", "bold"))
                items += [Item(row + 1 + i, t) for i, t in enumerate(notes(result) or ("none",))]
        out[sheet] = items
    return out


def format_ranges(
    items: list[Item], currency: str | None = None
) -> list[tuple[int, int, int, int, str]]:
    """The number formats of a sheet's items as ranges, for a writer that sets them
    after the values (the button): a block's columns (next columns of one format
    joined), the KPI values (next rows of one format joined). Text has none.

    Parameters
    ----------
    items : list of Item
        The sheet's items (:func:`sheet_items`).
    currency : str or None
        ISO code money is shown in (None: plain numbers).

    Returns
    -------
    list of (first row, first column, last row, last column, format)
        0-based, inclusive; blocks without rows and text columns are left out.

    Examples
    --------
    >>> frame = pd.DataFrame({"id": ["a"], "revenue": [1.0], "clv": [2.0], "orders": [3]})
    >>> format_ranges([Item(2, block=Block("T", frame))], "GBP")
    [(4, 1, 4, 2, '[$£-809]#,##0.00'), (4, 3, 4, 3, '#,##0')]
    >>> format_ranges([Item(0, pairs=(("Revenue", 1.0), ("Orders", 2), ("Customers", 3)))])
    [(0, 1, 0, 1, '#,##0.00'), (1, 1, 2, 1, '#,##0')]
    """
    ranges: list[tuple[int, int, int, int, str]] = []
    for item in items:
        if item.block is not None and len(item.block.frame):
            frame = item.block.frame
            first = item.row + 1 + (item.block.title is not None)
            codes = [number_format(kind(c, frame[c]), currency) for c in frame.columns]
            for code, run in itertools.groupby(enumerate(codes), key=lambda p: p[1]):
                columns = [c for c, _ in run]
                if code is not None:
                    ranges.append((first, columns[0], first + len(frame) - 1, columns[-1], code))
        elif item.pairs:
            codes = [number_format(kpi_kind(name), currency) for name, _ in item.pairs]
            for code, run in itertools.groupby(enumerate(codes), key=lambda p: p[1]):
                rows = [r for r, _ in run]
                ranges.append((item.row + rows[0], 1, item.row + rows[-1], 1, code))
    return ranges


def clv_histogram(customers: pd.DataFrame) -> pd.DataFrame:
    """Customers per band of predicted CLV (historic when there is none), with round
    band edges (steps of 1, 2 or 5 × 10^k) up to the 99th percentile; the last band
    holds everything above it."""
    values = customers["clv"].to_numpy(dtype=float) if "clv" in customers else np.array([])
    what = "Predicted CLV"
    if not np.isfinite(values).any():
        values, what = customers["clv_historic"].to_numpy(dtype=float), "Historic CLV"
    values = values[np.isfinite(values)]
    top = float(np.quantile(values, 0.99)) if len(values) else 1.0
    step = _round_step(max(top, 1e-9) / 10)
    edges = np.arange(0, 11) * step
    counts, _ = np.histogram(np.clip(values, 0, edges[-1]), bins=edges)
    bands = [f"{a:,.6g}–{b:,.6g}" for a, b in itertools.pairwise(edges)]
    bands[-1] = f"{edges[-2]:,.6g} and more"
    return pd.DataFrame({f"{what} band": bands, "customers": counts.astype(np.int64)})


def _round_step(raw: float) -> float:
    """The smallest 1, 2 or 5 × 10^k at least ``raw``.

    Examples
    --------
    >>> _round_step(37.0), _round_step(0.013), _round_step(5.0)
    (50.0, 0.02, 5.0)
    """
    power = 10.0 ** np.floor(np.log10(raw))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-12)))


@dataclass(frozen=True)
class ChartSpec:
    """One Dashboard chart over an Analysis block.

    ``series``: (column, chart type, on the secondary axis) per series; with ``rows``
    the block's first ``rows`` rows are the series instead (cohort lines over the
    month columns). ``categories``: the column naming the categories (None: the
    first). ``cell``: the chart's top-left cell (row, column).
    """

    block: str
    kind: str
    title: str
    x_title: str
    y_title: str
    cell: tuple[int, int]
    series: tuple[tuple[str, str, bool], ...] = ()
    y2_title: str | None = None
    y_format: str | None = None
    y_max: float | None = None
    rows: int = 0
    size: tuple[int, int] = (620, 340)
    categories: str | None = None


#: The Dashboard's charts, by the title of the Analysis block they show.
CHARTS = (
    ChartSpec(
        "Segments",
        "column",
        "Customers and revenue per segment",
        "Segment",
        "Customers",
        (3, 4),
        series=(("customers", "column", False), ("revenue", "line", True)),
        y2_title="Revenue",
    ),
    ChartSpec(
        PLACES["tiers"][1],
        "bar",
        "Top customers' cumulative share of historic CLV",
        "Share of historic CLV",
        "Top customers",
        (3, 15),
        series=(("cumulative_share", "bar", False),),
        y_format="0%",
        y_max=1.0,
        size=(500, 340),
        categories="cumulative_tier",
    ),
    ChartSpec(
        "CLV distribution (customers per band)",
        "column",
        "CLV distribution",
        "CLV band",
        "Customers",
        (21, 4),
        series=(("customers", "column", False),),
    ),
    ChartSpec(
        PLACES["cohorts"][1],
        "line",
        "Cohort retention, months 1 and later",
        "Months since first purchase",
        "Share of cohort buying",
        (21, 15),
        y_format="0%",
        rows=5,
        size=(500, 340),
    ),
)


def tables_for(sheets) -> frozenset[str]:
    """The workbook-only tables a workbook with these sheets shows: ``holdout`` with a
    Model sheet, ``cohorts`` with an Analysis sheet.

    Parameters
    ----------
    sheets : iterable of str
        Sheet names of the workbook.

    Returns
    -------
    frozenset of str
        Names of ``RecalcResult`` fields.

    Examples
    --------
    >>> sorted(tables_for(["Customers", "Model"]))
    ['holdout']
    """
    present = set(sheets)
    return frozenset(t for t, s in (("holdout", "Model"), ("cohorts", "Analysis")) if s in present)
