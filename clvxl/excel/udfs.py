"""clvxl's Excel functions, served by xlwings: thin wrappers over the clvxl core.

Every function converts its arguments, calls the one core function that defines the
formula, and maps errors to a readable cell value. The same module serves classic
xlwings on Windows (``UDF_MODULES = udfs`` in the add-in's xlwings.conf sheet) and
the Office.js runtimes (xlwings Lite / Server); elsewhere the decorators leave the
functions as plain Python, which is how the tests call them.

Errors: a wrong argument gives a real Excel error value (``#VALUE!``, ``#NUM!``,
``#N/A``), so ``SUM``, ``ISERROR`` and ``IFERROR`` treat it as they treat Excel's own;
``=CLV_WHY("CLV", A2, B2, C2)`` gives the reason in words for the same arguments. In the
Office.js runtimes (xlwings Lite and Server) the error's name is returned, which xlwings
turns into the error value; in classic xlwings (Windows) a COM ``VT_ERROR`` variant is
returned, which pywin32 hands to the VBA wrapper as ``CVErr`` would. Called as plain
Python (tests, scripts), the functions return the error as text with the reason, e.g.
``#VALUE! CLV: churn is a fraction between 0 and 1 (write 40% or 0.4), got 1.5``.

Arguments, one rule for all: a whole column (``B:B``) loses its trailing blank cells
and a text header above numbers; a blank required argument "is empty"; TRUE/FALSE
are refused (not taken as 1/0); margins, rates and churn are fractions from 0 to 1,
``"40%"`` is 0.40 and 40 is refused with that hint; numbers given as text are refused.

Ranges: pass whole columns; results of column arguments come back as one column
(one call per column, never one per row). Table functions (``CUSTOMERS``,
``RFM_SCORES``, ``FIT_BGNBD``) spill with a header row.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable

import numpy as np
import pandas as pd
import xlwings as xw

from clvxl import predict
from clvxl.analytics import metrics, rfm, tiers
from clvxl.errors import ClvxlError, InputError
from clvxl.models import bgnbd, gammagamma
from clvxl.recalc import Settings, recalculate
from clvxl.sources import RawLog

__all__ = [
    "AOV",
    "ARPU",
    "CAC",
    "CAC_PAYBACK",
    "CHURN",
    "CLV",
    "CLV_PREDICTED",
    "CLV_SIMPLE",
    "CLV_WHY",
    "COGS",
    "CUSTOMERS",
    "CUSTOMER_VALUE",
    "EXPECTED_PURCHASES",
    "FIT_BGNBD",
    "GROSS_MARGIN",
    "LIFETIME",
    "LTV_CAC",
    "PURCHASE_FREQUENCY",
    "P_ALIVE",
    "RETENTION",
    "RFM_SCORES",
    "RFM_SEGMENT",
    "VALUE_TIER",
]


#: Arguments that are fractions from 0 to 1 (the one rule for margins, rates, churn).
FRACTIONS = frozenset({"margin", "gross_margin", "churn", "discount_rate"})
#: Who calls the functions, which decides how an error value is returned: "officejs"
#: (xlwings Lite, Server: the error's name), "com" (classic xlwings on Windows: a COM
#: error variant) or "python" (the error as text with its reason).
_RUNTIME = (
    "officejs"
    if os.environ.get("XLWINGS_ON_SERVER") == "true"
    else "com" if sys.platform == "win32" else "python"
)
#: Excel's error values as COM error codes (0x800A0000 + Excel's xlErr number), as
#: Excel itself hands them over through COM.
_COM_ERRORS = {
    "#DIV/0!": -2146826281,
    "#N/A": -2146826246,
    "#NAME?": -2146826259,
    "#NULL!": -2146826288,
    "#NUM!": -2146826252,
    "#REF!": -2146826265,
    "#VALUE!": -2146826273,
}
#: The functions by Excel name, unwrapped, for CLV_WHY.
_FUNCTIONS: dict[str, Callable] = {}


def _blank(value) -> bool:
    """An empty cell as each runtime sends it: None, Pyodide's JsNull, NaN, ""."""
    if value is None or type(value).__name__ == "JsNull":
        return True
    if isinstance(value, float):
        return value != value
    return isinstance(value, str) and not value.strip()


def _flat(value) -> list:
    """A range (list of lists, list, array) as one list; a cell as a list of one."""
    if isinstance(value, np.ndarray):
        return list(value.ravel())
    if isinstance(value, (list, tuple)):
        return [v for row in value for v in (row if isinstance(row, (list, tuple)) else [row])]
    return [value]


def _is_range(value) -> bool:
    return isinstance(value, (list, tuple, np.ndarray))


def _trimmed(cells: list) -> list:
    """A column's cells without its trailing blanks (whole columns such as ``B:B``)."""
    end = len(cells)
    while end and _blank(cells[end - 1]):
        end -= 1
    return cells[:end]


def _number(value, name: str) -> float:
    if isinstance(value, (bool, np.bool_)):
        raise InputError(f"{name} must be a number, got a logical (TRUE/FALSE)")
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%") and name in FRACTIONS:
            try:
                return float(text[:-1]) / 100
            except ValueError:
                pass
        raise InputError(f"{name} must be a number, got the text {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}") from None


def _numbers(value, name: str):
    """An argument as numbers: a float for a cell, a 1-D array for a range.

    Examples
    --------
    >>> _numbers([["amount"], [10.0], [2.5], [None], [None]], "revenue").tolist()
    [10.0, 2.5]
    >>> _numbers("40%", "margin")
    0.4
    >>> _numbers(40, "margin")
    Traceback (most recent call last):
    ...
    clvxl.errors.InputError: margin is a fraction between 0 and 1 (write 40% or 0.4), got 40
    """
    cells = _trimmed(_flat(value))
    if cells and _is_range(value) and isinstance(cells[0], str) and len(cells) > 1:
        cells = cells[1:]  # a header above the numbers
    if not cells:
        raise InputError(f"{name} is empty")
    for i, cell in enumerate(cells):
        if _blank(cell):
            where = f" (cell {i + 1} of the range)" if len(cells) > 1 else ""
            raise InputError(f"{name} is empty{where}")
    numbers = np.array([_number(c, name) for c in cells], dtype=float)
    if name in FRACTIONS:
        bad = numbers[(numbers < 0) | (numbers > 1)]
        if len(bad):
            raise InputError(
                f"{name} is a fraction between 0 and 1 (write 40% or 0.4), got {bad[0]:g}"
            )
    return numbers if _is_range(value) and len(numbers) > 1 else float(numbers[0])


def _optional(value, name: str, default):
    return (
        default
        if _blank(value) or (_is_range(value) and not _trimmed(_flat(value)))
        else _numbers(value, name)
    )


def _column(values) -> list:
    """Flatten a range to one list (Excel passes a column as a list of lists or a list)."""
    return _flat(values)


def _cell(result):
    """A single value to a cell value; an array to one column."""
    if np.size(result) == 1:
        value = np.asarray(result).ravel()[0]
        return value if isinstance(value, str) else float(value)
    return [[v.item() if isinstance(v, np.generic) else v] for v in np.asarray(result).ravel()]


def _excel(name: str, description: str, **arguments: str) -> Callable:
    """Register ``f`` as the Excel function ``name`` with help text, and map errors."""

    def wrap(f: Callable) -> Callable:
        _FUNCTIONS[name] = f

        @functools.wraps(f)
        def call(*args, **kwargs):
            try:
                return f(*args, **kwargs)
            except ClvxlError as exc:
                return _error_value(exc.excel_error, f"{name}: {_reason(exc)}")
            except Exception as exc:  # never a traceback in a cell
                return _error_value("#VALUE!", f"{name}: {type(exc).__name__}: {exc}")

        call.__name__ = name
        call.__doc__ = description
        for argument, doc in arguments.items():
            call = xw.arg(argument, doc=doc)(call)
        return xw.func(call)

    return wrap


def _error_value(error: str, reason: str):
    """The error value ``error`` (``"#VALUE!"`` ...) as this runtime returns one."""
    if _RUNTIME == "officejs":
        return error  # xlwings turns the name into the error value; CLV_WHY says why
    if _RUNTIME == "com":
        import pythoncom
        import win32com.client

        return win32com.client.VARIANT(pythoncom.VT_ERROR, _COM_ERRORS[error])
    return f"{error} {reason}"


def _reason(exc: Exception) -> str:
    return " ".join(str(exc).splitlines()[:3])


def _counts(customers_start, customers_end, new_customers):
    """CHURN's and RETENTION's arguments; a blank new_customers is 0."""
    return (
        _numbers(customers_start, "customers_start"),
        _numbers(customers_end, "customers_end"),
        _optional(new_customers, "new_customers", 0.0),
    )


@_excel(
    "AOV",
    "Average order value: revenue / orders.",
    revenue="Revenue of the period (a number or a column)",
    orders="Number of orders",
)
def AOV(revenue, orders):
    return _cell(metrics.aov(_numbers(revenue, "revenue"), _numbers(orders, "orders")))


@_excel(
    "PURCHASE_FREQUENCY",
    "Purchase frequency: orders / unique customers.",
    orders="Number of orders",
    customers="Number of unique customers",
)
def PURCHASE_FREQUENCY(orders, customers):
    return _cell(
        metrics.purchase_frequency(_numbers(orders, "orders"), _numbers(customers, "customers"))
    )


@_excel(
    "COGS",
    "Cost of goods sold: opening inventory + purchases - closing inventory.",
    opening_inventory="Inventory at the start of the period",
    purchases="Inventory bought",
    closing_inventory="Inventory at the end of the period",
)
def COGS(opening_inventory, purchases, closing_inventory):
    return _cell(
        metrics.cogs(
            _numbers(opening_inventory, "opening_inventory"),
            _numbers(purchases, "purchases"),
            _numbers(closing_inventory, "closing_inventory"),
        )
    )


@_excel(
    "GROSS_MARGIN",
    "Gross margin as a fraction: (revenue - COGS) / revenue.",
    revenue="Revenue",
    cogs="Cost of goods sold",
)
def GROSS_MARGIN(revenue, cogs):
    return _cell(metrics.gross_margin(_numbers(revenue, "revenue"), _numbers(cogs, "cogs")))


@_excel(
    "CHURN",
    "Churn rate: customers lost in the period / customers at its start.",
    customers_start="Customers at the start of the period",
    customers_end="Customers at its end",
    new_customers="Customers acquired during the period (optional, 0)",
)
def CHURN(customers_start, customers_end, new_customers=0):
    return _cell(metrics.churn_rate(*_counts(customers_start, customers_end, new_customers)))


@_excel(
    "RETENTION",
    "Retention rate: 1 - churn (customers kept / customers at the start).",
    customers_start="Customers at the start of the period",
    customers_end="Customers at its end",
    new_customers="Customers acquired during the period (optional, 0)",
)
def RETENTION(customers_start, customers_end, new_customers=0):
    return _cell(metrics.retention_rate(*_counts(customers_start, customers_end, new_customers)))


@_excel(
    "LIFETIME", "Expected customer lifetime in periods: 1 / churn.", churn="Churn rate per period"
)
def LIFETIME(churn):
    return _cell(metrics.customer_lifetime(_numbers(churn, "churn")))


@_excel(
    "ARPU",
    "Average revenue per user (per month when months is given).",
    revenue="Revenue",
    customers="Number of customers",
    months="Length of the period in months (optional, 1)",
)
def ARPU(revenue, customers, months=1):
    return _cell(
        metrics.arpu(
            _numbers(revenue, "revenue"),
            _numbers(customers, "customers"),
            _optional(months, "months", 1.0),
        )
    )


@_excel(
    "CUSTOMER_VALUE",
    "Customer value: AOV x purchase frequency.",
    aov="Average order value",
    frequency="Purchases per customer per period",
)
def CUSTOMER_VALUE(aov, frequency):
    return _cell(metrics.customer_value(_numbers(aov, "aov"), _numbers(frequency, "frequency")))


@_excel(
    "CLV_SIMPLE",
    "Simple CLV: AOV x frequency x lifespan (x gross margin).",
    aov="Average order value",
    frequency="Purchases per period",
    lifespan="Lifetime in periods",
    margin="Gross margin as a fraction (optional, 1)",
)
def CLV_SIMPLE(aov, frequency, lifespan, margin=1):
    return _cell(
        metrics.clv_simple(
            _numbers(aov, "aov"),
            _numbers(frequency, "frequency"),
            _numbers(lifespan, "lifespan"),
            _optional(margin, "margin", 1.0),
        )
    )


@_excel(
    "CLV",
    "CLV = ARPU x gross margin / churn; discounted: x (1 + d) / (d + churn).",
    arpu="Revenue per customer per period",
    gross_margin="Gross margin as a fraction",
    churn="Churn rate per period",
    discount_rate="Discount rate per period (optional)",
)
def CLV(arpu, gross_margin, churn, discount_rate=None):
    rate = _optional(discount_rate, "discount_rate", None)
    return _cell(
        metrics.clv(
            _numbers(arpu, "arpu"),
            _numbers(gross_margin, "gross_margin"),
            _numbers(churn, "churn"),
            rate,
        )
    )


@_excel(
    "CAC",
    "Customer acquisition cost: spend / new customers.",
    spend="Marketing and sales spend",
    new_customers="Customers acquired",
)
def CAC(spend, new_customers):
    return _cell(metrics.cac(_numbers(spend, "spend"), _numbers(new_customers, "new_customers")))


@_excel(
    "LTV_CAC",
    "LTV:CAC ratio (about 3 is the usual target).",
    ltv="Customer lifetime value",
    cac="Acquisition cost",
)
def LTV_CAC(ltv, cac):
    return _cell(metrics.ltv_cac(_numbers(ltv, "ltv"), _numbers(cac, "cac")))


@_excel(
    "CAC_PAYBACK",
    "Months to earn back CAC: CAC / (monthly ARPU x gross margin).",
    cac="Acquisition cost",
    arpu="Revenue per customer per month",
    gross_margin="Gross margin as a fraction",
)
def CAC_PAYBACK(cac, arpu, gross_margin):
    return _cell(
        metrics.cac_payback(
            _numbers(cac, "cac"), _numbers(arpu, "arpu"), _numbers(gross_margin, "gross_margin")
        )
    )


@_excel(
    "RFM_SEGMENT",
    "Putler's segment name for R, F and M scores (1-5).",
    r="Recency score 1-5",
    f="Frequency score 1-5",
    m="Monetary score 1-5",
)
def RFM_SEGMENT(r, f, m):
    return _cell(rfm.rfm_segment(_numbers(r, "R"), _numbers(f, "F"), _numbers(m, "M")))


@_excel(
    "VALUE_TIER",
    "Value tier (Top 1%, Top 5%, Top 20%, Rest) of a value among all values.",
    value="The customer's value",
    all_values="All customers' values (a column)",
)
def VALUE_TIER(value, all_values):
    population = np.atleast_1d(_numbers(all_values, "all_values"))
    values = np.atleast_1d(_numbers(value, "value"))
    if len(values) == len(population) and (values == population).all():
        labels = tiers.value_tiers(population).astype(str)  # the column itself: one pass
    else:
        labels = [tiers.value_tier(v, population) for v in values]
    return _cell(np.asarray(labels, dtype=object))


def _log(customer_ids, dates, amounts) -> RawLog:
    """Three columns as a log: trailing all-blank rows dropped (whole columns), and a
    header row when the first amount is text without a digit (``amount``)."""
    ids, when, money = _column(customer_ids), _column(dates), _column(amounts)
    first = 1
    if money and isinstance(money[0], str) and not any(c.isdigit() for c in money[0]):
        ids, when, money, first = ids[1:], when[1:], money[1:], 2
    end = max(len(ids), len(when), len(money))
    while end and all(end > len(c) or _blank(c[end - 1]) for c in (ids, when, money)):
        end -= 1
    ids, when, money = ids[:end], when[:end], money[:end]
    if not (len(ids) == len(when) == len(money)):
        raise InputError(
            f"customer_ids, dates and amounts must be columns of the same length, "
            f"got {len(ids)}, {len(when)} and {len(money)} rows"
        )
    table = pd.DataFrame({"customer_id": ids, "date": when, "amount": money}, dtype=object)
    return RawLog.from_frame(table, "the ranges", first_row=first)


def _table(frame: pd.DataFrame) -> list[list]:
    rows = frame.astype(object).where(frame.notna(), None).to_numpy().tolist()
    return [list(frame.columns), *rows]


@_excel(
    "RFM_SCORES",
    "Spills customer, R, F, M, RFM code and segment for a transaction log.",
    customer_ids="Customer id column",
    dates="Order date column",
    amounts="Amount column",
    as_of="As-of date (optional: the last date)",
)
def RFM_SCORES(customer_ids, dates, amounts, as_of=None):
    result = recalculate(
        _log(customer_ids, dates, amounts), Settings.from_mapping({"as_of": as_of})
    )
    return _table(
        result.customers[["customer_id", "r_score", "f_score", "m_score", "rfm", "segment"]]
    )


@_excel(
    "CUSTOMERS",
    "Spills the whole customer table (RFM, tiers, historic and predicted CLV).",
    customer_ids="Customer id column",
    dates="Order date column",
    amounts="Amount column",
    as_of="As-of date (optional)",
    horizon="CLV horizon in months (optional, 12)",
    discount_rate="Yearly discount rate (optional, 10%)",
    margin="Gross margin (optional, 1)",
)
def CUSTOMERS(
    customer_ids, dates, amounts, as_of=None, horizon=None, discount_rate=None, margin=None
):
    settings = Settings.from_mapping(
        {"as_of": as_of, "horizon": horizon, "discount_rate": discount_rate, "margin": margin}
    )
    return _table(recalculate(_log(customer_ids, dates, amounts), settings).customers)


def _bgnbd(r, alpha, a, b, unit="weeks") -> bgnbd.BetaGeoModel:
    params = {k: _numbers(v, k) for k, v in {"r": r, "alpha": alpha, "a": a, "b": b}.items()}
    return bgnbd.BetaGeoModel(**params, time_unit=unit or "weeks")


@_excel(
    "P_ALIVE",
    "Probability a customer is still active (BG/NBD).",
    frequency="Repeat purchases x",
    recency="Time of the last purchase t_x",
    T="Customer age T",
    r="BG/NBD r",
    alpha="BG/NBD alpha",
    a="BG/NBD a",
    b="BG/NBD b",
)
def P_ALIVE(frequency, recency, T, r, alpha, a, b):
    return _cell(
        bgnbd.p_alive(
            _bgnbd(r, alpha, a, b),
            _numbers(frequency, "frequency"),
            _numbers(recency, "recency"),
            _numbers(T, "T"),
        )
    )


@_excel(
    "EXPECTED_PURCHASES",
    "Expected purchases in the next periods (BG/NBD), same unit as recency and T.",
    periods="Length of the future period, in the unit of recency and T",
    frequency="Repeat purchases x",
    recency="Time of the last purchase t_x",
    T="Customer age T",
    r="BG/NBD r",
    alpha="BG/NBD alpha",
    a="BG/NBD a",
    b="BG/NBD b",
)
def EXPECTED_PURCHASES(periods, frequency, recency, T, r, alpha, a, b):
    return _cell(
        bgnbd.expected_purchases(
            _bgnbd(r, alpha, a, b),
            _numbers(periods, "periods"),
            _numbers(frequency, "frequency"),
            _numbers(recency, "recency"),
            _numbers(T, "T"),
        )
    )


@_excel(
    "CLV_PREDICTED",
    "Predicted CLV over a horizon: BG/NBD purchases x Gamma-Gamma spend, discounted.",
    frequency="Repeat purchases x",
    recency="t_x",
    T="Customer age T",
    monetary="Mean repeat purchase value",
    r="BG/NBD r",
    alpha="BG/NBD alpha",
    a="BG/NBD a",
    b="BG/NBD b",
    p="Gamma-Gamma p",
    q="Gamma-Gamma q",
    v="Gamma-Gamma v",
    horizon="Months (optional, 12)",
    discount_rate="Yearly discount rate (optional, 10%)",
    margin="Gross margin (optional, 1)",
    unit="Unit of recency, T and of the data the parameters were fitted on (optional, weeks)",
)
def CLV_PREDICTED(
    frequency,
    recency,
    T,
    monetary,
    r,
    alpha,
    a,
    b,
    p,
    q,
    v,
    horizon=12,
    discount_rate=0.1,
    margin=1,
    unit="weeks",
):
    unit = unit or "weeks"
    spend = gammagamma.GammaGammaModel(
        **{k: _numbers(x, k) for k, x in {"p": p, "q": q, "v": v}.items()}
    )
    return _cell(
        predict.predicted_clv(
            _bgnbd(r, alpha, a, b, unit),
            spend,
            _numbers(frequency, "frequency"),
            _numbers(recency, "recency"),
            _numbers(T, "T"),
            _numbers(monetary, "monetary"),
            horizon_months=_optional(horizon, "horizon", 12.0),
            discount_rate=_optional(discount_rate, "discount_rate", 0.1),
            margin=_optional(margin, "margin", 1.0),
            unit=unit,
        )
    )


@_excel(
    "FIT_BGNBD",
    "Fits BG/NBD and spills parameter names and values.",
    frequency="Repeat purchases column",
    recency="t_x column",
    T="Customer age column",
)
def FIT_BGNBD(frequency, recency, T):
    m = bgnbd.fit(_numbers(frequency, "frequency"), _numbers(recency, "recency"), _numbers(T, "T"))
    return [
        ["parameter", "value"],
        *[[k, v] for k, v in m.params.items()],
        ["log-likelihood", m.loglik],
    ]


@_excel(
    "CLV_WHY",
    "Why a clvxl function gives an error for these arguments, in words (empty: no error).",
    function_name='The function\'s name, e.g. "CLV"',
    args="The arguments given to that function, in its order",
)
def CLV_WHY(function_name, *args):
    name = str(function_name or "").strip().upper()
    if name not in _FUNCTIONS or name == "CLV_WHY":
        raise InputError(
            f"{function_name!r} is not a clvxl function; give one of {', '.join(sorted(_FUNCTIONS))}"
        )
    try:
        _FUNCTIONS[name](*args)
    except ClvxlError as exc:
        return f"{exc.excel_error} {name}: {_reason(exc)}"
    return ""
