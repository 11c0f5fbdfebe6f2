"""Text files: CSV with commas, semicolons or tabs, read as text."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator, Sequence
from pathlib import Path

from clvxl.errors import InputError, NoDataError
from clvxl.sources.raw import LogScan, RawLog, group_batches, header_name, readable


def not_csv(path: Path) -> str:
    """The start of the message for a file Arrow cannot read as CSV.

    Parameters
    ----------
    path : Path
        The text file.

    Returns
    -------
    str
        ``"<name> is not a readable CSV file"``, the file named without its folder.

    Examples
    --------
    >>> not_csv(Path("data/orders.csv"))
    'orders.csv is not a readable CSV file'
    """
    return f"{path.name} is not a readable CSV file"

def _csv_format(path: Path, encoding: str | None = None) -> tuple[dict, list[str]]:
    """pyarrow's CSV options for ``path`` (encoding, delimiter) and its header names.

    ``encoding`` (``--encoding``) overrides the encoding found from the file's bytes.
    """
    import pyarrow.csv as pacsv

    head = _head(path)
    if not head.strip(b"\x00\r\n\t ").strip(b"\xff\xfe"):
        raise NoDataError(f"{path.name} is empty")
    encoding, delimiter, first_line = _dialect(head, encoding, path)
    header = next(csv.reader([first_line], delimiter=delimiter))
    options = {
        "read_options": pacsv.ReadOptions(encoding=encoding, block_size=_block_size(head)),
        "parse_options": pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        "convert_options": _as_text(header),
    }
    return options, [header_name(name) for name in header]


def csv_dialect(path: Path) -> tuple[str, str]:
    """The encoding and the delimiter of a text file, as it is read.

    Parameters
    ----------
    path : Path
        The text file; only its first line is read.

    Returns
    -------
    encoding : str
        As :func:`text_encoding` finds it from the file's bytes.
    delimiter : str
        Whichever of ``,``, ``;``, tab or ``|`` occurs most often on the first line.
    """
    encoding, delimiter, _ = _dialect(_head(path), None, path)
    return encoding, delimiter


def _dialect(
    head: bytes, encoding: str | None = None, path: Path | None = None
) -> tuple[str, str, str]:
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InputError(f"unknown encoding {encoding!r}; give e.g. utf-8, cp1252, utf-16") from None
    encoding = encoding or text_encoding(head)
    if encoding == "utf8" and path is not None:
        encoding = _utf8_throughout(path)
    first_line = head.decode(encoding, errors="replace").lstrip("\ufeff").splitlines()[0]
    return encoding, max((",", ";", "\t", "|"), key=first_line.count), first_line


def _utf8_throughout(path: Path) -> str:
    """``"utf8"`` when the whole file decodes as UTF-8, else the encoding of the first
    part that does not (a Latin-1 or Windows-1252 byte far down a file that starts in
    plain ASCII); read in 1 MB steps, about 30 ms for a file of a million rows."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return text_encoding(chunk[max(0, exc.start - 4096) : exc.end + 4096])
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"  # a multi-byte character cut off at the end of the file
    return "utf8"


def _head(path: Path) -> bytes:
    """The start of the file, to its first line end (however long the header is)."""
    with path.open("rb") as fh:
        head = fh.read(65536)
        while b"\n" not in head[-65536:] and (more := fh.read(1 << 20)):
            head += more
    return head


def _block_size(head: bytes) -> int:
    """Arrow's block: large enough for the header line (2 MB at least)."""
    return max(1 << 21, 2 * len(head))


def text_encoding(head: bytes) -> str:
    r"""The encoding of a text file from its first bytes: UTF-16 (Excel's "Unicode
    Text", with its byte-order mark), UTF-8, else Windows-1252 (Excel's "ANSI" in the
    West; Latin-1 where a byte has no Windows-1252 character).

    Parameters
    ----------
    head : bytes
        The first bytes of the file (at least its first line).

    Returns
    -------
    str
        A Python codec name: ``"utf-16"`` (with a byte-order mark), ``"utf-16-le"`` or
        ``"utf-16-be"`` (without one), ``"utf8"``, ``"cp1252"`` or ``"latin1"``.

    Examples
    --------
    >>> text_encoding("Kunde;Betrag\n„Müller“;12,50 €\n".encode("cp1252"))
    'cp1252'
    >>> text_encoding("customer\tamount\n".encode("utf-16"))
    'utf-16'
    """
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if len(head) > 3 and head[1::2].count(0) > len(head) // 4:  # UTF-16 without its mark
        return "utf-16-le" if head[1] == 0 else "utf-16-be"
    try:
        head.decode("utf-8")
        return "utf8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:  # a multi-byte character cut at the end of the sample
            return "utf8"
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin1"


def _as_text(header: list[str], include: list[str] | None = None):
    """Every column as text, "00123" staying "00123" (transactions.py parses the rest)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    return pacsv.ConvertOptions(
        # large_string is what pandas keeps text in: the frame then shares Arrow's memory.
        column_types={name: pa.large_string() for name in header},
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
        null_values=[""],  # "NA", "null", "#N/A" stay as written, to be named in messages
        include_columns=include,
    )

def read_csv_log(path: Path, encoding: str | None = None) -> RawLog:
    """Read a whole CSV file, every column as text.

    Parameters
    ----------
    path : Path
        The text file (comma, semicolon, tab or ``|`` delimited).
    encoding : str, optional
        A codec name (``--encoding``) overriding the encoding found from the bytes.

    Returns
    -------
    RawLog
        The table with the header names stripped, its first data row on line 2.

    Raises
    ------
    NoDataError
        If the file is empty.
    InputError
        If ``encoding`` is not a known codec, or Arrow cannot read the file.
    """
    import pyarrow.csv as pacsv

    options, _ = _csv_format(path, encoding)
    with readable(not_csv(path)):
        table = pacsv.read_csv(path, **options)
    frame = table.to_pandas()
    frame.columns = [header_name(c) for c in frame.columns]
    return RawLog(frame, path.name, 2, path)

def scan_csv(path: Path, batch_rows: int, encoding: str | None = None) -> LogScan:
    """A CSV file to be read in batches of ``batch_rows`` rows, every column as text.

    Parameters
    ----------
    path : Path
        The text file (comma, semicolon, tab or ``|`` delimited).
    batch_rows : int
        Rows per batch.
    encoding : str, optional
        A codec name (``--encoding``) overriding the encoding found from the bytes.

    Returns
    -------
    LogScan
        The header names (read now) and a reader of the batches; reading fails, if it
        does, while the batches are read.

    Raises
    ------
    NoDataError
        If the file is empty.
    InputError
        If ``encoding`` is not a known codec; while the batches are read, if Arrow
        cannot read the file.
    """
    import pyarrow.csv as pacsv

    options, header = _csv_format(path, encoding)
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
