"""``clvxl build-workbook``, ``clvxl install-addin`` and ``clvxl freeze``: the Excel files."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from clvxl.errors import InputError

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the Excel subcommands."""
    build = subparsers.add_parser("build-workbook", help="build the template workbook from code")
    build.add_argument(
        "-o", "--output", type=Path, help="default: the template inside the installed package"
    )
    build.set_defaults(func=run_build)

    install = subparsers.add_parser(
        "install-addin", help="copy the CLV ribbon add-in to Excel's start-up folder"
    )
    install.add_argument(
        "--dest", type=Path, help="folder to copy it to (default: Excel's XLSTART)"
    )
    install.set_defaults(func=run_install)

    frozen = subparsers.add_parser(
        "freeze", help="copy a workbook with clvxl formulas replaced by values"
    )
    frozen.add_argument("input", type=Path)
    frozen.add_argument("-o", "--output", type=Path, required=True)
    frozen.set_defaults(func=run_freeze)


def _xlstart() -> Path | None:
    if sys.platform.startswith("win") and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "Microsoft" / "Excel" / "XLSTART"
    if sys.platform == "darwin":
        return Path.home() / "Library/Group Containers/UBF8T346G9.Office/User Content/Startup/Excel"
    return None


def run_build(args: argparse.Namespace) -> int:
    """Build the template workbook (the package's own unless ``--output`` says where)."""
    from clvxl.excel import TEMPLATE, build_template

    print(f"template written to {build_template(args.output or TEMPLATE)}")
    return 0


def run_install(args: argparse.Namespace) -> int:
    """Copy the add-in and say what to do next."""
    from clvxl.excel import ADDIN

    if not ADDIN.exists():
        raise InputError(
            f"the add-in is not at {ADDIN}; run scripts/build_addin.py from a clone of clvxl"
        )
    dest = args.dest or _xlstart()
    if dest is None:
        print(
            f"No Excel on this system. Copy {ADDIN} to Excel's start-up folder (XLSTART) on "
            "Windows or macOS, or run `clvxl install-addin --dest FOLDER`."
        )
        return 0
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ADDIN, dest / ADDIN.name)
    print(f"Installed {dest / ADDIN.name}.")
    print(
        "Next: restart Excel; the CLV tab has 'Recalculate customers'. For the =CLV() functions on "
        "Windows, install xlwings' add-in (`xlwings addin install`), set UDF Modules to udfs and click "
        "Import Functions."
    )
    return 0


def run_freeze(args: argparse.Namespace) -> int:
    """Write a frozen copy and say how many formulas became values."""
    # Imported here: its XML modules cost every other command 60 ms at start-up.
    from clvxl.excel.freeze import freeze

    frozen = freeze(args.input, args.output)
    print(f"{frozen.formulas} clvxl formula(s) replaced by their values in {args.output}")
    for what in frozen.removed:
        print(f"note: left out of the copy for sharing: {what}")
    if frozen.without_value:
        print(
            f"note: {frozen.without_value} of them had no value computed by Excel and are empty; "
            "open the workbook in Excel, recalculate and save it, then freeze it again"
        )
    return 0
