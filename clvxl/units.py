"""Time units: every duration in clvxl says which unit it is in.

A per-customer summary, a fitted model and a prediction all carry their
:class:`TimeUnit`. Mixing units silently is the classic way to inflate CLV
fourfold (fitting in weeks and predicting in days), so a unit is never assumed:
predictions refuse customer data in another unit than the model's.

A month is the average Gregorian month, 365.25 / 12 = 30.4375 days.
"""

from __future__ import annotations

from enum import Enum

from clvxl.errors import InputError

__all__ = ["DAYS_PER_MONTH", "UNIT_NAMES", "TimeUnit", "parse_unit"]

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


#: The units' names, as options and Settings list them.
UNIT_NAMES: tuple[str, ...] = tuple(unit.value for unit in TimeUnit)


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

    Parameters
    ----------
    value : str or TimeUnit
        A unit's name or alias: ``d``, ``day``, ``days``, ``daily`` and the same for
        weeks and months, in any case, surrounding spaces ignored. A :class:`TimeUnit`
        is returned as it is.

    Returns
    -------
    TimeUnit
        The unit.

    Raises
    ------
    InputError
        If ``value`` names no unit; the message lists the units.

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
        raise InputError(f"time unit must be one of {', '.join(UNIT_NAMES)}; got {value!r}")
    return TimeUnit(_ALIASES[key])
