"""clvxl in xlwings Lite: Excel on Windows, macOS and the web, with no local Python.

xlwings Lite runs Python (Pyodide) inside its Excel add-in; a workbook's code is its
``main.py`` and its packages are listed in its ``requirements.txt``. ``clvxl
build-lite -o DIR`` writes both, and clvxl as a pure-Python wheel to host where the
add-in can fetch it (a URL that allows cross-origin requests):

- ``main.py`` imports every clvxl function (Lite registers the ``@func``-decorated
  functions it finds in ``main.py``) and defines the **Recalculate customers**
  ``@script``, a task-pane button that runs :func:`recalculate_customers`;
- ``requirements.txt`` lists the wheel and its dependencies, all of them in Pyodide
  (numpy, pandas, scipy, pyarrow, duckdb, python-calamine, threadpoolctl) or pure Python
  on PyPI (XlsxWriter, openpyxl, defusedxml).

Nothing on this path starts a thread or loads a C library itself.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from clvxl.errors import ClvxlError, InputError

__all__ = ["MAIN_PY", "REQUIREMENTS", "build_lite", "recalculate_customers"]

#: The Lite ``main.py``: every function, and the button.
MAIN_PY = '''"""clvxl in xlwings Lite: the CLV functions (=CLV(), =AOV(), ...) and a
"Recalculate customers" button (Transactions table in, Customers, Dashboard,
Analysis and Model out)."""

import xlwings as xw
from xlwings import script

from clvxl.excel.lite import recalculate_customers as _recalculate
from clvxl.excel.udfs import *  # noqa: F403  (Lite registers every @func it finds here)


@script
def recalculate_customers(book: xw.Book):
    _recalculate(book)
'''

#: The packages the wheel needs, as Lite installs them (Pyodide's builds are not pinned:
#: their versions come with Pyodide).
REQUIREMENTS = (
    "numpy",
    "pandas",
    "scipy",
    "pyarrow",
    "duckdb",
    "python-calamine",
    "threadpoolctl",
    "xlsxwriter",
    "openpyxl",
    "defusedxml",
)


def recalculate_customers(book) -> None:
    """The Lite button: recalculate the open workbook, as the ribbon button does.

    A clvxl error is shown in a message box, in words; nothing is changed then.

    Parameters
    ----------
    book : xlwings.Book
        The workbook the button runs in (xlwings Lite passes it).
    """
    from clvxl.excel.addin import XlwingsBook
    from clvxl.excel.book import recalc_book

    try:
        recalc_book(XlwingsBook(book))
    except ClvxlError as exc:
        book.app.alert(f"Nothing was changed. {exc}", title="clvxl: Recalculate customers")


def _source_tree() -> Path:
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").exists():
        raise InputError(
            "clvxl build-lite builds the wheel from clvxl's sources: run it in a clone of clvxl "
            "(pip install -e .)"
        )
    return root


def build_lite(folder: Path, wheel_url: str | None = None, run=subprocess.run) -> list[Path]:
    """Write the wheel, ``main.py`` and ``requirements.txt`` into ``folder``.

    Parameters
    ----------
    folder : Path
        Where to write them (created if needed).
    wheel_url : str, optional
        The URL the wheel will be served from; requirements.txt names it (default: the
        wheel's file name, to be replaced by its URL). It is the folder's URL: the
        wheel's file name is appended to it.
    run : callable, default subprocess.run
        Runs ``pip wheel`` (replaceable in tests).

    Returns
    -------
    list of Path
        The wheel, ``main.py`` and ``requirements.txt`` written (a clvxl wheel already
        in ``folder`` is deleted first).

    Raises
    ------
    InputError
        If clvxl is not run from its sources (no ``pyproject.toml``), or building the
        wheel fails (the end of pip's message is quoted).
    """
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("clvxl-*.whl"):
        old.unlink()
    done = run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(folder),
            str(_source_tree()),
        ],
        capture_output=True,
        text=True,
    )
    wheels = sorted(folder.glob("clvxl-*-py3-none-any.whl"))
    if done.returncode != 0 or not wheels:
        raise InputError(f"building the clvxl wheel failed: {done.stderr.strip()[-500:]}")
    wheel = wheels[-1]
    main = folder / "main.py"
    main.write_text(MAIN_PY)
    requirements = folder / "requirements.txt"
    location = wheel_url.rstrip("/") + "/" + wheel.name if wheel_url else wheel.name
    requirements.write_text("\n".join([location, *REQUIREMENTS]) + "\n")
    return [wheel, main, requirements]
