"""Parquet files and folders of them (``key=value`` folder names become columns)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from clvxl.errors import InputError
from clvxl.sources.raw import LogScan, RawLog, group_batches, readable


def not_parquet(path: Path) -> str:
    return f"{path.name} is not a readable parquet file"


def not_one_table(path: Path) -> str:
    return f"the parquet files in {path} cannot be read as one table"


def parquet_dataset(path: Path):
    """A folder's parquet files as one pyarrow dataset, and its name for messages."""
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
    dataset, source = parquet_dataset(path)
    with readable(not_one_table(path)):
        table = dataset.to_table()
    return RawLog.from_frame(table.to_pandas(), source, 1)


def scan_arrow(
    source: str, columns: list[str], open_batches: Callable, batch_rows: int, problem: str
) -> LogScan:
    def read(cols: Sequence[str] | None) -> Iterator[RawLog]:
        with readable(problem):
            yield from group_batches(
                open_batches(None if cols is None else list(cols)), batch_rows, source, 1
            )

    return LogScan(source, [str(c) for c in columns], read)
