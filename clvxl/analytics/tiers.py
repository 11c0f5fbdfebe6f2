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


def value_tiers(values) -> pd.Categorical:
    """The tier label of each value among all values, as a categorical (Rest first).

    Parameters
    ----------
    values : array_like of shape (n_customers,)
        Value of each customer (historic CLV in the customer table); finite numbers.
        A multi-dimensional input is flattened.

    Returns
    -------
    Categorical of length n_customers
        Each customer's tier, with categories ``Rest``, ``Top 20%``, ``Top 5%``,
        ``Top 1%`` (least exclusive first); empty for an empty input.

    Raises
    ------
    InputError
        If a value is NaN or infinite.

    Examples
    --------
    >>> value_tiers(np.arange(1, 101)).tolist()[-6:]
    ['Top 20%', 'Top 5%', 'Top 5%', 'Top 5%', 'Top 5%', 'Top 1%']
    >>> value_tiers([5, 5, 1]).tolist()  # ties are never split
    ['Top 1%', 'Top 1%', 'Rest']
    """
    return pd.Categorical.from_codes(_tier_codes(_values(values)), categories=_LABELS)


#: Tier labels by code: 0 is the rest, 1 the least exclusive tier, ...
_LABELS = [REST] + [label for label, _ in reversed(TIERS)]


def _tier_codes(x: np.ndarray) -> np.ndarray:
    """How many tier thresholds each value reaches: 0 (the rest) to ``len(TIERS)``."""
    if len(x) == 0:
        return np.zeros(0, dtype=np.int8)
    return np.searchsorted(_thresholds(x), x, side="right").astype(np.int8)


def _thresholds(x: np.ndarray) -> np.ndarray:
    """The tiers' thresholds, ascending: each the value of the tier's last customer in
    descending order (the ``ceil(share × n)``-th largest), found by partial sorting."""
    n = len(x)
    positions = [n - int(np.ceil(share * n)) for _, share in TIERS]
    return np.sort(np.partition(x, sorted(set(positions)))[positions])


def value_tier(value: float, all_values) -> str:
    """The tier of one value within a population (Excel's ``VALUE_TIER``).

    Parameters
    ----------
    value : float
        The value to place; it need not be one of ``all_values``.
    all_values : array_like of shape (n_customers,)
        The population's values; finite numbers, at least one.

    Returns
    -------
    str
        ``"Top 1%"``, ``"Top 5%"``, ``"Top 20%"`` or ``"Rest"``: the tier a customer of
        that value gets among ``all_values`` (see :func:`value_tiers`).

    Raises
    ------
    InputError
        If ``all_values`` is empty or holds a NaN or infinite value.

    Examples
    --------
    >>> value_tier(96, np.arange(1, 101))
    'Top 5%'
    """
    x = _values(all_values)
    if len(x) == 0:
        raise InputError("all_values is empty")
    return str(_LABELS[np.searchsorted(_thresholds(x), float(value), side="right")])


def tier_summary(values) -> pd.DataFrame:
    """Customers and value per tier, with each tier's share and the cumulative share.

    Parameters
    ----------
    values : array_like of shape (n_customers,)
        Value of each customer (historic CLV in the customer table); finite numbers.

    Returns
    -------
    DataFrame of shape (4, 5)
        One row per tier, most exclusive first and ``Rest`` last, with columns
        ``tier``, ``customers``, ``value``, ``value_share``,
        ``cumulative_share`` (share of the top tiers down to this one: "the top 5 %
        bring …"). Shares are of the total value, and 0 when the total is 0.

    Raises
    ------
    InputError
        If a value is NaN or infinite.

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
    order = [label for label, _ in TIERS] + [REST]
    codes = _tier_codes(x)
    size = np.bincount(codes, minlength=len(order))[::-1]  # most exclusive first
    value = np.bincount(codes, weights=x, minlength=len(order))[::-1]
    total = x.sum()
    share = value / total if total else np.zeros(len(order))
    return pd.DataFrame(
        {
            "tier": order,
            "customers": size.astype(np.int64),
            "value": value,
            "value_share": share,
            "cumulative_share": np.cumsum(share),
        }
    )
