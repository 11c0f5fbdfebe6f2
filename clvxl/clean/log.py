"""From a raw transaction log to clean transactions, or a report of every bad row.

A finance export arrives with its own header names ("Customer No", "Invoice Date",
"Net Amount"), dates as ISO text, Excel serial numbers or real dates, and amounts as
numbers or currency text ("$1,234.50", "(12.00)", "1.234,50"). This module maps the
columns by name, parses every value, and either

* ``on_error="stop"`` (default): raises one :class:`~clvxl.errors.BadRowsError`
  listing each bad row (row, column, value, what was expected), or
* ``on_error="skip"``: sets the bad rows aside in :attr:`CleanLog.rejected` and
  keeps the rest.

The input is never modified. The clean table follows the contract in
``docs/architecture.md``: ``customer_id`` (text, trimmed: "00123" stays "00123"),
``date``, ``amount`` (negative = refund), and ``order_id``, ``cost``, ``quantity``
when the log has them, plus ``source_row`` for messages.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from clvxl._runtime.arrow import text_array
from clvxl._runtime.memory import release_memory
from clvxl.clean._idcodes import IdCodes
from clvxl.clean.columns import find_columns
from clvxl.clean.dates import (
    DATE_EXPECTED,
    DAY_ZERO,
    DateEvidence,
    day_month_order,
    day_numbers,
    parse_dates,
)
from clvxl.clean.ids import is_blank, parse_ids
from clvxl.clean.money import parse_money, uses_decimal_comma
from clvxl.clean.report import Report, repeated_lines
from clvxl.errors import InputError, NoDataError
from clvxl.sources import LogScan, RawLog

__all__ = ["CleanLog", "clean_transactions"]


@dataclass(frozen=True)
class CleanLog:
    """Clean transactions and the rows set aside.

    Attributes
    ----------
    table : pyarrow.Table
        The clean table in compact form: ``customer_id`` and ``order_id`` as
        dictionary-encoded text, ``day`` (days since 1970-01-01), ``amount`` and, when
        the log has them, ``cost`` and ``quantity``, plus ``source_row``.
    rejected : DataFrame
        Columns ``row``, ``column``, ``value``, ``reason``: one line per bad cell of a
        row set aside with ``on_error="skip"``; empty otherwise.
    source : str
        The source's name for messages.
    notes : tuple of str
        What was noticed and how it was handled (duplicated order lines).
    """

    table: pa.Table
    rejected: pd.DataFrame
    source: str
    notes: tuple[str, ...] = ()

    @property
    def transactions(self) -> pd.DataFrame:
        """The clean table as a DataFrame (see the module docstring)."""
        out = {}
        for name, column in zip(self.table.column_names, self.table.columns, strict=True):
            if name == "day":
                out["date"] = (DAY_ZERO + column.to_numpy()).astype("datetime64[ns]")
            elif pa.types.is_dictionary(column.type):
                out[name] = column.cast(pa.string()).to_pandas().astype("str")
            else:
                out[name] = column.to_numpy()
        return pd.DataFrame(out)


def clean_transactions(
    raw: RawLog | LogScan | pd.DataFrame,
    columns: Mapping[str, str] | None = None,
    on_error: str = "stop",
    dates: str = "auto",
    dedupe: bool = False,
) -> CleanLog:
    """Check and convert a raw transaction log.

    Parameters
    ----------
    raw : RawLog, LogScan or DataFrame
        The log as read (:func:`clvxl.sources.read_log`) or scanned in batches
        (:func:`clvxl.sources.scan_log`), or a DataFrame whose first row is row 2
        (under a header on row 1). A scanned log is checked batch by batch and only
        the compact clean columns are kept; how dates and decimal commas are written
        is then decided from the whole log first, so the result is the same as for the
        log read whole.
    columns : mapping, optional
        Role → header name overrides (roles: ``customer_id``, ``date``, ``amount``,
        ``order_id``, ``cost``, ``margin``, ``quantity``). A ``margin`` column is
        turned into ``cost = amount − margin``.
    on_error : {"stop", "skip"}
        ``"stop"`` raises :class:`~clvxl.errors.BadRowsError` listing every bad row;
        ``"skip"`` sets bad rows aside in ``rejected`` and keeps the rest.
    dates : {"auto", "dayfirst", "monthfirst"}
        How to read dates such as 03/04/2024. ``"auto"`` decides from the log
        itself (a day above 12 tells) and refuses when nothing tells.
    dedupe : bool
        Lines repeating an earlier line exactly, order id included (an order exported
        twice), are always reported in ``notes``; with ``dedupe=True`` they are
        counted once.

    Returns
    -------
    CleanLog

    Examples
    --------
    >>> raw = pd.DataFrame({
    ...     "Customer": [" 00123", "7", "7"],
    ...     "Date": ["2024-01-05", "2024-02-01", "45352"],
    ...     "Amount": ["$1,234.50", "(12.00)", "20"],
    ... })
    >>> clean_transactions(raw).transactions[["customer_id", "date", "amount"]]
      customer_id       date   amount
    0       00123 2024-01-05  1234.50
    1           7 2024-02-01   -12.00
    2           7 2024-03-01    20.00
    """
    if on_error not in ("stop", "skip"):
        raise InputError(f"on_error must be 'stop' or 'skip', got {on_error!r}")
    if dates not in ("auto", "dayfirst", "monthfirst"):
        raise InputError(f"dates must be 'auto', 'dayfirst' or 'monthfirst', got {dates!r}")
    log = raw if isinstance(raw, (RawLog, LogScan)) else RawLog.from_frame(raw)
    if not log.columns:
        raise NoDataError(f"{log.source} has no header row")
    roles = find_columns(log.columns, columns)
    batches = log.batches()
    peeked = list(itertools.islice(batches, 2))
    many = len(peeked) > 1
    money = {log_column: None for role, log_column in roles.items() if role in _MONEY_ROLES}
    if many:
        dates, money = _conventions(log, roles, dates)
    report = Report(on_error)
    ids = {role: IdCodes(many) for role in _ID_ROLES if role in roles}
    parts = []
    for batch in _drain(peeked, batches):
        # Cleaning takes about twice what it cleans while it runs, and a long log's
        # clean columns grow with every batch: its batches are cleaned in pieces.
        for piece in batch.pieces(_PIECE_ROWS) if many else [batch]:
            part = _clean_batch(piece, roles, dates, money, report)
            del piece
            for role, codes in ids.items():
                codes.add(part.column(role).combine_chunks())
            parts.append(part.drop_columns(list(ids)))
        del batch  # before the next one is read
    rejected = report.finish(log.source)
    if not parts or sum(part.num_rows for part in parts) == 0:
        what = "no rows that could be read" if report.count else "no transactions"
        raise NoDataError(f"{log.source} has {what}")
    table = pa.concat_tables(parts)  # the batches stay chunks: nothing is copied
    release_memory()
    for role, codes in ids.items():  # back in their places: customer_id, day, amount, order_id
        table = table.add_column(0 if role == "customer_id" else 3, role, codes.finish())
    table, notes = repeated_lines(table, dedupe)
    return CleanLog(table, rejected, log.source, notes)


def _drain(peeked: list[RawLog], rest: Iterator[RawLog]) -> Iterator[RawLog]:
    """The peeked batches, then the rest, holding none of them longer than needed."""
    while peeked:
        yield peeked.pop(0)
    yield from rest


_MONEY_ROLES = ("amount", "cost", "margin", "quantity")
#: Rows cleaned at a time when a log comes in more than one batch.
_PIECE_ROWS = 250_000


def _conventions(
    log: LogScan, roles: dict[str, str], dates: str
) -> tuple[str, dict[str, bool | None]]:
    """How the whole log writes dates and decimals, read before any batch is parsed."""
    money = [roles[r] for r in _MONEY_ROLES if r in roles]
    evidence = DateEvidence()
    comma = dict.fromkeys(money, False)
    for batch in log.batches([roles["date"], *money]):
        if dates == "auto":
            evidence = evidence | DateEvidence.in_column(batch.table[roles["date"]], batch)
        for column in money:
            comma[column] = comma[column] or uses_decimal_comma(batch.table[column])
    if dates == "auto" and evidence.example is not None:
        dates = day_month_order(evidence, roles["date"])
    return dates, comma


def _clean_batch(
    log: RawLog,
    roles: dict[str, str],
    dates: str,
    commas: dict[str, bool | None],
    report: Report,
) -> pa.Table:
    """One batch's clean rows in compact form; its bad rows go to ``report``."""
    table = log.table
    blank_row = np.logical_and.reduce([is_blank(table[c]) for c in roles.values()])
    data = {}
    problems: list[tuple[str, np.ndarray, str]] = []

    data["customer_id"], bad = parse_ids(table[roles["customer_id"]])
    problems.append((roles["customer_id"], bad, "a customer id (the cell is empty)"))
    data["date"], bad = parse_dates(table[roles["date"]], roles["date"], log, dates)
    problems.append((roles["date"], bad, DATE_EXPECTED))
    data["amount"], bad = parse_money(table[roles["amount"]], commas[roles["amount"]])
    problems.append((roles["amount"], bad, "an amount: a finite number such as 1234.50"))
    if "order_id" in roles:
        data["order_id"], bad = parse_ids(table[roles["order_id"]])
        problems.append((roles["order_id"], bad, "an order id (the cell is empty)"))
    for role in ("cost", "margin", "quantity"):
        if role in roles:
            data[role], bad = parse_money(table[roles[role]], commas[roles[role]])
            problems.append((roles[role], bad, f"a {role}: a finite number"))
    if "margin" in data:
        margin = data.pop("margin")
        data["cost"] = data["amount"] - margin if "cost" not in data else data["cost"]

    keep = ~blank_row
    bad_any = np.zeros(len(table), dtype=bool)
    for _, bad, _ in problems:
        bad_any |= bad & keep
    report.add(log, problems, bad_any)
    rows = np.flatnonzero(keep & ~bad_any)
    columns = {}
    for name, values in data.items():
        if name in _ID_ROLES:
            columns[name] = text_array(values.iloc[rows])
        elif name == "date":
            columns["day"] = pa.array(day_numbers(values.to_numpy()[rows]))
        else:
            columns[name] = pa.array(np.asarray(values, dtype=float)[rows])
    columns["source_row"] = pa.array(log.row_numbers(rows).astype(np.int32))
    return pa.table(columns)


_ID_ROLES = ("customer_id", "order_id")
