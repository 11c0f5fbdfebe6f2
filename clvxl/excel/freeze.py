"""Freeze for sharing: a copy of a workbook whose clvxl formulas are replaced by their values.

A colleague without Python and the add-in sees ``#NAME?`` wherever a clvxl function
is recalculated. :func:`freeze` copies the workbook, turning every formula that calls
a clvxl function into the value Excel last computed for it (the cached ``<v>``), and
adds a line to the Help sheet saying when and with which settings it was frozen.

It edits the sheet XML inside the .xlsx directly: a load and save through openpyxl
would drop the cached values, the charts and the ribbon parts. Other formulas are
left alone.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from clvxl.errors import InputError
from clvxl.excel.workbook import read_settings
from clvxl.output import write_atomic
from clvxl.sources import parse_package_xml

__all__ = ["CLVXL_FUNCTIONS", "freeze"]

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
    r"(?<![A-Za-z0-9_.])(?:_xludf\.)?(?:" + "|".join(CLVXL_FUNCTIONS) + r")\s*\(", re.I
)
_CELL = re.compile(r"<c\b([^>]*)>(.*?)</c>", re.S)
_FORMULA = re.compile(r"<f\b[^>]*?(?:/>|>(.*?)</f>)", re.S)
_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
}


def _freeze_cell(match: re.Match) -> str:
    attributes, body = match.group(1), match.group(2)
    formula = _FORMULA.search(body)
    if not formula or not _CALLS.search(formula.group(1) or ""):
        return match.group(0)
    value = re.search(r"<v>(.*?)</v>", body, re.S)
    if 't="str"' in attributes:
        attributes = attributes.replace('t="str"', 't="inlineStr"')
        text = value.group(1) if value else ""
        return f'<c{attributes}><is><t xml:space="preserve">{text}</t></is></c>'
    return f"<c{attributes}>{value.group(0) if value else ''}</c>"


def _sheet_paths(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → part name inside the zip."""
    book = parse_package_xml(archive.read("xl/workbook.xml"))
    rels = parse_package_xml(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels}
    paths = {}
    for sheet in book.find("m:sheets", _NS):
        target = targets[sheet.get(f"{{{_NS['r']}}}id")].lstrip("/")
        paths[sheet.get("name")] = target if target.startswith("xl/") else f"xl/{target}"
    return paths


def _note(xml: str, text: str) -> str:
    rows = [int(r) for r in re.findall(r'<row\b[^>]*\br="(\d+)"', xml)]
    n = max(rows, default=0) + 2
    row = (
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>Frozen for sharing</t></is></c>'
        f'<c r="B{n}" t="inlineStr"><is><t xml:space="preserve">{escape(text)}</t></is></c></row>'
    )
    if "<sheetData/>" in xml:
        return xml.replace("<sheetData/>", f"<sheetData>{row}</sheetData>")
    return xml.replace("</sheetData>", f"{row}</sheetData>")


def freeze(source: str | Path, target: str | Path, when: dt.datetime | None = None) -> int:
    """Write a frozen copy of ``source`` to ``target``; return how many formulas were frozen.

    Parameters
    ----------
    source, target : str or Path
        The workbook and the copy to write (written completely or not at all).
    when : datetime, optional
        The time written in the Help note (default: now).
    """
    source, target = Path(source), Path(target)
    if source.resolve() == target.resolve():
        raise InputError("freeze writes a copy: give an output other than the input")
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, FileNotFoundError) as exc:
        raise InputError(f"{source} is not an .xlsx workbook ({exc})") from None
    values = read_settings(source)
    settings = ", ".join(f"{k}={v}" for k, v in values.items() if v not in (None, "")) or "defaults"
    with archive:
        sheets = _sheet_paths(archive)
        frozen = 0
        parts = {}
        for info in archive.infolist():
            data = archive.read(info)
            if info.filename in sheets.values():
                xml = data.decode("utf-8")
                new = _CELL.sub(_freeze_cell, xml)
                frozen += xml.count("<f") - new.count("<f")
                if info.filename == sheets.get("Help"):
                    stamp = (when or dt.datetime.now()).strftime("%Y-%m-%d %H:%M")
                    new = _note(
                        new,
                        f"{stamp}: clvxl formulas replaced by their values. Settings: {settings}",
                    )
                data = new.encode("utf-8")
            parts[info] = data

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
            for info, data in parts.items():
                out.writestr(info, data)

    write_atomic(target, write)
    return frozen
