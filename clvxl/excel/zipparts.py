"""A zip package rewritten with most entries copied as they are stored (still compressed).

:mod:`zipfile` can only write an entry by compressing it again; a workbook refresh keeps
almost every part of the book, the Transactions sheet among them (tens of MB of XML
for 100,000 rows), so :func:`write` copies each kept entry's compressed bytes with a
new local header and deflates only the parts that changed. Plain zip (no zip64): a
package past 4 GB or 65,535 entries is written through :mod:`zipfile` instead.
"""

from __future__ import annotations

import contextlib
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

__all__ = ["write"]

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_LIMIT = 0xFFFFFFFF
_DATE = (2024, 1, 1, 0, 0, 0)  # new entries: a fixed date, so a rebuild gives the same bytes


def _dos(date_time: tuple[int, ...]) -> tuple[int, int]:
    year, month, day, hour, minute, second = date_time
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


@contextlib.contextmanager
def writer(path: Path) -> Iterator[zipfile.ZipFile]:
    """A zip file being written to ``path``, left without its central directory when the
    writing fails (a full disk): a ZipFile closed then fails again when it is collected,
    printing a traceback of its own."""
    package = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED)
    try:
        yield package
    except BaseException:
        raw, package.fp = package.fp, None
        if raw is not None:
            raw.close()
        raise
    package.close()


def write(target: Path, source: zipfile.ZipFile, new: dict[str, bytes], removed: set[str]) -> None:
    """Write ``source`` with ``new`` parts (name → content: replaced in place, or added
    at the end) and without ``removed`` ones to ``target``.

    Parameters
    ----------
    target : Path
        The file to write (overwritten).
    source : zipfile.ZipFile
        The package read; the entries kept are copied as they are stored, not
        unpacked and compressed again.
    new : dict of str to bytes
        Part name → its whole content.
    removed : set of str
        Names of the parts of ``source`` to leave out.

    Raises
    ------
    zipfile.BadZipFile
        If a kept entry's local header is bad or its data is cut short.
    """
    kept = [i for i in source.infolist() if i.filename not in removed]
    names = {i.filename for i in kept}
    order = [(i.filename, i) for i in kept] + [(n, None) for n in new if n not in names]
    if len(order) > 0xFFFF or any(i.file_size >= _LIMIT or i.compress_size >= _LIMIT for i in kept):
        _write_zipfile(target, source, order, new)
        return
    central = []
    with open(target, "wb") as out, open(source.filename, "rb") as raw:
        for name, info in order:
            offset = out.tell()
            if name in new:
                data = new[name]
                level = 6 if len(data) < 1 << 20 else 1
                packer = zlib.compressobj(level, zlib.DEFLATED, -15)
                packed = packer.compress(data) + packer.flush()
                fields = (
                    zipfile.ZIP_DEFLATED,
                    *_dos(_DATE),
                    zlib.crc32(data),
                    len(packed),
                    len(data),
                )
                external = 0
            else:
                packed = _stored_bytes(raw, info)
                fields = (
                    info.compress_type,
                    *_dos(info.date_time),
                    info.CRC,
                    info.compress_size,
                    info.file_size,
                )
                external = info.external_attr
            encoded = name.encode("utf-8")
            flags = 0x800 if not name.isascii() else 0
            out.write(_LOCAL.pack(0x04034B50, 20, flags, *fields, len(encoded), 0))
            out.write(encoded)
            out.write(packed)
            central.append(
                _CENTRAL.pack(
                    0x02014B50, 20, 20, flags, *fields, len(encoded), 0, 0, 0, 0, external, offset
                )
                + encoded
            )
        start = out.tell()
        for entry in central:
            out.write(entry)
        size = out.tell() - start
        out.write(_END.pack(0x06054B50, 0, 0, len(central), len(central), size, start, 0))


def _stored_bytes(raw, info: zipfile.ZipInfo) -> bytes:
    """An entry's data as stored in the zip (compressed), after its local header."""
    raw.seek(info.header_offset)
    header = _LOCAL.unpack(raw.read(_LOCAL.size))
    if header[0] != 0x04034B50:
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    raw.seek(header[-2] + header[-1], 1)
    data = raw.read(info.compress_size)
    if len(data) != info.compress_size:
        raise zipfile.BadZipFile(f"{info.filename} is cut short")
    return data


def _write_zipfile(target: Path, source: zipfile.ZipFile, order, new: dict[str, bytes]) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as out:
        for name, info in order:
            data = new[name] if name in new else source.read(info)
            out.writestr(info or zipfile.ZipInfo(name, _DATE), data, zipfile.ZIP_DEFLATED)
