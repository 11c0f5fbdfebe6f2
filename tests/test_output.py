"""Writing outputs: atomic replacement, CSV formula escaping, progress display."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from clvxl.errors import InputError
from clvxl.output import Progress, escape_formulas, write_atomic, write_table


def test_failed_write_leaves_previous_output_and_no_temporary_file(tmp_path):
    target = tmp_path / "customers.csv"
    target.write_text("previous")

    def broken(tmp):
        tmp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(target, broken)
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["customers.csv"]


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "nope" / "out.csv")


def test_unknown_output_type_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"\.csv, \.parquet or \.xlsx"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "out.json")


@pytest.mark.parametrize("value", ["=1+1", "+cmd|'/C calc'!A0", "@SUM(A1)", "-2+3", "\tx", "\rx"])
def test_csv_cells_that_would_run_as_formulas_are_quoted(tmp_path, value):
    table = pd.DataFrame({"customer_id": [value, "plain"], "revenue": [-5.0, 3.0]})
    back = pd.read_csv(write_table(table, tmp_path / "out.csv"), dtype=str, keep_default_na=False)
    assert back["customer_id"].tolist() == ["'" + value, "plain"]
    assert back["revenue"].tolist() == ["-5.0", "3.0"]  # numbers are never touched
    raw = pd.read_csv(write_table(table, tmp_path / "raw.csv", escape=False), dtype=str)
    assert raw["customer_id"].iloc[0] == value


def test_escape_formulas_leaves_the_input_alone():
    table = pd.DataFrame({"id": ["=A1"]})
    escaped = escape_formulas(table)
    assert escaped["id"].iloc[0] == "'=A1"
    assert table["id"].iloc[0] == "=A1"


def test_parquet_round_trip_keeps_text_as_is(tmp_path):
    table = pd.DataFrame({"customer_id": ["=1+1", "00123"], "revenue": [1.5, 2.0]})
    back = pd.read_parquet(write_table(table, tmp_path / "out.parquet"))
    assert back["customer_id"].tolist() == ["=1+1", "00123"]


def test_progress_is_silent_on_short_runs_and_when_quiet():
    stream = io.StringIO()
    progress = Progress(stream=stream)
    progress.step("reading")
    progress.done()
    assert stream.getvalue() == ""
    slow = Progress(delay=0.0, stream=stream)
    slow.step("reading")
    slow.done()
    assert "reading" in stream.getvalue() and "done" in stream.getvalue()
    quiet = io.StringIO()
    Progress(quiet=True, delay=0.0, stream=quiet).step("reading")
    assert quiet.getvalue() == ""
