"""The customer table: the summary with RFM scores, segment, value tier and CLV.

One row per customer, columns :data:`CUSTOMER_COLUMNS`, exactly these names in csv
and parquet output. Each column comes from the one function that defines it:
scores and segments from :mod:`clvxl.analytics.rfm`, tiers from
:mod:`clvxl.analytics.tiers`, historic CLV from
:func:`clvxl.analytics.metrics.clv_historic`, and the predictions from
:mod:`clvxl.predict` (with ``clv_low``/``clv_high``, its 90 % interval).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from clvxl import predict
from clvxl.analytics import metrics, rfm, tiers
from clvxl.errors import ModelError
from clvxl.summary import SUMMARY_COLUMNS, CustomerSummary
from clvxl.units import DAYS_PER_MONTH

__all__ = [
    "CUSTOMER_COLUMNS",
    "PREDICTION_COLUMNS",
    "CustomerTable",
    "customer_table",
    "model_margin",
]

PREDICTION_COLUMNS = list(predict.COLUMNS)
CUSTOMER_COLUMNS = [
    *SUMMARY_COLUMNS,
    "r_score",
    "f_score",
    "m_score",
    "rfm",
    "segment",
    "value_tier",
    "clv_historic",
    *PREDICTION_COLUMNS,
]


@dataclass(frozen=True)
class CustomerTable:
    """The customer table and how its predictions were made.

    Attributes
    ----------
    table : DataFrame
        Columns :data:`CUSTOMER_COLUMNS`.
    models : FittedModels or None
        The fitted purchase and spend models (:class:`clvxl.predict.FittedModels`), or
        None when the data could not identify the purchase model (see ``notes``).
    notes : tuple of str
        Why predictions are missing, and the summary's own notes.
    total_clv : (float, float, float)
        Total predicted CLV and its 90 % interval (low, high); NaN when not predicted.
    """

    table: pd.DataFrame
    models: predict.FittedModels | None
    notes: tuple[str, ...]
    total_clv: tuple[float, float, float] = (np.nan, np.nan, np.nan)


def customer_table(
    summary: CustomerSummary,
    margin: float | None = None,
    horizon_months: float = 12.0,
    discount_rate: float = 0.10,
    model: str = "bgnbd",
    month_days: float = DAYS_PER_MONTH,
    recency_days: tuple[float, ...] | None = None,
) -> CustomerTable:
    """Build the customer table from a per-customer summary.

    Parameters
    ----------
    summary : CustomerSummary
        From :func:`clvxl.summary.summarize`.
    margin : float, optional
        Gross margin as a fraction of revenue. Default: the log's own costs when it
        has a cost column, else 1 (CLV in revenue).
    horizon_months : float
        Horizon of the predicted CLV, in months.
    discount_rate : float
        Yearly discount rate of the predicted CLV.
    model : str
        A purchase model of :data:`clvxl.models.PURCHASE_MODELS`.
        The purchase model; spend is always Gamma-Gamma.
    month_days : float
        Length of a month in days (:data:`clvxl.units.MONTHS`).
    recency_days : tuple of 4 floats, optional
        R's windows in days; default: from the typical repurchase gap
        (:mod:`clvxl.analytics.rfm`).

    Returns
    -------
    CustomerTable
    """
    table = summary.table.copy(deep=False)  # new columns only: the summary stays as it is
    notes = list(summary.notes)
    # Predictions first: the fit's working memory is freed before the other columns exist.
    total_clv = (np.nan, np.nan, np.nan)
    try:
        predictions = predict.predict_customers(
            table,
            summary.unit,
            horizon_months=horizon_months,
            discount_rate=discount_rate,
            margin=model_margin(table, margin),
            model=model,
            month_days=month_days,
        )
        for column in PREDICTION_COLUMNS:  # shared, not copied: 150 MiB less at 3.2M customers
            values = predictions.table[column].to_numpy()
            table[column] = pd.Series(values, index=table.index, copy=False)
        models, total_clv = predictions.models, predictions.total_clv
        del predictions
        if models.spend is None:
            notes.append(
                f"{', '.join(PREDICTION_COLUMNS[2:])} are empty: the spend model could not "
                f"be fitted ({models.spend_error}); p_alive and expected_purchases are "
                f"the {models.purchase.name} model's"
            )
    except ModelError as exc:
        models = None
        for column in PREDICTION_COLUMNS:
            table[column] = np.nan
        notes.append(f"predicted CLV is not available: {exc}")
    days_since_last = (summary.as_of - table["last_purchase"]).dt.days.to_numpy()
    windows, window_note = _recency_windows(table, recency_days)
    notes.append(window_note)
    scores = rfm.rfm_scores(days_since_last, table["orders"], table["revenue"], windows)
    for column in ("r_score", "f_score", "m_score"):
        table[column] = scores[column].to_numpy()
    del scores
    table["rfm"] = rfm.rfm_code(table["r_score"], table["f_score"], table["m_score"])
    table["segment"] = rfm.rfm_segment(table["r_score"], table["f_score"], table["m_score"])
    cost = table["cost"] if margin is None and "cost" in table else None
    table["clv_historic"] = metrics.clv_historic(
        table["revenue"], cost=cost, margin=1.0 if margin is None and cost is None else margin
    )
    table["value_tier"] = tiers.value_tiers(table["clv_historic"].to_numpy())
    return CustomerTable(table[CUSTOMER_COLUMNS], models, tuple(notes), total_clv)


def _recency_windows(table: pd.DataFrame, given) -> tuple[tuple[float, ...] | None, str]:
    """R's windows (given, or from the typical repurchase gap) and a note saying which."""
    if given is not None:
        windows = tuple(float(d) for d in given)
        return (
            windows,
            f"R scores days since the last purchase against your windows {_days(windows)}",
        )
    span = (table["last_purchase"] - table["first_purchase"]).dt.days.to_numpy()
    gap = rfm.typical_gap(span, table["frequency"].to_numpy())
    if gap is None or gap <= 0:
        return (
            None,
            "R is scored by quintile: no customer bought twice, so there is no purchase cycle",
        )
    windows = rfm.cycle_windows(gap)
    return windows, (
        f"R scores days since the last purchase against the typical repurchase gap of "
        f"{gap:.0f} days (median over repeat buyers): {_days(windows)}"
    )


def _days(windows: tuple[float, ...]) -> str:
    # Days since the last purchase are whole days: "within 84.3" is "within 84".
    parts = [f"{r} within {int(w)} days" for r, w in zip((5, 4, 3, 2), windows, strict=True)]
    return ", ".join(parts) + ", 1 beyond"


def model_margin(table: pd.DataFrame, margin: float | None) -> float:
    """The margin applied to predicted spend: given, or the log's overall margin.

    Parameters
    ----------
    table : DataFrame
        The customer summary's table: ``revenue``, and ``cost`` when the log has costs.
    margin : float or None
        The margin set by the user (a fraction, 0.4 = 40 %), returned as it is;
        None to take it from the log.

    Returns
    -------
    float
        ``margin`` when given; else the gross margin of the summed revenue and cost
        when there is a ``cost`` column and the revenue sums above 0; else 1.0
        (predicted spend taken as it is).

    Examples
    --------
    >>> t = pd.DataFrame({"revenue": [100.0, 60.0], "cost": [70.0, 30.0]})
    >>> model_margin(t, None), model_margin(t, 0.3), model_margin(t[["revenue"]], None)
    (0.375, 0.3, 1.0)
    """
    if margin is not None:
        return margin
    if "cost" in table and table["revenue"].sum() > 0:
        return float(metrics.gross_margin(table["revenue"].sum(), table["cost"].sum()))
    return 1.0
