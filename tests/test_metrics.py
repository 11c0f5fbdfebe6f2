"""The CLV vocabulary: seed examples, hand-worked numbers, argument errors, properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clvxl.analytics import metrics as m
from clvxl.errors import InputError


def test_seed_gross_margin_example():
    # Revenue 800,000; COGS = 180,000 + 450,000 - 160,000 = 470,000; margin 41.25 %.
    cost = m.cogs(180_000, 450_000, 160_000)
    assert cost == 470_000
    assert m.gross_margin(800_000, cost) == pytest.approx(0.4125)


def test_seed_chain_aov_frequency_value_lifetime_clv():
    # 20,000 orders worth 800,000 from 8,000 customers; churn 25 % a year.
    aov = m.aov(800_000, 20_000)  # 40
    frequency = m.purchase_frequency(20_000, 8_000)  # 2.5 a year
    value = m.customer_value(aov, frequency)  # 100 a year
    lifetime = m.customer_lifetime(0.25)  # 4 years
    assert (aov, frequency, value, lifetime) == (40.0, 2.5, 100.0, 4.0)
    assert m.clv_simple(aov, frequency, lifetime) == 400.0
    assert m.clv_simple(aov, frequency, lifetime, 0.4125) == pytest.approx(165.0)


def test_most_common_clv_and_its_discounted_form():
    # ARPU 50 a month, margin 80 %, churn 5 % a month: 50 * 0.8 / 0.05 = 800.
    assert m.clv(50, 0.8, 0.05) == pytest.approx(800.0)
    # Discounted at 1 % a month: 40 * 1.01 / 0.06 = 673.33, also the sum of the cash flows.
    assert m.clv(50, 0.8, 0.05, 0.01) == pytest.approx(40 * 1.01 / 0.06)
    flows = sum(40 * 0.95**t / 1.01**t for t in range(2000))
    assert m.clv(50, 0.8, 0.05, 0.01) == pytest.approx(flows)


def test_churn_retention_arpu_cac_payback():
    assert m.churn_rate(1000, 950, 100) == pytest.approx(0.15)  # (1000 + 100 - 950) / 1000
    assert m.retention_rate(1000, 950, 100) == pytest.approx(0.85)
    assert m.arpu(120_000, 1_000, 12) == 10.0
    assert m.cac(50_000, 400) == 125.0
    assert m.ltv_cac(375, 125) == 3.0  # the usual subscription target
    assert m.cac_payback(125, 50, 0.5) == 5.0  # 125 / (50 * 0.5) months


def test_whole_columns_elementwise():
    np.testing.assert_allclose(m.aov([100, 90], [4, 3]), [25, 30])
    np.testing.assert_allclose(m.clv_historic([100.0, 40.0], cost=[60.0, 10.0]), [40.0, 30.0])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: m.clv(50, 0.8, 1.5), "churn must be between 0 and 1, got 1.5"),
        (
            lambda: m.clv(50, 0.8, 0),
            "churn must be above 0 (with no churn the lifetime is unbounded), got 0",
        ),
        (lambda: m.aov(100, 0), "orders must be positive, got 0"),
        (lambda: m.aov("lots", 2), "revenue must be a number, got 'lots'"),
        (lambda: m.aov(float("nan"), 2), "revenue must be a finite number, got nan"),
        (
            lambda: m.churn_rate(100, 120, 10),
            "customers_end must be at most customers_start + new_customers, got 120",
        ),
        (lambda: m.gross_margin(0, 10), "revenue must be positive, got 0"),
        (lambda: m.cogs(100, 10, 200), "closing_inventory must be at most opening_inventory"),
        (lambda: m.clv(50, 40, 0.1), "gross_margin must be between -1 and 1"),
        (lambda: m.ltv_cac(300, 0), "cac must be positive, got 0"),
    ],
)
def test_wrong_arguments_say_which_and_why(call, message):
    with pytest.raises(InputError) as err:
        call()
    assert str(err.value).startswith(message)


money = st.floats(1.0, 1e6)


@given(
    money, st.integers(1, 10_000), st.floats(0.01, 1), st.floats(0.01, 0.99), st.floats(0.01, 100)
)
def test_scaling_money_by_k_scales_every_value(revenue, orders, churn, margin, k):
    assert m.aov(revenue * k, orders) == pytest.approx(m.aov(revenue, orders) * k)
    assert m.arpu(revenue * k, orders) == pytest.approx(m.arpu(revenue, orders) * k)
    assert m.clv(revenue * k, margin, churn, 0.01) == pytest.approx(
        m.clv(revenue, margin, churn, 0.01) * k
    )


@given(st.integers(1, 10_000), st.integers(0, 10_000), st.integers(0, 10_000))
def test_churn_and_retention_add_to_one(start, new, kept):
    kept = min(kept, start)
    end = kept + new
    assert m.churn_rate(start, end, new) + m.retention_rate(start, end, new) == pytest.approx(1.0)
