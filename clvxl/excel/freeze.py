"""Freeze for sharing: a copy of a workbook whose clvxl formulas are replaced by their values.

A colleague without Python and the add-in sees ``#NAME?`` wherever a clvxl function
is recalculated. :func:`freeze` copies the workbook, turning every formula that calls
a clvxl function into the value Excel last computed for it (the cached ``<v>``), and
adds a line to the Help sheet saying when and with which settings it was frozen.

It edits the sheet XML inside the .xlsx directly: a load and save through openpyxl
would drop the cached values, the charts and the ribbon parts. Other formulas are
left alone, but for those that read another workbook, which the colleague does not have.

The workbook is opened through the same checks as every workbook clvxl reads
(:func:`clvxl.sources.open_package`: bombs, lying zip headers, entities, UTF-16,
missing parts). A copy meant for sharing leaves out what should not travel: macros
(``vbaProject.bin``), links to other workbooks, and entries whose names would land
outside a folder they were extracted to; the Help note and the returned
:class:`Frozen` say what was left out. Every XML part written is checked to be
well-formed first.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from clvxl.errors import InputError
from clvxl.excel.workbook import read_settings
from clvxl.output import same_file, write_atomic
from clvxl.sources import XmlCheck, find_name, open_package, rels_part

__all__ = ["CLVXL_FUNCTIONS", "Frozen", "freeze"]

#: The Excel functions udfs.py defines.
CLVXL_FUNCTIONS = (
    "AOV",
    "PURCHASE_FREQUENCY",
    "COGS",
    "GROSS_MARGIN",
    "CHURN",
    "RETENTION",
    "LIFETIME",
    "ARPU",
    "CUSTOMER_VALUE",
    "CLV_SIMPLE",
    "CLV",
    "CAC",
    "LTV_CAC",
    "CAC_PAYBACK",
    "RFM_SEGMENT",
    "RFM_SCORES",
    "CUSTOMERS",
    "VALUE_TIER",
    "P_ALIVE",
    "EXPECTED_PURCHASES",
    "CLV_PREDICTED",
    "FIT_BGNBD",
)
_CALLS = re.compile(
    rb"(?<![A-Za-z0-9_.])(?:_xludf\.)?(?:" + "|".join(CLVXL_FUNCTIONS).encode() + rb")\s*\(", re.I
)
#: A reference into another workbook, as stored: [1]Sheet1!A1, '[1]My sheet'!A1, [1]!Name.
_EXTERNAL = re.compile(rb"\[\d+\][^\[\]!]*!")
_PREFIX = rb"(?P<p>(?:[A-Za-z_][\w.-]*:)?)"
#: A cell, self-closing or with a body; attributes hold no ">" in what Excel writes, and a
#: part where they do fails the well-formedness check instead of being written.
_CELL = re.compile(
    rb"<" + _PREFIX + rb"c(?=[\s/>])(?P<attrs>[^>]*?)(?:/>|>(?P<body>.*?)</(?P=p)c>)", re.S
)
_FORMULA = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?f(?=[\s/>])(?P<attrs>[^>]*?)(?:/>|>(?P<text>.*?)</(?:[A-Za-z_][\w.-]*:)?f>)",
    re.S,
)
_VALUE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?v>(.*?)</(?:[A-Za-z_][\w.-]*:)?v>", re.S)
_ATTRIBUTE = re.compile(rb"([\w:.-]+)\s*=\s*(\"[^\"]*\"|'[^']*')")
_ROW_NUMBER = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row(?=[\s/>])[^>]*?\sr\s*=\s*[\"'](\d+)[\"']")
_RELATIONSHIP = re.compile(
    rb"<Relationship\b[^>]*?/>|<Relationship\b[^>]*?>.*?</Relationship>", re.S
)
_TYPE = re.compile(rb"<(?:Override|Default)\b[^>]*?/>", re.S)
_VBA_TYPE = b"application/vnd.ms-office.vbaProject"
_DEFINED_NAME = re.compile(rb"<definedName\b[^>]*>(.*?)</definedName>", re.S)
_EXTERNAL_REFERENCES = re.compile(
    rb"<externalReferences\b.*?</externalReferences>|<externalReferences\s*/>", re.S
)
#: Parts a copy for sharing leaves out (besides entries with unsafe names).
_MACROS = re.compile(r"(^|/)vba[^/]*$", re.I)
_LINKS = re.compile(r"^xl/externalLinks/", re.I)
#: Excel rebuilds its calculation chain; the old one lists cells that are values now.
_CALC_CHAIN = "xl/calcChain.xml"
_MACRO_TYPES = {
    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml": (
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    ),
}
#: Characters XML 1.0 cannot hold: C0 controls but tab, line feed and carriage return.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")
_SHEET_ROWS = 1_048_576


@dataclass(frozen=True)
class Frozen:
    """What :func:`freeze` did: formulas turned into values, and what the copy left out."""

    formulas: int
    removed: tuple[str, ...] = ()
    without_value: int = 0


def xml_text(text: str) -> bytes:
    """Text for an XML element of a workbook: escaped, with characters XML cannot hold
    written as Excel writes them (``_x0007_``), and a literal ``_x0041_`` kept literal.

    Examples
    --------
    >>> xml_text("a<b & \\x07 _x0041_")
    b'a&lt;b &amp; _x0007_ _x005F_x0041_'
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _NOT_XML.sub(lambda m: f"_x{ord(m.group(0)):04X}_", escaped).encode("utf-8")


def _attributes(raw: bytes) -> list[tuple[bytes, bytes]]:
    return [(name, value[1:-1]) for name, value in _ATTRIBUTE.findall(raw)]


def _joined(attributes: list[tuple[bytes, bytes]]) -> bytes:
    return b"".join(b' %s="%s"' % (name, value) for name, value in attributes)


class _Sheet:
    """One sheet's XML with its clvxl (and external) formulas turned into their values."""

    def __init__(self, xml: bytes):
        self.xml = xml
        self.frozen = 0
        self.without_value = 0
        self.shared = self._shared_to_freeze()

    @staticmethod
    def _calls(text: bytes) -> bool:
        return bool(_CALLS.search(text) or _EXTERNAL.search(text))

    def _shared_to_freeze(self) -> set[bytes]:
        """The shared-formula groups whose master formula is frozen: every cell of a group
        refers to its master, so all of them are frozen with it."""
        groups = set()
        for formula in _FORMULA.finditer(self.xml):
            attributes = dict(_attributes(formula.group("attrs")))
            text = formula.group("text") or b""
            if attributes.get(b"t") == b"shared" and b"si" in attributes and self._calls(text):
                groups.add(attributes[b"si"])
        return groups

    def freeze(self) -> bytes:
        return _CELL.sub(self._cell, self.xml)

    def _cell(self, match: re.Match) -> bytes:
        body = match.group("body")
        formula = _FORMULA.search(body) if body else None
        if formula is None:
            return match.group(0)
        attributes = dict(_attributes(formula.group("attrs")))
        shared = attributes.get(b"t") == b"shared" and attributes.get(b"si") in self.shared
        if not (shared or self._calls(formula.group("text") or b"")):
            return match.group(0)
        self.frozen += 1
        prefix = match.group("p")
        cell = [(k, v) for k, v in _attributes(match.group("attrs")) if k not in (b"t", b"cm")]
        kind = dict(_attributes(match.group("attrs"))).get(b"t")
        value = _VALUE.search(body)
        if value is None:
            self.without_value += 1
            return b"<%sc%s/>" % (prefix, _joined(cell))
        if kind == b"str":
            cell.append((b"t", b"inlineStr"))
            return b'<%sc%s><%sis><%st xml:space="preserve">%s</%st></%sis></%sc>' % (
                prefix,
                _joined(cell),
                prefix,
                prefix,
                value.group(1),
                prefix,
                prefix,
                prefix,
            )
        if kind in (b"b", b"e"):
            cell.append((b"t", kind))
        return b"<%sc%s><%sv>%s</%sv></%sc>" % (
            prefix,
            _joined(cell),
            prefix,
            value.group(1),
            prefix,
            prefix,
        )


def _with_note(xml: bytes, note: str) -> bytes:
    """The Help sheet with a "Frozen for sharing" row below its last row."""
    row = max((int(n) for n in _ROW_NUMBER.findall(xml)), default=0) + 2
    empty = re.search(rb"<((?:[A-Za-z_][\w.-]*:)?)sheetData\s*/>", xml)
    end = empty or re.search(rb"</((?:[A-Za-z_][\w.-]*:)?)sheetData>", xml)
    if row > _SHEET_ROWS or end is None:
        return xml  # no room below the last row: the note is only printed
    p = end.group(1)
    line = (
        b'<%srow r="%d"><%sc r="A%d" t="inlineStr"><%sis><%st>Frozen for sharing</%st></%sis></%sc>'
        b'<%sc r="B%d" t="inlineStr"><%sis><%st xml:space="preserve">%s</%st></%sis></%sc></%srow>'
        % (p, row, p, row, p, p, p, p, p, p, row, p, p, xml_text(note), p, p, p, p)
    )
    if empty:
        line = b"<%ssheetData>%s</%ssheetData>" % (p, line, p)
        return xml[: end.start()] + line + xml[end.end() :]
    return xml[: end.start()] + line + xml[end.start() :]


def _left_out(package) -> dict[str, str]:
    """Part → why a copy for sharing leaves it out (the user-facing reasons only)."""
    reasons = {}
    for name in package.parts:
        if name in package.unsafe_names:
            reasons[name] = "an entry with an unsafe name"
        elif _MACROS.search(name.split("/_rels/")[-1].removesuffix(".rels")):
            reasons[name] = "macros"
        elif _LINKS.search(name):
            reasons[name] = "a link to another workbook"
        elif name == _CALC_CHAIN or name == rels_part(_CALC_CHAIN):
            reasons[name] = ""
    return reasons


def _owner_left_out(name: str, dropped: set[str]) -> bool:
    """Whether ``name`` is the relationships part of a part left out (gone with it)."""
    folder, _, rels = name.rpartition("_rels/")
    return rels.endswith(".rels") and f"{folder}{rels.removesuffix('.rels')}" in dropped


def _relationships_kept(rels_name: str, xml: bytes, dropped: set[str]) -> bytes:
    """A relationships part without the relationships to parts left out."""
    source = posixpath.dirname(posixpath.dirname(rels_name))

    def keep(match: re.Match) -> bytes:
        attributes = dict(_attributes(match.group(0).split(b">", 1)[0]))
        if attributes.get(b"TargetMode") == b"External":
            return match.group(0)  # a hyperlink, say: not a part of the package
        target = attributes.get(b"Target", b"").decode("utf-8", "replace")
        part = posixpath.normpath(
            target.lstrip("/") if target.startswith("/") else posixpath.join(source, target)
        )
        return b"" if part in dropped else match.group(0)

    return _RELATIONSHIP.sub(keep, xml)


def _types_kept(xml: bytes, dropped: set[str], kept: list[str]) -> bytes:
    """[Content_Types].xml without the parts left out, the workbook no longer macro-enabled."""

    def keep(match: re.Match) -> bytes:
        attributes = dict(_attributes(match.group(0)))
        if match.group(0).startswith(b"<Default"):
            extension = attributes.get(b"Extension", b"").decode("utf-8", "replace").lower()
            macros = attributes.get(b"ContentType") == _VBA_TYPE
            used = any(name.lower().endswith(f".{extension}") for name in kept)
            return b"" if macros and not used else match.group(0)
        name = attributes.get(b"PartName", b"").decode("utf-8", "replace")
        return b"" if name.lstrip("/") in dropped else match.group(0)

    xml = _TYPE.sub(keep, xml)
    for macro, plain in _MACRO_TYPES.items():
        xml = xml.replace(macro, plain)
    return xml


def _workbook_kept(xml: bytes) -> bytes:
    """workbook.xml without its list of external workbooks and the names defined in them."""
    xml = _EXTERNAL_REFERENCES.sub(b"", xml)
    return _DEFINED_NAME.sub(lambda m: b"" if _EXTERNAL.search(m.group(1)) else m.group(0), xml)


def freeze(source: str | Path, target: str | Path, when: dt.datetime | None = None) -> Frozen:
    """Write a frozen copy of ``source`` to ``target``.

    Parameters
    ----------
    source, target : str or Path
        The workbook and the copy to write (an .xlsx: the copy has no macros), written
        completely or not at all.
    when : datetime, optional
        The time written in the Help note (default: now).

    Returns
    -------
    Frozen
        How many formulas became values (and how many of them had no value Excel had
        computed, so became empty cells), and what the copy left out.
    """
    source, target = Path(source), Path(target)
    if same_file(source, target) or source.resolve() == target.resolve():
        raise InputError("freeze writes a copy: give an output other than the input")
    if target.suffix.lower() != ".xlsx":
        raise InputError(
            f"cannot write {target.name}: a frozen copy has no macros, so give an output "
            "ending in .xlsx"
        )
    package = open_package(source)
    values = read_settings(source)
    settings = ", ".join(f"{k}={v}" for k, v in values.items() if v not in (None, "")) or "defaults"
    left_out = _left_out(package)
    dropped = set(left_out)
    removed = tuple(
        f"{reason} ({name})"
        for name, reason in left_out.items()
        if reason and not _owner_left_out(name, dropped)
    )
    help_part = package.sheets.get(find_name(package.sheets, "Help", "sheet", source.name) or "")
    stamp = (when or dt.datetime.now()).strftime("%Y-%m-%d %H:%M")
    note = f"{stamp}: clvxl formulas replaced by their values. Settings: {settings}."
    if removed:
        note += f" Left out of this copy: {'; '.join(removed)}."
    frozen = without_value = 0

    def rewrite(name: str, data: bytes) -> bytes:
        nonlocal frozen, without_value
        if name in package.sheets.values():
            sheet = _Sheet(data)
            data = sheet.freeze()
            frozen, without_value = frozen + sheet.frozen, without_value + sheet.without_value
            if name == help_part:
                data = _with_note(data, note)
        elif name == "[Content_Types].xml":
            data = _types_kept(data, dropped, [n for n in package.parts if n not in dropped])
        elif name.endswith(".rels"):
            data = _relationships_kept(name, data, dropped)
        elif name == "xl/workbook.xml":
            data = _workbook_kept(data)
        return data

    def write(tmp: Path) -> None:
        with package.open() as archive, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
            for name, info in package.parts.items():
                if name in dropped:
                    continue
                copy = zipfile.ZipInfo(name, info.date_time)
                copy.compress_type, copy.external_attr = zipfile.ZIP_DEFLATED, info.external_attr
                if _rewritten(name, package):
                    data = rewrite(name, archive.read(info))
                    XmlCheck(f"{target.name}: the part {name}").check(data)
                    out.writestr(copy, data)
                else:
                    _copy_checked(archive, info, out, copy, target)

    write_atomic(target, write)
    return Frozen(frozen, removed, without_value)


def _rewritten(name: str, package) -> bool:
    return (
        name in package.sheets.values()
        or name in ("[Content_Types].xml", "xl/workbook.xml")
        or name.endswith(".rels")
    )


def _copy_checked(archive, info, out, copy, target: Path) -> None:
    """Copy a part as a stream; an XML part is checked to be well-formed on the way (not
    VML drawings, which Excel itself writes as HTML-like markup)."""
    check = (
        XmlCheck(f"{target.name}: the part {info.filename}")
        if info.filename.lower().endswith((".xml", ".rels"))
        else None
    )
    with archive.open(info) as reader, out.open(copy, "w") as writer:
        while chunk := reader.read(1 << 20):
            if check is not None:
                check.feed(chunk)
            writer.write(chunk)
    if check is not None:
        check.close()
