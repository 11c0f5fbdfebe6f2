"""The ``clvxl`` command: argument parsing only; each subcommand lives with its concept.

Every module named in :data:`COMMAND_MODULES` has a ``register(subparsers)`` function
that adds its subcommand(s) and sets ``func`` (a callable taking the parsed
arguments and returning an exit code). A :class:`~clvxl.errors.ClvxlError` is
printed as its message, never as a traceback.

Registering is cheap: a command module imports only light constants at its top (model
names, units, engines) and its ``func`` imports what the command runs on when it is
called, so parsing, ``--help`` and ``--version`` load no pandas, scipy, DuckDB or Arrow.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from clvxl import __version__
from clvxl.errors import ClvxlError

COMMAND_MODULES: tuple[str, ...] = ("clvxl.cli.recalc", "clvxl.cli.fit", "clvxl.cli.excel")


def build_parser() -> argparse.ArgumentParser:
    """The ``clvxl`` argument parser with every subcommand of :data:`COMMAND_MODULES`.

    Returns
    -------
    argparse.ArgumentParser
        A subcommand is required; each sets ``func`` on the parsed arguments.
    """
    parser = argparse.ArgumentParser(
        prog="clvxl",
        description="Customer lifetime value from a transaction log: Excel add-in and command line.",
    )
    parser.add_argument("--version", action="version", version=f"clvxl {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``clvxl`` command.

    A :class:`~clvxl.errors.ClvxlError`, running out of memory or an interrupt is
    printed as one line on standard error, not raised.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        The exit code: the subcommand's (0 when it returns None), 2 after a
        ``ClvxlError`` or ``MemoryError``, 130 after Ctrl+C. Bad arguments, ``--help``
        and ``--version`` exit through ``SystemExit`` as argparse does.
    """
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ClvxlError as exc:
        print(f"clvxl: {exc}", file=sys.stderr)
        return 2
    except MemoryError:
        print(
            "clvxl: the run needs more memory than is free; no output was written "
            "(a workbook log: export it as .csv, which is read in batches)",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print("clvxl: interrupted; no output was written", file=sys.stderr)
        return 130
