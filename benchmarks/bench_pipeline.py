"""Where users wait, against lifetimes 0.11.3 in the same run: one table.

    python benchmarks/bench_pipeline.py          # every row but 10,000,000 rows
    python benchmarks/bench_pipeline.py --full   # and the 10,000,000-row log

Rows (medians of ``--runs`` rounds, clvxl and lifetimes in turn, the ratio taken round
by round; peak is the process's maximum resident memory, in MiB):

- cold: ``clvxl recalc log.csv -o customers.parquet`` as a fresh process (read, clean,
  summary, RFM, tiers, BG/NBD + Gamma-Gamma, 12-month CLV, write) against lifetimes
  reading the log with pandas, ``summary_data_from_transaction_data``, BetaGeoFitter,
  GammaGammaFitter and 12-month ``customer_lifetime_value`` (writing nothing);
- warm: the second and later calls in one process on the log read once: clvxl's
  ``recalculate`` (the customer table) against the lifetimes steps above; clvxl reuses
  the models it fitted on the same customers (:mod:`clvxl._runtime.memo`), and a third
  row fits them afresh on every call, as lifetimes' steps do;
- fit: ``clvxl fit bgnbd`` / ``paretonbd`` on 100,000 customers' summary as whole
  processes against lifetimes fitting the same file in a fresh process;
- the workbook rows come from ``bench_workbook.py`` when it is there (:func:`workbook_rows`).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys

from _reference import DATA, HERE, reference_python, timed
from generate_log import generate, write

#: The workbook refresh and the button's Python side are measured by this script, when
#: present; its output is printed after the table.
WORKBOOK_BENCH = HERE / "bench_workbook.py"

_WARM = (
    "import json, sys, time\n"
    "from clvxl._runtime.memo import forget_all\n"
    "from clvxl.recalc import recalculate\n"
    "from clvxl.sources import read_log\n"
    "raw = read_log(sys.argv[1])\n"
    "seconds = []\n"
    "for _ in range(int(sys.argv[2])):\n"
    "    if sys.argv[3] == 'afresh':\n"
    "        forget_all()\n"
    "    start = time.perf_counter()\n"
    "    result = recalculate(raw, sheets=False)\n"
    "    seconds.append(time.perf_counter() - start)\n"
    "print(json.dumps({'customers': len(result.customers), 'seconds': seconds[1:]}))\n"
)


def log_file(rows: int):
    path = DATA / f"log_{rows}.csv"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        write(generate(rows), path)
    return path


def summary_file(customers: int):
    """A simulated per-customer summary (bench_models' customers), written once."""
    path = DATA / f"summary_{customers // 1000}k.csv"
    if not path.exists():
        from bench_models import simulated

        DATA.mkdir(exist_ok=True)
        simulated(customers).to_csv(path, index=False)
    return path


def rounds(ours: list[str], theirs: list[str] | None, runs: int) -> dict:
    """Both commands ``runs`` times in turn: medians of seconds and peaks, and of the ratios."""
    mine, yours, ratios = [], [], []
    for _ in range(runs):
        mine.append(timed(ours))
        if theirs is not None:
            yours.append(timed(theirs))
            ratios.append(yours[-1]["seconds"] / mine[-1]["seconds"])
    out = {
        "ours": statistics.median(r["seconds"] for r in mine),
        "ours_mb": statistics.median(r["peak_mb"] for r in mine),
        "last": mine[-1],
    }
    if theirs is not None:
        out |= {
            "theirs": statistics.median(r["seconds"] for r in yours),
            "theirs_mb": statistics.median(r["peak_mb"] for r in yours),
            "ratio": statistics.median(ratios),
            "their_last": yours[-1],
        }
    return out


def row(label: str, size: str, m: dict) -> str:
    theirs = f"{m['theirs']:.2f}" if "theirs" in m else "—"
    their_mb = f"{m['theirs_mb']:.0f}" if "theirs_mb" in m else "—"
    ours_mb = f"{m['ours_mb']:.0f}" if "ours_mb" in m else "—"
    ratio = f"{m['ratio']:.1f}×" if "ratio" in m else "—"
    return f"| {label} | {size} | {m['ours']:.2f} | {ours_mb} | {theirs} | {their_mb} | {ratio} |"


def cold(rows: int, runs: int, with_lifetimes: bool) -> str:
    path = log_file(rows)
    out = DATA / f"customers_{rows}.parquet"
    ours = [sys.executable, "-m", "clvxl.cli", "recalc", str(path), "-o", str(out), "--quiet"]
    theirs = [str(reference_python()), str(HERE / "_lifetimes_worker.py"), "pipeline", str(path)]
    m = rounds(ours, theirs if with_lifetimes else None, runs)
    if with_lifetimes:
        check = json.loads(m["their_last"]["stdout"].strip().splitlines()[-1])
        customers = __import__("pyarrow.parquet", fromlist=["x"]).read_metadata(out).num_rows
        assert check["finite"] and check["customers"] == customers, check
    return row("cold `clvxl recalc`", f"{rows:,} rows", m)


def warm(rows: int, calls: int, afresh: bool = False) -> str:
    """clvxl's and lifetimes' later calls in one process each: medians of the calls
    (``afresh``: clvxl fits its models again on each call instead of reusing them)."""
    path = log_file(rows)
    how = "afresh" if afresh else "reuse"
    ours = timed([sys.executable, "-c", _WARM, str(path), str(calls), how])
    theirs = timed([str(reference_python()), str(HERE / "_lifetimes_worker.py"), "warm", str(path)])
    mine = json.loads(ours["stdout"].strip().splitlines()[-1])
    yours = json.loads(theirs["stdout"].strip().splitlines()[-1])
    assert mine["customers"] == yours["customers"] and yours["finite"], (mine, yours)
    m = {"ours": statistics.median(mine["seconds"]), "theirs": statistics.median(yours["seconds"])}
    m["ratio"] = m["theirs"] / m["ours"]
    label = "fits made afresh" if afresh else "fits reused"
    return row(f"warm `recalculate` (later calls, {label})", f"{rows:,} rows", m)


def fit(model: str, customers: int, runs: int) -> str:
    path = summary_file(customers)
    ours = [sys.executable, "-m", "clvxl.cli", "fit", model, str(path), "--json"]
    theirs = [str(reference_python()), str(HERE / "_lifetimes_worker.py"), model, str(path)]
    return row(
        f"`clvxl fit {model}` (process)", f"{customers:,} customers", rounds(ours, theirs, runs)
    )


def workbook_rows() -> str | None:
    """What ``bench_workbook.py`` prints (the workbook refresh, the button), if it exists."""
    if not WORKBOOK_BENCH.exists():
        return None
    done = subprocess.run(
        [sys.executable, str(WORKBOOK_BENCH)], capture_output=True, text=True, check=True
    )
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="add the 10,000,000-row log")
    parser.add_argument("--runs", type=int, default=3, help="rounds of each pair (default 3)")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, Python {platform.python_version()}"
    )
    print("| what | data | clvxl s | clvxl MiB | lifetimes s | lifetimes MiB | speed-up |")
    print("|---|---|---:|---:|---:|---:|---:|")
    lines = [lambda: cold(100_000, args.runs, True), lambda: cold(1_000_000, args.runs, True)]
    if args.full:  # lifetimes is not run on 10,000,000 rows
        lines.append(lambda: cold(10_000_000, args.runs, False))
    lines += [
        lambda: warm(100_000, 1 + 2 * args.runs),
        lambda: warm(1_000_000, 1 + 2 * args.runs),
        lambda: warm(1_000_000, 1 + 2 * args.runs, afresh=True),
        lambda: fit("bgnbd", 100_000, args.runs),
        lambda: fit("paretonbd", 100_000, 1),  # lifetimes takes about 50 s a fit
    ]
    for line in lines:
        print(line(), flush=True)
    workbook = workbook_rows()
    if workbook:
        print(workbook)


if __name__ == "__main__":
    main()
