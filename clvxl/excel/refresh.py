"""A workbook refreshed in place: clvxl's sheets rewritten, every other part kept.

``clvxl recalc book.xlsx -o out.xlsx`` writes ``out.xlsx`` as ``book.xlsx`` with only
the sheets clvxl owns (:data:`clvxl.excel.layout.OWNED_SHEETS` the book has, and
Customers) replaced; the user's sheets, defined names, comments, formats, widths,
Settings, Calculator and Transactions stay byte for byte as they were: their package
parts are copied as the compressed entries they are (:mod:`clvxl.excel.zipparts`), so
the big Transactions sheet is neither parsed nor compressed again.

How: the owned sheets are written by :func:`clvxl.excel.workbook.build_sheets` into a
scratch package (the same layout as a new workbook), then moved into the book:

- each sheet replaces the part of the sheet of that name (or is added after the
  others), with its tables, drawing and charts under fresh part names; the replaced
  sheet's tables, drawings, charts and comments are removed;
- its cell formats are added to the book's ``styles.xml`` (equal ones reused, so
  refreshing again adds nothing) and its cells point at them; its text is written as
  inline strings, so the book's shared strings stay as they are;
- the calculation chain is dropped and Excel recalculates the book on opening, so
  formulas of the user's over Customers show the new values.
"""

from __future__ import annotations

import posixpath
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from clvxl.errors import InputError
from clvxl.excel import layout, sheetxml, zipparts
from clvxl.excel.workbook import build_sheets, check_fits
from clvxl.output import write_atomic
from clvxl.recalc import RecalcResult
from clvxl.sources.package import parse_package_xml

__all__ = ["refresh_sheets", "refresh_workbook"]

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_SHEET_REL = f"{_REL}/worksheet"
#: Workbook relationships a refreshed copy drops: the calculation chain (Excel rebuilds
#: it), macros and links to other workbooks.
_DROPPED = ("/calcChain", "/vbaProject", "/externalLink")
_DROPPED_PARTS = ("xl/vbaProject", "xl/externalLinks/", "xl/calcChain")
_MACRO_BOOK = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
_BOOK = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
#: The largest part a refresh reads (workbook, relationships, styles, content types).
MAX_PART = 64 * 1024**2
#: What a replaced sheet takes with it (media may be shared, so images stay).
_SHEET_OWNED = ("/table", "/drawing", "/chart", "/comments", "/vmlDrawing", "/chartUserShapes")


def refresh_sheets(source: str | Path) -> tuple[str, ...]:
    """The sheets a refresh of ``source`` writes: the owned sheets it has, and Customers.

    Parameters
    ----------
    source : str or Path
        The workbook to refresh.

    Returns
    -------
    tuple of str
        Sheet names in the order of :data:`clvxl.excel.layout.OWNED_SHEETS`.

    Raises
    ------
    InputError
        If ``source`` is not a zip package or has no ``xl/workbook.xml``.
    """
    names = set(_Package(Path(source)).sheet_names())
    return tuple(s for s in layout.OWNED_SHEETS if s in names or s == "Customers")


def refresh_workbook(source: str | Path, target: str | Path, result: RecalcResult) -> Path:
    """Write ``target``: ``source`` with clvxl's sheets replaced by ``result``'s.

    Completely or not at all; ``source`` is only read. It must have passed
    :func:`clvxl.sources.package.check_package` (reading its log does that); the parts
    read here are bounded by :data:`MAX_PART`.

    Parameters
    ----------
    source : str or Path
        The workbook to refresh (``.xlsx`` or ``.xlsm``).
    target : str or Path
        The workbook to write.
    result : RecalcResult
        What :func:`clvxl.recalc.recalculate` computed.

    Returns
    -------
    Path
        ``target``, as :func:`clvxl.output.write_atomic` returns it.

    Raises
    ------
    InputError
        If the Customers table does not fit a sheet (:func:`check_fits`), ``source`` is
        not a workbook package, or a part it needs is missing or larger than
        :data:`MAX_PART`.
    """
    source = Path(source)
    check_fits(result.customers, "Customers")
    return write_atomic(target, lambda tmp: _refresh(source, tmp, result))


def _refresh(source: Path, target: Path, result: RecalcResult) -> None:
    book = _Package(source)
    sheets = refresh_sheets(source)
    with tempfile.TemporaryDirectory() as scratch:
        fresh_path = Path(scratch) / "sheets.xlsx"
        build_sheets(fresh_path, result, sheets, bodies=False)
        fresh = _Package(fresh_path)
        if not book.exists("xl/styles.xml"):  # optional in a package; Excel always writes it
            book.add_part(fresh, "xl/styles.xml", f"{_REL}/styles")
        styles = _merge_styles(book.text("xl/styles.xml"), fresh.text("xl/styles.xml"))
        book.put("xl/styles.xml", styles.xml)
        strings = _shared_strings(fresh)
        for i, name in enumerate(sheets, start=1):
            part = f"xl/worksheets/sheet{i}.xml"
            xml = _inline_strings(fresh.read(part), strings)
            xml = styles.remap(xml).replace(b' tabSelected="1"', b"")
            if name == "Customers":
                xml = sheetxml.with_body(xml, result.customers)
            book.put_sheet(name, xml, fresh, part, styles)
        book.finish()
        zipparts.write(target, book.zip, book.new, book.removed)


@dataclass
class _Styles:
    """The merged ``styles.xml`` and where the scratch package's formats went."""

    xml: bytes
    xfs: list[int] = field(default_factory=list)
    dxfs: list[int] = field(default_factory=list)

    def remap(self, xml: bytes) -> bytes:
        """Point a scratch sheet's cells, rows and columns at the merged formats."""
        xml = re.sub(rb'(<(?:c|row)\b[^>]*? s=")(\d+)"', lambda m: self._xf(m), xml)
        return re.sub(rb'(<col\b[^>]*? style=")(\d+)"', lambda m: self._xf(m), xml)

    def _xf(self, m: re.Match) -> bytes:
        return m[1] + str(self.xfs[int(m[2])]).encode() + b'"'

    def remap_dxfs(self, xml: bytes) -> bytes:
        return re.sub(
            rb'(DxfId=")(\d+)"', lambda m: m[1] + str(self.dxfs[int(m[2])]).encode() + b'"', xml
        )


_SECTIONS = ("numFmts", "fonts", "fills", "borders", "cellXfs", "dxfs")
_CHILD = {
    "numFmts": "numFmt",
    "fonts": "font",
    "fills": "fill",
    "borders": "border",
    "cellXfs": "xf",
    "dxfs": "dxf",
}
#: The sections' order in styles.xml (a missing one is created in its place).
_ORDER = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs")


def _children(xml: str, section: str) -> list[str]:
    """A section's child elements as text (XlsxWriter's and clvxl's own, flat XML)."""
    body = re.search(rf"<{section}\b[^>]*?(?:/>|>(.*?)</{section}>)", xml, re.S)
    if body is None or body[1] is None:
        return []
    child = _CHILD[section]
    return re.findall(rf"<{child}\b[^>]*/>|<{child}\b.*?</{child}>", body[1], re.S)


def _merge_styles(book: str, fresh: str) -> _Styles:
    """Add the scratch package's formats to the book's ``styles.xml``; equal ones reuse
    the book's index."""
    root = parse_package_xml(book.encode())
    if root.tag != f"{{{_MAIN}}}styleSheet" or not re.search(r"<(?:cellXfs|fonts)\b", book):
        raise InputError(
            "the workbook's styles part is not in the form Excel writes; open and save it in "
            "Excel once, then refresh it"
        )
    counts = {s: len(root.findall(f"{{{_MAIN}}}{s}/{{{_MAIN}}}{_CHILD[s]}")) for s in _SECTIONS}
    ids = [int(e.get("numFmtId")) for e in root.iter(f"{{{_MAIN}}}numFmt")]
    existing = {s: _children(book, s) for s in _SECTIONS}
    added: dict[str, list[str]] = {s: [] for s in _SECTIONS}
    maps: dict[str, list[int]] = {}

    def place(section: str, element: str) -> int:
        pool = existing[section] + added[section]
        if element in pool and len(existing[section]) == counts[section]:
            return pool.index(element)
        added[section].append(element)
        return counts[section] + len(added[section]) - 1

    formats = {}
    for element in _children(fresh, "numFmts"):
        old = int(re.search(r'numFmtId="(\d+)"', element)[1])
        code = re.search(r'formatCode="([^"]*)"', element)[1]
        match = re.search(rf'<numFmt numFmtId="(\d+)" formatCode="{re.escape(code)}"/>', book)
        if match:
            formats[old] = int(match[1])
            continue
        new = max([163, *ids]) + 1
        ids.append(new)
        added["numFmts"].append(f'<numFmt numFmtId="{new}" formatCode="{code}"/>')
        formats[old] = new
    for section in ("fonts", "fills", "borders", "dxfs"):
        maps[section] = [place(section, e) for e in _children(fresh, section)]
    xfs = []
    for element in _children(fresh, "cellXfs"):
        element = re.sub(
            r'(numFmtId|fontId|fillId|borderId)="(\d+)"',
            lambda m: f'{m[1]}="{_xf_ref(m, formats, maps)}"',
            element,
        )
        xfs.append(place("cellXfs", element))
    merged = book
    for section in _SECTIONS:
        if added[section]:
            merged = _append(merged, section, added[section], counts[section])
    return _Styles(merged.encode(), xfs, maps["dxfs"])


def _xf_ref(m: re.Match, formats: dict[int, int], maps: dict[str, list[int]]) -> int:
    value = int(m[2])
    if m[1] == "numFmtId":
        return formats.get(value, value)  # built-in formats keep their id
    return maps[{"fontId": "fonts", "fillId": "fills", "borderId": "borders"}[m[1]]][value]


def _append(xml: str, section: str, elements: list[str], count: int) -> str:
    text = "".join(elements)
    total = count + len(elements)
    full = re.search(rf"<{section}\b[^>]*?>(?=.*?</{section}>)", xml, re.S)
    empty = re.search(rf"<{section}\b[^>]*?/>", xml)
    if full and (not empty or full.start() < empty.start()) and not full[0].endswith("/>"):
        close = xml.index(f"</{section}>", full.end())
        xml = xml[:close] + text + xml[close:]
        return _set_count(xml, section, total)
    block = f'<{section} count="{total}">{text}</{section}>'
    if empty:
        return xml[: empty.start()] + block + xml[empty.end() :]
    after = _ORDER[_ORDER.index(section) + 1 :]
    for later in after:
        found = re.search(rf"<{later}\b", xml)
        if found:
            return xml[: found.start()] + block + xml[found.start() :]
    close = xml.rindex("</styleSheet>")
    return xml[:close] + block + xml[close:]


def _set_count(xml: str, section: str, total: int) -> str:
    opening = re.search(rf"<{section}\b[^>]*>", xml)
    tag = opening[0]
    new = (
        re.sub(r' count="\d+"', f' count="{total}"', tag)
        if "count=" in tag
        else tag.replace(f"<{section}", f'<{section} count="{total}"', 1)
    )
    return xml[: opening.start()] + new + xml[opening.end() :]


def _shared_strings(fresh: _Package) -> list[bytes]:
    if "xl/sharedStrings.xml" not in fresh.names:
        return []
    return re.findall(rb"<si>(.*?)</si>", fresh.read("xl/sharedStrings.xml"), re.S)


def _inline_strings(xml: bytes, strings: list[bytes]) -> bytes:
    """Shared-string cells of a scratch sheet as inline strings."""
    return re.sub(
        rb'<c([^>]*?) t="s"([^>]*)><v>(\d+)</v></c>',
        lambda m: (
            b"<c" + m[1] + b' t="inlineStr"' + m[2] + b"><is>" + strings[int(m[3])] + b"</is></c>"
        ),
        xml,
    )


def _rels_path(part: str) -> str:
    p = PurePosixPath(part)
    return str(p.parent / "_rels" / f"{p.name}.rels")


def _resolve(part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(part), target))


def _relative(part: str, target: str) -> str:
    return posixpath.relpath(target, posixpath.dirname(part))


class _Package:
    """A workbook package being changed: parts read from its zip, ``new`` parts
    (name → bytes) and ``removed`` part names written over it by :func:`zipparts.write`."""

    def __init__(self, path: Path):
        try:
            self.zip = zipfile.ZipFile(path)
        except zipfile.BadZipFile:
            raise InputError(f"{path.name} is not an .xlsx workbook (not a zip package)") from None
        self.names = set(self.zip.namelist())
        self.new: dict[str, bytes] = {}
        self.removed: set[str] = set()
        self.types: dict[str, str] = {}  # part → content type of the parts added
        if "xl/workbook.xml" not in self.names:
            raise InputError(
                f"{path.name} has no workbook part (xl/workbook.xml): not an Excel workbook"
            )

    def put(self, part: str, data: bytes) -> None:
        self.new[part] = data
        self.removed.discard(part)

    def read(self, part: str) -> bytes:
        if part in self.new:
            return self.new[part]
        if part in self.removed or part not in self.names:
            raise InputError(f"the workbook refers to a part it does not hold: {part}")
        if self.zip.getinfo(part).file_size > MAX_PART:
            raise InputError(
                f"the workbook's part {part} unpacks to more than {MAX_PART // 1024**2} MB, "
                "which Excel never writes; it was not refreshed"
            )
        return self.zip.read(part)

    def text(self, part: str) -> str:
        return self.read(part).decode("utf-8")

    def exists(self, part: str) -> bool:
        return part not in self.removed and (part in self.new or part in self.names)

    def rels(self, part: str) -> list[tuple[str, str, str]]:
        """(id, type, resolved target) of a part's relationships."""
        path = _rels_path(part)
        if not self.exists(path):
            return []
        root = parse_package_xml(self.read(path))
        return [
            (r.get("Id"), r.get("Type"), _resolve(part, r.get("Target")))
            for r in root.iter(f"{{{_PKG_REL}}}Relationship")
            if r.get("TargetMode") != "External"
        ]

    def sheets(self) -> list[tuple[str, str]]:
        """(name, relationship id) of the workbook's sheets, in order."""
        root = parse_package_xml(self.read("xl/workbook.xml"))
        return [(s.get("name"), s.get(f"{{{_REL}}}id")) for s in root.iter(f"{{{_MAIN}}}sheet")]

    def sheet_names(self) -> list[str]:
        return [name for name, _ in self.sheets()]

    def free(self, pattern: str) -> str:
        """An unused part name such as ``xl/tables/table7.xml`` for ``xl/tables/table{}.xml``."""
        n = 1
        while self.exists(pattern.format(n)) or pattern.format(n) in self.types:
            n += 1
        return pattern.format(n)

    def remove_tree(self, part: str) -> None:
        """Remove ``part``'s relationships file and the parts only it owns."""
        for _, kind, target in self.rels(part):
            if kind.endswith(_SHEET_OWNED) and self.exists(target):
                self.remove_tree(target)
                self.removed.add(target)
        path = _rels_path(part)
        if self.exists(path):
            self.removed.add(path)

    def put_sheet(self, name: str, xml: bytes, fresh: _Package, fresh_part: str, styles) -> None:
        """Put a scratch sheet (and its tables, drawing, charts) in as sheet ``name``."""
        wb_rels = {rid: target for rid, _, target in self.rels("xl/workbook.xml")}
        found = dict(self.sheets()).get(name)
        if found is not None:
            part = wb_rels[found]
            self.remove_tree(part)
        else:
            part = self.free("xl/worksheets/sheet{}.xml")
            self._add_sheet_entry(name, part)
        self.types[part] = fresh.content_type(fresh_part)
        self.put(part, xml)
        self._copy_rels(fresh, fresh_part, part, styles)

    def _copy_rels(self, fresh: _Package, fresh_part: str, part: str, styles) -> None:
        rels = fresh.rels(fresh_part)
        if not rels:
            return
        entries = []
        for rid, kind, target in rels:
            folder, stem = posixpath.split(target)
            pattern = posixpath.join(folder, re.sub(r"\d+\.xml$", "{}.xml", stem))
            new = self.free(pattern)
            data = fresh.read(target)
            if kind.endswith("/table"):
                data = re.sub(
                    rb'(<table\b[^>]*? id=")\d+"',
                    lambda m: m[1] + str(self._table_id()).encode() + b'"',
                    data,
                )
                data = styles.remap_dxfs(data)
            self.types[new] = fresh.content_type(target)
            self.put(new, data)
            self._copy_rels(fresh, target, new, styles)
            entries.append(
                f'<Relationship Id="{rid}" Type="{kind}" Target="{_relative(part, new)}"/>'
            )
        self.put(
            _rels_path(part),
            (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<Relationships xmlns="{_PKG_REL}">{"".join(entries)}</Relationships>'
            ).encode(),
        )

    def _table_id(self) -> int:
        """A table id no other table of the book has."""
        used = [0]
        for part in (p for p in self.names | set(self.new) if p.startswith("xl/tables/")):
            if self.exists(part) and part.endswith(".xml"):
                found = re.search(rb'<table\b[^>]*? id="(\d+)"', self.read(part))
                used.append(int(found[1]) if found else 0)
        return max(used) + 1

    def add_part(self, fresh: _Package, part: str, kind: str) -> None:
        """Put the scratch package's ``part`` in, related to the workbook as ``kind``."""
        self.types[part] = fresh.content_type(part)
        self.put(part, fresh.read(part))
        self._relate(kind, part)

    def _relate(self, kind: str, part: str) -> str:
        """A new relationship of the workbook to ``part``; its id."""
        rels_part = "xl/_rels/workbook.xml.rels"
        rels = self.text(rels_part)
        taken = {int(n) for n in re.findall(r'Id="rId(\d+)"', rels)}
        rid = f"rId{max(taken, default=0) + 1}"
        entry = f'<Relationship Id="{rid}" Type="{kind}" Target="{_relative("xl/workbook.xml", part)}"/>'
        self.put(rels_part, rels.replace("</Relationships>", entry + "</Relationships>").encode())
        return rid

    def _add_sheet_entry(self, name: str, part: str) -> None:
        rid = self._relate(_SHEET_REL, part)
        workbook = self.text("xl/workbook.xml")
        ids = [int(n) for n in re.findall(r'<sheet\b[^>]*? sheetId="(\d+)"', workbook)]
        escaped = name.replace("&", "&amp;").replace('"', "&quot;")
        sheet = f'<sheet name="{escaped}" sheetId="{max(ids, default=0) + 1}" r:id="{rid}"/>'
        self.put("xl/workbook.xml", workbook.replace("</sheets>", sheet + "</sheets>").encode())

    def content_type(self, part: str) -> str:
        root = parse_package_xml(self.read("[Content_Types].xml"))
        for override in root:
            if override.get("PartName", "").lstrip("/") == part:
                return override.get("ContentType")
        raise InputError(f"no content type for {part}")

    def finish(self) -> None:
        """Content types for the parts added and removed; no calculation chain, no
        macros and no links to other workbooks (the refreshed copy is an .xlsx, whose
        values stand alone: docs/bad-input.md), and a full recalculation when Excel
        opens the book."""
        rels_part = "xl/_rels/workbook.xml.rels"
        for rid, kind, target in self.rels("xl/workbook.xml"):
            if kind.endswith(_DROPPED):
                self.remove_tree(target)
                self.removed.add(target)
                rels = self.text(rels_part)
                self.put(
                    rels_part, re.sub(rf'<Relationship\b[^>]*?Id="{rid}"[^>]*/>', "", rels).encode()
                )
        # ... and such parts even when nothing points at them.
        self.removed |= {n for n in self.names if n.startswith(_DROPPED_PARTS)}
        workbook = self.text("xl/workbook.xml")
        workbook = re.sub(
            r"<externalReferences\b.*?</externalReferences>", "", workbook, flags=re.S
        )
        if "<calcPr" in workbook:
            workbook = re.sub(
                r"<calcPr\b([^>]*?)\s*fullCalcOnLoad=\"[^\"]*\"", r"<calcPr\1", workbook
            )
            workbook = workbook.replace("<calcPr", '<calcPr fullCalcOnLoad="1"', 1)
        else:  # calcPr follows definedNames, or sheets when there are none
            after = "</definedNames>" if "</definedNames>" in workbook else "</sheets>"
            workbook = workbook.replace(after, after + '<calcPr fullCalcOnLoad="1"/>', 1)
        self.put("xl/workbook.xml", workbook.encode())
        types = self.text("[Content_Types].xml").replace(_MACRO_BOOK, _BOOK)
        for part in self.removed:
            types = types.replace(f'<Override PartName="/{part}"', '<Override PartName="/\0"')
        types = re.sub(r'<Override PartName="/\x00"[^>]*/>', "", types)
        for part, kind in self.types.items():
            if f'PartName="/{part}"' not in types:
                types = types.replace(
                    "</Types>", f'<Override PartName="/{part}" ContentType="{kind}"/></Types>'
                )
        self.put("[Content_Types].xml", types.encode())
