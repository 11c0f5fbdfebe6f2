"""Does the model predict? Calibration period fit, holdout period comparison.

Fader, Hardie & Lee (2005) validate BG/NBD by fitting on the first 39 weeks of the
CDNOW data and comparing, for customers grouped by their number of calibration
repeat purchases, the predicted and the actual repeat purchases in the next 39
weeks (their Figure 3). :func:`holdout_table` builds that table for any purchase
model; the recalculation writes it to the Model sheet so a finance user can judge
the predictions before using them.

:func:`compare` fits every purchase model on the same calibration period and puts
them side by side (calibration log-likelihood, holdout error per group);
:func:`choose` picks the default model from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from clvxl.errors import InputError, ModelError, NoDataError
from clvxl.models import PURCHASE_MODELS, model_info, module_of
from clvxl.summary import CustomerSummary, EngineLog, calibration_holdout

__all__ = ["Comparison", "choose", "compare", "holdout_table", "validate"]


def holdout_table(purchase, table: pd.DataFrame, max_group: int = 7) -> pd.DataFrame:
    """Predicted vs actual holdout purchases, per number of calibration repeat purchases.

    Parameters
    ----------
    purchase : BetaGeoModel or ParetoNBDModel
        Fitted on the calibration period.
    table : DataFrame
        A calibration summary with ``frequency_holdout`` and ``duration_holdout``
        (:func:`clvxl.summary.calibration_holdout`).
    max_group : int
        Customers with this many or more calibration repeat purchases form one group.

    Returns
    -------
    DataFrame
        Columns ``calibration_purchases`` ("0", "1", …, "7+", "all"), ``customers``,
        ``actual`` and ``predicted`` (mean holdout purchases per customer).

    Raises
    ------
    InputError
        If ``table`` has no ``frequency_holdout`` column.
    """
    if "frequency_holdout" not in table:
        raise InputError("the table has no holdout columns; build it with calibration_holdout")
    module = module_of(purchase)
    x, t_x, big_t = (table[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    predicted = module.expected_purchases(
        purchase, table["duration_holdout"].to_numpy(dtype=float), x, t_x, big_t
    )
    group = np.minimum(x, max_group).astype(int)
    frame = pd.DataFrame(
        {
            "group": group,
            "actual": table["frequency_holdout"].to_numpy(dtype=float),
            "predicted": predicted,
        }
    )
    rows = (
        frame.groupby("group")
        .agg(
            customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean")
        )
        .reset_index()
    )
    rows["calibration_purchases"] = [f"{g}+" if g == max_group else str(g) for g in rows["group"]]
    total = pd.DataFrame(
        {
            "calibration_purchases": ["all"],
            "customers": [len(frame)],
            "actual": [frame["actual"].mean()],
            "predicted": [frame["predicted"].mean()],
        }
    )
    return pd.concat(
        [rows[["calibration_purchases", "customers", "actual", "predicted"]], total],
        ignore_index=True,
    )


def _calibration(transactions: pd.DataFrame | EngineLog, as_of: pd.Timestamp, unit):
    """The calibration summary: the period ends halfway between the first purchase and
    ``as_of`` (39 of 78 weeks in the CDNOW study)."""
    log = EngineLog.of(transactions)
    first = log.date("first")
    calibration_end = (first + (as_of - first) / 2).normalize()
    if not first < calibration_end < as_of:
        raise NoDataError(
            f"the log spans {(as_of - first).days + 1} day(s), too few to fit the models on "
            "its first half and check them on the second"
        )
    return calibration_holdout(log, calibration_end, as_of, unit)


def _fit(model: str, summary: CustomerSummary):
    table = summary.table
    return model_info(model, "purchase").module.fit(
        table["frequency"], table["recency"], table["T"], time_unit=summary.unit
    )


def validate(
    transactions: pd.DataFrame | EngineLog, as_of: pd.Timestamp, unit, model: str = "bgnbd"
) -> pd.DataFrame:
    """Fit on the first half of the log up to ``as_of`` and compare on the second half
    (:func:`holdout_table` of the calibration fit).

    Parameters
    ----------
    transactions : DataFrame or EngineLog
        Clean transactions (:func:`clvxl.summary.summarize`).
    as_of : Timestamp
        End of the observation period; the calibration period ends halfway between
        the first purchase and it (normalised to a day).
    unit : {"days", "weeks", "months"} or TimeUnit
        Unit of the summaries the model is fitted on.
    model : str, default "bgnbd"
        A purchase model's name in the registry (:data:`clvxl.models.PURCHASE_MODELS`).

    Returns
    -------
    DataFrame
        The :func:`holdout_table`: ``calibration_purchases``, ``customers``,
        ``actual`` and ``predicted``.

    Raises
    ------
    NoDataError
        If the log is too short for a calibration period before ``as_of``, or no
        customer has a purchase in it.
    ModelError
        If the model cannot be fitted on the calibration period.
    InputError
        If ``model`` is not a purchase model or ``unit`` names no unit.
    """
    summary = _calibration(transactions, as_of, unit)
    return holdout_table(_fit(model, summary), summary.table)


@dataclass(frozen=True)
class Comparison:
    """Every purchase model fitted on the same calibration period.

    Attributes
    ----------
    table : DataFrame
        One row per model: ``model`` (its name), ``label``, ``calibration_loglik``,
        ``error_0`` … ``error_7+`` (predicted minus actual mean holdout purchases per
        customer of each group of calibration repeat purchases), ``error_all``,
        ``mean_abs_error`` (the groups' absolute errors weighted by their customers),
        ``one_time_buyers_alive`` (True when the model holds every customer without a
        repeat purchase certainly alive) and ``fitted`` (False with the reason in
        ``notes``).
    holdouts : dict of str to DataFrame
        The :func:`holdout_table` of each model that could be fitted.
    notes : tuple of str
        Models that could not be fitted on the calibration period, and why.
    """

    table: pd.DataFrame
    holdouts: dict[str, pd.DataFrame]
    notes: tuple[str, ...]


def compare(
    transactions: pd.DataFrame | EngineLog,
    as_of: pd.Timestamp,
    unit,
    models: tuple[str, ...] = PURCHASE_MODELS,
) -> Comparison:
    """Fit each of ``models`` on the first half of the log and check it on the second.

    Raises NoDataError when the log is too short for a calibration period; a model
    that cannot be fitted there gets a row with ``fitted`` False and a note.

    Parameters
    ----------
    transactions : DataFrame or EngineLog
        Clean transactions (:func:`clvxl.summary.summarize`).
    as_of : Timestamp
        End of the observation period; the calibration period is its first half.
    unit : {"days", "weeks", "months"} or TimeUnit
        Unit of the summaries the models are fitted on.
    models : tuple of str, default :data:`clvxl.models.PURCHASE_MODELS`
        The purchase models' names, in the order of the table's rows.

    Returns
    -------
    Comparison
        The models' table, each fitted model's holdout table, and the notes.

    Raises
    ------
    NoDataError
        If the log is too short for a calibration period before ``as_of``, or no
        customer has a purchase in it.
    InputError
        If a name in ``models`` is not a purchase model or ``unit`` names no unit.
    """
    summary = _calibration(transactions, as_of, unit)
    rows, holdouts, notes = [], {}, []
    for name in models:
        info = model_info(name, "purchase")
        row = {"model": name, "label": info.label, "calibration_loglik": np.nan}
        try:
            purchase = _fit(name, summary)
        except ModelError as exc:
            notes.append(f"{info.label} could not be fitted on the calibration period: {exc}")
            rows.append(
                {**row, "one_time_buyers_alive": info.one_time_buyers_alive, "fitted": False}
            )
            continue
        holdout = holdouts[name] = holdout_table(purchase, summary.table)
        error = holdout["predicted"] - holdout["actual"]
        groups = holdout["calibration_purchases"] != "all"
        rows.append(
            {
                **row,
                "calibration_loglik": purchase.loglik,
                **{
                    f"error_{g}": e
                    for g, e in zip(holdout["calibration_purchases"], error, strict=True)
                },
                "mean_abs_error": float(
                    np.average(error[groups].abs(), weights=holdout["customers"][groups])
                ),
                "one_time_buyers_alive": info.one_time_buyers_alive,
                "fitted": True,
            }
        )
    table = pd.DataFrame(rows)
    first = ["model", "label", "calibration_loglik"]
    last = ["mean_abs_error", "one_time_buyers_alive", "fitted"]
    errors = [c for c in table if c.startswith("error_")]
    return Comparison(table.reindex(columns=first + errors + last), holdouts, tuple(notes))


def choose(comparison: Comparison) -> tuple[str, str]:
    """The default purchase model, and the reason in words.

    Among the models that do not hold one-time buyers certainly alive (BG/NBD does:
    its customers can drop out only right after a repeat purchase, so one who never
    bought again is P(alive) = 1 however long ago), the one with the smallest holdout
    error; ties go to the higher calibration log-likelihood. None of them fitted: a
    ModelError.

    Parameters
    ----------
    comparison : Comparison
        The models side by side (:func:`compare`).

    Returns
    -------
    model : str
        The chosen model's name.
    reason : str
        A sentence for the notes: the chosen model's holdout error and the others'.

    Raises
    ------
    ModelError
        If no model that lets one-time buyers leave was fitted.
    """
    table = comparison.table
    eligible = table[table["fitted"] & ~table["one_time_buyers_alive"]]
    if eligible.empty:
        raise ModelError(
            "no purchase model that allows one-time buyers to have left could be "
            "fitted on the first half of the log"
        )
    best = eligible.sort_values(
        ["mean_abs_error", "calibration_loglik"], ascending=[True, False]
    ).iloc[0]
    others = "; ".join(
        f"{row.label} {row.mean_abs_error:.3f}"
        + (
            " (not eligible: it holds every one-time buyer certainly alive)"
            if row.one_time_buyers_alive
            else ""
        )
        for row in table[table["fitted"] & (table["model"] != best["model"])].itertuples()
    )
    reason = (
        f"purchase model {best['label']}, chosen by the holdout check: fitted on the first "
        f"half of the log, its predicted purchases in the second half are off by "
        f"{best['mean_abs_error']:.3f} per customer (mean over the groups of repeat "
        f"purchases)"
        + (f", against {others}" if others else "")
        + "; set model in Settings to use another"
    )
    return str(best["model"]), reason
