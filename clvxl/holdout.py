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
import pyarrow as pa

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


#: Customers the model comparison is run on at most (:func:`compare`): it only chooses the
#: model, and 100,000 customers pin each group's mean holdout purchases down to about
#: 0.01, well within what separates the models (0.07 and more on the benchmark logs).
SAMPLE_CUSTOMERS = 100_000

_FNV_OFFSET, _FNV_PRIME = np.uint64(0xCBF29CE484222325), np.uint64(0x100000001B3)


def id_hashes(ids: pa.Array) -> np.ndarray:
    """A 64-bit hash of each text id: FNV-1a over its UTF-8 bytes, then MurmurHash3's
    finaliser (FNV-1a alone leaves ids that differ in their last character close).

    The same id always has the same hash, whatever else is in the log or in which order.

    Parameters
    ----------
    ids : pyarrow.Array of str, shape (n,)
        The ids (no nulls).

    Returns
    -------
    ndarray of uint64, shape (n,)

    Examples
    --------
    >>> [hex(h) for h in id_hashes(pa.array(["", "a"]))]  # FNV-1a of "" and "a", finalised
    ['0xefd01f60ba992926', '0x82a2a958a9bece5b']
    """
    ids = ids.cast(pa.large_string())
    offsets = np.frombuffer(ids.buffers()[1], np.int64)[ids.offset : ids.offset + len(ids) + 1]
    data = np.frombuffer(ids.buffers()[2] or b"", np.uint8)
    starts, lengths = offsets[:-1], np.diff(offsets)
    by_length = np.argsort(-lengths, kind="stable")  # the ids still going are a prefix
    starts, lengths = starts[by_length], lengths[by_length]
    hashes = np.full(len(ids), _FNV_OFFSET)
    for position in range(int(lengths.max(initial=0))):
        going = int(np.searchsorted(-lengths, -position, side="left"))
        hashes[:going] ^= data[starts[:going] + position]
        hashes[:going] *= _FNV_PRIME
    for shift, factor in ((33, 0xFF51AFD7ED558CCD), (33, 0xC4CEB9FE1A85EC53), (33, None)):
        hashes ^= hashes >> np.uint64(shift)
        if factor is not None:
            hashes *= np.uint64(factor)
    out = np.empty_like(hashes)
    out[by_length] = hashes
    return out


def _sample(log: EngineLog, at_most: int) -> tuple[EngineLog, tuple[int, int] | None]:
    """The log of at most ``at_most`` customers, those with the smallest :func:`id_hashes`
    (a sample that depends on the ids alone), and (sampled, all) customers; the log as it
    is and None when it has no more customers than that."""
    customers = len(log.ids)
    if customers <= at_most:
        return log, None
    hashes = id_hashes(log.ids)
    keep = hashes <= np.partition(hashes, at_most - 1)[at_most - 1]
    return log.of_customers(keep), (int(keep.sum()), customers)


def _calibration(log: EngineLog, as_of: pd.Timestamp, unit):
    """The calibration summary: the period ends halfway between the first purchase and
    ``as_of`` (39 of 78 weeks in the CDNOW study)."""
    first = log.date("first")
    calibration_end = (first + (as_of - first) / 2).normalize()
    if not first < calibration_end < as_of:
        raise NoDataError(
            f"the log spans {(as_of - first).days + 1} day(s), too few to fit the models on "
            "its first half and check them on the second"
        )
    return calibration_holdout(log, calibration_end, as_of, unit)


def _fit(model: str, summary: CustomerSummary):
    """The calibration fit: its standard errors are shown nowhere, so not computed."""
    table = summary.table
    return model_info(model, "purchase").module.fit(
        table["frequency"],
        table["recency"],
        table["T"],
        time_unit=summary.unit,
        standard_errors=False,
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
    summary = _calibration(EngineLog.of(transactions), as_of, unit)
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
    sample : (int, int) or None
        When the models were compared on a sample of the customers: how many were in it,
        and how many the log has; None when on all of them.
    """

    table: pd.DataFrame
    holdouts: dict[str, pd.DataFrame]
    notes: tuple[str, ...]
    sample: tuple[int, int] | None = None


def compare(
    transactions: pd.DataFrame | EngineLog,
    as_of: pd.Timestamp,
    unit,
    models: tuple[str, ...] = PURCHASE_MODELS,
    sample: int = SAMPLE_CUSTOMERS,
) -> Comparison:
    """Fit each of ``models`` on the first half of the log and check it on the second.

    Raises NoDataError when the log is too short for a calibration period; a model
    that cannot be fitted there gets a row with ``fitted`` False and a note. A log of
    more than ``sample`` customers is compared on ``sample`` of them, chosen by a hash
    of their id (:func:`id_hashes`), so that the same log always gets the same choice:
    the comparison only chooses the model, and the chosen model is fitted on every
    customer.

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
    sample : int, default :data:`SAMPLE_CUSTOMERS`
        Customers to compare the models on at most.

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
    log, sampled = _sample(EngineLog.of(transactions), sample)
    summary = _calibration(log, as_of, unit)
    del log  # a sample's lines are a copy
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
    return Comparison(table.reindex(columns=first + errors + last), holdouts, tuple(notes), sampled)


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
    sample = comparison.sample
    on = "" if sample is None else f" on a sample of {sample[0]:,} of {sample[1]:,} customers"
    reason = (
        f"purchase model {best['label']}, chosen by the holdout check{on}: fitted on the first "
        f"half of the log, its predicted purchases in the second half are off by "
        f"{best['mean_abs_error']:.3f} per customer (mean over the groups of repeat "
        f"purchases)"
        + (f", against {others}" if others else "")
        + "; set model in Settings to use another"
    )
    return str(best["model"]), reason
