"""Amounts: numbers, or currency text ("$1,234.50", "(12.00)", "1.234,50", "EUR -12,50").

How a column writes decimals is decided once for the whole column (:func:`money_votes`,
:func:`decimal_comma_rule`): a decimal comma with dots for thousands, or a decimal point
with commas for thousands. A value that does not fit the column's rule is a bad row,
never read another way: in a decimal-comma column ``$100.00`` is not 10000.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "MAX_AMOUNT",
    "MONEY_EXPECTED",
    "decimal_comma_rule",
    "money_votes",
    "parse_money",
    "rule_note",
]

#: The largest amount accepted, in size: sums of up to a billion such amounts stay
#: exact to the cent in the summary's DECIMAL(38, 10).
MAX_AMOUNT = 1e15
#: What a bad amount cell should have held, for the bad-row report.
MONEY_EXPECTED = (
    f"an amount: a finite number such as 1234.50, below {MAX_AMOUNT:,.0f} in size and "
    "written like the rest of its column"
)

_CURRENCY = re.compile(r"[\s\u00a0\u202f'’$€£¥]|\b(?:USD|EUR|GBP|CHF|JPY|CAD|AUD|SEK|NOK|DKK)\b")
# The number once currency and spaces are gone: one sign, in front or behind, or parentheses.
_SIGNED = re.compile(r"^(?:\((?P<paren>[^()]*)\)|(?P<lead>[-+])?(?P<body>[^-+]*?)(?P<trail>-)?)$")
_FORMS = {  # decimal_comma -> the numbers that fit the rule
    False: re.compile(r"^(?:\d+(?:\.\d*)?|\.\d+|\d{1,3}(?:,\d{3})+(?:\.\d*)?)$"),
    True: re.compile(r"^(?:\d+(?:,\d*)?|,\d+|\d{1,3}(?:\.\d{3})+(?:,\d*)?)$"),
}
# What shows a rule: a decimal part that is not three digits, or both separators.
_VOTES = {
    True: r"^\d+,(?:\d{1,2}|\d{4,})$|^\d{1,3}(?:\.\d{3})+,\d*$",
    False: r"^\d+\.(?:\d{1,2}|\d{4,})$|^\d{1,3}(?:,\d{3})+\.\d*$",
}


def parse_money(
    values: pd.Series, decimal_comma: bool | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Amounts as floats and which cells are bad, under one rule for the column.

    Parameters
    ----------
    values : Series
        One column as read: numbers or text.
    decimal_comma : bool, optional
        The column's rule (:func:`decimal_comma_rule`); None decides from ``values``.

    Returns
    -------
    numbers : ndarray of float, shape (n,)
        The amounts; NaN where a cell is missing or not an amount under the rule.
    bad : ndarray of bool, shape (n,)
        Cells that are not an amount under the rule, or not below :data:`MAX_AMOUNT`.

    Examples
    --------
    >>> parse_money(pd.Series(["€-40", "(12,00)", "EUR -12,50", "1.234", "$100.00"]), True)[0].tolist()
    [-40.0, -12.0, -12.5, 1234.0, nan]
    >>> parse_money(pd.Series(["1,234", "12,5", "3.50"]))[0].tolist()
    [1234.0, nan, 3.5]
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        return np.full(len(values), np.nan), np.ones(len(values), dtype=bool)
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        return _bounded(numbers)
    numbers, todo = _plain_numbers(values)
    if decimal_comma is None:
        decimal_comma = decimal_comma_rule(*money_votes(values))
    if decimal_comma:  # plain "12.5" or "1.234" are read by the rule too
        todo |= _has_dot(values)
    if todo.any():
        numbers[todo] = _parse_money_text(values[todo].astype(str).str.strip(), decimal_comma)
    return _bounded(numbers)


def _bounded(numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(invalid="ignore"):
        return numbers, ~(np.abs(numbers) < MAX_AMOUNT)  # NaN and infinity too


def money_votes(values: pd.Series) -> tuple[int, int]:
    """Values showing a decimal comma, and values showing a decimal point.

    Only text with a comma needs a rule; a column without one votes (0, 0). Votes of
    batches add up, so a long log is decided as if read whole.

    Parameters
    ----------
    values : Series, shape (n,)
        One amount column (or a batch of it) as read: numbers or text.

    Returns
    -------
    comma_votes : int
        Values whose form shows a decimal comma (``12,5``, ``1.234,50``).
    point_votes : int
        Values whose form shows a decimal point (``12.5``, ``1,234.50``).

    Examples
    --------
    >>> money_votes(pd.Series(["12,50", "1.234,00", "1,234", "7"]))
    (2, 0)
    """
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return 0, 0
    if values.dtype != object:  # text as read from a file: one search for a comma first
        commas = pc.match_substring(pa.array(values.astype("string"), from_pandas=True), ",")
        if not pc.any(commas).as_py():
            return 0, 0
    text = values[~values.isna().to_numpy()].astype(str).str.strip()
    if not text.str.contains(",", regex=False).any():
        return 0, 0
    core = _signed(text)[1]
    return tuple(int(core.str.contains(_VOTES[rule], regex=True).sum()) for rule in (True, False))


def decimal_comma_rule(comma_votes: int, point_votes: int) -> bool:
    """The column's rule from its votes: a decimal comma when more values show one.

    One stray ``12,5`` among many ``1,234.00`` does not turn the column: it is a bad row.

    Parameters
    ----------
    comma_votes, point_votes : int
        The column's votes (:func:`money_votes`, summed over its batches).

    Returns
    -------
    bool
        True for a decimal comma (dots for thousands); False for a decimal point,
        also on a tie.

    Examples
    --------
    >>> decimal_comma_rule(1, 40), decimal_comma_rule(3, 3)
    (False, False)
    """
    return comma_votes > point_votes


def rule_note(column: str, comma_votes: int, point_votes: int) -> str | None:
    """The rule in words, for the notes; None when the column needed no rule.

    Parameters
    ----------
    column : str
        The column's name.
    comma_votes, point_votes : int
        The column's votes (:func:`money_votes`).

    Returns
    -------
    str or None
        A sentence naming the column and its rule; None when both votes are 0.
    """
    if not comma_votes and not point_votes:
        return None
    if decimal_comma_rule(comma_votes, point_votes):
        return (
            f"column {column!r}: amounts read with a decimal comma and dots for thousands "
            "(1.234,50 = 1234.50); values written otherwise are bad rows"
        )
    return (
        f"column {column!r}: amounts read with a decimal point and commas for thousands "
        "(1,234.50 = 1234.50); values written otherwise are bad rows"
    )


def _plain_numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Plain numbers (NaN elsewhere), and which values need a closer look."""
    numbers = _to_float(values)
    return numbers, np.isnan(numbers) & ~values.isna().to_numpy()


def _has_dot(values: pd.Series) -> np.ndarray:
    text = values.astype("string").str.contains(".", regex=False)
    return text.fillna(False).to_numpy(dtype=bool)


def _to_float(values: pd.Series) -> np.ndarray:
    """Plain numbers at Arrow speed; NaN where a value needs a closer look."""
    if values.dtype != object:
        try:
            array = pa.array(values.astype("string"), from_pandas=True)
            return pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False).copy()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    else:
        values = values.map(lambda v: None if isinstance(v, bool) else v, na_action="ignore")
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan, copy=True)


def _signed(text: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Whether each amount is negative, its digits and separators, and whether it is
    well formed (one sign at most, in front, behind or as parentheses)."""
    parts = text.str.replace(_CURRENCY, "", regex=True).str.extract(_SIGNED)
    core = parts["paren"].fillna(parts["body"]).fillna("")
    negative = parts["paren"].notna() | (parts["lead"] == "-") | parts["trail"].notna()
    signs = parts["lead"].notna().astype(int) + parts["trail"].notna().astype(int)
    formed = (parts["paren"].notna() | parts["body"].notna()) & (signs <= 1) & (core != "")
    return negative, core, formed


def _parse_money_text(text: pd.Series, decimal_comma: bool) -> np.ndarray:
    negative, core, formed = _signed(text)
    fits = formed & core.str.match(_FORMS[decimal_comma])
    thousands, point = (".", ",") if decimal_comma else (",", ".")
    normal = core.str.replace(thousands, "", regex=False).str.replace(point, ".", regex=False)
    numbers = pd.to_numeric(normal.where(fits), errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )
    return np.where(negative.to_numpy(dtype=bool), -numbers, numbers)
