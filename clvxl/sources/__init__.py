"""Reading a transaction log from a file, as text and numbers, without judging it.

This is the only place that opens input files. It returns a :class:`RawLog`: the
table as found (header names untouched) and the row numbers the user sees (the line
of a text file, the row of a sheet), so that :mod:`clvxl.clean` can name the
exact row of every bad value. Nothing here modifies the input.

One module per kind of source: :mod:`~clvxl.sources.text` (CSV),
:mod:`~clvxl.sources.parquet`, :mod:`~clvxl.sources.database` (DuckDB queries) and
:mod:`~clvxl.sources.workbook` (.xlsx, opened through :mod:`~clvxl.sources.package`,
which refuses hostile packages); :mod:`~clvxl.sources.raw` holds the log as read.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from clvxl.errors import InputError
from clvxl.sources.database import read_sql, scan_sql
from clvxl.sources.package import Package, XmlCheck, open_package, parse_package_xml, rels_part
from clvxl.sources.parquet import (
    not_one_table,
    not_parquet,
    parquet_dataset,
    read_parquet_folder,
    scan_arrow,
)
from clvxl.sources.raw import BATCH_ROWS, DATABASES, SUPPORTED, LogScan, RawLog, readable
from clvxl.sources.text import read_csv_log, scan_csv
from clvxl.sources.workbook import find_name, read_workbook, sheet_rows

__all__ = [
    "BATCH_ROWS",
    "DATABASES",
    "SUPPORTED",
    "LogScan",
    "Package",
    "RawLog",
    "XmlCheck",
    "demo_log",
    "find_name",
    "open_package",
    "parse_package_xml",
    "read_log",
    "read_sql",
    "rels_part",
    "scan_log",
    "scan_sql",
    "sheet_rows",
]


def read_log(
    path: str | Path,
    sheet: str | None = None,
    encoding: str | None = None,
    header_row: int | None = None,
) -> RawLog:
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
    encoding : str, optional
        The encoding of a text file; default: found from its bytes (UTF-16, UTF-8,
        else Windows-1252).
    header_row : int, optional
        The sheet row of a workbook's header; default: found below any title rows.

    Returns
    -------
    RawLog
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path} does not exist")
    if path.is_dir():
        return read_parquet_folder(path)
    suffix = path.suffix.lower()
    if suffix in DATABASES:
        raise InputError(
            f"{path.name} is a database: say what to read from it with --sql "
            '"SELECT ... FROM your_table"'
        )
    if suffix in (".csv", ".txt", ".tsv"):
        return read_csv_log(path, encoding)
    if suffix == ".parquet":
        with readable(not_parquet(path)):
            table = pd.read_parquet(path)
        return RawLog.from_frame(table, path.name, first_row=1)
    if suffix in (".xlsx", ".xlsm"):
        return read_workbook(path, sheet, header_row)
    raise InputError(
        f"{path.name}: cannot read {suffix or 'files without an extension'}; "
        f"give one of {', '.join(SUPPORTED)}"
    )

def scan_log(
    path: str | Path, batch_rows: int = BATCH_ROWS, encoding: str | None = None
) -> LogScan | RawLog:
    r"""Read a log in batches of ``batch_rows`` rows where its format allows.

    A ``.csv`` file, a ``.parquet`` file and a folder of parquet files are scanned
    (:class:`LogScan`); a workbook, which holds at most 1,048,576 rows, is read whole
    (:func:`read_log`). Cleaning a scanned log (:func:`clvxl.transactions.clean_transactions`)
    keeps only the clean, compact columns of each batch, so the text of the whole log
    is never in memory at once.

    Parameters
    ----------
    path : str or Path
        The file or folder, as for :func:`read_log`.
    batch_rows : int, default BATCH_ROWS
        Rows per batch of a scanned log.
    encoding : str, optional
        The encoding of a text file; default: found from its bytes. Only a ``.csv``,
        ``.txt`` or ``.tsv`` file uses it.

    Returns
    -------
    LogScan or RawLog
        A :class:`LogScan` for a text file, a parquet file or a folder; else the whole
        log as :func:`read_log` reads it.

    Raises
    ------
    InputError
        If a file cannot be read (some only while its batches are read), ``encoding``
        is unknown, or the file type is not supported (from :func:`read_log`).
    NoDataError
        If a text file is empty.

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
        return scan_csv(path, batch_rows, encoding)
    if path.is_file() and suffix == ".parquet":
        import pyarrow.parquet as pq

        with readable(not_parquet(path)):
            columns = pq.read_schema(path).names
        return scan_arrow(
            path.name,
            columns,
            lambda cols: pq.ParquetFile(path).iter_batches(batch_rows, columns=cols),
            batch_rows,
            not_parquet(path),
        )
    if path.is_dir():
        dataset, source = parquet_dataset(path)
        return scan_arrow(
            source,
            dataset.schema.names,
            lambda cols: dataset.to_batches(columns=cols, batch_size=batch_rows),
            batch_rows,
            not_one_table(path),
        )
    return read_log(path)

def demo_log() -> RawLog:
    """The demo transaction log shipped inside the package (CDNOW, see its README).

    Returns
    -------
    RawLog
        Columns ``order_id``, ``customer_id`` (as text), ``order_date`` (as dates),
        ``quantity`` and ``amount`` (as numbers); named "the demo log" in messages.
    """
    with resources.files("clvxl").joinpath("data/demo_transactions.csv").open("rb") as fh:
        table = pd.read_csv(
            fh, dtype={"order_id": str, "customer_id": str}, parse_dates=["order_date"]
        )
    return RawLog.from_frame(table, "the demo log")
