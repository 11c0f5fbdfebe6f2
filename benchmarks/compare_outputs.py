"""Every output of a recalculation, kept once and compared column by column after a change.

    python benchmarks/compare_outputs.py save  LOG.csv DIR   # before the change
    python benchmarks/compare_outputs.py check LOG.csv DIR   # after: exit 1 on any difference

Each table of :class:`clvxl.recalc.RecalcResult` (customers, kpis, segments, tiers, cohorts,
model, holdout, rejected) is computed from the log read in batches, as ``clvxl recalc``
reads it, and kept as a pickle. ``check`` compares each column's values bit for bit
(NaN equal to NaN) and its dtype, and lists every column that differs with how many rows
and the largest difference.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from clvxl.recalc import recalculate
from clvxl.sources import scan_log

TABLES = ("customers", "kpis", "segments", "tiers", "cohorts", "model", "holdout", "rejected")


def outputs(log: Path) -> dict[str, pd.DataFrame]:
    """The tables of one recalculation with every sheet's tables built."""
    result = recalculate(scan_log(log), sheets=True)
    return {name: getattr(result, name) for name in TABLES}


def _column_difference(name: str, ours: pd.Series, theirs: pd.Series) -> str | None:
    if ours.dtype != theirs.dtype:
        return f"{name}: dtype {ours.dtype} now, {theirs.dtype} before"
    a, b = np.ascontiguousarray(ours.to_numpy()), np.ascontiguousarray(theirs.to_numpy())
    if a.dtype.kind == "f":  # bit for bit: 0.0 and -0.0 differ, NaN equals NaN
        bits = f"u{a.dtype.itemsize}"
        same = (a.view(bits) == b.view(bits)) | (np.isnan(a) & np.isnan(b))
    else:
        same = np.asarray(ours.eq(theirs) | (ours.isna() & theirs.isna()), dtype=bool)
    if same.all():
        return None
    detail = ""
    if a.dtype.kind in "fiu":
        detail = f", largest difference {np.nanmax(np.abs(a[~same] - b[~same].astype(float))):.3g}"
    return f"{name}: {int((~same).sum()):,} of {len(a):,} rows differ{detail}"


def differences(now: dict[str, pd.DataFrame], before: dict[str, pd.DataFrame]) -> list[str]:
    """Every table or column that is not the same as before, in words."""
    found = []
    for table in TABLES:
        ours, theirs = now[table], before[table]
        if list(ours.columns) != list(theirs.columns) or len(ours) != len(theirs):
            found.append(
                f"{table}: columns {list(ours.columns)} x {len(ours)} rows now, "
                f"{list(theirs.columns)} x {len(theirs)} before"
            )
            continue
        for column in ours.columns:
            diff = _column_difference(
                f"{table}.{column}",
                ours[column].reset_index(drop=True),
                theirs[column].reset_index(drop=True),
            )
            if diff:
                found.append(diff)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["save", "check"])
    parser.add_argument("log", type=Path)
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    kept = args.folder / f"{args.log.stem}.outputs.pickle"
    now = outputs(args.log)
    if args.action == "save":
        args.folder.mkdir(parents=True, exist_ok=True)
        kept.write_bytes(pickle.dumps(now))
        print(f"{len(now['customers']):,} customers' outputs kept in {kept}")
        return 0
    found = differences(now, pickle.loads(kept.read_bytes()))
    for line in found:
        print(line)
    print(
        f"{len(found)} difference(s) in {len(TABLES)} tables"
        if found
        else f"every column of {len(TABLES)} tables identical"
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
