"""``clvxl fit MODEL INPUT``: fit one model and print its parameters (table or JSON).

The options need only the model names and units; reading, summarising and the models
are imported when the command runs.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

from clvxl.errors import InputError
from clvxl.models import REGISTRY, model_info
from clvxl.units import UNIT_NAMES

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["fit_model", "register"]

_ALIASES = {
    "frequency": ("frequency", "x"),
    "recency": ("recency", "t_x"),
    "T": ("T",),
    "monetary": ("monetary", "zbar", "monetary_value"),
    "weights": ("weights", "count"),
    "periods": ("periods", "n"),
}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``fit`` subcommand."""
    parser = subparsers.add_parser(
        "fit",
        help="fit a probabilistic model and print its parameters",
        description="Fit BG/NBD, Pareto/NBD, Gamma-Gamma, BG/BB or sBG by maximum likelihood. "
        "INPUT is a per-customer summary (frequency/x, recency/t_x, T, monetary/zbar, weights), "
        "a transaction log (summarised first), for bgbb frequency,recency,periods,weights, "
        "for sbg a survival table (--column).",
    )
    parser.add_argument("model", choices=list(REGISTRY))
    parser.add_argument("input", type=Path)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--column", help="sbg: the survival table's column to fit")
    parser.add_argument(
        "--unit",
        default="weeks",
        choices=UNIT_NAMES,
        help="time unit when INPUT is a transaction log (default weeks)",
    )
    parser.add_argument("--as-of", help="end of the calibration period for a transaction log")
    parser.set_defaults(func=run)


def _column(table: pd.DataFrame, role: str, required: bool = True):
    for name in _ALIASES[role]:
        if name in table.columns:
            return table[name].to_numpy(dtype=float)
    if required:
        raise InputError(
            f"the input has no {role} column (accepted: {', '.join(_ALIASES[role])}); "
            f"its columns are {', '.join(map(str, table.columns))}"
        )
    return None


def _summary_or_log(path: Path, unit: str, as_of: str | None) -> tuple[pd.DataFrame, str]:
    from clvxl.clean import clean_transactions
    from clvxl.sources import read_log
    from clvxl.summary import EngineLog, summarize

    raw = read_log(path)
    if any(name in raw.table.columns for name in _ALIASES["frequency"]):
        return raw.table, unit
    summary = summarize(EngineLog.from_clean(clean_transactions(raw).table), as_of, unit)
    return summary.table, summary.unit.value


def fit_model(
    model: str, path: Path, column: str | None = None, unit: str = "weeks", as_of: str | None = None
):
    """Fit ``model`` to the data in ``path`` and return the fitted value."""
    from clvxl.models import bgbb, gammagamma, sbg
    from clvxl.sources import read_log

    if model == "sbg":
        table = read_log(path).table
        if column is None or column not in table.columns:
            raise InputError(
                f"give the survival column with --column (one of {', '.join(map(str, table.columns))})"
            )
        return sbg.fit(table[column])
    if model == "bgbb":
        table = read_log(path).table
        return bgbb.fit(
            _column(table, "frequency"),
            _column(table, "recency"),
            _column(table, "periods"),
            _column(table, "weights", required=False),
        )
    table, unit = _summary_or_log(path, unit, as_of)
    weights = _column(table, "weights", required=False)
    if model == "gammagamma":
        return gammagamma.fit(_column(table, "frequency"), _column(table, "monetary"), weights)
    return model_info(model, "purchase").module.fit(
        _column(table, "frequency"),
        _column(table, "recency"),
        _column(table, "T"),
        weights,
        time_unit=unit,
    )


def run(args: argparse.Namespace) -> int:
    """Run ``clvxl fit``."""
    fitted = fit_model(args.model, args.input, args.column, args.unit, args.as_of)
    unit = getattr(fitted, "time_unit", None)
    if args.json:
        print(
            json.dumps(
                {
                    "model": args.model,
                    "params": fitted.params,
                    "stderr": {
                        k: (None if not math.isfinite(v) else v) for k, v in fitted.stderr.items()
                    },
                    "loglik": fitted.loglik,
                    "n": fitted.n,
                    "time_unit": unit.value if unit else None,
                }
            )
        )
        return 0
    print(
        f"{fitted.name} fitted on {fitted.n:,.0f} customers ({fitted.patterns:,} distinct patterns)"
        + (f", time unit {unit.value}" if unit else "")
    )
    print(f"  {'parameter':<10} {'estimate':>12} {'std. error':>12}")
    for name, value in fitted.params.items():
        print(f"  {name:<10} {value:>12.4f} {fitted.stderr.get(name, float('nan')):>12.4f}")
    print(f"  log-likelihood {fitted.loglik:.2f}")
    return 0
