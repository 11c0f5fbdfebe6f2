"""RFM scores and segments, value tiers, acquisition cohorts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.stats import rankdata

from clvxl.analytics import cohorts, rfm, tiers
from clvxl.clean import clean_transactions
from clvxl.errors import InputError

# The whole (R, FM) map of the documented rule order; FM = (F + M) / 2 in steps of 0.5.
EXPECTED_MAP = {
    5: ["New Customers"] + ["Potential Loyalist"] * 3 + ["Loyal Customers"] * 2 + ["Champions"] * 3,
    4: ["New Customers"] + ["Potential Loyalist"] * 3 + ["Loyal Customers"] * 2 + ["Champions"] * 3,
    3: ["Promising"] + ["Potential Loyalist"] * 3 + ["Loyal Customers"] * 5,
    2: ["About To Sleep"] * 2 + ["Need Attention"] * 2 + ["Loyal Customers"] * 5,
    1: ["Lost", "Hibernating"] + ["At Risk"] * 4 + ["Can't Lose Them"] * 3,
}


def test_segment_map_follows_the_documented_order():
    for r, names in EXPECTED_MAP.items():
        for step, name in enumerate(names):
            fm2 = step + 2  # F + M from 2 to 10
            f, m_ = fm2 // 2, fm2 - fm2 // 2
            assert rfm.rfm_segment(r, f, m_) == name, (r, f, m_)


def test_every_score_triple_gets_one_of_the_eleven_names():
    r, f, m_ = np.meshgrid(*[np.arange(1, 6)] * 3, indexing="ij")
    names = rfm.rfm_segment(r.ravel(), f.ravel(), m_.ravel())
    assert set(names) == {name for name, _, _ in rfm.SEGMENTS}


def test_overlaps_resolved_by_order():
    assert rfm.rfm_segment(5, 5, 5) == "Champions"  # also matches Loyal Customers
    assert rfm.rfm_segment(5, 1, 1) == "New Customers"  # also matches Potential Loyalist
    assert rfm.rfm_segment(1, 5, 5) == "Can't Lose Them"  # also matches At Risk


@pytest.mark.parametrize("bad", [0, 6, 2.5, "x"])
def test_invalid_scores_are_refused(bad):
    with pytest.raises(InputError, match="must be a whole number from 1 to 5"):
        rfm.rfm_segment(bad, 3, 3)


def test_rfm_code():
    assert rfm.rfm_code(5, 4, 5) == "545"


def test_one_time_buyers_do_not_collapse_the_f_scale():
    # 700 one-time buyers, then 100 each with 2, 3 and 4-9 orders.
    orders = np.array([1] * 700 + [2] * 100 + [3] * 100 + list(range(4, 10)) * 16 + [12] * 4)
    scores = rfm.score(orders)
    assert set(scores[orders == 1]) == {1}
    assert set(scores[orders > 1]) >= {2, 3, 4, 5}
    assert (np.diff(scores[np.argsort(orders, kind="stable")]) >= 0).all()  # monotone


@given(st.lists(st.integers(0, 20), min_size=1, max_size=60), st.randoms(use_true_random=False))
def test_scores_ignore_row_order_and_ties_share(values, rnd):
    values = np.array(values)
    order = np.array(rnd.sample(range(len(values)), len(values)))
    scores = rfm.score(values)
    assert (rfm.score(values[order]) == scores[order]).all()
    for v in np.unique(values):
        assert len(set(scores[values == v])) == 1
    assert scores.min() >= 1 and scores.max() <= 5


def test_segment_summary_shares():
    table = pd.DataFrame(
        {
            "segment": ["Champions", "Lost", "Champions", "At Risk"],
            "revenue": [50.0, 10.0, 30.0, 10.0],
        }
    )
    summary = rfm.segment_summary(table).set_index("segment")
    assert summary.loc["Champions", "customers"] == 2
    assert summary.loc["Champions", "revenue_share"] == pytest.approx(0.8)
    assert summary["customers"].sum() == 4 and len(summary) == 11


def test_value_tiers_on_a_hundred_customers():
    values = np.arange(1, 101, dtype=float)
    labels = tiers.value_tiers(values)
    assert (labels == "Top 1%").sum() == 1 and labels[99] == "Top 1%"
    assert (labels == "Top 5%").sum() == 4
    assert (labels == "Top 20%").sum() == 15
    summary = tiers.tier_summary(values).set_index("tier")
    # The top 5 % (96..100) bring 490 of 5,050.
    assert summary.loc["Top 5%", "cumulative_share"] == pytest.approx(490 / 5050)
    assert tiers.value_tier(96, values) == "Top 5%" and tiers.value_tier(3, values) == "Rest"


def test_ties_at_a_tier_boundary_are_not_split():
    assert tiers.value_tiers([7, 7, 7, 1]).tolist() == ["Top 1%", "Top 1%", "Top 1%", "Rest"]


def test_cohorts_hand_worked():
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "c", "c"],
            "date": pd.to_datetime(
                ["2024-01-05", "2024-02-10", "2024-03-01", "2024-01-20", "2024-02-01", "2024-02-20"]
            ),
            "amount": [10.0, -5.0, 4.0, 7.0, 3.0, 2.0],
        }
    )
    counts = cohorts.cohort_table(tx)
    # January: a and b; a's February line is a refund (not active), a active again in March.
    assert counts.loc["2024-01-01"].tolist() == [2, 0.0, 1.0]
    assert counts.loc["2024-02-01"].iloc[:2].tolist() == [1, 0.0]
    assert np.isnan(counts.loc["2024-02-01"].iloc[2])  # after the log ends
    revenue = cohorts.cohort_table(tx, "revenue")
    assert revenue.loc["2024-01-01"].tolist() == [17.0, -5.0, 4.0]
    retention = cohorts.cohort_retention(tx)
    assert retention.loc["2024-01-01", "size"] == 2
    assert retention.loc["2024-01-01", 2] == 0.5


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "Ä", "0042", "c d"]), st.integers(0, 120),
                  st.sampled_from([10.0, -5.0, 0.0, 3.25])),
        min_size=1, max_size=40,
    )
)  # fmt: skip
@example(lines=[("a", 0, -5.0), ("a", 31, 10.0)])  # a refund a month before the purchase
def test_cohorts_of_the_coded_purchases_equal_those_of_the_transactions(lines):
    """The recalculation counts cohorts on customer codes, not their text: the same table."""
    raw = pd.DataFrame(
        {
            "customer": [c for c, _, _ in lines],
            "date": [
                str(pd.Timestamp("2024-01-01") + pd.Timedelta(days=d))[:10] for _, d, _ in lines
            ],
            "amount": [str(a) for _, _, a in lines],
        }
    )
    log = clean_transactions(raw)
    by_text = cohorts.cohort_table(log.transactions)
    pd.testing.assert_frame_equal(cohorts.cohort_table(log.coded_purchases), by_text)
    first = {}  # each customer's first purchase month
    for customer, day, amount in lines:
        if amount >= 0:
            month = (pd.Timestamp("2024-01-01") + pd.Timedelta(days=day)).to_period("M")
            first[customer] = min(first.get(customer, month), month)
    early = any(
        a < 0
        and c in first
        and (pd.Timestamp("2024-01-01") + pd.Timedelta(days=d)).to_period("M") < first[c]
        for c, d, a in lines
    )
    if early:  # a refund before the first purchase has no month: refused either way
        for frame in (log.transactions, log.coded_purchases):
            with pytest.raises(InputError, match="before the month of its first purchase"):
                cohorts.cohort_table(frame, "revenue")
    else:
        revenue = cohorts.cohort_table(log.transactions, "revenue")
        pd.testing.assert_frame_equal(cohorts.cohort_table(log.coded_purchases, "revenue"), revenue)


def test_a_refund_before_the_first_purchase_is_refused_from_the_revenue_table():
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "date": pd.to_datetime(["2024-01-20", "2024-02-05", "2024-01-02"]),
            "amount": [-5.0, 10.0, 7.0],
        }
    )
    with pytest.raises(InputError) as refused:
        cohorts.cohort_table(tx, "revenue")
    assert str(refused.value) == (
        "customer 'a' has a refund of -5.00 on 2024-01-20, before the month of its first "
        "purchase; a cohort's months start at the first purchase, so the revenue table has "
        "no month for it (leave the refund out or date it when it was made)"
    )
    assert cohorts.cohort_table(tx).loc["2024-02-01"].iloc[0] == 1  # customers: a counted


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-5, 30), min_size=1, max_size=300))
def test_value_tiers_match_the_definition_on_tied_values(values):
    # Definition: a value is in the most exclusive tier whose last customer (in
    # descending order, the ceil(share × n)-th) it reaches; ties go up.
    x = np.array(values, dtype=float)
    ordered = np.sort(x)[::-1]
    expected = []
    for v in x:
        label = tiers.REST
        for name, share in tiers.TIERS[::-1]:
            if v >= ordered[int(np.ceil(share * len(x))) - 1]:
                label = name
        expected.append(label)
    assert tiers.value_tiers(x).tolist() == expected
    assert [tiers.value_tier(v, x) for v in x] == expected  # Excel's one-value form
    summary = tiers.tier_summary(x)
    assert summary["customers"].sum() == len(x)
    assert summary["value"].sum() == pytest.approx(x.sum())


def _score_by_rank(values: np.ndarray) -> np.ndarray:
    """The module docstring's definition, with ranks: 1 + floor(k (rank_min - 1) / n)."""

    def quintile(x, k):
        return 1 + np.floor(k * (rankdata(x, method="min") - 1) / len(x)).astype(int)

    low = values == values.min()
    if low.mean() <= 0.2:
        return quintile(values, 5)
    out = np.ones(len(values), dtype=int)
    if (~low).any():
        out[~low] = 1 + quintile(values[~low], 4)
    return out


@given(
    st.lists(
        st.one_of(st.integers(0, 6), st.floats(-1e6, 1e6, allow_nan=False)),
        min_size=1,
        max_size=80,
    )
)
def test_scores_are_the_rank_definition(values):
    values = np.array(values, dtype=float)
    assert rfm.score(values).tolist() == _score_by_rank(values).tolist()
