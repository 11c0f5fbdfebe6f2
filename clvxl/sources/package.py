"""Workbook packages opened safely: the one reader every workbook goes through.

:func:`open_package` checks a whole .xlsx package before anything parses its XML or
hands it to calamine, and refuses, naming the part and what was expected:

* zip bombs, part by part (a bomb diluted by a large incompressible part is still a
  bomb) and in total;
* parts whose zip headers lie: every part is unpacked once, as a stream, counting what
  it really unpacks to (stopping as soon as that passes the size its header declares)
  and checking its CRC, so calamine later reads exactly what was checked;
* XML parts that declare a ``<!DOCTYPE>`` (entity expansion) or are not UTF-8 (Excel
  writes UTF-8; calamine reads a UTF-16 sheet as empty);
* a package without its workbook part, or whose sheet and table parts are missing;
* tables whose range is reversed, outside a sheet, or not as wide as their columns;
* cell references that are not cell references or lie outside a sheet.

It also measures every worksheet from the cell references in its XML stream, so that a
sheet whose cells span more than :data:`MAX_CELLS` (one stray cell at XFD1048576 makes
calamine allocate 17 billion) is refused before calamine reads it
(:meth:`Package.check_extent`). :func:`parse_package_xml` and :class:`XmlCheck` are the
project's one safe XML parser.
"""

from __future__ import annotations

import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from clvxl.errors import InputError

__all__ = [
    "MAX_CELLS",
    "Package",
    "Table",
    "XmlCheck",
    "cell_name",
    "column_name",
    "open_package",
    "parse_package_xml",
    "parse_range",
    "relationships",
    "rels_part",
]

#: Reading a workbook is bounded: at most this much unpacked in total, and no part that
#: unpacks more than ``MAX_RATIO`` times its packed size beyond ``RATIO_FROM`` bytes
#: (a sheet of one number repeated a million times packs 15 to 1).
MAX_UNPACKED = 2 * 1024**3
MAX_RATIO = 200
RATIO_FROM = 10 * 1024**2
#: The most cells a sheet may span (counted from A1 to its last row and column):
#: calamine allocates every one (about 40 bytes each), so 32 full columns take 1.3 GB.
MAX_CELLS = 32 * 1_048_576
#: A sheet's last row and column.
SHEET_ROWS, SHEET_COLUMNS = 1_048_576, 16_384
#: Parts this module parses into a tree (workbook, relationships, tables) are small.
MAX_PARSED = 16 * 1024**2

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
WORKBOOK_PART = "xl/workbook.xml"
WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
_XML_PARTS = (".xml", ".rels", ".vml")
_CHUNK = 1 << 20
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")


@dataclass(frozen=True)
class Table:
    """An Excel table (a ListObject) as its part declares it.

    Rows and columns are 0-based and inclusive; ``header_rows`` rows at the top hold the
    column names and ``totals_rows`` rows at the bottom the totals.
    """

    name: str
    sheet: str
    part: str
    first_row: int
    first_col: int
    last_row: int
    last_col: int
    columns: tuple[str, ...]
    header_rows: int = 1
    totals_rows: int = 0

    @property
    def data_rows(self) -> range:
        """The rows that hold data (not the header, not the totals)."""
        return range(self.first_row + self.header_rows, self.last_row + 1 - self.totals_rows)


@dataclass(frozen=True)
class Extent:
    """How far a sheet's cells reach: rows and columns from A1, and the farthest cell."""

    rows: int = 0
    cols: int = 0

    @property
    def cells(self) -> int:
        return self.rows * self.cols


@dataclass
class Package:
    """A checked workbook package: its parts, sheets, tables and sheet extents.

    Built by :func:`open_package`; reading a part afterwards reads what was checked.
    """

    path: Path
    parts: dict[str, zipfile.ZipInfo]
    sheets: dict[str, str]
    tables: tuple[Table, ...]
    extents: dict[str, Extent]
    unsafe_names: tuple[str, ...] = ()

    def read(self, part: str) -> bytes:
        """The unpacked bytes of one part."""
        with zipfile.ZipFile(self.path) as package:
            return package.read(self.parts[part])

    def open(self):
        """The package as a :class:`zipfile.ZipFile`, for streaming its checked parts."""
        return zipfile.ZipFile(self.path)

    def check_extent(self, sheet: str) -> None:
        """Refuse a sheet whose cells span more than :data:`MAX_CELLS`, before it is read."""
        extent = self.extents.get(self.sheets[sheet], Extent())
        if extent.cells > MAX_CELLS:
            raise InputError(
                f"{self.path.name}, sheet {sheet} spans A1:{cell_name(extent.rows - 1, extent.cols - 1)} "
                f"({extent.rows:,} rows by {extent.cols:,} columns, {extent.cells:,} cells), more "
                f"than clvxl reads from a sheet ({MAX_CELLS:,} cells); delete the cells far from "
                "the data (Ctrl+End shows the last one) or export the sheet as .csv"
            )


def open_package(path: str | Path) -> Package:
    """Check a workbook package completely and describe it; refuse what is not sound.

    Parameters
    ----------
    path : str or Path
        The .xlsx or .xlsm file.

    Returns
    -------
    Package
        Its parts (each one unpacked and checked once), its worksheets by name, its
        tables and the extent of each worksheet.

    Raises
    ------
    InputError
        Naming the file, the part and what was expected.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} does not exist" if not path.exists() else f"{path} is not a file")
    try:
        package = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise InputError(
            f"{path.name} is not an .xlsx workbook (not a zip package). A password-protected "
            "workbook is stored encrypted: remove the password in Excel, or export the "
            "Transactions sheet as .csv"
        ) from None
    with package:
        infos = package.infolist()
    key = _identity(path, infos)
    if key in _CHECKED:
        return _CHECKED[key]
    parts = _check_sizes(path, infos)
    checker = _PartChecker(path)
    for name in (WORKBOOK_PART, WORKBOOK_RELS):
        if name not in parts:
            raise InputError(
                f"{path.name} cannot be opened as an Excel workbook: it has no {name} (the "
                "part that lists its sheets); open it in Excel and save it again as .xlsx"
            )
    small = {name: checker.read_small(parts[name]) for name in (WORKBOOK_PART, WORKBOOK_RELS)}
    sheets = _sheets(path, small[WORKBOOK_PART], small[WORKBOOK_RELS], parts)
    extents = _verify_parts(path, checker, parts, skip=set(small), sheet_parts=set(sheets.values()))
    tables = tuple(_tables(path, checker, parts, sheets))
    unsafe = tuple(info.filename for info in infos if not _safe_name(info.filename))
    checked = Package(path, parts, sheets, tables, extents, unsafe)
    _CHECKED.clear()  # one workbook at a time: a run reads its log and its Settings from it
    _CHECKED[key] = checked
    return checked


def _verify_parts(
    path: Path,
    checker: _PartChecker,
    parts: dict[str, zipfile.ZipInfo],
    skip: set[str],
    sheet_parts: set[str],
) -> dict[str, Extent]:
    """Unpack and check every part once (but ``skip``); the extent of each worksheet."""
    extents = {}
    for name, info in parts.items():
        if name in skip:
            continue
        if name not in sheet_parts:
            checker.verify(info)
            continue
        scanner = _ExtentScanner(path, name)
        checker.verify(info, scanner)
        if scanner.walk_needed:  # cells without references: place them one by one
            scanner = _ExtentScanner(path, name, walk=True)
            checker.verify(info, scanner)
        extents[name] = scanner.extent()
    return extents


#: The last package checked, by :func:`_identity`: one run opens a workbook for its log and
#: again for its Settings, and checking it once is enough.
_CHECKED: dict[tuple, Package] = {}


def _identity(path: Path, infos: list[zipfile.ZipInfo]) -> tuple:
    """The file and its zip index, down to every part's CRC and sizes: a file rewritten
    since (even within one clock tick) has another identity."""
    stat = path.stat()
    index = tuple((i.filename, i.CRC, i.compress_size, i.file_size, i.header_offset) for i in infos)
    return (str(path.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns, index)


def _check_sizes(path: Path, infos: list[zipfile.ZipInfo]) -> dict[str, zipfile.ZipInfo]:
    """The parts by name, refusing bombs by their declared sizes (cheap, before unpacking)."""
    parts: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        if info.filename in parts:
            raise InputError(
                f"{path.name} holds two parts named {info.filename}, which a workbook never "
                "does (a tampered file?), so it was not opened"
            )
        parts[info.filename] = info
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FROM and ratio > MAX_RATIO:
            raise InputError(
                f"{path.name}: its part {info.filename} would unpack to "
                f"{info.file_size / 1024**2:,.0f} MB from {info.compress_size / 1024**2:,.1f} MB "
                f"({ratio:,.0f} to 1; a workbook part packs at most {MAX_RATIO} to 1); that is "
                "not a normal workbook (a zip bomb?), so it was not opened"
            )
    unpacked = sum(info.file_size for info in infos)
    if unpacked > MAX_UNPACKED:
        packed = sum(info.compress_size for info in infos)
        raise InputError(
            f"{path.name} would unpack to {unpacked / 1024**2:,.0f} MB from "
            f"{packed / 1024**2:,.1f} MB, more than clvxl opens ({MAX_UNPACKED / 1024**3:.0f} GB); "
            "that is not a normal workbook (a zip bomb?), so it was not opened"
        )
    return parts


class _PartChecker:
    """Unpacks parts as streams, checking sizes, CRCs and, for XML, encoding and DOCTYPE."""

    def __init__(self, path: Path):
        self.path = path

    def refuse(self, part: str, problem: str) -> InputError:
        return InputError(
            f"{self.path.name} is damaged: its part {part} {problem}; open it in Excel and "
            "save it again (or export the sheet as .csv)"
        )

    def read_small(self, info: zipfile.ZipInfo) -> bytes:
        """A part to parse here, whole: checked, and refused when it is not small."""
        if info.file_size > MAX_PARSED:
            raise self.refuse(
                info.filename,
                f"is {info.file_size / 1024**2:,.0f} MB, where a workbook's own lists are a "
                f"few KB (at most {MAX_PARSED / 1024**2:.0f} MB are read)",
            )
        chunks: list[bytes] = []
        self.verify(info, chunks.append)
        return b"".join(chunks)

    def verify(self, info: zipfile.ZipInfo, sink: Callable[[bytes], None] | None = None) -> None:
        """Unpack one part as a stream and check it; ``sink`` sees its bytes in order."""
        xml = info.filename.lower().endswith(_XML_PARTS)
        head, tail, checked = b"", b"", not xml
        for chunk in self._unpack(info):
            if not checked:
                head += chunk[:512]
                if len(head) >= 512:
                    self._check_encoding(info.filename, head)
                    checked = True
            if xml and b"<!DOCTYPE" in tail + chunk:
                raise InputError(
                    f"{self.path.name} declares XML entities ({info.filename} has a "
                    "<!DOCTYPE>), which Excel never writes (an entity-expansion attack?), "
                    "so it was not opened"
                )
            tail = chunk[-8:]
            if sink is not None:
                sink(chunk)
        if not checked:
            self._check_encoding(info.filename, head)

    def _unpack(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """The part's bytes, read from its local header on, bounded by its declared size."""
        if info.flag_bits & 0x1:
            raise self.refuse(info.filename, "is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise self.refuse(
                info.filename,
                f"is packed with zip method {info.compress_type}, not deflate as Excel packs it",
            )
        with open(self.path, "rb") as raw:
            raw.seek(info.header_offset)
            header = raw.read(_LOCAL_HEADER.size)
            if len(header) < _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
                raise self.refuse(info.filename, "has no zip header where the index points")
            fields = _LOCAL_HEADER.unpack(header)
            raw.seek(fields[-2] + fields[-1], 1)  # the name and the extra field
            inflate = zlib.decompressobj(-15) if info.compress_type else None
            left, size, crc = info.compress_size, 0, 0
            while True:
                if inflate is not None and inflate.unconsumed_tail:
                    packed = inflate.unconsumed_tail
                elif left > 0:
                    packed = raw.read(min(left, _CHUNK))
                    if not packed:
                        raise self.refuse(info.filename, "ends before its declared size")
                    left -= len(packed)
                elif inflate is not None and not inflate.eof:
                    packed = b""  # what zlib still holds of the last input
                else:
                    break
                try:
                    data = inflate.decompress(packed, _CHUNK) if inflate else packed
                except zlib.error as exc:
                    raise self.refuse(info.filename, f"does not unpack ({exc})") from None
                if not packed and not data:
                    break
                size += len(data)
                if size > info.file_size:
                    raise self.refuse(
                        info.filename,
                        f"unpacks to more than the {info.file_size:,} bytes its zip header "
                        "declares (lying sizes: a zip bomb?)",
                    )
                crc = zlib.crc32(data, crc)
                if data:
                    yield data
                if inflate is not None and inflate.eof:
                    break
        if size != info.file_size:
            raise self.refuse(
                info.filename,
                f"unpacks to {size:,} bytes where its zip header declares {info.file_size:,}",
            )
        if crc != info.CRC:
            raise self.refuse(info.filename, "fails its checksum (Bad CRC-32)")

    def _check_encoding(self, part: str, head: bytes) -> None:
        if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:2] in (b"<\x00", b"\x00<"):
            encoding = "UTF-16"
        else:
            declared = re.match(
                rb"(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']+)", head
            )
            encoding = declared.group(1).decode("ascii", "replace") if declared else "UTF-8"
        if encoding.replace("-", "").replace("_", "").lower() not in ("utf8", "usascii", "ascii"):
            raise InputError(
                f"{self.path.name}: its part {part} is written in {encoding}; clvxl reads "
                "workbooks as Excel writes them, in UTF-8: open it in Excel and save it again"
            )


# --- cell references ---------------------------------------------------------------------

_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")
_LETTERS = bytes(range(65, 91))


def _column_number(letters: bytes | str) -> int:
    number = 0
    for char in letters.upper() if isinstance(letters, str) else letters.upper().decode():
        number = number * 26 + ord(char) - 64
    return number


def column_name(col: int) -> str:
    """Excel's letters for the 0-based column ``col``.

    Examples
    --------
    >>> column_name(0), column_name(26), column_name(16_383)
    ('A', 'AA', 'XFD')
    """
    letters, col = "", col + 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_name(row: int, col: int) -> str:
    """The A1 name of the 0-based cell (``row``, ``col``).

    Examples
    --------
    >>> cell_name(0, 0), cell_name(1_048_575, 16_383)
    ('A1', 'XFD1048576')
    """
    return f"{column_name(col)}{row + 1}"


def _cell(text: str) -> tuple[int, int] | None:
    """The 0-based (row, column) of an A1 reference inside a sheet, else None."""
    match = _REF.fullmatch(text.strip())
    if not match:
        return None
    row, col = int(match.group(2)), _column_number(match.group(1))
    if not (1 <= row <= SHEET_ROWS and 1 <= col <= SHEET_COLUMNS):
        return None
    return row - 1, col - 1


def parse_range(text: str) -> tuple[int, int, int, int] | None:
    """An ``A1:C4`` range as 0-based (first row, first column, last row, last column).

    None when it is not a range of cells inside a sheet; a reversed range is returned
    reversed, for the caller to name.

    Examples
    --------
    >>> parse_range("A1:C4"), parse_range("B2"), parse_range("A1:XFE1")
    ((0, 0, 3, 2), (1, 1, 1, 1), None)
    """
    ends = [_cell(part) for part in text.split(":")]
    if not 1 <= len(ends) <= 2 or None in ends:
        return None
    (r0, c0), (r1, c1) = ends[0], ends[-1]
    return r0, c0, r1, c1


class _ExtentScanner:
    """Reads a worksheet's XML stream for how far its cells reach, as calamine places them.

    Calamine places a cell by its ``r`` reference, or, without one, one column right of the
    cell before it, in the row counted from the ``<row>`` tags. Excel gives every cell a
    reference, so the first pass only collects references (in C, by a regular expression);
    when it meets a cell without one (``walk_needed``), a second pass (``walk=True``)
    places the cells tag by tag.
    """

    _CELL = re.compile(
        rb"<(?:[A-Za-z_][\w.-]*:)?c(?=[\s/>])(?:[^>]*?\sr\s*=\s*[\"']([^\"']*)[\"']|)"
    )
    _TAG = re.compile(
        rb"<(?:[A-Za-z_][\w.-]*:)?(row|c)(?=[\s/>])(?:[^>]*?\sr\s*=\s*[\"']([^\"']*)[\"']|)"
    )

    _REFS = re.compile(rb"(?:[A-Za-z]{1,3}0*[1-9][0-9]{0,6} )*")

    def __init__(self, path: Path, part: str, walk: bool = False):
        self.path, self.part, self.walk = path, part, walk
        self.pending = b""
        self.rows = self.cols = 0
        self.row = self.col = -1
        self.walk_needed = False

    def __call__(self, chunk: bytes) -> None:
        # Tags never hold a "<", so everything before the last one is whole tags.
        data = self.pending + chunk
        cut = data.rfind(b"<")
        self.pending, data = (data[cut:], data[:cut]) if cut >= 0 else (b"", data)
        self._scan(data)

    def extent(self) -> Extent:
        self._scan(self.pending)
        self.pending = b""
        return Extent(self.rows, self.cols)

    def _scan(self, data: bytes) -> None:
        if self.walk:
            self._walk(data)
        elif not self.walk_needed:
            refs = self._CELL.findall(data)
            self.walk_needed = b"" in refs
            if refs and not self.walk_needed:
                self._fast(b" ".join(refs) + b" ")

    def _fast(self, refs: bytes) -> None:
        """The farthest row and column of space-separated references, in C-speed passes:
        a million references take a fraction of a second where parsing each takes seconds."""
        if not self._REFS.fullmatch(refs):
            for ref in refs.split():
                self._where(ref)  # names the first that is not a reference
        letters = set(refs.translate(None, b"0123456789").split())
        col = max(_column_number(text) for text in letters)
        row = max(map(int, set(refs.upper().translate(None, _LETTERS).split())))
        if col > SHEET_COLUMNS or row > SHEET_ROWS:
            for ref in refs.split():
                self._where(ref)  # names the first outside the sheet
        self._reach(row - 1, col - 1)

    def _walk(self, data: bytes) -> None:
        for tag, ref in self._TAG.findall(data):
            if tag == b"row":
                self.row, self.col = (self._row(ref) if ref else self.row + 1), -1
                continue
            row, self.col = self._where(ref) if ref else (self.row, self.col + 1)
            self._reach(row, self.col)

    def _reach(self, row: int, col: int) -> None:
        if row >= SHEET_ROWS or col >= SHEET_COLUMNS:
            self._outside(cell_name(row, col))
        self.rows, self.cols = max(self.rows, row + 1), max(self.cols, col + 1)

    def _where(self, ref: bytes) -> tuple[int, int]:
        text = ref.decode("ascii", "replace")
        cell = _cell(text) if "$" not in text else None
        if cell is None:
            self._outside(text)
        return cell

    def _row(self, ref: bytes) -> int:
        text = ref.decode("ascii", "replace").strip()
        if not text.isdigit() or not 1 <= int(text) <= SHEET_ROWS:
            raise InputError(
                f"{self.path.name}: its part {self.part} has a row numbered {text!r}; rows are "
                f"numbered 1 to {SHEET_ROWS:,}, so the workbook was not opened"
            )
        return int(text) - 1

    def _outside(self, text: str) -> None:
        raise InputError(
            f"{self.path.name}: its part {self.part} has a cell at {text!r}, which is not a "
            f"cell of a sheet (A1 to {cell_name(SHEET_ROWS - 1, SHEET_COLUMNS - 1)}), so the "
            "workbook was not opened"
        )


# --- the package's structure -------------------------------------------------------------


def _safe_name(name: str) -> bool:
    """Whether a part name stays inside the package when extracted (no ``..``, no root)."""
    if not name or "\\" in name or "\x00" in name or name.startswith("/") or ":" in name:
        return False
    return ".." not in name.split("/")


def _target(base: str, target: str) -> str:
    """A relationship's target as a part name, relative to the part ``base``."""
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(posixpath.dirname(base)), target))


def rels_part(part: str) -> str:
    """The relationships part of ``part`` (``xl/_rels/workbook.xml.rels``)."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def relationships(path: Path, rels_name: str, data: bytes) -> list[tuple[str, str, str, bool]]:
    """A relationships part as (id, type, target part, external) rows."""
    rows = []
    for rel in _parse(path, rels_name, data):
        if rel.tag != f"{{{_PKG_REL}}}Relationship":
            continue
        external = rel.get("TargetMode", "Internal") == "External"
        target = rel.get("Target", "")
        part = target if external else _target(rels_name, target)
        rows.append((rel.get("Id", ""), rel.get("Type", ""), part, external))
    return rows


def _parse(path: Path, part: str, data: bytes):
    try:
        return parse_package_xml(data)
    except Exception as exc:  # defusedxml and expat raise several error types
        raise InputError(
            f"{path.name} is damaged: its part {part} is not well-formed XML ({exc}); open it in "
            "Excel and save it again"
        ) from None


def _sheets(
    path: Path, workbook: bytes, rels: bytes, parts: dict[str, zipfile.ZipInfo]
) -> dict[str, str]:
    """Worksheet name → its part, in the workbook's order."""
    targets = {
        rid: part
        for rid, kind, part, external in relationships(path, WORKBOOK_RELS, rels)
        if kind.endswith("/worksheet") and not external
    }
    sheets = {}
    listing = _parse(path, WORKBOOK_PART, workbook).find(f"{{{_MAIN}}}sheets")
    for sheet in listing if listing is not None else ():
        part = targets.get(sheet.get(f"{{{_REL}}}id", ""))
        if part is None:
            continue  # a chart sheet or a dialog sheet: no cells to read
        name = sheet.get("name", "")
        if part not in parts:
            raise InputError(
                f"{path.name} is damaged: its sheet {name} should be in the part {part}, which "
                "is not in the package; open it in Excel and save it again"
            )
        sheets[name] = part
    return sheets


def _tables(
    path: Path, checker: _PartChecker, parts: dict[str, zipfile.ZipInfo], sheets: dict[str, str]
) -> Iterator[Table]:
    """Every table of every worksheet, its range checked against the sheet."""
    for sheet, part in sheets.items():
        rels = rels_part(part)
        if rels not in parts:
            continue
        for _, kind, target, external in relationships(path, rels, checker.read_small(parts[rels])):
            if not kind.endswith("/table") or external:
                continue
            if target not in parts:
                raise InputError(
                    f"{path.name} is damaged: sheet {sheet} has a table in the part {target}, "
                    "which is not in the package; open it in Excel and save it again"
                )
            yield _table(path, sheet, target, checker.read_small(parts[target]))


def _table(path: Path, sheet: str, part: str, data: bytes) -> Table:
    root = _parse(path, part, data)
    name = root.get("displayName") or root.get("name") or part
    ref = root.get("ref", "")
    columns = tuple(c.get("name", "") for c in root.iter(f"{{{_MAIN}}}tableColumn"))
    where = f"{path.name}, sheet {sheet}: the table {name}"
    bounds = parse_range(ref)
    if bounds is None:
        raise InputError(
            f"{where} has the range {ref!r}, which is not a range of cells inside a sheet "
            "(such as A1:C100); open the workbook in Excel and save it again"
        )
    r0, c0, r1, c1 = bounds
    if r1 < r0 or c1 < c0:
        raise InputError(
            f"{where} has the reversed range {ref} (it must run from its top-left to its "
            "bottom-right cell); open the workbook in Excel and save it again"
        )
    if len(columns) != c1 - c0 + 1:
        raise InputError(
            f"{where} spans {c1 - c0 + 1} column(s) ({ref}) but names {len(columns)} "
            f"({', '.join(columns) or 'none'}); open the workbook in Excel and save it again"
        )
    header_rows, totals_rows = _count(root, "headerRowCount", 1), _count(root, "totalsRowCount", 0)
    if header_rows + totals_rows > r1 - r0 + 1:
        raise InputError(f"{where} ({ref}) is shorter than its header and totals rows")
    return Table(name, sheet, part, r0, c0, r1, c1, columns, header_rows, totals_rows)


def _count(root, attribute: str, default: int) -> int:
    text = root.get(attribute)
    return int(text) if text is not None and text.isdigit() else default


# --- the one safe XML parser ---------------------------------------------------------------


def parse_package_xml(data: bytes):
    """An XML part of a workbook package as an element tree, refusing entity tricks.

    For the Excel edge's own reading of a package (:mod:`clvxl.excel.freeze`): the one
    safe XML parser of the project, so that no other module parses package XML itself.
    """
    from defusedxml import ElementTree

    return ElementTree.fromstring(data)


class XmlCheck:
    """Checks XML fed in pieces is well-formed and declares no DOCTYPE, without a tree.

    For parts written by clvxl: each is checked before it is put in a workbook.

    Examples
    --------
    >>> XmlCheck("x.xml").check(b"<a><b/></a>")
    >>> XmlCheck("x.xml").check(b"<a><b></a>")
    Traceback (most recent call last):
    ...
    clvxl.errors.InputError: x.xml would not be well-formed XML (mismatched tag: line 1, column 8)
    """

    def __init__(self, what: str):
        from xml.parsers import expat

        self.what, self._error = what, expat.ExpatError
        self.parser = expat.ParserCreate()
        self.parser.StartDoctypeDeclHandler = self._doctype

    def _doctype(self, *_) -> None:
        raise InputError(f"{self.what} would declare a DOCTYPE")

    def feed(self, data: bytes, final: bool = False) -> None:
        try:
            self.parser.Parse(data, final)
        except self._error as exc:
            raise InputError(f"{self.what} would not be well-formed XML ({exc})") from None

    def close(self) -> None:
        self.feed(b"", final=True)

    def check(self, data: bytes) -> None:
        """Check a whole part."""
        for start in range(0, len(data), _CHUNK):
            self.feed(data[start : start + _CHUNK])
        self.close()
