"""Logs past Excel's limit: a folder of parquet files, a DuckDB query, the Spark engine,
and the refusal to put more rows on a sheet than it holds."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import duckdb
import numpy as np
import pandas as pd
import pytest

import clvxl.excel
import clvxl.recalc
from clvxl.cli import main
from clvxl.sources import demo_log

DEMO = demo_log().table  # customer_id, order_date, amount, ... as shipped


@pytest.fixture(scope="module")
def demo_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "log.csv"
    DEMO.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def reference(demo_csv, tmp_path_factory) -> pd.DataFrame:
    """The customer table from the CSV with the default engine."""
    out = tmp_path_factory.mktemp("ref") / "c.parquet"
    assert main(["recalc", str(demo_csv), "-o", str(out), "--quiet"]) == 0
    return pd.read_parquet(out)


def same_customers(path, reference: pd.DataFrame) -> None:
    # Model fits may differ in the last digits when the summary's sums run in another order.
    pd.testing.assert_frame_equal(pd.read_parquet(path), reference, check_exact=False, rtol=1e-7)


def test_a_folder_of_parquet_files_is_one_log(tmp_path, reference):
    folder = tmp_path / "exports"
    years = DEMO["order_date"].dt.year
    for year, part in DEMO.groupby(years):
        # Hive-style partitions, several files in each
        (folder / f"year={year}").mkdir(parents=True)
        for i, rows in enumerate(np.array_split(np.arange(len(part)), 3)):
            part.iloc[rows].astype(str).to_parquet(folder / f"year={year}" / f"part-{i}.parquet")
    out = tmp_path / "c.parquet"
    assert main(["recalc", str(folder), "-o", str(out), "--quiet"]) == 0
    same_customers(out, reference)


def test_a_duckdb_query_reads_files_or_a_database(tmp_path, demo_csv, reference, capsys):
    out = tmp_path / "c.parquet"
    query = f"SELECT * FROM read_csv('{demo_csv}', all_varchar = true)"
    assert main(["recalc", "--sql", query, "-o", str(out), "--quiet"]) == 0
    same_customers(out, reference)

    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute(f"CREATE TABLE orders AS {query}")
    out2 = tmp_path / "c2.parquet"
    assert main(["recalc", str(database), "--sql", "SELECT * FROM orders", "-o", str(out2)]) == 0
    assert "customers written" in capsys.readouterr().out
    same_customers(out2, reference)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sql", "SELECT * FROM nowhere"], "the query could not be run: Catalog Error"),
        (["{csv}", "--sql", "SELECT 1"], "--sql runs in a DuckDB database file"),
        (["{db}"], "is a database: say what to read from it with --sql"),
        ([], "give a transaction log to read, or a query with --sql"),
    ],
)
def test_query_mistakes_are_explained(tmp_path, demo_csv, capsys, args, message):
    database = tmp_path / "w.duckdb"
    duckdb.connect(str(database)).close()
    args = [a.format(csv=demo_csv, db=database) for a in args]
    assert main(["recalc", *args, "-o", str(tmp_path / "c.csv")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "c.csv").exists()


def test_more_rows_than_a_sheet_holds_is_refused_before_any_work(
    tmp_path, demo_csv, capsys, monkeypatch
):
    # Patched where the command imports them from when it runs (it loads the core then).
    monkeypatch.setattr(clvxl.excel, "EXCEL_MAX_ROWS", 1000)

    def no_work(*args, **kwargs):
        raise AssertionError("recalculated although the output cannot hold the log")

    monkeypatch.setattr(clvxl.recalc, "recalculate", no_work)
    out = tmp_path / "c.xlsx"
    assert main(["recalc", str(demo_csv), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"log.csv has {len(DEMO):,} rows, more than an Excel sheet holds (999 below" in err
    assert "write the customer table to .parquet or .csv instead" in err
    assert not out.exists()


def test_the_pattern_count_is_reported(demo_csv, tmp_path, capsys):
    assert main(["recalc", str(demo_csv), "-o", str(tmp_path / "c.csv"), "--model", "bgnbd"]) == 0
    out = capsys.readouterr().out
    assert "BG/NBD fitted on 1,178 customers, " in out
    patterns = int(out.split("BG/NBD fitted on 1,178 customers, ")[1].split()[0].replace(",", ""))
    assert 100 < patterns < 1178


@pytest.mark.skipif(
    shutil.which("java") is None and not os.environ.get("CI"),
    reason="the Spark engine needs a Java runtime (CI installs one)",
)
@pytest.mark.slow
def test_spark_engine_gives_the_duckdb_result(demo_csv, tmp_path, reference):
    if not os.environ.get("CI"):  # in CI a missing pyspark is a failure, not a skip
        pytest.importorskip("pyspark")
    out = tmp_path / "c.parquet"
    assert main(["recalc", str(demo_csv), "-o", str(out), "--engine", "spark", "--quiet"]) == 0
    same_customers(out, reference)


def test_spark_without_java_is_explained(demo_csv, tmp_path):
    pytest.importorskip("pyspark")
    env = {
        **os.environ,
        "JAVA_HOME": str(tmp_path / "no-java"),
        "PATH": os.path.dirname(sys.executable),
    }
    out = tmp_path / "c.csv"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "clvxl.cli",
            "recalc",
            str(demo_csv),
            "-o",
            str(out),
            "--engine",
            "spark",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "Spark could not start at local[*] (" in done.stderr
    assert "it needs a Java 17 runtime (java on the PATH or JAVA_HOME)" in done.stderr
    assert not out.exists()
