"""The per-customer summary: hand-worked logs, the published CDNOW summary, properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clvxl.clean import clean_transactions
from clvxl.errors import InputError, NoDataError
from clvxl.summary import calibration_holdout, summarize


def log(rows: list[tuple]) -> pd.DataFrame:
    columns = ["customer_id", "date", "amount", "order_id"][: len(rows[0])]
    table = pd.DataFrame(rows, columns=columns)
    table["date"] = pd.to_datetime(table["date"])
    return table


def by_id(summary) -> pd.DataFrame:
    return summary.table.set_index("customer_id")


def test_hand_worked_log_in_days():
    # A: 2024-01-01 $10, 2024-01-11 $20 and $6 (two orders, one purchase day), 2024-01-31 $30
    # B: 2024-01-21 $50, then a $20 refund on 2024-01-25
    # C: 2024-01-31 $0 (a free order is a purchase occasion)
    # D: only a refund -> not a customer
    tx = log(
        [
            ("A", "2024-01-01", 10.0),
            ("A", "2024-01-11", 20.0),
            ("A", "2024-01-11", 6.0),
            ("A", "2024-01-31", 30.0),
            ("B", "2024-01-21", 50.0),
            ("B", "2024-01-25", -20.0),
            ("C", "2024-01-31", 0.0),
            ("D", "2024-01-15", -5.0),
        ]
    )
    s = summarize(tx, as_of="2024-02-10", unit="days")
    t = by_id(s)
    assert list(t.index) == ["A", "B", "C"]
    # A: purchase days 01-01, 01-11, 01-31 -> x = 2; t_x = 30 days; T = 40 days
    assert t.loc["A", ["orders", "frequency", "recency", "T"]].tolist() == [4, 2, 30.0, 40.0]
    assert t.loc["A", "revenue"] == 66.0
    assert t.loc["A", "aov"] == pytest.approx(66.0 / 4)
    assert t.loc["A", "monetary"] == pytest.approx((26.0 + 30.0) / 2)  # repeat days only
    # B: one purchase; the refund lowers revenue and is not a purchase
    assert t.loc["B", ["orders", "frequency", "recency", "T"]].tolist() == [1, 0, 0.0, 20.0]
    assert t.loc["B", "revenue"] == 30.0
    assert t.loc["B", "aov"] == 30.0
    assert t.loc["B", "monetary"] == 0.0
    assert t.loc["C", ["orders", "frequency", "T", "revenue"]].tolist() == [1, 0, 10.0, 0.0]
    assert s.notes == (
        "1 customer(s) have only refunds up to 2024-02-10; they are not in the customer table",
    )
    assert t.loc["A", "first_purchase"] == pd.Timestamp("2024-01-01")
    assert t.loc["A", "last_purchase"] == pd.Timestamp("2024-01-31")


def test_order_lines_are_one_order():
    tx = log(
        [
            ("A", "2024-01-01", 10.0, "o1"),
            ("A", "2024-01-01", 5.0, "o1"),
            ("A", "2024-01-08", 7.0, "o2"),
            ("A", "2024-01-08", -7.0, "o3"),
        ]
    )
    t = by_id(summarize(tx, as_of="2024-01-15", unit="weeks"))
    assert t.loc["A", "orders"] == 2  # o1 and o2; o3 is a refund
    assert t.loc["A", "revenue"] == 15.0
    assert t.loc["A", "aov"] == 7.5
    assert t.loc["A", ["frequency", "recency", "T", "monetary"]].tolist() == [1, 1.0, 2.0, 7.0]


def test_units_are_carried_and_consistent():
    tx = log([("A", "2024-01-01", 1.0), ("A", "2024-03-01", 1.0)])
    days = summarize(tx, as_of="2024-07-01", unit="days")
    weeks = summarize(tx, as_of="2024-07-01", unit="weeks")
    months = summarize(tx, as_of="2024-07-01", unit="months")
    assert (days.unit.value, weeks.unit.value, months.unit.value) == ("days", "weeks", "months")
    assert days.table["T"].iloc[0] == 182.0
    assert weeks.table["T"].iloc[0] == pytest.approx(182 / 7)
    assert months.table["T"].iloc[0] == pytest.approx(182 / 30.4375)
    assert months.table["recency"].iloc[0] == pytest.approx(60 / 30.4375)


def test_later_transactions_are_not_used_and_said_so():
    tx = log([("A", "2024-01-01", 1.0), ("A", "2024-03-01", 9.0)])
    s = summarize(tx, as_of="2024-02-01", unit="days")
    assert s.table["revenue"].tolist() == [1.0]
    assert s.notes == ("1 transaction line(s) dated after the as-of date 2024-02-01 were not used",)


def test_as_of_defaults_to_last_date_and_must_not_precede_the_log():
    tx = log([("A", "2024-01-01", 1.0), ("B", "2024-03-01", 9.0)])
    assert summarize(tx).as_of == pd.Timestamp("2024-03-01")
    with pytest.raises(InputError, match="before the first transaction"):
        summarize(tx, as_of="2023-12-31")


def test_refunds_only_is_no_data():
    with pytest.raises(NoDataError, match="no customer has a purchase"):
        summarize(log([("A", "2024-01-01", -1.0)]))


def test_reproduces_the_published_cdnow_summary(cdnow_sample, reference_data):
    """Fader, Hardie & Lee (2005): 2,357 customers, calibration to 1997-09-30, weeks."""
    tx = clean_transactions(cdnow_sample[["customer_id", "date", "amount"]]).transactions
    s = summarize(tx, as_of="1997-09-30", unit="weeks")
    ref = pd.read_csv(reference_data / "cdnow_customers_summary_with_transactions.csv")
    ours = s.table.assign(ID=s.table["customer_id"].astype(int)).set_index("ID").loc[ref["ID"]]
    assert len(s.table) == 2357
    assert (ours["frequency"].to_numpy() == ref["x"].to_numpy()).all()
    assert (ours["frequency"] > 0).sum() == 946
    np.testing.assert_allclose(ours["recency"], ref["t_x"], atol=0.005)  # file has 2 decimals
    np.testing.assert_allclose(ours["T"], ref["T"], atol=0.005)
    np.testing.assert_allclose(ours["monetary"], ref["zbar"], atol=0.0051)


def test_calibration_holdout_counts_holdout_purchase_days():
    tx = log(
        [
            ("A", "2024-01-01", 1.0),
            ("A", "2024-02-05", 2.0),
            ("A", "2024-02-05", 3.0),
            ("A", "2024-02-12", 4.0),
            ("B", "2024-01-08", 5.0),
            ("C", "2024-02-01", 6.0),
        ]
    )
    s = calibration_holdout(tx, "2024-01-29", "2024-02-26", unit="weeks")
    t = by_id(s)
    assert list(t.index) == ["A", "B"]  # C first bought in the holdout period
    assert t["frequency_holdout"].tolist() == [2, 0]
    assert t["duration_holdout"].tolist() == [4.0, 4.0]
    with pytest.raises(InputError, match="must end after"):
        calibration_holdout(tx, "2024-01-29", "2024-01-01")


# --- properties ----------------------------------------------------------------------

rows = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d", "e"]),
        st.integers(0, 60),
        st.floats(0.0, 500.0, allow_nan=False).map(lambda x: round(x, 2)),
    ),
    min_size=1,
    max_size=40,
)


def frame(data) -> pd.DataFrame:
    table = pd.DataFrame(data, columns=["customer_id", "day", "amount"])
    table["date"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(table["day"], unit="D")
    table["order_id"] = [f"o{i}" for i in range(len(table))]
    return table[["customer_id", "date", "amount", "order_id"]]


AS_OF = "2024-03-15"
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(rows, st.randoms(use_true_random=False))
def test_shuffling_rows_changes_nothing(data, rnd):
    table = frame(data)
    shuffled = table.sample(frac=1.0, random_state=rnd.randint(0, 10**6))
    pd.testing.assert_frame_equal(summarize(table, AS_OF).table, summarize(shuffled, AS_OF).table)


@FAST
@given(rows, st.integers(2, 4))
def test_splitting_an_order_into_lines_changes_no_order_count(data, parts):
    table = frame(data)
    split = table.loc[table.index.repeat(parts)].copy()
    split["amount"] = split["amount"] / parts
    ours, theirs = summarize(table, AS_OF).table, summarize(split, AS_OF).table
    assert ours["orders"].tolist() == theirs["orders"].tolist()
    assert ours["frequency"].tolist() == theirs["frequency"].tolist()
    np.testing.assert_allclose(ours["revenue"], theirs["revenue"], rtol=1e-9, atol=1e-9)


@FAST
@given(rows, st.floats(0.01, 1000.0))
def test_scaling_amounts_scales_money(data, k):
    table = frame(data)
    scaled = table.assign(amount=table["amount"] * k)
    ours, theirs = summarize(table, AS_OF).table, summarize(scaled, AS_OF).table
    for column in ("revenue", "aov", "monetary"):
        np.testing.assert_allclose(theirs[column], ours[column] * k, rtol=1e-9, atol=1e-9)
    assert ours["frequency"].tolist() == theirs["frequency"].tolist()


@FAST
@given(rows, st.integers(0, 60), st.floats(0.0, 500.0))
def test_adding_a_customer_leaves_the_others_unchanged(data, day, amount):
    table = frame(data)
    extra = frame([("zz-new", day, amount)]).assign(order_id="new")
    ours = summarize(table, AS_OF).table
    theirs = summarize(pd.concat([table, extra], ignore_index=True), AS_OF).table
    pd.testing.assert_frame_equal(
        theirs[theirs["customer_id"] != "zz-new"].reset_index(drop=True), ours
    )


@pytest.mark.slow
@FAST
@given(data=rows, lines_per_part=st.integers(1, 12), refund=st.floats(-50.0, -1.0))
def test_a_query_run_in_parts_gives_the_whole_result(data, lines_per_part, refund):
    # A long log is summarised a part of the customers at a time (EngineLog.query);
    # cut it into parts of a few lines here and nothing may change.
    import clvxl.summary.engine as summary_module

    table = frame(data)
    table.loc[len(table)] = ["f", pd.Timestamp("2024-02-01"), refund, "refund"]  # refund only
    table.loc[len(table)] = ["a", pd.Timestamp("2024-01-01"), 1.0, "first"]  # bought early

    def summaries():
        return (
            summarize(table, as_of=AS_OF, unit="days"),
            calibration_holdout(table, "2024-01-31", AS_OF, unit="days"),
        )

    whole, holdout = summaries()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(summary_module, "PART_ROWS", lines_per_part)
        parts, holdout_parts = summaries()
    pd.testing.assert_frame_equal(parts.table, whole.table)
    assert parts.notes == whole.notes
    pd.testing.assert_frame_equal(holdout_parts.table, holdout.table)
