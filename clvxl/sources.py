"""Reading a transaction log from a file, as text and numbers, without judging it.

This is the only place that opens input files. It returns a :class:`RawLog`: the
table as found (header names untouched) and the row numbers the user sees (the line
of a text file, the row of a sheet), so that :mod:`clvxl.transactions` can name the
exact row of every bad value. Nothing here modifies the input.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from clvxl.errors import InputError, NoDataError

__all__ = [
    "BATCH_ROWS",
    "LogScan",
    "RawLog",
    "demo_log",
    "parse_package_xml",
    "read_log",
    "read_sql",
    "scan_log",
    "scan_sql",
    "sheet_rows",
]

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
    """

    table: pd.DataFrame
    source: str = "the table"
    first_row: int = 2
    text_file: Path | None = None
    offset: int = 0

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
        if self.text_file is not None and _blank_lines(*_version(self.text_file)):
            lines = _data_lines(*_version(self.text_file))
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

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[RawLog]:
        """The log's rows in batches of about :data:`BATCH_ROWS`."""
        return self.read(columns)


def read_log(path: str | Path, sheet: str | None = None) -> RawLog:
    """Read a transaction log from ``.csv``, ``.parquet`` or ``.xlsx``.

    Parameters
    ----------
    path : str or Path
        The file. A CSV may use commas, semicolons or tabs (detected from the header
        line); a workbook is read from its ``Transactions`` table if it has one, else
        from the sheet ``sheet`` (default: a sheet named Transactions, else the first);
        a folder is read as one table from every ``.parquet`` file in it (subfolders
        included, ``key=value`` folder names become columns).
    sheet : str, optional
        The sheet to read from a workbook.

    Returns
    -------
    RawLog
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path} does not exist")
    if path.is_dir():
        return _read_parquet_folder(path)
    suffix = path.suffix.lower()
    if suffix in DATABASES:
        raise InputError(
            f"{path.name} is a database: say what to read from it with --sql "
            '"SELECT ... FROM your_table"'
        )
    if suffix in (".csv", ".txt", ".tsv"):
        return _read_csv(path)
    if suffix == ".parquet":
        with _readable(_not_parquet(path)):
            table = pd.read_parquet(path)
        return RawLog.from_frame(table, path.name, first_row=1)
    if suffix in (".xlsx", ".xlsm"):
        return _read_workbook(path, sheet)
    raise InputError(
        f"{path.name}: cannot read {suffix or 'files without an extension'}; "
        f"give one of {', '.join(SUPPORTED)}"
    )


def _parquet_dataset(path: Path):
    """A folder's parquet files as one pyarrow dataset, and its name for messages."""
    import pyarrow.dataset as ds

    files = sorted(p for p in path.rglob("*.parquet") if p.is_file())
    if not files:
        raise InputError(f"{path} is a folder without .parquet files; give a file or such a folder")
    with _readable(_not_one_table(path)):
        dataset = ds.dataset(
            files, format="parquet", partitioning="hive", partition_base_dir=str(path)
        )
    return dataset, f"{path.name}/ ({len(files)} parquet files)"


def _read_parquet_folder(path: Path) -> RawLog:
    dataset, source = _parquet_dataset(path)
    with _readable(_not_one_table(path)):
        table = dataset.to_table()
    return RawLog.from_frame(table.to_pandas(), source, 1)


@contextlib.contextmanager
def _readable(problem: str) -> Iterator[None]:
    """Arrow's errors on a file it cannot read, as one line: ``problem: why``.

    Reading fails where the bytes are, which for a scanned log is while its batches are
    read: wrap the iteration too, not only the opening.
    """
    import pyarrow as pa

    try:
        yield
    except pa.ArrowException as exc:
        raise InputError(f"{problem}: {exc}") from None


def _not_parquet(path: Path) -> str:
    return f"{path.name} is not a readable parquet file"


def _not_one_table(path: Path) -> str:
    return f"the parquet files in {path} cannot be read as one table"


def _not_csv(path: Path) -> str:
    return f"{path.name} is not a readable CSV file"


def read_sql(sql: str, database: str | Path | None = None) -> RawLog:
    """Read a transaction log with a DuckDB query.

    Parameters
    ----------
    sql : str
        A ``SELECT``; it may read files itself, e.g.
        ``SELECT * FROM read_parquet('exports/*.parquet')`` or ``read_csv(...)``.
    database : str or Path, optional
        A DuckDB database file to run the query in, opened read-only (default: an
        empty in-memory database).

    Returns
    -------
    RawLog
        Rows are numbered from 1 in the query's result.

    Examples
    --------
    >>> log = read_sql("SELECT 'A' AS customer, DATE '2024-01-01' AS date, 10.0 AS amount")
    >>> log.table.columns.tolist(), len(log.table)
    (['customer', 'date', 'amount'], 1)
    """
    database = _database(database)
    with _query_errors(), _connect(database) as con:
        table = con.execute(sql).fetch_df()
    return RawLog.from_frame(table, _query_source(database), first_row=1)


def scan_sql(sql: str, database: str | Path | None = None, batch_rows: int = BATCH_ROWS) -> LogScan:
    r"""Read a transaction log with a DuckDB query, in batches (see :func:`scan_log`).

    The query runs again for each pass over the log (a long log is read twice: once to
    see how its dates and decimals are written, once to clean it).

    Examples
    --------
    >>> scan = scan_sql("SELECT i AS customer, DATE '2024-01-01' AS date, 1.0 AS amount "
    ...                 "FROM range(5) t(i)", batch_rows=2)
    >>> scan.columns, [len(batch.table) for batch in scan.batches()]
    (['customer', 'date', 'amount'], [2, 2, 1])
    """
    database = _database(database)
    query = sql.strip().rstrip(";")
    with _query_errors(), _connect(database) as con:
        header = [d[0] for d in con.execute(f"SELECT * FROM ({query}) AS log LIMIT 0").description]
    raw_name = {_header_name(name): name for name in header}

    def read(columns: Sequence[str] | None) -> Iterator[RawLog]:
        names = header if columns is None else [raw_name[c] for c in columns]
        select = ", ".join('"' + name.replace('"', '""') + '"' for name in names)
        with _query_errors(), _connect(database) as con:
            reader = con.execute(f"SELECT {select} FROM ({query}) AS log").to_arrow_reader(
                batch_rows
            )
            yield from _batches(reader, batch_rows, _query_source(database), 1)

    return LogScan(_query_source(database), list(raw_name), read)


def _database(database: str | Path | None) -> Path | None:
    if database is None:
        return None
    database = Path(database)
    if not database.is_file():
        raise InputError(f"{database} does not exist")
    return database


def _connect(database: Path | None):
    """A DuckDB connection: to ``database`` read-only, or to an empty in-memory one."""
    import duckdb

    con = duckdb.connect(str(database or ":memory:"), read_only=database is not None)
    con.execute("SET enable_progress_bar = false")  # no bar drawn on the terminal
    return con


@contextlib.contextmanager
def _query_errors() -> Iterator[None]:
    """DuckDB's errors as one line for the user."""
    import duckdb

    try:
        yield
    except duckdb.Error as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise InputError(f"the query could not be run: {first_line}") from None


def _query_source(database: Path | None) -> str:
    return f"the query on {database.name}" if database is not None else "the query"


def _csv_format(path: Path) -> tuple[dict, list[str]]:
    """pyarrow's CSV options for ``path`` (encoding, delimiter) and its header names."""
    import pyarrow.csv as pacsv

    with path.open("rb") as fh:
        head = fh.read(65536)
    if not head.strip():
        raise NoDataError(f"{path.name} is empty")
    encoding = "utf8"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A cut multi-byte character at the end of the sample is not an error.
        if exc.start < len(head) - 4:
            encoding = "latin1"
    first_line = head.splitlines()[0].decode(encoding, errors="replace").lstrip("\ufeff")
    delimiter = max((",", ";", "\t", "|"), key=first_line.count)
    header = next(csv.reader([first_line], delimiter=delimiter))
    options = {
        "read_options": pacsv.ReadOptions(encoding=encoding),
        "parse_options": pacsv.ParseOptions(delimiter=delimiter),
        "convert_options": _as_text(header),
    }
    return options, [_header_name(name) for name in header]


def _as_text(header: list[str], include: list[str] | None = None):
    """Every column as text, "00123" staying "00123" (transactions.py parses the rest)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    return pacsv.ConvertOptions(
        # large_string is what pandas keeps text in: the frame then shares Arrow's memory.
        column_types={name: pa.large_string() for name in header},
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
        include_columns=include,
    )


def _header_name(name: object) -> str:
    return str(name).lstrip("\ufeff").strip()


def _read_csv(path: Path) -> RawLog:
    import pyarrow.csv as pacsv

    options, _ = _csv_format(path)
    with _readable(_not_csv(path)):
        table = pacsv.read_csv(path, **options)
    frame = table.to_pandas()
    frame.columns = [_header_name(c) for c in frame.columns]
    return RawLog(frame, path.name, 2, path)


def scan_log(path: str | Path, batch_rows: int = BATCH_ROWS) -> LogScan | RawLog:
    r"""Read a log in batches of ``batch_rows`` rows where its format allows.

    A ``.csv`` file, a ``.parquet`` file and a folder of parquet files are scanned
    (:class:`LogScan`); a workbook, which holds at most 1,048,576 rows, is read whole
    (:func:`read_log`). Cleaning a scanned log (:func:`clvxl.transactions.clean_transactions`)
    keeps only the clean, compact columns of each batch, so the text of the whole log
    is never in memory at once.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "log.csv"
    >>> _ = path.write_text("customer,date,amount\nA,2024-01-01,10\nB,2024-01-02,20\nA,2024-01-03,5\n")
    >>> scan = scan_log(path, batch_rows=2)
    >>> [(batch.offset, len(batch.table)) for batch in scan.batches()]
    [(0, 2), (2, 1)]
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if path.is_file() and suffix in (".csv", ".txt", ".tsv"):
        return _scan_csv(path, batch_rows)
    if path.is_file() and suffix == ".parquet":
        import pyarrow.parquet as pq

        with _readable(_not_parquet(path)):
            columns = pq.read_schema(path).names
        return _scan_arrow(
            path.name,
            columns,
            lambda cols: pq.ParquetFile(path).iter_batches(batch_rows, columns=cols),
            batch_rows,
            _not_parquet(path),
        )
    if path.is_dir():
        dataset, source = _parquet_dataset(path)
        return _scan_arrow(
            source,
            dataset.schema.names,
            lambda cols: dataset.to_batches(columns=cols, batch_size=batch_rows),
            batch_rows,
            _not_one_table(path),
        )
    return read_log(path)


def _scan_csv(path: Path, batch_rows: int) -> LogScan:
    import pyarrow.csv as pacsv

    options, header = _csv_format(path)
    raw_header = list(options["convert_options"].column_types)

    def read(columns: Sequence[str] | None) -> Iterator[RawLog]:
        convert = options["convert_options"]
        if columns is not None:
            convert = _as_text(raw_header, [h for h in raw_header if _header_name(h) in columns])
        with _readable(_not_csv(path)):
            reader = pacsv.open_csv(
                path,
                read_options=options["read_options"],
                parse_options=options["parse_options"],
                convert_options=convert,
            )
            yield from _batches(reader, batch_rows, path.name, 2, path)

    return LogScan(path.name, header, read)


def _scan_arrow(
    source: str, columns: list[str], open_batches: Callable, batch_rows: int, problem: str
) -> LogScan:
    def read(cols: Sequence[str] | None) -> Iterator[RawLog]:
        with _readable(problem):
            yield from _batches(
                open_batches(None if cols is None else list(cols)), batch_rows, source, 1
            )

    return LogScan(source, [str(c) for c in columns], read)


def _batches(
    record_batches, batch_rows: int, source: str, first_row: int, text_file: Path | None = None
) -> Iterator[RawLog]:
    """Group Arrow record batches into tables of ``batch_rows`` rows, as RawLogs."""
    import pyarrow as pa

    pending: list = []
    rows = offset = 0
    for record_batch in record_batches:
        pending.append(record_batch)
        rows += record_batch.num_rows
        while rows >= batch_rows:
            table = pa.Table.from_batches(pending)
            batch = _raw_batch(table.slice(0, batch_rows), source, first_row, text_file, offset)
            pending, rows = table.slice(batch_rows).to_batches(), rows - batch_rows
            del table  # holding only the batch while it is used
            yield batch
            offset += batch_rows
    if pending and (rows or not offset):  # the rest, or a log with no rows (header only)
        yield _raw_batch(pa.Table.from_batches(pending), source, first_row, text_file, offset)


def _raw_batch(table, source: str, first_row: int, text_file: Path | None, offset: int) -> RawLog:
    frame = table.to_pandas(date_as_object=False)  # dates as datetime64, not Python objects
    frame.columns = [_header_name(c) for c in frame.columns]
    return RawLog(frame, source, first_row, text_file, offset)


def _version(path: Path) -> tuple[Path, int, int]:
    """The file and its modification time and size: what the caches below are keyed on,
    so that a file rewritten in place is read again."""
    stat = path.stat()
    return path, stat.st_mtime_ns, stat.st_size


@functools.lru_cache(maxsize=4)
def _blank_lines(path: Path, _mtime: int, _size: int) -> bool:
    """Whether reading skipped empty lines: blank lines before the last line with
    content (a byte search in 1 MB steps, so cheap on the normal path)."""
    blank_seen, tail = False, b""
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            if blank_seen and chunk.strip(b"\r\n"):
                return True
            data = tail + chunk
            at = max(data.rfind(b"\n\n"), data.rfind(b"\n\r\n"))
            if at >= 0:
                if data[at:].strip(b"\r\n"):
                    return True
                blank_seen = True
            tail = data[-2:]
    return False


@functools.lru_cache(maxsize=2)
def _data_lines(path: Path, _mtime: int, _size: int) -> np.ndarray:
    """File line of each data row: line 1 is the header; blank lines are skipped.

    Only called to number rows when the file has blank lines.
    """
    with path.open("rb") as fh:
        blank = np.fromiter((not line.strip() for line in fh), dtype=bool)
    return (np.flatnonzero(~blank) + 1)[1:].astype(np.int64)


#: Reading a workbook is bounded: at most this much unpacked, and no part that
#: unpacks more than ``MAX_RATIO`` times its packed size beyond ``RATIO_FROM`` bytes.
MAX_UNPACKED = 2 * 1024**3
MAX_RATIO = 200
RATIO_FROM = 50 * 1024**2


def _check_package(path: Path) -> None:
    """Refuse what is not an .xlsx package, and zip bombs, before any XML is parsed."""
    try:
        package = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise InputError(
            f"{path.name} is not an .xlsx workbook (not a zip package). A password-protected "
            "workbook is stored encrypted: remove the password in Excel, or export the "
            "Transactions sheet as .csv"
        ) from None
    with package:
        parts = package.infolist()
        unpacked = sum(p.file_size for p in parts)
        packed = sum(p.compress_size for p in parts) or 1
        if unpacked > MAX_UNPACKED or (unpacked > RATIO_FROM and unpacked / packed > MAX_RATIO):
            raise InputError(
                f"{path.name} would unpack to {unpacked / 1024**2:,.0f} MB from {packed / 1024**2:,.1f} MB; "
                "that is not a normal workbook (a zip bomb?), so it was not opened"
            )
        for part in parts:
            if part.filename.endswith((".xml", ".rels")) and _declares_doctype(package, part):
                raise InputError(
                    f"{path.name} declares XML entities ({part.filename} has a <!DOCTYPE>), "
                    "which Excel never writes (an entity-expansion attack?), so it was not opened"
                )


def _declares_doctype(package: zipfile.ZipFile, part: zipfile.ZipInfo) -> bool:
    """Whether an XML part has a document type declaration, read in 1 MB steps."""
    tail = b""
    with package.open(part) as stream:
        while chunk := stream.read(1 << 20):
            if b"<!DOCTYPE" in tail + chunk:
                return True
            tail = chunk[-8:]
    return False


def parse_package_xml(data: bytes):
    """An XML part of a workbook package as an element tree, refusing entity tricks.

    For the Excel edge's own reading of a package (:mod:`clvxl.excel.freeze`): the one
    safe XML parser of the project, so that no other module parses package XML itself.
    """
    from defusedxml import ElementTree

    return ElementTree.fromstring(data)


def sheet_rows(path: str | Path, sheet: str) -> list[list[object]] | None:
    """The cell values of one sheet of a workbook, row by row; None when it has no such sheet.

    The package is checked first (zip bombs, entity declarations), as for a log.
    """
    import python_calamine as pc

    path = Path(path)
    _check_package(path)
    try:
        book = pc.CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several private error types
        raise InputError(f"{path.name} cannot be opened as an Excel workbook ({exc})") from None
    if sheet not in book.sheet_names:
        return None
    return book.get_sheet_by_name(sheet).to_python()


def _read_workbook(path: Path, sheet: str | None) -> RawLog:
    import python_calamine as pc

    _check_package(path)
    try:
        book = pc.CalamineWorkbook.from_path(str(path), load_tables=True)
    except Exception as exc:  # calamine raises several private error types
        raise InputError(
            f"{path.name} cannot be opened as an Excel workbook ({exc}); "
            "save it again from Excel as .xlsx"
        ) from None
    if sheet is None and "Transactions" in book.table_names:
        table = book.get_table_by_name("Transactions")
        # The sheet's values, not the table's: only the sheet reader turns date-formatted
        # cells into dates (the table reader gives their serial numbers).
        # With skip_empty_area=False the rows start at A1, like the table's coordinates.
        cells = book.get_sheet_by_name(table.sheet).to_python(skip_empty_area=False)
        (first, col0), (last, col1) = table.start, table.end
        values = [row[col0 : col1 + 1] for row in cells[first : last + 1]]
        frame = pd.DataFrame(values, columns=[str(c) for c in table.columns], dtype=object)
        return RawLog.from_frame(frame, f"{path.name}, table Transactions", first + 1)
    names = book.sheet_names
    if sheet is None:
        sheet = "Transactions" if "Transactions" in names else names[0]
    elif sheet not in names:
        raise InputError(f"{path.name} has no sheet {sheet!r}; its sheets are {', '.join(names)}")
    data = book.get_sheet_by_name(sheet)
    values = data.to_python(skip_empty_area=True)
    if not values or not any(str(v).strip() for v in values[0]):
        raise NoDataError(f"{path.name}, sheet {sheet} is empty")
    header = [str(v).strip() for v in values[0]]
    frame = pd.DataFrame(values[1:], columns=header, dtype=object)
    first_row = data.start[0] + 2 if data.start else 2
    return RawLog.from_frame(frame, f"{path.name}, sheet {sheet}", first_row)


def demo_log() -> RawLog:
    """The demo transaction log shipped inside the package (CDNOW, see its README)."""
    with resources.files("clvxl").joinpath("data/demo_transactions.csv").open("rb") as fh:
        table = pd.read_csv(
            fh, dtype={"order_id": str, "customer_id": str}, parse_dates=["order_date"]
        )
    return RawLog.from_frame(table, "the demo log")
