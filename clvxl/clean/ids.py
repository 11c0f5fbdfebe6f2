"""Customer and order ids: text, trimmed, never numbers ("00123" stays "00123")."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["is_blank", "parse_ids"]


def is_blank(values: pd.Series) -> np.ndarray:
    """Which values are missing, or text that is empty once trimmed.

    Parameters
    ----------
    values : Series, shape (n,)
        A column as read; only text columns (object or string dtype) can hold
        blank text.

    Returns
    -------
    ndarray of bool, shape (n,)
        True where the value is missing or blank text.

    Examples
    --------
    >>> is_blank(pd.Series(["a", "  ", None])).tolist()
    [False, True, True]
    """
    blank = values.isna().to_numpy().copy()
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        text = values.astype("string").str.strip()
        blank |= (text == "").fillna(True).to_numpy(dtype=bool)
    return blank


def parse_ids(values: pd.Series, lower: bool = False) -> tuple[pd.Series, np.ndarray]:
    """Ids as trimmed text (``lower``: in lower case, as e-mail addresses), and which are empty.

    ``"17850.0"``, a number written by a float column, is the id ``"17850"``.

    Parameters
    ----------
    values : Series, shape (n,)
        The id column as read: text, integers or floats.
    lower : bool, default False
        Whether to put the ids in lower case.

    Returns
    -------
    ids : Series of str, shape (n,)
        The ids as trimmed text on ``values``' index; "" where the id is missing.
    bad : ndarray of bool, shape (n,)
        True where the id is missing or empty.

    Examples
    --------
    >>> ids, bad = parse_ids(pd.Series([" A1 ", "00123", 17850.0, None]))
    >>> ids.tolist(), bad.tolist()
    (['A1', '00123', '17850', ''], [False, False, False, True])
    """
    if pd.api.types.is_float_dtype(values.dtype) or pd.api.types.is_object_dtype(values.dtype):
        values = values.map(_id_text, na_action="ignore")
    ids = values.astype("string").str.strip()
    if lower:
        ids = ids.str.lower()
    ids = ids.str.replace(_FLOAT_ID, "", regex=True) if _looks_float(ids) else ids
    bad = (ids.isna() | (ids == "")).to_numpy(dtype=bool)
    return ids.fillna("").astype(str), bad


_FLOAT_ID = r"(?<=^\d)\.0$|(?<=\d)\.0$"


def _looks_float(ids: pd.Series) -> bool:
    """Whether the column writes whole numbers as floats ("17850.0"): its first id does."""
    first = ids.dropna()
    return bool(len(first)) and bool(pd.Series(first.iloc[:1]).str.fullmatch(r"\d+\.0").all())


def _id_text(value: object) -> object:
    """Excel and parquet hold numeric ids as floats: 123.0 is the id "123"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value
