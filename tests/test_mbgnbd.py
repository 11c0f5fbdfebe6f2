"""MBG/NBD (Batislam, Denizel & Filiztekin 2007) against lifetimes' ModifiedBetaGeoFitter."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clvxl.errors import InputError, ModelError
from clvxl.models import mbgnbd
from clvxl.models._mle import patterns

# --- lifetimes 0.11.3 reference -------------------------------------------------------
# Obtained once with lifetimes 0.11.3 (numpy 1.26.4, pandas 1.5.3, scipy 1.11.4, the
# environment of benchmarks/requirements-lifetimes.txt built by benchmarks/_reference.py):
#
#     d = pd.read_csv("shared/data/cdnow_customers_summary_with_transactions.csv")
#     m = ModifiedBetaGeoFitter().fit(d["x"], d["t_x"], d["T"])
#     m.params_, m.standard_errors_, -m._negative_log_likelihood_ * len(d)
#     m.conditional_probability_alive(x, t_x, T)
#     m.conditional_expected_number_of_purchases_up_to_time(39, x, t_x, T)
#     m.expected_number_of_purchases_up_to_time(np.array([1.0, 39.0, 78.0]))
#     [m.probability_of_n_purchases_up_to_time(39, n) for n in range(5)]
#
# for the customers at rows 0, 1, 2, 5, 8, 100, 1000, 2000 (IDs 1, 2, 3, 6, 9, 101,
# 1001, 2001), values printed with repr.
LIFETIMES_PARAMS = {
    "r": 0.5248377255676407,
    "alpha": 6.182988479133824,
    "a": 0.8913562809311867,
    "b": 1.6140000256723184,
}
LIFETIMES_STDERR = {
    "r": 0.08326394529767024,
    "alpha": 0.695597191602778,
    "a": 0.1547853206990422,
    "b": 0.5374723507889988,
}
# lifetimes fits on time rescaled by 1 / max(T) = 1 / 38.86 and reports that likelihood;
# in weeks it is this plus sum(x) * log(1 / 38.86) = 2457 * log(1 / 38.86).
LIFETIMES_SCALED_LOGLIK = -589.5975891165056
IDS = [1, 2, 3, 6, 9, 101, 1001, 2001]
LIFETIMES_P_ALIVE = [
    0.7061262587154014,
    0.17081963009210327,
    0.3897164420501901,
    0.6226387217056093,
    0.7714961122430454,
    0.8518393725067019,
    0.40541918113597303,
    0.42201751937498744,
]
LIFETIMES_EXPECTED_39 = [
    1.2626707787139342,
    0.1887892403705094,
    0.15395364436667996,
    3.166805354697789,
    1.3795629107362237,
    3.2605284663102165,
    0.17867035348295573,
    0.20816264797751763,
]
LIFETIMES_POPULATION_1_39_78 = [0.053060629447072606, 1.1822837952882594, 1.803636193291877]
LIFETIMES_PROB_N_IN_39 = [
    0.5826055674071022,
    0.18276337398066567,
    0.08687059147523504,
    0.048550722435450486,
    0.02975898926188216,
]

THEIRS = mbgnbd.ModifiedBetaGeoModel(**LIFETIMES_PARAMS)


@pytest.fixture(scope="module")
def cdnow(reference_data) -> pd.DataFrame:
    return pd.read_csv(reference_data / "cdnow_customers_summary_with_transactions.csv")


@pytest.fixture(scope="module")
def mbg(cdnow):
    return mbgnbd.fit(cdnow["x"], cdnow["t_x"], cdnow["T"], time_unit="weeks")


@pytest.fixture(scope="module")
def some(cdnow):
    rows = cdnow.set_index("ID").loc[IDS]
    return rows["x"].to_numpy(), rows["t_x"].to_numpy(), rows["T"].to_numpy()


# --- CDNOW against lifetimes ----------------------------------------------------------


def test_fit_matches_lifetimes_on_cdnow(cdnow, mbg):
    for p in mbg.param_names:
        assert getattr(mbg, p) == pytest.approx(LIFETIMES_PARAMS[p], rel=1e-3), p
        assert mbg.stderr[p] == pytest.approx(LIFETIMES_STDERR[p], rel=1e-3), p
    assert mbg.n == 2357
    assert mbg.patterns < 2357
    assert mbg.time_unit.value == "weeks"


def test_loglik_as_good_as_lifetimes(cdnow, mbg):
    theirs = float(mbgnbd.loglik(THEIRS, cdnow["x"], cdnow["t_x"], cdnow["T"]).sum())
    # lifetimes' own number, converted to weeks, is clvxl's at lifetimes' parameters.
    in_weeks = LIFETIMES_SCALED_LOGLIK + cdnow["x"].sum() * np.log(1 / cdnow["T"].max())
    assert theirs == pytest.approx(in_weeks, rel=1e-12)
    assert mbg.loglik == pytest.approx(theirs, rel=1e-6)
    assert mbg.loglik >= theirs - 1e-6 * abs(theirs)
    assert mbg.loglik == pytest.approx(-9582.13, abs=0.01)
    # The reported log-likelihood is the total of the per-customer ones.
    assert mbg.loglik == pytest.approx(
        mbgnbd.loglik(mbg, cdnow["x"], cdnow["t_x"], cdnow["T"]).sum(), rel=1e-12
    )


def test_predictions_at_lifetimes_parameters_match_lifetimes(some):
    x, t_x, big_t = some
    np.testing.assert_allclose(mbgnbd.p_alive(THEIRS, x, t_x, big_t), LIFETIMES_P_ALIVE, rtol=1e-9)
    np.testing.assert_allclose(
        mbgnbd.expected_purchases(THEIRS, 39, x, t_x, big_t), LIFETIMES_EXPECTED_39, rtol=1e-9
    )
    np.testing.assert_allclose(
        mbgnbd.expected_purchases_population(THEIRS, [1, 39, 78]),
        LIFETIMES_POPULATION_1_39_78,
        rtol=1e-9,
    )
    np.testing.assert_allclose(
        [float(mbgnbd.prob_purchases(THEIRS, n, 39)) for n in range(5)],
        LIFETIMES_PROB_N_IN_39,
        rtol=1e-9,
    )


def test_predictions_of_the_fit_match_lifetimes(mbg, some):
    x, t_x, big_t = some
    np.testing.assert_allclose(mbgnbd.p_alive(mbg, x, t_x, big_t), LIFETIMES_P_ALIVE, rtol=1e-5)
    np.testing.assert_allclose(
        mbgnbd.expected_purchases(mbg, 39, x, t_x, big_t), LIFETIMES_EXPECTED_39, rtol=1e-5
    )


# --- the model's own properties -------------------------------------------------------


def test_one_time_buyer_may_have_dropped_out():
    """Unlike BG/NBD, x = 0 is not certainly alive: the customer may leave at time 0."""
    r, alpha, a, b = (LIFETIMES_PARAMS[p] for p in ("r", "alpha", "a", "b"))
    ages = np.array([0.0, 1.0, 38.86, 100.0])
    alive = mbgnbd.p_alive(THEIRS, np.zeros(4), np.zeros(4), ages)
    np.testing.assert_allclose(alive, 1 / (1 + a / b * ((alpha + ages) / alpha) ** r), rtol=1e-12)
    assert alive[0] == pytest.approx(b / (a + b), rel=1e-12)  # the time-0 dropout only
    assert (np.diff(alive) < 0).all()  # the longer without a repeat purchase, the likelier gone
    assert (alive < 1).all()
    # Its expected purchases are P(alive) times those of an active customer.
    expected = mbgnbd.expected_purchases(THEIRS, 39, np.zeros(4), np.zeros(4), ages)
    if_alive = mbgnbd.expected_purchases_if_alive(THEIRS, 39, np.zeros(4), ages)
    np.testing.assert_allclose(expected, alive * if_alive, rtol=1e-12)
    assert (expected > 0).all()


def test_population_expectation_is_the_conditional_one_at_zero():
    t = np.array([1.0, 39.0, 78.0])
    conditional = [float(mbgnbd.expected_purchases(THEIRS, s, 0, 0, 0)[0]) for s in t]
    np.testing.assert_allclose(
        mbgnbd.expected_purchases_population(THEIRS, t), conditional, rtol=1e-12
    )


def test_purchase_probabilities_sum_to_the_population_expectation():
    probs = np.array([float(mbgnbd.prob_purchases(THEIRS, n, 39)) for n in range(300)])
    assert probs.sum() == pytest.approx(1.0, abs=1e-9)
    assert probs @ np.arange(300) == pytest.approx(
        float(mbgnbd.expected_purchases_population(THEIRS, 39)), rel=1e-6
    )
    # No purchase: dropped out at time 0 (a / (a + b)) or alive and not yet bought.
    assert float(mbgnbd.prob_purchases(THEIRS, 0, 0)) == pytest.approx(1.0, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(
    st.floats(0.05, 5),
    st.floats(1, 50),
    st.floats(0.05, 5),
    st.floats(0.05, 50),
    st.integers(0, 100),
    st.floats(0, 1),
    st.floats(0.01, 200),
)
def test_p_alive_is_a_probability_and_below_one_for_one_time_buyers(r, alpha, a, b, x, share, T):
    model = mbgnbd.ModifiedBetaGeoModel(r, alpha, a, b)
    t_x = share * T if x > 0 else 0.0
    alive = mbgnbd.p_alive(model, x, t_x, T)[0]
    assert 0 < alive < 1
    once = mbgnbd.p_alive(model, 0, 0, T)[0]
    assert 0 < once < 1
    assert once <= b / (a + b) * (1 + 1e-12)


def test_analytic_gradient_matches_finite_differences(cdnow):
    cols, w = patterns(
        {"x": cdnow["x"].to_numpy(float), "t_x": cdnow["t_x"].to_numpy(float), "T": cdnow["T"]}
    )
    split = mbgnbd._Patterns(cols["x"], cols["t_x"], cols["T"], w)

    def negloglik(params):
        return -float(w @ mbgnbd._loglik_terms(params, cols["x"], cols["t_x"], cols["T"]))

    for params in ([0.52, 6.2, 0.89, 1.6], [1.0, 1.0, 1.0, 1.0], [3.0, 20.0, 0.3, 5.0]):
        params = np.array(params)
        value, grad = mbgnbd._value_and_gradient(params, split)
        assert value == pytest.approx(negloglik(params), rel=1e-12)
        steps = 1e-5 * params
        numeric = [
            (negloglik(params + h) - negloglik(params - h)) / (2 * steps[i])
            for i, h in enumerate(np.diag(steps))
        ]
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-3)


def test_weights_are_customer_counts(cdnow):
    cols, w = patterns(
        {"x": cdnow["x"].to_numpy(float), "t_x": cdnow["t_x"].to_numpy(float), "T": cdnow["T"]}
    )
    by_pattern = mbgnbd.fit(cols["x"], cols["t_x"], cols["T"], weights=w)
    each = mbgnbd.fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    assert by_pattern.loglik == pytest.approx(each.loglik, rel=1e-12)
    for p in each.param_names:
        assert getattr(by_pattern, p) == pytest.approx(getattr(each, p), rel=1e-6)


def test_recovers_simulated_parameters():
    truth = mbgnbd.ModifiedBetaGeoModel(r=0.5, alpha=6.0, a=0.6, b=3.0)
    rng = np.random.default_rng(7)
    fitted = mbgnbd.fit(*mbgnbd.simulate(truth, rng.uniform(20, 60, 20_000), rng))
    # Judged by each parameter's own standard error (b's is ~0.5 here, r's 0.015): over
    # 60 seeds the errors in standard errors had mean within ±0.15 and spread 1.0-1.14,
    # and this seed's worst is alpha at 3.4 (r and alpha err together along their ridge).
    for p in truth.param_names:
        assert abs(getattr(fitted, p) - getattr(truth, p)) < 4 * fitted.stderr[p], p


def test_no_overflow_at_extremes():
    x = np.array([0, 0, 1, 10_000, 10_000, 500, 3])
    t_x = np.array([0, 0, 3650, 3650, 1.0, 3000, 3649.9])
    T = np.array([0.0, 3650, 3650, 3650, 3650, 3650, 3650])
    for values in (
        mbgnbd.loglik(THEIRS, x, t_x, T),
        mbgnbd.p_alive(THEIRS, x, t_x, T),
        mbgnbd.expected_purchases(THEIRS, 520, x, t_x, T),
        mbgnbd.expected_purchases(THEIRS, 1e6, x, t_x, T),
    ):
        assert np.isfinite(values).all()
    alive = mbgnbd.p_alive(THEIRS, x, t_x, T)
    assert 0 <= alive.min() <= alive.max() < 1
    # A heavy buyer seen to the end is almost surely alive, one gone quiet for ten years not.
    assert alive[3] > 0.999 and alive[4] < 1e-300


def test_expected_purchases_are_continuous_through_a_equal_to_one():
    def at(a):
        m = mbgnbd.ModifiedBetaGeoModel(0.525, 6.183, a, 1.614)
        return (
            float(mbgnbd.expected_purchases(m, 39, 2, 30.43, 38.86)[0]),
            float(mbgnbd.expected_purchases_population(m, 39)),
        )

    for below, here, above in zip(at(0.999), at(1.0), at(1.001), strict=True):
        assert np.isfinite(here)
        assert min(below, above) < here < max(below, above)
        assert here == pytest.approx((below + above) / 2, rel=1e-6)


def test_needs_repeat_buyers_and_says_so():
    with pytest.raises(ModelError, match="no customer has bought more than once"):
        mbgnbd.fit(np.zeros(100), np.zeros(100), np.full(100, 30.0))


def test_refuses_inconsistent_customers():
    with pytest.raises(InputError, match="recency must be between 0 and T"):
        mbgnbd.p_alive(THEIRS, [1], [40], [30])
    with pytest.raises(InputError, match="a customer with frequency 0 must have recency 0"):
        mbgnbd.loglik(THEIRS, [0], [3], [30])
    with pytest.raises(InputError, match="MBG/NBD parameter b must be a positive number"):
        mbgnbd.ModifiedBetaGeoModel(r=1, alpha=1, a=1, b=0)
