"""Monthly acquisition cohorts: who is still buying, and what they spend, month by month.

A customer's cohort is the calendar month of its first purchase; month 0 is that
month, month 1 the next, and so on. A customer is *active* in a month when it made
a purchase (an order that is not a refund) in it; revenue includes refunds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvxl.errors import InputError

__all__ = ["cohort_retention", "cohort_table"]


def _months(dates: pd.Series) -> np.ndarray:
    return np.asarray(dates, dtype="datetime64[M]").astype(np.int64)


def cohort_table(transactions: pd.DataFrame, metric: str = "customers") -> pd.DataFrame:
    """Cohorts × months since first purchase: active customers or revenue.

    Parameters
    ----------
    transactions : DataFrame of shape (n_transactions, >= 3)
        Clean transactions with columns ``customer_id``, ``date`` (datetime64) and
        ``amount`` (float; a negative amount is a refund).
    metric : {"customers", "revenue"}, default "customers"
        What each cell holds: the number of the cohort's customers who made a
        purchase in that month, or the cohort's revenue in it (refunds included).

    Returns
    -------
    DataFrame of shape (n_cohorts, n_months)
        Index ``cohort`` (first day of the cohort's month), columns 0, 1, 2, … months
        since the first purchase, up to the last month of the log. Cells after the
        log's last month are NaN (unknown, not zero); for ``"customers"`` column 0
        (the cohort's size) is int64, the others float. Customers without a purchase
        (only refunds) are in no cohort; without any purchase the frame is empty.

    Raises
    ------
    InputError
        If ``metric`` is neither ``"customers"`` nor ``"revenue"``; for ``"revenue"``,
        if a refund is dated in a month before its customer's first purchase (the
        cohort's months start there, so it has no cell), naming the first such line.

    Examples
    --------
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b", "c", "c"],
    ...     "date": pd.to_datetime(["2024-01-05", "2024-02-10", "2024-01-20",
    ...                             "2024-02-01", "2024-03-15"]),
    ...     "amount": [10.0, 5.0, 7.0, 3.0, 4.0],
    ... })
    >>> cohort_table(tx)
                0    1    2
    cohort
    2024-01-01  2  1.0  0.0
    2024-02-01  1  1.0  NaN
    """
    if metric not in ("customers", "revenue"):
        raise InputError(f"metric must be 'customers' or 'revenue', got {metric!r}")
    codes, _ = pd.factorize(transactions["customer_id"])
    month = _months(transactions["date"])
    purchase = transactions["amount"].to_numpy() >= 0
    never = np.iinfo(np.int64).max
    first = np.full(codes.max(initial=-1) + 1, never, dtype=np.int64)
    np.minimum.at(first, codes[purchase], month[purchase])
    cohort = first[codes]
    known = cohort != never
    if not known.any():
        return pd.DataFrame(index=pd.DatetimeIndex([], name="cohort"))
    start, end = cohort[known].min(), month.max()
    width = int(end - start) + 1
    row = cohort[known] - start
    age = month[known] - cohort[known]
    if metric == "customers":
        active = purchase[known]
        # One count per customer and month: distinct (customer, age) pairs.
        pairs = pd.unique(codes[known][active].astype(np.int64) * width + age[active])
        pair_row = first[pairs // width] - start
        values = np.bincount(pair_row * width + pairs % width, minlength=width * width)
    else:
        _refuse_early_refunds(transactions, known, age)
        values = np.bincount(
            row * width + age,
            weights=transactions["amount"].to_numpy()[known],
            minlength=width * width,
        )
    grid = values.reshape(width, width).astype(float)
    cohorts_present = np.sort(pd.unique(row))
    table = pd.DataFrame(grid[cohorts_present], index=cohorts_present + start)
    # Months after the log's last month are unknown, not zero.
    future = table.index.to_numpy()[:, None] + np.arange(width)[None, :] > end
    table = table.mask(future)
    table.index = pd.to_datetime(table.index.to_numpy().astype("datetime64[M]")).rename("cohort")
    if metric == "customers":
        table[0] = table[0].astype(np.int64)
    return table


def _refuse_early_refunds(transactions: pd.DataFrame, known: np.ndarray, age: np.ndarray) -> None:
    """An InputError for the first line dated before its customer's first purchase month."""
    early = np.flatnonzero(age < 0)
    if len(early):
        line = transactions.iloc[np.flatnonzero(known)[early[0]]]
        raise InputError(
            f"customer {line['customer_id']!r} has a refund of {line['amount']:,.2f} on "
            f"{line['date']:%Y-%m-%d}, before the month of its first purchase; a cohort's "
            "months start at the first purchase, so the revenue table has no month for it "
            "(leave the refund out or date it when it was made)"
        )


def cohort_retention(transactions: pd.DataFrame) -> pd.DataFrame:
    """Share of each cohort active in each month since its first purchase.

    Parameters
    ----------
    transactions : DataFrame of shape (n_transactions, >= 3)
        Clean transactions with columns ``customer_id``, ``date`` (datetime64) and
        ``amount`` (float; a negative amount is a refund), as for :func:`cohort_table`.

    Returns
    -------
    DataFrame
        Column ``size`` (customers in the cohort) then months 0, 1, 2, … as shares
        (month 0 is 1.0; months after the log ends are empty).

    Examples
    --------
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b"],
    ...     "date": pd.to_datetime(["2024-01-05", "2024-02-10", "2024-01-20"]),
    ...     "amount": [10.0, 5.0, 7.0],
    ... })
    >>> cohort_retention(tx)
                size    0    1
    cohort
    2024-01-01     2  1.0  0.5
    """
    counts = cohort_table(transactions, "customers")
    size = counts[0].astype(np.int64)
    shares = counts.div(size, axis=0)
    shares.insert(0, "size", size)
    return shares
