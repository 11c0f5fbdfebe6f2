"""90 % CLV intervals: coverage by simulation, the total on the Dashboard."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvxl import predict
from clvxl.models import gammagamma, mbgnbd
from clvxl.recalc import recalculate
from clvxl.sources import demo_log

TRUE_PURCHASE = mbgnbd.ModifiedBetaGeoModel(r=0.5, alpha=6.0, a=0.9, b=1.6)
TRUE_SPEND = gammagamma.GammaGammaModel(p=6.0, q=4.0, v=15.0)
#: A customer added to every replicate, so that one customer's interval is checked too.
PROBE = {"frequency": 3.0, "recency": 30.0, "T": 40.0, "monetary": 30.0}


def replicate(rng: np.random.Generator, n: int = 1000) -> pd.DataFrame:
    """n customers drawn from the true models (Gamma-Gamma: z̄ | ν ~ Gamma(p x, ν x)), and
    the probe."""
    x, t_x, big_t = mbgnbd.simulate(TRUE_PURCHASE, rng.uniform(20, 60, n), rng)
    nu = rng.gamma(TRUE_SPEND.q, 1 / TRUE_SPEND.v, n)
    repeat = np.maximum(x, 1)
    z = np.where(x > 0, rng.gamma(TRUE_SPEND.p * repeat, 1 / (nu * repeat)), 0.0)
    table = pd.DataFrame({"frequency": x, "recency": t_x, "T": big_t, "monetary": z})
    return pd.concat([table, pd.DataFrame([PROBE])], ignore_index=True)


@pytest.mark.slow  # 200 fits: ~16 s
def test_the_90_percent_interval_covers_the_true_clv_in_85_to_95_percent_of_replicates():
    rng = np.random.default_rng(7)
    total_hits = probe_hits = 0
    for _ in range(200):
        table = replicate(rng)
        predictions = predict.predict_customers(table, "weeks", model="mbgnbd")
        columns = [table[c] for c in ("frequency", "recency", "T", "monetary")]
        truth = predict.predicted_clv(TRUE_PURCHASE, TRUE_SPEND, *columns)
        _, low, high = predictions.total_clv
        total_hits += low <= truth.sum() <= high
        probe = predictions.table.iloc[-1]
        probe_hits += probe["clv_low"] <= truth[-1] <= probe["clv_high"]
    assert 0.85 <= total_hits / 200 <= 0.95
    assert 0.85 <= probe_hits / 200 <= 0.95


def test_every_clv_has_an_interval_around_it_and_the_total_is_on_the_dashboard():
    result = recalculate(demo_log())
    table = result.customers
    assert (table["clv_low"] < table["clv"]).all() and (table["clv"] < table["clv_high"]).all()
    kpis = dict(zip(result.kpis["kpi"], result.kpis["value"], strict=True))
    total = kpis["Total CLV (next 12 months)"]
    low = kpis["Total CLV (next 12 months), 90 % interval low"]
    high = kpis["Total CLV (next 12 months), 90 % interval high"]
    assert total == pytest.approx(table["clv"].sum())
    assert low < total < high


def test_the_delta_interval_agrees_with_drawing_parameter_sets(reference_data):
    # The same asymptotic normal of the log-parameters, by brute force: 400 parameter
    # sets drawn, the total CLV of each, its 5 % and 95 % quantiles.
    cdnow = pd.read_csv(reference_data / "cdnow_customers_summary_with_transactions.csv")
    table = cdnow.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary"})
    predictions = predict.predict_customers(table, "weeks", model="mbgnbd")
    purchase, spend = predictions.models.purchase, predictions.models.spend
    rng = np.random.default_rng(11)
    totals = []
    for _ in range(400):
        drawn = []
        for model in (purchase, spend):
            values = np.array(list(model.params.values()))
            log_cov = model.cov / np.outer(values, values)
            draw = np.exp(rng.multivariate_normal(np.log(values), log_cov))
            drawn.append(type(model)(*draw))
        columns = [table[c] for c in ("frequency", "recency", "T", "monetary")]
        totals.append(predict.predicted_clv(*drawn, *columns).sum())
    _, low, high = predictions.total_clv
    assert low == pytest.approx(np.quantile(totals, 0.05), rel=0.01)
    assert high == pytest.approx(np.quantile(totals, 0.95), rel=0.01)
