"""Time units (every duration in clvxl says which unit it is in) and the currency money
is shown in.

Time units: every duration in clvxl says which unit it is in.

A per-customer summary, a fitted model and a prediction all carry their
:class:`TimeUnit`. Mixing units silently is the classic way to inflate CLV
fourfold (fitting in weeks and predicting in days), so a unit is never assumed:
predictions refuse customer data in another unit than the model's.

A month is, by default, the average Gregorian month, 365.25 / 12 = 30.4375 days
(``"calendar"``). lifetimes and pymc-marketing count 4.345 weeks for weekly data and
30 days for daily data; :data:`MONTHS` has all three conventions, and Settings'
``month`` chooses one. On CDNOW customer 1 (12-month CLV at 1 % a month) the calendar
month gives 36.30 and lifetimes' 4.345 weeks the published 36.28.
"""

from __future__ import annotations

from enum import Enum

from clvxl.errors import InputError

__all__ = [
    "CURRENCIES",
    "CURRENCY_NAMES",
    "DAYS_PER_MONTH",
    "MONTHS",
    "UNIT_NAMES",
    "TimeUnit",
    "money_format",
    "parse_currency",
    "parse_month",
    "parse_unit",
]

#: Length of a month in days, by convention: the calendar month (clvxl's default) and
#: the two that lifetimes and pymc-marketing use.
MONTHS: dict[str, float] = {"calendar": 365.25 / 12, "4.345 weeks": 4.345 * 7, "30 days": 30.0}

#: The default month, in days.
DAYS_PER_MONTH = MONTHS["calendar"]


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


def parse_month(value: str) -> str:
    """The month convention named ``value`` (a key of :data:`MONTHS`), spaces and case
    forgiven.

    Parameters
    ----------
    value : str
        The convention's name: "calendar", "4.345 weeks" or "30 days", in any case,
        runs of spaces counting as one.

    Returns
    -------
    str
        The key of :data:`MONTHS`.

    Raises
    ------
    InputError
        If ``value`` names no convention; the message lists them.

    Examples
    --------
    >>> parse_month("4.345  Weeks"), MONTHS[parse_month("30 days")]
    ('4.345 weeks', 30.0)
    >>> parse_month("lunar")
    Traceback (most recent call last):
    ...
    clvxl.errors.InputError: month must be one of calendar, 4.345 weeks, 30 days; got 'lunar'
    """
    key = " ".join(str(value).lower().split())
    if key not in MONTHS:
        raise InputError(f"month must be one of {', '.join(MONTHS)}; got {value!r}")
    return key


#: The currencies money can be shown in: ISO code → (symbol, Excel number format code).
#: The codes are the ones Excel's Format Cells › Currency writes (the symbol tagged with
#: its language, ``[$$-409]`` US English); a currency without a symbol of its own is
#: shown by its code, as Excel's list does (``[$CHF]``). The yen has no minor unit.
CURRENCIES: dict[str, tuple[str, str]] = {
    "EUR": ("€", "[$€-x-euro2] #,##0.00"),
    "USD": ("$", "[$$-409]#,##0.00"),
    "GBP": ("£", "[$£-809]#,##0.00"),
    "JPY": ("¥", "[$¥-411]#,##0"),
    **{
        code: (code, f"[${code}] #,##0.00")
        for code in ("AUD", "CAD", "CHF", "CNY", "DKK", "INR", "NOK", "PLN", "SEK")
    },
}
#: Money without a currency: thousands separators and two decimals.
PLAIN_MONEY = "#,##0.00"
_SYMBOLS = {symbol: code for code, (symbol, _) in CURRENCIES.items()}
#: What a Currency cell may hold: the codes, then the symbols that are not codes.
CURRENCY_NAMES: tuple[str, ...] = (*CURRENCIES, *(s for s, c in _SYMBOLS.items() if s != c))


def parse_currency(value: str | None) -> str | None:
    """The ISO code of the currency ``value`` names: a code of :data:`CURRENCIES` or its
    symbol (``€``, ``$``, ``£``, ``¥``), case and surrounding spaces forgiven.

    Text that names no listed currency is refused rather than shown as a suffix: a
    figure labelled with a currency it is not in looks right and is wrong.

    Parameters
    ----------
    value : str or None
        The Settings sheet's Currency cell; None or blank: no currency.

    Returns
    -------
    str or None
        The code, e.g. ``"EUR"``; None for plain numbers.

    Raises
    ------
    InputError
        If ``value`` names no listed currency; the message lists them.

    Examples
    --------
    >>> parse_currency(" eur "), parse_currency("£"), parse_currency("")
    ('EUR', 'GBP', None)
    >>> parse_currency("EURO")
    Traceback (most recent call last):
    ...
    clvxl.errors.InputError: currency (the Currency cell on the Settings sheet) must be empty (plain numbers) or one of EUR, USD, GBP, JPY, AUD, CAD, CHF, CNY, DKK, INR, NOK, PLN, SEK, €, $, £, ¥; got 'EURO'
    """
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    code = _SYMBOLS.get(text, text.upper())
    if code not in CURRENCIES:
        raise InputError(
            "currency (the Currency cell on the Settings sheet) must be empty (plain numbers) "
            f"or one of {', '.join(CURRENCY_NAMES)}; got {value!r}"
        )
    return code


def money_format(currency: str | None) -> str:
    """The Excel number format of money in ``currency`` (an ISO code or None).

    Examples
    --------
    >>> money_format("USD"), money_format(None)
    ('[$$-409]#,##0.00', '#,##0.00')
    """
    return CURRENCIES[currency][1] if currency is not None else PLAIN_MONEY
