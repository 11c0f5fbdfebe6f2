"""``clvxl recalc`` and ``clvxl demo``: the recalculation from the command line.

The options need only light constants; the core (pandas, scipy, DuckDB, Arrow) is
imported by the functions that run a command, so ``clvxl --version`` and the other
commands start without it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from clvxl.errors import InputError
from clvxl.models import BUSINESSES, MODEL_CHOICES
from clvxl.summary import ENGINES
from clvxl.summary.spark import DEFAULT_MASTER
from clvxl.units import MONTHS, UNIT_NAMES

if TYPE_CHECKING:
    from clvxl.clean.formats import Reading
    from clvxl.output import Progress
    from clvxl.recalc import RecalcResult
    from clvxl.sources import LogScan, RawLog

__all__ = ["register"]

_COLUMN_FLAGS = {
    "customer_id": "--customer-col",
    "date": "--date-col",
    "amount": "--amount-col",
    "order_id": "--order-col",
    "cost": "--cost-col",
    "margin": "--margin-col",
    "quantity": "--quantity-col",
    "unit_price": "--unit-price-col",
    "status": "--status-col",
    "refund": "--refund-col",
    "currency": "--currency-col",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``recalc`` and ``demo`` subcommands."""
    recalc = subparsers.add_parser(
        "recalc",
        help="recalculate the customer table from a transaction log",
        description="Read a transaction log (.xlsx, .csv or .parquet) and write the customer "
        "table (.csv or .parquet) or a workbook with Customers, Dashboard and Model (.xlsx).",
    )
    recalc.add_argument(
        "input",
        type=Path,
        nargs="?",
        help="transaction log: .xlsx, .csv, .parquet, a folder of .parquet files, or a "
        "DuckDB database file to run --sql in",
    )
    recalc.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="customer table (.csv, .parquet) or workbook (.xlsx)",
    )
    _settings_options(recalc)
    recalc.set_defaults(func=run_recalc)

    demo = subparsers.add_parser(
        "demo",
        help="recalculate the bundled demo log into clvxl-demo.xlsx",
        description="Recalculate the demo log shipped with clvxl (1,178 CDNOW customers) "
        "into a workbook and print a short summary.",
    )
    demo.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("clvxl-demo.xlsx"),
        help="where to write the demo workbook (default: clvxl-demo.xlsx)",
    )
    demo.add_argument("--quiet", action="store_true", help="print nothing but errors")
    demo.set_defaults(func=run_demo)


#: The options of ``clvxl recalc``, by group: (flags, argparse keywords).
_OPTIONS: dict[str, list[tuple[tuple[str, ...], dict]]] = {
    "settings (override an .xlsx input's Settings sheet)": [
        (("--as-of",), {"help": "end of the observation period, YYYY-MM-DD (default: last date)"}),
        (("--horizon",), {"type": float, "help": "CLV horizon in months (default 12)"}),
        (
            ("--discount-rate",),
            {"type": float, "help": "yearly discount rate, e.g. 0.10 (default 0.10)"},
        ),
        (
            ("--margin",),
            {
                "type": float,
                "help": "gross margin as a fraction, e.g. 0.3 (default: from costs, else 1)",
            },
        ),
        (("--cac",), {"type": float, "help": "customer acquisition cost, for LTV:CAC"}),
        (("--unit",), {"choices": UNIT_NAMES, "help": "time unit (default weeks)"}),
        (
            ("--model",),
            {
                "choices": MODEL_CHOICES,
                "help": "purchase model for predicted CLV (default auto: chosen by the "
                "holdout check among the models that let one-time buyers have left)",
            },
        ),
        (
            ("--business",),
            {
                "choices": BUSINESSES,
                "help": "what the log is: auto (default: regular invoices per account are "
                "read as subscriptions, with a note), transactions or subscription",
            },
        ),
        (
            ("--month",),
            {
                "choices": list(MONTHS),
                "help": "month length: calendar = 365.25/12 days (default), or lifetimes' "
                "4.345 weeks / 30 days",
            },
        ),
    ],
    "reading the log": [
        (
            ("--on-error",),
            {
                "choices": ["stop", "skip"],
                "default": "stop",
                "help": "bad rows: stop and list them (default), or set them aside and go on",
            },
        ),
        (
            ("--dedupe",),
            {
                "action": "store_true",
                "help": "count lines that repeat an earlier line exactly (an order exported twice) once",
            },
        ),
        (("--sheet",), {"help": "sheet to read from a workbook without a Transactions table"}),
        (
            ("--sql",),
            {
                "metavar": "QUERY",
                "help": 'read the log with a DuckDB query, e.g. "SELECT * FROM '
                "read_parquet('x/*.parquet')\" (in the database file given as input, if any)",
            },
        ),
        (
            ("--engine",),
            {
                "choices": ENGINES,
                "default": "duckdb",
                "help": "what runs the per-customer summary: embedded DuckDB (default) or Spark",
            },
        ),
        (
            ("--spark-master",),
            {
                "default": DEFAULT_MASTER,
                "metavar": "URL",
                "help": f"Spark master for --engine spark (default {DEFAULT_MASTER}; "
                "e.g. spark://host:7077, yarn)",
            },
        ),
        *(
            (
                (flag,),
                {"dest": f"col_{role}", "metavar": "NAME", "help": f"header of the {role} column"},
            )
            for role, flag in _COLUMN_FLAGS.items()
        ),
        (
            ("--format",),
            {
                "metavar": "NAME",
                "help": "read the file as the known export NAME (a wrong name lists them), "
                "or 'plain' to recognise none (default: recognised by the header)",
            },
        ),
        (
            ("--paid-status",),
            {
                "metavar": "WORDS",
                "help": "comma-separated status values that are revenue (with --status-col; "
                "default: paid, completed, processing, ... in several languages)",
            },
        ),
        (
            ("--currency",),
            {
                "metavar": "CODE",
                "help": "keep only lines in this currency (of the currency column), or 'any' "
                "when the amounts are converted to one currency already",
            },
        ),
        (
            ("--where",),
            {
                "metavar": "CONDITION",
                "help": "keep only the lines for which this SQL condition on the file's "
                "columns holds, e.g. \"Country = 'DE'\"",
            },
        ),
        (
            ("--encoding",),
            {"metavar": "NAME", "help": "encoding of a text file, e.g. cp1252, utf-16 "
             "(default: UTF-16 or UTF-8 when the bytes say so, else Windows-1252)"},
        ),
        (
            ("--header-row",),
            {"type": int, "metavar": "N", "help": "sheet row of a workbook's header "
             "(default: found below any title rows)"},
        ),
        (
            ("--timezone",),
            {
                "metavar": "ZONE",
                "help": "count times written with an offset on their day in this zone, e.g. "
                "Europe/Berlin (default: the day as written)",
            },
        ),
    ],
    "output": [
        (
            ("--no-csv-escape",),
            {
                "action": "store_true",
                "help": "write text starting with = + - @ as is in CSV (for machine consumers)",
            },
        ),
        (("--quiet",), {"action": "store_true", "help": "no progress display"}),
    ],
}
#: The Settings keys the command line can set, each from the option of its name.
_SETTING_KEYS = (
    "as_of",
    "horizon",
    "discount_rate",
    "margin",
    "cac",
    "unit",
    "model",
    "month",
    "business",
)


def _settings_options(parser: argparse.ArgumentParser) -> None:
    for title, options in _OPTIONS.items():
        group = parser.add_argument_group(title)
        for flags, keywords in options:
            group.add_argument(*flags, **keywords)
        if title == "reading the log":
            order = group.add_mutually_exclusive_group()
            for how, example in (("dayfirst", "3 April"), ("monthfirst", "4 March")):
                order.add_argument(
                    f"--{how}",
                    action="store_const",
                    const=how,
                    dest="dates",
                    help=f"read 03/04/2024 as {example}",
                )


def _settings_values(args: argparse.Namespace) -> dict[str, object]:
    return {key: getattr(args, key) for key in _SETTING_KEYS if getattr(args, key) is not None}


def _columns(args: argparse.Namespace) -> dict[str, str]:
    return {
        role: getattr(args, f"col_{role}") for role in _COLUMN_FLAGS if getattr(args, f"col_{role}")
    }


def _reading(args: argparse.Namespace) -> Reading:
    from clvxl.clean.formats import Reading

    paid = tuple(w for w in (args.paid_status or "").split(",") if w.strip())
    return Reading(args.format, paid, args.currency, args.where)


def run_recalc(args: argparse.Namespace) -> int:
    """Run ``clvxl recalc``: read, recalculate, write completely or not at all."""
    from clvxl._runtime.memory import prompt_release
    from clvxl.output import Progress

    _check_paths(args)
    prompt_release()  # a batch job: its peak memory matters more than reusing freed pages
    progress = Progress(args.quiet)
    progress.step(f"reading {args.input.name if args.input is not None else 'the query'}")
    options = {
        "on_error": args.on_error,
        "columns": _columns(args),
        "dates": args.dates or "auto",
        "dedupe": args.dedupe,
        "timezone": args.timezone,
        "reading": _reading(args),
        "engine": args.engine,
        "spark_master": args.spark_master,
    }
    from clvxl.output import output_transaction

    with output_transaction():  # the output and its rejected rows: both, or neither
        if _is_workbook(args.input) and args.output.suffix.lower() == ".xlsx":
            from clvxl.excel import FileBook, recalc_book  # the Excel edge only for a workbook

            book = FileBook(args.input, args.output, args.sheet)
            result = recalc_book(book, _settings_values(args), **options)
            _write_rejected(result, args.output, escape=not args.no_csv_escape)
        else:
            result = _recalc_log(args, options, progress)
    progress.done()
    if not args.quiet:
        _report(result, args.output)
    return 0


def _is_workbook(path: Path | None) -> bool:
    return path is not None and path.suffix.lower() in (".xlsx", ".xlsm")


def _check_paths(args: argparse.Namespace) -> None:
    """Refuse, before any work, what cannot be read or written; warn of an open workbook."""
    from clvxl.sources import DATABASES

    source, output = args.input, args.output
    if output.suffix.lower() not in (".csv", ".parquet", ".xlsx"):
        raise InputError(
            f"cannot write {output.name}: give an output ending in .csv, .parquet or .xlsx"
        )
    if source is None and not args.sql:
        raise InputError("give a transaction log to read, or a query with --sql")
    if source is None:
        return
    if args.sql and source.suffix.lower() not in DATABASES:
        raise InputError(
            f"--sql runs in a DuckDB database file ({', '.join(DATABASES)}), not in {source.name}; "
            "leave out the input to query files directly"
        )
    _check_outputs_against(source, output)
    lock = source.with_name(f"~${source.name}")
    if lock.exists():
        print(
            f"clvxl: warning: {source.name} seems to be open in Excel ({lock.name} exists); "
            "reading the last saved version",
            file=sys.stderr,
        )


def _check_outputs_against(source: Path, output: Path) -> None:
    """Refuse outputs that would overwrite the input, or be read back as part of it."""
    from clvxl.output import same_file

    for path, what in ((output, "the output"), (_rejected_path(output), "the rejected-rows file")):
        if same_file(path, source):
            raise InputError(
                f"{what} {path} is the input; write to another file"
                + (
                    ""
                    if path == output
                    else f" (-o {output.name} writes its bad rows to {path.name})"
                )
            )
    # The folder is the input: a file written into it changes the input (and a .parquet
    # output would be read back as part of the log next time).
    if source.is_dir() and output.resolve().is_relative_to(source.resolve()):
        raise InputError(
            f"the output {output} is inside the input folder {source}, which is the log and "
            "is never written to; write it outside the folder"
        )


def _recalc_log(args: argparse.Namespace, options: dict, progress: Progress) -> RecalcResult:
    """A log (or a workbook's log) recalculated into a table or a new workbook."""
    from clvxl.recalc import Settings, recalculate
    from clvxl.sources import read_log, read_sql, scan_log, scan_sql

    source, output = args.input, args.output
    to_workbook = output.suffix.lower() == ".xlsx"
    if to_workbook or _is_workbook(
        source
    ):  # a workbook output shows the log; a workbook is read whole
        # The Excel edge only here: what follows uses its names only for a workbook.
        from clvxl.excel import EXCEL_MAX_ROWS, read_settings

        raw = (
            read_sql(args.sql, source)
            if args.sql
            else read_log(source, args.sheet, args.encoding, args.header_row)
        )
    else:  # in batches: a log of any length
        raw = scan_sql(args.sql, source) if args.sql else scan_log(source, encoding=args.encoding)
    if to_workbook and len(raw.table) >= EXCEL_MAX_ROWS:
        raise InputError(
            f"{raw.source} has {len(raw.table):,} rows, more than an Excel sheet holds "
            f"({EXCEL_MAX_ROWS - 1:,} below the header); write the customer table to "
            ".parquet or .csv instead"
        )
    values = read_settings(source) if _is_workbook(source) else {}
    values.update(_settings_values(args))
    progress.step("recalculating")
    result = recalculate(raw, Settings.from_mapping(values), sheets=to_workbook, **options)
    progress.step(f"writing {output.name}")
    _write(result, raw, output, escape=not args.no_csv_escape)
    return result


def _write(result: RecalcResult, raw: RawLog | LogScan, output: Path, escape: bool = True) -> None:
    """The output and its rejected rows, as one transaction."""
    from clvxl.output import output_transaction, write_table

    with output_transaction():
        if output.suffix.lower() == ".xlsx":
            from clvxl.excel import write_result_workbook

            write_result_workbook(output, raw.table, result)
        else:
            write_table(result.customers, output, escape=escape)
        _write_rejected(result, output, escape)


def _write_rejected(result: RecalcResult, output: Path, escape: bool) -> None:
    """The rejected rows beside the output; without any, an earlier run's file is removed
    (it would be taken for this run's)."""
    from clvxl.output import remove_output, write_table

    path = _rejected_path(output)
    if len(result.rejected):
        write_table(result.rejected, path, escape=escape)
    else:
        remove_output(path)


def _rejected_path(output: Path) -> Path:
    return output.with_name(f"{output.stem}.rejected.csv")


def _report(result: RecalcResult, output: Path) -> None:
    print(f"{len(result.customers):,} customers written to {output}")
    model = result.model
    for name in model["model"].unique() if len(model) else ():
        fit = model[model["model"] == name].set_index("parameter")["value"]
        print(
            f"{name} fitted on {fit['customers']:,.0f} customers, "
            f"{fit['distinct patterns']:,.0f} distinct patterns"
        )
    if len(result.rejected):
        rows = result.rejected["row"].nunique()
        print(
            f"{rows:,} bad row{'s' if rows != 1 else ''} set aside, with the reason, in {_rejected_path(output)}"
        )
    for note in result.notes:
        print(f"note: {note}")


def run_demo(args: argparse.Namespace) -> int:
    """Run ``clvxl demo``: recalculate the demo log into a workbook and summarise it."""
    from clvxl.recalc import recalculate
    from clvxl.sources import demo_log

    raw = demo_log()
    result = recalculate(raw)
    _write(result, raw, args.output)
    if not args.quiet:
        print(demo_summary(result, args.output))
    return 0


def demo_summary(result: RecalcResult, output: Path) -> str:
    """A few lines a finance user reads first: the KPIs and the largest segments."""
    kpis = dict(zip(result.kpis["kpi"], result.kpis["value"], strict=True))
    lines = [f"Demo workbook written to {output}", ""]
    for name, value in kpis.items():
        lines.append(f"  {name:<48} {_fmt(name, value)}")
    lines += ["", "  Largest segments (customers, share of revenue):"]
    top = result.segments.sort_values("customers", ascending=False).head(5)
    for _, seg in top.iterrows():
        lines.append(
            f"    {seg['segment']:<22} {int(seg['customers']):>6,}  {seg['revenue_share']:6.1%}"
        )
    return "\n".join(lines)


def _fmt(name: str, value: object) -> str:
    if isinstance(value, float) and "rate" in name.lower():
        return f"{value:.1%}"
    if isinstance(value, int) or (
        isinstance(value, float) and value.is_integer() and "CLV" not in name
    ):
        return f"{int(value):,}"
    return f"{value:,.2f}"
