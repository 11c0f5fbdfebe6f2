"""Time units: every duration in clvxl says which unit it is in.

A per-customer summary, a fitted model and a prediction all carry their
:class:`TimeUnit`. Mixing units silently is the classic way to inflate CLV
fourfold (fitting in weeks and predicting in days), so conversions are
explicit and go through :func:`convert`.

A month is the average Gregorian month, 365.25 / 12 = 30.4375 days.
"""

from __future__ import annotations

from enum import Enum

import numpy as np

from clvxl.errors import InputError

__all__ = ["DAYS_PER_MONTH", "TimeUnit", "convert", "parse_unit"]

DAYS_PER_MONTH = 365.25 / 12


class TimeUnit(str, Enum):
    """The unit in which recency, T and prediction horizons are measured."""

    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"

    @property
    def days(self) -> float:
        """Length of one unit in days.

        Examples
        --------
        >>> TimeUnit.WEEKS.days
        7.0
        """
        return {"days": 1.0, "weeks": 7.0, "months": DAYS_PER_MONTH}[self.value]

    def __str__(self) -> str:
        return self.value


_ALIASES = {
    "d": "days",
    "day": "days",
    "days": "days",
    "daily": "days",
    "w": "weeks",
    "week": "weeks",
    "weeks": "weeks",
    "weekly": "weeks",
    "m": "months",
    "month": "months",
    "months": "months",
    "monthly": "months",
}


def parse_unit(value: str | TimeUnit) -> TimeUnit:
    """Read a time unit from text such as ``"weeks"``, ``"W"`` or ``"month"``.

    Examples
    --------
    >>> parse_unit("W")
    <TimeUnit.WEEKS: 'weeks'>
    >>> parse_unit("fortnights")
    Traceback (most recent call last):
    ...
    clvxl.errors.InputError: time unit must be one of days, weeks, months; got 'fortnights'
    """
    if isinstance(value, TimeUnit):
        return value
    key = str(value).strip().lower()
    if key not in _ALIASES:
        raise InputError(f"time unit must be one of days, weeks, months; got {value!r}")
    return TimeUnit(_ALIASES[key])


def convert(value, from_unit: str | TimeUnit, to_unit: str | TimeUnit):
    """Convert a duration (scalar or array) from one time unit to another.

    Examples
    --------
    >>> convert(2, "weeks", "days")
    14.0
    >>> round(convert(12, "months", "weeks"), 4)
    52.1786
    """
    factor = parse_unit(from_unit).days / parse_unit(to_unit).days
    result = np.multiply(value, factor)
    return float(result) if np.ndim(result) == 0 else result
