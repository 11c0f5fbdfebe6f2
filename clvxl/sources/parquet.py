"""Parquet files and folders of them (``key=value`` folder names become columns)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from clvxl.errors import InputError
from clvxl.sources.raw import LogScan, RawLog, group_batches, readable


def not_parquet(path: Path) -> str:
    """The message for a parquet file that cannot be read.

    Parameters
    ----------
    path : Path
        The file.

    Returns
    -------
    str
        The problem, in words; :func:`~clvxl.sources.raw.readable` appends Arrow's reason.

    Examples
    --------
    >>> not_parquet(Path("exports/orders.parquet"))
    'orders.parquet is not a readable parquet file'
    """
    return f"{path.name} is not a readable parquet file"


def not_one_table(path: Path) -> str:
    """The message for a folder whose parquet files do not make one table.

    Parameters
    ----------
    path : Path
        The folder.

    Returns
    -------
    str
        The problem, in words; :func:`~clvxl.sources.raw.readable` appends Arrow's reason.

    Examples
    --------
    >>> not_one_table(Path("exports"))
    'the parquet files in exports cannot be read as one table'
    """
    return f"the parquet files in {path} cannot be read as one table"


def parquet_dataset(path: Path):
    """A folder's parquet files as one pyarrow dataset, and its name for messages.

    Parameters
    ----------
    path : Path
        A folder; every ``.parquet`` file in it and its subfolders is part of the
        dataset, and ``key=value`` folder names become columns (hive partitioning).

    Returns
    -------
    dataset : pyarrow.dataset.Dataset
        The files as one dataset, in the order of their sorted paths.
    source : str
        The folder's name for messages, e.g. ``"exports/ (12 parquet files)"``.

    Raises
    ------
    InputError
        If the folder holds no ``.parquet`` file, or its files cannot be read as one
        table.
    """
    import pyarrow.dataset as ds

    files = sorted(p for p in path.rglob("*.parquet") if p.is_file())
    if not files:
        raise InputError(f"{path} is a folder without .parquet files; give a file or such a folder")
    with readable(not_one_table(path)):
        dataset = ds.dataset(
            files, format="parquet", partitioning="hive", partition_base_dir=str(path)
        )
    return dataset, f"{path.name}/ ({len(files)} parquet files)"


def read_parquet_folder(path: Path) -> RawLog:
    """Read a folder of parquet files as one transaction log.

    Parameters
    ----------
    path : Path
        A folder of ``.parquet`` files, as for :func:`parquet_dataset`.

    Returns
    -------
    RawLog
        All the files' rows as one table (``key=value`` folder names as columns),
        rows numbered from 1, named as :func:`parquet_dataset` names the folder.

    Raises
    ------
    InputError
        If the folder holds no ``.parquet`` file, or its files cannot be read as one
        table.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> root = Path(tempfile.mkdtemp())
    >>> for region, amount in (("EU", 10.0), ("US", 20.0)):
    ...     (root / f"region={region}").mkdir()
    ...     pd.DataFrame({"customer": ["A"], "amount": [amount]}).to_parquet(
    ...         root / f"region={region}" / "part.parquet")
    >>> read_parquet_folder(root).table.to_dict("list")
    {'customer': ['A', 'A'], 'amount': [10.0, 20.0], 'region': ['EU', 'US']}
    """
    dataset, source = parquet_dataset(path)
    with readable(not_one_table(path)):
        table = dataset.to_table()
    return RawLog.from_frame(table.to_pandas(), source, 1)


def scan_arrow(
    source: str, columns: list[str], open_batches: Callable, batch_rows: int, problem: str
) -> LogScan:
    """A scan of an Arrow source (a parquet file or dataset) in batches of rows.

    Parameters
    ----------
    source : str
        The source's name for messages.
    columns : list of str
        The source's column names.
    open_batches : callable
        ``open_batches(columns)`` returns an iterator of ``pyarrow.RecordBatch``
        reading only ``columns`` (all when None), from the start of the source.
    batch_rows : int
        Rows per batch of the scan (the last batch may be shorter).
    problem : str
        The message for an Arrow error while reading (see :func:`not_parquet`).

    Returns
    -------
    LogScan
        Its batches are :class:`~clvxl.sources.raw.RawLog` values with rows numbered
        from 1; an Arrow error while reading becomes an ``InputError`` starting with
        ``problem``.
    """
    def read(cols: Sequence[str] | None) -> Iterator[RawLog]:
        with readable(problem):
            yield from group_batches(
                open_batches(None if cols is None else list(cols)), batch_rows, source, 1
            )

    return LogScan(source, [str(c) for c in columns], read)
