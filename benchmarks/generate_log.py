"""A seeded retail transaction log: heterogeneous purchase rates and dropout, lognormal spend.

Customers arrive over the first two years of a three-year window. While active, a
customer buys at a rate λ ~ Gamma(0.6, 1/4) a week and drops out after each purchase
with probability p ~ Beta(1.3, 2.0) (the BG/NBD story, so the models have something
real to find); each customer's typical order value is lognormal around $40 and each
order varies lognormally around it. About 0.32 customers per row, like real retail.

    python benchmarks/generate_log.py 1000000 -o benchmarks/data/log_1000000.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

START = np.datetime64("2022-01-01")
WEEKS = 156


def generate(rows: int, seed: int = 42) -> pd.DataFrame:
    """About ``rows`` transaction lines (exactly ``rows`` when enough were simulated)."""
    rng = np.random.default_rng(seed)
    customers = max(int(rows * 0.32), 10)
    first = rng.uniform(0, WEEKS * 2 / 3, customers)
    rate = rng.gamma(0.6, 1 / 4, customers)
    dropout = rng.beta(1.3, 2.0, customers)
    typical = rng.lognormal(np.log(40), 0.6, customers)
    ids, times = [np.arange(customers)], [first]
    clock, alive = first.copy(), rng.random(customers) >= dropout
    while alive.any():
        who = np.flatnonzero(alive)
        clock[who] += rng.exponential(1 / np.maximum(rate[who], 1e-9))
        buying = who[clock[who] <= WEEKS]
        ids.append(buying)
        times.append(clock[buying])
        alive[:] = False
        alive[buying] = rng.random(len(buying)) >= dropout[buying]
    customer = np.concatenate(ids)
    week = np.concatenate(times)
    order = np.argsort(week, kind="stable")[:rows]
    customer, week = customer[order], week[order]
    amount = np.round(typical[customer] * rng.lognormal(0, 0.4, len(customer)), 2)
    return pd.DataFrame(
        {
            "order_id": np.char.add("O", np.arange(1, len(customer) + 1).astype(str)),
            "customer_id": np.char.add("C", customer.astype(str)),
            "order_date": START + (week * 7).astype("timedelta64[D]"),
            "amount": amount,
        }
    )


def write(frame: pd.DataFrame, path: Path) -> None:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.set_column(2, "order_date", table.column("order_date").cast(pa.date32()))
    if path.suffix == ".parquet":
        pq.write_table(table, path)
    else:
        pacsv.write_csv(table, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int)
    parser.add_argument("-o", "--output", type=Path, required=True, help=".csv or .parquet")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write(generate(args.rows, args.seed), args.output)


if __name__ == "__main__":
    main()
