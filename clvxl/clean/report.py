"""What cleaning reports: the bad rows of every batch, and lines repeating an earlier line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from clvxl._runtime.arrow import all_distinct, one_array
from clvxl.errors import BadRow, BadRowsError
from clvxl.sources import RawLog

__all__ = ["Report", "repeated_lines"]


class Report:
    """The bad rows of all batches: each one with ``"skip"``, the first 20 with ``"stop"``."""

    LIMIT = 20

    def __init__(self, on_error: str) -> None:
        self.on_error = on_error
        self.records: list[BadRow] = []
        self.rows = 0  # bad rows listed
        self.count = 0  # bad rows in all

    def add(
        self, log: RawLog, problems: list[tuple[str, np.ndarray, str]], bad: np.ndarray
    ) -> None:
        positions = np.flatnonzero(bad)
        self.count += len(positions)
        if self.on_error == "stop":
            positions = positions[: self.LIMIT - self.rows]
        self.rows += len(positions)
        rows = log.row_numbers(positions) if len(positions) else np.array([], dtype=np.int64)
        for pos, row in zip(positions, rows, strict=True):
            for column, bad_cells, expected in problems:
                if bad_cells[pos]:
                    value = log.table[column].iloc[pos]
                    self.records.append(
                        BadRow(int(row), column, None if pd.isna(value) else value, expected)
                    )

    def finish(self, source: str) -> pd.DataFrame:
        """The rows set aside; with ``"stop"``, an error listing them when there are any."""
        if self.on_error == "stop" and self.records:
            raise BadRowsError(self.records, source, total_rows=self.count)
        return pd.DataFrame(
            [(b.row, b.column, b.value, b.expected) for b in self.records],
            columns=["row", "column", "value", "reason"],
        )


def repeated_lines(table: pa.Table, dedupe: bool) -> tuple[pa.Table, tuple[str, ...]]:
    """Lines that repeat an earlier line exactly, when the log has order ids.

    A line repeats another only when every column of the file is the same: the clean
    columns, and ``_rest``, a hash of the columns cleaning does not read (dropped here).

    Parameters
    ----------
    table : pyarrow.Table
        The compact clean table, with ``source_row`` (and ``_rest`` when read).
    dedupe : bool
        Count a repeated line once (``--dedupe``); otherwise only say so.

    Returns
    -------
    table : pyarrow.Table
        Without ``_rest``; without the repeated lines when ``dedupe``.
    notes : tuple of str
        What was found, with the first repeated line's row.
    """
    if "order_id" not in table.column_names:
        return table, ()
    repeated = _repeated_mask(table.drop_columns(["source_row"]))
    if "_rest" in table.column_names:
        table = table.drop_columns(["_rest"])
    count = int(repeated.sum())
    if not count:
        return table, ()
    first = int(table.column("source_row").to_numpy()[repeated][0])
    if dedupe:
        return table.filter(pa.array(~repeated)), (
            f"{count} line(s) repeated an earlier line exactly (first at row {first}) and were counted once",
        )
    return table, (
        f"{count} line(s) repeat an earlier line exactly, order id included (first at row {first}); "
        "if the order was exported twice, use --dedupe to count them once",
    )


def _repeated_mask(table: pa.Table) -> np.ndarray:
    """Which lines repeat an earlier line exactly (order id included).

    ``table`` holds the ids as dictionary codes, so equal codes are equal ids. Only
    lines whose order id occurs more than once can repeat one, so the full comparison
    runs on those alone.
    """
    repeated = np.zeros(table.num_rows, dtype=bool)
    orders = one_array(table.column("order_id"))
    if all_distinct(orders):
        return repeated
    codes = orders.indices.to_numpy()
    candidates = (np.bincount(codes) > 1)[codes]
    if candidates.any():
        frame = pd.DataFrame(
            {
                name: one_array(column).indices.to_numpy()
                if pa.types.is_dictionary(column.type)
                else column.to_numpy()
                for name, column in zip(table.column_names, table.columns, strict=True)
            }
        )
        repeated[candidates] = frame[candidates].duplicated().to_numpy()
    return repeated
