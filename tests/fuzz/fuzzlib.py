"""The clvxl fuzzer: case generators, a memory- and time-limited runner, and the checker.

A *case* is a small folder (``in/`` the input, ``out/`` the output side, both as the user
would have them) and a ``clvxl`` command run in it. :func:`run_case` writes the case,
runs the command and checks the product's promises for every case:

1. exit code 0 or 2 (2 = a clear refusal), never anything else; no ``Traceback`` on
   stderr; no Python exception escapes :func:`clvxl.cli.main`; no crash, no run past
   the time limit, no resident memory past the memory limit;
2. the input (a file, or every file of an input folder) is byte-for-byte unchanged;
3. the output is complete or absent: after exit 2 the case folder is exactly as before
   (no output, no ``OUTPUT.rejected.csv``, no hidden temporary file, an earlier output
   untouched); after exit 0 only the output and its rejected file are new, and the
   output reads back completely;
4. after exit 0 the customer table is sound: ``p_alive`` in [0, 1], ``clv`` finite and
   at least 0 (NaN only where documented: all four prediction columns, with the note
   "predicted CLV is not available"), ``orders`` at least 1 — and, for the generators
   that start from a valid log, every customer's revenue, orders, purchase days and
   first and last purchase equal what this module computes itself from the lines it
   wrote and the mutations it made (:class:`Oracle`).

Generators (:data:`GENERATORS`) start from valid logs (plain ISO dates; dd.mm.yyyy with
semicolons and decimal commas; order ids; costs; currency text; tab-separated;
workbooks; parquet files and folders) and mutate cells (dates, money, ids), structure
(encodings, line ends, blank lines, headers, ragged rows) and the output side
(``-o`` the input, rejected-file collisions, ...); others craft hostile ``.xlsx``
packages by hand, workbooks for ``clvxl freeze`` and summaries for ``clvxl fit``.
Every mutation draws from its own random stream, so a case can be rebuilt with any
subset of its mutations (:func:`shrink`).

The command runs in a worker process that imports clvxl once and calls
:func:`clvxl.cli.main` in-process (fast), under ``RLIMIT_AS`` and a resident-memory
watchdog, with a wall-clock limit; a crash, a kill or an escaped exception is recorded
as a failure of that case and the worker is started again. ``mode="subprocess"`` runs
each case as a fresh ``python -m clvxl.cli`` instead.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import json
import os
import random
import re
import resource
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
TEMPLATE = REPO / "clvxl" / "excel" / "templates" / "clvxl-template.xlsx"
GiB = 1024**3
MiB = 1024**2

# --- what a cell may become ------------------------------------------------------------

#: The cell makes its row a bad row.
BAD = "<bad>"
#: Any accepted value.
ANY = "<any>"


@dataclass
class Cell:
    """One written cell and what the product may make of it.

    ``value`` is what is written: text for text files, a Python value for workbooks and
    parquet (``("formula", "=10+5", 15)`` for a formula with its cached value).
    ``outcomes`` holds :data:`BAD`, :data:`ANY` and/or concrete values (``Decimal`` for
    money, ``datetime.date`` for dates, ``str`` for ids).
    """

    value: object
    outcomes: frozenset
    label: str = ""
    empty: bool = False

    @classmethod
    def exact(cls, value: object, result: object, label: str = "") -> Cell:
        return cls(value, frozenset([result]), label)


@dataclass
class Line:
    """One data row of the log: a cell per role, extra columns, its row for messages."""

    cells: dict[str, Cell]
    extra: dict[str, object] = field(default_factory=dict)
    row: int = 0
    raw: str | None = None  # text written instead of the cells (a comment, a ragged row)


ROLES = ("customer_id", "date", "amount", "order_id", "cost")


# --- valid logs ------------------------------------------------------------------------

_NAMES = ["José", "Zoë", "Ærø", "Müller", "Renée", "Ñandú", "Björk", "Çelik"]
_CP1252_NAMES = ["Žižek", "€uro", "Œuvre", "Š-shop", "ƒoo", "Ÿves"]


def _ids(rng: random.Random, n: int, pool: str) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        k = len(out)
        style = rng.random()
        if pool == "cp1252" and style < 0.3:
            out.append(f"{rng.choice(_CP1252_NAMES)}{k}")
        elif pool in ("latin1", "cp1252", "utf8") and style < 0.45:
            out.append(f"{rng.choice(_NAMES)} {k}")
        elif pool == "utf8" and style < 0.55:
            out.append(f"客户{k}")
        elif style < 0.75:
            out.append(f"{k + 100:05d}")  # leading zeros stay
        else:
            out.append(f"C{k:04d}")
    return out


@dataclass
class Txn:
    customer: str
    date: dt.date
    amount: Decimal
    order: str | None = None
    cost: Decimal | None = None


def valid_log(
    rng: random.Random,
    orders: bool = False,
    cost: bool = False,
    pool: str = "ascii",
    customers: tuple[int, int] = (12, 45),
) -> list[Txn]:
    """A plausible log: customers buying a few times, some lines per order, some refunds."""
    n = rng.randint(*customers)
    ids = _ids(rng, n, pool)
    start = dt.date(2022, 1, 3)
    out: list[Txn] = []
    order_no = 1000
    for cid in ids:
        day = start + dt.timedelta(days=rng.randrange(0, 500))
        purchases = 1 + min(int(rng.expovariate(0.5)), 7)
        for _ in range(purchases):
            lines = rng.choice([1, 1, 1, 2, 3]) if orders else 1
            order_no += 1
            for _ in range(lines):
                cents = rng.choice([rng.randrange(100, 20000), rng.randrange(100, 300000), 0])
                amount = Decimal(cents) / 100
                line_cost = (amount * Decimal(rng.choice(["0.4", "0.6", "0.75"]))).quantize(
                    Decimal("0.01")
                )
                out.append(Txn(cid, day, amount, f"O{order_no}" if orders else None, line_cost))
            if rng.random() < 0.08:  # a refund of part of it, later
                order_no += 1
                refund = -(Decimal(rng.randrange(100, 5000)) / 100)
                out.append(
                    Txn(cid, day + dt.timedelta(days=rng.randrange(1, 20)), refund,
                        f"O{order_no}" if orders else None, Decimal(0))
                )
            day += dt.timedelta(days=1 + int(rng.expovariate(1 / 40)))
    rng.shuffle(out)
    if not cost:
        for t in out:
            t.cost = None
    return out


# --- how a log is written ---------------------------------------------------------------


@dataclass
class Style:
    """How a text log writes its header, dates and money."""

    name: str
    delimiter: str = ","
    headers: dict[str, str] = field(default_factory=dict)
    dates: str = "iso"  # iso | dmy (dd.mm.yyyy) | compact (yyyymmdd) | isotime
    money: str = "dot"  # dot | comma (1.234,50) | currency ($1,234.50, (12.00))
    pool: str = "ascii"
    orders: bool = False
    cost: bool = False


STYLES: dict[str, Style] = {
    "iso": Style("iso", headers={"customer_id": "customer", "date": "date", "amount": "amount"}),
    "dmy_semicolon": Style(
        "dmy_semicolon",
        ";",
        {"customer_id": "Customer", "date": "Date", "amount": "Amount"},
        "dmy",
        "comma",
        "latin1",
    ),
    "orders": Style(
        "orders",
        ",",
        {"order_id": "order_id", "customer_id": "customer_id", "date": "order_date",
         "amount": "revenue"},
        "isotime",
        orders=True,
        pool="utf8",
    ),
    "cost": Style(
        "cost",
        ",",
        {"customer_id": "Customer No", "date": "Invoice Date", "amount": "Net Amount",
         "cost": "COGS", "order_id": "Invoice"},
        "compact",
        orders=True,
        cost=True,
    ),
    "currency_tsv": Style(
        "currency_tsv",
        "\t",
        {"customer_id": "client", "date": "purchase_date", "amount": "sales"},
        "iso",
        "currency",
        "utf8",
    ),
}


def date_text(d: dt.date, style: str) -> str:
    if style == "dmy":
        return d.strftime("%d.%m.%Y")
    if style == "compact":
        return d.strftime("%Y%m%d")
    if style == "isotime":
        return f"{d.isoformat()} {(d.toordinal() * 7) % 24:02d}:{(d.toordinal() * 13) % 60:02d}:00"
    return d.isoformat()


def money_text(v: Decimal, style: str, rng: random.Random) -> str:
    if style == "comma":
        text = format(abs(v), ",.2f").replace(",", "_").replace(".", ",").replace("_", ".")
        if rng.random() < 0.3:
            text = text.replace(".", "")  # 1234,50
        return ("-" if v < 0 else "") + text
    if style == "currency":
        text = "$" + format(abs(v), ",.2f")
        if v < 0:
            return rng.choice([f"({format(abs(v), ',.2f')})", f"-{text}"])
        return text
    return format(v, ".2f") if rng.random() < 0.8 else str(v.normalize())


def _money_value(v: Decimal) -> Decimal:
    """The amount as the summary sums it: a float64 cast to DECIMAL(38, 10)."""
    try:
        return Decimal(repr(float(v))).quantize(Decimal("1e-10"))
    except InvalidOperation:
        return Decimal(repr(float(v)))


def lines_from_log(log: list[Txn], style: Style, rng: random.Random) -> list[Line]:
    out = []
    for t in log:
        cells = {
            "customer_id": Cell.exact(t.customer, t.customer),
            "date": Cell.exact(date_text(t.date, style.dates), t.date),
            "amount": Cell.exact(money_text(t.amount, style.money, rng), _money_value(t.amount)),
        }
        if style.orders:
            cells["order_id"] = Cell.exact(t.order, t.order)
        if style.cost:
            cells["cost"] = Cell.exact(money_text(t.cost, style.money, rng), t.cost)
        out.append(Line(cells))
    return out


# --- mutations of cells ------------------------------------------------------------------
# Each catalog entry: label -> function(rng, line's true value, style) -> (text, outcomes).


def _o(*values: object) -> frozenset:
    return frozenset(values)


D = Decimal

MONEY: dict[str, Callable] = {
    # sign after a currency: a refund, or a bad row; never a purchase
    "money:$-40.00": lambda r, v, s: ("$-40.00", _o(D(-40), BAD)),
    "money:€-5": lambda r, v, s: ("€-5", _o(D(-5), BAD)),
    "money:EUR -12,50": lambda r, v, s: ("EUR -12,50", _o(D("-12.5"), BAD)),
    "money:+-1": lambda r, v, s: ("+-1", _o(D(-1), BAD)),
    # malformed separators: bad rows
    "money:12.5.3": lambda r, v, s: ("12.5.3", _o(BAD)),
    "money:1.2.3,4": lambda r, v, s: ("1.2.3,4", _o(BAD)),
    "money:3.14,15": lambda r, v, s: ("3.14,15", _o(BAD)),
    "money:1,.0": lambda r, v, s: ("1,.0", _o(BAD, D(1))),
    # out of range
    "money:1e28": lambda r, v, s: ("1e28", _o(BAD, D("1e28"))),
    "money:-1e28": lambda r, v, s: ("-1e28", _o(BAD, D("-1e28"))),
    "money:1e300": lambda r, v, s: ("1e300", _o(BAD, D("1e300"))),
    "money:inf": lambda r, v, s: (r.choice(["inf", "Infinity", "-inf"]), _o(BAD)),
    "money:nan": lambda r, v, s: (r.choice(["nan", "NaN"]), _o(BAD)),
    "money:text": lambda r, v, s: (r.choice(["abc", "TRUE", "n/a", "--", "$"]), _o(BAD)),
    "money:empty": lambda r, v, s: ("", _o(BAD)),
    # documented forms: read as meant, or a bad row where they do not fit the column's one
    # rule (a decimal comma among decimal points, or the other way round)
    "money:$1,234.50": lambda r, v, s: ("$1,234.50", _o(D("1234.5"), BAD)),
    "money:(12.00)": lambda r, v, s: ("(12.00)", _o(D(-12), BAD)),
    "money:-$40": lambda r, v, s: ("-$40", _o(D(-40))),
    "money:1.234,50": lambda r, v, s: ("1.234,50", _o(D("1234.5"), BAD)),
    "money:€ 99": lambda r, v, s: ("€ 99", _o(D(99))),
    "money:12,50": lambda r, v, s: ("12,50", _o(D("12.5"), BAD)),
    "money:5-": lambda r, v, s: ("5-", _o(D(-5))),
    "money:USD 5": lambda r, v, s: ("USD 5", _o(D(5))),
    "money:1 234,50": lambda r, v, s: ("1 234,50", _o(D("1234.5"), BAD)),
    "money: 7.25 ": lambda r, v, s: (" 7.25 ", _o(D("7.25"), BAD)),
    "money:.5": lambda r, v, s: (".5", _o(D("0.5"), BAD)),
    "money:-0": lambda r, v, s: ("-0", _o(D(0))),
    "money:0.1234567891": lambda r, v, s: ("0.1234567891", _o(D("0.1234567891"), BAD)),
}

DATES: dict[str, Callable] = {
    "date:Z": lambda r, d, s: (f"{d.isoformat()}T10:00:00Z", _o(d, BAD)),
    "date:+02:00": lambda r, d, s: (f"{d.isoformat()}T10:00:00+02:00", _o(d, BAD)),
    "date:-05:00": lambda r, d, s: (
        f"{d.isoformat()}T23:30:00-05:00", _o(d, d + dt.timedelta(days=1), BAD)
    ),
    "date:-1": lambda r, d, s: ("-1", _o(BAD)),
    "date:Jan": lambda r, d, s: ("Jan", _o(BAD)),
    "date:now": lambda r, d, s: (r.choice(["now", "today", "yesterday", "tomorrow"]), _o(BAD)),
    "date:10:00": lambda r, d, s: (r.choice(["10:00", "23:59:59", "12:00 PM"]), _o(BAD)),
    "date:2024": lambda r, d, s: ("2024", _o(BAD, dt.date(1905, 7, 16))),  # a serial number?
    "date:1 2 3": lambda r, d, s: ("1 2 3", _o(BAD)),
    "date:2024Q1": lambda r, d, s: ("2024Q1", _o(BAD)),
    "date:2263-01-01": lambda r, d, s: ("2263-01-01", _o(BAD)),
    "date:2500-06-01": lambda r, d, s: (r.choice(["2500-06-01", "2600-03-15", "2680-01-01"]), _o(BAD)),
    "date:3000-01-01": lambda r, d, s: (r.choice(["3000-01-01", "9999-12-31", "2101-01-01"]), _o(BAD)),
    "date:1899-12-31": lambda r, d, s: (r.choice(["1899-12-31", "1000-01-01", "0001-01-01"]), _o(BAD)),
    "date:12/31/2999": lambda r, d, s: ("12/31/2999", _o(BAD)),
    "date:2024-02-30": lambda r, d, s: (r.choice(["2024-02-30", "2023-02-29", "2024-13-01"]), _o(BAD)),
    "date:empty": lambda r, d, s: ("", _o(BAD)),
    # documented forms
    "date:time": lambda r, d, s: (f"{d.isoformat()} 14:22:05", _o(d)),
    "date:yyyymmdd": lambda r, d, s: (d.strftime("%Y%m%d"), _o(d)),
    "date:serial": lambda r, d, s: (str((d - dt.date(1899, 12, 30)).days), _o(d)),
    "date:serial.75": lambda r, d, s: (f"{(d - dt.date(1899, 12, 30)).days}.75", _o(d)),
    "date:padded": lambda r, d, s: (f"  {d.isoformat()} ", _o(d)),
    "date:5 Mar 2024": lambda r, d, s: (d.strftime("%d %b %Y"), _o(d, BAD)),
    "date:1900-01-01": lambda r, d, s: ("1900-01-01", _o(dt.date(1900, 1, 1))),
    "date:2100-12-31": lambda r, d, s: ("2100-12-31", _o(dt.date(2100, 12, 31))),
}

_FORMULAS = ["=1+1", "@SUM(A1)", "-2+3", "+1", '=HYPERLINK("http://x.test","x")', "=cmd|' /C calc'!A0"]

IDS: dict[str, Callable] = {
    "id:empty": lambda r, c, s: (r.choice(["", "   "]), _o(BAD)),
    "id:NA": lambda r, c, s: (lambda t: (t, _o(BAD, t)))(
        r.choice(["NA", "null", "NULL", "#N/A", "N/A", "NaN", "nan", "None"])
    ),
    "id:long10k": lambda r, c, s: (lambda t: (t, _o(t)))("L" + str(r.random()) + "x" * 10_000),
    "id:long40k": lambda r, c, s: (lambda t: (t, _o(t)))("M" + str(r.random()) + "y" * 40_000),
    "id:formula": lambda r, c, s: (lambda t: (t, _o(t)))(r.choice(_FORMULAS)),
    "id:padded": lambda r, c, s: (f"  {c}  ", _o(c)),
    "id:zeros": lambda r, c, s: ("000123", _o("000123")),
    "id:unicode": lambda r, c, s: ("客户ß🙂", _o("客户ß🙂")),
    "id:quote": lambda r, c, s: ('he said "hi", ok', _o('he said "hi", ok')),
    "id:newline": lambda r, c, s: ("multi\nline", _o("multi\nline")),
}

ORDER_IDS: dict[str, Callable] = {
    "order:empty": lambda r, c, s: ("", _o(BAD)),
    "order:NA": lambda r, c, s: ("NA", _o(BAD, "NA")),
    "order:long": lambda r, c, s: (lambda t: (t, _o(t)))("O" + "z" * 5000 + str(r.random())),
    "order:formula": lambda r, c, s: ("=1+1", _o("=1+1")),
}

COSTS: dict[str, Callable] = {
    "cost:empty": lambda r, c, s: ("", _o(BAD)),
    "cost:text": lambda r, c, s: ("n/a", _o(BAD)),
}


# --- text files --------------------------------------------------------------------------


def _csv_line(fields: list[str], delimiter: str) -> str:
    """One CSV record, quoted as RFC 4180 says (a field with a line break is quoted: the
    writer only knows line breaks from its line terminator)."""
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerow(fields)
    return buf.getvalue().removesuffix("\r\n")


@dataclass
class TextLog:
    """A text log being built: header, lines and how the file is written."""

    style: Style
    lines: list[Line]
    columns: list[str]  # roles and extra column names, in file order
    headers: dict[str, str]  # role or extra -> header text
    encoding: str = "utf-8"
    newline: str = "\n"
    final_newline: bool = True
    blank_after: dict[int, int] = field(default_factory=dict)  # line index -> blank lines
    blank_before_first: int = 0
    prefix_lines: list[str] = field(default_factory=list)  # raw text lines before the header

    def header_fields(self) -> list[str]:
        return [self.headers[c] for c in self.columns]

    def render(self) -> tuple[bytes, bool]:
        """The file's bytes; rows of each line filled in; whether line numbers are known."""
        nl = self.newline
        parts = [_csv_line(self.header_fields(), self.style.delimiter)]
        physical = 1 + sum(p.count("\n") for p in parts)
        known = True
        parts += [""] * self.blank_before_first
        physical += self.blank_before_first
        for i, line in enumerate(self.lines):
            if line.raw is not None:
                text = line.raw
            else:
                fields = []
                for c in self.columns:
                    if c in line.cells:
                        fields.append(str(line.cells[c].value))
                    else:
                        fields.append(str(line.extra.get(c, "")))
                text = _csv_line(fields, self.style.delimiter)
            line.row = physical + 1
            if "\n" in text or "\r" in text:
                known = False
            physical += 1 + text.count("\n")
            parts.append(text)
            blanks = self.blank_after.get(i, 0)
            parts += [""] * blanks
            physical += blanks
        text = nl.join(parts) + (nl if self.final_newline else "")
        return text.encode(self.encoding, errors="strict"), known


# --- the oracle ----------------------------------------------------------------------------


@dataclass
class Expected:
    revenue: Decimal
    orders: int
    first: dt.date
    last: dt.date
    frequency: int

    def differences(self, revenue: float, orders: float, frequency: float, first, last) -> list[str]:
        out = []
        if not abs(revenue - float(self.revenue)) <= 1e-6 + 1e-9 * abs(float(self.revenue)):
            out.append(f"revenue {revenue!r}, expected {float(self.revenue)!r}")
        if orders != self.orders:
            out.append(f"orders {orders:g}, expected {self.orders}")
        if frequency != self.frequency:
            out.append(f"frequency {frequency:g}, expected {self.frequency}")
        if first != self.first or last != self.last:
            out.append(f"purchases {first}..{last}, expected {self.first}..{self.last}")
        return out


@dataclass
class Oracle:
    """What the customer table must be, computed from the lines as written.

    ``customers`` maps each customer id to what its row may be: one :class:`Expected`
    per reading of its ambiguous cells (None: not in the table), and the labels of the
    mutations that touch it.
    """

    customers: dict[str, tuple[list[Expected | None], tuple[str, ...]]]
    maybe: set[str]  # ids that may or may not be there, unchecked
    bad_rows: dict[int, tuple[str, ...]]  # row -> the labels of its bad cells
    maybe_bad_rows: dict[int, tuple[str, ...]]
    rows_known: bool
    has_orders: bool
    row_labels: dict[int, tuple[str, ...]] = field(default_factory=dict)

    def present(self) -> bool:
        """Whether some customer surely has a row."""
        return any(None not in alternatives for alternatives, _ in self.customers.values())


def _summarise(rows: list[tuple], has_orders: bool) -> Expected | None:
    """One customer's row from its lines (customer, date, amount, order key)."""
    orders: dict[object, list] = {}
    for e in rows:
        orders.setdefault(e[3] if has_orders else id(e), []).append(e)
    purchases = []
    for order_lines in orders.values():
        if sum((e[2] for e in order_lines), Decimal(0)) >= 0:
            purchases.append(min(e[1] for e in order_lines))
    if not purchases:
        return None  # refunds only: not in the table
    return Expected(
        revenue=sum((e[2] for e in rows), Decimal(0)),
        orders=len(purchases),
        first=min(purchases),
        last=max(purchases),
        frequency=len(set(purchases)) - 1,
    )


def build_oracle(
    lines: list[Line], has_orders: bool, as_of: dt.date | None = None, rows_known: bool = True
) -> Oracle:
    """The customer table the product must compute from ``lines``.

    A line whose cells each have one reading counts as written; a line with a cell that
    must be bad is left out; a line whose cells may be read in several ways (a bad row
    or a value, a local or a UTC date) gives each of its customers one expected row per
    combination of readings, up to 256 (beyond that, the customer is not checked).
    """
    bad_rows: dict[int, tuple[str, ...]] = {}
    maybe_bad: dict[int, tuple[str, ...]] = {}
    row_labels: dict[int, tuple[str, ...]] = {}
    touched: dict[object, set[str]] = {}  # customer -> labels of lines that touch it
    exact: dict[object, list[tuple]] = {}
    ambiguous: dict[object, list[list[tuple | None]]] = {}  # customer -> per line: readings
    for index, line in enumerate(lines):
        cells = line.cells
        labels = tuple(c.label for c in cells.values() if c.label)
        row_labels[line.row] = labels
        if all(c.empty for c in cells.values()):
            continue  # a blank row: skipped, not reported
        outcomes = {role: c.outcomes for role, c in cells.items()}
        for cid in cells["customer_id"].outcomes:
            touched.setdefault(cid, set()).update(labels)
        if any(o == {BAD} for o in outcomes.values()):
            if cells["customer_id"].label == "id:NA":
                maybe_bad[line.row] = labels  # or left out for its placeholder id, with a note
                continue
            bad_rows[line.row] = tuple(c.label for c in cells.values() if c.outcomes == {BAD}) or labels
            continue
        if any(BAD in o for o in outcomes.values()):
            maybe_bad[line.row] = labels
        readings: list[tuple | None] = [None] if any(BAD in o for o in outcomes.values()) else []
        orders = outcomes.get("order_id", frozenset([index]))
        for cid in outcomes["customer_id"] - {BAD}:
            for day in outcomes["date"] - {BAD}:
                for amount in outcomes["amount"] - {BAD}:
                    for order in orders - {BAD}:
                        readings.append((cid, day, amount, order))
        if any(ANY in o for o in outcomes.values()):
            readings = []  # cannot be enumerated
        if len(readings) == 1 and readings[0] is not None:
            exact.setdefault(readings[0][0], []).append(readings[0])
            continue
        ids = outcomes["customer_id"] - {BAD}
        for cid in ids:
            if not readings:
                ambiguous.setdefault(cid, []).append([])  # marks it unverifiable
                continue
            here = [r for r in readings if r is not None and r[0] == cid]
            ambiguous.setdefault(cid, []).append([None, *here] if len(here) < len(readings) else here)
    if as_of is None:  # the last date in the log: every line read is on or before it
        as_of = dt.date.max
    import itertools

    customers: dict[str, tuple[list[Expected | None], tuple[str, ...]]] = {}
    maybe: set[str] = set()
    for cid in set(exact) | set(ambiguous):
        options = ambiguous.get(cid, [])
        if any(not o for o in options) or _product_size(options) > 256:
            maybe.add(cid)
            continue
        base = [e for e in exact.get(cid, []) if e[1] <= as_of]
        alternatives: list[Expected | None] = []
        for combo in itertools.product(*options) if options else [()]:
            rows = base + [r for r in combo if r is not None and r[1] <= as_of]
            expected = _summarise(rows, has_orders) if rows else None
            if expected not in alternatives:
                alternatives.append(expected)
        if alternatives != [None]:
            customers[cid] = (alternatives, tuple(sorted(touched.get(cid, set()))))
    return Oracle(customers, maybe, bad_rows, maybe_bad, rows_known, has_orders, row_labels)


def _product_size(options: list[list]) -> int:
    size = 1
    for o in options:
        size *= max(len(o), 1)
    return size


# --- cases ---------------------------------------------------------------------------------

#: A folder in :attr:`Case.files`.
DIR = "<dir>"


@dataclass
class Case:
    """One fuzz case: files to write, a command to run in their folder, what to expect.

    Paths are relative to the case folder; the command is ``clvxl`` + :attr:`argv`.
    ``expect`` is ``"succeed"``, ``"refuse"`` or ``"either"`` (exit 0 or 2 are both
    allowed; promises 1-4 still hold).
    """

    gen: str
    seed: int
    kind: str
    argv: list[str]
    files: dict[str, object]
    inputs: list[str]
    output: str | None = None
    labels: list[str] = field(default_factory=list)
    drawn: list[str] = field(default_factory=list)
    keep: frozenset[int] | None = None
    expect: str = "either"
    oracle: Oracle | None = None
    rejected: str | None = None  # where OUTPUT.rejected.csv goes
    csv_escape: bool = True
    on_error: str = "stop"
    notes: list[str] = field(default_factory=list)
    timeout: float = 60.0
    freeze_input: str | None = None  # the workbook freeze reads, for its checks
    refuse_reason: str = ""  # why "refuse" is expected: bad rows, no data, dates, forced
    memory: int | None = None  # a lower resident-memory limit for this case

    @property
    def name(self) -> str:
        keep = "" if self.keep is None else "-k" + ".".join(map(str, sorted(self.keep)))
        return f"{self.gen}-{self.seed}{keep}"

    def command_line(self) -> str:
        return "clvxl " + " ".join(shlex.quote(a) for a in self.argv)

    def write(self, root: Path) -> None:
        """Write the case's files into ``root`` (which must be empty or absent)."""
        root.mkdir(parents=True, exist_ok=True)
        for rel, content in sorted(self.files.items(), key=lambda kv: kv[0].count("/")):
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if content == DIR:
                path.mkdir(exist_ok=True)
            elif isinstance(content, tuple) and content[0] == "symlink":
                path.symlink_to(content[1])
            elif isinstance(content, tuple) and content[0] == "file":
                shutil.copyfile(content[1], path)  # a large cached file (a bomb)
            else:
                path.write_bytes(content if isinstance(content, bytes) else str(content).encode())


def _pick(rng: random.Random, weighted: dict[str, float]) -> str:
    names = list(weighted)
    return rng.choices(names, weights=[weighted[n] for n in names])[0]


@dataclass
class Recalc:
    """A ``clvxl recalc`` case being built: the log, the options, the output side."""

    seed: int
    gen: str
    lines: list[Line]
    style: Style
    input_kind: str = "csv"  # csv | xlsx | parquet | folder
    text: TextLog | None = None
    input_name: str = "in/log.csv"
    output: str = "out/customers.csv"
    on_error: str = "stop"
    options: list[str] = field(default_factory=list)
    files: dict[str, object] = field(default_factory=dict)  # the output side as found
    expect: str | None = None  # forced: refuse / either
    oracle_ok: bool = True
    as_of: dt.date | None = None
    dayfirst: bool = False
    labels: list[str] = field(default_factory=list)
    csv_escape: bool = True
    render_input: Callable[[Recalc], dict[str, object]] | None = None
    need_bad_line: bool = False
    notes: list[str] = field(default_factory=list)
    out_flags: list[str] = field(default_factory=list)

    def force(self, expect: str) -> None:
        if expect == "refuse" or self.expect is None:
            self.expect = expect

    def data_lines(self) -> list[Line]:
        return [line for line in self.lines if line.raw is None]

    def some_line(self, rng: random.Random) -> Line | None:
        lines = self.data_lines()
        return rng.choice(lines) if lines else None

    def bad_line(self) -> Line:
        """A line that is surely a bad row: no date, no amount (a comment line)."""
        roles = self.lines[0].cells if self.lines else ("customer_id", "date", "amount")
        cells = {role: Cell("", _o(BAD), "csv:comment", empty=True) for role in roles}
        cells["customer_id"] = Cell.exact("# exported 2024-03-01", "# exported 2024-03-01")
        return Line(cells)


def _evidence(lines: list[Line]) -> tuple[bool, bool, bool]:
    """Which d/m/y order the log's slashed text dates show (as clvxl looks for it).

    Dotted dates (``31.12.2023``) are day first by convention and show nothing. Returns
    whether a first and a second part over 12 were seen, and whether any date is slashed.
    """
    first = second = slashed = False
    for line in lines:
        cell = line.cells.get("date")
        if cell is None or not isinstance(cell.value, str):
            continue
        m = re.match(r"^\s*(\d{1,2})[/\-](\d{1,2})[/.\-](\d{2}|\d{4})(?:[ T].*)?\s*$", cell.value)
        if m:
            slashed = True
            first |= int(m.group(1)) > 12
            second |= int(m.group(2)) > 12
    return first, second, slashed


def _unverify_repeats(oracle: Oracle, lines: list[Line]) -> None:
    """--dedupe counts a line that repeats an earlier one exactly once, and columns the
    lines do not model (an extra "note") decide whether two lines are the same: the
    customers of lines alike in every modelled cell are left unchecked."""
    seen: set[tuple] = set()
    for line in lines:
        key = tuple(sorted((role, str(cell.value)) for role, cell in line.cells.items()))
        if key in seen:
            for cid in line.cells["customer_id"].outcomes - {BAD}:
                oracle.customers.pop(cid, None)
                oracle.maybe.add(cid)
        seen.add(key)


def finish_recalc(b: Recalc, drawn: list[str], keep: frozenset[int] | None) -> Case:
    _finish_output(b)
    if b.need_bad_line:
        b.lines.insert(len(b.lines) // 2, b.bad_line())
    rows_known = True
    files = {"out": DIR, **b.files}
    if b.render_input is not None:
        files.update(b.render_input(b))
    else:
        assert b.text is not None
        b.text.lines = b.lines
        try:
            data, rows_known = b.text.render()
        except UnicodeEncodeError:
            b.notes.append(f"{b.text.encoding} could not encode a cell: written as utf-8")
            b.text.encoding = "utf-8"
            data, rows_known = b.text.render()
        files[b.input_name] = data
    argv = ["recalc", b.input_name, "-o", b.output, *b.options]
    if b.on_error == "skip":
        argv += ["--on-error", "skip"]
    if b.dayfirst:
        argv.append("--dayfirst")
    if not b.csv_escape:
        argv.append("--no-csv-escape")
    if b.as_of is not None:
        argv += ["--as-of", b.as_of.isoformat()]
    oracle = build_oracle(
        [line for line in b.lines if line.raw is None], b.style.orders, b.as_of, rows_known
    )
    if "--dedupe" in b.options:
        _unverify_repeats(oracle, b.data_lines())
    expect = b.expect or "succeed"
    reason = "forced" if expect == "refuse" else ""
    if expect != "refuse":
        if b.on_error == "stop" and oracle.bad_rows:
            expect, reason = "refuse", "bad rows"
        elif b.on_error == "stop" and oracle.maybe_bad_rows:
            expect = "either"
        if not oracle.present():
            if not oracle.customers and not oracle.maybe and expect != "either":
                expect, reason = "refuse", "no data"
            else:
                expect = "either"
        if b.style.dates == "dmy" and not b.dayfirst and b.input_kind == "csv":
            first, second, slashed = _evidence(b.lines)
            if slashed and first == second:
                expect, reason = "refuse", "dates"  # the log does not tell, or tells both
    output = b.output
    return Case(
        gen=b.gen,
        seed=b.seed,
        kind="recalc",
        argv=argv,
        files=files,
        inputs=[b.input_name],
        output=output,
        labels=list(b.labels),
        drawn=drawn,
        keep=keep,
        expect=expect,
        oracle=oracle if b.oracle_ok else None,
        rejected=str(Path(output).with_name(Path(output).stem + ".rejected.csv")),
        csv_escape=b.csv_escape,
        on_error=b.on_error,
        notes=[b.style.name, *b.notes],
        refuse_reason=reason,
    )


def _cell_mutation(catalog: dict[str, Callable], role: str) -> Callable[[random.Random, Recalc], str]:
    def apply(rng: random.Random, b: Recalc) -> str | None:
        line = b.some_line(rng)
        if line is None or role not in line.cells:
            return None
        name = rng.choice(list(catalog))
        cell = line.cells[role]
        (true,) = [v for v in cell.outcomes] if len(cell.outcomes) == 1 else [None]
        if role == "date" and not isinstance(true, dt.date):
            true = dt.date(2023, 5, 17)
        if role in ("amount", "cost") and not isinstance(true, Decimal):
            true = Decimal("10")
        if role in ("customer_id", "order_id") and not isinstance(true, str):
            true = "X1"
        text, outcomes = catalog[name](rng, true, b.style)
        outcomes = frozenset(_money_value(o) if isinstance(o, Decimal) else o for o in outcomes)
        line.cells[role] = Cell(text, outcomes, name, empty=not str(text).strip())
        if name == "date:12/31/2999" and b.style.dates == "dmy":
            b.force("either")  # both orders shown: a refusal is right too
        if name == "id:newline":
            pass
        return name

    return apply


def _mixed_offsets(rng: random.Random, b: Recalc) -> str | None:
    lines = b.data_lines()
    if len(lines) < 2:
        return None
    for line, offset in zip(rng.sample(lines, 2), ["+02:00", rng.choice(["+05:00", "Z", "-03:00"])], strict=True):
        cell = line.cells["date"]
        (d,) = cell.outcomes if len(cell.outcomes) == 1 else [dt.date(2023, 5, 17)]
        if not isinstance(d, dt.date):
            d = dt.date(2023, 5, 17)
        line.cells["date"] = Cell(f"{d.isoformat()}T12:00:00{offset}", _o(d, BAD), "date:mixed-offsets")
    return "date:mixed-offsets"


def _text(b: Recalc) -> TextLog | None:
    return b.text if b.input_kind == "csv" else None


def _structure(fn: Callable[[random.Random, Recalc, TextLog], str | None]) -> Callable:
    def apply(rng: random.Random, b: Recalc) -> str | None:
        t = _text(b)
        return fn(rng, b, t) if t is not None else None

    return apply


def _enc(encoding: str, label: str, expect: str | None = None):
    def fn(rng: random.Random, b: Recalc, t: TextLog) -> str:
        t.encoding = encoding
        if encoding == "cp1252":  # ids only Windows-1252 has (0x80-0x9F)
            for line in rng.sample(b.data_lines(), min(3, len(b.data_lines()))):
                name = f"{rng.choice(_CP1252_NAMES)}{rng.randrange(1000)}"
                line.cells["customer_id"] = Cell.exact(name, name, label)
        if expect:
            b.force(expect)
        return label

    return fn


def _latin1_late(rng: random.Random, b: Recalc, t: TextLog) -> str:
    """ASCII for more than the first 64 KB, then Latin-1: the sample does not show it."""
    t.encoding = "latin1"
    template = b.data_lines()[0]
    pad = []
    for k in range(2600):
        cells = {role: Cell(c.value, c.outcomes) for role, c in template.cells.items()}
        cells["customer_id"] = Cell.exact(f"P{k:05d}", f"P{k:05d}")
        pad.append(Line(cells))
    late = b.data_lines()[-1]
    late.cells["customer_id"] = Cell.exact("Françoise", "Françoise", "csv:latin1-late")
    b.lines[:0] = pad
    return "csv:latin1-late"


def _newline(nl: str, label: str, expect: str | None = None):
    def fn(rng, b, t):
        t.newline = nl
        if expect:
            b.force(expect)
        return label

    return fn


def _blank_lines(rng, b, t):
    if not b.lines:  # an earlier mutation emptied the file
        return None
    for _ in range(rng.randint(1, 4)):
        t.blank_after[rng.randrange(len(b.lines))] = rng.randint(1, 3)
    if rng.random() < 0.3:
        t.blank_before_first = 1
    return "csv:blank-lines"


def _all_empty_row(rng, b, t):
    line = b.some_line(rng)
    if line is None:  # no data line left (a header-only log)
        return None
    cells = {role: Cell("", _o(BAD), "csv:all-empty-row", empty=True) for role in line.cells}
    b.lines.insert(rng.randrange(len(b.lines) + 1), Line(cells))
    return "csv:all-empty-row"


def _comment(rng, b, t):
    b.need_bad_line = True
    return "csv:comment"


def _duplicate_line(rng, b, t):
    line = b.some_line(rng)
    if line is None:  # no data line left (a header-only log)
        return None
    copy = Line({r: Cell(c.value, c.outcomes, c.label, c.empty) for r, c in line.cells.items()})
    b.lines.insert(b.lines.index(line) + 1, copy)
    return "csv:duplicate-line"


def _ragged(kind: str):
    def fn(rng, b, t):
        line = b.some_line(rng)
        if line is None:
            return None
        fields = [str(line.cells[c].value) if c in line.cells else "" for c in t.columns]
        fields = [*fields, "extra"] if kind == "long" else fields[:-1]
        raw = Line(line.cells, raw=_csv_line(fields, t.style.delimiter))
        b.lines.insert(rng.randrange(len(b.lines) + 1), raw)
        b.force("either")
        b.oracle_ok = False
        return f"csv:ragged-{kind}"

    return fn


def _whitespace_line(rng, b, t):
    b.lines.insert(rng.randrange(len(b.lines) + 1), Line({}, raw="   "))
    b.force("either")
    b.oracle_ok = False
    return "csv:whitespace-line"


def _extra_column(name: str, label: str, values: Callable[[random.Random], str] | None = None, at: int | None = None):
    def fn(rng, b, t):
        key = f"extra{len(t.columns)}"
        position = len(t.columns) if at is None else at
        t.columns.insert(position, key)
        t.headers[key] = name if name != "<huge>" else "h" * 70_000
        for line in b.lines:
            line.extra[key] = values(rng) if values else ""
        return label

    return fn


def _many_columns(rng, b, t):
    for k in range(1500):
        key = f"many{k}"
        t.columns.append(key)
        t.headers[key] = f"x{k}"
    return "csv:many-columns"


def _dup_role_header(rng, b, t):
    key = "dupamount"
    t.columns.append(key)
    t.headers[key] = t.headers["amount"].upper()
    for line in b.lines:
        line.extra[key] = "1"
    b.force("refuse")
    return "csv:dup-role-header"


def _padded_header(rng, b, t):
    t.headers["customer_id"] = f"  {t.headers['customer_id']} "
    return "csv:padded-header"


def _header_only(rng, b, t):
    b.lines.clear()
    b.force("refuse")
    return "csv:header-only"


def _empty_file(rng, b, t):
    b.render_input = lambda b: {b.input_name: b""}
    b.force("refuse")
    return "csv:empty-file"


def _no_final_newline(rng, b, t):
    t.final_newline = False
    return "csv:no-final-newline"


def _control_id(rng, b, t=None):
    line = b.some_line(rng)
    if line is None:  # no data line left (a header-only log)
        return None
    text = "ctl" + rng.choice(["\x00", "\x01", "\x0b", "\x1f", "\x7f"]) + "id"
    line.cells["customer_id"] = Cell.exact(text, text, "id:control")
    return "id:control"


def _opt(flag: list[str] | Callable, label: str):
    def fn(rng, b):
        b.options += flag(rng) if callable(flag) else flag
        return label

    return fn


def _skip(rng, b):
    b.on_error = "skip"
    return "opt:skip"


def _as_of_mid(rng, b):
    dates = sorted(
        next(iter(line.cells["date"].outcomes))
        for line in b.data_lines()
        if len(line.cells["date"].outcomes) == 1
        and isinstance(next(iter(line.cells["date"].outcomes)), dt.date)
    )
    if not dates:
        return None
    b.as_of = dates[len(dates) // 2]
    return "opt:as-of-mid"


def _no_escape(rng, b):
    b.csv_escape = False
    return "opt:no-csv-escape"


def _dayfirst(rng, b):
    b.dayfirst = True
    return "opt:dayfirst"


def _out_suffix(suffix: str, label: str):
    def fn(rng, b):
        b.output = str(Path(b.output).with_suffix(suffix))
        return label

    return fn


def _out_flag(flag: str, skip: bool = False, bad_line: bool = False):
    """An output-side mutation, applied when the case is finished (after every path change)."""

    def fn(rng, b):
        if flag == "input-is-rejected-name" and Path(b.input_name).suffix != ".csv":
            return None
        b.out_flags.append(flag)
        if skip:
            b.on_error = "skip"
        if bad_line:
            b.need_bad_line = True
        return f"out:{flag}"

    return fn


def _finish_output(b: Recalc) -> None:
    """Apply the output-side mutations in a fixed order: names first, then what is found there."""
    flags = b.out_flags
    rng = random.Random(f"{b.seed}:output")
    rejected = lambda: str(Path(b.output).with_name(Path(b.output).stem + ".rejected.csv"))  # noqa: E731
    if "input-is-rejected-name" in flags:  # rows set aside would overwrite the input
        out = Path(b.output)
        b.input_name = str(out.with_name(out.stem + ".rejected.csv"))
        b.output = str(out.with_suffix(rng.choice([".csv", ".parquet"])))
        b.force("refuse")  # its rejected rows (or the removal of a stale file) would hit the input
    if "same-as-input" in flags:
        b.output = b.input_name
        b.force("refuse")
    if "dotdot-same" in flags:
        parent, name = b.input_name.rsplit("/", 1)
        b.output = f"out/../{parent}/{name}"
        b.force("refuse")
    if "missing-folder" in flags:
        b.output = "out/missing/" + Path(b.output).name
        b.force("refuse")
    if "txt" in flags:
        b.output = str(Path(b.output).with_suffix(".txt"))
        b.force("refuse")
    same = os.path.normpath(b.output) == os.path.normpath(b.input_name)
    if "missing-folder" in flags:
        return  # whatever else was asked for would create the folder
    if "is-dir" in flags and not same:
        b.files[b.output] = DIR
        b.force("refuse")
    elif "symlink-to-input" in flags and not same:
        b.files[b.output] = ("symlink", os.path.relpath(b.input_name, Path(b.output).parent))
        b.force("refuse")
    elif "preexisting" in flags and not same:
        b.files[b.output] = b"an earlier output\n"
    if "rejected-is-dir" in flags and rejected() != b.input_name:
        b.files[rejected()] = DIR
        b.force("either")
    elif "stale-rejected" in flags and rejected() != b.input_name:
        b.files[rejected()] = b"row,column,value,reason\r\n99,amount,x,an earlier run\r\n"


CELL_MUTATIONS: dict[str, tuple[float, Callable]] = {
    "cell:money": (10, _cell_mutation(MONEY, "amount")),
    "cell:date": (9, _cell_mutation(DATES, "date")),
    "cell:id": (6, _cell_mutation(IDS, "customer_id")),
    "cell:order": (2, _cell_mutation(ORDER_IDS, "order_id")),
    "cell:cost": (1, _cell_mutation(COSTS, "cost")),
    "date:mixed-offsets": (1.5, _mixed_offsets),
    "id:control": (1, _control_id),
}

TEXT_MUTATIONS: dict[str, tuple[float, Callable]] = {
    "csv:bom": (1, _structure(_enc("utf-8-sig", "csv:bom"))),
    "csv:latin1": (1, _structure(_enc("latin1", "csv:latin1"))),
    "csv:cp1252": (1, _structure(_enc("cp1252", "csv:cp1252"))),
    "csv:utf16": (0.7, _structure(_enc("utf-16", "csv:utf16", "either"))),
    "csv:latin1-late": (0.4, _structure(_latin1_late)),
    "csv:crlf": (1, _structure(_newline("\r\n", "csv:crlf"))),
    "csv:cr": (0.5, _structure(_newline("\r", "csv:cr", "either"))),
    "csv:no-final-newline": (0.5, _structure(_no_final_newline)),
    "csv:blank-lines": (2, _structure(_blank_lines)),
    "csv:all-empty-row": (0.7, _structure(_all_empty_row)),
    "csv:comment": (1, _structure(_comment)),
    "csv:duplicate-line": (0.7, _structure(_duplicate_line)),
    "csv:ragged-long": (0.5, _structure(_ragged("long"))),
    "csv:ragged-short": (0.5, _structure(_ragged("short"))),
    "csv:whitespace-line": (0.3, _structure(_whitespace_line)),
    "csv:huge-header": (0.4, _structure(_extra_column("<huge>", "csv:huge-header", at=0))),
    "csv:many-columns": (0.3, _structure(_many_columns)),
    "csv:extra-column": (
        0.7,
        _structure(_extra_column("note", "csv:extra-column", lambda r: r.choice(["", "a,b", 'say "x"', "ü", "12"]))),
    ),
    "csv:dup-other-header": (
        0.5,
        _structure(lambda r, b, t: (_extra_column("note", "x")(r, b, t), _extra_column("note", "x")(r, b, t), "csv:dup-other-header")[-1]),
    ),
    "csv:dup-role-header": (0.4, _structure(_dup_role_header)),
    "csv:empty-header": (0.5, _structure(_extra_column("", "csv:empty-header"))),
    "csv:two-empty-headers": (
        0.3,
        _structure(lambda r, b, t: (_extra_column("", "x")(r, b, t), _extra_column("", "x")(r, b, t), "csv:two-empty-headers")[-1]),
    ),
    "csv:padded-header": (0.4, _structure(_padded_header)),
    "csv:header-only": (0.2, _structure(_header_only)),
    "csv:empty-file": (0.1, _structure(_empty_file)),
}

OPTION_MUTATIONS: dict[str, tuple[float, Callable]] = {
    "opt:skip": (4, _skip),
    "opt:dedupe": (0.5, _opt(["--dedupe"], "opt:dedupe")),
    "opt:unit": (0.7, _opt(lambda r: ["--unit", r.choice(["days", "months"])], "opt:unit")),
    "opt:model": (0.5, _opt(["--model", "paretonbd"], "opt:model-paretonbd")),
    "opt:horizon": (0.4, _opt(lambda r: ["--horizon", r.choice(["0.5", "36", "1200"])], "opt:horizon")),
    "opt:margin": (0.4, _opt(lambda r: ["--margin", r.choice(["0.3", "1e-9", "1"])], "opt:margin")),
    # 0 and 99 %: a rate of 100 % is refused in words (known D22)
    "opt:discount": (0.3, _opt(lambda r: ["--discount-rate", r.choice(["0", "0.99"])], "opt:discount")),
    "opt:as-of-mid": (0.6, _as_of_mid),
    "opt:no-csv-escape": (0.3, _no_escape),
    "opt:dayfirst": (0.5, _dayfirst),
}

OUTPUT_MUTATIONS: dict[str, tuple[float, Callable]] = {
    "out:parquet": (3, _out_suffix(".parquet", "out:parquet")),
    "out:xlsx": (2.5, _out_suffix(".xlsx", "out:xlsx")),
    "out:upper-suffix": (0.3, _out_suffix(".CSV", "out:upper-suffix")),
    "out:preexisting": (0.7, _out_flag("preexisting")),
    "out:same-as-input": (0.3, _out_flag("same-as-input")),
    "out:dotdot-same": (0.2, _out_flag("dotdot-same")),
    "out:symlink-to-input": (0.2, _out_flag("symlink-to-input")),
    "out:input-is-rejected-name": (0.4, _out_flag("input-is-rejected-name", skip=True, bad_line=True)),
    "out:rejected-is-dir": (0.4, _out_flag("rejected-is-dir", skip=True, bad_line=True)),
    "out:stale-rejected": (0.4, _out_flag("stale-rejected", skip=True)),
    "out:missing-folder": (0.2, _out_flag("missing-folder")),
    "out:is-dir": (0.2, _out_flag("is-dir")),
    "out:txt": (0.1, _out_flag("txt")),
}


def _draw(rng: random.Random, catalogs: list[tuple[float, dict]], n: int) -> list[str]:
    weighted: dict[str, float] = {}
    for share, catalog in catalogs:
        total = sum(w for w, _ in catalog.values())
        for name, (w, _) in catalog.items():
            weighted[name] = share * w / total
    return [_pick(rng, weighted) for _ in range(n)]


def _apply(b: Recalc, catalogs: list[dict], drawn: list[str], keep: frozenset[int] | None) -> None:
    table = {name: fn for catalog in catalogs for name, (_, fn) in catalog.items()}
    for i, name in enumerate(drawn):
        if keep is not None and i not in keep:
            continue
        label = table[name](random.Random(f"{b.seed}:{i}:{name}"), b)
        if label:
            b.labels.append(label)


def gen_text_log(seed: int, keep: frozenset[int] | None = None, style: str | None = None) -> Case:
    """A valid text log (one of :data:`STYLES`), mutated in cells, structure, options, output."""
    base = random.Random(f"{seed}:base")
    st = STYLES[style or base.choice(list(STYLES))]
    log = valid_log(base, orders=st.orders, cost=st.cost, pool=st.pool)
    lines = lines_from_log(log, st, base)
    columns = list(st.headers)
    text = TextLog(st, lines, columns, dict(st.headers))
    b = Recalc(seed, "text", lines, st, text=text, input_name="in/log" + (".tsv" if st.delimiter == "\t" else ".csv"))
    if base.random() < 0.5:
        b.on_error = "skip"
    n = base.choice([0, 1, 1, 2, 2, 2, 3, 3, 4, 5])
    drawn = _draw(base, [(6, CELL_MUTATIONS), (2.5, TEXT_MUTATIONS), (1, OPTION_MUTATIONS), (1.5, OUTPUT_MUTATIONS)], n)
    _apply(b, [CELL_MUTATIONS, TEXT_MUTATIONS, OPTION_MUTATIONS, OUTPUT_MUTATIONS], drawn, keep)
    return finish_recalc(b, drawn, keep)


# --- workbooks and parquet as input ------------------------------------------------------


def _xlsx_value(cell: Cell) -> object:
    return cell.value


def _render_xlsx(layout: str, date_kind: str, extra_sheets: list[str]):
    def render(b: Recalc) -> dict[str, object]:
        import xlsxwriter

        buf = io.BytesIO()
        book = xlsxwriter.Workbook(
            buf,
            {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
             "strings_to_urls": False, "nan_inf_to_errors": True},
        )
        date_format = book.add_format({"num_format": "yyyy-mm-dd"})
        if "first-sheet-other" in extra_sheets:
            other = book.add_worksheet("Notes")
            other.write(0, 0, "exported")
        sheet = book.add_worksheet("Transactions" if layout != "sheet-named" else "Data")
        roles = list(b.lines[0].cells) if b.lines else ["customer_id", "date", "amount"]
        headers = [b.style.headers.get(r, r) for r in roles]
        top = 2 if layout == "table-offset" else 0
        left = 1 if layout == "table-offset" else 0
        if layout == "table-offset":
            sheet.write(0, 0, "Transactions exported 2024")
        sheet.write_row(top, left, headers)
        for i, line in enumerate(b.lines):
            line.row = top + i + 2
            for j, role in enumerate(roles):
                cell = line.cells.get(role)
                if cell is None or (cell.empty and cell.value == ""):
                    continue
                value = cell.value
                r, c = top + 1 + i, left + j
                if isinstance(value, tuple) and value[0] == "formula":
                    sheet.write_formula(r, c, value[1], None, value[2])
                elif isinstance(value, bool):
                    sheet.write_boolean(r, c, value)
                elif isinstance(value, (int, float)):
                    sheet.write_number(r, c, value)
                elif isinstance(value, dt.date):
                    sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_format)
                else:
                    text = str(value)
                    if len(text) > 32_767:  # what a cell holds: the log as written is cut
                        cell.outcomes = frozenset(text[:32_767] if o == text else o for o in cell.outcomes)
                    sheet.write_string(r, c, text)
        if layout in ("table", "table-offset"):
            sheet.add_table(
                top, left, top + max(len(b.lines), 1), left + len(roles) - 1,
                {"name": "Transactions", "columns": [{"header": h} for h in headers]},
            )
        if "settings" in extra_sheets or "settings-bad" in extra_sheets:
            s = book.add_worksheet("Settings")
            s.write_row(0, 0, ["Setting", "Value", "Key"])
            s.write_row(1, 0, ["CLV horizon (months)", "abc" if "settings-bad" in extra_sheets else 24, "horizon"])
            s.write_row(2, 0, ["Time unit", "days", "unit"])
        book.close()
        out = {b.input_name: buf.getvalue()}
        if "lock-file" in extra_sheets:
            out[str(Path(b.input_name).with_name("~$" + Path(b.input_name).name))] = b"lock"
        return out

    return render


def _xl_cell(name: str, make: Callable[[random.Random, object], tuple[object, frozenset]], role: str):
    def apply(rng: random.Random, b: Recalc) -> str | None:
        line = b.some_line(rng)
        if line is None:
            return None
        (true,) = line.cells[role].outcomes if len(line.cells[role].outcomes) == 1 else [None]
        if role == "date" and not isinstance(true, dt.date):  # a cell mutated before
            true = dt.date(2023, 5, 17)
        value, outcomes = make(rng, true)
        line.cells[role] = Cell(value, outcomes, name)
        return name

    return apply


def _serial(d: dt.date) -> int:
    return (d - dt.date(1899, 12, 30)).days


XLSX_CELLS: dict[str, tuple[float, Callable]] = {
    "xl:id-number": (1, _xl_cell("xl:id-number", lambda r, t: (123.0, _o("123")), "customer_id")),
    "xl:id-float": (0.5, _xl_cell("xl:id-float", lambda r, t: (123.5, _o("123.5")), "customer_id")),
    "xl:id-bool": (0.3, _xl_cell("xl:id-bool", lambda r, t: (True, _o(BAD, "True", "TRUE")), "customer_id")),
    "xl:date-serial": (1, _xl_cell("xl:date-serial", lambda r, t: (float(_serial(t)), _o(t)), "date")),
    "xl:date-yyyymmdd": (0.7, _xl_cell("xl:date-yyyymmdd", lambda r, t: (float(t.strftime("%Y%m%d")), _o(t)), "date")),
    "xl:date-bool": (0.4, _xl_cell("xl:date-bool", lambda r, t: (False, _o(BAD)), "date")),
    "xl:date-negative": (0.3, _xl_cell("xl:date-negative", lambda r, t: (-5.0, _o(BAD)), "date")),
    "xl:date-huge-serial": (0.3, _xl_cell("xl:date-huge-serial", lambda r, t: (2958466.0, _o(BAD)), "date")),
    "xl:amount-bool": (0.5, _xl_cell("xl:amount-bool", lambda r, t: (True, _o(BAD)), "amount")),
    "xl:amount-formula": (0.7, _xl_cell("xl:amount-formula", lambda r, t: (("formula", "=10+5", 15), _o(_money_value(D(15)))), "amount")),
    "xl:amount-error": (0.5, _xl_cell("xl:amount-error", lambda r, t: (("formula", "=1/0", "#DIV/0!"), _o(BAD)), "amount")),
    "xl:amount-1e300": (0.3, _xl_cell("xl:amount-1e300", lambda r, t: (1e300, _o(BAD, D("1e300"))), "amount")),
}


def gen_xlsx_log(seed: int, keep: frozenset[int] | None = None) -> Case:
    """A valid log as a workbook (a Transactions table or a sheet), mutated."""
    base = random.Random(f"{seed}:base")
    st = base.choice([STYLES["iso"], STYLES["orders"], STYLES["cost"]])
    log = valid_log(base, orders=st.orders, cost=st.cost, pool="utf8")
    date_kind = base.choice(["real", "text"])
    lines = []
    for t in log:
        cells = {
            "customer_id": Cell.exact(t.customer, t.customer),
            "date": Cell.exact(t.date if date_kind == "real" else t.date.isoformat(), t.date),
            "amount": Cell.exact(float(t.amount), _money_value(t.amount)),
        }
        if st.orders:
            cells["order_id"] = Cell.exact(t.order, t.order)
        if st.cost:
            cells["cost"] = Cell.exact(float(t.cost), t.cost)
        lines.append(Line(cells))
    layout = base.choice(["table", "table", "table-offset", "sheet", "sheet-named"])
    extras = []
    if layout == "sheet-named" and base.random() < 0.5:
        extras.append("first-sheet-other")
        layout = "sheet-named"
    b = Recalc(seed, "xlsx", lines, dataclass_replace(st, dates="iso"), input_kind="xlsx", input_name="in/log.xlsx")
    if layout == "sheet-named" and "first-sheet-other" in extras:
        b.options += ["--sheet", "Data"]
    if base.random() < 0.5:
        b.on_error = "skip"
    xl_extra: dict[str, tuple[float, Callable]] = {
        "xl:settings": (0.5, lambda r, b: (extras.append("settings"), "xl:settings")[1]),
        "xl:settings-bad": (0.3, lambda r, b: (extras.append("settings-bad"), b.force("either"), "xl:settings-bad")[2]),
        "xl:lock-file": (0.3, lambda r, b: (extras.append("lock-file"), "xl:lock-file")[1]),
    }
    cells = {k: v for k, v in CELL_MUTATIONS.items() if k != "id:control"}
    n = base.choice([0, 1, 1, 2, 2, 3, 4])
    catalogs = [cells, XLSX_CELLS, xl_extra, OPTION_MUTATIONS, OUTPUT_MUTATIONS]
    drawn = _draw(base, [(4, cells), (3, XLSX_CELLS), (0.7, xl_extra), (1, OPTION_MUTATIONS), (1.5, OUTPUT_MUTATIONS)], n)
    _apply(b, catalogs, drawn, keep)
    b.render_input = _render_xlsx(layout, date_kind, extras)
    b.notes.append(f"layout:{layout}, dates:{date_kind}")
    b.style = dataclass_replace(b.style, dates="iso")
    return finish_recalc(b, drawn, keep)


def dataclass_replace(obj, **changes):
    import dataclasses

    return dataclasses.replace(obj, **changes)


def _render_parquet(folder: bool, date_type: str, id_type: str, amount_type: str, out_inside: bool):
    def render(b: Recalc) -> dict[str, object]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        roles = list(b.lines[0].cells)
        for i, line in enumerate(b.lines):
            line.row = i + 1
        columns: dict[str, list] = {r: [line.cells[r].value for line in b.lines] for r in roles}
        arrays = {}
        for role, values in columns.items():
            if role == "date":
                if date_type == "text" or any(isinstance(v, str) for v in values):
                    arrays["date"] = pa.array([None if v is None else str(v) for v in values])
                elif date_type.startswith("timestamp"):
                    tz = date_type.split(":", 1)[1] if ":" in date_type else None
                    arrays["date"] = pa.array(
                        [None if v is None else v if isinstance(v, dt.datetime) else dt.datetime.combine(v, dt.time(12)) for v in values],
                        pa.timestamp("us", tz=tz),
                    )
                else:
                    arrays["date"] = pa.array(values, pa.date32())
            elif role in ("amount", "cost"):
                if amount_type == "text" or any(isinstance(v, str) for v in values):
                    arrays[role] = pa.array([None if v is None else str(v) for v in values])
                else:
                    arrays[role] = pa.array(values, pa.float64())
            else:
                if id_type == "int" and role == "customer_id" and all(isinstance(v, int) for v in values):
                    arrays[role] = pa.array(values, pa.int64())
                else:
                    arrays[role] = pa.array([None if v is None else str(v) for v in values])
                    if id_type == "dictionary":
                        arrays[role] = arrays[role].dictionary_encode()
        names = {r: b.style.headers.get(r, r) for r in roles}
        table = pa.table({names[r]: a for r, a in arrays.items()})
        if not folder:
            buf = io.BytesIO()
            pq.write_table(table, buf)
            return {b.input_name: buf.getvalue()}
        out = {}
        half = table.num_rows // 2
        for k, part in enumerate([table.slice(0, half), table.slice(half)]):
            buf = io.BytesIO()
            pq.write_table(part, buf)
            out[f"{b.input_name}/region=R{k}/part-{k}.parquet"] = buf.getvalue()
        return out

    return render


def _pq_cell(name: str, role: str, make: Callable[[random.Random, object], tuple[object, frozenset]]):
    return _xl_cell(name, make, role)


PARQUET_CELLS: dict[str, tuple[float, Callable]] = {
    "pq:null-id": (1, _pq_cell("pq:null-id", "customer_id", lambda r, t: (None, _o(BAD)))),
    "pq:null-amount": (1, _pq_cell("pq:null-amount", "amount", lambda r, t: (None, _o(BAD)))),
    "pq:nan-amount": (1, _pq_cell("pq:nan-amount", "amount", lambda r, t: (float("nan"), _o(BAD)))),
    "pq:inf-amount": (0.7, _pq_cell("pq:inf-amount", "amount", lambda r, t: (float("-inf"), _o(BAD)))),
    "pq:1e28-amount": (0.7, _pq_cell("pq:1e28-amount", "amount", lambda r, t: (1e28, _o(BAD, D("1e28"))))),
    "pq:null-date": (0.7, _pq_cell("pq:null-date", "date", lambda r, t: (None, _o(BAD)))),
    "pq:date-1000": (0.7, _pq_cell("pq:date-1000", "date", lambda r, t: (dt.date(1000, 1, 1), _o(BAD)))),
    "pq:date-3000": (0.7, _pq_cell("pq:date-3000", "date", lambda r, t: (dt.date(3000, 1, 1), _o(BAD)))),
    "pq:date-2500": (0.7, _pq_cell("pq:date-2500", "date", lambda r, t: (dt.date(2500, 6, 1), _o(BAD)))),
    "pq:date-1899": (0.5, _pq_cell("pq:date-1899", "date", lambda r, t: (dt.date(1899, 12, 31), _o(BAD)))),
}


def gen_parquet_log(seed: int, keep: frozenset[int] | None = None) -> Case:
    """A valid log as a parquet file or a hive-partitioned folder, typed columns, mutated."""
    base = random.Random(f"{seed}:base")
    st = base.choice([STYLES["iso"], STYLES["orders"], STYLES["cost"]])
    log = valid_log(base, orders=st.orders, cost=st.cost, pool="utf8")
    folder = base.random() < 0.3
    date_type = base.choice(["date32", "timestamp", "timestamp:UTC", "timestamp:+02:00", "text"])
    id_type = base.choice(["text", "dictionary", "int"])
    amount_type = base.choice(["float", "float", "text"])
    lines = []
    numeric_ids: dict[str, int] = {}
    for t in log:
        cid: object = t.customer
        outcome = t.customer
        if id_type == "int":
            cid = numeric_ids.setdefault(t.customer, 1000 + len(numeric_ids))
            outcome = str(cid)
        cells = {
            "customer_id": Cell.exact(cid, outcome),
            "date": Cell.exact(t.date.isoformat() if date_type == "text" else t.date, t.date),
            "amount": Cell.exact(
                money_text(t.amount, "dot", base) if amount_type == "text" else float(t.amount),
                _money_value(t.amount),
            ),
        }
        if st.orders:
            cells["order_id"] = Cell.exact(t.order, t.order)
        if st.cost:
            cells["cost"] = Cell.exact(float(t.cost), t.cost)
        lines.append(Line(cells))
    name = "in/logs" if folder else "in/log.parquet"
    b = Recalc(seed, "parquet", lines, st, input_kind="folder" if folder else "parquet", input_name=name,
               output="out/customers.parquet")
    if base.random() < 0.5:
        b.on_error = "skip"
    out_inside = {"out:inside-input-folder": (2 if folder else 0.0001, lambda r, b: (
        setattr(b, "output", f"{b.input_name}/customers.parquet") if b.input_kind == "folder" else None,
        "out:inside-input-folder" if b.input_kind == "folder" else None)[1])}
    cells = {k: v for k, v in CELL_MUTATIONS.items() if k in ("cell:money", "cell:date", "cell:id")}
    n = base.choice([0, 1, 1, 2, 2, 3])
    drawn = _draw(base, [(3, PARQUET_CELLS), (1.5, cells), (1, OPTION_MUTATIONS), (1, OUTPUT_MUTATIONS), (0.5, out_inside)], n)
    _apply(b, [PARQUET_CELLS, cells, OPTION_MUTATIONS, OUTPUT_MUTATIONS, out_inside], drawn, keep)
    b.render_input = _render_parquet(folder, date_type, id_type, amount_type, False)
    b.notes.append(f"parquet:{'folder' if folder else 'file'}, dates:{date_type}, ids:{id_type}, amounts:{amount_type}")
    b.style = dataclass_replace(b.style, dates="iso")
    case = finish_recalc(b, drawn, keep)
    if folder and case.output and case.output.startswith(name + "/"):
        case.expect = "either"
    return case


# --- running a case ------------------------------------------------------------------------


@dataclass
class Limits:
    """What one case may use: resident memory (watched), address space, time, file size."""

    memory: int = 2 * GiB  # resident set, watched every 50 ms; the case is killed past it
    address_space: int = 6 * GiB  # RLIMIT_AS: a backstop (Arrow and DuckDB reserve a lot)
    seconds: float = 60.0
    file_size: int = 1 * GiB  # RLIMIT_FSIZE: no output bomb


@dataclass
class Result:
    """What running a command did."""

    code: int | None
    stdout: str
    stderr: str
    exception: str | None = None  # the traceback of an exception that escaped main()
    killed: str | None = None  # "timeout" or "memory"
    signal: int | None = None
    seconds: float = 0.0
    peak_rss: int = 0


def _set_limits(limits: Limits) -> Callable[[], None]:
    def preexec() -> None:
        os.setsid()  # its own process group: killed as one
        resource.setrlimit(resource.RLIMIT_AS, (limits.address_space, limits.address_space))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size, limits.file_size))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return preexec


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError, ValueError):
        pass
    return 0


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["MALLOC_ARENA_MAX"] = "2"  # glibc arenas reserve 64 MB of address space per thread
    env["PYTHONFAULTHANDLER"] = "1"
    env.setdefault("OMP_NUM_THREADS", "1")
    env.pop("PYTHONWARNINGS", None)
    return env


def _watch(proc: subprocess.Popen, limits: Limits, until: Callable[[float], bool], start: float) -> tuple[str | None, int]:
    """Wait until ``until(timeout)`` says done, killing ``proc`` past the limits."""
    peak = 0
    while True:
        if until(0.05):
            return None, peak
        rss = _rss(proc.pid)
        peak = max(peak, rss)
        if proc.poll() is not None:
            return None, peak
        reason = None
        if rss > limits.memory:
            reason = "memory"
        elif time.monotonic() - start > limits.seconds:
            reason = "timeout"
        if reason:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return reason, peak


class Worker:
    """A process that imports clvxl once and runs commands in-process, one at a time.

    It runs under ``Limits.address_space`` and is watched for resident memory and time;
    when a case crashes it, kills it or overruns, the result says so and the next case
    starts a new worker.
    """

    def __init__(self, limits: Limits | None = None, python: str = sys.executable, recycle: int = 150):
        self.limits = limits or Limits()
        self.python = python
        self.recycle = recycle
        self.proc: subprocess.Popen | None = None
        self.runs = 0
        self.log = tempfile.NamedTemporaryFile(prefix="clvxl-fuzz-worker-", suffix=".log", delete=False)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.python, "-u", str(Path(__file__).resolve()), "--worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            preexec_fn=_set_limits(self.limits),
            env=_env(),
            cwd=str(REPO),
        )
        ready = self._read_line(120)
        if ready is None or not json.loads(ready).get("ready"):
            raise RuntimeError(f"the fuzz worker did not start; see {self.log.name}")
        self.runs = 0

    def _read_line(self, timeout: float) -> str | None:
        assert self.proc is not None and self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return None
        line = self.proc.stdout.readline()
        return line.decode() if line else None

    def stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def close(self) -> None:
        self.stop()
        self.log.close()
        with contextlib.suppress(OSError):
            os.unlink(self.log.name)

    def run(self, argv: list[str], cwd: Path, limits: Limits | None = None) -> Result:
        limits = limits or self.limits
        if self.proc is None or self.proc.poll() is not None or self.runs >= self.recycle:
            self.stop()
            self.start()
        assert self.proc is not None and self.proc.stdin is not None and self.proc.stdout is not None
        out, err = cwd / ".fuzz-stdout", cwd / ".fuzz-stderr"
        request = {"argv": argv, "cwd": str(cwd), "stdout": str(out), "stderr": str(err)}
        start = time.monotonic()
        self.proc.stdin.write((json.dumps(request) + "\n").encode())
        self.proc.stdin.flush()
        self.runs += 1
        answer: list[str | None] = []

        def done(timeout: float) -> bool:
            ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
            if ready:
                answer.append(self.proc.stdout.readline().decode() or None)
                return True
            return False

        killed, peak = _watch(self.proc, limits, done, start)
        seconds = time.monotonic() - start
        stdout = _read_text(out)
        stderr = _read_text(err)
        for p in (out, err):
            p.unlink(missing_ok=True)
        if killed or not answer or answer[0] is None:
            if self.proc.poll() is None:
                self.proc.wait(timeout=10)
            sig = -self.proc.returncode if self.proc.returncode and self.proc.returncode < 0 else None
            code = None if sig or killed else self.proc.returncode
            self.proc = None
            return Result(code, stdout, stderr, None, killed, sig, seconds, peak)
        reply = json.loads(answer[0])
        return Result(reply["code"], stdout, stderr, reply.get("exception"), None, None, seconds, peak)


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8", errors="backslashreplace")
    except FileNotFoundError:
        return ""


def run_subprocess(argv: list[str], cwd: Path, limits: Limits, python: str = sys.executable) -> Result:
    """Run ``python -m clvxl.cli ARGV`` in ``cwd`` under ``limits``: the fallback mode."""
    out, err = cwd / ".fuzz-stdout", cwd / ".fuzz-stderr"
    with out.open("wb") as o, err.open("wb") as e:
        start = time.monotonic()
        proc = subprocess.Popen(
            [python, "-m", "clvxl.cli", *argv], cwd=str(cwd), stdout=o, stderr=e,
            stdin=subprocess.DEVNULL, preexec_fn=_set_limits(limits), env=_env(),
        )

        def done(timeout: float) -> bool:
            try:
                proc.wait(timeout=timeout)
                return True
            except subprocess.TimeoutExpired:
                return False

        killed, peak = _watch(proc, limits, done, start)
    seconds = time.monotonic() - start
    stdout, stderr = _read_text(out), _read_text(err)
    out.unlink(missing_ok=True)
    err.unlink(missing_ok=True)
    rc = proc.returncode
    sig = -rc if rc is not None and rc < 0 else None
    return Result(None if (sig or killed) else rc, stdout, stderr, None, killed, sig, seconds, peak)


def _worker_main() -> None:
    """The worker's loop: one JSON request per line on stdin, one answer per line."""
    import faulthandler

    answers = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.stdout = open(os.devnull, "w")
    saved_err = os.dup(2)
    from clvxl.cli import main

    answers.write(json.dumps({"ready": True}) + "\n")
    for request_line in sys.stdin:
        request = json.loads(request_line)
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        out_fd = os.open(request["stdout"], flags, 0o644)
        err_fd = os.open(request["stderr"], flags, 0o644)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        py_out = open(request["stdout"], "a", buffering=1, encoding="utf-8", errors="backslashreplace")
        py_err = open(request["stderr"], "a", buffering=1, encoding="utf-8", errors="backslashreplace")
        sys.stdout, sys.stderr = py_out, py_err
        faulthandler.enable(file=py_err, all_threads=True)
        cwd = os.getcwd()
        code, escaped = None, None
        try:
            os.chdir(request["cwd"])
            code = main(request["argv"])
        except SystemExit as exc:  # argparse: 2 for a usage error, 0 for --help
            if exc.code is None or isinstance(exc.code, int):
                code = exc.code or 0
            else:
                print(exc.code, file=py_err)
                code = 1
        except BaseException:  # what Python would print before exiting with 1
            escaped = traceback.format_exc()
            py_err.write(escaped)
            code = 1
        finally:
            os.chdir(cwd)
            faulthandler.disable()
            for stream in (py_out, py_err):
                with contextlib.suppress(Exception):
                    stream.flush()
            sys.stdout, sys.stderr = open(os.devnull, "w"), open(os.devnull, "w")
            py_out.close()
            py_err.close()
            os.dup2(devnull, 1)
            os.dup2(saved_err, 2)
            os.close(out_fd)
            os.close(err_fd)
        answers.write(json.dumps({"code": code if isinstance(code, int) else 0, "exception": escaped}) + "\n")



# --- checking a case -----------------------------------------------------------------------

#: The customer table's columns, exactly, in csv and parquet, as the README lists them
#: (:data:`clvxl.customers.CUSTOMER_COLUMNS`), and the Customers sheet's headers in a
#: workbook output (:func:`clvxl.excel.layout.label`).
def _customer_columns() -> tuple[list[str], dict[str, str]]:
    from clvxl.customers import CUSTOMER_COLUMNS as columns
    from clvxl.excel.layout import label
    from clvxl.units import UNIT_NAMES

    return list(columns), {label(c, unit): c for unit in UNIT_NAMES for c in columns}


CUSTOMER_COLUMNS, FRIENDLY = _customer_columns()
PREDICTIONS = ["p_alive", "expected_purchases", "expected_avg_value", "clv"]
NO_PREDICTION_NOTE = "predicted CLV is not available"
#: Refusals docs/bad-input.md promises for these mutations together: (labels, message part).
PROMISED_REFUSALS = (
    (("csv:empty-header", "out:xlsx"), "has an empty header; an Excel table needs one"),
    (("csv:two-empty-headers", "out:xlsx"), "has an empty header; an Excel table needs one"),
    (("id:long40k", "out:xlsx"), "more than an Excel cell holds"),
    (("csv:dup-other-header", "out:xlsx"), "differ only in case or spaces; Excel table headers must be distinct"),
)
#: The note when only the spend model failed: the purchase model's columns stay filled.
NO_SPEND_NOTE = "are empty: the spend model could not be fitted"
SPEND_COLUMNS = ("expected_avg_value", "clv", "clv_low", "clv_high")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Failure:
    """A broken promise. ``key`` is the failure class (kind and signature) for deduplication."""

    kind: str
    key: str
    detail: str
    labels: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"kind": self.kind, "key": self.key, "detail": self.detail, "labels": list(self.labels)}


def snapshot(root: Path) -> dict[str, str]:
    """Every path under ``root``: its SHA-256, ``<dir>`` or ``-> target`` for a symlink."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        for name in list(dirnames):
            path = base / name
            rel = str(path.relative_to(root))
            if path.is_symlink():
                out[rel] = "-> " + os.readlink(path)
                dirnames.remove(name)
            else:
                out[rel] = DIR
        for name in filenames:
            if name.startswith(".fuzz-"):
                continue
            path = base / name
            rel = str(path.relative_to(root))
            if path.is_symlink():
                out[rel] = "-> " + os.readlink(path)
                continue
            digest = hashlib.sha256()
            with path.open("rb") as fh:
                while chunk := fh.read(1 << 20):
                    digest.update(chunk)
            out[rel] = digest.hexdigest()
    return out


def _norm(text: str, limit: int = 90) -> str:
    """A message as a signature: numbers, quoted values and paths left out."""
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", text)
    text = re.sub(r"(/[\w.\-+=~$]+)+", "PATH", text)
    text = re.sub(r"0x[0-9a-f]+|\d+(\.\d+)?(e[+-]?\d+)?", "N", text)
    return re.sub(r"\s+", " ", text).strip()[:limit]


def exception_signature(tb: str) -> tuple[str, str]:
    """(``Type@function``, the exception line) of a formatted traceback, at its innermost
    clvxl frame."""
    lines = tb.strip().splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("  File ")]
    after = lines[starts[-1] + 1 :] if starts else lines
    message = next((line for line in after if line and not line.startswith(" ")), lines[-1] if lines else "?")
    last = message
    exc_type = message.split(":", 1)[0].strip().rsplit(".", 1)[-1]
    frames = re.findall(r'File "([^"]+)", line \d+, in (\S+)', tb)
    inner = [f for f in frames if "/clvxl/" in f[0] or f[0].endswith(("cli.py",))]
    where = inner[-1] if inner else (frames[-1] if frames else ("?", "?"))
    return f"{exc_type}@{Path(where[0]).name}:{where[1]}", last[:300]


def _native_message(stderr: str) -> str:
    for line in stderr.splitlines():
        if re.search(r"memory allocation|Fatal Python error|panicked|bad_alloc|Cannot allocate|abort|Segmentation", line, re.I):
            return _norm(line, 70)
    return ""


def _cell_labels(labels: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(labels)))


def check(case: Case, result: Result, before: dict[str, str], after: dict[str, str], root: Path,
          limits: Limits) -> list[Failure]:
    """Every broken promise of one run of ``case``."""
    failures: list[Failure] = []
    labels = tuple(case.labels)

    def fail(kind: str, signature: str, detail: str, why: Iterable[str] = labels) -> None:
        why = _cell_labels(why)
        failures.append(Failure(kind, f"{kind}:{signature}", detail, why))

    # 1. the process
    if result.killed == "memory":
        fail("memory", case.gen, f"resident memory passed {limits.memory // MiB} MiB after {result.seconds:.1f} s; killed")
    elif result.killed == "timeout":
        fail("timeout", case.gen, f"still running after {limits.seconds:.0f} s; killed")
    elif result.signal:
        name = signal.Signals(result.signal).name if result.signal in signal.valid_signals() else str(result.signal)
        fail("crash", f"{name}:{_native_message(result.stderr)}", f"killed by {name}; stderr: {result.stderr[-600:]}")
    else:
        escaped = result.exception
        if escaped is None and result.code == 1 and "Traceback (most recent call last)" in result.stderr:
            escaped = result.stderr[result.stderr.rindex("Traceback (most recent call last)"):]  # a subprocess
        if escaped:
            sig, last = exception_signature(escaped)
            kind = "memory" if sig.startswith(("MemoryError", "OutOfMemoryException")) else "exception"
            fail(kind, sig, f"exception escaped clvxl.cli.main: {last}")
        elif result.code not in (0, 2):
            fail("exit-code", str(result.code), f"exit code {result.code}; stderr: {result.stderr[-400:]}")
        if "Traceback" in result.stderr and not escaped:
            fail("traceback", _norm(result.stderr.strip().splitlines()[-1]), result.stderr[-600:])
    # 2. the input
    for rel in case.inputs:
        keys = {k for k in before.keys() | after.keys() if k == rel or k.startswith(rel + "/")}
        changed = sorted(k for k in keys if before.get(k) != after.get(k))
        if changed:
            culprits = [label for label in labels if label.startswith("out:")] or ["?"]
            fail("input-changed", "+".join(culprits), f"the input changed: {changed[:5]}", culprits)
    if result.killed or result.signal:
        return failures
    # 3. complete or absent
    output = os.path.normpath(case.output) if case.output else None
    rejected = os.path.normpath(case.rejected) if case.rejected else None
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    outside_inputs = [k for k in changed if not any(k == i or k.startswith(i + "/") for i in case.inputs)]
    if result.code != 0:
        if outside_inputs:
            what = sorted({_what(k, output, rejected) for k in outside_inputs})
            fail("leftover", "+".join(what), f"exit {result.code} left {outside_inputs[:5]}; stderr: {result.stderr[-300:]}")
        first = result.stderr.strip().splitlines()[0] if result.stderr.strip() else ""
        promised = any(
            set(needs) <= set(labels) and text in first for needs, text in PROMISED_REFUSALS
        )
        if case.expect == "succeed" and result.code == 2 and not promised:
            signature = "bad rows" if "bad row" in first else _norm(first.removeprefix("clvxl: "))
            fail("valid-refused", signature, f"refused a log the fuzzer expected to be read: {result.stderr[-500:]}")
        if case.kind == "recalc" and result.code == 2 and case.oracle is not None:
            _check_report(case, result, fail)
        return failures
    unexpected = [k for k in outside_inputs if k not in (output, rejected)]
    if unexpected:
        what = sorted({_what(k, output, rejected) for k in unexpected})
        fail("leftover", "+".join(what), f"exit 0 left {unexpected[:5]}")
    if case.expect == "refuse" and case.refuse_reason != "bad rows":
        fail("not-refused", "+".join(sorted(lab for lab in labels if lab.startswith(("out:", "csv:")))) or "?",
             f"exit 0 where a refusal was expected ({case.labels}); stdout: {result.stdout[-300:]}")
    if case.kind == "recalc":
        _check_recalc(case, result, before, after, root, output, rejected, fail)
    elif case.kind == "freeze":
        _check_freeze(case, result, root, fail)
    elif case.kind == "fit":
        _check_fit(case, result, fail)
    return failures


def _what(rel: str, output: str | None, rejected: str | None) -> str:
    name = Path(rel).name
    if rel == output:
        return "output"
    if rel == rejected:
        return "rejected"
    if name.startswith(".") and name.endswith(".tmp"):
        return "tmp"
    return "other"


_ROW = re.compile(r"^\s*row (\d+), column ", re.M)


def _check_report(case: Case, result: Result, fail: Callable) -> None:
    """A refusal listing bad rows names only bad rows, and all of them when they are few."""
    oracle = case.oracle
    # A report lists rows; a refusal of the paths ("… writes its bad rows to …") does not.
    if "bad row" not in result.stderr or not _ROW.search(result.stderr) or not oracle.rows_known:
        return
    reported = {int(m) for m in _ROW.findall(result.stderr)}
    allowed = set(oracle.bad_rows) | set(oracle.maybe_bad_rows)
    for row in sorted(reported - allowed)[:3]:
        line = next((x for x in result.stderr.splitlines() if x.strip().startswith(f"row {row},")), "")
        why = oracle.row_labels.get(row) or ("unlabelled",)
        fail("valid-row-reported", "+".join(_cell_labels(why)), f"reported a row the fuzzer wrote as valid: {line.strip()}", (*why, *case.labels))
    if len(allowed) <= 20:
        for row in sorted(set(oracle.bad_rows) - reported)[:3]:
            fail("bad-row-unreported", "+".join(oracle.bad_rows[row]), f"row {row} is bad but not in the report: {result.stderr[-400:]}", oracle.bad_rows[row])


def read_table(path: Path) -> tuple[object, str | None]:
    """The customer table read back from csv, parquet or xlsx, as a DataFrame (or an error)."""
    import pandas as pd

    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            import pyarrow as pa
            import pyarrow.csv as pacsv

            with path.open(newline="", encoding="utf-8") as fh:
                header = next(csv.reader(fh))
            table = pacsv.read_csv(
                path,
                convert_options=pacsv.ConvertOptions(
                    column_types={h: pa.string() for h in header}, strings_can_be_null=False
                ),
            ).to_pandas()
            frame = table
        elif suffix == ".parquet":
            import pyarrow.parquet as pq

            frame = pq.read_table(path).to_pandas()
            for column in frame.columns:
                if isinstance(frame[column].dtype, pd.CategoricalDtype):
                    frame[column] = frame[column].astype(object)
        elif suffix == ".xlsx":
            import python_calamine as pcal

            book = pcal.CalamineWorkbook.from_path(str(path))
            rows = book.get_sheet_by_name("Customers").to_python(skip_empty_area=True)
            header = [FRIENDLY.get(str(h), str(h)) for h in rows[0]]
            frame = pd.DataFrame(rows[1:], columns=header, dtype=object)
            with zipfile.ZipFile(path) as z:
                bad = z.testzip()
                if bad:
                    return None, f"bad CRC in {bad}"
                for info in z.infolist():
                    if info.filename.endswith(".xml"):
                        data = z.read(info)
                        from xml.etree import ElementTree as ET

                        ET.fromstring(data)
        else:
            return None, f"unknown output type {suffix}"
    except Exception as exc:  # the output does not read back
        return None, f"{type(exc).__name__}: {str(exc)[:300]}"
    return frame, None


def _numbers(frame, column: str):
    import numpy as np
    import pandas as pd

    values = frame[column]
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        values = values.map(lambda v: np.nan if v is None or (isinstance(v, str) and v.strip() == "") else v)
    return pd.to_numeric(values, errors="raise").to_numpy(dtype=float)


def _dates(frame, column: str):
    import pandas as pd

    values = frame[column]
    if values.dtype == object:  # a workbook's cells: a date, or what Excel would show instead
        values = values.map(lambda v: v.isoformat()[:10] if isinstance(v, (dt.date, dt.datetime)) else None if isinstance(v, dt.time) else v)
    return pd.to_datetime(values).dt.date.to_numpy()


def _check_recalc(case: Case, result: Result, before, after, root: Path, output: str, rejected: str | None, fail: Callable) -> None:
    import numpy as np
    import pandas as pd

    path = root / output
    if not path.is_file():
        fail("output-missing", Path(output).suffix.lower(), f"exit 0 but {output} is not there")
        return
    frame, error = read_table(path)
    if error:
        fail("output-unreadable", f"{Path(output).suffix.lower()}:{_norm(error, 50)}", f"{output} does not read back: {error}")
        return
    suffix = Path(output).suffix.lower()
    if suffix == ".xlsx":
        # A refreshed workbook keeps its own Transactions sheet as it was, formulas included.
        refreshed = any(str(i).lower().endswith((".xlsx", ".xlsm")) for i in case.inputs)
        _check_workbook_output(path, fail, ("Customers",) if refreshed else ("Customers", "Transactions"))
    columns = list(frame.columns)
    if columns != CUSTOMER_COLUMNS:
        fail("columns", suffix, f"columns {columns} are not {CUSTOMER_COLUMNS}")
        if not set(CUSTOMER_COLUMNS) <= set(columns):
            return
    if len(frame) == 0:
        fail("empty-table", suffix, "exit 0 with a customer table of no rows")
        return
    try:
        num = {c: _numbers(frame, c) for c in CUSTOMER_COLUMNS if c not in ("customer_id", "first_purchase", "last_purchase", "rfm", "segment", "value_tier")}
        first, last = _dates(frame, "first_purchase"), _dates(frame, "last_purchase")
    except Exception as exc:  # a number column holds text
        fail("output-types", suffix, f"a numeric or date column does not parse: {exc}")
        return
    ids = [str(v) for v in frame["customer_id"].tolist()]
    if suffix == ".csv" and case.csv_escape:
        for cid in ids:
            if cid.startswith(_FORMULA_START):
                fail("csv-injection", "id", f"customer id {cid[:40]!r} starts a formula in the CSV output")
        ids = [c[1:] if c.startswith("'") and c[1:].startswith(_FORMULA_START) else c for c in ids]
    if len(set(ids)) != len(ids):
        dupes = sorted({c for c in ids if ids.count(c) > 1})[:3]
        fail("duplicate-customer", suffix, f"customer ids appear more than once: {[d[:40] for d in dupes]}")
    quiet = "--quiet" in case.argv
    noted = NO_PREDICTION_NOTE in result.stdout
    all_nan = all(np.isnan(num[c]).all() for c in PREDICTIONS)
    spend_noted = NO_SPEND_NOTE in result.stdout
    for column, low, high in (("p_alive", 0, 1), ("clv", 0, np.inf), ("expected_purchases", 0, np.inf), ("expected_avg_value", 0, np.inf)):
        values = num[column]
        nan = np.isnan(values)
        finite = values[~nan]
        if len(finite) and (not np.isfinite(finite).all() or (finite < low - 1e-12).any() or (finite > high + 1e-12).any()):
            bad = finite[~np.isfinite(finite) | (finite < low - 1e-12) | (finite > high + 1e-12)]
            fail("range", column, f"{column} outside [{low}, {high}]: {bad[:5].tolist()}")
        spend_nan = column in SPEND_COLUMNS and (spend_noted or quiet) and nan.all()
        if nan.any() and not ((noted or quiet) and all_nan) and not spend_nan:
            fail("nan", column, f"{column} is NaN for {int(nan.sum())} of {len(values)} customers without the note '{NO_PREDICTION_NOTE}'")
    orders, frequency = num["orders"], num["frequency"]
    if np.isnan(orders).any() or (orders < 1).any() or (orders != np.floor(orders)).any():
        fail("range", "orders", f"orders not a whole number >= 1: {orders[np.isnan(orders) | (orders < 1)][:5].tolist()}")
    if (frequency < 0).any() or (frequency > orders - 1).any():
        fail("range", "frequency", "frequency (repeat purchase days) outside 0 .. orders - 1")
    for column in ("revenue", "aov", "monetary", "clv_historic", "recency", "T"):
        if not np.isfinite(num[column]).all():
            fail("range", column, f"{column} not finite: {num[column][~np.isfinite(num[column])][:5].tolist()}")
    if (num["recency"] < -1e-9).any() or (num["recency"] > num["T"] + 1e-9).any():
        fail("range", "recency", "recency outside 0 .. T")
    for column in ("r_score", "f_score", "m_score"):
        if not np.isin(num[column], [1, 2, 3, 4, 5]).all():
            fail("range", column, f"{column} outside 1-5")
    if any(pd.isna(f) or pd.isna(la) for f, la in zip(first, last, strict=True)):
        fail("range", "purchase-dates", "a first or last purchase is not a date (an Excel serial 0 shows as 00:00:00)")
    elif any(f > la for f, la in zip(first, last, strict=True)):
        fail("range", "first_purchase", "first purchase after the last")
    oracle = case.oracle
    if oracle is None:
        return
    cell_labels = {label for label in case.labels if label.split(":", 1)[0] in ("money", "date", "id", "order", "cost", "xl", "pq")}
    structure = tuple(case.labels) or ("unlabelled",)
    got = {cid: i for i, cid in enumerate(ids)}
    for cid, (alternatives, touched) in oracle.customers.items():
        why = touched or structure
        if cid not in got:
            if None not in alternatives:
                want = alternatives[0]
                fail("oracle-missing", "+".join(_cell_labels(why)), f"customer {cid[:60]!r} (revenue {want.revenue}) is not in the table", why)
            continue
        i = got[cid]
        found = (num["revenue"][i], num["orders"][i], num["frequency"][i], first[i], last[i])
        diffs = [a.differences(*found) for a in alternatives if a is not None]
        if diffs and all(diffs):
            fail("oracle-value", "+".join(_cell_labels(why)), f"customer {cid[:60]!r}: " + "; ".join(min(diffs, key=len)) + (f" (or {len(diffs) - 1} other readings)" if len(diffs) > 1 else ""), why)
    for cid in set(got) - set(oracle.customers) - oracle.maybe:
        why = sorted(cell_labels) or structure  # the class names the cell mutations; all are kept
        fail("oracle-extra", "+".join(_cell_labels(why)),
             f"customer {cid[:60]!r} is in the table but not in the log as written (revenue {num['revenue'][got[cid]]})",
             structure)
    _check_rejected(case, result, before, after, root, rejected, fail)


def _check_workbook_output(path: Path, fail: Callable, data_sheets: tuple[str, ...]) -> None:
    """A refreshed workbook has no macros or external links and no formulas in the data
    clvxl wrote (``data_sheets``)."""
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        kept = [n for n in names if "vbaProject" in n or "externalLink" in n]
        if kept:
            fail("xlsx-kept", "macros-links", f"the refreshed workbook keeps {kept[:3]}")
        from xml.etree import ElementTree as ET

        book = ET.fromstring(z.read("xl/workbook.xml"))
        rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target") for r in rels}
        for sheet in book.iter():
            if _local(sheet.tag) != "sheet" or sheet.get("name") not in data_sheets:
                continue
            rid = next(v for k, v in sheet.attrib.items() if k.endswith("}id"))
            part = "xl/" + targets[rid].lstrip("/").removeprefix("xl/")
            for ref, cell in _sheet_cells(z.read(part)).items():
                if cell["formula"] is not None:
                    fail("xlsx-formula", sheet.get("name"), f"{sheet.get('name')}!{ref} is a formula {cell['formula'][:40]!r}: data must be values")
                    break


def _check_rejected(case: Case, result: Result, before, after, root: Path, rejected: str | None, fail: Callable) -> None:
    import pandas as pd

    oracle = case.oracle
    if rejected is None:
        return
    fresh = after.get(rejected) is not None and after.get(rejected) != before.get(rejected)
    said = "set aside" in result.stdout
    if not fresh and before.get(rejected) not in (None, DIR) and after.get(rejected) == before.get(rejected) and not said and "--quiet" not in case.argv:
        fail("stale-rejected", "rejected", f"{rejected} from an earlier run is left beside the new output, which set nothing aside")
    if case.on_error != "skip":
        if oracle.bad_rows:
            for row, why in list(oracle.bad_rows.items())[:3]:
                fail("bad-accepted", "+".join(_cell_labels(why)), f"row {row} is bad, yet the run stopped for nothing (exit 0)", why)
        return
    rows: set[int] = set()
    if fresh:
        try:
            table = pd.read_csv(root / rejected, dtype=str, keep_default_na=False)
            rows = {int(r) for r in table["row"]}
        except Exception as exc:  # the rejected file does not read back
            fail("output-unreadable", "rejected", f"{rejected} does not read back: {exc}")
            return
    if not oracle.rows_known:
        if not oracle.maybe_bad_rows and len(rows) != len(oracle.bad_rows):
            fail("rejected-rows", "count", f"{len(rows)} rows set aside, {len(oracle.bad_rows)} expected")
        return
    for row, why in oracle.bad_rows.items():
        if row not in rows:
            fail("bad-accepted", "+".join(_cell_labels(why)), f"row {row} is bad but was not set aside", why)
    for row in sorted(rows - set(oracle.bad_rows) - set(oracle.maybe_bad_rows))[:3]:
        why = oracle.row_labels.get(row) or ("unlabelled",)
        fail("valid-row-rejected", "+".join(_cell_labels(why)), f"row {row} was set aside but was written valid", (*why, *case.labels))


# --- xlsx packages by hand -----------------------------------------------------------------

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def col_name(index: int) -> str:
    """0 -> A, 16383 -> XFD."""
    name = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        name = chr(65 + rem) + name
    return name


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def cell_xml(ref: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple) and value[0] == "f":  # ("f", formula, cached, kind)
        _, formula, cached, *rest = value
        kind = rest[0] if rest else None
        v = "" if cached is None else f"<v>{_esc(str(cached))}</v>"
        t = ' t="str"' if kind == "str" else ""
        return f'<c r="{ref}"{t}><f>{_esc(formula)}</f>{v}</c>'
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{_esc(str(value))}</t></is></c>'


def sheet_xml(rows: list[list[object]], dimension: str | None = None, tail_rows: str = "", table: bool = False, start_row: int = 1) -> str:
    out = [XML_HEAD, f'<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_R}">']
    if dimension:
        out.append(f'<dimension ref="{dimension}"/>')
    out.append("<sheetData>")
    for i, row in enumerate(rows):
        r = start_row + i
        cells = "".join(cell_xml(f"{col_name(j)}{r}", v) for j, v in enumerate(row))
        out.append(f'<row r="{r}">{cells}</row>')
    out.append(tail_rows)
    out.append("</sheetData>")
    if table:
        out.append('<tableParts count="1"><tablePart r:id="rId1"/></tableParts>')
    out.append("</worksheet>")
    return "".join(out)


def table_xml(ref: str, headers: list[str], name: str = "Transactions") -> str:
    cols = "".join(f'<tableColumn id="{i + 1}" name="{_esc(h)}"/>' for i, h in enumerate(headers))
    return (
        f'{XML_HEAD}<table xmlns="{NS_MAIN}" id="1" name="{name}" displayName="{name}" ref="{ref}">'
        f'<autoFilter ref="{ref}"/><tableColumns count="{len(headers)}">{cols}</tableColumns>'
        '<tableStyleInfo name="TableStyleMedium2" showFirstColumn="0" showLastColumn="0" '
        'showRowStripes="1" showColumnStripes="0"/></table>'
    )


def package(sheets: list[tuple[str, str]], tables: dict[int, str] | None = None, main_type: str | None = None) -> dict[str, bytes]:
    """The parts of a minimal workbook: ``sheets`` as (name, sheet XML), tables by sheet index."""
    tables = tables or {}
    main_type = main_type or "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    overrides = [f'<Override PartName="/xl/workbook.xml" ContentType="{main_type}"/>']
    rels = []
    entries = []
    parts: dict[str, bytes] = {}
    for i, (name, xml) in enumerate(sheets, 1):
        parts[f"xl/worksheets/sheet{i}.xml"] = xml.encode()
        overrides.append(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
        rels.append(f'<Relationship Id="rId{i}" Type="{NS_R}/worksheet" Target="worksheets/sheet{i}.xml"/>')
        entries.append(f'<sheet name="{_esc(name)}" sheetId="{i}" r:id="rId{i}"/>')
    for i, xml in tables.items():
        parts[f"xl/tables/table{i}.xml"] = xml.encode()
        overrides.append(f'<Override PartName="/xl/tables/table{i}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"/>')
        parts[f"xl/worksheets/_rels/sheet{i}.xml.rels"] = (
            f'{XML_HEAD}<Relationships xmlns="{NS_PKG}"><Relationship Id="rId1" Type="{NS_R}/table" Target="../tables/table{i}.xml"/></Relationships>'
        ).encode()
    parts["[Content_Types].xml"] = (
        f'{XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
        + "".join(overrides) + "</Types>"
    ).encode()
    parts["_rels/.rels"] = (
        f'{XML_HEAD}<Relationships xmlns="{NS_PKG}"><Relationship Id="rId1" Type="{NS_R}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ).encode()
    parts["xl/workbook.xml"] = (
        f'{XML_HEAD}<workbook xmlns="{NS_MAIN}" xmlns:r="{NS_R}"><sheets>{"".join(entries)}</sheets></workbook>'
    ).encode()
    parts["xl/_rels/workbook.xml.rels"] = (
        f'{XML_HEAD}<Relationships xmlns="{NS_PKG}">{"".join(rels)}</Relationships>'
    ).encode()
    # parts in the order Excel writes them
    order = ["[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels"]
    return {k: parts[k] for k in order} | {k: v for k, v in parts.items() if k not in order}


def zip_parts(parts: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = compression
            z.writestr(info, data)
    return buf.getvalue()


def log_rows(rng: random.Random, n: int = 30) -> list[list[object]]:
    """A small valid log as sheet rows: header, then text ids, ISO text dates, numbers."""
    rows: list[list[object]] = [["customer", "date", "amount"]]
    for i in range(n):
        d = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(400))
        rows.append([f"C{i % 9:03d}", d.isoformat(), round(rng.uniform(1, 300), 2)])
    return rows


def _bomb_file(cache: Path, unpacked: int = 1100 * MiB, filler: int = 7 * MiB) -> Path:
    """A workbook whose sheet unpacks about 1000:1 to ``unpacked`` bytes of cells (rows and
    cells without ``r`` attributes, which SpreadsheetML allows, repeat exactly), diluted by
    an incompressible ``filler`` part so that the package as a whole stays under clvxl's
    200:1. Written once per cache folder and reused.
    """
    path = cache / f"bomb3-{unpacked // MiB}-{filler // MiB}.xlsx"
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    rows = log_rows(random.Random(7), 20)
    head = sheet_xml(rows).split("</sheetData>")[0]
    row = ("<row>" + "<c><v>7</v></c>" * 200 + "</row>").encode()
    block = row * 400
    parts = package([("Transactions", "")])
    del parts["xl/worksheets/sheet1.xml"]
    tmp = path.with_suffix(".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
        sheet = zipfile.ZipInfo("xl/worksheets/sheet1.xml", (2024, 1, 1, 0, 0, 0))
        sheet.compress_type = zipfile.ZIP_DEFLATED  # a ZipInfo made by hand would be stored
        with z.open(sheet, "w", force_zip64=True) as fh:
            fh.write(head.encode())
            written = len(head)
            while written < unpacked:
                fh.write(block)
                written += len(block)
            fh.write(b"</sheetData></worksheet>")
        info = zipfile.ZipInfo("xl/media/image1.png", (2024, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_STORED
        z.writestr(info, random.Random(1).randbytes(filler))
    tmp.replace(path)
    return path


def _doctype(root: str) -> str:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE {root} [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n'
    )


def _hostile_parts(attack: str, rng: random.Random, cache: Path) -> tuple[dict[str, object], str]:
    """The input files of one hostile-workbook attack, and what to expect of it."""
    rows = log_rows(rng)
    n = len(rows)
    headers = rows[0]
    plain = sheet_xml(rows, dimension=f"A1:C{n}", table=True)
    tables = {1: table_xml(f"A1:C{n}", headers)}
    expect = "either"
    if attack == "xl:cell-XFD1048576":
        xml = sheet_xml(rows, dimension="A1:XFD1048576", table=True,
                        tail_rows='<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
        parts = package([("Transactions", xml)], tables)
    elif attack == "xl:cell-XFD1048576-sheet":
        xml = sheet_xml(rows, dimension="A1:XFD1048576",
                        tail_rows='<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
        parts = package([("Transactions", xml)])
    elif attack == "xl:cell-far-apart":  # 16384 x 10000 cells of grid from two cells
        xml = sheet_xml(rows, tail_rows='<row r="10000"><c r="XFD10000"><v>1</v></c></row>')
        parts = package([("Transactions", xml)])
    elif attack == "xl:bomb-diluted":
        return {"in/book.xlsx": ("file", str(_bomb_file(cache)))}, expect
    elif attack == "xl:table-ref-outside":
        parts = package([("Transactions", plain)], {1: table_xml("A1:C5000", headers)})
    elif attack == "xl:table-ref-wide":
        parts = package([("Transactions", plain)], {1: table_xml(f"A1:F{n}", [*headers, "x", "y", "z"])})
    elif attack == "xl:table-ref-reversed":
        parts = package([("Transactions", plain)], {1: table_xml(f"C{n}:A1", headers)})
    elif attack == "xl:table-ref-huge":
        parts = package([("Transactions", plain)], {1: table_xml("A1:C1048576", headers)})
    elif attack == "xl:table-ref-garbage":
        parts = package([("Transactions", plain)], {1: table_xml(rng.choice(["A1", "ZZ", "A0:C5", "1:3", ""]), headers)})
    elif attack == "xl:table-columns-mismatch":
        parts = package([("Transactions", plain)], {1: table_xml(f"A1:C{n}", headers[:2])})
    elif attack == "xl:no-workbook-xml":
        parts = package([("Transactions", plain)], tables)
        del parts["xl/workbook.xml"]
    elif attack == "xl:no-sheet-part":
        parts = package([("Transactions", plain)], tables)
        del parts["xl/worksheets/sheet1.xml"]
    elif attack == "xl:bad-crc":
        parts = package([("Transactions", plain)], tables)
        data = bytearray(zip_parts(parts, zipfile.ZIP_STORED))
        at = bytes(data).find(b"<sheetData>") + 20
        data[at] ^= 0x01
        return {"in/book.xlsx": bytes(data)}, expect
    elif attack == "xl:truncated":
        data = zip_parts(package([("Transactions", plain)], tables))
        return {"in/book.xlsx": data[: len(data) * 2 // 3]}, expect
    elif attack == "xl:doctype":
        xml = plain.replace(XML_HEAD, _doctype("worksheet")).replace("C000", "&c;", 1)
        parts = package([("Transactions", xml)], tables)
        expect = "refuse"
    elif attack == "xl:doctype-workbook":
        parts = package([("Transactions", plain)], tables)
        parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(XML_HEAD.encode(), _doctype("workbook").encode())
        expect = "refuse"
    elif attack == "xl:doctype-utf16":
        xml = plain.replace(XML_HEAD, _doctype("worksheet").replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')).replace("C000", "&c;", 1)
        parts = package([("Transactions", xml)], tables)
        parts["xl/worksheets/sheet1.xml"] = xml.encode("utf-16")
    elif attack == "xl:utf16-parts":
        parts = package([("Transactions", plain)], tables)
        for name in ("xl/worksheets/sheet1.xml", "xl/workbook.xml"):
            parts[name] = parts[name].decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    elif attack == "xl:macro-extlink":
        parts = package([("Transactions", plain)], tables, main_type="application/vnd.ms-excel.sheet.macroEnabled.main+xml")
        parts["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0" + rng.randbytes(2000)
        parts["xl/externalLinks/externalLink1.xml"] = (
            f'{XML_HEAD}<externalLink xmlns="{NS_MAIN}"><externalBook xmlns:r="{NS_R}" r:id="rId1"/></externalLink>'
        ).encode()
        parts["xl/externalLinks/_rels/externalLink1.xml.rels"] = (
            f'{XML_HEAD}<Relationships xmlns="{NS_PKG}"><Relationship Id="rId1" Type="{NS_R}/externalLinkPath" '
            'Target="file:///C:/secret/other.xlsx" TargetMode="External"/></Relationships>'
        ).encode()
        expect = "succeed"
    elif attack == "xl:path-traversal":
        parts = package([("Transactions", plain)], tables)
        parts["../../evil.txt"] = b"x"
        parts["/abs/evil.txt"] = b"x"
        expect = "succeed"
    elif attack == "xl:shared-strings-missing":
        xml = plain.replace('t="inlineStr"><is><t xml:space="preserve">C000</t></is>', 't="s"><v>99</v>', 1)
        parts = package([("Transactions", xml)], tables)
    elif attack == "xl:row-beyond-max":
        parts = package([("Transactions", sheet_xml(rows, tail_rows='<row r="1048577"><c r="A1048577"><v>1</v></c></row>'))])
    elif attack == "xl:deep-nesting":
        parts = package([("Transactions", plain.replace("</sheetData>", "</sheetData>" + "<x>" * 50000 + "</x>" * 50000))], tables)
    elif attack == "xl:duplicate-part":
        parts = package([("Transactions", plain)], tables)
        data = zip_parts(parts)
        buf = io.BytesIO(data)
        with zipfile.ZipFile(buf, "a") as z, contextlib.redirect_stderr(io.StringIO()), _quiet_warnings():
            z.writestr("xl/worksheets/sheet1.xml", sheet_xml(log_rows(rng, 5)))
        return {"in/book.xlsx": buf.getvalue()}, expect
    else:
        raise ValueError(attack)
    return {"in/book.xlsx": zip_parts(parts)}, expect


@contextlib.contextmanager
def _quiet_warnings():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


HOSTILE_XLSX = {
    "xl:cell-XFD1048576": 1.5, "xl:cell-XFD1048576-sheet": 1.5, "xl:cell-far-apart": 1,
    "xl:bomb-diluted": 0.3, "xl:table-ref-outside": 1, "xl:table-ref-wide": 1,
    "xl:table-ref-reversed": 1, "xl:table-ref-huge": 1, "xl:table-ref-garbage": 1,
    "xl:table-columns-mismatch": 0.7, "xl:no-workbook-xml": 1, "xl:no-sheet-part": 0.7,
    "xl:bad-crc": 1, "xl:truncated": 0.7, "xl:doctype": 0.7, "xl:doctype-workbook": 0.7,
    "xl:doctype-utf16": 0.7, "xl:utf16-parts": 0.7, "xl:macro-extlink": 0.7,
    "xl:path-traversal": 0.5, "xl:shared-strings-missing": 0.5, "xl:row-beyond-max": 0.5,
    "xl:deep-nesting": 0.3, "xl:duplicate-part": 0.5,
}


def gen_hostile_xlsx(seed: int, keep: frozenset[int] | None = None, attack: str | None = None, cache: Path | None = None) -> Case:
    """A workbook built by hand with one attack, read by ``clvxl recalc``."""
    rng = random.Random(f"{seed}:hostile")
    attack = attack or _pick(rng, HOSTILE_XLSX)
    cache = cache or Path(tempfile.gettempdir()) / "clvxl-fuzz-cache"
    files, expect = _hostile_parts(attack, rng, cache)
    output = rng.choice(["out/customers.csv", "out/customers.parquet", "out/refreshed.xlsx"])
    argv = ["recalc", "in/book.xlsx", "-o", output]
    if rng.random() < 0.5:
        argv += ["--on-error", "skip"]
    return Case(
        gen="hostile", seed=seed, kind="recalc", argv=argv, files={"out": DIR, **files},
        inputs=["in/book.xlsx"], output=output, labels=[attack], drawn=[attack], keep=keep,
        expect=expect, rejected=str(Path(output).with_name(Path(output).stem + ".rejected.csv")),
        on_error="skip" if "skip" in argv else "stop", refuse_reason="forced" if expect == "refuse" else "",
    )


# --- freeze ---------------------------------------------------------------------------------


def freeze_book(rng: random.Random) -> tuple[list[tuple[str, str]], dict]:
    """A small workbook with clvxl formulas (and cached values) on a Calculator sheet,
    other formulas beside them, a Settings sheet and a Help sheet."""
    calc: list[list[object]] = [["what", "value", "check"]]
    for i in range(2, 2 + rng.randint(3, 8)):
        fn = rng.choice(["CLV(100,0.2,0.1)", "AOV(1000,10)", "CHURN(100,80,5)", "P_ALIVE(1,2,3)", "CLV_SIMPLE(50,3,0.3)"])
        calc.append([f"row {i}", ("f", fn, round(rng.uniform(0, 500), 4)), ("f", f"SUM(B{i},1)", 1.0)])
    calc.append(["segment", ("f", "RFM_SEGMENT(5,5,5)", "Champions & co", "str"), ("f", 'UPPER("x")', "X", "str")])
    settings = [["Setting", "Value", "Key"], ["As-of date", "2024-06-30", "as_of"], ["CLV horizon (months)", 12, "horizon"]]
    helps = [["Help"], ["Recalculate customers", "text"]]
    return [("Calculator", sheet_xml(calc)), ("Settings", sheet_xml(settings)), ("Help", sheet_xml(helps))], {}


def prefixed_sheet(xml: str) -> str:
    """A sheet's XML with its SpreadsheetML elements under an ``x:`` prefix (valid XML
    that a reader matching bare element names misses)."""
    xml = xml.replace(f'<worksheet xmlns="{NS_MAIN}"', f'<x:worksheet xmlns:x="{NS_MAIN}"')
    xml = re.sub(r"<(/?)(sheetData|row|c|f|v|is|t|dimension|worksheet)\b", r"<\1x:\2", xml)
    return xml.replace("<x:x:", "<x:").replace("</x:x:", "</x:")


def _sheet_edit(parts: dict[str, bytes], index: int, edit: Callable[[str], str]) -> None:
    name = f"xl/worksheets/sheet{index}.xml"
    try:
        text = parts[name].decode("utf-8")
    except (KeyError, UnicodeDecodeError):  # gone, or re-encoded by an earlier mutation
        return
    parts[name] = edit(text).encode()


def _add_row(xml: str, row_xml: str) -> str:
    return xml.replace("</sheetData>", row_xml + "</sheetData>")


FREEZE_MUTATIONS: dict[str, float] = {
    "fz:shared-formula": 2, "fz:selfclosing-before-formula": 2, "fz:prefixed-namespace": 1,
    "fz:xludf-prefix": 1, "fz:lowercase": 0.7, "fz:array-formula": 0.7, "fz:no-cached-value": 0.7,
    "fz:nested": 0.7, "fz:selfclosing-formula-element": 0.7, "fz:macros": 1, "fz:external-link": 0.7,
    "fz:path-traversal": 0.7, "fz:no-workbook-xml": 0.7, "fz:bad-crc": 0.7, "fz:doctype": 0.7,
    "fz:utf16-sheet": 0.7, "fz:not-zip": 0.5, "fz:input-dir": 0.3, "fz:same-output": 0.3,
    "fz:missing-output-folder": 0.3, "fz:settings-XFD1048576": 0.7, "fz:bomb-diluted": 0.2,
    "fz:no-help": 0.5, "fz:empty-help": 0.5, "fz:template": 0.7, "fz:cdata": 0.5, "fz:no-rels": 0.5,
}


def _freeze_mutate(name: str, rng: random.Random, parts: dict[str, bytes], state: dict) -> None:
    calc = 1
    if name == "fz:shared-formula":
        rows = (
            '<row r="40"><c r="B40"><f t="shared" ref="B40:B42" si="0">CLV(A40,0.2,0.1)</f><v>10</v></c></row>'
            '<row r="41"><c r="B41"><f t="shared" si="0"/><v>20</v></c></row>'
            '<row r="42"><c r="B42"><f t="shared" si="0"/><v>30</v></c></row>'
        )
        _sheet_edit(parts, calc, lambda x: _add_row(x, rows))
    elif name == "fz:selfclosing-before-formula":
        _sheet_edit(parts, calc, lambda x: _add_row(x, '<row r="50"><c r="A50" s="0"/><c r="B50"><f>CLV(100,0.2,0.1)</f><v>375</v></c><c r="C50"><v>1</v></c></row>'))
    elif name == "fz:prefixed-namespace":
        _sheet_edit(parts, calc, prefixed_sheet)
    elif name == "fz:xludf-prefix":
        _sheet_edit(parts, calc, lambda x: _add_row(x, '<row r="60"><c r="B60"><f>_xludf.CLV(100,0.2,0.1)</f><v>375</v></c></row>'))
    elif name == "fz:lowercase":
        _sheet_edit(parts, calc, lambda x: _add_row(x, '<row r="61"><c r="B61"><f>clv(100,0.2,0.1)</f><v>375</v></c></row>'))
    elif name == "fz:array-formula":
        _sheet_edit(parts, calc, lambda x: _add_row(x, '<row r="62"><c r="B62"><f t="array" ref="B62:D62">RFM_SCORES(A1:A3,A1:A3,A1:A3)</f><v>5</v></c><c r="C62"><v>4</v></c><c r="D62"><v>3</v></c></row>'))
    elif name == "fz:no-cached-value":
        _sheet_edit(parts, calc, lambda x: _add_row(x, '<row r="63"><c r="B63"><f>AOV(1000,10)</f></c></row>'))
    elif name == "fz:nested":
        _sheet_edit(parts, calc, lambda x: _add_row(x, '<row r="64"><c r="B64"><f>ROUND(CLV(100,0.2,0.1),2)+AOV(1,1)</f><v>376</v></c></row>'))
    elif name == "fz:selfclosing-formula-element":
        _sheet_edit(parts, calc, lambda x: _add_row(x, '<row r="65"><c r="B65"><f/><v>7</v></c><c r="C65"><f>CLV(1,0.5,0.1)</f><v>1.5</v></c></row>'))
    elif name == "fz:cdata":
        _sheet_edit(parts, calc, lambda x: _add_row(x, '<row r="66"><c r="B66"><f><![CDATA[CLV(100,0.2,0.1)]]></f><v>375</v></c></row>'))
    elif name == "fz:macros":
        ct = parts["[Content_Types].xml"].decode().replace(
            "spreadsheetml.sheet.main+xml", "spreadsheetml.sheet.main+xml"
        ).replace("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml", "application/vnd.ms-excel.sheet.macroEnabled.main+xml")
        parts["[Content_Types].xml"] = ct.encode()
        parts["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0" + rng.randbytes(1000)
        state["input_name"] = "in/book.xlsm"
    elif name == "fz:external-link":
        parts["xl/externalLinks/externalLink1.xml"] = f'{XML_HEAD}<externalLink xmlns="{NS_MAIN}"/>'.encode()
        parts["xl/externalLinks/_rels/externalLink1.xml.rels"] = (
            f'{XML_HEAD}<Relationships xmlns="{NS_PKG}"><Relationship Id="rId1" Type="{NS_R}/externalLinkPath" Target="file:///C:/secret/other.xlsx" TargetMode="External"/></Relationships>'
        ).encode()
    elif name == "fz:path-traversal":
        parts["../../evil.txt"] = b"x"
        parts["xl/../../../evil2.txt"] = b"x"
    elif name == "fz:no-workbook-xml":
        parts.pop("xl/workbook.xml", None)
        state["expect"] = "refuse"
    elif name == "fz:no-rels":
        parts.pop("xl/_rels/workbook.xml.rels", None)
        state["expect"] = "refuse"
    elif name == "fz:bad-crc":
        state["bad_crc"] = True
        state["expect"] = "refuse"
    elif name == "fz:doctype":
        if "xl/workbook.xml" in parts:
            parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(XML_HEAD.encode(), _doctype("workbook").encode())
        state["expect"] = "refuse"
    elif name == "fz:utf16-sheet":
        key = f"xl/worksheets/sheet{calc}.xml"
        with contextlib.suppress(KeyError, UnicodeDecodeError):
            parts[key] = parts[key].decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    elif name == "fz:not-zip":
        state["raw"] = b"customer,date,amount\na,2024-01-01,1\n"
        state["expect"] = "refuse"
    elif name == "fz:input-dir":
        state["input_dir"] = True
        state["expect"] = "refuse"
    elif name == "fz:same-output":
        state["same_output"] = True
        state["expect"] = "refuse"
    elif name == "fz:missing-output-folder":
        state["output"] = "out/missing/shared.xlsx"
        state["expect"] = "refuse"
    elif name == "fz:settings-XFD1048576":
        _sheet_edit(parts, 2, lambda x: _add_row(x, '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'))
    elif name == "fz:bomb-diluted":
        state["bomb"] = True
    elif name == "fz:no-help":
        state["drop_help"] = True
    elif name == "fz:empty-help":
        _sheet_edit(parts, 3, lambda x: re.sub(r"<sheetData>.*</sheetData>", "<sheetData/>", x, flags=re.S))
    elif name == "fz:template":
        state["template"] = True


def gen_freeze(seed: int, keep: frozenset[int] | None = None, mutations: list[str] | None = None, cache: Path | None = None) -> Case:
    """A workbook with clvxl formulas, mutated, frozen with ``clvxl freeze``."""
    rng = random.Random(f"{seed}:freeze")
    drawn = mutations if mutations is not None else [_pick(rng, FREEZE_MUTATIONS) for _ in range(rng.choice([0, 1, 1, 2, 2, 3]))]
    sheets, _ = freeze_book(rng)
    state: dict[str, object] = {}
    applied = []
    parts = package(sheets)
    kept = [(i, name) for i, name in enumerate(drawn) if keep is None or i in keep]
    if any(name == "fz:template" for _, name in kept) and TEMPLATE.exists():  # the book to mutate
        with zipfile.ZipFile(TEMPLATE) as z:
            parts = {info.filename: z.read(info) for info in z.infolist()}
    for i, name in kept:
        if name == "fz:template" and not TEMPLATE.exists():
            continue
        _freeze_mutate(name, random.Random(f"{seed}:{i}:{name}"), parts, state)
        applied.append(name)
    if state.get("drop_help"):
        wb = parts.get("xl/workbook.xml", b"").decode(errors="replace")
        parts["xl/workbook.xml"] = re.sub(r'<sheet name="Help"[^>]*/>', "", wb).encode()
    input_name = str(state.get("input_name", "in/book.xlsx"))
    files: dict[str, object] = {"out": DIR}
    if state.get("bomb"):
        files[input_name] = ("file", str(_bomb_file(cache or Path(tempfile.gettempdir()) / "clvxl-fuzz-cache")))
    elif state.get("raw") is not None:
        files[input_name] = state["raw"]
    elif state.get("input_dir"):
        files[input_name] = DIR
    elif state.get("bad_crc"):
        data = bytearray(zip_parts(parts, zipfile.ZIP_STORED))
        at = bytes(data).find(b"<sheetData>") + 15
        data[at] ^= 0x01
        files[input_name] = bytes(data)
    else:
        with _quiet_warnings():
            files[input_name] = zip_parts(parts)
    output = input_name if state.get("same_output") else str(state.get("output", "out/shared.xlsx"))
    expect = str(state.get("expect", "either"))
    return Case(
        gen="freeze", seed=seed, kind="freeze", argv=["freeze", input_name, "-o", output],
        files=files, inputs=[input_name], output=output, labels=applied or ["fz:plain"],
        drawn=drawn, keep=keep, expect=expect, freeze_input=input_name,
        refuse_reason="forced" if expect == "refuse" else "",
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


_CALLS = re.compile(
    r"(?<![A-Za-z0-9_.])(?:_xludf\.)?(?:AOV|PURCHASE_FREQUENCY|COGS|GROSS_MARGIN|CHURN|RETENTION|LIFETIME|ARPU|"
    r"CUSTOMER_VALUE|CLV_SIMPLE|CLV|CAC|LTV_CAC|CAC_PAYBACK|RFM_SEGMENT|RFM_SCORES|CUSTOMERS|VALUE_TIER|P_ALIVE|"
    r"EXPECTED_PURCHASES|CLV_PREDICTED|FIT_BGNBD)\s*\(",
    re.I,
)


def _sheet_cells(xml: bytes) -> dict[str, dict]:
    """Cell ref -> {formula, shared_index, is_master, value, type} of a sheet part."""
    from xml.etree import ElementTree as ET

    root = ET.fromstring(xml)
    cells = {}
    for c in root.iter():
        if _local(c.tag) != "c":
            continue
        info = {"formula": None, "si": None, "master": False, "value": None, "type": c.get("t")}
        for child in c:
            tag = _local(child.tag)
            if tag == "f":
                info["formula"] = child.text or ""
                if child.get("t") == "shared":
                    info["si"] = child.get("si")
                    info["master"] = bool(child.text)
            elif tag == "v":
                info["value"] = child.text
            elif tag == "is":
                info["value"] = "".join(t.text or "" for t in child.iter() if _local(t.tag) == "t")
        cells[c.get("r")] = info
    return cells


#: What a copy for sharing leaves out (and says so, but for relationships and calcChain):
#: macros, links to other workbooks, the calculation chain Excel rebuilds.
_LEFT_OUT_FOR_SHARING = re.compile(r"(^|/)vba[^/]*$|^xl/externalLinks/|^xl/(_rels/)?calcChain\.xml(\.rels)?$", re.I)


def _outside_package(name: str) -> bool:
    return name.startswith("/") or "\\" in name or ":" in name or ".." in name.split("/")


def _check_freeze(case: Case, result: Result, root: Path, fail: Callable) -> None:
    path = root / case.output
    source = root / case.freeze_input
    try:
        with zipfile.ZipFile(source) as z:
            src = {info.filename: z.read(info) for info in z.infolist()}
    except Exception:  # the input is no workbook: nothing to compare
        src = {}
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
            out = {info.filename: z.read(info) for info in z.infolist()}
    except Exception as exc:  # the output does not open as a zip
        fail("output-unreadable", "freeze:zip", f"{case.output}: {exc}")
        return
    if bad:
        fail("output-unreadable", "freeze:crc", f"bad CRC in {bad}")
    for name in sorted(set(src) - set(out)):
        if not _LEFT_OUT_FOR_SHARING.search(name) and not _outside_package(name):
            fail("freeze-lost-part", "part", f"{name} of the input is not in the frozen copy")
        elif not name.endswith((".rels", "calcChain.xml")) and name not in result.stdout:
            fail("freeze-unannounced", "part", f"{name} was left out of the frozen copy without a word")
    for name in out:
        if name.startswith("/") or ".." in Path(name).parts:
            fail("freeze-traversal", "entry", f"the frozen copy has a zip entry {name!r} outside the package")
    types = out.get("[Content_Types].xml", b"").decode(errors="replace")
    if Path(case.output).suffix.lower() == ".xlsx" and ("macroEnabled" in types or "xl/vbaProject.bin" in out):
        fail("freeze-macro", "xlsx", "the frozen .xlsx keeps the macros (vbaProject.bin / macroEnabled content type): Excel refuses to open such an .xlsx")
    for name, data in out.items():
        if not name.endswith((".xml", ".rels")):
            continue
        if b"<!DOCTYPE" in data:
            continue
        try:
            from xml.etree import ElementTree as ET

            ET.fromstring(data)
        except Exception as exc:  # not well-formed
            fail("freeze-xml", _norm(type(exc).__name__), f"{name} of the frozen copy is not well-formed XML: {exc}")
            continue
        if not name.startswith("xl/worksheets/sheet"):
            continue
        cells = _sheet_cells(data)
        masters = {c["si"] for c in cells.values() if c["master"]}
        for ref, c in cells.items():
            if c["formula"] is not None and _CALLS.search(c["formula"]):
                fail("freeze-formula-left", "call", f"{name} {ref}: clvxl formula {c['formula'][:60]!r} is still there")
            if c["si"] is not None and not c["master"] and c["si"] not in masters:
                fail("freeze-orphan-shared", "si", f"{name} {ref}: shared formula si={c['si']} whose master is gone (Excel reports the file as corrupt)")
        try:
            before = _sheet_cells(src[name]) if name in src else {}
        except Exception:  # the input part did not parse either
            before = {}
        for ref, c in before.items():
            if c["formula"] is not None and _CALLS.search(c["formula"]) and c["value"] is not None:
                now = cells.get(ref)
                if now is None or now["value"] != c["value"]:
                    fail("freeze-value", "value", f"{name} {ref}: cached value {c['value']!r} became {None if now is None else now['value']!r}")
            elif c["formula"] and not _CALLS.search(c["formula"]):
                now = cells.get(ref)
                if now is None or now["formula"] != c["formula"]:
                    fail("freeze-lost-formula", "other", f"{name} {ref}: the formula {c['formula']!r} (not clvxl's) was changed")


# --- fit ------------------------------------------------------------------------------------

FIT_MUTATIONS: dict[str, float] = {
    "fit:neg-frequency": 1, "fit:recency>T": 1, "fit:T=0": 1, "fit:nan": 1, "fit:text": 1, "fit:inf": 1,
    "fit:huge": 1, "fit:frac-frequency": 1, "fit:monetary<=0": 1, "fit:all-zero-frequency": 1,
    "fit:one-row": 1, "fit:weights-zero": 0.7, "fit:weights-negative": 0.7, "fit:empty-cell": 1,
    "fit:missing-column": 0.5, "fit:frequency-too-big": 0.5,
}


def gen_fit(seed: int, keep: frozenset[int] | None = None) -> Case:
    """A per-customer summary (or a bgbb table), mutated, fitted with ``clvxl fit``."""
    rng = random.Random(f"{seed}:fit")
    model = rng.choice(["bgnbd", "bgnbd", "paretonbd", "gammagamma", "bgbb"])
    n = rng.randint(20, 120)
    rows = []
    for _ in range(n):
        T = rng.randint(10, 60)
        x = min(int(rng.expovariate(0.4)), T)
        t_x = 0 if x == 0 else rng.randint(x, T) if model == "bgbb" else round(rng.uniform(0.5, T), 2)
        rows.append({"frequency": x, "recency": t_x, "T": T, "monetary": round(rng.uniform(5, 200), 2) if x else 0, "weights": 1})
    drawn = [_pick(rng, FIT_MUTATIONS) for _ in range(rng.choice([0, 1, 1, 2]))]
    applied = []
    columns = ["frequency", "recency", "periods" if model == "bgbb" else "T", "monetary", "weights"]
    for i, name in enumerate(drawn):
        if keep is not None and i not in keep:
            continue
        r = random.Random(f"{seed}:{i}:{name}")
        row = r.choice(rows)
        applied.append(name)
        if name == "fit:neg-frequency":
            row["frequency"] = -1
        elif name == "fit:recency>T":
            row["recency"] = row["T"] + 5 if isinstance(row["T"], int) else 1e9  # T made "nan"
        elif name == "fit:T=0":
            row.update(T=0, recency=0, frequency=0)
        elif name == "fit:nan":
            row[r.choice(["frequency", "recency", "T", "monetary"])] = "nan"
        elif name == "fit:text":
            row[r.choice(["frequency", "recency", "T", "monetary"])] = "abc"
        elif name == "fit:inf":
            row[r.choice(["recency", "T", "monetary"])] = "inf"
        elif name == "fit:huge":
            row[r.choice(["frequency", "T", "monetary"])] = "1e300"
        elif name == "fit:frac-frequency":
            row["frequency"] = 1.5
        elif name == "fit:monetary<=0":
            row.update(frequency=max(1, row["frequency"]), monetary=r.choice([0, -5]))
        elif name == "fit:all-zero-frequency":
            for x in rows:
                x.update(frequency=0, recency=0, monetary=0)
        elif name == "fit:one-row":
            del rows[1:]
        elif name == "fit:weights-zero":
            for x in rows:
                x["weights"] = 0
        elif name == "fit:weights-negative":
            row["weights"] = -3
        elif name == "fit:empty-cell":
            row[r.choice(["frequency", "recency", "T"])] = ""
        elif name == "fit:missing-column":  # drawn twice: the other column, if left
            present = [c for c in ("recency", "monetary") if c in columns]
            if present:
                columns.remove(r.choice(present))
        elif name == "fit:frequency-too-big":
            row["frequency"] = row["T"] + 10
    if model == "bgbb":
        for x in rows:
            x["periods"] = x["T"]
    text = ",".join(columns) + "\n" + "".join(
        ",".join(str(x.get(c if c != "periods" else "periods", "")) for c in columns) + "\n" for x in rows
    )
    argv = ["fit", model, "in/summary.csv", "--json"]
    return Case(
        gen="fit", seed=seed, kind="fit", argv=argv, files={"in/summary.csv": text.encode()},
        inputs=["in/summary.csv"], output=None, labels=applied or ["fit:plain"], drawn=drawn,
        keep=keep, expect="either", notes=[model],
    )


def _check_fit(case: Case, result: Result, fail: Callable) -> None:
    import math

    try:
        answer = json.loads(result.stdout.strip().splitlines()[-1])
    except Exception as exc:  # no JSON printed
        fail("fit-output", "json", f"exit 0 without one JSON object: {exc}: {result.stdout[-200:]}")
        return
    params = answer.get("params", {})
    bad = {k: v for k, v in params.items() if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0)}
    if bad:
        fail("fit-params", case.notes[0] if case.notes else "?", f"parameters not finite and positive: {bad}")
    loglik = answer.get("loglik")
    if not (isinstance(loglik, (int, float)) and math.isfinite(loglik)):
        fail("fit-params", "loglik", f"log-likelihood {loglik!r}")


# --- the fuzz loop ----------------------------------------------------------------------------

#: Generator name -> (function(seed, keep) -> Case, weight).
GENERATORS: dict[str, tuple[Callable[..., Case], float]] = {
    "text": (gen_text_log, 5.0),
    "xlsx": (gen_xlsx_log, 2.0),
    "parquet": (gen_parquet_log, 1.5),
    "hostile": (gen_hostile_xlsx, 1.0),
    "freeze": (gen_freeze, 1.2),
    "fit": (gen_fit, 0.6),
}


def make_case(gen: str, seed: int, keep: frozenset[int] | None = None, cache: Path | None = None) -> Case:
    fn = GENERATORS[gen][0]
    if gen in ("hostile", "freeze"):
        return fn(seed, keep, cache=cache)
    return fn(seed, keep)


@dataclass
class Outcome:
    case: Case
    result: Result
    failures: list[Failure]


class Runner:
    """Runs cases: writes each into a fresh folder, runs it, checks it, cleans up.

    ``mode`` is ``"worker"`` (clvxl.cli.main in a long-lived limited process) or
    ``"subprocess"`` (a fresh ``python -m clvxl.cli`` per case).
    """

    def __init__(self, mode: str = "worker", limits: Limits | None = None, workdir: Path | None = None,
                 cache: Path | None = None, keep_folders: bool = False):
        self.mode = mode
        self.limits = limits or Limits()
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="clvxl-fuzz-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.cache = cache or self.workdir / "cache"
        self.keep_folders = keep_folders
        self.worker = Worker(self.limits) if mode == "worker" else None
        self.runs = 0

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()

    def run(self, case: Case) -> Outcome:
        root = Path(tempfile.mkdtemp(prefix=case.name[:40] + "-", dir=self.workdir))
        case.write(root)
        before = snapshot(root)
        limits = dataclass_replace(
            self.limits,
            seconds=min(self.limits.seconds, case.timeout),
            memory=min(self.limits.memory, case.memory or self.limits.memory),
        )
        if self.worker is not None:
            result = self.worker.run(case.argv, root, limits)
        else:
            result = run_subprocess(case.argv, root, limits)
        self.runs += 1
        after = snapshot(root)
        failures = check(case, result, before, after, root, limits)
        if not self.keep_folders:
            shutil.rmtree(root, ignore_errors=True)
        return Outcome(case, result, failures)


#: Failure kinds whose key names the mutations already (the others get them from shrinking).
LABELLED_KINDS = ("oracle-value", "oracle-missing", "oracle-extra", "bad-accepted", "bad-row-unreported",
                  "valid-row-reported", "valid-row-rejected", "input-changed", "not-refused")


def class_key(failure: Failure, minimal: Case) -> str:
    """The failure class: the failure's key, with the smallest case's mutations when the key
    does not name them."""
    if failure.kind in LABELLED_KINDS:
        return failure.key
    return f"{failure.key} <- {'+'.join(sorted(set(minimal.labels)))}"


def raw_key(failure: Failure, case: Case) -> str:
    """The failure with the case's mutations: what shrinking is done once for."""
    if failure.kind in LABELLED_KINDS:
        return failure.key
    return f"{failure.key} [{'+'.join(sorted(set(case.labels)))}]"


def core(failure: Failure) -> str:
    """What must stay the same for a smaller case to show the same failure."""
    if failure.kind in ("exception", "crash", "traceback", "exit-code", "valid-refused", "memory", "timeout") or failure.kind.startswith("freeze"):
        return failure.key
    return failure.kind


def shrink(runner: Runner, case: Case, failure: Failure, budget: int = 8) -> tuple[Case, Failure]:
    """The case with as few of its mutations as still show ``failure`` (by :func:`core`)."""
    applied = sorted(range(len(case.drawn)) if case.keep is None else case.keep)
    if len(applied) <= 1 or case.gen not in GENERATORS:
        return case, failure
    target = core(failure)

    def shows(keep: frozenset[int]) -> Failure | None:
        nonlocal budget
        if budget <= 0:
            return None
        budget -= 1
        trial = make_case(case.gen, case.seed, keep, runner.cache)
        for f in runner.run(trial).failures:
            if core(f) == target:
                return f
        return None

    for i in applied:
        found = shows(frozenset([i]))
        if found:
            return make_case(case.gen, case.seed, frozenset([i]), runner.cache), found
    current = set(applied)
    best = failure
    for i in applied:
        if len(current) <= 1:
            break
        found = shows(frozenset(current - {i}))
        if found:
            current.discard(i)
            best = found
    return make_case(case.gen, case.seed, frozenset(current), runner.cache), best


def save_case(case: Case, outcome: Outcome | None, folder: Path, rebuild: str | None = None) -> None:
    """Write a failing case where a person can rerun it: files, command, what broke."""
    folder.mkdir(parents=True, exist_ok=True)
    case.write(folder / "case")
    if rebuild is None:
        rebuild = f"--replay {case.gen}:{case.seed}" + ("" if case.keep is None else ":" + ",".join(map(str, sorted(case.keep))))
    (folder / "command.txt").write_text(
        f"cd {shlex.quote(str(folder / 'case'))} && {case.command_line()}\n"
        f"# rebuild: python tests/fuzz/run.py {rebuild} --out DIR\n"
    )
    info = {
        "case": case.name, "generator": case.gen, "seed": case.seed,
        "keep": None if case.keep is None else sorted(case.keep), "labels": case.labels,
        "notes": case.notes, "expect": case.expect, "command": case.command_line(),
    }
    if outcome is not None:
        r = outcome.result
        info |= {
            "exit_code": r.code, "signal": r.signal, "killed": r.killed, "seconds": round(r.seconds, 2),
            "peak_rss_mib": r.peak_rss // MiB, "failures": [f.to_json() for f in outcome.failures],
            "exception": r.exception,
        }
        (folder / "stdout.txt").write_text(r.stdout)
        (folder / "stderr.txt").write_text(r.stderr)
    (folder / "failure.json").write_text(json.dumps(info, indent=2, default=str))


def fuzz(runner: Runner, seeds: Iterable[tuple[str, int]], on_case: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Run the cases ``(generator, seed)`` and return those that broke a promise."""
    failing = []
    for gen, seed in seeds:
        case = make_case(gen, seed, None, runner.cache)
        outcome = runner.run(case)
        if on_case:
            on_case(outcome)
        if outcome.failures:
            failing.append(outcome)
    return failing


def seed_stream(seed: int, generators: dict[str, float] | None = None):
    """Endless (generator, seed) pairs drawn from ``seed``, by the generators' weights."""
    rng = random.Random(seed)
    weights = generators or {name: w for name, (_, w) in GENERATORS.items()}
    i = 0
    while True:
        yield _pick(rng, weights), seed * 1_000_003 + i
        i += 1


def seeded(seed: int, count: int, generators: dict[str, float] | None = None) -> list[tuple[str, int]]:
    """The first ``count`` pairs of :func:`seed_stream`."""
    stream = seed_stream(seed, generators)
    return [next(stream) for _ in range(count)]


if __name__ == "__main__" and "--worker" in sys.argv:
    _worker_main()
