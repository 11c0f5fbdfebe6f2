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
import zoneinfo
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from clvxl._runtime.arrow import one_array, text_array
from clvxl._runtime.memory import release_memory
from clvxl.clean._idcodes import IdCodes
from clvxl.clean.columns import find_columns, gross_column
from clvxl.clean.dates import (
    DATE_EXPECTED,
    DAY_ZERO,
    DateEvidence,
    day_month_order,
    day_numbers,
    parse_dates,
)
from clvxl.clean.formats import (
    CREDIT_TYPES,
    PLACEHOLDER_IDS,
    TOTAL_WORDS,
    UNPAID,
    Reading,
    Rules,
    prepare,
)
from clvxl.clean.ids import is_blank, parse_ids
from clvxl.clean.money import (
    MONEY_EXPECTED,
    decimal_comma_rule,
    money_votes,
    parse_money,
    rule_note,
)
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
                out["date"] = _dates(column)
            elif pa.types.is_dictionary(column.type):
                out[name] = column.cast(pa.string()).to_pandas().astype("str")
            else:
                out[name] = column.to_numpy()
        return pd.DataFrame(out)

    @property
    def coded_purchases(self) -> pd.DataFrame:
        """``customer_id`` as each id's code (equal ids, equal codes), ``date`` and
        ``amount``: what counting customers needs (the cohort table), without turning a
        million codes back into their text as :attr:`transactions` does."""
        return pd.DataFrame(
            {
                "customer_id": one_array(self.table.column("customer_id")).indices.to_numpy(),
                "date": _dates(self.table.column("day")),
                "amount": self.table.column("amount").to_numpy(),
            }
        )


def _dates(days: pa.ChunkedArray) -> np.ndarray:
    """The clean table's day numbers as dates (``datetime64[ns]``)."""
    return (DAY_ZERO + days.to_numpy()).astype("datetime64[ns]")


def clean_transactions(
    raw: RawLog | LogScan | pd.DataFrame,
    columns: Mapping[str, str] | None = None,
    on_error: str = "stop",
    dates: str = "auto",
    dedupe: bool = False,
    timezone: str | None = None,
    reading: Reading | None = None,
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
        Lines repeating an earlier line exactly, in every column of the file (an order
        exported twice), are always reported in ``notes``; with ``dedupe=True`` they
        are counted once.
    timezone : str, optional
        An IANA zone (``"Europe/Berlin"``): times written with an offset count on their
        day in that zone. None: on the day as written (the shop's own calendar day).
    reading : Reading, optional
        A known export to read the file as, or the generic rules as options
        (:class:`~clvxl.clean.formats.Reading`); None: recognised by the header.

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
    _check_zone(timezone)
    log = raw if isinstance(raw, (RawLog, LogScan)) else RawLog.from_frame(raw)
    if not log.columns:
        raise NoDataError(f"{log.source} has no header row")
    log, columns, rules = prepare(log, columns or {}, reading or Reading())
    roles = find_columns(log.columns, columns)
    batches = log.batches()
    peeked = list(itertools.islice(batches, 2))
    many = len(peeked) > 1
    if many:
        dates, votes = _conventions(log, roles, dates)
    else:
        votes = _votes(peeked[0], roles) if peeked else {}
    commas = {column: decimal_comma_rule(*v) for column, v in votes.items()}
    report = Report(on_error)
    left = _LeftOut(rules)
    ids = {role: IdCodes(many) for role in _ID_ROLES if role in roles}
    parts = []
    for batch in _drain(peeked, batches):
        # Cleaning takes about twice what it cleans while it runs, and a long log's
        # clean columns grow with every batch: its batches are cleaned in pieces.
        for piece in batch.pieces(_PIECE_ROWS) if many else [batch]:
            part = _clean_batch(piece, roles, _Parsing(dates, commas, timezone), report, left)
            del piece
            for role, codes in ids.items():
                codes.add(part.column(role).combine_chunks())
            parts.append(part.drop_columns(list(ids)))
        del batch  # before the next one is read
    rejected = report.finish(log.source)
    named_quantity = "quantity" in columns and "unit_price" not in columns
    reading_notes = _reading_notes(log.columns, roles, votes, bool(rules.notes), named_quantity)
    notes = (*rules.notes, *log.notes, *reading_notes, *left.notes())
    if not parts or sum(part.num_rows for part in parts) == 0:
        what = "no rows that could be read" if report.count else "no transactions"
        raise NoDataError(f"{log.source} has {what}" + (f" ({'; '.join(notes)})" if notes else ""))
    table = pa.concat_tables(parts)  # the batches stay chunks: nothing is copied
    release_memory()
    for role, codes in ids.items():  # back in their places: customer_id, day, amount, order_id
        table = table.add_column(0 if role == "customer_id" else 3, role, codes.finish())
    table, repeated = repeated_lines(table, dedupe)
    return CleanLog(table, rejected, log.source, notes + repeated)


def _check_zone(timezone: str | None) -> None:
    if timezone is None:
        return
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InputError(
            f"unknown time zone {timezone!r}; give an IANA name such as Europe/Berlin or "
            "America/New_York"
        ) from None


def _reading_notes(
    header: list[str], roles: dict[str, str], votes: dict, known: bool, named_quantity: bool
) -> list[str]:
    """How the columns were read, where the file left a choice."""
    notes = [n for column, v in votes.items() if (n := rule_note(column, *v))]
    gross = gross_column(header, roles["amount"])
    if gross:
        notes.append(f"amount = {roles['amount']} (net); {gross} (gross) is not used")
    if roles["amount"] == roles.get("unit_price") and not known:
        notes.append(f"amount = {roles['quantity']} × {roles['unit_price']}")
    elif named_quantity and roles["amount"] != roles.get("unit_price"):
        notes.append(
            f"amount = {roles['amount']} as written (the line's total); {roles['quantity']} "
            "is kept as the quantity, not multiplied in: if the amount is a price per unit, "
            "give --unit-price-col"
        )
    if "order_id" not in roles:
        notes.append("no order id found: each line is counted as one order")
    return notes


def _drain(peeked: list[RawLog], rest: Iterator[RawLog]) -> Iterator[RawLog]:
    """The peeked batches, then the rest, holding none of them longer than needed."""
    while peeked:
        yield peeked.pop(0)
    yield from rest


_MONEY_ROLES = ("amount", "cost", "margin", "quantity", "unit_price", "refund")
#: Rows cleaned at a time when a log comes in more than one batch.
_PIECE_ROWS = 250_000


def _votes(log: RawLog, roles: dict[str, str]) -> dict[str, tuple[int, int]]:
    """Each money column's votes for a decimal comma and a decimal point."""
    return {roles[r]: money_votes(log.table[roles[r]]) for r in _MONEY_ROLES if r in roles}


def _conventions(
    log: LogScan, roles: dict[str, str], dates: str
) -> tuple[str, dict[str, tuple[int, int]]]:
    """How the whole log writes dates and decimals, read before any batch is parsed."""
    money = list(dict.fromkeys(roles[r] for r in _MONEY_ROLES if r in roles))
    evidence = DateEvidence()
    votes = dict.fromkeys(money, (0, 0))
    for batch in log.batches(list(dict.fromkeys([roles["date"], *money]))):
        if dates == "auto":
            evidence = evidence | DateEvidence.in_column(batch.table[roles["date"]], batch)
        for column, v in _votes(batch, {r: c for r, c in roles.items() if c in money}).items():
            votes[column] = (votes[column][0] + v[0], votes[column][1] + v[1])
    if dates == "auto" and evidence.example is not None:
        dates = day_month_order(evidence, roles["date"])
    return dates, votes


@dataclass(frozen=True)
class _Parsing:
    """How dates and amounts are read: decided once for the whole log."""

    dates: str
    commas: dict[str, bool]
    timezone: str | None


class _LeftOut:
    """Lines left out on purpose (not bad rows), counted by reason, and currencies seen."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.counts: Counter[str] = Counter()
        self.currencies: set[str] = set()

    def take(self, reason: str, mask: np.ndarray) -> np.ndarray:
        self.counts[reason] += int(mask.sum())
        return mask

    def notes(self) -> list[str]:
        if len(self.currencies) > 1 and self.rules.currency is None:
            raise InputError(
                f"the log mixes currencies ({', '.join(sorted(self.currencies))}); adding them "
                "up would be wrong. Keep one with --currency EUR (say which), or, if the "
                "amount column is already converted to one currency, say --currency any"
            )
        unit = self.rules.unit
        return [
            f"{count:,} " + reason.replace("{unit}", unit)
            for reason, count in self.counts.items()
            if count
        ]


def _clean_batch(
    log: RawLog, roles: dict[str, str], parsing: _Parsing, report: Report, left: _LeftOut
) -> pa.Table:
    """One batch's clean rows in compact form; its bad rows go to ``report``."""
    table = log.table
    blank_row = np.logical_and.reduce([is_blank(table[c]) for c in roles.values()])
    data = {}
    problems: list[tuple[str, np.ndarray, str]] = []

    data["customer_id"], bad = parse_ids(table[roles["customer_id"]], left.rules.lower_ids)
    problems.append((roles["customer_id"], bad, "a customer id (the cell is empty)"))
    data["date"], bad = parse_dates(
        table[roles["date"]], roles["date"], log, parsing.dates, parsing.timezone
    )
    problems.append((roles["date"], bad, DATE_EXPECTED))
    money = {}
    for role in _MONEY_ROLES:
        if role in roles and roles[role] not in money:
            money[roles[role]] = parse_money(table[roles[role]], parsing.commas[roles[role]])
        if role in roles:
            data[role], bad = money[roles[role]]
            expected = MONEY_EXPECTED if role == "amount" else f"a {role}: a finite number"
            problems.append((roles[role], bad, expected))
    if "order_id" in roles:
        data["order_id"], bad = parse_ids(table[roles["order_id"]])
        problems.append((roles["order_id"], bad, "an order id (the cell is empty)"))
    keep = ~blank_row & ~_left_out(table, roles, data, problems, left)
    _amounts(table, roles, data, keep, left)
    if "margin" in data:
        margin = data.pop("margin")
        data["cost"] = data["amount"] - margin if "cost" not in data else data["cost"]

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
        elif name in ("amount", "cost", "quantity"):
            columns[name] = pa.array(np.asarray(values, dtype=float)[rows])
    columns["source_row"] = pa.array(log.row_numbers(rows).astype(np.int32))
    other = [c for c in table.columns if c not in roles.values()]
    if other and "order_id" in roles:  # repeated lines are judged on every column
        columns["_rest"] = pa.array(
            pd.util.hash_pandas_object(table[other].iloc[rows], index=False).to_numpy()
        )
    return pa.table(columns)


def _left_out(
    table: pd.DataFrame,
    roles: dict[str, str],
    data: dict,
    problems: list[tuple[str, np.ndarray, str]],
    left: _LeftOut,
) -> np.ndarray:
    """Lines that are not purchases by rule (not bad rows): counted, and dropped."""
    rules = left.rules
    out = np.zeros(len(table), dtype=bool)
    date_bad = problems[1][1]
    if date_bad.any():  # a total row has no date; its label stands in a text column
        out |= left.take("total or subtotal row(s) left out", date_bad & _total_rows(table))
    ids = pc.utf8_lower(text_array(data["customer_id"]))
    placeholder = pc.is_in(ids, pa.array(PLACEHOLDER_IDS)).to_numpy(zero_copy_only=False) & ~out
    if placeholder.any():
        shown = ", ".join(sorted(set(data["customer_id"][placeholder])))
        out |= left.take(
            f"{{unit}} with a placeholder customer id ({shown}): not customers, left out",
            placeholder,
        )
    if rules.blank_customers:
        out |= left.take("{unit} without a customer left out", problems[0][1] & ~out)
    if "status" in roles:
        status = table[roles["status"]].fillna("").astype(str).str.strip()
        kept = status.str.lower().isin(rules.paid).to_numpy()
        known = kept | status.str.lower().isin(UNPAID).to_numpy() | rules.paid_named
        for value in sorted(set(status[~kept & known & ~out])):
            out |= left.take(
                "{unit} with status " + repr(value) + " left out",
                (status == value).to_numpy() & ~out,
            )
        problems.append((roles["status"], ~known & ~out, _status_expected(rules)))
    if "currency" in roles and (rules.currency or "").lower() != "any":
        currency = table[roles["currency"]].fillna("").astype(str).str.strip().str.upper()
        if rules.currency is not None:
            other = (currency != rules.currency.upper()).to_numpy() & ~out
            out |= left.take(
                f"{{unit}} in other currencies than {rules.currency.upper()} left out", other
            )
        else:
            left.currencies |= set(currency[~out])
    return out


def _amounts(
    table: pd.DataFrame, roles: dict[str, str], data: dict, keep: np.ndarray, left: _LeftOut
) -> None:
    """The amount of each line: quantity × unit price, less refunds, credit notes negative."""
    if roles["amount"] == roles.get("unit_price"):
        data["amount"] = data["quantity"] * data["unit_price"]
    if "document_type" in roles:
        kind = table[roles["document_type"]].fillna("").astype(str).str.strip().str.lower()
        credit = kind.isin(CREDIT_TYPES).to_numpy()
        data["amount"] = np.where(credit, -np.abs(data["amount"]), data["amount"])
    if "refund" in roles:
        gross, refund = data["amount"], np.nan_to_num(data["refund"])
        data["amount"] = gross - np.abs(refund)
        whole = (np.abs(refund) > 0) & np.isclose(data["amount"], 0, atol=0.005) & keep
        keep &= ~left.take("{unit} fully refunded (net 0): not purchases", whole)
    if left.rules.zero_amounts:
        zero = (data["amount"] == 0) & keep
        keep &= ~left.take("{unit} of 0 (trials): not purchases", zero)


def _status_expected(rules: Rules) -> str:
    return (
        f"a status: one of {', '.join(rules.paid)} (revenue) or a failed, void, pending, "
        "cancelled or refunded word; name the paid ones with --paid-status"
    )


def _total_rows(table: pd.DataFrame) -> np.ndarray:
    """Rows whose first text cell is a total word ("Total", "Summe", "Yhteensä")."""
    first = table.iloc[:, 0].astype("string").str.strip().str.lower()
    return first.isin(TOTAL_WORDS).fillna(False).to_numpy(dtype=bool)


_ID_ROLES = ("customer_id", "order_id")
