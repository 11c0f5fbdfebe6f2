"""The customer table: the summary with RFM scores, segment, value tier and CLV.

One row per customer, columns :data:`CUSTOMER_COLUMNS`, exactly these names in csv
and parquet output. Each column comes from the one function that defines it:
scores and segments from :mod:`clvxl.rfm`, tiers from :mod:`clvxl.tiers`, historic
CLV from :func:`clvxl.metrics.clv_historic`, and the predictions from
:mod:`clvxl.models.clv`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from clvxl import predict
from clvxl.analytics import metrics, rfm, tiers
from clvxl.errors import ModelError
from clvxl.summary import SUMMARY_COLUMNS, CustomerSummary

__all__ = ["CUSTOMER_COLUMNS", "PREDICTION_COLUMNS", "CustomerTable", "customer_table"]

PREDICTION_COLUMNS = ["p_alive", "expected_purchases", "expected_avg_value", "clv"]
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
    models : object or None
        The fitted purchase and spend models (see :mod:`clvxl.models.clv`), or None
        when the data could not identify them (see ``notes``).
    notes : tuple of str
        Why predictions are missing, and the summary's own notes.
    """

    table: pd.DataFrame
    models: object | None
    notes: tuple[str, ...]


def customer_table(
    summary: CustomerSummary,
    margin: float | None = None,
    horizon_months: float = 12.0,
    discount_rate: float = 0.10,
    model: str = "bgnbd",
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

    Returns
    -------
    CustomerTable
    """
    table = summary.table.copy(deep=False)  # new columns only: the summary stays as it is
    notes = list(summary.notes)
    # Predictions first: the fit's working memory is freed before the other columns exist.
    try:
        predictions, models = predict.predict_customers(
            table,
            summary.unit,
            horizon_months=horizon_months,
            discount_rate=discount_rate,
            margin=_model_margin(table, margin),
            model=model,
        )
        for column in PREDICTION_COLUMNS:
            table[column] = predictions[column].to_numpy()
        del predictions
    except ModelError as exc:
        models = None
        for column in PREDICTION_COLUMNS:
            table[column] = np.nan
        notes.append(f"predicted CLV is not available: {exc}")
    days_since_last = (summary.as_of - table["last_purchase"]).dt.days.to_numpy()
    scores = rfm.rfm_scores(days_since_last, table["orders"], table["revenue"])
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
    return CustomerTable(table[CUSTOMER_COLUMNS], models, tuple(notes))


def _model_margin(table: pd.DataFrame, margin: float | None) -> float:
    """The margin applied to predicted spend: given, or the log's overall margin."""
    if margin is not None:
        return margin
    if "cost" in table and table["revenue"].sum() > 0:
        return float(metrics.gross_margin(table["revenue"].sum(), table["cost"].sum()))
    return 1.0
