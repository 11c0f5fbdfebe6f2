"""Runs one task in the lifetimes reference environment and prints JSON (time excludes imports).

python _lifetimes_worker.py TASK INPUT.csv    # TASK: pipeline, warm, or a model name
"""

from __future__ import annotations

import json
import sys
import time

import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter, ParetoNBDFitter
from lifetimes.utils import summary_data_from_transaction_data


def summary_task(kind: str, data: pd.DataFrame) -> dict:
    start = time.perf_counter()
    if kind == "bgnbd":
        model = BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"])
    elif kind == "mbgnbd":
        model = ModifiedBetaGeoFitter().fit(data["frequency"], data["recency"], data["T"])
    elif kind == "paretonbd":
        model = ParetoNBDFitter().fit(data["frequency"], data["recency"], data["T"])
    elif kind == "gammagamma":
        repeat = data[(data["frequency"] > 0) & (data["monetary"] > 0)]
        model = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary"])
    elif kind == "clv":
        bgf = BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"])
        repeat = data[(data["frequency"] > 0) & (data["monetary"] > 0)]
        ggf = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary"])
        start = time.perf_counter()  # time the prediction only
        value = ggf.customer_lifetime_value(
            bgf,
            data["frequency"],
            data["recency"],
            data["T"],
            data["monetary"],
            time=12,
            discount_rate=0.01,
            freq="W",
        )
        return {
            "seconds": time.perf_counter() - start,
            "total": float(value.sum()),
            "finite": bool(value.notna().all()),
        }
    seconds = time.perf_counter() - start
    n = len(repeat) if kind == "gammagamma" else len(data)
    return {
        "seconds": seconds,
        "loglik": -model._negative_log_likelihood_ * n,
        "params": {k: float(v) for k, v in model.params_.items()},
    }


def pipeline_task(path: str) -> dict:
    """Read, summarise, BG/NBD, Gamma-Gamma, 12-month CLV: the lifetimes way."""
    return refresh(pd.read_csv(path, parse_dates=["order_date"]))


def warm_task(path: str, calls: int = 3) -> dict:
    """The refresh again and again on the log read once: the seconds of each call after the first."""
    log = pd.read_csv(path, parse_dates=["order_date"])
    refresh(log)
    seconds = []
    for _ in range(calls - 1):
        start = time.perf_counter()
        result = refresh(log)
        seconds.append(time.perf_counter() - start)
    return {**result, "seconds": seconds}


def refresh(log: pd.DataFrame) -> dict:
    """Summarise, BG/NBD, Gamma-Gamma, 12-month CLV on a log already in memory."""
    data = summary_data_from_transaction_data(log, "customer_id", "order_date", "amount", freq="W")
    bgf = BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"])
    repeat = data[(data["frequency"] > 0) & (data["monetary_value"] > 0)]
    ggf = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    value = ggf.customer_lifetime_value(
        bgf,
        data["frequency"],
        data["recency"],
        data["T"],
        data["monetary_value"],
        time=12,
        discount_rate=0.01,
        freq="W",
    )
    return {"customers": len(data), "finite": bool(value.notna().all())}


if __name__ == "__main__":
    task, path = sys.argv[1], sys.argv[2]
    if task == "pipeline":
        print(json.dumps(pipeline_task(path)))
    elif task == "warm":
        print(json.dumps(warm_task(path)))
    else:
        print(json.dumps(summary_task(task, pd.read_csv(path))))
