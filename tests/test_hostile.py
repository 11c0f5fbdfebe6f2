"""Hostile and odd workbooks, outputs and model inputs (issue 13): each class its own tests.

Every workbook here is built by hand with :mod:`zipfile` (a few KB), so each test shows
exactly which part is odd. What could exhaust memory if a check failed runs in a
separate ``clvxl`` process under a memory limit, so a regression is a failed test, not
an aborted test run.
"""

from __future__ import annotations

import hashlib
import os
import resource
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clvxl.cli import main
from clvxl.errors import InputError
from clvxl.sources import read_log

NS = (
    'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
)
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def text(ref: str, value: str, style: str = "") -> str:
    return f'<c r="{ref}"{style} t="inlineStr"><is><t>{value}</t></is></c>'


def number(ref: str, value: float) -> str:
    return f'<c r="{ref}"><v>{value}</v></c>'


#: A small valid log: customers a (10 + 25) and b (5).
LOG = [
    (1, [text("A1", "customer"), text("B1", "date"), text("C1", "amount")]),
    (2, [text("A2", "a"), text("B2", "2024-01-01"), number("C2", 10)]),
    (3, [text("A3", "a"), text("B3", "2024-02-01"), number("C3", 25)]),
    (4, [text("A4", "b"), text("B4", "2024-01-15"), number("C4", 5)]),
]


def sheet_xml(rows, extra: str = "") -> str:
    body = "".join(
        (f'<row r="{r}">' if r else "<row>") + "".join(cells) + "</row>" for r, cells in rows
    )
    return f"{DECLARATION}<worksheet {NS}><sheetData>{body}</sheetData>{extra}</worksheet>"


def package(sheets: dict[str, str] | None = None, tables=()) -> dict[str, bytes | str]:
    """The parts of a minimal workbook: ``sheets`` by name, ``tables`` as
    (sheet number, range, column names), each named Transactions."""
    sheets = sheets if sheets is not None else {"Transactions": sheet_xml(LOG)}
    types = [
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/>'
    ]
    listed, rels, parts = [], [], {}
    for i, (name, xml) in enumerate(sheets.items(), 1):
        listed.append(f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>')
        rels.append(
            f'<Relationship Id="rId{i}" Type="{RELS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        )
        types.append(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        )
        parts[f"xl/worksheets/sheet{i}.xml"] = xml
    for i, (number_, ref, columns) in enumerate(tables, 1):
        named = "".join(f'<tableColumn id="{j}" name="{c}"/>' for j, c in enumerate(columns, 1))
        parts[f"xl/tables/table{i}.xml"] = (
            f'{DECLARATION}<table {NS} id="{i}" name="Transactions" displayName="Transactions" '
            f'ref="{ref}"><tableColumns count="{len(columns)}">{named}</tableColumns></table>'
        )
        parts[f"xl/worksheets/_rels/sheet{number_}.xml.rels"] = (
            f'{DECLARATION}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            f'relationships"><Relationship Id="rId1" Type="{RELS}/table" '
            f'Target="../tables/table{i}.xml"/></Relationships>'
        )
    parts["[Content_Types].xml"] = (
        f'{DECLARATION}<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        f'content-types">{"".join(types)}</Types>'
    )
    parts["_rels/.rels"] = (
        f'{DECLARATION}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        f'relationships"><Relationship Id="rId1" Type="{RELS}/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'
    )
    parts["xl/workbook.xml"] = (
        f"{DECLARATION}<workbook {NS}><sheets>{''.join(listed)}</sheets></workbook>"
    )
    parts["xl/_rels/workbook.xml.rels"] = (
        f'{DECLARATION}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        f'relationships">{"".join(rels)}</Relationships>'
    )
    return parts


def write_package(path: Path, parts: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data.encode() if isinstance(data, str) else data)
    return path


def patch_entry(path: Path, name: str, *, size: int | None = None, crc: int | None = None):
    """Rewrite the declared size and/or CRC of one part, in its local and central headers."""
    data = bytearray(path.read_bytes())
    end = data.rindex(b"PK\x05\x06")
    (count,), (at,) = (
        struct.unpack("<H", data[end + 10 : end + 12]),
        struct.unpack("<I", data[end + 16 : end + 20]),
    )
    for _ in range(count):
        length, extra, comment = struct.unpack("<3H", data[at + 28 : at + 34])
        if data[at + 46 : at + 46 + length] == name.encode():
            (local,) = struct.unpack("<I", data[at + 42 : at + 46])
            for crc_at in (at + 16, local + 14):  # then the packed and the unpacked size
                if crc is not None:
                    data[crc_at : crc_at + 4] = struct.pack("<I", crc)
                if size is not None:
                    data[crc_at + 8 : crc_at + 12] = struct.pack("<I", size)
        at += 46 + length + extra + comment
    path.write_bytes(bytes(data))


def clvxl_limited(*args: str, memory: int = 1536 * 1024**2, cwd: Path | None = None):
    """``clvxl ARGS`` in its own process under a memory limit: (exit code, stderr)."""

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    done = subprocess.run(
        [sys.executable, "-m", "clvxl.cli", *args],
        capture_output=True,
        text=True,
        preexec_fn=limit,
        cwd=cwd,
        timeout=120,
    )
    return done.returncode, done.stderr


def refused(capsys, source: Path, output: Path, *options: str) -> str:
    """Run ``clvxl recalc``; assert a clear refusal (exit 2, no traceback, input
    unchanged, nothing written) and return the message."""
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    code = main(["recalc", str(source), "-o", str(output), *options])
    _, err = capsys.readouterr()
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before
    assert code == 2, err
    assert "Traceback" not in err
    assert not output.exists()
    assert not list(output.parent.glob(f".{output.name}*"))
    return err


# --- aborts: cells, dimensions and bombs bounded before calamine reads -------------------


def test_one_cell_at_xfd1048576_is_refused_before_calamine_allocates_the_grid(tmp_path):
    source = write_package(
        tmp_path / "far.xlsx",
        package({"Transactions": sheet_xml([*LOG, (1048576, [number("XFD1048576", 1)])])}),
    )
    code, err = clvxl_limited("recalc", str(source), "-o", str(tmp_path / "c.csv"))
    assert code == 2, err
    assert "Traceback" not in err
    assert (
        "far.xlsx, sheet Transactions spans A1:XFD1048576 (1,048,576 rows by 16,384 columns, "
        "17,179,869,184 cells), more than clvxl reads from a sheet (33,554,432 cells)"
    ) in err
    assert not (tmp_path / "c.csv").exists()


def test_a_far_table_range_is_read_only_as_far_as_the_sheet_has_cells(tmp_path):
    source = write_package(
        tmp_path / "t.xlsx",
        package(tables=[(1, "A1:C1048576", ["customer", "date", "amount"])]),
    )
    raw = read_log(source)
    assert raw.source == "t.xlsx, table Transactions"
    assert raw.table.to_dict("list") == {
        "customer": ["a", "a", "b"],
        "date": ["2024-01-01", "2024-02-01", "2024-01-15"],
        "amount": [10.0, 25.0, 5.0],
    }


def test_cells_without_references_are_placed_as_calamine_places_them(tmp_path):
    # 20,000 cells without a reference in one row reach column 20,000, past XFD.
    wide = sheet_xml([(None, ['<c t="inlineStr"><is><t>x</t></is></c>'] * 20_000)])
    source = write_package(tmp_path / "wide.xlsx", package({"Transactions": wide}))
    with pytest.raises(
        InputError,
        match=r"wide\.xlsx: its part xl/worksheets/sheet1\.xml has a "
        r"cell at 'XFE1', which is not a cell of a sheet \(A1 to XFD1048576\)",
    ):
        read_log(source)
    # A few cells without references after referenced ones: column by column, as calamine.
    rows = [
        (
            1,
            [
                text("A1", "customer"),
                text("B1", "date"),
                '<c t="inlineStr"><is><t>amount</t></is></c>',
            ],
        ),
        *LOG[1:],
    ]
    assert list(
        read_log(write_package(tmp_path / "ok.xlsx", package({"T": sheet_xml(rows)}))).table.columns
    ) == ["customer", "date", "amount"]


@pytest.mark.parametrize(
    "ref, shown",
    [
        ("1A", "'1A'"),
        ("A0", "'A0'"),
        ("XFE1", "'XFE1'"),
        ("A1048577", "'A1048577'"),
        ("A99999999999", "'A99999999999'"),
        ("$A$5", "'$A$5'"),
    ],
)
def test_cell_references_that_are_not_cells_of_a_sheet_are_refused(tmp_path, ref, shown):
    rows = [*LOG, (5, [f'<c r="{ref}"><v>1</v></c>'])]
    source = write_package(tmp_path / "refs.xlsx", package({"Transactions": sheet_xml(rows)}))
    with pytest.raises(InputError) as err:
        read_log(source)
    assert str(err.value) == (
        f"refs.xlsx: its part xl/worksheets/sheet1.xml has a cell at {shown}, which is not a "
        "cell of a sheet (A1 to XFD1048576), so the workbook was not opened"
    )


def test_a_bomb_diluted_by_an_incompressible_part_is_refused_part_by_part(tmp_path, capsys):
    # 60 MB of zeros pack to 60 KB; 400 KB of noise bring the whole package's ratio to
    # 60.4 / 0.46 = 131, under the 200 a check of the totals allowed.
    parts = package()
    parts["xl/media/noise.bin"] = os.urandom(400 * 1024)
    parts["xl/worksheets/sheet2.xml"] = b"0" * (60 * 1024**2)
    source = write_package(tmp_path / "diluted.xlsx", parts)
    with zipfile.ZipFile(source) as z:
        infos = z.infolist()
    assert 100 < sum(i.file_size for i in infos) / sum(i.compress_size for i in infos) < 200
    err = refused(capsys, source, tmp_path / "c.csv")
    assert (
        "diluted.xlsx: its part xl/worksheets/sheet2.xml would unpack to 60 MB from 0.1 MB" in err
    )
    assert "a workbook part packs at most 200 to 1" in err


def test_a_part_that_unpacks_to_more_than_its_header_declares_is_refused(tmp_path, capsys):
    # The header declares 300 bytes and the CRC of those 300 bytes: Python's zipfile would
    # stop there and agree; calamine would read all 2 MB.
    sheet = sheet_xml(LOG).encode() + b" " * (2 * 1024**2)
    source = write_package(tmp_path / "lying.xlsx", package({"Transactions": sheet.decode()}))
    patch_entry(source, "xl/worksheets/sheet1.xml", size=300, crc=zlib.crc32(sheet[:300]))
    with zipfile.ZipFile(source) as z:
        assert len(z.read("xl/worksheets/sheet1.xml")) == 300  # what zipfile alone sees
    err = refused(capsys, source, tmp_path / "c.csv")
    assert (
        "lying.xlsx is damaged: its part xl/worksheets/sheet1.xml unpacks to more than the 300 "
        "bytes its zip header declares (lying sizes: a zip bomb?)"
    ) in err


def test_a_part_with_a_bad_crc_is_refused_naming_it(tmp_path, capsys):
    source = write_package(tmp_path / "crc.xlsx", package())
    with zipfile.ZipFile(source) as z:
        crc = z.getinfo("xl/worksheets/sheet1.xml").CRC
    patch_entry(source, "xl/worksheets/sheet1.xml", crc=crc ^ 0xFFFF)
    err = refused(capsys, source, tmp_path / "c.csv")
    assert (
        "crc.xlsx is damaged: its part xl/worksheets/sheet1.xml fails its checksum (Bad CRC-32)"
        in err
    )


def test_a_part_that_declares_more_than_it_holds_is_refused(tmp_path, capsys):
    source = write_package(tmp_path / "short.xlsx", package())
    with zipfile.ZipFile(source) as z:
        size = z.getinfo("xl/worksheets/sheet1.xml").file_size
    patch_entry(source, "xl/worksheets/sheet1.xml", size=size + 1000)
    err = refused(capsys, source, tmp_path / "c.csv")
    assert (
        f"short.xlsx is damaged: its part xl/worksheets/sheet1.xml unpacks to {size:,} bytes "
        f"where its zip header declares {size + 1000:,}"
    ) in err


# --- malformed workbooks: clear messages, never a traceback --------------------------------


@pytest.mark.parametrize("missing", ["xl/workbook.xml", "xl/_rels/workbook.xml.rels"])
def test_a_package_without_its_workbook_part_is_refused(tmp_path, capsys, missing):
    parts = package()
    del parts[missing]
    err = refused(capsys, write_package(tmp_path / "nobook.xlsx", parts), tmp_path / "c.csv")
    assert (
        f"nobook.xlsx cannot be opened as an Excel workbook: it has no {missing} (the part "
        "that lists its sheets)"
    ) in err


def test_a_sheet_whose_part_is_missing_is_refused(tmp_path, capsys):
    parts = package()
    del parts["xl/worksheets/sheet1.xml"]
    err = refused(capsys, write_package(tmp_path / "gone.xlsx", parts), tmp_path / "c.csv")
    assert (
        "gone.xlsx is damaged: its sheet Transactions should be in the part "
        "xl/worksheets/sheet1.xml, which is not in the package"
    ) in err


@pytest.mark.parametrize(
    "ref, columns, message",
    [
        (
            "C4:A1",
            ["customer", "date", "amount"],
            "the table Transactions has the reversed range C4:A1",
        ),
        (
            "A1:B4",
            ["customer", "date", "amount"],
            "the table Transactions spans 2 column(s) (A1:B4) but names 3 (customer, date, amount)",
        ),
        (
            "A1:XFE4",
            ["customer", "date", "amount"],
            "the table Transactions has the range 'A1:XFE4', which is not a range of cells inside a sheet",
        ),
    ],
)
def test_tables_whose_range_does_not_fit_are_refused(tmp_path, capsys, ref, columns, message):
    source = write_package(tmp_path / "tables.xlsx", package(tables=[(1, ref, columns)]))
    err = refused(capsys, source, tmp_path / "c.csv")
    assert f"tables.xlsx, sheet Transactions: {message}" in err


def test_a_table_reaching_past_the_last_cell_reads_empty_cells_there(tmp_path):
    source = write_package(
        tmp_path / "wide.xlsx",
        package(tables=[(1, "A1:E9", ["customer", "date", "amount", "note", "extra"])]),
    )
    table = read_log(source).table
    assert table.shape == (3, 5)
    assert table["amount"].tolist() == [10.0, 25.0, 5.0]
    assert table["extra"].tolist() == ["", "", ""]


def test_a_rust_panic_in_calamine_becomes_a_message(tmp_path, monkeypatch):
    import python_calamine

    # A real panic, taken from calamine itself (its table reader on a reversed range).
    write_package(tmp_path / "rev.xlsx", package(tables=[(1, "C4:A1", ["a", "b", "c"])]))
    with pytest.raises(BaseException) as caught:
        python_calamine.CalamineWorkbook.from_path(
            str(tmp_path / "rev.xlsx"), load_tables=True
        ).get_table_by_name("Transactions")
    panic = caught.value
    assert type(panic).__name__ == "PanicException" and not isinstance(panic, Exception)

    class Panicking:
        @staticmethod
        def from_path(*_, **__):
            raise panic

    monkeypatch.setattr(python_calamine, "CalamineWorkbook", Panicking)
    source = write_package(tmp_path / "ok.xlsx", package())
    with pytest.raises(
        InputError,
        match=r"ok\.xlsx, sheet Transactions: the workbook reader "
        r"failed on it \(invalid range bounds\)",
    ):
        read_log(source)


@pytest.mark.parametrize(
    "data, encoding",
    [
        (b"\xff\xfe" + sheet_xml(LOG).replace("UTF-8", "UTF-16").encode("utf-16-le"), "UTF-16"),
        (sheet_xml(LOG).replace("UTF-8", "windows-1252").encode(), "windows-1252"),
    ],
)
def test_parts_not_in_utf8_are_refused_not_read_as_empty(tmp_path, capsys, data, encoding):
    # calamine reads a UTF-16 sheet as an empty sheet.
    parts = package()
    parts["xl/worksheets/sheet1.xml"] = data
    err = refused(capsys, write_package(tmp_path / "u.xlsx", parts), tmp_path / "c.csv")
    assert (
        f"u.xlsx: its part xl/worksheets/sheet1.xml is written in {encoding}; clvxl reads "
        "workbooks as Excel writes them, in UTF-8"
    ) in err


def test_two_parts_of_one_name_are_refused(tmp_path, capsys):
    source = write_package(tmp_path / "twice.xlsx", package())
    with pytest.warns(UserWarning, match="Duplicate name"):
        with zipfile.ZipFile(source, "a") as z:
            z.writestr("xl/worksheets/sheet1.xml", sheet_xml([]))
    err = refused(capsys, source, tmp_path / "c.csv")
    assert "twice.xlsx holds two parts named xl/worksheets/sheet1.xml" in err


# --- wrong sheet -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["transactions", "Transactions ", " TRANSACTIONS"])
def test_a_transactions_sheet_is_found_whatever_its_case_and_spaces(tmp_path, name):
    notes = sheet_xml([(1, [text("A1", "Name"), text("B1", "Notes")])])
    source = write_package(tmp_path / "b.xlsx", package({"Notes": notes, name: sheet_xml(LOG)}))
    raw = read_log(source)
    assert raw.source == f"b.xlsx, sheet {name}"
    assert raw.table["customer"].tolist() == ["a", "a", "b"]


def test_sheets_named_alike_are_refused_not_guessed(tmp_path):
    source = write_package(
        tmp_path / "b.xlsx",
        package(
            {"Notes": sheet_xml([]), "transactions": sheet_xml(LOG), "TRANSACTIONS": sheet_xml(LOG)}
        ),
    )
    with pytest.raises(
        InputError,
        match=r"b\.xlsx has 2 sheets named like 'Transactions' "
        r"\('transactions', 'TRANSACTIONS'\); rename all but one",
    ):
        read_log(source)


def test_sheet_option_is_found_ignoring_case_and_spaces(tmp_path):
    source = write_package(
        tmp_path / "b.xlsx", package({"Notes": sheet_xml([]), "May 2024": sheet_xml(LOG)})
    )
    assert read_log(source, "may 2024 ").source == "b.xlsx, sheet May 2024"
    with pytest.raises(
        InputError, match=r"b\.xlsx has no sheet 'June'; its sheets are Notes, May 2024"
    ):
        read_log(source, "June")


def test_sheet_option_is_respected_for_an_xlsx_output(tmp_path, capsys):
    other = sheet_xml([*LOG[:2], (3, [text("A3", "z"), text("B3", "2024-03-01"), number("C3", 7)])])
    source = write_package(
        tmp_path / "two.xlsx", package({"Transactions": sheet_xml(LOG), "March": other})
    )
    output = tmp_path / "out.xlsx"
    assert main(["recalc", str(source), "-o", str(output), "--sheet", "March", "--quiet"]) == 0
    customers = pd.read_excel(output, sheet_name="Customers", engine="openpyxl")
    assert sorted(customers["Customer"]) == ["a", "z"]
    assert customers.set_index("Customer")["Revenue"].to_dict() == {"a": 10.0, "z": 7.0}


# --- data loss: one output transaction for every file a run writes --------------------------

GOOD = "customer,date,amount\na,2024-01-01,10\na,2024-02-01,25\nb,2024-01-15,5\n"


def test_the_rejected_rows_file_of_the_output_may_not_be_the_input(tmp_path, capsys):
    # recalc orders.rejected.csv -o orders.csv would write the rejected rows over the input
    # (with --on-error skip) or remove it as a stale file (without bad rows).
    source = tmp_path / "orders.rejected.csv"
    source.write_text(GOOD + "c,not a date,1\n")
    for options in (["--on-error", "skip"], []):
        err = refused(capsys, source, tmp_path / "orders.csv", *options)
        assert (
            f"the rejected-rows file {source} is the input; write to another file "
            "(-o orders.csv writes its bad rows to orders.rejected.csv)"
        ) in err


@pytest.mark.parametrize("link", [os.link, os.symlink])
def test_the_output_may_not_be_the_input_through_a_link(tmp_path, capsys, link):
    source, output = tmp_path / "orders.csv", tmp_path / "link.csv"
    source.write_text(GOOD)
    link(source, output)
    assert main(["recalc", str(source), "-o", str(output)]) == 2
    assert f"the output {output} is the input; write to another file" in capsys.readouterr().err
    assert source.read_text() == GOOD


def test_a_stale_rejected_file_is_removed_by_a_clean_run_and_kept_by_a_failed_one(tmp_path, capsys):
    source, output = tmp_path / "orders.csv", tmp_path / "customers.csv"
    stale = tmp_path / "customers.rejected.csv"
    source.write_text(GOOD + "c,not a date,1\n")
    assert main(["recalc", str(source), "-o", str(output), "--on-error", "skip", "--quiet"]) == 0
    assert pd.read_csv(stale)["row"].tolist() == [5]
    source.write_text("customer,date,amount\nx,2024-01-01,abc\n")  # a run that fails
    assert main(["recalc", str(source), "-o", str(output), "--quiet"]) == 2
    assert pd.read_csv(stale)["row"].tolist() == [5]  # the earlier run's output, untouched
    source.write_text(GOOD)  # a clean run: its output has no rejected rows
    assert main(["recalc", str(source), "-o", str(output), "--quiet"]) == 0
    capsys.readouterr()
    assert not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customers.csv", "orders.csv"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_full_disk_for_the_rejected_rows_leaves_the_previous_output_whole(tmp_path, suffix):
    # The rejected rows (1,000 lines, 1 MB) do not fit under a 512 KB file-size limit; the
    # customer table (and the parts XlsxWriter writes first) does: the run fails with
    # neither written.
    source, output = tmp_path / "orders.csv", tmp_path / f"customers{suffix}"
    source.write_text(GOOD + "".join(f"c{i},{'x' * 1000},1\n" for i in range(1000)))
    previous = b"the previous output"
    output.write_bytes(previous)
    limit = 512 * 1024

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "clvxl.cli",
            "recalc",
            str(source),
            "-o",
            str(output),
            "--on-error",
            "skip",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        preexec_fn=small_files,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert f"cannot write {tmp_path / 'customers.rejected.csv'}: File too large" in done.stderr
    assert output.read_bytes() == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customers" + suffix, "orders.csv"]


@pytest.mark.slow
@pytest.mark.parametrize("signum", [15, 1])
def test_sigterm_or_sighup_while_writing_removes_the_temporary_files(tmp_path, signum):
    import signal
    import time

    source, output = tmp_path / "orders.csv", tmp_path / "customers.xlsx"
    rows = [
        f"c{i % 3000},2024-{1 + i % 12:02d}-{1 + i % 28:02d},{1 + i % 97}" for i in range(30_000)
    ]
    source.write_text("customer,date,amount\n" + "\n".join(rows) + "\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "clvxl.cli", "recalc", str(source), "-o", str(output), "--quiet"],
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".customers.xlsx.*.tmp")) and time.monotonic() < deadline:
        assert proc.poll() is None, "the run ended before it started writing"
        time.sleep(0.002)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, err
    assert "clvxl: stopped by a signal; no output was written" in err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.csv"]
    assert signal.Signals(signum).name in ("SIGTERM", "SIGHUP")


def test_any_output_inside_the_input_folder_is_refused(tmp_path, capsys):
    # The folder is the log: a customers.parquet there would be read back next time, and
    # any file written there changes the input.
    folder = tmp_path / "exports"
    (folder / "year=2024").mkdir(parents=True)
    pd.DataFrame(
        {"customer": ["a", "b"], "date": ["2024-01-01", "2024-01-02"], "amount": [1.0, 2.0]}
    ).to_parquet(folder / "year=2024" / "part-0.parquet")
    for name in ("customers.parquet", "year=2024/c.parquet", "customers.csv", "customers.xlsx"):
        output = folder / name
        code = main(["recalc", str(folder), "-o", str(output)])
        _, err = capsys.readouterr()
        assert code == 2 and not output.exists()
        assert (
            f"the output {output} is inside the input folder {folder}, which is the log and "
            "is never written to; write it outside the folder"
        ) in err
    assert sorted(p.name for p in folder.rglob("*")) == ["part-0.parquet", "year=2024"]
    assert main(["recalc", str(folder), "-o", str(tmp_path / "customers.csv"), "--quiet"]) == 0


def test_a_full_disk_while_the_workbook_is_written_is_a_message(tmp_path):
    # XlsxWriter wraps the system's error in its own FileCreateError (was a traceback).
    source, output = tmp_path / "orders.csv", tmp_path / "customers.xlsx"
    source.write_text(GOOD + "".join(f"c{i},2024-01-{1 + i % 28:02d},{i}\n" for i in range(3000)))

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (16 * 1024, 16 * 1024))

    done = subprocess.run(
        [sys.executable, "-m", "clvxl.cli", "recalc", str(source), "-o", str(output), "--quiet"],
        capture_output=True,
        text=True,
        preexec_fn=small_files,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"clvxl: cannot write {output}: File too large\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.csv"]


# --- freeze: the same hardened reader, well-formed output, nothing that should not travel ----


def formula(ref: str, text_: str, value, *, attrs: str = "", f_attrs: str = "") -> str:
    cached = "" if value is None else f"<v>{value}</v>"
    return f'<c r="{ref}"{attrs}><f{f_attrs}>{text_}</f>{cached}</c>'


def frozen_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def assert_well_formed(path: Path) -> None:
    from xml.parsers import expat

    for name, data in frozen_parts(path).items():
        if name.endswith((".xml", ".rels")):
            expat.ParserCreate().Parse(data, True)  # raises on malformed XML


def freeze_cli(capsys, source: Path, target: Path) -> tuple[int, str, str]:
    from clvxl.cli import main as cli

    before = hashlib.sha256(source.read_bytes()).hexdigest()
    code = cli(["freeze", str(source), "-o", str(target)])
    out, err = capsys.readouterr()
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before
    assert "Traceback" not in err
    if code:
        assert code == 2 and not target.exists()
        assert not list(target.parent.glob(f".{target.name}*"))
    return code, out, err


def test_freeze_keeps_a_formatted_empty_cell_before_a_formula_well_formed(tmp_path, capsys):
    import openpyxl

    rows = [(1, ['<c r="A1" s="0"/>', formula("B1", "CLV(0.5,10)", 42.5), number("C1", 7)])]
    source = write_package(tmp_path / "b.xlsx", package({"Calculator": sheet_xml(rows)}))
    code, out, _ = freeze_cli(capsys, source, tmp_path / "f.xlsx")
    assert code == 0 and out.startswith("1 clvxl formula(s) replaced")
    sheet = frozen_parts(tmp_path / "f.xlsx")["xl/worksheets/sheet1.xml"]
    assert (
        b'<row r="1"><c r="A1" s="0"/><c r="B1"><v>42.5</v></c><c r="C1"><v>7</v></c></row>'
        in sheet
    )
    assert_well_formed(tmp_path / "f.xlsx")
    book = openpyxl.load_workbook(tmp_path / "f.xlsx")
    assert [c.value for c in book["Calculator"][1]] == [None, 42.5, 7]


def test_freeze_freezes_every_cell_of_a_shared_formula(tmp_path, capsys):
    shared = ' t="shared" si="0"'
    rows = [
        (
            2,
            [
                number("A2", 1),
                formula("B2", "CLV(A2,10)", 10, f_attrs=f'{shared} ref="B2:B4"'),
                formula("C2", "A2*2", 2, f_attrs=' t="shared" si="1" ref="C2:C4"'),
            ],
        ),
        (
            3,
            [
                number("A3", 2),
                formula("B3", "", 20, f_attrs=shared).replace("></f>", "/>"),
                formula("C3", "", 4, f_attrs=' t="shared" si="1"').replace("></f>", "/>"),
            ],
        ),
        (
            4,
            [
                number("A4", 3),
                formula("B4", "", 30, f_attrs=shared).replace("></f>", "/>"),
                formula("C4", "", 6, f_attrs=' t="shared" si="1"').replace("></f>", "/>"),
            ],
        ),
    ]
    source = write_package(tmp_path / "b.xlsx", package({"Sheet1": sheet_xml(rows)}))
    code, out, _ = freeze_cli(capsys, source, tmp_path / "f.xlsx")
    assert code == 0 and out.startswith("3 clvxl formula(s) replaced")
    sheet = frozen_parts(tmp_path / "f.xlsx")["xl/worksheets/sheet1.xml"].decode()
    for ref, value in (("B2", 10), ("B3", 20), ("B4", 30)):
        assert f'<c r="{ref}"><v>{value}</v></c>' in sheet
    # The other shared group (not a clvxl formula) is left whole, master and all.
    assert '<f t="shared" si="1" ref="C2:C4">A2*2</f>' in sheet
    assert sheet.count('<f t="shared" si="1"/>') == 2
    assert_well_formed(tmp_path / "f.xlsx")


def test_freeze_refuses_a_zip_bomb_quickly(tmp_path, capsys):
    import time

    parts = package()
    parts["xl/worksheets/sheet2.xml"] = b"<a>" + b"0" * (60 * 1024**2) + b"</a>"
    source = write_package(tmp_path / "bomb.xlsx", parts)
    assert source.stat().st_size < 100 * 1024
    start = time.perf_counter()
    code, _, err = freeze_cli(capsys, source, tmp_path / "f.xlsx")
    assert time.perf_counter() - start < 5
    assert code == 2
    assert "bomb.xlsx: its part xl/worksheets/sheet2.xml would unpack to 60 MB from 0.1 MB" in err


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda p: p.update(
                {
                    "xl/worksheets/sheet1.xml": '<?xml version="1.0"?><!DOCTYPE x '
                    '[<!ENTITY a "b">]><worksheet/>'
                }
            ),
            "b.xlsx declares XML entities (xl/worksheets/sheet1.xml has a <!DOCTYPE>)",
        ),
        (
            lambda p: p.update(
                {"xl/worksheets/sheet1.xml": b"\xff\xfe" + sheet_xml(LOG).encode("utf-16-le")}
            ),
            "b.xlsx: its part xl/worksheets/sheet1.xml is written in UTF-16",
        ),
        (
            lambda p: p.pop("xl/workbook.xml"),
            "b.xlsx cannot be opened as an Excel workbook: it has no xl/workbook.xml",
        ),
        (
            lambda p: p.pop("xl/worksheets/sheet1.xml"),
            "b.xlsx is damaged: its sheet Transactions should be in the part xl/worksheets/sheet1.xml",
        ),
        (
            lambda p: p.update({"xl/styles.xml": "<styleSheet><fonts></styleSheet>"}),
            "f.xlsx: the part xl/styles.xml would not be well-formed XML (mismatched tag",
        ),
    ],
    ids=["entities", "utf-16", "no workbook.xml", "missing sheet", "malformed part"],
)
def test_freeze_refuses_what_recalc_refuses_and_never_writes_malformed_xml(
    tmp_path, capsys, change, message
):
    parts = package()
    change(parts)
    code, _, err = freeze_cli(
        capsys, write_package(tmp_path / "b.xlsx", parts), tmp_path / "f.xlsx"
    )
    assert code == 2 and message in err


def test_freeze_leaves_out_macros_links_and_unsafe_entries_and_says_so(tmp_path, capsys):
    import openpyxl

    parts = package(
        {
            "Sheet1": sheet_xml(
                [(1, [formula("A1", "'[1]Prices'!B2*2", 50), formula("B1", "SUM(1,2)", 3)])]
            ),
            "Help": sheet_xml([(1, [text("A1", "About")])]),
        }
    )
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        "</sheets>",
        '</sheets><externalReferences><externalReference r:id="rId9"/></externalReferences>'
        '<definedNames><definedName name="Price">[1]Prices!$B$2</definedName>'
        '<definedName name="Local">Sheet1!$A$1</definedName></definedNames>',
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        "</Relationships>",
        f'<Relationship Id="rId9" Type="{RELS}/externalLink" Target="externalLinks/externalLink1.xml"/>'
        '<Relationship Id="rId8" Type="http://schemas.microsoft.com/office/2006/relationships/'
        'vbaProject" Target="vbaProject.bin"/></Relationships>',
    )
    parts["[Content_Types].xml"] = (
        parts["[Content_Types].xml"]
        .replace("spreadsheetml.sheet.main+xml", "XX")
        .replace(
            "application/vnd.openxmlformats-officedocument.XX",
            "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        )
        .replace(
            '<Default Extension="xml"',
            '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
            '<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/><Default Extension="xml"',
        )
    )
    parts["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0 Workbook_Open: Shell calc.exe"
    parts["xl/externalLinks/externalLink1.xml"] = (
        f'{DECLARATION}<externalLink {NS}><externalBook r:id="rId1"/></externalLink>'
    )
    parts["xl/externalLinks/_rels/externalLink1.xml.rels"] = (
        f'{DECLARATION}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        f'relationships"><Relationship Id="rId1" Type="{RELS}/externalLinkPath" '
        'Target="file:///C:/prices.xlsx" TargetMode="External"/></Relationships>'
    )
    parts["../../evil.sh"] = b"rm -rf ~"
    source = write_package(tmp_path / "linked.xlsm", parts)
    code, out, _ = freeze_cli(capsys, source, tmp_path / "shared.xlsx")
    assert code == 0
    assert out.splitlines() == [
        f"1 clvxl formula(s) replaced by their values in {tmp_path / 'shared.xlsx'}",
        "note: left out of the copy for sharing: macros (xl/vbaProject.bin)",
        "note: left out of the copy for sharing: a link to another workbook (xl/externalLinks/externalLink1.xml)",
        "note: left out of the copy for sharing: an entry with an unsafe name (../../evil.sh)",
    ]
    written = frozen_parts(tmp_path / "shared.xlsx")
    assert not [n for n in written if "vba" in n.lower() or "externalLink" in n or ".." in n]
    everything = b"".join(d for n, d in written.items() if n != "xl/worksheets/sheet2.xml")
    assert b"vbaProject" not in everything and b"externalLink" not in everything
    assert b"macroEnabled" not in written["[Content_Types].xml"]
    assert b'<definedName name="Local">' in written["xl/workbook.xml"]
    assert b"Price" not in written["xl/workbook.xml"]
    sheet = written["xl/worksheets/sheet1.xml"]
    assert b'<c r="A1"><v>50</v></c>' in sheet  # the external formula as its cached value
    assert b"<f>SUM(1,2)</f>" in sheet  # an ordinary formula stays
    assert_well_formed(tmp_path / "shared.xlsx")
    help_rows = list(
        openpyxl.load_workbook(tmp_path / "shared.xlsx")["Help"].iter_rows(values_only=True)
    )
    assert help_rows[-1][0] == "Frozen for sharing"
    assert help_rows[-1][1].endswith(
        "Left out of this copy: macros (xl/vbaProject.bin); a link to another workbook "
        "(xl/externalLinks/externalLink1.xml); an entry with an unsafe name (../../evil.sh)."
    )


def test_freeze_escapes_control_characters_from_settings_into_help(tmp_path, capsys):
    import xlsxwriter

    source = tmp_path / "b.xlsx"
    book = xlsxwriter.Workbook(str(source))
    settings = book.add_worksheet("Settings")
    settings.write_row(0, 0, ["Setting", "Value", "Key"])
    settings.write_row(1, 0, ["Model", "bg\x07nbd\x1b<x> _x0041_", "model"])
    book.add_worksheet("Help").write(0, 0, "About")
    book.close()
    code, _, _ = freeze_cli(capsys, source, tmp_path / "f.xlsx")
    assert code == 0
    assert_well_formed(tmp_path / "f.xlsx")
    help_xml = frozen_parts(tmp_path / "f.xlsx")["xl/worksheets/sheet2.xml"]
    assert b"Settings: model=bg_x0007_nbd_x001B_&lt;x&gt; _x005F_x0041_." in help_xml


def test_freeze_says_when_a_formula_had_no_value_and_refuses_an_xlsm_copy(tmp_path, capsys):
    rows = [(1, [formula("A1", "CLV(0.5,10)", None)])]
    source = write_package(tmp_path / "b.xlsx", package({"Sheet1": sheet_xml(rows)}))
    code, out, _ = freeze_cli(capsys, source, tmp_path / "f.xlsx")
    assert code == 0 and "note: 1 of them had no value computed by Excel and are empty" in out
    assert b'<c r="A1"/>' in frozen_parts(tmp_path / "f.xlsx")["xl/worksheets/sheet1.xml"]
    code, _, err = freeze_cli(capsys, source, tmp_path / "f.xlsm")
    assert code == 2
    assert (
        "cannot write f.xlsm: a frozen copy has no macros, so give an output ending in .xlsx" in err
    )


# --- fit: clear refusals, never a traceback or starting values with NaN errors --------------


def fit_cli(capsys, path: Path, *args: str) -> tuple[int, str, str]:
    code = main(["fit", *args[:1], str(path), *args[1:]])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_fit_reads_text_numbers_as_pandas_does_and_leaves_the_rest_nan():
    from clvxl.cli.fitting import _floats

    plain = pd.Series(["0.1", "1e5", "+4", ".5", "1.", "2.675", "1e-400", "0.30000000000000004"])
    assert _floats(plain).tobytes() == pd.to_numeric(plain.astype(object)).to_numpy(float).tobytes()
    with_blank = pd.Series(["1", None, "2.5"], dtype="str")
    np.testing.assert_array_equal(_floats(with_blank), [1.0, np.nan, 2.5])
    odd = pd.Series(["1", " 2", "1,5", "x"], dtype="str")  # Arrow refuses: pandas reads
    np.testing.assert_array_equal(_floats(odd), [1.0, 2.0, np.nan, np.nan])


@pytest.mark.parametrize("model", ["bgnbd", "paretonbd", "mbgnbd"])
def test_fit_names_the_row_of_a_text_value(tmp_path, capsys, model):
    path = tmp_path / "summary.csv"
    path.write_text("frequency,recency,T\n1,2,10\nabc,3,10\n2,5,10\n1,,10\n")
    code, _, err = fit_cli(capsys, path, model)
    assert code == 2
    assert err == (
        "clvxl: summary.csv, column 'frequency': expected a finite number in every row; "
        "row 3: 'abc'\n"
    )


@pytest.mark.parametrize(
    "model, content",
    [
        ("bgnbd", "frequency,recency,T,weights\n1,2,10,0\n0,0,10,0\n"),
        ("paretonbd", "frequency,recency,T,weights\n1,2,10,0\n0,0,10,0\n"),
        ("gammagamma", "frequency,monetary,weights\n1,10,0\n2,30,0\n"),
        ("bgbb", "frequency,recency,periods,weights\n1,2,6,0\n0,0,6,0\n"),
    ],
)
def test_fit_refuses_weights_that_add_up_to_zero(tmp_path, capsys, model, content):
    path = tmp_path / "w.csv"
    path.write_text(content)
    code, _, err = fit_cli(capsys, path, model)
    assert code == 2
    assert "w.csv: the weights add up to 0, so there are no customers to fit" in err


def test_fit_refuses_negative_weights_naming_the_row(tmp_path, capsys):
    path = tmp_path / "w.csv"
    path.write_text("frequency,recency,T,weights\n1,2,10,3\n0,0,10,-1\n")
    assert (
        fit_cli(capsys, path, "bgnbd")[2]
        == "clvxl: w.csv: weights must be 0 or more; row 3 has -1\n"
    )


@pytest.mark.parametrize("model", ["bgnbd", "paretonbd"])
def test_fit_refuses_to_show_starting_values_with_nan_errors(tmp_path, capsys, model):
    # Absurd frequencies: the optimiser cannot move, and the errors cannot be computed.
    path = tmp_path / "absurd.csv"
    path.write_text("frequency,recency,T\n1e9,2,10\n1e12,3,10\n2e15,5,10\n0,0,10\n")
    for options in ((), ("--json",)):
        code, out, err = fit_cli(capsys, path, model, *options)
        assert code == 2 and out == ""
        assert "fit did not settle where the data pin it down (r=" in err
        assert "cannot be computed): check that frequency, recency and T" in err


def test_fit_still_fits_a_sound_summary(tmp_path, capsys):
    import json

    rng = np.random.default_rng(3)
    from clvxl.models import bgnbd

    x, t_x, big_t = bgnbd.simulate(
        bgnbd.BetaGeoModel(0.25, 4.0, 0.8, 2.5), np.full(2000, 40.0), rng
    )
    path = tmp_path / "summary.csv"
    pd.DataFrame({"frequency": x, "recency": t_x, "T": big_t}).to_csv(path, index=False)
    code, out, _ = fit_cli(capsys, path, "bgnbd", "--json")
    fitted = json.loads(out)
    assert code == 0 and fitted["n"] == 2000
    assert abs(fitted["params"]["r"] - 0.25) < 0.05
    assert all(np.isfinite(v) and v > 0 for v in fitted["stderr"].values())


def test_fit_names_the_row_of_a_text_survival_count(tmp_path, capsys):
    path = tmp_path / "s.csv"
    path.write_text("alive\n1000\nx\n500\n")
    code, _, err = fit_cli(capsys, path, "sbg", "--column", "alive")
    assert code == 2
    assert (
        err == "clvxl: s.csv, column 'alive': expected a finite number in every row; row 3: 'x'\n"
    )


@pytest.mark.parametrize("bad_rows", [True, False])
def test_a_folder_where_the_rejected_rows_go_leaves_no_output_behind(tmp_path, capsys, bad_rows):
    source, output = tmp_path / "orders.csv", tmp_path / "customers.csv"
    source.write_text(GOOD + ("c,not a date,1\n" if bad_rows else ""))
    (tmp_path / "customers.rejected.csv").mkdir()
    code = main(["recalc", str(source), "-o", str(output), "--on-error", "skip", "--quiet"])
    err = capsys.readouterr().err
    if bad_rows:  # the rejected rows cannot be written: neither file is
        assert code == 2 and not output.exists()
        assert "customers.rejected.csv: it is a folder; give a file name" in err
    else:  # nothing to set aside: a folder is not a stale file to remove
        assert code == 0 and output.exists()
    assert (tmp_path / "customers.rejected.csv").is_dir()
    assert not list(tmp_path.glob(".*.tmp"))


def test_freeze_freezes_a_sheet_written_with_a_namespace_prefix(tmp_path, capsys):
    main_ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    xml = (
        f'{DECLARATION}<x:worksheet xmlns:x="{main_ns}"><x:sheetData><x:row r="1">'
        '<x:c r="A1" s="0"/><x:c r="B1" t="str"><x:f>RFM_SEGMENT(5,5,5)</x:f><x:v>Champions</x:v>'
        '</x:c><x:c r="C1"><x:f>CLV(1,2)</x:f><x:v>3.5</x:v></x:c></x:row></x:sheetData></x:worksheet>'
    )
    source = write_package(tmp_path / "b.xlsx", package({"Sheet1": xml}))
    code, out, _ = freeze_cli(capsys, source, tmp_path / "f.xlsx")
    assert code == 0 and out.startswith("2 clvxl formula(s) replaced")
    sheet = frozen_parts(tmp_path / "f.xlsx")["xl/worksheets/sheet1.xml"].decode()
    assert (
        '<x:row r="1"><x:c r="A1" s="0"/><x:c r="B1" t="inlineStr"><x:is><x:t xml:space="preserve">'
        'Champions</x:t></x:is></x:c><x:c r="C1"><x:v>3.5</x:v></x:c></x:row>'
    ) in sheet
    assert_well_formed(tmp_path / "f.xlsx")


def test_running_out_of_memory_is_a_message(tmp_path, capsys, monkeypatch):
    def exhausted(*_, **__):
        raise MemoryError

    monkeypatch.setattr("clvxl.recalc.recalculate", exhausted)  # the command imports it late
    source = tmp_path / "orders.csv"
    source.write_text(GOOD)
    err = refused(capsys, source, tmp_path / "c.csv")
    assert err == (
        "clvxl: the run needs more memory than is free; no output was written (a workbook "
        "log: export it as .csv, which is read in batches)\n"
    )


def test_fit_bgbb_refuses_absurd_periods_before_the_sum_takes_all_memory(tmp_path):
    # periods = 1e300 made the BG/BB likelihood loop over 1e300 opportunities (21 GB and
    # counting); in its own process under a memory limit, so a regression fails here.
    path = tmp_path / "bb.csv"
    path.write_text("frequency,recency,periods\n1,2,6\n0,0,6\n2,3,1e300\n")
    code, err = clvxl_limited("fit", "bgbb", str(path), memory=1024 * 1024**2)
    assert code == 2, err
    assert err == (
        "clvxl: bb.csv: BG/BB would sum over 1e+300 opportunities after the last transaction "
        "for each of 3 distinct rows, more than clvxl computes (10,000,000 terms); periods count "
        "opportunities to buy (years, campaigns), usually a few dozen\n"
    )


def test_fit_bgbb_counts_opportunities_in_whole_numbers(tmp_path, capsys):
    path = tmp_path / "bb.csv"
    path.write_text("frequency,recency,periods\n1,2.5,6\n0,0,6\n")
    code, _, err = fit_cli(capsys, path, "bgbb")
    assert code == 2
    assert err == "clvxl: bb.csv: BG/BB counts recency in whole opportunities; row 2 has 2.5\n"


def test_a_utf16_file_with_blank_lines_names_the_file_line(tmp_path, capsys):
    # UTF-16 has two bytes a character, so a byte search for "\n\n" found no blank line
    # and rows were named by record (found by the fuzzer: row 18 for file line 21).
    source = tmp_path / "unicode.csv"
    source.write_bytes("customer,date,amount\na,2024-01-01,10\n\n\nb,2101-01-01,5\n".encode("utf-16"))
    assert main(["recalc", str(source), "-o", str(tmp_path / "c.csv"), "--quiet"]) == 2
    assert "row 5, column 'date': '2101-01-01'" in capsys.readouterr().err


def test_a_row_of_delimiters_keeps_the_file_lines_of_the_rows_after_it(tmp_path, capsys):
    # ",," is a row (of blanks, left out) for the reader, but the line table skipped it,
    # so with a blank line in the file every later row was named one line too early.
    source = tmp_path / "orders.csv"
    source.write_text("customer,date,amount\na,2024-01-01,10\n\n,,\nb,2024-01-02,5\nc,2024-01-03,x\n")
    assert main(["recalc", str(source), "-o", str(tmp_path / "c.csv"), "--quiet"]) == 2
    assert "row 6, column 'amount': 'x'" in capsys.readouterr().err


def test_a_blank_line_at_the_end_does_not_hide_one_further_up(tmp_path, capsys):
    # Only the last blank line of each 1 MB step was looked at: one at the very end made
    # the file look free of blank lines, so rows after a blank line were named by record.
    source = tmp_path / "orders.csv"
    source.write_text("customer,date,amount\na,2024-01-01,10\n\n\nb,2024-01-02,x\n\n")
    assert main(["recalc", str(source), "-o", str(tmp_path / "c.csv"), "--quiet"]) == 2
    assert "row 5, column 'amount': 'x'" in capsys.readouterr().err
