"""The recalculation end to end: settings, the customer table, KPIs, the command line."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from clvxl.cli import main
from clvxl.customers import CUSTOMER_COLUMNS
from clvxl.errors import InputError
from clvxl.recalc import Settings, recalculate
from clvxl.sources import demo_log


@pytest.fixture(scope="module")
def demo():
    return recalculate(demo_log())


def kpi(result, name: str) -> float:
    values = dict(zip(result.kpis["kpi"], result.kpis["value"], strict=True))
    return values[name]


def test_settings_validate_and_read_named_cells():
    s = Settings.from_mapping(
        {
            "as_of": "2024-06-30",
            "horizon": "24",
            "discount_rate": "8%",
            "margin": 0.3,
            "cac": 50,
            "unit": "Months",
            "model": "Pareto/NBD",
        }
    )
    assert s.as_of == pd.Timestamp("2024-06-30")
    assert (s.horizon_months, s.discount_rate, s.margin, s.cac) == (24.0, 0.08, 0.3, 50.0)
    assert s.unit.value == "months" and s.model == "paretonbd"
    assert Settings.from_mapping({"as_of": 45473}).as_of == pd.Timestamp("2024-06-30")  # serial
    with pytest.raises(InputError, match=r"margin must be between 0 and 1, got 1\.2"):
        Settings(margin=1.2)
    with pytest.raises(InputError, match="horizon_months must be between 0 and 1200, got 0"):
        Settings(horizon_months=0)
    with pytest.raises(InputError, match="model must be one of bgnbd, mbgnbd, paretonbd"):
        Settings(model="magic")
    with pytest.raises(InputError, match="cac must be a number, got 'lots'"):
        Settings.from_mapping({"cac": "lots"})


def test_demo_customer_table_matches_an_independent_count(demo):
    log = pd.read_csv(
        "clvxl/data/demo_transactions.csv", dtype={"customer_id": str}, parse_dates=["order_date"]
    )
    table = demo.customers
    assert list(table.columns) == CUSTOMER_COLUMNS
    assert len(table) == log["customer_id"].nunique() == 1178
    assert table["customer_id"].is_unique
    assert table["customer_id"].str.fullmatch(r"\d{5}").all()  # "00020" keeps its zeros
    assert table["orders"].sum() == len(log) == 3365  # one order per line, no refunds
    assert table["revenue"].sum() == pytest.approx(log["amount"].sum())
    days = log.groupby("customer_id")["order_date"].nunique()
    assert (table.set_index("customer_id")["frequency"] == days - 1).all()
    assert demo.settings.as_of == pd.Timestamp("1998-06-30")


def test_demo_kpis_are_the_vocabulary_functions_on_the_table(demo):
    revenue, orders, n = demo.customers["revenue"].sum(), 3365, 1178
    assert kpi(demo, "Customers") == n
    assert kpi(demo, "Revenue") == pytest.approx(113919.56)
    assert kpi(demo, "Average order value") == pytest.approx(revenue / orders)
    assert kpi(demo, "Purchase frequency") == pytest.approx(orders / n)
    # churn over the last 8 months (half of the log's 17.9 months from the first purchase to
    # 1998-06-30): every customer first bought in Q1 1997, so all were customers before
    # 1997-10-30; churned = no purchase since then.
    last = demo.customers["last_purchase"]
    churned = (last < pd.Timestamp("1997-10-30")).mean()
    assert kpi(demo, "Churn rate (last 8 months)") == pytest.approx(churned)
    assert kpi(demo, "Retention rate (last 8 months)") == pytest.approx(1 - churned)


def test_demo_scores_segments_and_tiers_are_filled(demo):
    table = demo.customers
    for column in ("r_score", "f_score", "m_score"):
        assert set(table[column]) <= {1, 2, 3, 4, 5}
    assert (
        table["rfm"]
        == table["r_score"].astype(str)
        + table["f_score"].astype(str)
        + table["m_score"].astype(str)
    ).all()
    assert table["segment"].notna().all()
    assert set(table["value_tier"]) == {"Top 1%", "Top 5%", "Top 20%", "Rest"}
    np.testing.assert_allclose(table["clv_historic"], table["revenue"])  # margin 1 by default


def test_predictions_are_finite_and_sane(demo):
    table = demo.customers
    assert table["p_alive"].between(0, 1).all()
    assert (table["expected_purchases"] >= 0).all()
    assert (table["clv"] >= 0).all() and np.isfinite(table["clv"]).all()
    assert len(demo.model) > 0


def test_margin_scales_every_value_column():
    base = recalculate(demo_log(), Settings(margin=1.0)).customers
    half = recalculate(demo_log(), Settings(margin=0.5)).customers
    np.testing.assert_allclose(half["clv_historic"], base["clv_historic"] * 0.5)
    np.testing.assert_allclose(half["clv"], base["clv"] * 0.5, rtol=1e-7)


def test_cli_recalc_writes_exact_columns_and_leaves_input_alone(tmp_path, capsys):
    source = tmp_path / "orders.csv"
    source.write_text(
        "Customer,Order Date,Amount\n00123,2024-01-01,10\n00123,2024-02-01,20\n7,2024-01-15,$5.00\n"
    )
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    assert main(["recalc", str(source), "-o", str(tmp_path / "c.parquet"), "--quiet"]) == 0
    table = pd.read_parquet(tmp_path / "c.parquet")
    assert list(table.columns) == CUSTOMER_COLUMNS
    assert table["customer_id"].tolist() == ["00123", "7"]
    assert table["revenue"].tolist() == [30.0, 5.0]
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before


def test_cli_bad_rows_stop_without_traceback_and_without_output(tmp_path, capsys):
    source = tmp_path / "orders.csv"
    source.write_text("customer,date,amount\na,2024-01-01,10\nb,someday,20\n")
    assert main(["recalc", str(source), "-o", str(tmp_path / "c.csv")]) == 2
    err = capsys.readouterr().err
    assert "row 3, column 'date': 'someday'" in err
    assert "Traceback" not in err
    assert not (tmp_path / "c.csv").exists()


def test_cli_skip_writes_rejected_rows_next_to_the_output(tmp_path, capsys):
    source = tmp_path / "orders.csv"
    source.write_text("customer,date,amount\na,2024-01-01,10\nb,someday,20\na,2024-03-01,5\n")
    assert main(["recalc", str(source), "-o", str(tmp_path / "c.csv"), "--on-error", "skip"]) == 0
    rejected = pd.read_csv(tmp_path / "c.rejected.csv")
    assert rejected[["row", "column", "value"]].values.tolist() == [[3, "date", "someday"]]
    assert pd.read_csv(tmp_path / "c.csv")["customer_id"].tolist() == ["a"]
    assert "1 bad row set aside" in capsys.readouterr().out


def test_cli_refuses_to_overwrite_its_input(tmp_path, capsys):
    source = tmp_path / "orders.csv"
    source.write_text("customer,date,amount\na,2024-01-01,10\n")
    assert main(["recalc", str(source), "-o", str(source)]) == 2
    assert "is the input" in capsys.readouterr().err


def test_scaling_amounts_by_k_scales_predicted_clv_by_k():
    raw = demo_log().table
    base = recalculate(raw).customers
    scaled = recalculate(raw.assign(amount=raw["amount"] * 3)).customers
    np.testing.assert_allclose(scaled["revenue"], base["revenue"] * 3)
    np.testing.assert_allclose(scaled["aov"], base["aov"] * 3)
    # Gamma-Gamma's scale parameter v absorbs k; the fit is exact only to the optimiser's tolerance.
    np.testing.assert_allclose(scaled["clv"], base["clv"] * 3, rtol=1e-4)
    np.testing.assert_allclose(scaled["p_alive"], base["p_alive"])


def test_workbook_open_in_excel_is_read_with_a_warning(tmp_path, capsys):
    book = tmp_path / "book.xlsx"
    assert main(["demo", "-o", str(book), "--quiet"]) == 0
    (tmp_path / "~$book.xlsx").write_bytes(b"lock")
    assert main(["recalc", str(book), "-o", str(tmp_path / "c.csv"), "--quiet"]) == 0
    assert "book.xlsx seems to be open in Excel (~$book.xlsx exists)" in capsys.readouterr().err


def test_a_model_the_data_cannot_pin_down_gives_a_note_not_nan_silently():
    raw = pd.DataFrame(
        [
            ["c1", "2023-01-01", "0.01"],
            ["c1", "2023-01-02", "0.02"],
            ["c2", "2023-01-01", "0.01"],
            ["c2", "2023-02-01", "0.01"],
        ],
        columns=["customer_id", "order_date", "amount"],
    )
    result = recalculate(raw, Settings(model="bgnbd"))
    assert result.customers["clv"].isna().all()
    assert result.customers["revenue"].tolist() == [0.03, 0.02]
    (note,) = [n for n in result.notes if n.startswith("predicted CLV is not available")]
    assert "the BG/NBD model fitted to these customers cannot predict their expected" in note
    assert "too little variety in how often and how recently they buy" in note
