"""Does the model predict? Calibration period fit, holdout period comparison.

Fader, Hardie & Lee (2005) validate BG/NBD by fitting on the first 39 weeks of the
CDNOW data and comparing, for customers grouped by their number of calibration
repeat purchases, the predicted and the actual repeat purchases in the next 39
weeks (their Figure 3). :func:`holdout_table` builds that table for any purchase
model; the recalculation writes it to the Model sheet so a finance user can judge
the predictions before using them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvxl.errors import InputError
from clvxl.models import model_info, module_of
from clvxl.summary import EngineLog, calibration_holdout

__all__ = ["holdout_table", "validate"]


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


def validate(
    transactions: pd.DataFrame | EngineLog, as_of: pd.Timestamp, unit, model: str = "bgnbd"
) -> pd.DataFrame:
    """Fit on the first half of the log up to ``as_of`` and compare on the second half.

    The calibration period ends halfway between the first purchase and ``as_of``
    (39 of 78 weeks in the CDNOW study).
    """
    log = EngineLog.of(transactions)
    first = log.date("first")
    calibration_end = first + (as_of - first) / 2
    summary = calibration_holdout(log, calibration_end.normalize(), as_of, unit)
    table = summary.table
    purchase = model_info(model, "purchase").module.fit(
        table["frequency"], table["recency"], table["T"], time_unit=summary.unit
    )
    return holdout_table(purchase, table)
