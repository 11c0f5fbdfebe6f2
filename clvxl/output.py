"""Writing results: completely or not at all, and never as live formulas.

Every file is written to a temporary file in the destination folder and renamed
into place (``os.replace`` is atomic on one file system), so a crash or a kill
leaves the previous output intact and never a half-written file.

CSV cells that start with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
are prefixed with a single quote, as OWASP advises against CSV injection, so that
a customer id such as ``=HYPERLINK(...)`` stays text when the file is opened in a
spreadsheet. Numbers are never touched. ``write_table(..., escape=False)`` turns this off for
machine consumers.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from clvxl.errors import InputError

__all__ = ["Progress", "escape_formulas", "write_atomic", "write_table"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def write_atomic(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary_path)``, then rename the temporary file to ``path``.

    Parameters
    ----------
    path : str or Path
        The destination.
    write : callable
        Writes the whole output to the path it is given.

    Returns
    -------
    Path
        The destination.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if folder.exists() and not folder.is_dir():
        raise InputError(f"cannot write {path}: {folder} is a file, not a folder")
    if not folder.is_dir():
        raise InputError(f"cannot write {path}: the folder {folder} does not exist")
    if path.is_dir():
        raise InputError(f"cannot write {path}: it is a folder; give a file name")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except PermissionError:
        raise InputError(f"cannot write {path}: no permission to write in {folder}") from None
    except OSError as exc:
        raise InputError(
            f"cannot write {path}: {folder} does not take new files ({exc.strerror or exc})"
        ) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, _mode(path))
        os.replace(tmp, path)
    except PermissionError:
        raise InputError(
            f"cannot write {path}: permission denied (is it open in another program?)"
        ) from None
    except OSError as exc:  # a full disk, a name the file system refuses, ...
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _mode(path: Path) -> int:
    """The permissions the output gets: the old file's, else the usual ones for new files."""
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def escape_formulas(table: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with ``'``.

    Examples
    --------
    >>> escape_formulas(pd.DataFrame({"id": ["=1+1", "A7", "-2+3"], "x": [-1, 2, 3]}))
         id  x
    0  '=1+1 -1
    1    A7  2
    2  '-2+3  3
    """
    out = table.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            text = values.astype("string")
            risky = text.str.startswith(_FORMULA_START).fillna(False).to_numpy(dtype=bool)
            if risky.any():
                values = values.astype(object)
                values[risky] = "'" + text[risky].astype(str)
                out[column] = values
    return out


def write_table(table: pd.DataFrame, path: str | Path, escape: bool = True) -> Path:
    """Write a table to ``.csv`` or ``.parquet``, atomically.

    CSV follows RFC 4180 (CRLF line ends, so a stray carriage return in a value is
    quoted); dates are written as ISO dates (YYYY-MM-DD).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        data = escape_formulas(table) if escape else table
        return write_atomic(
            path,
            lambda tmp: data.to_csv(
                tmp, index=False, date_format="%Y-%m-%d", lineterminator="\r\n"
            ),
        )
    if suffix == ".parquet":
        return write_atomic(path, lambda tmp: _write_parquet(table, tmp))
    raise InputError(f"cannot write {path.name}: give an output ending in .csv, .parquet or .xlsx")


def _write_parquet(table: pd.DataFrame, path: Path) -> None:
    """Parquet, dictionary-encoding the columns whose values repeat (dates, counts,
    scores, categories) but not text or floating-point ones, which are mostly distinct
    (ids, money): trying a dictionary on those only costs time (a quarter of the write).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow = pa.Table.from_pandas(table, preserve_index=False)
    repeating = [
        field.name
        for field in arrow.schema
        if not (
            pa.types.is_floating(field.type)
            or pa.types.is_string(field.type)
            or pa.types.is_large_string(field.type)
        )
    ]
    pq.write_table(arrow, path, use_dictionary=repeating)


class Progress:
    """Prints what a long run is doing, once it has taken more than ``delay`` seconds.

    Short runs print nothing; ``quiet=True`` prints nothing at all.
    """

    def __init__(self, quiet: bool = False, delay: float = 1.0, stream=None):
        self.quiet = quiet
        self.delay = delay
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()

    def step(self, label: str) -> None:
        """Announce the step that starts now (shown once the run is slow)."""
        elapsed = time.perf_counter() - self.start
        if not self.quiet and elapsed >= self.delay:
            print(f"[{elapsed:6.1f} s] {label}", file=self.stream, flush=True)

    def done(self) -> None:
        """Close the display; says how long it took when the run was slow."""
        elapsed = time.perf_counter() - self.start
        if not self.quiet and elapsed >= self.delay:
            print(f"[{elapsed:6.1f} s] done", file=self.stream, flush=True)
