"""``clvxl build-workbook``, ``clvxl install-addin`` and ``clvxl freeze``: the Excel files."""

from __future__ import annotations

import argparse
import os
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
        "install-addin",
        help="install the CLV ribbon add-in, configured to run this Python, and check it",
    )
    install.add_argument(
        "--check", action="store_true", help="only say what is missing for a working button"
    )
    install.add_argument(
        "--platform",
        choices=("windows", "macos"),
        help="default: this computer's (for installing into another home, with --home)",
    )
    install.add_argument("--home", type=Path, help="the user's home folder (default: yours)")
    install.add_argument(
        "--functions",
        action="store_true",
        help="Windows: also put the =CLV() functions into the add-in (opens Excel hidden once)",
    )
    install.set_defaults(func=run_install)

    lite = subparsers.add_parser(
        "build-lite",
        help="write clvxl for xlwings Lite: a pure-Python wheel, main.py and requirements.txt",
    )
    lite.add_argument("-o", "--output", type=Path, default=Path("lite"), help="default: lite/")
    lite.add_argument("--wheel-url", help="the folder URL the wheel will be served from")
    lite.set_defaults(func=run_build_lite)

    frozen = subparsers.add_parser(
        "freeze", help="copy a workbook with clvxl formulas replaced by values"
    )
    frozen.add_argument("input", type=Path)
    frozen.add_argument("-o", "--output", type=Path, required=True)
    frozen.set_defaults(func=run_freeze)


def _platform() -> str:
    return {"win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform)


def run_build(args: argparse.Namespace) -> int:
    """Build the template workbook (the package's own unless ``--output`` says where)."""
    from clvxl.excel import TEMPLATE, build_template

    print(f"template written to {build_template(args.output or TEMPLATE)}")
    return 0


def run_install(args: argparse.Namespace) -> int:
    """Install (or with ``--check`` only check) the add-in; say what was done or is missing."""
    from clvxl.excel import ADDIN, installer

    if not ADDIN.exists():
        raise InputError(
            f"the add-in is not at {ADDIN}; run scripts/build_addin.py from a clone of clvxl"
        )
    home = args.home or Path.home()
    appdata = Path(os.environ["APPDATA"]) if "APPDATA" in os.environ and not args.home else None
    target = installer.target_for(args.platform or _platform(), home, appdata)
    if args.check:
        found = installer.problems(target)
        for problem in found:
            print(f"missing: {problem}")
        print("The add-in is ready." if not found else f"{len(found)} thing(s) to fix.")
        return 1 if found else 0
    lines = installer.install(ADDIN, target)
    if args.functions:
        lines += installer.import_functions(target)
    for line in lines:
        print(line)
    print(
        "Next: restart Excel; the CLV tab has 'Recalculate customers'."
        + (
            ""
            if args.functions or target.platform != "windows"
            else " For the =CLV() functions: clvxl install-addin --functions."
        )
    )
    return 0


def run_build_lite(args: argparse.Namespace) -> int:
    """Write the Lite files and say where each goes."""
    from clvxl.excel.lite import build_lite

    wheel, main, requirements = build_lite(args.output, args.wheel_url)
    print(f"{wheel.name}: host it where xlwings Lite can fetch it (cross-origin allowed)")
    print(f"{main}: paste into the xlwings Lite editor's main.py")
    print(
        f"{requirements}: paste into its requirements.txt tab"
        + ("" if args.wheel_url else f" (replace {wheel.name} by its URL)")
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
