r"""Subscription businesses: tenure, MRR, churn and sBG lifetime value per subscriber.

A log of regular invoices per account (monthly or yearly plans) is not a log of
purchases: a subscriber does not "buy again at some rate", it renews or leaves. For
such a log clvxl computes, per subscriber:

- **plan and service**: each invoice pays for one month, or twelve when the account's
  next invoice comes :data:`ANNUAL_GAP_DAYS` or more later (an annual plan). A last
  invoice takes the plan its amount shows: twelve months when it is at least
  :data:`ANNUAL_AMOUNT` times the account's earlier monthly rate (or, for an account
  with one invoice, the log's median monthly rate), else one month. Service is paid
  through the last invoice's date plus its months (calendar months);
- **tenure**: months of service paid for; **status**: *churned* when the paid service
  ended more than :data:`GRACE_DAYS` days before the as-of date (a renewal paid a few
  days late is not a churn), else *active*; **MRR**: the last invoice's amount per
  month of its plan for an active subscriber, 0 for a churned one;
- **sBG per acquisition cohort**: the shifted-beta-geometric model (Fader & Hardie
  2007) fitted to the cohort's subscribers (year of the first invoice, one cohort per
  plan), in the plan's periods: one who paid *m* periods and churned counts P(T = m),
  one still active S(m − 1) (:func:`clvxl.models.sbg.fit_durations`). A cohort without
  a churn yet, or too small to pin the model down, uses its plan's cohorts pooled;
- **DERL and CLV**: the discounted expected residual lifetime after the renewals made
  (Fader & Hardie 2010, eq. 6, at the yearly discount rate per period), as months:
  ``expected_remaining_months`` = plan months × DERL, and
  ``clv`` = MRR × margin × expected remaining months. A churned subscriber's is 0;
- **interval**: ``clv_low`` and ``clv_high``, the :data:`~clvxl.predict.INTERVAL`
  interval of each CLV from the sBG parameters' sampling uncertainty, and the same for
  the total (:func:`clv_intervals`).

Portfolio figures: monthly churn = subscribers whose service ended in the last 12
months (or the log's span) over the subscriber-months at risk in them; ARPA = MRR per
active subscriber; the "most common" LTV = ARPA × margin / monthly churn
(:func:`clvxl.analytics.metrics.clv`), LTV:CAC and the CAC payback months.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from clvxl.analytics import metrics
from clvxl.errors import InputError, ModelError
from clvxl.models import sbg
from clvxl.models._mle import pattern_index
from clvxl.predict import INTERVAL, _log_cov, clv_interval
from clvxl.summary import EngineLog

__all__ = [
    "ANNUAL_AMOUNT",
    "ANNUAL_GAP_DAYS",
    "GRACE_DAYS",
    "SUBSCRIBER_COLUMNS",
    "Subscriptions",
    "analyse",
    "clv_intervals",
    "invoices",
    "looks_like_subscriptions",
]

#: A paid service that ended at most this many days before the as-of date is not churned.
GRACE_DAYS = 15
#: Invoices this many days or more apart are yearly billing.
ANNUAL_GAP_DAYS = 300
#: A last invoice this many times the monthly rate or more pays for a year.
ANNUAL_AMOUNT = 6
#: Mean days between invoices that read as monthly (calendar months, a few days'
#: retries) or yearly billing.
_MONTHLY_GAP, _YEARLY_GAP = (27.0, 32.0), (355.0, 375.0)
#: Share of accounts with repeat invoices that must be regular, and their least number.
_REGULAR_SHARE, _REGULAR_MIN = 2 / 3, 10

SUBSCRIBER_COLUMNS = [
    "customer_id",
    "plan",
    "cohort",
    "first_invoice",
    "last_invoice",
    "invoices",
    "revenue",
    "tenure_months",
    "paid_through",
    "status",
    "mrr",
    "renewal_probability",
    "derl",
    "expected_remaining_months",
    "clv",
    "clv_low",
    "clv_high",
]


def looks_like_subscriptions(summary: pd.DataFrame) -> tuple[bool, str]:
    """Whether a customer summary reads as regular invoices per account, and why.

    Regular: an account with repeat invoices whose mean days between them is a
    calendar month (27–32) or a year (355–375); the log is a subscription log when at
    least two thirds of at least 10 such accounts are regular.

    Parameters
    ----------
    summary : DataFrame
        ``first_purchase``, ``last_purchase``, ``frequency`` per customer.

    Returns
    -------
    verdict : bool
        True when the log reads as a subscription log.
    reason : str
        The share of regular accounts among those with repeat invoices, in words.
    """
    repeat = summary["frequency"].to_numpy() > 0
    span = (summary["last_purchase"] - summary["first_purchase"]).dt.days.to_numpy()[repeat]
    gap = span / summary["frequency"].to_numpy()[repeat]
    regular = ((gap >= _MONTHLY_GAP[0]) & (gap <= _MONTHLY_GAP[1])) | (
        (gap >= _YEARLY_GAP[0]) & (gap <= _YEARLY_GAP[1])
    )
    n, share = int(repeat.sum()), float(regular.mean()) if repeat.any() else 0.0
    verdict = n >= _REGULAR_MIN and share >= _REGULAR_SHARE
    return verdict, (
        f"{share:.0%} of the {n:,} accounts with repeat invoices are billed at regular "
        "monthly or yearly intervals"
    )


def invoices(log: EngineLog, as_of: pd.Timestamp) -> pd.DataFrame:
    """One row per account and invoice day up to ``as_of``: ``customer_id``, ``date``,
    ``amount`` (the day's lines summed), sorted by account and date; days that net to
    zero or less (refunds, free trials) are not invoices.

    "Sorted by account" is by the log's account codes, i.e. in the order the
    accounts first appear in the log, not in the order of their ids.

    Parameters
    ----------
    log : EngineLog
        The encoded clean transactions.
    as_of : Timestamp
        Last day counted (inclusive).

    Returns
    -------
    DataFrame
        Columns ``customer_id`` (str), ``date`` (datetime64, a day) and ``amount``
        (float, above 0); one row per account and invoice day.
    """
    tx = log.tx.select(["customer_id", "day", "amount"]).to_pandas()
    day_of = (as_of - pd.Timestamp("1970-01-01")).days
    tx = tx[tx["day"] <= day_of]
    days = tx.groupby(["customer_id", "day"], sort=True, as_index=False)["amount"].sum()
    days = days[days["amount"] > 0]
    ids = log.ids.to_numpy(zero_copy_only=False)
    return pd.DataFrame(
        {
            "customer_id": ids[days["customer_id"].to_numpy()],
            "date": pd.Timestamp("1970-01-01") + pd.to_timedelta(days["day"].to_numpy(), "D"),
            "amount": days["amount"].to_numpy(dtype=float),
        }
    )


@dataclass(frozen=True)
class Subscriptions:
    """What :func:`analyse` computes.

    Attributes
    ----------
    subscribers : DataFrame
        Columns :data:`SUBSCRIBER_COLUMNS`, one row per account.
    cohorts : DataFrame
        One row per (cohort, plan): ``cohort``, ``plan``, ``subscribers``, ``active``,
        ``churned``, ``alpha``, ``beta``, ``loglik``, ``fitted_on`` ("the cohort" or
        "all <plan> cohorts").
    kpis : list of (str, float)
        The portfolio figures (module docstring).
    models : dict of (str, str) to ShiftedBetaGeoModel
        The sBG fitted for each (cohort, plan).
    notes : tuple of str
    """

    subscribers: pd.DataFrame
    cohorts: pd.DataFrame
    kpis: list[tuple[str, float]]
    models: dict
    notes: tuple[str, ...]


def _periods(inv: pd.DataFrame) -> np.ndarray:
    """Months paid for by each invoice (1 or 12); see the module docstring."""
    account = inv["customer_id"].to_numpy()
    last = np.r_[account[1:] != account[:-1], True]
    gap = np.r_[np.diff(inv["date"].to_numpy()).astype("timedelta64[D]").astype(float), np.inf]
    months = np.where(gap >= ANNUAL_GAP_DAYS, 12, 1)
    rate = inv["amount"].to_numpy() / months
    earlier = pd.Series(np.where(last, np.nan, rate)).groupby(account).transform("median")
    log_rate = np.nanmedian(np.where(last, np.nan, rate)) if (~last).any() else np.nan
    reference = earlier.fillna(log_rate).to_numpy()
    annual_last = inv["amount"].to_numpy() >= ANNUAL_AMOUNT * reference  # NaN: monthly
    return np.where(last, np.where(annual_last, 12, 1), months)


def _paid_through(dates: pd.Series, months: np.ndarray) -> pd.Series:
    out = dates + pd.DateOffset(months=1)
    yearly = months == 12
    out[yearly] = dates[yearly] + pd.DateOffset(months=12)
    return out


def _subscriber_table(inv: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    inv = inv.assign(months=_periods(inv))
    grouped = inv.groupby("customer_id", sort=False)
    table = grouped.agg(
        first_invoice=("date", "first"),
        last_invoice=("date", "last"),
        invoices=("amount", "size"),
        revenue=("amount", "sum"),
        tenure_months=("months", "sum"),
        last_amount=("amount", "last"),
        last_months=("months", "last"),
    ).reset_index()
    table["plan"] = np.where(table["last_months"] == 12, "annual", "monthly")
    table["cohort"] = table["first_invoice"].dt.year.astype(str)
    table["paid_through"] = _paid_through(table["last_invoice"], table["last_months"].to_numpy())
    churned = table["paid_through"] + pd.Timedelta(days=GRACE_DAYS) < as_of
    table["status"] = np.where(churned, "churned", "active")
    table["mrr"] = np.where(churned, 0.0, table["last_amount"] / table["last_months"])
    table["periods"] = _plan_periods(table["tenure_months"], table["last_months"])
    return table


def _plan_periods(tenure_months, plan_months) -> np.ndarray:
    """Periods of the current plan paid for: the sBG's renewals are counted in them."""
    return np.maximum(np.asarray(tenure_months) // np.asarray(plan_months), 1)


def _period_rate(discount_rate: float, months) -> np.ndarray:
    """The yearly discount rate per period of ``months`` months."""
    return (1 + discount_rate) ** (np.asarray(months) / 12) - 1


def _fit_cohorts(table: pd.DataFrame) -> tuple[dict, pd.DataFrame, list[str]]:
    """sBG per (cohort, plan), the plan's pooled cohorts where one cannot be fitted."""
    models, rows, notes = {}, [], []
    churned = table["status"].to_numpy() == "churned"
    pooled: dict[str, object] = {}
    for (cohort, plan), group in table.groupby(["cohort", "plan"], sort=True):
        gone = churned[group.index]
        row = {
            "cohort": cohort,
            "plan": plan,
            "subscribers": len(group),
            "active": int((~gone).sum()),
            "churned": int(gone.sum()),
        }
        try:
            model, fitted_on = sbg.fit_durations(group["periods"], gone), "the cohort"
        except ModelError:
            if plan not in pooled:
                same = table["plan"].to_numpy() == plan
                try:
                    pooled[plan] = sbg.fit_durations(table["periods"][same], churned[same])
                except ModelError as exc:
                    pooled[plan] = None
                    notes.append(
                        f"no lifetime value for the {plan} subscribers: even pooled, their "
                        f"cohorts cannot be fitted ({exc})"
                    )
            model, fitted_on = pooled[plan], f"all {plan} cohorts"
        models[(cohort, plan)] = model
        rows.append(
            {
                **row,
                "alpha": model.alpha if model else np.nan,
                "beta": model.beta if model else np.nan,
                "loglik": model.loglik if model else np.nan,
                "fitted_on": fitted_on if model else "not fitted",
            }
        )
    return models, pd.DataFrame(rows), notes


def _lifetimes(table: pd.DataFrame, models: dict, discount_rate: float) -> pd.DataFrame:
    """Renewal probability, DERL and expected remaining months of active subscribers."""
    active = table["status"].to_numpy() == "active"
    start = np.where(active, np.nan, 0.0)  # a churned subscriber has nothing left
    out = pd.DataFrame(
        {c: start.copy() for c in ("renewal_probability", "derl", "expected_remaining_months")}
    )
    keys = table[["cohort", "plan", "periods", "last_months"]][active].drop_duplicates()
    for cohort, plan, periods, months in keys.itertuples(index=False):
        model = models[(cohort, plan)]
        if model is None:
            continue
        derl = sbg.derl(model, float(_period_rate(discount_rate, months)), int(periods) - 1)
        at = (
            active
            & (table["cohort"] == cohort).to_numpy()
            & (table["plan"] == plan).to_numpy()
            & (table["periods"] == periods).to_numpy()
        )
        out.loc[at, "renewal_probability"] = float(sbg.retention(model, periods))
        out.loc[at, "derl"] = derl
        out.loc[at, "expected_remaining_months"] = months * derl
    return out


def clv_intervals(
    subscribers: pd.DataFrame, models: dict, discount_rate: float
) -> tuple[np.ndarray, np.ndarray, float, float, list[str]]:
    """The :data:`~clvxl.predict.INTERVAL` interval of each subscriber's CLV and of the total.

    The method of the transaction path (:func:`clvxl.predict.clv_interval`): the
    asymptotic normal of the sBG's log-parameters, covariance from the fit, carried to
    log CLV by the delta method. CLV = MRR × margin × months × DERL, so d log CLV /
    d log θ is DERL's (:func:`clvxl.models.sbg.derl_log_gradient`), the same for the
    subscribers of one model with the same plan and renewals: they are grouped so, and
    each group's summed CLV goes through ``clv_interval`` with its gradient in its
    model's block of a block-diagonal covariance. Subscribers sharing a model (a
    cohort's own, or the pooled one of the cohorts that fell back to it) are thus
    perfectly correlated in the total, which sums their gradients weighted by CLV
    before the covariance is applied; different models are fitted to different
    subscribers and are independent.

    Parameters
    ----------
    subscribers : DataFrame
        ``cohort``, ``plan``, ``tenure_months`` and ``clv`` per subscriber (the
        :data:`SUBSCRIBER_COLUMNS` table), n rows.
    models : dict of (str, str) to ShiftedBetaGeoModel or None
        The sBG of each (cohort, plan) (:attr:`Subscriptions.models`).
    discount_rate : float
        The yearly discount rate the CLVs were computed at (above 0).

    Returns
    -------
    (low, high, total_low, total_high, notes)
        Arrays of shape (n,), two floats and the notes. A CLV of 0 (churned) has the
        interval (0, 0); the bounds are NaN where the CLV is, and where the model
        has no usable covariance (a note says whose), and then the total's are too.
        The total is the sum of the CLVs that are not NaN, as on the Dashboard.
    """
    clv = subscribers["clv"].to_numpy(dtype=float)
    low = np.where(clv == 0, 0.0, np.nan)
    high = low.copy()
    total = float(np.nansum(clv)) if np.isfinite(clv).any() else np.nan
    positive = np.flatnonzero(clv > 0)  # NaN (no model) is not
    if len(positive) == 0:
        return low, high, total, total, []
    groups, group_of = _gradient_groups(subscribers.iloc[positive], models)
    distinct = list({id(m): m for m in groups["model"]}.values())
    usable = [m for m in distinct if _has_covariance(m)]
    block = {id(m): i for i, m in enumerate(usable)}
    notes = [_no_interval_note(m, models) for m in distinct if id(m) not in block]
    covered = np.array([id(m) in block for m in groups["model"]])
    gradient = np.zeros((int(covered.sum()), 2 * len(usable)))
    for row, g in enumerate(np.flatnonzero(covered)):
        model, at = groups["model"][g], 2 * block[id(groups["model"][g])]
        rate = float(_period_rate(discount_rate, groups["months"][g]))
        gradient[row, at : at + 2] = sbg.derl_log_gradient(model, rate, groups["renewals"][g])
    summed = np.bincount(group_of, weights=clv[positive], minlength=len(covered))
    ratio = np.full((len(covered), 2), np.nan)
    total_low = total_high = np.nan
    if covered.any():
        # The sBG stands in for the purchase model; there is no spend model (MRR is known).
        group_low, group_high, total_low, total_high = clv_interval(
            summed[covered],
            gradient,
            _block_diagonal([_log_cov(m) for m in usable]),
            np.zeros((len(gradient), 0)),
            np.zeros((0, 0)),
        )
        ratio[covered] = np.column_stack([group_low, group_high]) / summed[covered, None]
    low[positive], high[positive] = (clv[positive] * ratio[group_of, k] for k in (0, 1))
    if notes:  # part of the total has no interval
        total_low = total_high = np.nan
    return low, high, total_low, total_high, notes


def _gradient_groups(subscribers: pd.DataFrame, models: dict) -> tuple[dict, np.ndarray]:
    """Subscribers with the same model, plan and renewals (so the same d log CLV / d log
    θ): ``model``, ``months`` and ``renewals`` per group, and each subscriber's group."""
    plan = subscribers["plan"].to_numpy()
    months = np.where(plan == "annual", 12, 1)
    groups, group_of = pattern_index(
        {
            "cohort": subscribers["cohort"].to_numpy(),
            "plan": plan,
            "months": months,
            "renewals": _plan_periods(subscribers["tenure_months"].to_numpy(), months) - 1,
        }
    )
    groups["model"] = [models[key] for key in zip(groups["cohort"], groups["plan"], strict=True)]
    return groups, group_of


def _has_covariance(model: sbg.ShiftedBetaGeoModel) -> bool:
    """Whether the model's log-parameter covariance is finite and positive definite."""
    cov = _log_cov(model)
    return bool(np.isfinite(cov).all() and (np.linalg.eigvalsh(cov) > 0).all())


def _block_diagonal(blocks: list[np.ndarray]) -> np.ndarray:
    size = sum(len(b) for b in blocks)
    out, at = np.zeros((size, size)), 0
    for b in blocks:
        out[at : at + len(b), at : at + len(b)] = b
        at += len(b)
    return out


def _no_interval_note(model: sbg.ShiftedBetaGeoModel, models: dict) -> str:
    cohorts = [f"{plan} {cohort}" for (cohort, plan), m in models.items() if m is model]
    return (
        f"no {INTERVAL * 100:.0f} % interval for the CLV of the {', '.join(cohorts)} subscribers, "
        "nor for the total CLV: their sBG fit has no usable covariance (the likelihood's "
        "curvature at its maximum is singular), so the parameters' uncertainty is unknown"
    )


def _monthly_churn(table: pd.DataFrame, as_of: pd.Timestamp) -> tuple[float, int]:
    """Churned subscribers per subscriber-month at risk over the last 12 months (or the
    log's span, at least one month), and the months used."""
    span = (as_of - table["first_invoice"].min()).days / 30.4375
    months = int(max(1, min(12, round(span))))
    starts = [as_of - pd.DateOffset(months=k) for k in range(months, 0, -1)]
    first = table["first_invoice"].to_numpy()
    end = table["paid_through"].to_numpy()
    at_risk = sum(
        int(((first <= s.to_datetime64()) & (end > s.to_datetime64())).sum()) for s in starts
    )
    gone = (table["status"] == "churned").to_numpy() & (end > starts[0].to_datetime64())
    return (float(gone.sum()) / at_risk if at_risk else np.nan), months


def analyse(
    inv: pd.DataFrame,
    as_of: pd.Timestamp,
    margin: float = 1.0,
    discount_rate: float = 0.10,
    cac: float | None = None,
) -> Subscriptions:
    """Every subscription figure from an invoice log.

    Parameters
    ----------
    inv : DataFrame
        ``customer_id``, ``date``, ``amount``: one row per invoice, sorted by account
        and date (:func:`invoices`).
    as_of : Timestamp
        The end of the observation period.
    margin : float
        Gross margin on subscription revenue.
    discount_rate : float
        Yearly discount rate of DERL and CLV (above 0).
    cac : float, optional
        Customer acquisition cost, for LTV:CAC and the payback months.

    Returns
    -------
    Subscriptions
    """
    if len(inv) == 0:
        raise InputError("there are no paid invoices to analyse as subscriptions")
    if not discount_rate > 0:
        raise InputError(
            f"subscription lifetime value needs a discount rate above 0, got {discount_rate}"
        )
    table = _subscriber_table(inv.reset_index(drop=True), as_of)
    models, cohorts, notes = _fit_cohorts(table)
    table = pd.concat([table, _lifetimes(table, models, discount_rate)], axis=1)
    table["clv"] = table["mrr"] * margin * table["expected_remaining_months"]
    low, high, total_low, total_high, interval_notes = clv_intervals(table, models, discount_rate)
    table["clv_low"], table["clv_high"] = low, high
    notes += interval_notes
    churn, months = _monthly_churn(table, as_of)
    active = table["status"] == "active"
    mrr = float(table["mrr"].sum())
    arpa = mrr / active.sum() if active.any() else np.nan
    ltv = float(metrics.clv(arpa, margin, churn)) if churn > 0 and np.isfinite(arpa) else np.nan
    kpis = [
        ("Subscribers (active)", int(active.sum())),
        ("Subscribers (churned)", int((~active).sum())),
        ("MRR", mrr),
        ("ARPA (MRR per active subscriber)", arpa),
        (f"Monthly churn rate (last {months} months)", churn),
        ("Gross margin", margin),
        ("LTV = ARPA × margin / churn", ltv),
        ("Average CLV (sBG, active subscribers)", float(table.loc[active, "clv"].mean())),
        ("Total CLV (sBG)", float(table["clv"].sum(min_count=1))),
        (f"Total CLV (sBG), {INTERVAL * 100:.0f} % interval low", total_low),
        (f"Total CLV (sBG), {INTERVAL * 100:.0f} % interval high", total_high),
    ]
    if cac is not None:
        kpis.append(("CAC", cac))
        usable = cac > 0 and np.isfinite(ltv)  # no churn yet: no LTV to compare
        kpis.append(("LTV:CAC", float(metrics.ltv_cac(ltv, cac)) if usable else np.nan))
        payback = cac / (arpa * margin) if np.isfinite(arpa) and arpa > 0 else np.nan
        kpis.append(("CAC payback (months)", float(payback)))
    if not churn > 0:
        notes.append(
            f"no subscriber churned in the last {months} months, so ARPA × margin / churn "
            "and LTV:CAC are empty"
        )
    return Subscriptions(table[SUBSCRIBER_COLUMNS], cohorts, kpis, models, tuple(notes))
