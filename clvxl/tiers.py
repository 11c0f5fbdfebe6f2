"""Value tiers: the top 1 %, 5 % and 20 % of customers by value, and what they bring.

Customers are ranked by value (historic CLV in the customer table), highest first.
The top tier holds the ``ceil(share × n)`` most valuable customers — at least one
customer as soon as there is one — and a customer gets the most exclusive tier it
belongs to. Customers tied on value share a tier: a tie at a boundary goes to the
higher tier, so equal values are never split. The tier summary answers "the top 5 %
bring X % of revenue" (cumulative shares, tiers nested).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvxl.errors import InputError

__all__ = ["TIERS", "tier_summary", "value_tier", "value_tiers"]

#: (label, share of customers), most exclusive first; the rest are "Rest".
TIERS: tuple[tuple[str, float], ...] = (("Top 1%", 0.01), ("Top 5%", 0.05), ("Top 20%", 0.20))
REST = "Rest"


def _values(values) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    if x.ndim != 1:
        x = x.ravel()
    if not np.isfinite(x).all():
        raise InputError("value tiers need finite values")
    return x


def value_tiers(values) -> np.ndarray:
    """The tier label of each value among all values.

    Examples
    --------
    >>> value_tiers(np.arange(1, 101)).tolist()[-6:]
    ['Top 20%', 'Top 5%', 'Top 5%', 'Top 5%', 'Top 5%', 'Top 1%']
    >>> value_tiers([5, 5, 1]).tolist()  # ties are never split
    ['Top 1%', 'Top 1%', 'Rest']
    """
    x = _values(values)
    n = len(x)
    labels = np.full(n, REST, dtype=object)
    if n == 0:
        return labels
    ordered = np.sort(x)[::-1]
    for label, share in reversed(TIERS):
        threshold = ordered[int(np.ceil(share * n)) - 1]
        labels[x >= threshold] = label
    return labels


def value_tier(value: float, all_values) -> str:
    """The tier of one value within a population (Excel's ``VALUE_TIER``).

    Examples
    --------
    >>> value_tier(96, np.arange(1, 101))
    'Top 5%'
    """
    x = _values(all_values)
    if len(x) == 0:
        raise InputError("all_values is empty")
    v = float(value)
    n = len(x)
    ordered = np.sort(x)[::-1]
    for label, share in TIERS:
        if v >= ordered[int(np.ceil(share * n)) - 1]:
            return label
    return REST


def tier_summary(values) -> pd.DataFrame:
    """Customers and value per tier, with each tier's share and the cumulative share.

    Returns
    -------
    DataFrame
        Columns ``tier``, ``customers``, ``value``, ``value_share``,
        ``cumulative_share`` (share of the top tiers down to this one: "the top 5 %
        bring …").

    Examples
    --------
    >>> tier_summary(np.arange(1, 101))
          tier  customers   value  value_share  cumulative_share
    0   Top 1%          1   100.0     0.019802          0.019802
    1   Top 5%          4   390.0     0.077228          0.097030
    2  Top 20%         15  1320.0     0.261386          0.358416
    3     Rest         80  3240.0     0.641584          1.000000
    """
    x = _values(values)
    labels = value_tiers(x)
    order = [label for label, _ in TIERS] + [REST]
    frame = pd.DataFrame({"tier": labels, "value": x})
    grouped = frame.groupby("tier")["value"].agg(["size", "sum"]).reindex(order, fill_value=0)
    total = x.sum()
    share = grouped["sum"].to_numpy(dtype=float) / total if total else np.zeros(len(order))
    return pd.DataFrame(
        {
            "tier": order,
            "customers": grouped["size"].to_numpy(dtype=np.int64),
            "value": grouped["sum"].to_numpy(dtype=float),
            "value_share": share,
            "cumulative_share": np.cumsum(share),
        }
    )
