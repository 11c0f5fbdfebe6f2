"""Amounts: numbers, or currency text ("$1,234.50", "(12.00)", "1.234,50")."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["parse_money", "uses_decimal_comma"]

_THOUSANDS_COMMA = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d*)?$")
_THOUSANDS_DOT = re.compile(r"^\d{1,3}(?:\.\d{3})+(?:,\d*)?$")
_DECIMAL_COMMA = r"^\d+,\d{1,2}$|^\d{1,3}(?:\.\d{3})+,\d*$|^\d+,\d{4,}$"


def parse_money(
    values: pd.Series, decimal_comma: bool | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Numbers, or currency text: "$1,234.50", "(12.00)", "1.234,50", "-€5".

    ``decimal_comma`` says whether the column writes decimals with a comma; None
    decides from ``values`` themselves (:func:`uses_decimal_comma`).
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        return np.full(len(values), np.nan), np.ones(len(values), dtype=bool)
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        return numbers, ~np.isfinite(numbers)
    numbers, todo = _plain_numbers(values)
    if todo.any():
        numbers[todo] = _parse_money_text(values[todo].astype(str).str.strip(), decimal_comma)
    return numbers, ~np.isfinite(numbers)


def _plain_numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Plain numbers (NaN elsewhere), and which values need a closer look."""
    numbers = _to_float(values)
    return numbers, np.isnan(numbers) & ~values.isna().to_numpy()


def uses_decimal_comma(values: pd.Series) -> bool:
    """Whether a money column shows decimal commas ("12,50", "1.234,5")."""
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return False
    _, todo = _plain_numbers(values)
    if not todo.any():
        return False
    return _shows_decimal_comma(_money_core(values[todo].astype(str).str.strip())[1])


def _shows_decimal_comma(core: pd.Series) -> bool:
    """Whether any amount (digits and separators alone) is written with a decimal comma."""
    return bool(core.str.contains(_DECIMAL_COMMA, regex=True).any())


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


def _money_core(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Whether each amount is negative, and its digits and separators alone."""
    negative = text.str.match(r"^\(.*\)$") | text.str.match(r"^-") | text.str.endswith("-")
    core = (
        text.str.replace(r"^\((.*)\)$", r"\1", regex=True)
        .str.replace(r"[\s\u00a0'$€£¥]|\b(USD|EUR|GBP|CHF|JPY|CAD|AUD)\b", "", regex=True)
        .str.strip("-+")
    )
    return negative, core


def _parse_money_text(text: pd.Series, decimal_comma: bool | None) -> np.ndarray:
    negative, core = _money_core(text)
    if decimal_comma is None:
        decimal_comma = _shows_decimal_comma(core)
    both = core.str.contains(",") & core.str.contains(r"\.")
    comma_last = core.str.rfind(",") > core.str.rfind(".")
    if decimal_comma:
        as_comma = ~both | comma_last
    else:
        as_comma = (both & comma_last) | (
            core.str.contains(",") & ~both & ~core.str.match(_THOUSANDS_COMMA)
        )
    # Where a dot-only number is really thousands ("1.234") in a decimal-comma log.
    dots_thousands = ~core.str.contains(",") & core.str.match(_THOUSANDS_DOT)
    as_comma = as_comma | (dots_thousands & decimal_comma)
    normal = core.where(~as_comma, core.str.replace(".", "", regex=False).str.replace(",", "."))
    normal = normal.where(as_comma, normal.str.replace(",", "", regex=False))
    numbers = pd.to_numeric(
        normal.where(normal.str.match(r"^\d*\.?\d+$|^\d+\.$")), errors="coerce"
    ).to_numpy(dtype=float, na_value=np.nan)
    return np.where(negative.to_numpy(dtype=bool), -numbers, numbers)
