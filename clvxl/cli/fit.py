"""``clvxl fit MODEL INPUT``: fit one model and print its parameters (table or JSON).

The options need only the model names and units; reading, summarising and fitting
(:mod:`clvxl.cli.fitting`) are imported when the command runs.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from clvxl.models import REGISTRY
from clvxl.units import UNIT_NAMES

__all__ = ["register"]


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


def run(args: argparse.Namespace) -> int:
    """Run ``clvxl fit``."""
    from clvxl.cli.fitting import fit_model

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
