"""Arrow helpers shared by cleaning and the summary: machinery, no domain rules."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

__all__ = ["all_distinct", "one_array", "text_array"]


def one_array(column: pa.ChunkedArray) -> pa.Array:
    """A column of the clean table as one array.

    Parameters
    ----------
    column : pyarrow.ChunkedArray
        A column of the compact clean table.

    Returns
    -------
    pyarrow.Array
        Its only chunk as it is (combining would copy it), else the chunks combined.
    """
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def all_distinct(ids: pa.DictionaryArray) -> bool:
    """Whether no id of a dictionary-encoded column of the clean table occurs twice.

    The dictionaries are built from the rows kept, so every entry is used: the ids are
    all distinct exactly when there are as many entries as rows.

    Parameters
    ----------
    ids : pyarrow.DictionaryArray
        A dictionary-encoded id column of the clean table (every entry used).

    Returns
    -------
    bool
    """
    return len(ids.dictionary) == len(ids)


def text_array(values: pd.Series) -> pa.Array:
    """``values`` as one contiguous Arrow string array (ids are compared as text).

    Parameters
    ----------
    values : Series of shape (n,)
        Text (or values cast to text).

    Returns
    -------
    pyarrow.Array
        A ``string`` or ``large_string`` array of length n, nulls where values are missing.

    Examples
    --------
    >>> text_array(pd.Series(["00123", None])).to_pylist()
    ['00123', None]
    """
    array = pa.array(values, from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return (
        array
        if pa.types.is_string(array.type) or pa.types.is_large_string(array.type)
        else array.cast(pa.string())
    )
