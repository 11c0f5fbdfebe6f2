"""A DuckDB query's result as a log: on a database file, or on files the query reads."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path

from clvxl.errors import InputError
from clvxl.sources.raw import BATCH_ROWS, LogScan, RawLog, group_batches, header_name


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

    Parameters
    ----------
    sql : str
        A ``SELECT`` (a trailing ``;`` is allowed): it runs as a subquery, so it must be
        one query; it may read files itself, as for :func:`read_sql`.
    database : str or Path, optional
        A DuckDB database file to run the query in, opened read-only (default: an
        empty in-memory database).
    batch_rows : int, default BATCH_ROWS
        Rows per batch (the last batch may be shorter).

    Returns
    -------
    LogScan
        Its ``columns`` are the query's column names (a leading byte-order mark and
        surrounding spaces stripped); its batches are
        :class:`~clvxl.sources.raw.RawLog` values with rows numbered from 1 in the
        query's result.

    Raises
    ------
    InputError
        If ``database`` is not a file, or DuckDB cannot run the query (its first line
        of explanation), also while the batches are read.

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
    raw_name = {header_name(name): name for name in header}

    def read(columns: Sequence[str] | None) -> Iterator[RawLog]:
        names = header if columns is None else [raw_name[c] for c in columns]
        select = ", ".join('"' + name.replace('"', '""') + '"' for name in names)
        with _query_errors(), _connect(database) as con:
            reader = con.execute(f"SELECT {select} FROM ({query}) AS log").to_arrow_reader(
                batch_rows
            )
            yield from group_batches(reader, batch_rows, _query_source(database), 1)

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
