"""The default purchase model: chosen by the holdout comparison, never one that holds
one-time buyers certainly alive; the month convention; a spend-model failure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clvxl import holdout, predict
from clvxl.models import PURCHASE_MODELS, REGISTRY, bgnbd, gammagamma
from clvxl.recalc import Settings, recalculate
from clvxl.sources import demo_log
from clvxl.units import MONTHS

#: Purchase models the default may be: those that let a one-time buyer have left.
ELIGIBLE = [n for n in PURCHASE_MODELS if not REGISTRY[n].one_time_buyers_alive]


@pytest.fixture(scope="module")
def demo():
    return recalculate(demo_log())


def test_only_bgnbd_holds_one_time_buyers_certainly_alive():
    assert ELIGIBLE == ["mbgnbd", "paretonbd"]
    assert bgnbd.p_alive(bgnbd.BetaGeoModel(0.24, 4.4, 0.79, 2.4), [0], [0], [78.0]).tolist() == [
        1.0
    ]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(ELIGIBLE),
    st.floats(0.05, 5),
    st.floats(0.5, 100),
    st.floats(0.05, 5),
    st.floats(0.05, 20),
    st.floats(0.1, 500),
)
def test_the_default_never_holds_a_one_time_buyer_certainly_alive(name, r, alpha, a, b, big_t):
    info = REGISTRY[name]
    model = info.fitted(r, alpha, a, b)  # (r, alpha, a, b) or (r, alpha, s, beta)
    assert info.module.p_alive(model, [0.0], [0.0], [big_t])[0] < 1


def test_the_default_at_t_zero_is_the_models_own_prior():
    # T = 0: nothing has been observed; Pareto/NBD says alive, MBG/NBD b / (a + b).
    pareto, mbg = (REGISTRY[n] for n in ("paretonbd", "mbgnbd"))
    assert pareto.module.p_alive(pareto.fitted(0.5, 10, 0.6, 12), [0], [0], [0])[0] == 1
    assert mbg.module.p_alive(mbg.fitted(0.5, 10, 1.0, 3.0), [0], [0], [0])[0] == pytest.approx(
        0.75
    )


def comparison(errors: dict[str, float]) -> holdout.Comparison:
    table = pd.DataFrame(
        {
            "model": list(errors),
            "label": [REGISTRY[n].label for n in errors],
            "calibration_loglik": [-100.0] * len(errors),
            "mean_abs_error": list(errors.values()),
            "one_time_buyers_alive": [REGISTRY[n].one_time_buyers_alive for n in errors],
            "fitted": [True] * len(errors),
        }
    )
    return holdout.Comparison(table, {}, ())


def test_choose_takes_the_smallest_holdout_error_among_the_eligible():
    chosen, reason = holdout.choose(comparison({"bgnbd": 0.01, "mbgnbd": 0.3, "paretonbd": 0.2}))
    assert chosen == "paretonbd"
    assert reason == (
        "purchase model Pareto/NBD, chosen by the holdout check: fitted on the first half of "
        "the log, its predicted purchases in the second half are off by 0.200 per customer "
        "(mean over the groups of repeat purchases), against BG/NBD 0.010 (not eligible: it "
        "holds every one-time buyer certainly alive); MBG/NBD 0.300; set model in Settings "
        "to use another"
    )
    assert holdout.choose(comparison({"mbgnbd": 0.1, "paretonbd": 0.2}))[0] == "mbgnbd"


def test_demo_has_no_one_time_buyer_at_100_percent(demo):
    one_time = demo.customers[demo.customers["frequency"] == 0]
    assert len(one_time) > 500
    assert one_time["p_alive"].max() < 1
    assert (one_time["T"] > 0).all()


def test_demo_comparison_table_and_the_stated_choice(demo):
    table = demo.model_comparison
    assert table["model"].tolist() == list(PURCHASE_MODELS)
    assert table["fitted"].all()
    assert list(table.columns[:4]) == ["model", "label", "calibration_loglik", "error_0"]
    assert "error_7+" in table and "error_all" in table
    (chosen,) = table.loc[table["chosen"], "model"]
    assert chosen in ELIGIBLE
    eligible = table[~table["one_time_buyers_alive"]]
    assert table.loc[table["chosen"], "mean_abs_error"].iloc[0] == eligible["mean_abs_error"].min()
    label = REGISTRY[chosen].label
    assert any(
        n.startswith(f"purchase model {label}, chosen by the holdout check") for n in demo.notes
    )
    assert demo.model["model"].iloc[0] == label
    # The Model sheet's holdout table is the chosen model's, from the same calibration fit.
    assert len(demo.holdout) == 9 and demo.holdout["calibration_purchases"].iloc[-1] == "all"


def test_an_explicit_model_is_used_and_still_compared():
    result = recalculate(demo_log(), Settings(model="bgnbd"))
    assert result.model["model"].iloc[0] == "BG/NBD"
    assert result.model_comparison.loc[result.model_comparison["chosen"], "model"].tolist() == [
        "bgnbd"
    ]
    assert not any("chosen by the holdout check" in n for n in result.notes)


# --- Month length ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def cdnow(reference_data) -> pd.DataFrame:
    return pd.read_csv(reference_data / "cdnow_customers_summary_with_transactions.csv")


@pytest.mark.parametrize(("month", "expected"), [("calendar", 36.30), ("4.345 weeks", 36.28)])
def test_cdnow_customer_one_at_both_month_lengths(cdnow, month, expected):
    # REFERENCE-RESULTS.md, "Time-unit trap": 12-month CLV at 1 % a month, published
    # 36.28 with lifetimes' 4.345-week month; the calendar month (4.348 weeks) adds 0.02.
    bg = bgnbd.fit(cdnow["x"], cdnow["t_x"], cdnow["T"], time_unit="weeks")
    gg = gammagamma.fit(cdnow["x"], cdnow["zbar"])
    value = predict.predicted_clv(
        bg,
        gg,
        *(cdnow[c][:1] for c in ("x", "t_x", "T", "zbar")),
        horizon_months=12,
        discount_rate=1.01**12 - 1,
        month_days=MONTHS[month],
    )
    assert round(float(value[0]), 2) == expected


def test_month_setting_reaches_the_prediction():
    calendar = recalculate(demo_log(), Settings(model="bgnbd")).customers["clv"]
    thirty = recalculate(demo_log(), Settings(model="bgnbd", month="30 days")).customers["clv"]
    # A 30-day month is 1.4 % shorter: a 12-month horizon covers less time.
    ratio = float(thirty.sum() / calendar.sum())
    assert 0.98 < ratio < 0.995
    assert Settings.from_mapping({"month": "30 Days"}).month_days == 30.0


# --- A spend-model failure keeps the purchase predictions -----------------------------


def test_a_spend_model_failure_keeps_p_alive_and_expected_purchases():
    # Every repeat buyer spends 10 on average: Gamma-Gamma has no variety to learn from.
    rng = np.random.default_rng(3)
    x, t_x, big_t = bgnbd.simulate(bgnbd.BetaGeoModel(0.5, 6, 0.9, 2.5), np.full(400, 40.0), rng)
    table = pd.DataFrame({"frequency": x, "recency": t_x, "T": big_t, "monetary": 10.0 * (x > 0)})
    predictions = predict.predict_customers(table, "weeks", model="mbgnbd")
    out = predictions.table
    assert np.isfinite(out["p_alive"]).all() and np.isfinite(out["expected_purchases"]).all()
    for column in ("expected_avg_value", "clv", "clv_low", "clv_high"):
        assert out[column].isna().all()
    assert predictions.models.spend is None
    assert predictions.models.spend_error == (
        "every repeat buyer spends the same on average; the spend model needs some variety"
    )


def test_the_customer_table_says_which_columns_are_empty_and_why():
    raw = pd.DataFrame(
        {
            "customer_id": [f"c{i // 3}" for i in range(300)],
            "date": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(np.random.default_rng(5).integers(0, 300, 300), unit="D"),
            "amount": 10.0,
        }
    )
    result = recalculate(raw, Settings(model="mbgnbd"))
    assert result.customers["p_alive"].notna().all()
    assert result.customers["clv"].isna().all()
    assert (
        "expected_avg_value, clv, clv_low, clv_high are empty: the spend model could not be "
        "fitted (every repeat buyer spends the same on average; the spend model needs some "
        "variety); p_alive and expected_purchases are the MBG/NBD model's"
    ) in result.notes
