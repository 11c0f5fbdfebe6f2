"""clvxl's Excel functions, served by xlwings: thin wrappers over the clvxl core.

Every function converts its arguments, calls the one core function that defines the
formula, and maps errors to a readable cell value. The same module serves classic
xlwings on Windows (``UDF_MODULES = udfs`` in the add-in's xlwings.conf sheet) and
the Office.js runtimes (xlwings Lite / Server); elsewhere the decorators leave the
functions as plain Python, which is how the tests call them.

Errors: a wrong argument returns text that starts with the Excel error it stands for
and says what is wrong, e.g. ``#VALUE! CLV: churn must be between 0 and 1, got 1.5``.
Classic xlwings would otherwise put a Python traceback in the cell; text keeps the
reason visible, and any formula that uses the cell still fails as Excel would.

Ranges: pass whole columns; results of column arguments come back as one column
(one call per column, never one per row). Table functions (``CUSTOMERS``,
``RFM_SCORES``, ``FIT_BGNBD``) spill with a header row.
"""

from __future__ import annotations

import functools
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


def _values(value):
    """Excel's blank → NaN; a range (list of lists) → a flat array; a cell → a float."""
    if isinstance(value, (list, tuple, np.ndarray)):
        flat = np.asarray(value, dtype=object).ravel()
        return np.array([np.nan if v is None else v for v in flat], dtype=object)
    return np.nan if value is None else value


def _column(values) -> list:
    """Flatten a range to one list (Excel passes a column as a list of lists or a list)."""
    if not isinstance(values, (list, tuple, np.ndarray)):
        return [values]
    return [v[0] if isinstance(v, (list, tuple)) and len(v) == 1 else v for v in values]


def _cell(result):
    """A single value to a cell value; an array to one column."""
    if np.size(result) == 1:
        value = np.asarray(result).ravel()[0]
        return value if isinstance(value, str) else float(value)
    return [[v.item() if isinstance(v, np.generic) else v] for v in np.asarray(result).ravel()]


def _excel(name: str, description: str, **arguments: str) -> Callable:
    """Register ``f`` as the Excel function ``name`` with help text, and map errors."""

    def wrap(f: Callable) -> Callable:
        @functools.wraps(f)
        def call(*args, **kwargs):
            try:
                return f(*args, **kwargs)
            except ClvxlError as exc:
                text = " ".join(str(exc).splitlines()[:3])
                return f"{exc.excel_error} {name}: {text}"
            except Exception as exc:  # never a traceback in a cell
                return f"#VALUE! {name}: {type(exc).__name__}: {exc}"

        call.__name__ = name
        call.__doc__ = description
        for argument, doc in arguments.items():
            call = xw.arg(argument, doc=doc)(call)
        return xw.func(call)

    return wrap


def _numbers(value, name: str):
    value = _values(value)
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be numbers") from None
    return array


def _counts(customers_start, customers_end, new_customers):
    """CHURN's and RETENTION's arguments; a blank new_customers is 0."""
    return (
        _numbers(customers_start, "customers_start"),
        _numbers(customers_end, "customers_end"),
        _numbers(0 if new_customers is None else new_customers, "new_customers"),
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
            _numbers(1 if months is None else months, "months"),
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
            _numbers(1 if margin is None else margin, "margin"),
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
    rate = None if discount_rate is None else _numbers(discount_rate, "discount_rate")
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
    return _cell(rfm.rfm_segment(_values(r), _values(f), _values(m)))


@_excel(
    "VALUE_TIER",
    "Value tier (Top 1%, Top 5%, Top 20%, Rest) of a value among all values.",
    value="The customer's value",
    all_values="All customers' values (a column)",
)
def VALUE_TIER(value, all_values):
    return tiers.value_tier(float(_numbers(value, "value")), _numbers(all_values, "all_values"))


def _log(customer_ids, dates, amounts) -> RawLog:
    ids, when, money = _column(customer_ids), _column(dates), _column(amounts)
    if not (len(ids) == len(when) == len(money)):
        raise InputError(
            f"customer_ids, dates and amounts must be columns of the same length, "
            f"got {len(ids)}, {len(when)} and {len(money)} rows"
        )
    table = pd.DataFrame({"customer_id": ids, "date": when, "amount": money}, dtype=object)
    return RawLog.from_frame(table, "the ranges", first_row=1)


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
    return bgnbd.BetaGeoModel(
        r=float(r), alpha=float(alpha), a=float(a), b=float(b), time_unit=unit or "weeks"
    )


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
    spend = gammagamma.GammaGammaModel(p=float(p), q=float(q), v=float(v))
    return _cell(
        predict.predicted_clv(
            _bgnbd(r, alpha, a, b, unit),
            spend,
            _numbers(frequency, "frequency"),
            _numbers(recency, "recency"),
            _numbers(T, "T"),
            _numbers(monetary, "monetary"),
            horizon_months=12.0 if horizon is None else float(horizon),
            discount_rate=0.1 if discount_rate is None else float(discount_rate),
            margin=1.0 if margin is None else float(margin),
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
