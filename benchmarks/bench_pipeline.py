"""The whole refresh, log file to customer table, against the lifetimes pipeline.

    python benchmarks/bench_pipeline.py          # 100,000 and 1,000,000 rows
    python benchmarks/bench_pipeline.py --full   # and 10,000,000 rows

clvxl: ``clvxl recalc log.csv -o customers.parquet`` (read, clean, summary, RFM, tiers,
cohorts, BG/NBD + Gamma-Gamma fit, holdout check, 12-month CLV, write). lifetimes: read
with pandas, ``summary_data_from_transaction_data``, BetaGeoFitter, GammaGammaFitter,
12-month ``customer_lifetime_value`` (no output written). Each runs in a fresh process;
peak RSS is that process's maximum resident memory, in MiB.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys

from _reference import DATA, HERE, reference_python, timed
from generate_log import generate, write


def log_file(rows: int):
    path = DATA / f"log_{rows}.csv"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        write(generate(rows), path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="add the 10,000,000-row log")
    parser.add_argument(
        "--lifetimes-up-to",
        type=int,
        default=1_000_000,
        help="largest log to run lifetimes on (default 1,000,000)",
    )
    args = parser.parse_args()
    sizes = [100_000, 1_000_000] + ([10_000_000] if args.full else [])
    print(
        f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, Python {platform.python_version()}"
    )
    print(
        f"{'rows':>11} {'customers':>10} {'clvxl s':>8} {'clvxl MiB':>9} {'lifetimes s':>12} {'lifetimes MiB':>13} {'speed-up':>9}"
    )
    for rows in sizes:
        path = log_file(rows)
        ours = timed(
            [
                sys.executable,
                "-m",
                "clvxl.cli",
                "recalc",
                str(path),
                "-o",
                str(DATA / f"customers_{rows}.parquet"),
                "--quiet",
            ]
        )
        customers = int(
            __import__("pyarrow.parquet", fromlist=["x"])
            .read_metadata(DATA / f"customers_{rows}.parquet")
            .num_rows
        )
        theirs_s = theirs_mb = ratio = "—"
        if rows <= args.lifetimes_up_to:
            theirs = timed(
                [str(reference_python()), str(HERE / "_lifetimes_worker.py"), "pipeline", str(path)]
            )
            check = json.loads(theirs["stdout"].strip().splitlines()[-1])
            assert check["finite"] and check["customers"] == customers, check
            theirs_s, theirs_mb = f"{theirs['seconds']:.2f}", f"{theirs['peak_mb']:.0f}"
            ratio = f"{theirs['seconds'] / ours['seconds']:.1f}×"
        print(
            f"{rows:>11,} {customers:>10,} {ours['seconds']:>8.2f} {ours['peak_mb']:>9.0f} {theirs_s:>12} {theirs_mb:>13} {ratio:>9}"
        )


if __name__ == "__main__":
    main()
