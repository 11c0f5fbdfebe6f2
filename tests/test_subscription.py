"""Subscription mode: a hand-worked invoice log, Fader & Hardie's sBG cohorts through the
same path, detection, the CLV intervals (by hand and by simulation)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln, digamma

from clvxl import subscription
from clvxl.cli import main
from clvxl.customers import CUSTOMER_COLUMNS
from clvxl.models import sbg
from clvxl.recalc import Settings, recalculate
from clvxl.subscription import SUBSCRIBER_COLUMNS


def monthly(customer: str, first: str, count: int, amount: float = 50.0) -> list[tuple]:
    dates = pd.date_range(first, periods=count, freq=pd.DateOffset(months=1))
    return [(customer, d.strftime("%Y-%m-%d"), amount) for d in dates]


#: As of 2024-12-31. m9 paid through 2024-12-03 and was not renewed in the 15-day grace
#: period: churned. a1's lone 1,200 is 24 times the log's monthly 50: an annual plan.
INVOICES = pd.DataFrame(
    monthly("m1", "2024-01-05", 12)
    + monthly("m2", "2024-01-10", 3)
    + monthly("m3", "2024-02-01", 1)
    + monthly("m4", "2024-06-20", 7, 80.0)
    + monthly("m5", "2024-03-15", 6)
    + monthly("m6", "2024-12-20", 1)
    + monthly("m7", "2024-11-25", 2)
    + monthly("m8", "2024-01-01", 12)
    + monthly("m9", "2024-01-03", 11)
    + monthly("m10", "2024-05-10", 1)
    + monthly("m11", "2024-07-15", 1)
    + monthly("m12", "2024-01-15", 12)
    + monthly("m13", "2024-01-20", 12)
    + [("a1", "2024-04-01", 1200.0)],
    columns=["customer", "date", "amount"],
)
SETTINGS = Settings(business="subscription", margin=0.8, cac=300, as_of="2024-12-31")
MONTHLY_RATE = 1.10 ** (1 / 12) - 1


@pytest.fixture(scope="module")
def worked():
    return recalculate(INVOICES, SETTINGS)


def test_tenure_status_and_mrr_by_hand(worked):
    table = worked.customers.set_index("customer_id")
    assert list(worked.customers.columns) == SUBSCRIBER_COLUMNS
    assert table["tenure_months"].to_dict() == {
        "a1": 12, "m1": 12, "m10": 1, "m11": 1, "m12": 12, "m13": 12, "m2": 3, "m3": 1, "m4": 7,
        "m5": 6, "m6": 1, "m7": 2, "m8": 12, "m9": 11,
    }  # fmt: skip
    churned = {"m2", "m3", "m5", "m9", "m10", "m11"}
    assert set(table.index[table["status"] == "churned"]) == churned
    assert table["paid_through"]["m9"] == pd.Timestamp("2024-12-03")
    assert table["paid_through"]["a1"] == pd.Timestamp("2025-04-01")
    assert table["plan"]["a1"] == "annual" and (table["plan"].drop("a1") == "monthly").all()
    assert table["mrr"].to_dict() == {
        "a1": 100.0, "m1": 50.0, "m10": 0.0, "m11": 0.0, "m12": 50.0, "m13": 50.0, "m2": 0.0,
        "m3": 0.0, "m4": 80.0, "m5": 0.0, "m6": 50.0, "m7": 50.0, "m8": 50.0, "m9": 0.0,
    }  # fmt: skip
    assert (table.loc[list(churned), ["derl", "clv"]] == 0).all().all()


def test_sbg_fit_derl_and_clv_by_hand(worked):
    table = worked.customers.set_index("customer_id")
    (cohort,) = worked.subscription_cohorts.query("plan == 'monthly'").itertuples()
    a, b = cohort.alpha, cohort.beta
    assert (cohort.subscribers, cohort.active, cohort.churned) == (13, 7, 6)
    # The fit is the maximum of the censored likelihood: churned after m months
    # P(T = m), active after m paid months S(m - 1).
    gone, active = [3, 1, 6, 11, 1, 1], [12, 7, 1, 2, 12, 12, 12]

    def loglik(a, b):
        churn = sum(betaln(a + 1, b + m - 1) - betaln(a, b) for m in gone)
        return churn + sum(betaln(a, b + m - 1) - betaln(a, b) for m in active)

    h = 1e-5
    assert abs(loglik(a * (1 + h), b) - loglik(a * (1 - h), b)) / (2 * h) < 1e-4
    assert abs(loglik(a, b * (1 + h)) - loglik(a, b * (1 - h))) / (2 * h) < 1e-4
    assert cohort.loglik == pytest.approx(loglik(a, b), abs=1e-9)

    def survival(t):
        return np.exp(betaln(a, b + t) - betaln(a, b))

    for customer, paid in (("m1", 12), ("m4", 7), ("m6", 1), ("m7", 2), ("m8", 12), ("m13", 12)):
        n = paid - 1  # renewals made
        # DERL as its series: the next renewal at full weight, each later one discounted.
        derl = sum(survival(n + 1 + k) / survival(n) / (1 + MONTHLY_RATE) ** k for k in range(5000))
        assert table["derl"][customer] == pytest.approx(derl, rel=1e-9)
        assert table["expected_remaining_months"][customer] == pytest.approx(derl, rel=1e-9)
        assert table["renewal_probability"][customer] == pytest.approx((b + n) / (a + b + n))
        assert table["clv"][customer] == pytest.approx(table["mrr"][customer] * 0.8 * derl)
    # The one annual subscriber has shown no churn: its plan cannot be fitted; said so.
    assert np.isnan(table["clv"]["a1"])
    assert any(n.startswith("no lifetime value for the annual subscribers") for n in worked.notes)


def test_portfolio_kpis_by_hand(worked):
    kpis = dict(zip(worked.kpis["kpi"], worked.kpis["value"], strict=True))
    # Subscribers at risk at the 12 month starts 2023-12-31, 2024-01-31, ..., 2024-11-30:
    # m1 11, m2 3, m3 1, m4 6, m5 6, m6 0, m7 1, m8 11, m9 11, m10 1, m11 1, m12 11,
    # m13 11, a1 8 = 82; 6 churned.
    churn = 6 / 82
    arpa = (100 + 50 + 80 + 50 + 50 + 50 + 50 + 50) / 8
    assert kpis["Subscribers (active)"] == 8 and kpis["Subscribers (churned)"] == 6
    assert kpis["MRR"] == 480
    assert kpis["ARPA (MRR per active subscriber)"] == pytest.approx(arpa)
    assert kpis["Monthly churn rate (last 12 months)"] == pytest.approx(churn)
    assert kpis["LTV = ARPA × margin / churn"] == pytest.approx(arpa * 0.8 / churn)
    assert kpis["LTV:CAC"] == pytest.approx(arpa * 0.8 / churn / 300)
    assert kpis["CAC payback (months)"] == pytest.approx(300 / (arpa * 0.8))


@pytest.mark.parametrize(
    ("column", "alpha", "beta", "loglik"),
    [("high_end", 0.668, 3.806, -1611.16), ("regular", 0.704, 1.182, -1680.27)],
)
def test_fader_hardie_cohorts_through_the_invoice_path(reference_data, column, alpha, beta, loglik):
    # Each of the 1,000 customers of a cohort pays an annual invoice on 1 January from
    # 2000 until it leaves; the survivors of year 7 are still paid up on 2007-06-30.
    alive = pd.read_csv(reference_data / "sbg_survival.csv")[column].to_numpy()
    paid = np.repeat(np.arange(1, 9), np.r_[-np.diff(alive), alive[-1]])
    rows = [
        (f"c{i}", f"{2000 + year}-01-01", 120.0)
        for i, years in enumerate(paid)
        for year in range(years)
    ]
    log = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    result = recalculate(log, Settings(as_of="2007-06-30"), sheets=False)
    assert result.business == "subscription"  # detected: yearly invoices per account
    (cohort,) = result.subscription_cohorts.itertuples()
    assert (cohort.cohort, cohort.plan, cohort.fitted_on) == ("2000", "annual", "the cohort")
    assert (round(cohort.alpha, 3), round(cohort.beta, 3)) == (alpha, beta)
    assert cohort.loglik == pytest.approx(loglik, abs=0.01)
    if column == "high_end":  # published: DERL after 7 renewals at 10 % = 7.53
        survivor = result.customers[result.customers["invoices"] == 8].iloc[0]
        assert round(survivor["derl"], 2) == 7.53
        assert survivor["expected_remaining_months"] == pytest.approx(12 * survivor["derl"])
        assert survivor["clv"] == pytest.approx(10.0 * 12 * survivor["derl"])  # MRR 10


def regular_log(accounts: int = 30) -> pd.DataFrame:
    rows = []
    for i in range(accounts):
        rows += monthly(f"acct{i}", f"2023-{1 + i % 12:02d}-{1 + i % 27:02d}", 3 + i % 10, 29.0)
    return pd.DataFrame(rows, columns=["customer", "date", "amount"])


def test_a_subscription_log_is_detected_without_options():
    result = recalculate(regular_log(), sheets=False)
    assert result.business == "subscription"
    assert list(result.customers.columns) == SUBSCRIBER_COLUMNS
    assert result.notes[0] == "no order id found: each line is counted as one order"
    assert result.notes[1] == (
        "read as a subscription log: 100% of the 30 accounts with repeat invoices are billed "
        "at regular monthly or yearly intervals; tenure, MRR, churn and sBG lifetime value "
        "per subscriber instead of purchase models (--business transactions to treat the "
        "invoices as purchases)"
    )


def test_business_transactions_forces_the_purchase_models():
    result = recalculate(regular_log(), Settings(business="transactions"), sheets=False)
    assert result.business == "transactions"
    assert list(result.customers.columns) == CUSTOMER_COLUMNS


def test_the_demo_is_not_a_subscription_log(demo_csv_path):
    result = recalculate(pd.read_csv(demo_csv_path), sheets=False)
    assert result.business == "transactions"


def test_the_command_line_option(tmp_path, capsys):
    source = tmp_path / "invoices.csv"
    INVOICES.to_csv(source, index=False)
    out = tmp_path / "subscribers.csv"
    args = ["recalc", str(source), "-o", str(out), "--as-of", "2024-12-31"]
    assert main([*args, "--business", "subscription", "--margin", "0.8", "--quiet"]) == 0
    written = pd.read_csv(out)
    assert list(written.columns) == SUBSCRIBER_COLUMNS and len(written) == 14
    book = tmp_path / "subscribers.xlsx"
    assert (
        main([*args[:2], "-o", str(book), *args[4:], "--business", "subscription", "--quiet"]) == 0
    )
    assert book.stat().st_size > 0
    with pytest.raises(SystemExit):
        main([*args, "--business", "saas"])
    assert "invalid choice: 'saas'" in capsys.readouterr().err


@pytest.fixture
def demo_csv_path():
    from importlib import resources

    return resources.files("clvxl").joinpath("data/demo_transactions.csv")


def test_no_churn_yet_leaves_the_churn_based_figures_empty_and_says_so():
    rows = monthly("a", "2024-01-01", 12) + monthly("b", "2024-02-01", 11)
    log = pd.DataFrame(rows, columns=["customer", "date", "amount"])
    settings = Settings(business="subscription", cac=100, as_of="2024-12-31")
    result = recalculate(log, settings, sheets=False)
    kpis = dict(zip(result.kpis["kpi"], result.kpis["value"], strict=True))
    assert kpis["Monthly churn rate (last 12 months)"] == 0
    assert np.isnan(kpis["LTV = ARPA × margin / churn"]) and np.isnan(kpis["LTV:CAC"])
    assert kpis["CAC payback (months)"] == 2.0  # 100 / (50 × 1)
    assert result.customers["clv"].isna().all()
    assert (
        "no subscriber churned in the last 12 months, so ARPA × margin / churn and LTV:CAC "
        "are empty"
    ) in result.notes


Z90 = 1.6448536269514722  # the standard normal's 95 % quantile


def series_derl(a: float, b: float, n: int, rate: float) -> tuple[float, np.ndarray]:
    """DERL as its series, and d log DERL / d log (alpha, beta) term by term with
    d log S(t) / d alpha = psi(a + b) - psi(a + b + t) and
    d log S(t) / d beta = psi(b + t) - psi(a + b + t) - psi(b) + psi(a + b)."""
    t = n + 1 + np.arange(20_000)
    terms = np.exp(betaln(a, b + t) - betaln(a, b + n) - (t - n - 1) * np.log1p(rate))
    d_alpha = digamma(a + b + n) - digamma(a + b + t)
    d_beta = digamma(b + t) - digamma(a + b + t) - digamma(b + n) + digamma(a + b + n)
    derl = terms.sum()
    return derl, np.array([a * terms @ d_alpha, b * terms @ d_beta]) / derl


@pytest.mark.parametrize(("a", "b", "n", "rate"), [(0.7, 2.5, 0, 0.1), (0.668, 3.806, 7, 0.1),
                                                   (2.0, 0.6, 30, MONTHLY_RATE)])  # fmt: skip
def test_the_derl_gradient_is_the_derivative_of_its_series(a, b, n, rate):
    model = sbg.ShiftedBetaGeoModel(alpha=a, beta=b)
    derl, gradient = series_derl(a, b, n, rate)
    assert sbg.derl(model, rate, n) == pytest.approx(derl, rel=1e-9)
    np.testing.assert_allclose(sbg.derl_log_gradient(model, rate, [n])[0], gradient, rtol=1e-7)


def log_cov(model) -> np.ndarray:
    return model.cov / np.outer([model.alpha, model.beta], [model.alpha, model.beta])


def test_intervals_by_hand_one_model_per_cohort_the_pooled_one_shared():
    own = sbg.ShiftedBetaGeoModel(alpha=0.7, beta=2.5, cov=np.array([[0.02, 0.03], [0.03, 0.2]]))
    pooled = sbg.ShiftedBetaGeoModel(alpha=1.2, beta=4.0, cov=np.array([[0.05, 0.1], [0.1, 0.5]]))
    models = {("2022", "monthly"): own, ("2023", "monthly"): pooled, ("2024", "monthly"): pooled}
    subscribers = pd.DataFrame(
        {
            "cohort": ["2022", "2022", "2023", "2024", "2024", "2023"],
            "plan": "monthly",
            "tenure_months": [20, 5, 12, 3, 3, 7],
            "clv": [900.0, 400.0, 700.0, 200.0, 100.0, 0.0],  # the last one churned
        }
    )
    low, high, total_low, total_high, notes = subscription.clv_intervals(subscribers, models, 0.10)
    model_of = [own, own, pooled, pooled, pooled]
    gradients = [
        series_derl(m.alpha, m.beta, tenure - 1, MONTHLY_RATE)[1]
        for m, tenure in zip(model_of, subscribers["tenure_months"], strict=False)
    ]
    clv = subscribers["clv"].to_numpy()
    for i, (m, g) in enumerate(zip(model_of, gradients, strict=True)):
        sd = np.sqrt(g @ log_cov(m) @ g)
        assert low[i] == pytest.approx(clv[i] * np.exp(-Z90 * sd), rel=1e-7)
        assert high[i] == pytest.approx(clv[i] * np.exp(Z90 * sd), rel=1e-7)
    assert (low[5], high[5]) == (0.0, 0.0)
    # The total: each model's gradients summed (its subscribers move together, the two
    # pooled cohorts included), the two models independent.
    total = clv.sum()
    g_own = (clv[0] * gradients[0] + clv[1] * gradients[1]) / total
    g_pooled = (clv[2] * gradients[2] + clv[3] * gradients[3] + clv[4] * gradients[4]) / total
    sd = np.sqrt(g_own @ log_cov(own) @ g_own + g_pooled @ log_cov(pooled) @ g_pooled)
    assert total_low == pytest.approx(total * np.exp(-Z90 * sd), rel=1e-7)
    assert total_high == pytest.approx(total * np.exp(Z90 * sd), rel=1e-7)
    assert notes == []


def test_a_model_without_covariance_gives_no_interval_and_says_so():
    fitted = sbg.ShiftedBetaGeoModel(alpha=0.7, beta=2.5, cov=np.array([[0.02, 0.0], [0.0, 0.1]]))
    singular = sbg.ShiftedBetaGeoModel(alpha=1.0, beta=3.0, cov=np.full((2, 2), np.nan))
    models = {("2023", "monthly"): fitted, ("2024", "monthly"): singular, ("2024", "annual"): None}
    subscribers = pd.DataFrame(
        {
            "cohort": ["2023", "2024", "2024", "2024"],
            "plan": ["monthly", "monthly", "monthly", "annual"],
            "tenure_months": [12, 4, 2, 12],
            "clv": [500.0, 300.0, 0.0, np.nan],
        }
    )
    low, high, total_low, total_high, notes = subscription.clv_intervals(subscribers, models, 0.10)
    assert 0 < low[0] < 500 < high[0]
    assert np.isnan([low[1], high[1], low[3], high[3], total_low, total_high]).all()
    assert (low[2], high[2]) == (0.0, 0.0)
    assert notes == [
        "no 90 % interval for the CLV of the monthly 2024 subscribers, nor for the total "
        "CLV: their sBG fit has no usable covariance (the likelihood's curvature at its "
        "maximum is singular), so the parameters' uncertainty is unknown"
    ]


def test_every_active_subscriber_has_an_interval_and_the_total_too(worked):
    table = worked.customers.set_index("customer_id")
    monthly_active = (table["status"] == "active") & (table["plan"] == "monthly")
    clv, low, high = (table.loc[monthly_active, c] for c in ("clv", "clv_low", "clv_high"))
    assert np.isfinite(low).all() and np.isfinite(high).all()
    assert (low < clv).all() and (clv < high).all()
    churned = table["status"] == "churned"
    assert (table.loc[churned, ["clv_low", "clv_high"]] == 0).all().all()
    assert np.isnan(table.loc["a1", ["clv_low", "clv_high"]].astype(float)).all()  # no model
    kpis = dict(zip(worked.kpis["kpi"], worked.kpis["value"], strict=True))
    total = kpis["Total CLV (sBG)"]
    assert total == pytest.approx(clv.sum())
    assert kpis["Total CLV (sBG), 90 % interval low"] < total
    assert total < kpis["Total CLV (sBG), 90 % interval high"]
    # One model, so its subscribers' CLVs move together: the total's log-scale spread is
    # that of their CLV-weighted gradient, at most the widest subscriber's (a norm is
    # convex), not the far narrower spread of independent errors.
    total_ratio = kpis["Total CLV (sBG), 90 % interval high"] / total
    assert 1 < total_ratio <= (high / clv).max()


TRUE_SBG = sbg.ShiftedBetaGeoModel(alpha=0.7, beta=2.5)


def simulated_invoices(rng: np.random.Generator, n: int = 1400) -> pd.DataFrame:
    """n subscribers joining on the 1st of a month of 2022 or 2023 (two acquisition
    cohorts), each paying monthly until it leaves (churn probability per month drawn
    from Beta(0.7, 2.5)); invoices up to December 2023. The first one, joined January
    2023, has paid 12 months and is still there: the probe."""
    start = rng.integers(0, 24, n)
    life = rng.geometric(rng.beta(TRUE_SBG.alpha, TRUE_SBG.beta, n))
    start[0], life[0] = 12, 12
    count = np.minimum(life, 24 - start)
    month = (
        np.repeat(start, count)
        + np.arange(count.sum())
        - np.repeat(np.cumsum(count) - count, count)
    )
    months = pd.date_range("2022-01-01", periods=24, freq="MS")
    ids = np.char.add("s", np.repeat(np.arange(n), count).astype(str))
    return pd.DataFrame({"customer_id": ids, "date": months[month], "amount": 30.0})


@pytest.mark.slow  # 200 replicates: ~14 s
def test_the_subscription_interval_covers_the_true_clv_in_85_to_95_percent_of_replicates():
    # As of 20 December, 19 days after the month's invoices: who did not pay on the 1st
    # has churned (15 days' grace), who paid is active.
    rng = np.random.default_rng(4)
    total_hits = probe_hits = 0
    for _ in range(200):
        subs = subscription.analyse(simulated_invoices(rng), pd.Timestamp("2023-12-20"))
        table, kpis = subs.subscribers, dict(subs.kpis)
        assert list(subs.cohorts["fitted_on"]) == ["the cohort", "the cohort"]
        active = table["status"] == "active"
        renewals = table.loc[active, "tenure_months"].to_numpy() - 1
        truth = sum(30 * sbg.derl(TRUE_SBG, MONTHLY_RATE, int(n)) for n in renewals)
        low, high = (kpis[f"Total CLV (sBG), 90 % interval {end}"] for end in ("low", "high"))
        total_hits += low <= truth <= high
        probe = table.iloc[0]
        assert (probe["customer_id"], probe["status"], probe["tenure_months"]) == (
            "s0",
            "active",
            12,
        )
        probe_hits += (
            probe["clv_low"] <= 30 * sbg.derl(TRUE_SBG, MONTHLY_RATE, 11) <= probe["clv_high"]
        )
    assert 0.85 <= total_hits / 200 <= 0.95
    assert 0.85 <= probe_hits / 200 <= 0.95
