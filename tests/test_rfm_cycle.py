"""R against the purchase cycle: no Champion or Loyal customer past the typical gap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvxl.analytics import rfm
from clvxl.errors import InputError
from clvxl.recalc import Settings, recalculate
from clvxl.sources import demo_log


def fourteen_month_log() -> pd.DataFrame:
    """40 customers who bought monthly from January 2020 for 2 to 21 months and stopped;
    2 who buy monthly to the end of 2023; and "big", who bought weekly for a year and
    last on 2022-10-31, 14 months before the log's last day (2023-12-31)."""
    rows = []
    for i in range(40):
        months = pd.date_range("2020-01-15", periods=2 + i % 20, freq="MS") + pd.Timedelta(days=14)
        rows += [(f"early{i}", d, 20.0) for d in months]
    for i in range(2):
        rows += [
            (f"steady{i}", d, 25.0) for d in pd.date_range("2022-01-31", "2023-12-31", freq="ME")
        ]
    rows += [("big", d, 200.0) for d in pd.date_range("2021-11-01", "2022-10-31", freq="7D")]
    return pd.DataFrame(rows, columns=["customer_id", "date", "amount"])


def test_a_customer_inactive_for_14_months_is_no_champion():
    log = fourteen_month_log()
    # Monthly buyers of a fixed amount read as subscriptions: say it is a shop.
    customers = recalculate(log, Settings(business="transactions"), sheets=False).customers
    customers = customers.set_index("customer_id")
    big = customers.loc["big"]
    # By quintile of recency "big" would be R 5, a Champion: 40 of the 43 customers
    # stopped before it.
    days = (pd.Timestamp("2023-12-31") - customers["last_purchase"]).dt.days
    assert rfm.score(-days.to_numpy())[customers.index.get_loc("big")] == 5
    assert big["last_purchase"] == pd.Timestamp("2022-10-31")
    # The typical gap is a month (the early and steady customers' own): 426 days is R 1.
    assert big["r_score"] == 1 and big["f_score"] == 5 and big["m_score"] == 5
    assert big["segment"] == "Can't Lose Them"
    assert (customers.loc[customers.index.str.startswith("steady"), "segment"] == "Champions").all()


def test_no_champion_or_loyal_customer_is_past_the_typical_gap_in_the_demo():
    result = recalculate(demo_log(), sheets=False)
    customers = result.customers
    span = (customers["last_purchase"] - customers["first_purchase"]).dt.days
    gap = rfm.typical_gap(span, customers["frequency"])
    days = (result.settings.as_of - customers["last_purchase"]).dt.days
    named = customers["segment"].isin(["Champions", "Loyal Customers"])
    assert named.sum() > 100 and days[named].max() <= gap
    assert (
        f"R scores days since the last purchase against the typical repurchase gap of {gap:.0f} days"
        in " ".join(result.notes)
    )


def test_the_users_own_windows():
    settings = Settings.from_mapping(
        {"recency_days": "30, 60, 90, 180", "business": "transactions"}
    )
    assert settings.recency_days == (30.0, 60.0, 90.0, 180.0)
    result = recalculate(fourteen_month_log(), settings, sheets=False)
    r = result.customers.set_index("customer_id")["r_score"]
    assert r["big"] == 1 and r["steady0"] == 5 and r["early0"] == 1
    assert (
        "R scores days since the last purchase against your windows 5 within 30 days, "
        "4 within 60 days, 3 within 90 days, 2 within 180 days, 1 beyond"
    ) in result.notes


@pytest.mark.parametrize("bad", ["30, 60", "90, 60, 30, 10", "a, b, c, d"])
def test_bad_windows_are_refused_in_words(bad):
    with pytest.raises(InputError, match="recency"):
        Settings.from_mapping({"recency_days": bad})


def test_window_edges_are_inclusive():
    windows = rfm.cycle_windows(28.0)
    assert windows == (7.0, 14.0, 21.0, 28.0)
    days = np.array([0, 7, 8, 14, 15, 21, 22, 28, 29, 1000])
    assert rfm.recency_score(days, windows).tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
