"""The recalculation: one function from a raw transaction log to every computed table.

The ribbon button ("Recalculate customers"), ``clvxl recalc`` and ``clvxl demo`` all
call :func:`recalculate`; they differ only in where the log comes from and where the
result goes (see :mod:`clvxl.excel.book` for workbooks, :mod:`clvxl.output` for files).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from clvxl._runtime.memory import run_stages
from clvxl.analytics import cohorts, metrics, rfm, tiers
from clvxl.clean import clean_transactions
from clvxl.clean.dates import EXCEL_EPOCH
from clvxl.customers import CustomerTable, customer_table
from clvxl.errors import InputError, ModelError, NoDataError
from clvxl.holdout import validate
from clvxl.models import model_info
from clvxl.sources import LogScan, RawLog
from clvxl.summary import CustomerSummary, EngineLog, summarize
from clvxl.summary.spark import DEFAULT_MASTER
from clvxl.units import TimeUnit, parse_unit

__all__ = ["WORKBOOK_TABLES", "RecalcResult", "Settings", "kpi_table", "recalculate"]

#: The tables only a workbook shows, built on request (``recalculate(tables=...)``).
WORKBOOK_TABLES = frozenset({"cohorts", "holdout"})


@dataclass(frozen=True)
class Settings:
    """What the Settings sheet (or the command line) says about a recalculation.

    Attributes
    ----------
    as_of : Timestamp or None
        End of the observation period; None: the last date in the log.
    horizon_months : float
        Horizon of predicted CLV and expected purchases, in months.
    discount_rate : float
        Yearly discount rate for predicted CLV, e.g. 0.10.
    margin : float or None
        Gross margin as a fraction of revenue; None: from the log's cost column when
        it has one, else 1 (values in revenue).
    cac : float or None
        Customer acquisition cost, for LTV:CAC.
    unit : TimeUnit
        Time unit of recency, T and the fitted models.
    model : str
        Purchase model, one of :data:`clvxl.models.PURCHASE_MODELS`.
    """

    as_of: pd.Timestamp | None = None
    horizon_months: float = 12.0
    discount_rate: float = 0.10
    margin: float | None = None
    cac: float | None = None
    unit: TimeUnit = TimeUnit.WEEKS
    model: str = "bgnbd"

    def __post_init__(self) -> None:
        if self.as_of is not None:
            object.__setattr__(self, "as_of", _date(self.as_of, "as_of"))
        object.__setattr__(self, "unit", parse_unit(self.unit))
        _check(self.horizon_months, "horizon_months", low=0, low_open=True, high=1200)
        _check(self.discount_rate, "discount_rate", low=0, high=1)
        if self.margin is not None:
            _check(self.margin, "margin", low=0, low_open=True, high=1)
        if self.cac is not None:
            _check(self.cac, "cac", low=0)
        model_info(self.model, "purchase")

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> Settings:
        """Settings from named cells or options; empty values keep the defaults.

        Keys: ``as_of``, ``horizon`` (or ``horizon_months``), ``discount_rate``,
        ``margin``, ``cac``, ``unit``, ``model``; other keys are ignored.

        Examples
        --------
        >>> Settings.from_mapping({"horizon": 24, "margin": "", "unit": "days"})
        Settings(as_of=None, horizon_months=24.0, discount_rate=0.1, margin=None, cac=None, unit=<TimeUnit.DAYS: 'days'>, model='bgnbd')
        >>> Settings.from_mapping({"discount_rate": 1.5})
        Traceback (most recent call last):
        ...
        clvxl.errors.InputError: discount_rate must be between 0 and 1, got 1.5
        """
        given = {k: v for k, v in values.items() if not _empty(v)}
        if "horizon" in given:
            given["horizon_months"] = given.pop("horizon")
        kwargs: dict[str, object] = {}
        for f in dataclasses.fields(cls):
            if f.name in given:
                value = given[f.name]
                if f.name in ("horizon_months", "discount_rate", "margin", "cac"):
                    value = _number(value, f.name)
                elif f.name == "model":
                    value = str(value).strip().lower().replace("/", "").replace("-", "")
                kwargs[f.name] = value
        return cls(**kwargs)


def _empty(value: object) -> bool:
    return (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, float) and np.isnan(value))
    )


def _number(value: object, name: str) -> float:
    try:
        return float(str(value).strip().rstrip("%")) / (
            100 if str(value).strip().endswith("%") else 1
        )
    except ValueError:
        raise InputError(f"{name} must be a number, got {value!r}") from None


def _date(value: object, name: str) -> pd.Timestamp:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return EXCEL_EPOCH + pd.Timedelta(days=int(value))  # Excel serial
    try:
        return pd.Timestamp(value).normalize()
    except (ValueError, TypeError):
        raise InputError(f"{name} must be a date such as 2024-06-30, got {value!r}") from None


def _check(
    value: float, name: str, low: float, high: float | None = None, low_open: bool = False
) -> None:
    if (
        not np.isfinite(value)
        or value < low
        or (low_open and value == low)
        or (high is not None and value > high)
    ):
        if high is None:
            raise InputError(
                f"{name} must be {'above' if low_open else 'at least'} {low}, got {value}"
            )
        raise InputError(f"{name} must be between {low} and {high}, got {value}")


@dataclass(frozen=True)
class RecalcResult:
    """Everything a recalculation computes, as tables ready to write.

    Attributes
    ----------
    customers : DataFrame
        The customer table (:data:`clvxl.customers.CUSTOMER_COLUMNS`).
    kpis : DataFrame
        Columns ``kpi``, ``value``: the Dashboard's figures.
    segments, tiers, cohorts : DataFrame
        Segment summary, value-tier summary, cohort retention (empty unless
        ``sheets``).
    model : DataFrame
        Columns ``model``, ``parameter``, ``value``, ``stderr``: the fitted models
        (empty when none).
    holdout : DataFrame
        Predicted vs actual purchases when the model is fitted on the first half of
        the log and checked on the second (:func:`clvxl.holdout.validate`);
        empty unless ``sheets``.
    rejected : DataFrame
        Rows set aside with ``on_error="skip"``: ``row``, ``column``, ``value``, ``reason``.
    settings : Settings
        The settings used, with ``as_of`` filled in.
    notes : tuple of str
        What was left out and why, in words.
    """

    customers: pd.DataFrame
    kpis: pd.DataFrame
    segments: pd.DataFrame
    tiers: pd.DataFrame
    cohorts: pd.DataFrame
    model: pd.DataFrame
    holdout: pd.DataFrame
    rejected: pd.DataFrame
    settings: Settings
    notes: tuple[str, ...] = field(default=())


def recalculate(
    raw: RawLog | LogScan | pd.DataFrame,
    settings: Settings | None = None,
    *,
    on_error: str = "stop",
    columns: Mapping[str, str] | None = None,
    dates: str = "auto",
    dedupe: bool = False,
    engine: str = "duckdb",
    spark_master: str = DEFAULT_MASTER,
    sheets: bool = True,
    tables: Collection[str] | None = None,
) -> RecalcResult:
    """Recalculate every table from a raw transaction log.

    Parameters
    ----------
    raw : RawLog, LogScan or DataFrame
        The log as read or scanned (any header names; see :mod:`clvxl.clean`).
    settings : Settings, optional
        Defaults: as of the last date, 12-month horizon, 10 % a year, weeks, BG/NBD.
    on_error : {"stop", "skip"}
        What to do with bad rows (see :func:`clvxl.clean.clean_transactions`).
    columns : mapping, optional
        Role → header name overrides.
    dates : {"auto", "dayfirst", "monthfirst"}
        How to read dates such as 03/04/2024.
    dedupe : bool
        Count lines that repeat an earlier line exactly only once.
    engine : {"duckdb", "spark"}
        What runs the summary query (:class:`clvxl.summary.EngineLog`).
    spark_master : str
        The Spark master URL for ``engine="spark"``.
    sheets : bool
        Also build the workbook-only tables (cohorts and the model's holdout check);
        a customer-table-only output skips them.
    tables : collection of {"cohorts", "holdout"}, optional
        Exactly which workbook-only tables to build (overrides ``sheets``): a workbook
        without an Analysis sheet needs no cohorts, one without a Model sheet no holdout.

    Returns
    -------
    RecalcResult
    """
    settings = settings or Settings()
    wanted = frozenset(WORKBOOK_TABLES if sheets else ()) if tables is None else frozenset(tables)
    if not wanted <= WORKBOOK_TABLES:
        raise InputError(
            f"tables must be among {sorted(WORKBOOK_TABLES)}, got {sorted(wanted - WORKBOOK_TABLES)}"
        )
    encode = functools.partial(
        _encode,
        cleaning={"columns": columns, "on_error": on_error, "dates": dates, "dedupe": dedupe},
        engine=engine,
        spark_master=spark_master,
        tables=wanted,
    )
    summarise = functools.partial(_summarise, settings=settings)
    return run_stages(raw, encode, summarise, _result)


@dataclass(frozen=True)
class _Encoded:
    """The clean log encoded for the engine, and what cleaning reported."""

    log: EngineLog
    clean: pd.DataFrame | None  # the clean transactions, for the cohort table
    holdout: bool
    rejected: pd.DataFrame
    notes: tuple[str, ...]


@dataclass(frozen=True)
class _Summarised:
    """The summary and what is built beside it; the log only for the holdout check."""

    summary: CustomerSummary
    settings: Settings
    cohorts: pd.DataFrame
    log: EngineLog | None
    rejected: pd.DataFrame
    notes: tuple[str, ...]


def _encode(
    raw: RawLog | LogScan | pd.DataFrame,
    cleaning: Mapping[str, object],
    engine: str,
    spark_master: str,
    tables: frozenset[str],
) -> _Encoded:
    log = clean_transactions(raw, **cleaning)
    engine_log = EngineLog.from_clean(log.table, engine, spark_master)
    clean = log.transactions if "cohorts" in tables else None
    return _Encoded(engine_log, clean, "holdout" in tables, log.rejected, log.notes)


def _summarise(encoded: _Encoded, settings: Settings) -> _Summarised:
    summary = summarize(encoded.log, settings.as_of, settings.unit)
    cohort_table = pd.DataFrame()
    if encoded.clean is not None:
        clean = encoded.clean
        cohort_table = cohorts.cohort_retention(clean[clean["date"] <= summary.as_of])
    return _Summarised(
        summary,
        dataclasses.replace(settings, as_of=summary.as_of),
        cohort_table,
        encoded.log if encoded.holdout else None,
        encoded.rejected,
        encoded.notes,
    )


def _result(summarised: _Summarised) -> RecalcResult:
    settings = summarised.settings
    built = customer_table(
        summarised.summary,
        margin=settings.margin,
        horizon_months=settings.horizon_months,
        discount_rate=settings.discount_rate,
        model=settings.model,
    )
    customers = built.table
    holdout, holdout_notes = (
        _holdout(summarised.log, settings, built) if summarised.log else (pd.DataFrame(), ())
    )
    return RecalcResult(
        customers=customers,
        kpis=kpi_table(summarised.summary, built, settings),
        segments=rfm.segment_summary(customers),
        tiers=tiers.tier_summary(customers["clv_historic"].to_numpy()),
        cohorts=summarised.cohorts,
        model=_model_table(built),
        holdout=holdout,
        rejected=summarised.rejected,
        settings=settings,
        notes=summarised.notes + built.notes + holdout_notes,
    )


def _holdout(transactions: EngineLog, settings: Settings, built: CustomerTable):
    if built.models is None:
        return pd.DataFrame(), ()
    try:
        return validate(transactions, settings.as_of, settings.unit, settings.model), ()
    except (ModelError, NoDataError) as exc:
        return pd.DataFrame(), (f"no holdout check of the model: {exc}",)


def _churn_period_months(summary: CustomerSummary) -> int:
    """12 months, or half the log's span (at least one month) for a shorter log."""
    span = (summary.as_of - summary.table["first_purchase"].min()).days / 30.4375
    return int(max(1, min(12, span // 2)))


def kpi_table(summary: CustomerSummary, built: CustomerTable, settings: Settings) -> pd.DataFrame:
    """The Dashboard's figures, each computed by the one function that defines it.

    Churn is measured over the last :func:`_churn_period_months` months before the
    as-of date: customers who had bought before the period and did not buy during it,
    over customers who had bought before it (new customers are not counted as lost).
    """
    table = built.table
    n = len(table)
    revenue = float(table["revenue"].sum())
    orders = int(table["orders"].sum())
    months = _churn_period_months(summary)
    start = summary.as_of - pd.DateOffset(months=months)
    before = table["first_purchase"] < start
    kept = int((before & (table["last_purchase"] >= start)).sum())
    new = int((~before).sum())
    at_start = int(before.sum())
    churn = metrics.churn_rate(at_start, kept + new, new) if at_start else np.nan
    clv = table["clv"]
    rows = [
        ("Customers", n),
        ("Revenue", revenue),
        ("Orders", orders),
        ("Average order value", float(metrics.aov(revenue, orders))),
        ("Purchase frequency", float(metrics.purchase_frequency(orders, n))),
        (f"Churn rate (last {months} months)", float(churn)),
        (f"Retention rate (last {months} months)", float(1 - churn)),
        ("Average historic CLV", float(table["clv_historic"].mean())),
        (f"Average CLV (next {settings.horizon_months:g} months)", float(clv.mean())),
        (f"Total CLV (next {settings.horizon_months:g} months)", float(clv.sum(min_count=1))),
        (
            f"Expected purchases (next {settings.horizon_months:g} months)",
            float(table["expected_purchases"].sum(min_count=1)),
        ),
        ("Repeat-customer rate", float((table["frequency"] > 0).mean())),
    ]
    if settings.cac is not None:
        rows.append(("CAC", settings.cac))
        rows.append(
            (
                "LTV:CAC",
                float(metrics.ltv_cac(clv.mean(), settings.cac))
                if settings.cac > 0 and np.isfinite(clv.mean())
                else np.nan,
            )
        )
    return pd.DataFrame(rows, columns=["kpi", "value"])


def _model_table(built: CustomerTable) -> pd.DataFrame:
    if built.models is None:
        return pd.DataFrame({"parameter": [], "value": []})
    return built.models.parameter_table()
