"""Workbook packages opened safely: zip bombs and entity declarations refused before any
XML is parsed, and the one safe XML parser of the project."""

from __future__ import annotations

import zipfile
from pathlib import Path

from clvxl.errors import InputError

#: Reading a workbook is bounded: at most this much unpacked, and no part that
#: unpacks more than ``MAX_RATIO`` times its packed size beyond ``RATIO_FROM`` bytes.
MAX_UNPACKED = 2 * 1024**3

MAX_RATIO = 200

RATIO_FROM = 50 * 1024**2


def check_package(path: Path) -> None:
    """Refuse what is not an .xlsx package, and zip bombs, before any XML is parsed."""
    try:
        package = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise InputError(
            f"{path.name} is not an .xlsx workbook (not a zip package). A password-protected "
            "workbook is stored encrypted: remove the password in Excel, or export the "
            "Transactions sheet as .csv"
        ) from None
    with package:
        parts = package.infolist()
        unpacked = sum(p.file_size for p in parts)
        packed = sum(p.compress_size for p in parts) or 1
        if unpacked > MAX_UNPACKED or (unpacked > RATIO_FROM and unpacked / packed > MAX_RATIO):
            raise InputError(
                f"{path.name} would unpack to {unpacked / 1024**2:,.0f} MB from {packed / 1024**2:,.1f} MB; "
                "that is not a normal workbook (a zip bomb?), so it was not opened"
            )
        for part in parts:
            if part.filename.endswith((".xml", ".rels")) and _declares_doctype(package, part):
                raise InputError(
                    f"{path.name} declares XML entities ({part.filename} has a <!DOCTYPE>), "
                    "which Excel never writes (an entity-expansion attack?), so it was not opened"
                )


def _declares_doctype(package: zipfile.ZipFile, part: zipfile.ZipInfo) -> bool:
    """Whether an XML part has a document type declaration, read in 1 MB steps."""
    tail = b""
    with package.open(part) as stream:
        while chunk := stream.read(1 << 20):
            if b"<!DOCTYPE" in tail + chunk:
                return True
            tail = chunk[-8:]
    return False


def parse_package_xml(data: bytes):
    """An XML part of a workbook package as an element tree, refusing entity tricks.

    For the Excel edge's own reading of a package (:mod:`clvxl.excel.freeze`): the one
    safe XML parser of the project, so that no other module parses package XML itself.
    """
    from defusedxml import ElementTree

    return ElementTree.fromstring(data)
