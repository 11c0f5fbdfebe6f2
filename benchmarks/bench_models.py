"""Model fitting speed against lifetimes 0.11.3, measured in the same run.

    python benchmarks/bench_models.py            # CDNOW, 100,000 and 1,000,000 customers

Prints one table: task, customers, clvxl seconds, lifetimes seconds, speed-up and the
relative difference of the total log-likelihoods, both evaluated by clvxl (positive:
clvxl's optimum is higher). lifetimes' outputs are checked to be finite first. Simulated customers come from BG/NBD with r = 0.25,
alpha = 4, a = 0.8, b = 2.5 over 1-3 years in weeks, and lognormal spend (MBG/NBD is fitted to
the same customers). "CLV+interval" is clvxl's CLV with its interval against lifetimes'
CLV alone (lifetimes has none); the last line but one is the interval's own cost. The
last line is the same for subscriptions (lifetimes has no sBG): the sBG analysis of
100,000 simulated subscribers' monthly invoices (two yearly cohorts, alpha = 0.7,
beta = 2.5) and the part of it that is the interval.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time

import numpy as np
import pandas as pd
from _reference import DATA, HERE, reference_python

from clvxl import predict, subscription
from clvxl.models import bgnbd, gammagamma, mbgnbd, paretonbd

CDNOW = HERE.parent / "tests" / "data" / "cdnow_customers_summary_with_transactions.csv"


def simulated(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    truth = bgnbd.BetaGeoModel(r=0.25, alpha=4.0, a=0.8, b=2.5)
    x, t_x, big_t = bgnbd.simulate(truth, np.round(rng.uniform(52, 156, n) * 7) / 7, rng)
    spend = rng.lognormal(np.log(35), 0.5, n)
    monetary = np.where(x > 0, np.round(spend * rng.lognormal(0, 0.2, n), 2), 0.0)
    return pd.DataFrame(
        {"frequency": x, "recency": np.round(t_x * 7) / 7, "T": big_t, "monetary": monetary}
    )


def subscription_invoices(n: int, seed: int = 1) -> pd.DataFrame:
    """n subscribers joining in 2022 or 2023, paying 30 a month until they leave (churn
    probability drawn from Beta(0.7, 2.5)); invoices up to December 2023."""
    rng = np.random.default_rng(seed)
    start = rng.integers(0, 24, n)
    count = np.minimum(rng.geometric(rng.beta(0.7, 2.5, n)), 24 - start)
    first = np.repeat(np.cumsum(count) - count, count)
    month = np.repeat(start, count) + np.arange(count.sum()) - first
    ids = np.char.add("s", np.repeat(np.arange(n), count).astype(str))
    dates = pd.date_range("2022-01-01", periods=24, freq="MS")[month]
    return pd.DataFrame({"customer_id": ids, "date": dates, "amount": 30.0})


def subscription_interval(n: int) -> tuple[float, float]:
    """Seconds of the sBG analysis of n subscribers (with its intervals), and of the
    intervals alone, each the best of three."""
    invoices, as_of = subscription_invoices(n), pd.Timestamp("2023-12-20")
    seconds, subs = best_of(lambda: subscription.analyse(invoices, as_of))
    interval, _ = best_of(lambda: subscription.clv_intervals(subs.subscribers, subs.models, 0.10))
    return seconds, interval


def best_of(fn, repeat: int = 3):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def clvxl_task(kind: str, data: pd.DataFrame):
    x, t_x, big_t, z = (data[c].to_numpy() for c in ("frequency", "recency", "T", "monetary"))
    if kind == "bgnbd":
        return best_of(lambda: bgnbd.fit(x, t_x, big_t))
    if kind == "mbgnbd":
        return best_of(lambda: mbgnbd.fit(x, t_x, big_t))
    if kind == "paretonbd":
        return best_of(lambda: paretonbd.fit(x, t_x, big_t), 1)
    if kind == "gammagamma":
        return best_of(lambda: gammagamma.fit(x, z))
    purchase, spend = bgnbd.fit(x, t_x, big_t), gammagamma.fit(x, z)
    # Like the lifetimes side: the prediction only, models fitted beforehand.
    if kind == "clv_interval":
        return best_of(
            lambda: predict.predicted_clv_interval(
                purchase, spend, x, t_x, big_t, z, 12, 1.01**12 - 1
            )
        )
    return best_of(
        lambda: predict.predicted_clv(purchase, spend, x, t_x, big_t, z, 12, 1.01**12 - 1)
    )


def their_loglik(kind: str, params: dict, data: pd.DataFrame) -> float:
    """clvxl's total log-likelihood at lifetimes' estimates (lifetimes reports it on rescaled time)."""
    x, t_x, big_t, z = (data[c].to_numpy() for c in ("frequency", "recency", "T", "monetary"))
    if kind == "bgnbd":
        return float(bgnbd.loglik(bgnbd.BetaGeoModel(**params), x, t_x, big_t).sum())
    if kind == "mbgnbd":
        return float(mbgnbd.loglik(mbgnbd.ModifiedBetaGeoModel(**params), x, t_x, big_t).sum())
    if kind == "paretonbd":
        return float(paretonbd.loglik(paretonbd.ParetoNBDModel(**params), x, t_x, big_t).sum())
    repeat = (x > 0) & (z > 0)
    return float(
        gammagamma.loglik(gammagamma.GammaGammaModel(**params), x[repeat], z[repeat]).sum()
    )


def lifetimes_task(kind: str, path) -> dict:
    out = subprocess.run(
        [str(reference_python()), str(HERE / "_lifetimes_worker.py"), kind, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 1,000,000-customer row")
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    cdnow = pd.read_csv(CDNOW).rename(
        columns={"x": "frequency", "t_x": "recency", "zbar": "monetary"}
    )
    cases = [("BG/NBD", "bgnbd", "CDNOW", cdnow), ("BG/NBD", "bgnbd", "100k", simulated(100_000))]
    if not args.quick:
        cases.append(("BG/NBD", "bgnbd", "1M", simulated(1_000_000)))
    cases += [
        ("MBG/NBD", "mbgnbd", "CDNOW", cdnow),
        ("MBG/NBD", "mbgnbd", "100k", simulated(100_000)),
        ("Pareto/NBD", "paretonbd", "100k", simulated(100_000)),
        ("Gamma-Gamma", "gammagamma", "100k", simulated(100_000)),
        ("12-month CLV", "clv", "100k", simulated(100_000)),
        # lifetimes has no interval: against its CLV alone.
        ("CLV+interval", "clv_interval", "100k", simulated(100_000)),
    ]
    rows = []
    for label, kind, size, data in cases:
        path = DATA / f"summary_{size}.csv"
        data.to_csv(path, index=False)
        reference = lifetimes_task("clv" if kind == "clv_interval" else kind, path)
        seconds, fitted = clvxl_task(kind, data)
        if kind.startswith("clv"):
            assert reference["finite"], "lifetimes returned NaN CLV"
            diff = "—"
        else:
            theirs = their_loglik(kind, reference["params"], data)
            assert np.isfinite(theirs), "lifetimes returned a non-finite fit"
            diff = f"{(fitted.loglik - theirs) / abs(theirs):+.1e}"
        rows.append(
            (
                label,
                size,
                len(data),
                seconds,
                reference["seconds"],
                reference["seconds"] / seconds,
                diff,
            )
        )
    print(
        f"{'task':<13} {'data':<6} {'customers':>10} {'clvxl s':>9} {'lifetimes s':>12} {'speed-up':>9} {'LL rel. diff':>13}"
    )
    for label, size, n, ours, theirs, ratio, diff in rows:
        print(
            f"{label:<13} {size:<6} {n:>10,} {ours:>9.3f} {theirs:>12.3f} {ratio:>8.1f}× {diff:>13}"
        )
    ours = {(label, size): seconds for label, size, _, seconds, *_ in rows}
    interval = ours[("CLV+interval", "100k")] - ours[("12-month CLV", "100k")]
    fit = ours[("BG/NBD", "100k")]
    print(f"\nthe 90 % interval at 100k: {interval:.3f} s = {interval / fit:.2f} × the BG/NBD fit")
    analysis, interval = subscription_interval(100_000)
    print(
        f"the subscription 90 % interval at 100k subscribers: {interval:.3f} s of the sBG "
        f"analysis' {analysis:.3f} s ({interval / analysis:.1%})"
    )


if __name__ == "__main__":
    main()
