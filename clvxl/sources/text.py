"""Text files: CSV with commas, semicolons or tabs, read as text."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path

from clvxl.errors import NoDataError
from clvxl.sources.raw import LogScan, RawLog, group_batches, header_name, readable


def not_csv(path: Path) -> str:
    return f"{path.name} is not a readable CSV file"


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
    return options, [header_name(name) for name in header]


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


def read_csv_log(path: Path) -> RawLog:
    import pyarrow.csv as pacsv

    options, _ = _csv_format(path)
    with readable(not_csv(path)):
        table = pacsv.read_csv(path, **options)
    frame = table.to_pandas()
    frame.columns = [header_name(c) for c in frame.columns]
    return RawLog(frame, path.name, 2, path)


def scan_csv(path: Path, batch_rows: int) -> LogScan:
    import pyarrow.csv as pacsv

    options, header = _csv_format(path)
    raw_header = list(options["convert_options"].column_types)

    def read(columns: Sequence[str] | None) -> Iterator[RawLog]:
        convert = options["convert_options"]
        if columns is not None:
            convert = _as_text(raw_header, [h for h in raw_header if header_name(h) in columns])
        with readable(not_csv(path)):
            reader = pacsv.open_csv(
                path,
                read_options=options["read_options"],
                parse_options=options["parse_options"],
                convert_options=convert,
            )
            yield from group_batches(reader, batch_rows, path.name, 2, path)

    return LogScan(path.name, header, read)
