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

from clvxl import holdout, subscription
from clvxl._runtime.memory import run_stages
from clvxl.analytics import cohorts, metrics, rfm, tiers
from clvxl.clean import clean_transactions
from clvxl.clean.dates import parse_date
from clvxl.clean.formats import Reading
from clvxl.customers import CustomerTable, customer_table, model_margin
from clvxl.errors import InputError, ModelError, NoDataError
from clvxl.models import AUTO, BUSINESSES, model_info
from clvxl.sources import LogScan, RawLog
from clvxl.summary import CustomerSummary, EngineLog, summarize
from clvxl.summary.spark import DEFAULT_MASTER
from clvxl.units import MONTHS, TimeUnit, parse_currency, parse_month, parse_unit

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
        Purchase model: one of :data:`MODEL_CHOICES`. ``"auto"`` (the default) fits
        every purchase model on the first half of the log, checks it on the second
        and takes the one with the smallest holdout error among those that do not
        hold one-time buyers certainly alive (:func:`clvxl.holdout.choose`); a long
        log is compared on a hash sample of its customers (:func:`clvxl.holdout.compare`).
    month : str
        Length of a month (:data:`clvxl.units.MONTHS`): ``"calendar"`` (365.25 / 12
        days), ``"4.345 weeks"`` or ``"30 days"`` (lifetimes' and pymc-marketing's).
    recency_days : tuple of 4 floats or None
        Days since the last purchase within which R is 5, 4, 3, 2 (e.g. 30, 60, 90,
        180); None: from the log's typical repurchase gap (:mod:`clvxl.analytics.rfm`).
    business : {"auto", "transactions", "subscription"}
        What the log is: purchases (BG/NBD-type models), or regular invoices per
        account (:mod:`clvxl.subscription`); ``"auto"`` tells them apart
        (:func:`clvxl.subscription.looks_like_subscriptions`) and says so in a note.
    currency : str or None
        ISO code of the currency money is shown in (:data:`clvxl.units.CURRENCIES`;
        its symbol is read too); None: plain numbers. Only how a workbook shows money.
    """

    as_of: pd.Timestamp | None = None
    horizon_months: float = 12.0
    discount_rate: float = 0.10
    margin: float | None = None
    cac: float | None = None
    unit: TimeUnit = TimeUnit.WEEKS
    model: str = AUTO
    month: str = "calendar"
    recency_days: tuple[float, ...] | None = None
    business: str = "auto"
    currency: str | None = None

    def __post_init__(self) -> None:
        if self.as_of is not None:
            object.__setattr__(self, "as_of", parse_date(self.as_of, "as_of"))
        object.__setattr__(self, "unit", parse_unit(self.unit))
        _check(self.horizon_months, "horizon_months", low=0, low_open=True, high=1200)
        _check(self.discount_rate, "discount_rate", low=0, high=1)
        if self.margin is not None:
            _check(self.margin, "margin", low=0, low_open=True, high=1)
        if self.cac is not None:
            _check(self.cac, "cac", low=0)
        if self.model != AUTO:
            model_info(self.model, "purchase")
        object.__setattr__(self, "month", parse_month(self.month))
        if self.business not in BUSINESSES:
            raise InputError(
                f"business must be one of {', '.join(BUSINESSES)}; got {self.business!r}"
            )
        if self.recency_days is not None:
            windows = _windows(self.recency_days)
            rfm.recency_score([0.0], windows)  # refuses anything but 4 increasing days
            object.__setattr__(self, "recency_days", windows)
        object.__setattr__(self, "currency", parse_currency(self.currency))

    @property
    def month_days(self) -> float:
        """The month's length in days."""
        return MONTHS[self.month]

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> Settings:
        """Settings from named cells or options; empty values keep the defaults.

        Keys: ``as_of``, ``horizon`` (or ``horizon_months``), ``discount_rate``,
        ``margin``, ``cac``, ``unit``, ``model``, ``month``, ``recency_days`` (text
        such as ``"30, 60, 90, 180"``), ``business``, ``currency``; other keys are ignored.

        Examples
        --------
        >>> Settings.from_mapping({"horizon": 24, "margin": "", "unit": "days"})
        Settings(as_of=None, horizon_months=24.0, discount_rate=0.1, margin=None, cac=None, unit=<TimeUnit.DAYS: 'days'>, model='auto', month='calendar', recency_days=None, business='auto', currency=None)
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
                elif f.name == "business":
                    value = str(value).strip().lower()
                kwargs[f.name] = value
        return cls(**kwargs)


def _windows(value: object) -> tuple[float, ...]:
    """Four numbers of days from text ("30, 60, 90, 180") or a sequence."""
    parts = value.replace(";", ",").split(",") if isinstance(value, str) else value
    try:
        return tuple(float(str(p).strip()) for p in parts)
    except (TypeError, ValueError):
        raise InputError(
            f"recency_days must be four numbers of days such as 30, 60, 90, 180, got {value!r}"
        ) from None


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
        the log and checked on the second (:func:`clvxl.holdout.validate`), on the
        customers of ``model_comparison``; empty unless ``sheets``.
    rejected : DataFrame
        Rows set aside with ``on_error="skip"``: ``row``, ``column``, ``value``, ``reason``.
    settings : Settings
        The settings used, with ``as_of`` filled in.
    notes : tuple of str
        What was left out and why, in words.
    business : {"transactions", "subscription"}
        How the log was read. For a subscription log ``customers`` is the subscriber
        table (:data:`clvxl.subscription.SUBSCRIBER_COLUMNS`), ``model`` the sBG
        parameters per acquisition cohort and plan, ``kpis`` the subscription figures;
        ``segments``, ``holdout`` and ``model_comparison`` are empty.
    subscription_cohorts : DataFrame
        For a subscription log, one row per acquisition cohort and plan
        (:class:`clvxl.subscription.Subscriptions`); else empty.
    model_comparison : DataFrame
        Every purchase model fitted on the first half of the log, side by side
        (:class:`clvxl.holdout.Comparison`): one row per model with its calibration
        log-likelihood, its holdout error per group of calibration repeat purchases
        and overall, and ``chosen`` (the model the predictions use); on a sample of
        :data:`clvxl.holdout.SAMPLE_CUSTOMERS` customers for a longer log. Built when
        ``model`` is ``"auto"`` or ``sheets``; empty when the log is too short.
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
    model_comparison: pd.DataFrame = field(default_factory=pd.DataFrame)
    business: str = "transactions"
    subscription_cohorts: pd.DataFrame = field(default_factory=pd.DataFrame)


def recalculate(
    raw: RawLog | LogScan | pd.DataFrame,
    settings: Settings | None = None,
    *,
    on_error: str = "stop",
    columns: Mapping[str, str] | None = None,
    dates: str = "auto",
    dedupe: bool = False,
    timezone: str | None = None,
    reading: Reading | None = None,
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
    timezone : str, optional
        Count times written with an offset on their day in this IANA zone.
    reading : Reading, optional
        A known export, or the generic reading rules (:class:`clvxl.clean.formats.Reading`).
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
        cleaning={
            "columns": columns,
            "on_error": on_error,
            "dates": dates,
            "dedupe": dedupe,
            "timezone": timezone,
            "reading": reading,
        },
        engine=engine,
        spark_master=spark_master,
        tables=wanted,
    )
    summarise = functools.partial(_summarise, settings=settings)
    return run_stages(raw, encode, summarise, _decide, _result)


@dataclass(frozen=True)
class _Encoded:
    """The clean log encoded for the engine, and what cleaning reported."""

    log: EngineLog
    clean: pd.DataFrame | None  # the coded purchases, for the cohort table
    holdout: bool
    rejected: pd.DataFrame
    notes: tuple[str, ...]


@dataclass(frozen=True)
class _Summarised:
    """The summary and what is built beside it; the log only where the next stage needs
    it (the holdout check, choosing the purchase model, subscriptions)."""

    summary: CustomerSummary
    settings: Settings
    cohorts: pd.DataFrame
    log: EngineLog | None
    holdout: bool  # the holdout table is wanted
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
    clean = log.coded_purchases if "cohorts" in tables else None
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
        # The engine log goes on for the holdout check, for choosing the purchase model
        # and for the subscription analysis of the invoices.
        encoded.log
        if encoded.holdout or settings.model == AUTO or settings.business != "transactions"
        else None,
        encoded.holdout,
        encoded.rejected,
        encoded.notes,
    )


@dataclass(frozen=True)
class _Decided:
    """What the log is and which purchase model to use; the log itself only for a
    subscription log's invoices (let go of before the customer table is built)."""

    summarised: _Summarised
    business: str
    business_notes: tuple[str, ...]
    comparison: holdout.Comparison | None
    model: str
    choice_notes: tuple[str, ...]


def _decide(summarised: _Summarised) -> _Decided:
    business, business_notes = _business(summarised)
    if business == "subscription":
        return _Decided(summarised, business, business_notes, None, "", ())
    comparison, model, choice_notes = _choose_model(summarised)
    without_log = dataclasses.replace(summarised, log=None)
    return _Decided(without_log, business, business_notes, comparison, model, choice_notes)


def _result(decided: _Decided) -> RecalcResult:
    summarised = decided.summarised
    if decided.business == "subscription":
        return _subscription_result(summarised, decided.business_notes)
    settings = summarised.settings
    comparison, model, choice_notes = decided.comparison, decided.model, decided.choice_notes
    built = customer_table(
        summarised.summary,
        margin=settings.margin,
        horizon_months=settings.horizon_months,
        discount_rate=settings.discount_rate,
        model=model,
        month_days=settings.month_days,
        recency_days=settings.recency_days,
    )
    customers = built.table
    holdout_table = (
        comparison.holdouts.get(model, pd.DataFrame())
        if summarised.holdout and comparison is not None and built.models is not None
        else pd.DataFrame()
    )
    return RecalcResult(
        customers=customers,
        kpis=kpi_table(summarised.summary, built, settings),
        segments=rfm.segment_summary(customers),
        tiers=tiers.tier_summary(customers["clv_historic"].to_numpy()),
        cohorts=summarised.cohorts,
        model=_model_table(built),
        holdout=holdout_table,
        rejected=summarised.rejected,
        settings=settings,
        notes=summarised.notes + choice_notes + built.notes,
        model_comparison=_comparison_table(comparison, model),
    )


def _business(summarised: _Summarised) -> tuple[str, tuple[str, ...]]:
    """What the log is, and a note when it was detected as a subscription log."""
    given = summarised.settings.business
    if given != "auto":
        return given, ()
    regular, why = subscription.looks_like_subscriptions(summarised.summary.table)
    if not regular:
        return "transactions", ()
    return "subscription", (
        f"read as a subscription log: {why}; tenure, MRR, churn and sBG lifetime value per "
        "subscriber instead of purchase models (--business transactions to treat the "
        "invoices as purchases)",
    )


def _subscription_result(summarised: _Summarised, notes: tuple[str, ...]) -> RecalcResult:
    settings = summarised.settings
    table = summarised.summary.table
    margin = model_margin(table, settings.margin)
    subs = subscription.analyse(
        subscription.invoices(summarised.log, settings.as_of),
        settings.as_of,
        margin=margin,
        discount_rate=settings.discount_rate,
        cac=settings.cac,
    )
    subscribers = subs.subscribers
    return RecalcResult(
        customers=subscribers,
        kpis=pd.DataFrame(subs.kpis, columns=["kpi", "value"]),
        segments=pd.DataFrame(),
        tiers=tiers.tier_summary(subscribers["revenue"].to_numpy() * margin),
        cohorts=summarised.cohorts,
        model=_sbg_table(subs.models),
        holdout=pd.DataFrame(),
        rejected=summarised.rejected,
        settings=settings,
        notes=summarised.notes + notes + subs.notes,
        business="subscription",
        subscription_cohorts=subs.cohorts,
    )


def _sbg_table(models: dict) -> pd.DataFrame:
    """The sBG fits as Model-sheet rows, one model per acquisition cohort and plan."""
    rows = []
    for (cohort, plan), model in models.items():
        if model is None:
            continue
        name = f"sBG {plan} {cohort}"
        rows += [(name, p, v, model.stderr.get(p, np.nan)) for p, v in model.params.items()]
        rows += [
            (name, "log-likelihood", model.loglik, np.nan),
            (name, "customers", model.n, np.nan),
            (name, "distinct patterns", model.patterns, np.nan),
        ]
    return pd.DataFrame(rows, columns=["model", "parameter", "value", "stderr"])


#: The purchase model when ``model`` is "auto" and the models cannot be compared: it
#: lets one-time buyers have left, and fits with an analytic gradient like BG/NBD.
_FALLBACK_MODEL = "mbgnbd"


def _choose_model(summarised: _Summarised) -> tuple[holdout.Comparison | None, str, tuple]:
    """The holdout comparison (or None), the purchase model to use, notes."""
    settings = summarised.settings
    # A model the user chose needs the comparison only for a holdout table to show.
    if summarised.log is None or (settings.model != AUTO and not summarised.holdout):
        return None, settings.model, ()
    try:
        comparison = holdout.compare(summarised.log, settings.as_of, settings.unit)
    except (ModelError, NoDataError) as exc:
        if settings.model != AUTO:
            return None, settings.model, (f"no holdout check of the model: {exc}",)
        fallback = model_info(_FALLBACK_MODEL).label
        return (
            None,
            _FALLBACK_MODEL,
            (
                f"purchase model {fallback}: the models could not be compared on a holdout "
                f"period ({exc}); {fallback} is the default then, as it lets one-time "
                "buyers have left (BG/NBD holds them certainly alive)",
            ),
        )
    if settings.model != AUTO:
        return comparison, settings.model, comparison.notes
    try:
        chosen, reason = holdout.choose(comparison)
    except ModelError as exc:
        fallback = model_info(_FALLBACK_MODEL).label
        return comparison, _FALLBACK_MODEL, (*comparison.notes, f"purchase model {fallback}: {exc}")
    return comparison, chosen, (*comparison.notes, reason)


def _comparison_table(comparison, chosen: str) -> pd.DataFrame:
    if comparison is None:
        return pd.DataFrame()
    table = comparison.table.copy()
    table["chosen"] = table["model"] == chosen
    return table


def _churn_period_months(summary: CustomerSummary) -> int:
    """12 months, or half the log's span (at least one month) for a shorter log."""
    span = (summary.as_of - summary.table["first_purchase"].min()).days / 30.4375
    return int(max(1, min(12, span // 2)))


def kpi_table(summary: CustomerSummary, built: CustomerTable, settings: Settings) -> pd.DataFrame:
    """The Dashboard's figures, each computed by the one function that defines it.

    The total CLV's 90 % interval is the parameters' sampling uncertainty
    (:func:`clvxl.predict.clv_interval`). Churn is measured over the last
    :func:`_churn_period_months` months before the as-of date: customers who had bought before the period and did not buy during it,
    over customers who had bought before it (new customers are not counted as lost).

    Parameters
    ----------
    summary : CustomerSummary
        The customer summary at the as-of date (its ``as_of`` and first purchases).
    built : CustomerTable
        The customer table with its predictions and the total CLV's interval.
    settings : Settings
        The recalculation's settings (horizon, CAC).

    Returns
    -------
    DataFrame
        Columns ``kpi`` (the figure's name) and ``value`` (float or int), one row per
        figure; ``CAC`` and ``LTV:CAC`` only when ``settings.cac`` is set. NaN where a
        figure cannot be computed (e.g. churn when no customer bought before the period).
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
            f"Total CLV (next {settings.horizon_months:g} months), 90 % interval low",
            built.total_clv[1],
        ),
        (
            f"Total CLV (next {settings.horizon_months:g} months), 90 % interval high",
            built.total_clv[2],
        ),
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
