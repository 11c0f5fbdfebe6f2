"""BG/BB (donations), sBG (subscriptions), the holdout check and ``clvxl fit``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from clvxl import holdout
from clvxl.clean import clean_transactions
from clvxl.cli import main
from clvxl.errors import InputError
from clvxl.models import bgbb, bgnbd, sbg
from clvxl.summary import calibration_holdout


@pytest.fixture(scope="module")
def donations(reference_data) -> pd.DataFrame:
    return pd.read_csv(reference_data / "donations.csv")


@pytest.fixture(scope="module")
def survival(reference_data) -> pd.DataFrame:
    return pd.read_csv(reference_data / "sbg_survival.csv")


def test_bgbb_reproduces_fader_hardie_shang(donations):
    m = bgbb.fit(
        donations["frequency"], donations["recency"], donations["periods"], donations["weights"]
    )
    assert (round(m.alpha, 3), round(m.beta, 3), round(m.gamma, 3), round(m.delta, 3)) == (
        1.204,
        0.750,
        0.657,
        2.783,
    )
    assert m.loglik == pytest.approx(-33225.6, abs=0.1)
    assert m.n == 11104 and m.patterns == 22
    expected = bgbb.expected_transactions(
        m, 5, donations["frequency"], donations["recency"], donations["periods"]
    )
    assert float(np.dot(expected, donations["weights"])) == pytest.approx(12884.2, abs=0.1)


@pytest.mark.parametrize(
    ("column", "alpha", "beta", "loglik"),
    [("high_end", 0.668, 3.806, -1611.16), ("regular", 0.704, 1.182, -1680.27)],
)
def test_sbg_reproduces_fader_hardie_2007(survival, column, alpha, beta, loglik):
    m = sbg.fit(survival[column])
    assert (round(m.alpha, 3), round(m.beta, 3)) == (alpha, beta)
    assert m.loglik == pytest.approx(loglik, abs=0.01)


def test_sbg_retention_survival_and_derl():
    m = sbg.ShiftedBetaGeoModel(alpha=0.668, beta=3.806)
    # r_t = (beta + t - 1) / (alpha + beta + t - 1)
    np.testing.assert_allclose(sbg.retention(m, [1, 2]), [3.806 / 4.474, 4.806 / 5.474])
    # S(t) is the product of the retention rates.
    assert sbg.survival(m, 3) == pytest.approx(np.prod(sbg.retention(m, [1, 2, 3])))
    assert sbg.derl(m, 0.10, 7) == pytest.approx(7.53, abs=0.005)
    assert sbg.residual_value(m, 100.0, 0.10, 7) == pytest.approx(753.0, abs=0.5)


def test_sbg_refuses_a_growing_cohort():
    with pytest.raises(InputError, match="must not increase"):
        sbg.fit([1000, 800, 900])


def test_holdout_table_on_cdnow(cdnow_sample):
    tx = clean_transactions(cdnow_sample[["customer_id", "date", "amount"]]).transactions
    table = calibration_holdout(tx, "1997-09-30", "1998-06-30", "weeks").table
    model = bgnbd.fit(table["frequency"], table["recency"], table["T"])
    result = holdout.holdout_table(model, table).set_index("calibration_purchases")
    assert result.loc["all", "customers"] == 2357
    # Actual repeat purchases in weeks 40-78, counted from the log.
    assert result.loc["all", "actual"] == pytest.approx(table["frequency_holdout"].mean())
    assert result.loc["0", "customers"] == 1411
    # BG/NBD tracks the holdout within 15 % overall (FHL 2005, figure 3).
    assert result.loc["all", "predicted"] == pytest.approx(result.loc["all", "actual"], rel=0.15)


def test_fit_command_json(reference_data, capsys):
    path = reference_data / "cdnow_customers_summary_with_transactions.csv"
    assert main(["fit", "bgnbd", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"model", "params", "stderr", "loglik", "n", "time_unit"}
    assert (
        round(out["params"]["r"], 3) == 0.243 and out["time_unit"] == "weeks" and out["n"] == 2357
    )


def test_fit_command_table_and_transaction_log(capsys):
    assert main(["fit", "gammagamma", "clvxl/data/demo_transactions.csv"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Gamma-Gamma fitted on 568 customers")
    assert "log-likelihood" in out


def test_fit_command_sbg_needs_a_column(reference_data, capsys):
    assert main(["fit", "sbg", str(reference_data / "sbg_survival.csv")]) == 2
    assert "give the survival column with --column" in capsys.readouterr().err
