"""Customer and order ids: text, trimmed, never numbers ("00123" stays "00123")."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["is_blank", "parse_ids"]


def is_blank(values: pd.Series) -> np.ndarray:
    blank = values.isna().to_numpy().copy()
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        text = values.astype("string").str.strip()
        blank |= (text == "").fillna(True).to_numpy(dtype=bool)
    return blank


def parse_ids(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    if pd.api.types.is_float_dtype(values.dtype) or pd.api.types.is_object_dtype(values.dtype):
        values = values.map(_id_text, na_action="ignore")
    ids = values.astype("string").str.strip()
    bad = (ids.isna() | (ids == "")).to_numpy(dtype=bool)
    return ids.fillna("").astype(str), bad


def _id_text(value: object) -> object:
    """Excel and parquet hold numeric ids as floats: 123.0 is the id "123"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value
