"""The errors clvxl raises for things a user can fix.

Every message is written for a finance user: it names the argument, row or
column and says what was expected. The Excel adapter maps these classes to
Excel error values; the command line prints the message without a traceback.

=====================  ==============================  ===========
class                  raised for                      Excel value
=====================  ==============================  ===========
:class:`InputError`    an argument out of range        ``#VALUE!``
:class:`BadRowsError`  rows of a log that can't be     ``#VALUE!``
                       read (all listed at once)
:class:`ModelError`    data that cannot identify or    ``#NUM!``
                       fit a model
:class:`NoDataError`   nothing to compute from         ``#N/A``
=====================  ==============================  ===========
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BadRow", "BadRowsError", "ClvxlError", "InputError", "ModelError", "NoDataError"]


class ClvxlError(Exception):
    """Base class: a problem the user can fix, with a readable message."""

    excel_error = "#VALUE!"


class InputError(ClvxlError, ValueError):
    """An argument has the wrong type or is out of range."""


class ModelError(ClvxlError):
    """The data cannot identify the model, or the fit did not converge."""

    excel_error = "#NUM!"


class NoDataError(ClvxlError):
    """There is nothing to compute from (no rows, no customers)."""

    excel_error = "#N/A"


@dataclass(frozen=True)
class BadRow:
    """One unreadable cell of a transaction log.

    ``row`` is what the user sees: the line number in a text file (header =
    line 1) or the row number on the sheet.
    """

    row: int
    column: str
    value: object
    expected: str

    def describe(self) -> str:
        value = self.value
        if isinstance(value, str) and len(value) > 40:
            value = value[:37] + "..."
        return f"row {self.row}, column {self.column!r}: {value!r} — expected {self.expected}"


class BadRowsError(ClvxlError):
    """Some rows of a transaction log cannot be read; nothing was computed.

    The message lists every bad cell of the first ``shown`` bad rows and counts
    the other rows. ``total_rows`` is the number of bad rows in all (the list
    may hold only the first ones).
    """

    def __init__(
        self,
        bad_rows: list[BadRow],
        source: str = "the transaction log",
        total_rows: int | None = None,
        shown: int = 20,
    ):
        self.bad_rows = list(bad_rows)
        self.source = source
        rows = sorted({b.row for b in self.bad_rows})
        n = len(rows) if total_rows is None else total_rows
        listed = set(rows[:shown])
        lines = [f"{n} bad row{'s' if n != 1 else ''} in {source}; nothing was computed:"]
        lines += ["  " + b.describe() for b in self.bad_rows if b.row in listed]
        if n > len(listed):
            lines.append(f"  ... and {n - len(listed)} more bad rows")
        lines.append(
            "Fix these rows, or use --on-error skip to set them aside and compute with the rest."
        )
        super().__init__("\n".join(lines))
