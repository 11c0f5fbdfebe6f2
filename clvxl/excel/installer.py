"""``clvxl install-addin``: the CLV ribbon add-in installed where Excel loads it, configured.

The add-in is xlwings' quickstart ribbon add-in (its VBA unchanged, project
``myaddin``). Its VBA reads its settings from the add-in's own sheet
``myaddin.conf`` (the quickstart ships it as ``_myaddin.conf``: inactive) before any
file, so installing means writing a copy of the add-in with that sheet active and
filled in: the Python the button runs (``Interpreter_Win`` / ``Interpreter_Mac``,
the interpreter clvxl is installed in) and the functions' module (``UDF Modules``:
``udfs``). On macOS, RunPython goes through ``AppleScriptTask`` and needs
``xlwings-<version>.applescript`` in Excel's script folder (what ``xlwings runpython
install`` copies), of the exact xlwings version whose VBA the add-in carries
(:data:`ADDIN_XLWINGS_VERSION`).

:func:`install` does all of it and says what it did; :func:`problems` is the check
(``clvxl install-addin --check``): what is missing, in words. :func:`import_functions`
(``clvxl install-addin --functions``, Windows) puts the ``=CLV()`` functions' VBA
wrappers into the installed add-in, so they work in every workbook without the VBA
editor, an ``.xlsm`` or the xlwings reference.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from clvxl.errors import InputError
from clvxl.excel import zipparts

__all__ = [
    "ADDIN_XLWINGS_VERSION",
    "CONF_SHEET",
    "Target",
    "configure",
    "import_functions",
    "install",
    "problems",
    "target_for",
]

#: The xlwings version the add-in's VBA comes from (``scripts/build_addin.py``); the
#: Python side must match it (the macOS AppleScript file carries it in its name).
ADDIN_XLWINGS_VERSION = "0.37.8"
#: The settings sheet the add-in's VBA reads (``PROJECT_NAME & ".conf"``).
CONF_SHEET = "myaddin.conf"
_INACTIVE = "_myaddin.conf"
#: Settings rows of the quickstart's conf sheet: key → row.
CONF_ROWS = {"Interpreter_Win": 1, "Interpreter_Mac": 2, "PYTHONPATH": 3, "UDF Modules": 6}
_SHEET = "xl/worksheets/sheet1.xml"


@dataclass(frozen=True)
class Target:
    """Where the add-in goes on one platform, and what it runs."""

    platform: str  # "windows" or "macos"
    startup: Path  # Excel's start-up folder: add-ins there load with Excel
    interpreter: Path
    scripts: Path | None = None  # macOS: the folder AppleScriptTask runs scripts from

    @property
    def addin(self) -> Path:
        return self.startup / "clvxl_addin.xlam"

    @property
    def key(self) -> str:
        return "Interpreter_Win" if self.platform == "windows" else "Interpreter_Mac"


def target_for(
    platform: str, home: Path, appdata: Path | None = None, python: Path | None = None
) -> Target:
    """The add-in's target on ``platform`` ("windows", "macos") for a user's ``home``.

    On Windows the button runs ``pythonw.exe`` beside ``python`` (no console window)
    when there is one.

    Parameters
    ----------
    platform : str
        ``"windows"`` or ``"macos"``.
    home : Path
        The user's home folder.
    appdata : Path, optional
        Windows' ``%APPDATA%``; default: ``home/AppData/Roaming``. Not used on macOS.
    python : Path, optional
        The Python the button runs; default: the one running now.

    Returns
    -------
    Target
        Excel's start-up folder, the interpreter and, on macOS, the AppleScript folder.

    Raises
    ------
    InputError
        For any other platform.

    Examples
    --------
    >>> target = target_for("macos", Path("/Users/ann"), python=Path("/usr/bin/python3"))
    >>> target.key, target.addin.name, target.scripts.name
    ('Interpreter_Mac', 'clvxl_addin.xlam', 'com.microsoft.Excel')
    """
    python = Path(python or sys.executable)
    if platform == "windows":
        windowless = python.with_name("pythonw.exe")
        appdata = appdata or home / "AppData" / "Roaming"
        return Target(
            "windows",
            appdata / "Microsoft" / "Excel" / "XLSTART",
            windowless if windowless.exists() else python,
        )
    if platform == "macos":
        return Target(
            "macos",
            home / "Library/Group Containers/UBF8T346G9.Office/User Content/Startup/Excel",
            python,
            home / "Library/Application Scripts/com.microsoft.Excel",
        )
    raise InputError(
        f"the ribbon add-in runs in desktop Excel on Windows or macOS, not on {platform}; "
        "use xlwings Lite (clvxl build-lite) in Excel on the web"
    )


def _set_cell(sheet_xml: str, row: int, text: str) -> str:
    """Column B of a conf-sheet row set to ``text`` (an inline string)."""
    cell = f'<c r="B{row}" s="1" t="inlineStr"><is><t>{escape(text)}</t></is></c>'
    found = re.search(rf'<row r="{row}"[^>]*>(.*?)</row>', sheet_xml, re.S)
    if found is None:
        raise InputError(
            f"the add-in's settings sheet has no row {row}: rebuild it with scripts/build_addin.py"
        )
    cells = re.sub(rf'<c r="B{row}"[^>]*?(?:/>|>.*?</c>)', "", found[1], flags=re.S)
    row_xml = found[0].replace(found[1], cells + cell).replace('spans="1:1"', 'spans="1:2"')
    return sheet_xml[: found.start()] + row_xml + sheet_xml[found.end() :]


def configure(source: Path, target: Path, interpreter: Path, key: str) -> None:
    """Write the add-in ``source`` to ``target`` with its settings sheet active and set:
    ``key`` (``Interpreter_Win`` or ``Interpreter_Mac``) = ``interpreter``, UDF Modules =
    ``udfs``.

    Parameters
    ----------
    source : Path
        The add-in as built (``scripts/build_addin.py``), its settings sheet inactive.
    target : Path
        The ``.xlam`` to write; its folder is created if need be.
    interpreter : Path
        The Python the button runs.
    key : str
        ``"Interpreter_Win"`` or ``"Interpreter_Mac"``.

    Raises
    ------
    InputError
        If the settings sheet lacks a row the settings go in.
    """
    with zipfile.ZipFile(source) as package:
        workbook = package.read("xl/workbook.xml").decode()
        sheet = package.read(_SHEET).decode()
        workbook = workbook.replace(f'name="{_INACTIVE}"', f'name="{CONF_SHEET}"')
        sheet = _set_cell(sheet, CONF_ROWS[key], str(interpreter))
        sheet = _set_cell(sheet, CONF_ROWS["UDF Modules"], "udfs")
        new = {"xl/workbook.xml": workbook.encode(), _SHEET: sheet.encode()}
        target.parent.mkdir(parents=True, exist_ok=True)
        zipparts.write(target, package, new, set())


def read_conf(addin: Path) -> tuple[str | None, dict[str, str]]:
    """The add-in's active settings sheet name (None: none active) and its values."""
    with zipfile.ZipFile(addin) as package:
        workbook = package.read("xl/workbook.xml").decode()
        sheet = package.read(_SHEET).decode()
    name = CONF_SHEET if f'name="{CONF_SHEET}"' in workbook else None
    values = {}
    for key, row in CONF_ROWS.items():
        found = re.search(rf'<c r="B{row}"[^>]*t="inlineStr"[^>]*><is><t>(.*?)</t>', sheet, re.S)
        if found:
            values[key] = found[1].replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return name, values


def _xlwings_version() -> str | None:
    try:
        import xlwings
    except ImportError:
        return None
    return xlwings.__version__


def _applescript() -> Path:
    import xlwings

    return Path(xlwings.__file__).parent / f"xlwings-{ADDIN_XLWINGS_VERSION}.applescript"


def _imports_clvxl(interpreter: Path, run=subprocess.run) -> bool:
    try:
        done = run(
            [str(interpreter), "-c", "import clvxl_addin, udfs"], capture_output=True, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def problems(target: Target, run=subprocess.run) -> list[str]:
    """What stands between the user and a working button, in words (empty: nothing).

    Parameters
    ----------
    target : Target
        Where the add-in should be (:func:`target_for`).
    run : callable, default subprocess.run
        Runs the add-in's interpreter to check it imports ``clvxl_addin`` and ``udfs``
        (replaceable in tests).

    Returns
    -------
    list of str
        One sentence per problem, each saying how to fix it.
    """
    found = []
    version = _xlwings_version()
    if version != ADDIN_XLWINGS_VERSION:
        found.append(
            f"xlwings {version or 'is not installed'}{'' if version is None else ' is installed'}; the add-in "
            f"needs xlwings {ADDIN_XLWINGS_VERSION}: pip install 'clvxl[excel]' (it pins that version)"
        )
    if not target.addin.exists():
        found.append(
            f"the add-in is not in Excel's start-up folder ({target.addin}): run clvxl install-addin"
        )
    else:
        sheet, values = read_conf(target.addin)
        if sheet is None:
            found.append("the add-in's settings sheet is not active: run clvxl install-addin again")
        interpreter = values.get(target.key)
        if not interpreter:
            found.append(
                f"the add-in has no {target.key}: the button would run whatever python is on PATH"
            )
        elif not Path(interpreter).exists():
            found.append(
                f"the add-in runs {interpreter}, which does not exist: run clvxl install-addin again"
            )
        elif not _imports_clvxl(Path(interpreter), run):
            found.append(
                f"{interpreter} cannot import clvxl: pip install 'clvxl[excel]' in that Python"
            )
    if target.scripts is not None and not (target.scripts / _applescript().name).exists():
        found.append(
            f"RunPython's AppleScript {_applescript().name} is not in {target.scripts}: run clvxl install-addin"
        )
    return found


def install(source: Path, target: Target, run=subprocess.run) -> list[str]:
    """Install the add-in for ``target``; the lines returned say what was done.

    Parameters
    ----------
    source : Path
        The add-in as built, its settings sheet inactive.
    target : Target
        Where it goes and what it runs (:func:`target_for`).
    run : callable, default subprocess.run
        Runs the target interpreter to check it imports ``clvxl_addin`` and ``udfs``.

    Returns
    -------
    list of str
        Lines for the user: what was installed, then what :func:`problems` still finds
        (or that nothing is missing).

    Raises
    ------
    InputError
        When the Python to run cannot import clvxl, or xlwings is not the add-in's version.
    """
    version = _xlwings_version()
    if version != ADDIN_XLWINGS_VERSION:
        raise InputError(
            f"the add-in's VBA is from xlwings {ADDIN_XLWINGS_VERSION}, this Python has "
            f"{'no xlwings' if version is None else 'xlwings ' + version}: pip install 'clvxl[excel]'"
        )
    if not _imports_clvxl(target.interpreter, run):
        raise InputError(
            f"{target.interpreter} cannot import clvxl_addin: install clvxl in it first"
        )
    configure(source, target.addin, target.interpreter, target.key)
    done = [
        f"Installed {target.addin}",
        f"  settings sheet {CONF_SHEET} active: {target.key} = {target.interpreter}, UDF Modules = udfs",
    ]
    if target.scripts is not None:
        target.scripts.mkdir(parents=True, exist_ok=True)
        shutil.copy2(_applescript(), target.scripts / _applescript().name)
        done.append(f"  RunPython enabled: {target.scripts / _applescript().name}")
    left = problems(target, run)
    done += [f"  still to fix: {p}" for p in left] or ["  checked: nothing missing"]
    return done


#: What Excel must allow once before anything can write VBA into the add-in.
TRUST_VBA = (
    "File > Options > Trust Center > Trust Center Settings > Macro Settings > "
    "Trust access to the VBA project object model"
)


def import_functions(target: Target, xlwings=None) -> list[str]:
    """Put the Excel functions' VBA wrappers into the installed add-in (Windows).

    Starts a hidden Excel through xlwings, opens the installed add-in and runs xlwings'
    own *Import Functions* on it (``xlwings.udfs.import_udfs("udfs", ...)``, what the
    xlwings ribbon's button does), then saves it and quits. The add-in carries xlwings'
    VBA (``XLPy.CallUDF``), so the wrappers need neither xlwings' own add-in nor the VBA
    reference nor an ``.xlsm``, and the functions work in every workbook while the add-in
    is loaded.

    Parameters
    ----------
    target : Target
        The installed add-in (:func:`target_for`, ``platform="windows"``).
    xlwings : module, optional
        The xlwings module (replaceable in tests); default: imported.

    Returns
    -------
    list of str
        Lines for the user: what was done.

    Raises
    ------
    InputError
        Not Windows, no add-in yet, Excel not allowing VBA to be written
        (:data:`TRUST_VBA`), or the add-in open in a running Excel.
    """
    if target.platform != "windows":
        raise InputError(
            "classic xlwings has Excel functions on Windows only; on macOS use xlwings Lite "
            "(clvxl build-lite)"
        )
    if not target.addin.exists():
        raise InputError(f"the add-in is not at {target.addin}: run clvxl install-addin first")
    if xlwings is None:
        import xlwings
        import xlwings.udfs
    app = xlwings.App(visible=False, add_book=False)
    try:
        book = app.books.open(str(target.addin))
        try:
            xlwings.udfs.import_udfs("udfs", book.api)
            book.save()
        except Exception as exc:  # pywintypes.com_error, whose text Excel writes
            reason = " ".join(str(exc).split())
            if "not trusted" in reason.lower() or "vbproject" in reason.lower():
                raise InputError(
                    f"Excel does not let programs write VBA yet: tick {TRUST_VBA}, then run "
                    "clvxl install-addin --functions again"
                ) from None
            raise InputError(
                f"the functions could not be put into {target.addin} ({reason}); close "
                "Excel and run clvxl install-addin --functions again"
            ) from None
    finally:
        app.quit()
    return [f"  functions imported into {target.addin} (module xlwings_udfs): =CLV() and the rest"]
