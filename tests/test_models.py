"""Probabilistic models against the published results (Fader, Hardie & Lee 2005 and others; data in tests/data), recovery, extremes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clvxl import predict
from clvxl.clean import clean_transactions
from clvxl.errors import InputError, ModelError
from clvxl.models import _mle, bgnbd, gammagamma, paretonbd
from clvxl.summary import summarize

PAPER_BGNBD = bgnbd.BetaGeoModel(r=0.243, alpha=4.414, a=0.793, b=2.426)
PAPER_PNBD = paretonbd.ParetoNBDModel(r=0.553, alpha=10.578, s=0.606, beta=11.669)


@pytest.fixture(scope="module")
def cdnow(reference_data) -> pd.DataFrame:
    return pd.read_csv(reference_data / "cdnow_customers_summary_with_transactions.csv")


@pytest.fixture(scope="module")
def bg(cdnow):
    return bgnbd.fit(cdnow["x"], cdnow["t_x"], cdnow["T"], time_unit="weeks")


@pytest.fixture(scope="module")
def gg(cdnow):
    return gammagamma.fit(cdnow["x"], cdnow["zbar"])


# --- BG/NBD: Fader, Hardie & Lee (2005) ----------------------------------------------


def test_bgnbd_reproduces_the_published_cdnow_fit(bg):
    assert (round(bg.r, 3), round(bg.alpha, 3), round(bg.a, 3), round(bg.b, 3)) == (
        0.243,
        4.414,
        0.793,
        2.426,
    )
    assert bg.loglik == pytest.approx(-9582.4, abs=0.1)
    assert bg.n == 2357
    assert bg.patterns < 2357  # fitted on distinct (x, t_x, T) patterns
    assert bg.time_unit.value == "weeks"
    assert all(0 < bg.stderr[p] < getattr(bg, p) for p in bg.param_names)


def test_bgnbd_conditional_expectation_of_the_paper_customer():
    assert bgnbd.expected_purchases(PAPER_BGNBD, 39, 2, 30.43, 38.86)[0] == pytest.approx(
        1.226, abs=5e-4
    )


def test_bgnbd_unconditional_expectation(bg):
    # Published: t = 1 -> 0.0532, t = 39 -> 1.1950, t = 78 -> 1.8576 (fitted parameters).
    values = bgnbd.expected_purchases_population(bg, [1, 39, 78])
    np.testing.assert_allclose(values, [0.0532, 1.1950, 1.8576], atol=5e-4)


def test_bgnbd_probability_of_no_purchase():
    assert bgnbd.prob_purchases(PAPER_BGNBD, 0, 39) == pytest.approx(0.5737864, abs=1e-7)


def test_bgnbd_purchase_probabilities_sum_to_one():
    total = sum(float(bgnbd.prob_purchases(PAPER_BGNBD, n, 39)) for n in range(200))
    assert total == pytest.approx(1.0, abs=1e-6)


def test_bgnbd_recovers_simulated_parameters():
    truth = bgnbd.BetaGeoModel(r=0.5, alpha=6.0, a=0.6, b=3.0)
    rng = np.random.default_rng(7)
    fitted = bgnbd.fit(*bgnbd.simulate(truth, rng.uniform(20, 60, 20_000), rng))
    for p in truth.param_names:
        assert getattr(fitted, p) == pytest.approx(getattr(truth, p), rel=0.15), p


def test_bgnbd_no_nan_at_extremes():
    fitted = PAPER_BGNBD
    x = np.array([0, 1, 10_000, 10_000, 500, 3])
    t_x = np.array([0, 3650, 3650, 1.0, 3000, 3649.9])
    T = np.full(6, 3650.0)
    for values in (
        bgnbd.loglik(fitted, x, t_x, T),
        bgnbd.p_alive(fitted, x, t_x, T),
        bgnbd.expected_purchases(fitted, 520, x, t_x, T),
    ):
        assert np.isfinite(values).all()
    assert (
        0 <= bgnbd.p_alive(fitted, x, t_x, T).min() <= bgnbd.p_alive(fitted, x, t_x, T).max() <= 1
    )


IDENTICAL = (np.full(500, 2.0), np.full(500, 10.0), np.full(500, 20.0))


def test_bgnbd_on_identical_customers_is_refused_in_words():
    # 500 customers with the same (x, t_x, T): the likelihood rises without bound as
    # r, alpha, a, b grow together, so a parameter runs off.
    with pytest.raises(
        ModelError, match=r"^the data cannot pin down the BG/NBD model \(a parameter ran off"
    ):
        bgnbd.fit(*IDENTICAL)


def test_a_fit_whose_own_predictions_are_nan_is_refused(monkeypatch):
    # With the run-away guard out of the way, the optimiser stops at r ~ 8e7, alpha ~ 5e8,
    # where hyp2f1 gives NaN: the fit must say so rather than return it.
    monkeypatch.setattr(_mle, "_RUNAWAY", 25.0)
    with pytest.raises(
        ModelError,
        match=r"^the BG/NBD model fitted to these customers cannot predict their expected "
        r"purchases \(not a number for 1 of 1 purchase patterns; its parameters r = ",
    ):
        bgnbd.fit(*IDENTICAL)


def test_bgnbd_needs_repeat_buyers_and_says_so():
    with pytest.raises(ModelError, match="no customer has bought more than once"):
        bgnbd.fit(np.zeros(100), np.zeros(100), np.full(100, 30.0))


def test_bgnbd_refuses_inconsistent_customers():
    with pytest.raises(InputError, match="recency must be between 0 and T"):
        bgnbd.p_alive(PAPER_BGNBD, [1], [40], [30])
    with pytest.raises(InputError, match="BG/NBD parameter alpha must be a positive number"):
        bgnbd.BetaGeoModel(r=1, alpha=-1, a=1, b=1)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 300), st.floats(0, 1), st.floats(1, 500), st.floats(0.1, 100))
def test_bgnbd_predictions_are_probabilities_and_grow_with_time(x, share, T, t):
    t_x = share * T if x > 0 else 0.0
    alive = bgnbd.p_alive(PAPER_BGNBD, x, t_x, T)[0]
    assert 0 <= alive <= 1
    early = bgnbd.expected_purchases(PAPER_BGNBD, t, x, t_x, T)[0]
    late = bgnbd.expected_purchases(PAPER_BGNBD, 2 * t, x, t_x, T)[0]
    assert 0 <= early <= late + 1e-12


# --- Pareto/NBD ----------------------------------------------------------------------


def test_paretonbd_reproduces_the_published_cdnow_fit(cdnow):
    fitted = paretonbd.fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    assert (round(fitted.r, 3), round(fitted.alpha, 2), round(fitted.s, 3)) == (0.553, 10.58, 0.606)
    assert fitted.beta == pytest.approx(11.669, abs=0.01)
    assert fitted.loglik == pytest.approx(-9595.0, abs=0.1)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.floats(0, 1), st.integers(1, 80)), min_size=1, max_size=50
    ),
    st.tuples(*[st.floats(0.05, 20)] * 4),
)
def test_paretonbd_terms_per_distinct_x_and_t_are_the_same_numbers(rows, params):
    """The fit's shortcut (x-only terms once per distinct x, logs of T once per T)
    changes no bit of any customer's log-likelihood."""
    x, share, big_t = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
    t_x = np.where(x > 0, np.round(share * big_t), 0.0)
    pairs = paretonbd._pairs(x, t_x, big_t)
    plain = paretonbd._loglik_terms(params, x, t_x, big_t, pairs)
    shortcut = paretonbd._loglik_terms(params, x, t_x, big_t, pairs, paretonbd._distinct(x, big_t))
    assert shortcut.tobytes() == plain.tobytes()


def test_paretonbd_customer_predictions():
    assert paretonbd.expected_purchases(PAPER_PNBD, 52, 26, 30.86, 31)[0] == pytest.approx(
        25.46, abs=0.005
    )
    assert paretonbd.p_alive(PAPER_PNBD, 26, 30.86, 31)[0] == pytest.approx(0.9979, abs=5e-5)


def test_paretonbd_no_nan_for_heavy_buyers_both_branches():
    x = np.array([0, 10_000, 10_000, 7])
    t_x = np.array([0, 3000, 3650, 100])
    T = np.full(4, 3650.0)
    for model in (PAPER_PNBD, paretonbd.ParetoNBDModel(r=0.5, alpha=20, s=0.5, beta=3)):
        assert np.isfinite(paretonbd.loglik(model, x, t_x, T)).all()
        assert np.isfinite(paretonbd.expected_purchases(model, 52, x, t_x, T)).all()


# --- Gamma-Gamma: Fader, Hardie & Lee (2005), RFM and CLV ----------------------------


def test_gammagamma_reproduces_the_published_fit(gg):
    assert (round(gg.p, 2), round(gg.q, 2), round(gg.v, 2)) == (6.25, 3.74, 15.45)
    assert gg.n == 946  # the repeat buyers


def test_gammagamma_expected_values_of_the_first_ten_customers(cdnow, gg):
    expected = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17]
    values = gammagamma.expected_avg_value(gg, cdnow["x"][:10], cdnow["zbar"][:10])
    # The published values are cut (not rounded) to cents: 24.6586 shows as 24.65.
    assert (np.floor(values * 100) / 100).tolist() == expected


def test_gammagamma_needs_repeat_buyers():
    with pytest.raises(ModelError, match="fewer than two customers have bought more than once"):
        gammagamma.fit([0, 0, 1], [0.0, 0.0, 10.0])


# --- CLV and the time-unit trap --------------------------------------------------------


def test_twelve_month_clv_of_cdnow_customer_one(cdnow, bg, gg):
    # Published: 36.28 at 1 % a month with a month of 4.345 weeks; clvxl's month is
    # 30.4375 days = 4.348 weeks, which adds 0.02.
    value = predict.predicted_clv(
        bg,
        gg,
        cdnow["x"][:1],
        cdnow["t_x"][:1],
        cdnow["T"][:1],
        cdnow["zbar"][:1],
        horizon_months=12,
        discount_rate=1.01**12 - 1,
    )
    assert value[0] == pytest.approx(36.28, abs=0.03)


def test_time_unit_trap_is_refused(cdnow, bg, gg):
    with pytest.raises(InputError, match="fitted in weeks but the customer data is in days"):
        predict.predicted_clv(bg, gg, [2], [213.0], [272.0], [22.35], unit="days")


def test_clv_does_not_depend_on_the_time_unit(cdnow_sample):
    """The same log summarised in days or weeks gives the same CLV (not 4× more)."""
    tx = clean_transactions(cdnow_sample[["customer_id", "date", "amount"]]).transactions
    results = {}
    for unit in ("days", "weeks"):
        table = summarize(tx, as_of="1997-09-30", unit=unit).table
        predictions = predict.predict_customers(table, unit, horizon_months=12, discount_rate=0.1)
        results[unit] = predictions.table["clv"].to_numpy()
    np.testing.assert_allclose(results["days"], results["weeks"], rtol=1e-3)


def test_parameter_table_lists_every_parameter(bg, gg):
    table = predict.FittedModels(bg, gg).parameter_table()
    assert table[table["model"] == "BG/NBD"]["parameter"].tolist() == [
        "r",
        "alpha",
        "a",
        "b",
        "log-likelihood",
        "customers",
        "distinct patterns",
    ]
    assert table.loc[table["parameter"] == "log-likelihood", "value"].iloc[0] == pytest.approx(
        -9582.43, abs=0.01
    )


def test_expected_purchases_are_continuous_through_a_equal_to_one():
    # Eqs. 9 and 10 are 0/0 at a = 1; the value there lies between its neighbours.
    def at(a):
        m = bgnbd.BetaGeoModel(0.243, 4.414, a, 2.426)
        return (
            float(bgnbd.expected_purchases(m, 39, 2, 30.43, 38.86)[0]),
            float(bgnbd.expected_purchases_population(m, 39)),
        )

    for below, here, above in zip(at(0.999), at(1.0), at(1.001), strict=True):
        assert np.isfinite(here)
        assert min(below, above) < here < max(below, above)
        assert here == pytest.approx((below + above) / 2, rel=1e-6)
