"""The bad-input catalogue (docs/bad-input.md) through the command line, as the user sees it:
the message, exit code 2, no traceback, the input byte-for-byte unchanged, no partial output."""

from __future__ import annotations

import hashlib
import itertools
import re
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


@pytest.mark.parametrize(
    ("lines", "row"),
    [
        # blank lines (two lone CRs) before the bad line, the file's line 7
        (["customer,date,amount", "a,2024-01-02,1", "b,2024-01-05,2", "a,2024-02-01,3", "", "",
          "   ,2024-01-03,5"], 7),
        # a quoted note over two lines: the bad record starts on line 5
        (["customer,date,amount,note", 'a,2024-01-02,1,"two', 'lines"', "b,2024-01-05,2,x",
          "   ,2024-01-03,5,y"], 5),
    ],
)  # fmt: skip
def test_an_old_mac_file_numbers_its_rows_by_its_own_lines(tmp_path, capsys, lines, row):
    """Lines ended by a lone CR (old Mac exports): blank lines and fields over two lines
    are found as in LF and CRLF files, so the bad row is named by its line (fuzzer, D42)."""
    source = tmp_path / "log.csv"
    source.write_bytes("\r".join(lines).encode() + b"\r")
    code, _, err = run(capsys, source, tmp_path / "c.csv")
    assert code == 2
    assert f"row {row}, column 'customer': '   ' — expected a customer id (the cell is empty)" in err


def test_an_empty_line_is_found_whatever_ends_the_lines():
    """Every text of up to seven letters, CRs and LFs: an empty line is found exactly when
    two line ends (CRLF, a lone CR or LF, as the csv reader reads them) follow each
    other, and what follows it is the same."""
    from clvxl.sources.raw import _blank_line_end

    line_end = rb"(?:\r\n|\r(?!\n)|\n)"
    definition = re.compile(line_end + line_end)
    for size in range(1, 8):
        for letters in itertools.product([b"a", b"\r", b"\n"], repeat=size):
            text = b"x" + b"".join(letters) + b"y"
            found, end = definition.search(text), _blank_line_end(text)
            assert (found is None) == (end is None), text
            if found is not None:
                assert text[end:].strip(b"\r\n") == text[found.end() :].strip(b"\r\n"), text


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


def small_book(path: Path, amount_formula: str | None = None) -> None:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Transactions")
    sheet.write_row(0, 0, ["customer", "date", "amount"])
    sheet.write_row(1, 0, ["a", "2024-01-01", 10])
    if amount_formula:
        # A formula into another workbook, with the value Excel cached for it.
        sheet.write_row(2, 0, ["a", "2024-02-01"])
        sheet.write_formula(2, 2, amount_formula, None, 25)
    else:
        sheet.write_row(2, 0, ["a", "2024-02-01", 25])
    book.close()


def rewrite_parts(path: Path, change) -> None:
    """Rewrite the package with ``change(name, data) -> data`` (and extra parts it adds)."""
    import zipfile

    with zipfile.ZipFile(path) as package:
        parts = {info.filename: package.read(info) for info in package.infolist()}
    parts = change(parts)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in parts.items():
            package.writestr(name, data)


def test_xml_entity_expansion_is_refused_before_parsing(tmp_path, capsys):
    source = tmp_path / "laughs.xlsx"
    small_book(source)
    laughs = (
        b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
            for i in range(1, 10)
        )
        + b"]>\n"
    )

    def add_doctype(parts):
        sheet = parts["xl/worksheets/sheet1.xml"]
        body = sheet.split(b"?>", 1)[1]
        parts["xl/worksheets/sheet1.xml"] = laughs + body.replace(b">a<", b">&lol9;<", 1)
        return parts

    rewrite_parts(source, add_doctype)
    code, _, err = run(capsys, source, tmp_path / "c.csv")
    assert code == 2
    assert "laughs.xlsx declares XML entities (xl/worksheets/sheet1.xml has a <!DOCTYPE>)" in err


def test_external_links_and_macros_are_neither_followed_nor_kept(tmp_path, capsys):
    import zipfile

    source = tmp_path / "linked.xlsm"
    small_book(source, amount_formula="'[prices.xlsx]Sheet1'!A1*1")
    elsewhere = tmp_path / "prices.xlsx"  # the linked workbook: never created, never needed

    def add_macro_and_link(parts):
        parts["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0 Workbook_Open: Shell calc.exe"
        parts["xl/externalLinks/externalLink1.xml"] = (
            b'<?xml version="1.0"?><externalLink xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main"><externalBook r:id="rId1" xmlns:r="http://schemas.'
            b'openxmlformats.org/officeDocument/2006/relationships"/></externalLink>'
        )
        parts["xl/externalLinks/_rels/externalLink1.xml.rels"] = (
            b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            b'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
            b'openxmlformats.org/officeDocument/2006/relationships/externalLinkPath" Target="'
            + elsewhere.as_uri().encode()
            + b'" TargetMode="External"/></Relationships>'
        )
        return parts

    rewrite_parts(source, add_macro_and_link)
    output = tmp_path / "refreshed.xlsx"
    code, _, _ = run(capsys, source, output)
    assert code == 0 and not elsewhere.exists()
    customers = pd.read_excel(output, sheet_name="Customers", engine="openpyxl")
    assert customers.loc[0, "Revenue"] == 35.0  # 10 + the cached 25
    with zipfile.ZipFile(output) as package:
        names = package.namelist()
    assert not [n for n in names if "vbaProject" in n or "externalLink" in n]


# --- the catalogue rows first tested at the library level, again through the command line:
# the message, exit code 2 (or the value read), the input unchanged, no partial output ----

HEAD = "customer,date,amount\n"
MANY_BAD = HEAD + "".join(f"c{i},2024-01-01,abc\n" for i in range(30))
CATALOGUE = [
    # (name, file, content, options, exit code, text in the output or error)
    ("empty", "orders.csv", b"", [], 2, "orders.csv is empty"),
    (
        "missing column",
        "log.csv",
        b"Client,When,Amount\na,2024-01-01,1\n",
        [],
        2,
        "the log has no date column. Columns found: 'Client', 'When', 'Amount'.",
    ),
    (
        "flag naming an absent column",
        "log.csv",
        HEAD.encode() + b"a,2024-01-01,1\n",
        ["--amount-col", "Total"],
        2,
        "there is no column 'Total' (given for amount)",
    ),
    (
        "duplicate headers",
        "log.csv",
        b"customer,date,Amount,Amount\na,2024-01-01,1,2\n",
        [],
        2,
        "the column 'Amount' appears 2 times in the header",
    ),
    (
        "ambiguous dates",
        "log.csv",
        HEAD.encode() + b"a,03/04/2024,1\nb,05/06/2024,2\n",
        [],
        2,
        "'03/04/2024' (row 2) could be day/month or month/day",
    ),
    (
        "dates before 1900, text in a date",
        "log.csv",
        HEAD.encode() + b"a,2024-01-01,1\nb,1899-06-01,2\nc,someday,3\n",
        [],
        2,
        "row 3, column 'date': '1899-06-01' — expected a date between 1900-01-01 and 2100-12-31 (2024-01-31, 2024-01-31T10:00+02:00, 31.01.2024, 01/31/2024, 31 Jan 2024, 20240131 or an Excel serial)",
    ),
    (
        "text, NaN, infinity in amounts",
        "log.csv",
        HEAD.encode() + b"a,2024-01-01,abc\nb,2024-01-01,NaN\nc,2024-01-01,inf\n",
        [],
        2,
        "row 2, column 'amount': 'abc' — expected an amount: a finite number such as 1234.50, below 1,000,000,000,000,000 in size and written like the rest of its column",
    ),
    ("more than 20 bad rows", "log.csv", MANY_BAD.encode(), [], 2, "... and 10 more bad rows"),
    ("xls", "log.xls", b"\xd0\xcf\x11\xe0", [], 2, "log.xls: cannot read .xls"),
    (
        "password-protected",
        "locked.xlsx",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512,
        [],
        2,
        "A password-protected workbook is stored encrypted",
    ),
    (
        "dates after the as-of date",
        "log.csv",
        HEAD.encode() + b"a,2024-01-01,1\na,2024-02-01,2\nb,2024-03-01,3\n",
        ["--as-of", "2024-02-15"],
        0,
        "note: 1 transaction line(s) dated after the as-of date 2024-02-15 were not used",
    ),
    (
        "refund-only customers",
        "log.csv",
        HEAD.encode() + b"a,2024-01-01,10\nb,2024-01-05,-4\n",
        [],
        0,
        "note: 1 customer(s) have only refunds up to 2024-01-05",
    ),
]


@pytest.mark.parametrize(
    ("file", "content", "options", "code", "text"),
    [case[1:] for case in CATALOGUE],
    ids=[case[0] for case in CATALOGUE],
)
def test_catalogue_through_the_command_line(tmp_path, capsys, file, content, options, code, text):
    source = tmp_path / file
    source.write_bytes(content)
    got, out, err = run(capsys, source, tmp_path / "c.csv", *options)
    assert got == code
    assert text in (err if code else out)


@pytest.mark.parametrize(
    ("content", "options", "customers", "revenue"),
    [
        # semicolons, decimal commas and a UTF-8 byte-order mark
        (
            "\ufeffcustomer;date;amount\na;2024-01-01;1.234,50\nb;2024-01-02;7,25\n",
            [],
            ["a", "b"],
            [1234.5, 7.25],
        ),
        # Latin-1 text
        ("customer,date,amount\nJosé,2024-01-01,10\n", [], ["José"], [10.0]),
        # blank lines are skipped
        (
            "customer,date,amount\n\na,2024-01-01,10\n\n\nb,2024-01-02,5\n",
            [],
            ["a", "b"],
            [10.0, 5.0],
        ),
        # ambiguous dates read as told
        ("customer,date,amount\na,03/04/2024,1\na,05/06/2024,2\n", ["--dayfirst"], ["a"], [3.0]),
        # Excel serial dates and yyyymmdd
        ("customer,date,amount\na,45292,1\na,20240301,2\n", [], ["a"], [3.0]),
        # currency text, brackets for negatives, a zero-amount order
        (
            'customer,date,amount\na,2024-01-01,"$1,234.50"\na,2024-01-02,(12.00)\nb,2024-01-03,0\n',
            [],
            ["a", "b"],
            [1222.5, 0.0],
        ),
        # ids that look numeric stay text (trimmed); numeric cells are covered in test_transactions
        (
            "customer,date,amount\n00123,2024-01-01,1\n123,2024-01-02,2\n 123 ,2024-01-03,3\n",
            [],
            ["00123", "123"],
            [1.0, 5.0],
        ),
    ],
    ids=[
        "semicolons-decimal-commas-bom",
        "latin-1",
        "blank-lines",
        "dayfirst",
        "serial-and-compact-dates",
        "currency-text-and-zero",
        "numeric-looking-ids",
    ],
)
def test_messy_logs_are_read_as_meant(tmp_path, capsys, content, options, customers, revenue):
    source = tmp_path / "log.csv"
    source.write_bytes(content.encode("latin-1" if "José" in content else "utf-8"))
    code, _, _ = run(capsys, source, tmp_path / "c.csv", *options)
    assert code == 0
    table = pd.read_csv(tmp_path / "c.csv", dtype={"customer_id": str})
    assert table["customer_id"].tolist() == customers
    assert table["revenue"].tolist() == pytest.approx(revenue)


@pytest.mark.parametrize("output", ["c.parquet", "c.xlsx"])  # scanned / read whole
def test_unreadable_parquet_is_explained_however_it_is_read(tmp_path, capsys, output):
    corrupt = tmp_path / "orders.parquet"
    corrupt.write_bytes(b"not a parquet file")
    code, _, err = run(capsys, corrupt, tmp_path / output)
    assert code == 2 and "orders.parquet is not a readable parquet file:" in err
    # Files that each read but do not make one table: the error comes while reading.
    folder = tmp_path / "exports"
    folder.mkdir()
    pd.DataFrame({"customer": ["a"], "date": ["2024-01-01"], "amount": [1.0]}).to_parquet(
        folder / "a.parquet"
    )
    pd.DataFrame({"customer": ["b"], "date": ["2024-01-02"], "amount": ["x"]}).to_parquet(
        folder / "b.parquet"
    )
    code = main(["recalc", str(folder), "-o", str(tmp_path / output)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "the parquet files in" in err and "cannot be read as one table:" in err
    assert not (tmp_path / output).exists()
