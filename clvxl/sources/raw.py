"""The raw log: a table as read, with the row number the user sees for each row."""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from clvxl.errors import InputError

#: File types :func:`read_log` understands (and a folder of ``.parquet`` files).
SUPPORTED = (".csv", ".txt", ".tsv", ".parquet", ".xlsx", ".xlsm")
#: DuckDB database files, read with a query (:func:`read_sql`).
DATABASES = (".duckdb", ".db")
#: Rows per batch when a log is scanned (:func:`scan_log`): a log up to this size is
#: read and checked in one piece.
BATCH_ROWS = 1_000_000


@dataclass(frozen=True)
class RawLog:
    """A transaction log as read: any header names, values not yet checked.

    Attributes
    ----------
    table : DataFrame
        One row per data row of the source.
    source : str
        How to name the source in messages, e.g. ``"orders.csv"``.
    first_row : int
        The row (sheet) or line (text file) the user sees for the first data row.
    text_file : Path, optional
        For a text file: blank lines are skipped when reading, so row numbers for
        messages are recounted from the file itself (only when there is a message).
    offset : int
        Data rows of the source before this table (a batch of a scanned log).
    rows : ndarray, optional
        The row the user sees for each row of the source, when they are not consecutive
        (a log whose lines were selected or merged); overrides the above.
    notes : tuple of str
        What was done to the log on the way, in words.
    """

    table: pd.DataFrame
    source: str = "the table"
    first_row: int = 2
    text_file: Path | None = None
    offset: int = 0
    rows: np.ndarray | None = None
    notes: tuple[str, ...] = ()

    @classmethod
    def from_frame(
        cls, table: pd.DataFrame, source: str = "the table", first_row: int = 2
    ) -> RawLog:
        """Wrap a DataFrame whose first data row is row ``first_row`` for the user."""
        return cls(table.reset_index(drop=True), source, first_row)

    def row_numbers(self, positions: np.ndarray) -> np.ndarray:
        """The row or line the user sees for each 0-based position in ``table``.

        Examples
        --------
        >>> log = RawLog.from_frame(pd.DataFrame({"a": [1, 2, 3]}), first_row=5)
        >>> log.row_numbers(np.array([0, 2])).tolist()
        [5, 7]
        """
        positions = np.asarray(positions, dtype=np.int64) + self.offset
        if self.rows is not None:
            return self.rows[positions]
        if self.text_file is not None and lines_differ(*file_version(self.text_file)):
            lines = data_lines(*file_version(self.text_file))
            # More rows than lines: quoted fields span lines, so the lines do not tell.
            if len(lines) >= self.offset + len(self.table):
                return lines[positions]
        return positions + self.first_row

    def pieces(self, rows: int) -> Iterator[RawLog]:
        """This table in pieces of ``rows`` rows, each with its own ``offset``.

        Examples
        --------
        >>> log = RawLog.from_frame(pd.DataFrame({"a": [1, 2, 3]}), first_row=5)
        >>> [piece.row_numbers(np.array([0])).tolist() for piece in log.pieces(2)]
        [[5], [7]]
        """
        for start in range(0, max(len(self.table), 1), rows):
            piece = self.table.iloc[start : start + rows].reset_index(drop=True)
            yield replace(self, table=piece, offset=self.offset + start)

    @property
    def columns(self) -> list[str]:
        """The header names."""
        return [str(c) for c in self.table.columns]

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[RawLog]:
        """The table as one batch (the same interface as :meth:`LogScan.batches`)."""
        yield self if columns is None else replace(self, table=self.table[list(columns)])


@dataclass(frozen=True)
class LogScan:
    """A log read in batches of rows, so that a log of any length fits in memory.

    Attributes
    ----------
    source : str
        How to name the source in messages.
    columns : list of str
        The header names.
    read : callable
        ``read(columns)`` yields the batches as :class:`RawLog` values (each with its
        ``offset``), reading only ``columns`` (all when None); each call reads the
        source again from the start.
    """

    source: str
    columns: list[str]
    read: Callable[[Sequence[str] | None], Iterator[RawLog]]
    notes: tuple[str, ...] = ()

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[RawLog]:
        """The log's rows in batches of about :data:`BATCH_ROWS`."""
        return self.read(columns)


@contextlib.contextmanager
def readable(problem: str) -> Iterator[None]:
    """Arrow's errors on a file it cannot read, as one line: ``problem: why``.

    Reading fails where the bytes are, which for a scanned log is while its batches are
    read: wrap the iteration too, not only the opening.

    Parameters
    ----------
    problem : str
        The start of the message, e.g. ``"orders.csv is not a readable CSV file"``.

    Returns
    -------
    context manager
        Inside it, an Arrow error is raised again as :class:`~clvxl.errors.InputError`.

    Raises
    ------
    InputError
        ``problem: why`` for any ``pyarrow.ArrowException`` raised inside.
    """
    import pyarrow as pa

    try:
        yield
    except pa.ArrowException as exc:
        raise InputError(f"{problem}: {exc}") from None


def group_batches(
    record_batches, batch_rows: int, source: str, first_row: int, text_file: Path | None = None
) -> Iterator[RawLog]:
    """Group Arrow record batches into tables of ``batch_rows`` rows, as RawLogs.

    Parameters
    ----------
    record_batches : iterable of pyarrow.RecordBatch
        The batches as Arrow reads them, of any sizes.
    batch_rows : int
        Rows per table; the last table holds the rest.
    source : str
        How to name the source in messages.
    first_row : int
        The row or line the user sees for the first data row.
    text_file : Path, optional
        The text file read, for recounting line numbers (see :class:`RawLog`).

    Yields
    ------
    RawLog
        Each table with its ``offset``; one empty table for a log with no rows.
    """
    import pyarrow as pa

    pending: list = []
    rows = offset = 0
    for record_batch in record_batches:
        pending.append(record_batch)
        rows += record_batch.num_rows
        while rows >= batch_rows:
            table = pa.Table.from_batches(pending)
            batch = raw_batch(table.slice(0, batch_rows), source, first_row, text_file, offset)
            pending, rows = table.slice(batch_rows).to_batches(), rows - batch_rows
            del table  # holding only the batch while it is used
            yield batch
            offset += batch_rows
    if pending and (rows or not offset):  # the rest, or a log with no rows (header only)
        yield raw_batch(pa.Table.from_batches(pending), source, first_row, text_file, offset)


def raw_batch(table, source: str, first_row: int, text_file: Path | None, offset: int) -> RawLog:
    """An Arrow table as a :class:`RawLog`, dates as ``datetime64`` and headers stripped.

    Parameters
    ----------
    table : pyarrow.Table
        One batch of the log.
    source : str
        How to name the source in messages.
    first_row : int
        The row or line the user sees for the first data row of the source.
    text_file : Path or None
        The text file read, for recounting line numbers.
    offset : int
        Data rows of the source before this batch.

    Returns
    -------
    RawLog
    """
    frame = table.to_pandas(date_as_object=False)  # dates as datetime64, not Python objects
    frame.columns = [header_name(c) for c in frame.columns]
    return RawLog(frame, source, first_row, text_file, offset)


def header_name(name: object) -> str:
    """A header as text, without a byte-order mark or surrounding spaces.

    Parameters
    ----------
    name : object
        The header as read.

    Returns
    -------
    str

    Examples
    --------
    >>> header_name("\ufeff Customer ")
    'Customer'
    """
    return str(name).lstrip("\ufeff").strip()


def file_version(path: Path) -> tuple[Path, int, int]:
    """The file and its modification time and size: what the caches below are keyed on,
    so that a file rewritten in place is read again.

    Parameters
    ----------
    path : Path
        An existing file.

    Returns
    -------
    tuple of (Path, int, int)
        ``path``, its modification time in nanoseconds and its size in bytes.
    """
    stat = path.stat()
    return path, stat.st_mtime_ns, stat.st_size


#: An empty line in a file of LF or CRLF line ends: a line end right after another.
_BLANK_LINE = re.compile(rb"\n\r?\n")


def _blank_line_end(data: bytes) -> int | None:
    r"""Where the first empty line in ``data`` ends, or None; a line ends in CRLF, LF or
    a lone CR (old Mac files), as Python's csv reader reads them.

    Two line ends in a row are ``\n\n``, ``\n\r`` or ``\r\r`` somewhere: the LF and CRLF
    search (a literal scan) first, the lone-CR forms only where the text has a CR that
    is not in a CRLF (one regular expression for every form took five times as long on
    a 400 MB log).

    Examples
    --------
    >>> [_blank_line_end(t) for t in (b"a\r\nb\r\n", b"a\r\n\r\nb", b"a\rb\r", b"a\r\rb")]
    [None, 5, None, 3]
    """
    ends = []
    found = _BLANK_LINE.search(data)
    if found is not None:
        ends.append(found.end())
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):  # a lone CR
        at = data.find(b"\r\r")
        if at >= 0:
            ends.append(at + 2)
        at = data.find(b"\n\r")
        while at >= 0 and data[at + 2 : at + 3] == b"\n":  # LF, CRLF: the search above
            at = data.find(b"\n\r", at + 1)
        if at >= 0:
            ends.append(at + 2)
    return min(ends) if ends else None


@functools.lru_cache(maxsize=4)
def blank_lines(path: Path, _mtime: int, _size: int) -> bool:
    """Whether reading skipped empty lines: blank lines before the last line with
    content (a byte search in 1 MB steps, so cheap on the normal path).

    Parameters
    ----------
    path : Path
        The text file.
    _mtime, _size : int
        Its modification time and size (:func:`file_version`), keys of the cache only.

    Returns
    -------
    bool
    """
    wide = _utf16(path)
    if wide is not None:  # two bytes a character: the byte search would not see "\n\n"
        lines = path.read_text(encoding=wide, errors="replace").splitlines()
        content = [i for i, line in enumerate(lines) if line.strip()]
        return bool(content) and any(not line.strip() for line in lines[: content[-1]])
    # The first blank line of each step: a blank line at the very end of the file (only
    # line ends after it) must not hide one further up.
    blank_seen, tail = False, b""
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            if blank_seen and chunk.strip(b"\r\n"):
                return True
            data = tail + chunk
            end = _blank_line_end(data)
            if end is not None:
                if data[end:].strip(b"\r\n"):
                    return True
                blank_seen = True
            tail = data[-2:]
    return False


@functools.lru_cache(maxsize=4)
def lines_differ(path: Path, mtime: int, size: int) -> bool:
    """Whether a text file's records are not its lines: blank lines were skipped, or a
    quoted field spans lines (some line has an odd number of quotes).

    Parameters
    ----------
    path : Path
        The text file.
    mtime, size : int
        Its modification time and size (:func:`file_version`), keys of the cache.

    Returns
    -------
    bool
    """
    if blank_lines(path, mtime, size):
        return True
    wide = _utf16(path)
    if wide is not None:
        with path.open(encoding=wide, errors="replace", newline="") as fh:
            return any(line.count('"') % 2 for line in fh)
    with path.open("rb") as fh:
        return _odd_quotes(fh)


def _odd_quotes(fh) -> bool:
    """Whether some line of a binary file has an odd number of ``"``.

    Each 1 MB chunk keeps only its quotes and line ends (``bytes.translate``, CR read as
    LF); removing
    every ``""`` then leaves a quote exactly where a line has an odd number of them. A
    Python loop over 10 million lines took 1.3 s; this takes 0.3 s.

    Examples
    --------
    >>> import io
    >>> _odd_quotes(io.BytesIO(b'a,"b"\\n"c\\nd",e\\n')), _odd_quotes(io.BytesIO(b'"a"\\n"b"'))
    (True, False)
    """
    tail = b""  # the line the previous chunk ended in, reduced
    while chunk := fh.read(1 << 20):
        reduced = tail + chunk.translate(_CR_AS_LF, _NOT_QUOTES_OR_LINE_ENDS)
        last = reduced.rfind(b"\n") + 1
        if b'"' in reduced[:last].replace(b'""', b""):
            return True
        tail = reduced[last:].replace(b'""', b"")
    return b'"' in tail


#: Every byte but ``"``, ``\n`` and ``\r``, for ``bytes.translate`` to delete; a ``\r``
#: becomes a ``\n`` (a lone CR ends a line; CRLF then adds an empty line, no quotes).
_NOT_QUOTES_OR_LINE_ENDS = bytes(b for b in range(256) if b not in b'"\n\r')
_CR_AS_LF = bytes.maketrans(b"\r", b"\n")


def _utf16(path: Path) -> str | None:
    """The file's UTF-16 encoding, or None for a one-byte-a-character text file."""
    from clvxl.sources.text import text_encoding

    with path.open("rb") as fh:
        encoding = text_encoding(fh.read(4096))
    return encoding if encoding.startswith("utf-16") else None


@functools.lru_cache(maxsize=2)
def data_lines(path: Path, _mtime: int, _size: int) -> np.ndarray:
    """File line of each data row: line 1 is the header; blank lines are skipped, and
    a record whose quoted fields span lines is on the line it starts on.

    Only called to number rows when :func:`lines_differ`.

    Parameters
    ----------
    path : Path
        The text file.
    _mtime, _size : int
        Its modification time and size (:func:`file_version`), keys of the cache only.

    Returns
    -------
    ndarray of int64, shape (n_records,)
        The 1-based line on which each data record (header excluded) starts; records
        whose fields are all blank are skipped.
    """
    import csv

    from clvxl.sources.text import csv_dialect

    encoding, delimiter = csv_dialect(path)
    starts, end = [], 0
    with path.open(encoding=encoding, errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        for record in reader:
            if record:  # only an empty line is skipped by the reader; ",,," is a row
                starts.append(end + 1)
            end = reader.line_num
    return np.array(starts[1:], dtype=np.int64)
