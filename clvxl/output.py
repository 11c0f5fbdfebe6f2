"""Writing results: completely or not at all, and never as live formulas.

Every file is written to a temporary file in the destination folder and renamed
into place (``os.replace`` is atomic on one file system), so a crash or a kill
leaves the previous output intact and never a half-written file. The files one run
writes form one transaction (:func:`output_transaction`): each is written to its
temporary file, and only when all are complete are they renamed into place (and a file
of an earlier run that this run does not write, :func:`remove_output`, removed); a
failure, a full disk, SIGTERM or SIGHUP before then renames nothing and removes every
temporary file.

CSV cells that start with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
are prefixed with a single quote, as OWASP advises against CSV injection, so that
a customer id such as ``=HYPERLINK(...)`` stays text when the file is opened in a
spreadsheet. Numbers are never touched. ``write_table(..., escape=False)`` turns this off for
machine consumers.
"""

from __future__ import annotations

import contextlib
import contextvars
import gc
import os
import secrets
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

from clvxl.errors import InputError

__all__ = [
    "Progress",
    "escape_formulas",
    "output_transaction",
    "remove_output",
    "same_file",
    "write_atomic",
    "write_table",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: The signals that end a run tidily: temporary files removed, nothing renamed.
_ENDING_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class Stopped(SystemExit):
    """The run was ended by a signal; exits with 128 + the signal's number, as a shell shows."""


class _Transaction:
    """The files of one run: temporary files to rename, earlier outputs to remove."""

    def __init__(self) -> None:
        self.staged: list[tuple[Path, Path]] = []
        self.removals: list[Path] = []

    def commit(self) -> None:
        # Removals first: one that fails (no permission) leaves everything as it was.
        for path in self.removals:
            if path.is_file() or path.is_symlink():  # a folder of that name is not an output
                with _write_errors(path):
                    path.unlink()
        for tmp, path in self.staged:
            with _write_errors(path):
                os.replace(tmp, path)
        self.staged = []

    def discard(self) -> None:
        for tmp, _ in self.staged:
            tmp.unlink(missing_ok=True)
        self.staged = []


_ACTIVE: contextvars.ContextVar[_Transaction | None] = contextvars.ContextVar(
    "clvxl_output_transaction", default=None
)


@contextlib.contextmanager
def output_transaction() -> Iterator[None]:
    """Make every file written inside the block one transaction: all of them or none.

    Files written with :func:`write_atomic` (and so :func:`write_table` and the workbook
    writer) inside the block stay temporary files until the block ends without an
    error; then the files given to :func:`remove_output` are removed and all are renamed
    into place, one after the other. An error, SIGTERM or SIGHUP inside the block
    removes every temporary file and renames nothing. A block inside another is part of
    the outer one.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with output_transaction():
    ...     _ = write_atomic(folder / "a.txt", lambda tmp: tmp.write_text("a"))
    ...     sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    []
    >>> sorted(p.name for p in folder.iterdir())
    ['a.txt']
    """
    if _ACTIVE.get() is not None:
        yield
        return
    transaction = _Transaction()
    token = _ACTIVE.set(transaction)
    try:
        with _signals_end_the_run():
            yield
            transaction.commit()
    finally:
        _ACTIVE.reset(token)
        transaction.discard()


@contextlib.contextmanager
def _signals_end_the_run() -> Iterator[None]:
    """SIGTERM and SIGHUP raise :class:`Stopped` in the main thread, so ``finally`` blocks
    remove temporary files; a signal the process was told to ignore (``nohup``) stays
    ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, _frame):
        raise Stopped(128 + signum)

    previous = {}
    for sig in _ENDING_SIGNALS:
        if signal.getsignal(sig) is not signal.SIG_IGN:
            previous[sig] = signal.signal(sig, stop)
    try:
        yield
    except Stopped:
        print("clvxl: stopped by a signal; no output was written", file=sys.stderr)
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def remove_output(path: str | Path) -> None:
    """Remove ``path`` when the current transaction commits (now, outside one).

    For the file an earlier run wrote and this run does not (a rejected-rows file when
    no row is rejected), which would otherwise be taken for this run's.

    Parameters
    ----------
    path : str or Path
        The earlier output; nothing happens when it is not a file.
    """
    transaction = _ACTIVE.get()
    if transaction is None:
        with output_transaction():
            remove_output(path)
    else:
        transaction.removals.append(Path(path))


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one existing file (links and spellings included).

    Parameters
    ----------
    a, b : str or Path
        The paths.

    Returns
    -------
    bool
        False when either does not exist.
    """
    a, b = Path(a), Path(b)
    return a.exists() and b.exists() and os.path.samefile(a, b)


def write_atomic(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary_path)``, then rename the temporary file to ``path``.

    Inside :func:`output_transaction` the rename waits for the end of the transaction.

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
    with output_transaction():
        tmp = _temporary(path, _ACTIVE.get())
        with _write_errors(path):
            write(tmp)
            os.chmod(tmp, _mode(path))
    return path


def _temporary(path: Path, transaction: _Transaction) -> Path:
    """A new hidden temporary file beside ``path``, listed in ``transaction``, or an
    InputError saying why not.

    The name is listed before the file is made: a signal may be handled at any moment
    (blocking it in this thread does not stop DuckDB's or BLAS's threads from taking it),
    and a file made but not yet listed would outlive it.
    """
    folder = path.parent if str(path.parent) else Path(".")
    if folder.exists() and not folder.is_dir():
        raise InputError(f"cannot write {path}: {folder} is a file, not a folder")
    if not folder.is_dir():
        raise InputError(f"cannot write {path}: the folder {folder} does not exist")
    if path.is_dir():
        raise InputError(f"cannot write {path}: it is a folder; give a file name")
    while True:
        tmp = folder / f".{path.name}.{secrets.token_hex(4)}.tmp"
        transaction.staged.append((tmp, path))
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            return tmp
        except FileExistsError:
            transaction.staged.remove((tmp, path))  # another run's file: not ours to remove
        except PermissionError:
            transaction.staged.remove((tmp, path))
            raise InputError(f"cannot write {path}: no permission to write in {folder}") from None
        except OSError as exc:
            transaction.staged.remove((tmp, path))
            raise InputError(
                f"cannot write {path}: {folder} does not take new files ({exc.strerror or exc})"
            ) from None


@contextlib.contextmanager
def _write_errors(path: Path) -> Iterator[None]:
    try:
        yield
    except PermissionError:
        raise InputError(
            f"cannot write {path}: permission denied (is it open in another program?)"
        ) from None
    except OSError as exc:  # a full disk, a name the file system refuses, ...
        _let_go(exc)
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    except Exception as exc:
        # A writer's own error type around the system's (XlsxWriter's FileCreateError).
        cause = next(
            (e for e in (exc.__cause__, exc.__context__, *exc.args) if isinstance(e, OSError)), None
        )
        if cause is None:
            raise
        _let_go(exc)
        raise InputError(f"cannot write {path}: {cause.strerror or cause}") from None


def _let_go(exc: BaseException) -> None:
    """Free a failed writer's frames now, quietly.

    A writer that failed part-way (a full disk) may leave a zip file open in its frames;
    collected later, its close fails again and Python prints that second failure as a
    traceback. Its OSErrors are dropped here instead: the first one is the message.
    """
    hook = sys.unraisablehook

    def quiet(unraisable) -> None:
        if not isinstance(unraisable.exc_value, OSError):
            hook(unraisable)

    sys.unraisablehook = quiet
    try:
        while exc is not None:
            traceback.clear_frames(exc.__traceback__)
            exc.__traceback__ = None
            exc = exc.__cause__ or exc.__context__
        gc.collect()
    finally:
        sys.unraisablehook = hook


def _mode(path: Path) -> int:
    """The permissions the output gets: the old file's, else the usual ones for new files."""
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def escape_formulas(table: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with ``'``.

    Parameters
    ----------
    table : DataFrame
        Not changed.

    Returns
    -------
    DataFrame
        A copy whose text cells starting with ``=``, ``+``, ``-``, ``@``, a tab or a
        carriage return start with ``'``; numbers are never touched.

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

    Parameters
    ----------
    table : DataFrame
        The table to write.
    path : str or Path
        The destination; ``.csv`` or ``.parquet``.
    escape : bool
        For CSV, prefix text that a spreadsheet would run as a formula
        (:func:`escape_formulas`).

    Returns
    -------
    Path
        The destination, complete (written through :func:`write_atomic`).

    Raises
    ------
    InputError
        For another suffix, or when the file cannot be written.
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
