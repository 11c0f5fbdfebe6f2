"""The bad-input catalogue (docs/bad-input.md) through the command line, as the user sees it:
the message, exit code 2, no traceback, the input byte-for-byte unchanged, no partial output."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter

from clvxl.cli import main


def run(capsys, source: Path, output: Path, *options: str) -> tuple[int, str, str]:
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    code = main(["recalc", str(source), "-o", str(output), *options])
    out, err = capsys.readouterr()
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before, "the input changed"
    assert "Traceback" not in err
    if code != 0:
        assert code == 2
        assert not output.exists(), "a failed run left an output"
        leftovers = output.parent.glob(f".{output.name}*") if output.parent.exists() else []
        assert not list(leftovers), "a temporary file was left behind"
    return code, out, err


def test_header_only(tmp_path, capsys):
    source = tmp_path / "log.csv"
    source.write_text("customer,date,amount\n")
    code, _, err = run(capsys, source, tmp_path / "c.csv")
    assert code == 2 and "log.csv has no transactions" in err


def test_comment_lines_are_reported_as_bad_rows(tmp_path, capsys):
    source = tmp_path / "log.csv"
    source.write_text("customer,date,amount\n# exported 2024-03-01,,\na,2024-01-01,10\n")
    code, _, err = run(capsys, source, tmp_path / "c.csv")
    assert code == 2 and "row 2, column 'customer': '# exported 2024-03-01'" not in err
    assert "row 2, column 'date': None — expected a date" in err
    code, out, _ = run(capsys, source, tmp_path / "c.csv", "--on-error", "skip")
    assert code == 0 and "1 bad row set aside" in out


def test_an_order_exported_twice_is_reported_and_counted_once_with_dedupe(tmp_path, capsys):
    source = tmp_path / "log.csv"
    source.write_text(
        "order_id,customer,date,amount\nA1,c1,2024-01-01,10\nA1,c1,2024-01-01,10\nA2,c1,2024-02-01,5\n"
    )
    code, out, _ = run(capsys, source, tmp_path / "c.csv")
    assert code == 0
    assert "1 line(s) repeat an earlier line exactly, order id included (first at row 3)" in out
    assert pd.read_csv(tmp_path / "c.csv")["revenue"].tolist() == [25.0]
    code, out, _ = run(capsys, source, tmp_path / "d.csv", "--dedupe")
    assert code == 0 and "counted once" in out
    assert pd.read_csv(tmp_path / "d.csv")["revenue"].tolist() == [15.0]


def test_an_id_of_ten_thousand_characters_is_kept_whole(tmp_path, capsys):
    long_id = "x" * 10_000
    source = tmp_path / "log.csv"
    source.write_text(f"customer,date,amount\n{long_id},2024-01-01,10\nb,2024-01-02,5\n")
    code, _, _ = run(capsys, source, tmp_path / "c.parquet")
    assert code == 0
    assert pd.read_parquet(tmp_path / "c.parquet")["customer_id"].tolist() == ["b", long_id]


def test_corrupt_xlsx(tmp_path, capsys):
    import zipfile

    source = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(source, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    code, _, err = run(capsys, source, tmp_path / "c.csv")
    assert code == 2 and "broken.xlsx cannot be opened as an Excel workbook" in err


def test_xlsx_without_a_transactions_table(tmp_path, capsys):
    source = tmp_path / "book.xlsx"
    book = xlsxwriter.Workbook(str(source))
    sheet = book.add_worksheet("Data")
    sheet.write_row(0, 0, ["Name", "Notes"])
    sheet.write_row(1, 0, ["a", "b"])
    book.close()
    code, _, err = run(capsys, source, tmp_path / "c.csv")
    assert code == 2
    assert "the log has no customer id column, no date column, no amount column." in err
    assert "Columns found: 'Name', 'Notes'." in err


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_output_into_a_missing_folder(tmp_path, capsys, suffix):
    source = tmp_path / "log.csv"
    source.write_text("customer,date,amount\na,2024-01-01,10\n")
    code, _, err = run(capsys, source, tmp_path / "missing" / f"c{suffix}")
    assert code == 2 and "the folder" in err and "does not exist" in err
