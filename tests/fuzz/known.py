"""The defects the fuzzer finds today: one entry per root cause, with a minimal reproducer.

Each :class:`KnownDefect` says which failures it explains (failure kinds, a pattern on the
failure key, a pattern on the mutations that caused it) and builds the smallest case that
shows it. ``test_fuzz.py`` runs every reproducer under ``xfail(strict=True)``, so the
suite turns red the moment a fix lands (remove the entry then), and checks that the
seeded fuzz run shows no failure that none of these explains. The write-up with the
commands and what should happen instead is /work/staging/fuzz-findings.md (in the
repository: the ``title`` of each entry).
"""

from __future__ import annotations

import datetime as dt
import random
import re
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from fuzzlib import (
    DIR,
    Case,
    Expected,
    Failure,
    Oracle,
    freeze_book,
    log_rows,
    package,
    prefixed_sheet,
    sheet_xml,
    table_xml,
    zip_parts,
)

D = dt.date


@dataclass(frozen=True)
class KnownDefect:
    id: str
    title: str
    kinds: tuple[str, ...]
    key: str = ""  # a pattern the failure key must contain
    labels: str = ""  # a pattern one of the failure's mutations must contain
    reproduce: Callable[[], Case] | None = None

    def matches(self, failure: Failure) -> bool:
        return (
            failure.kind in self.kinds
            and (not self.key or re.search(self.key, failure.key) is not None)
            and (not self.labels or any(re.search(self.labels, label) for label in failure.labels))
        )


def _oracle(customers: dict[str, list[Expected | None]], bad_rows: dict[int, tuple[str, ...]] | None = None,
            labels: tuple[str, ...] = (), rows_known: bool = False) -> Oracle:
    """``rows_known``: the keys of ``bad_rows`` are the file's own row numbers, checked as such."""
    return Oracle(
        customers={cid: (alternatives, labels) for cid, alternatives in customers.items()},
        maybe=set(), bad_rows=bad_rows or {}, maybe_bad_rows={}, rows_known=rows_known, has_orders=False,
    )


def _e(revenue: str, orders: int, first: dt.date, last: dt.date | None = None, frequency: int | None = None) -> Expected:
    last = last or first
    return Expected(Decimal(revenue), orders, first, last, (orders - 1) if frequency is None else frequency)


def recalc(name: str, text: str | bytes, *options: str, output: str = "out/customers.csv",
           customers: dict[str, list[Expected | None]] | None = None, expect: str = "either",
           input_name: str = "in/log.csv", extra: dict[str, object] | None = None,
           bad_rows: dict[int, tuple[str, ...]] | None = None, memory: int | None = None,
           rows_known: bool = False) -> Case:
    """A ``clvxl recalc`` reproducer from a log's exact bytes."""
    data = text.encode() if isinstance(text, str) else text
    argv = ["recalc", input_name, "-o", output, *options]
    on_error = "skip" if "skip" in options else "stop"
    return Case(
        gen="known", seed=0, kind="recalc", argv=argv,
        files={"out": DIR, input_name: data, **(extra or {})}, inputs=[input_name], output=output,
        labels=[name], expect=expect,
        oracle=None if customers is None else _oracle(customers, bad_rows, tuple(name.split("+")), rows_known),
        rejected=output.rsplit(".", 1)[0] + ".rejected.csv", on_error=on_error, memory=memory,
    )


def freeze_case(name: str, parts: dict[str, bytes] | bytes | str, output: str = "out/shared.xlsx",
                input_name: str = "in/book.xlsx", expect: str = "either", memory: int | None = None) -> Case:
    data = parts if isinstance(parts, (bytes, str)) else zip_parts(parts)
    files: dict[str, object] = {"out": DIR, input_name: data}
    return Case(gen="known", seed=0, kind="freeze", argv=["freeze", input_name, "-o", output], files=files,
                inputs=[input_name], output=output, labels=[name], expect=expect, freeze_input=input_name,
                memory=memory)


def _book(attack: Callable[[dict[str, bytes]], None] | None = None, sheet: str | None = None, table: str | None = None) -> dict[str, bytes]:
    rows = log_rows(random.Random(3), 12)
    n = len(rows)
    parts = package([("Transactions", sheet or sheet_xml(rows, dimension=f"A1:C{n}", table=True))],
                    {1: table or table_xml(f"A1:C{n}", rows[0])})
    if attack:
        attack(parts)
    return parts


def _freeze_parts(edit: Callable[[str], str] | None = None) -> dict[str, bytes]:
    sheets, _ = freeze_book(random.Random(5))
    parts = package(sheets)
    if edit:
        name = "xl/worksheets/sheet1.xml"
        parts[name] = edit(parts[name].decode()).encode()
    return parts


def _add_row(row: str) -> Callable[[str], str]:
    return lambda xml: xml.replace("</sheetData>", row + "</sheetData>")


HEAD = "customer,date,amount\n"
BASE = "a,2024-01-02,100.00\nb,2024-01-05,20.00\na,2024-02-01,30.00\n"
A_B = {"a": [_e("130", 2, D(2024, 1, 2), D(2024, 2, 1))], "b": [_e("20", 1, D(2024, 1, 5))]}


def _bomb(parts_mib: int = 400) -> Case:
    from pathlib import Path

    from fuzzlib import MiB, _bomb_file

    # 400 MB of cells from 3 MB, diluted by 2.5 MB of noise (ratio 170:1 overall): a normal
    # workbook of 5.5 MB never needs the 768 MiB this one is stopped at.
    path = _bomb_file(Path(tempfile.gettempdir()) / "clvxl-fuzz-cache", parts_mib * MiB, 5 * MiB // 2)
    case = recalc("xl:bomb-diluted", b"", output="out/customers.csv", input_name="in/book.xlsx", memory=768 * MiB)
    case.files["in/book.xlsx"] = ("file", str(path))
    return case


def _stale_rejected() -> Case:
    text, customers = HEAD + BASE, A_B
    return recalc("out:stale-rejected", text, "--on-error", "skip", customers=customers, expect="succeed",
                  extra={"out/customers.rejected.csv": b"row,column,value,reason\r\n9,amount,x,an earlier run\r\n"})


def _inside_folder() -> Case:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.table({"customer": ["a", "b", "a"], "date": [D(2024, 1, 2), D(2024, 1, 5), D(2024, 2, 1)], "amount": [100.0, 20.0, 30.0]}), buf)
    case = recalc("out:inside-input-folder", b"", output="in/logs/customers.parquet", input_name="in/logs/part-0.parquet")
    case.argv[1] = "in/logs"
    case.inputs = ["in/logs"]
    case.files["in/logs/part-0.parquet"] = buf.getvalue()
    return case


def _parquet_tz() -> Case:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    stamps = [dt.datetime(2024, 1, 2, 12), dt.datetime(2024, 1, 5, 12), dt.datetime(2024, 2, 1, 12)]
    pq.write_table(pa.table({"customer": ["a", "b", "a"], "date": pa.array(stamps, pa.timestamp("us", tz="UTC")), "amount": [100.0, 20.0, 30.0]}), buf)
    return recalc("pq:timestamp-tz+out:xlsx", buf.getvalue(), output="out/refreshed.xlsx", input_name="in/log.parquet",
                  customers=A_B, expect="succeed")


def _fit(text: str, model: str = "bgnbd", label: str = "fit:text") -> Case:
    return Case(gen="known", seed=0, kind="fit", argv=["fit", model, "in/summary.csv", "--json"],
                files={"in/summary.csv": text.encode()}, inputs=["in/summary.csv"], labels=[label], notes=[model])


_SUMMARY = "frequency,recency,T,monetary,weights\n" + "".join(
    f"{x},{r},{t},{m},{w}\n" for x, r, t, m, w in
    [(0, 0, 30, 0, 1), (2, 10.5, 30, 20.5, 1), (1, 5, 28, 15, 1), (3, 20, 31, 40, 1), (0, 0, 25, 0, 1), (5, 22, 30, 12, 1)] * 5
)

KNOWN: list[KnownDefect] = [
    # --- dates -------------------------------------------------------------------------
    KnownDefect(
        "D01", "a date with a time-zone offset (…Z, …+02:00) crashes: TypeError: Invalid value '<DatetimeArray>' for dtype 'datetime64[ns]'",
        ("exception",), r"TypeError@(transactions|dates)", r"date:(Z|\+02:00|-05:00|mixed-offsets)$",
        lambda: recalc("date:Z", HEAD + BASE + "c,2024-03-05T10:00:00Z,5.00\n", "--on-error", "skip",
                       customers={**A_B, "c": [_e("5", 1, D(2024, 3, 5)), None]}, expect="succeed"),
    ),
    KnownDefect(
        "D02", "offsets that differ in one column, or an offset beside a plain date-time, crash: ValueError: Mixed timezones detected",
        ("exception",), r"ValueError@(transactions|dates)", r"date:(mixed-offsets|Z|\+02:00|-05:00)$",
        lambda: recalc("date:mixed-offsets", HEAD + BASE + "c,2024-03-05T12:00:00+02:00,5\nc,2024-03-06T12:00:00+05:00,5\n",
                       "--on-error", "skip", customers={**A_B, "c": [_e("10", 2, D(2024, 3, 5), D(2024, 3, 6)), None]},
                       expect="succeed"),
    ),
    KnownDefect(
        "D03", "'now' or 'today' in a date column crashes (TypeError … datetime64[us] … 'datetime64[s]') or, beside "
        "other dates that take the slow path, is read as the moment of the run (and moves the as-of date to today)",
        ("exception", "oracle-value", "oracle-extra", "bad-accepted", "bad-row-unreported", "rejected-rows"), r"", r"date:now$",
        lambda: recalc("date:now", HEAD + BASE + "c,now,5\n", "--on-error", "skip", customers=A_B, expect="succeed",
                       bad_rows={5: ("date:now",)}),
    ),
    KnownDefect(
        "D04", "text that is no date is read as one, silently: '10:00' (the run's date), '1 2 3' (2003-01-02), '2024Q1' (2024-01-01)",
        ("oracle-value", "oracle-extra", "oracle-missing", "bad-accepted", "bad-row-unreported", "rejected-rows"), r"", r"date:(10:00|1 2 3|2024Q1)$",
        lambda: recalc("date:1 2 3", HEAD + BASE + "a,1 2 3,7\n", "--on-error", "skip", customers=A_B, expect="succeed",
                       bad_rows={5: ("date:1 2 3",)}),
    ),
    KnownDefect(
        "D05", "text dates outside pandas' range crash instead of being bad rows: 'Jan', '-1', '12/31/2999' (OutOfBoundsDatetime)",
        ("exception",), r"OutOfBoundsDatetime@(transactions|dates)", r"",
        lambda: recalc("date:12/31/2999", HEAD + BASE + "c,12/31/2999,5\n", "--on-error", "skip", customers=A_B,
                       expect="succeed", bad_rows={5: ("date:12/31/2999",)}),
    ),
    KnownDefect(
        "D06", "text dates between 2262 and about 2850 wrap round silently: '2500-06-01' becomes 1915-11-12 (2263-01-01 is refused; real dates are right)",
        ("oracle-value", "oracle-extra", "oracle-missing", "bad-accepted", "bad-row-unreported", "rejected-rows"), r"", r"(date:2500-06-01|pq:date-2500)$",
        lambda: recalc("date:2500-06-01", HEAD + BASE + "a,2500-06-01,5\n", "--on-error", "skip", customers=A_B,
                       expect="succeed", bad_rows={5: ("date:2500-06-01",)}),
    ),
    # --- money -------------------------------------------------------------------------
    KnownDefect(
        "D07", "a minus after the currency is dropped: '$-40.00' is +40, '€-5' +5, 'EUR -12,50' +12.50, '+-1' +1 (a refund counted as a purchase)",
        ("oracle-value", "oracle-extra", "oracle-missing"), r"", r"money:(\$-40\.00|€-5|EUR -12,50|\+-1)$",
        lambda: recalc("money:$-40.00", HEAD + BASE + "a,2024-02-10,$-40.00\n", "--on-error", "skip",
                       customers={**A_B, "a": [_e("90", 2, D(2024, 1, 2), D(2024, 2, 1)), _e("130", 2, D(2024, 1, 2), D(2024, 2, 1))]}),
    ),
    KnownDefect(
        "D08", "once one amount shows a decimal comma, every dot in the column's text amounts is taken for a thousands "
        "separator: '$36.59' is 3659, '(12.00)' is -1200, ' 7.25 ' is 725",
        ("oracle-value", "oracle-extra", "oracle-missing"), r"", r"money:(12,50|1\.234,50|1 234,50|EUR -12,50|\(12\.00\)| 7\.25 |\$1,234\.50)$|csv:latin1-late|date:",
        lambda: recalc("money:12,50", HEAD + "a,2024-01-02,$100.00\nb,2024-01-05,20.00\na,2024-02-01,\"12,50\"\n",
                       customers={"a": [_e("112.5", 2, D(2024, 1, 2), D(2024, 2, 1))], "b": [_e("20", 1, D(2024, 1, 5))]}, expect="refuse"),
    ),
    KnownDefect(
        "D09", "malformed amounts are accepted: '1.2.3,4' is 123.4, '3.14,15' is 314.15, '12.5.3' is 1253 in a decimal-comma column",
        ("oracle-value", "oracle-extra", "oracle-missing", "bad-accepted", "bad-row-unreported", "rejected-rows"), r"", r"money:(1\.2\.3,4|3\.14,15|12\.5\.3)$",
        lambda: recalc("money:3.14,15", HEAD + BASE + 'a,2024-02-10,"3.14,15"\n', "--on-error", "skip", customers=A_B,
                       expect="succeed", bad_rows={5: ("money:3.14,15",)}),
    ),
    KnownDefect(
        "D10", "an amount of 1e28 or more crashes in the summary: duckdb ConversionException (CAST … AS DECIMAL(38, 10))",
        ("exception",), r"ConversionException@(summary|engine)", r"",
        lambda: recalc("money:1e28", HEAD + BASE + "c,2024-03-01,1e28\n", "--on-error", "skip"),
    ),
    # --- text files --------------------------------------------------------------------
    KnownDefect(
        "D11", "a header line longer than 64 KB: the columns after the first 64 KB are not found (the log is refused)",
        ("valid-refused", "oracle-value", "oracle-missing", "oracle-extra"), r"", r"csv:huge-header",
        lambda: recalc("csv:huge-header", "h" * 70_000 + "," + HEAD + "".join("," + line + "\n" for line in BASE.splitlines()),
                       customers=A_B, expect="succeed"),
    ),
    KnownDefect(
        "D12", "Latin-1 text that first appears after the first 64 KB is refused: 'CSV conversion error to large_string: invalid UTF8 data'",
        ("valid-refused",), r"", r"csv:latin1-late",
        lambda: recalc("csv:latin1-late", (HEAD + "".join(f"p{i:05d},2024-01-02,1.00\n" for i in range(4000)) + BASE + "Françoise,2024-01-03,5\n").encode("latin1"),
                       expect="succeed"),
    ),
    KnownDefect(
        "D13", "Windows-1252 text is read as Latin-1: ids with € Ž Œ Š ƒ Ÿ silently become C1 control characters",
        ("oracle-missing", "oracle-extra"), r"", r"csv:cp1252",
        lambda: recalc("csv:cp1252", (HEAD + BASE + "Žižek,2024-01-03,5.00\n").encode("cp1252"),
                       customers={**A_B, "Žižek": [_e("5", 1, D(2024, 1, 3))]}, expect="succeed"),
    ),
    KnownDefect(
        "D40", "a UTF-16 CSV (Excel's 'Unicode Text' export) is read as Latin-1: every value has NULs between its letters and every row is reported bad ('\\x001\\x007\\x005…')",
        ("valid-row-reported", "valid-refused"), r"", r"csv:utf16",
        lambda: recalc("csv:utf16", (HEAD + BASE).encode("utf-16"), customers=A_B, expect="succeed"),
    ),
    KnownDefect(
        "D42", "an old-Mac CSV (lines ended by a lone CR) with blank lines numbers its rows without the blank lines: "
        "an empty id on line 129 is reported as row 119 (blank lines were found by LF only)",
        ("bad-row-unreported", "valid-row-reported"), r"", r"csv:cr",
        lambda: recalc("csv:cr+csv:blank-lines+id:empty", (HEAD + BASE + "\n\n   ,2024-01-03,5.00\n").replace("\n", "\r"),
                       "--on-error", "skip", customers=A_B, expect="succeed", bad_rows={7: ("id:empty",)},
                       rows_known=True),
    ),
    # --- the output side ---------------------------------------------------------------
    KnownDefect(
        "D15", "--on-error skip writes OUTPUT.rejected.csv over the input when the input has that name",
        ("input-changed",), r"input-is-rejected-name", r"",
        lambda: recalc("out:input-is-rejected-name", HEAD + BASE + "# exported 2024-03-01,,\n", "--on-error", "skip",
                       input_name="out/customers.rejected.csv", output="out/customers.csv"),
    ),
    KnownDefect(
        "D16", "--on-error skip: when OUTPUT.rejected.csv cannot be written, the run exits 2 but leaves the output",
        ("leftover",), r"output", r"out:rejected-is-dir",
        lambda: recalc("out:rejected-is-dir", HEAD + BASE + "# exported 2024-03-01,,\n", "--on-error", "skip",
                       extra={"out/customers.rejected.csv": DIR}),
    ),
    KnownDefect(
        "D17", "an OUTPUT.rejected.csv of an earlier run stays beside a new output that set nothing aside",
        ("stale-rejected",), r"", r"", _stale_rejected,
    ),
    KnownDefect(
        "D18", "an output inside the input folder of parquet files is written: the input changes (and the next run reads the customer table as a log)",
        ("input-changed",), r"inside-input-folder", r"", _inside_folder,
    ),
    KnownDefect(
        "D19", "a customer id of more than 32,767 characters in an .xlsx output: cut to 32,767 and every later id of the column left blank (write_column stops at its first error)",
        ("oracle-missing", "oracle-extra", "oracle-value", "duplicate-customer", "output-unreadable"), r"", r"id:long40k",
        lambda: recalc("id:long40k+out:xlsx", HEAD + BASE + "M" + "y" * 40_000 + ",2024-01-03,5\n", output="out/customers.xlsx",
                       customers={**A_B, "M" + "y" * 40_000: [_e("5", 1, D(2024, 1, 3))]}, expect="refuse"),
    ),
    KnownDefect(
        "D20", "an .xlsx output of a parquet log with time-zone-aware timestamps crashes: TypeError: Excel doesn't support timezones in datetimes",
        ("exception",), r"TypeError@workbook", r"", _parquet_tz,
    ),
    KnownDefect(
        "D21", "an .xlsx output of a log with two columns of the same name (two empty headers, 'note,note') crashes: AttributeError: 'DataFrame' object has no attribute 'dtype'",
        ("exception",), r"AttributeError@workbook", r"",
        lambda: recalc("csv:two-empty-headers+out:xlsx", "customer,date,amount,,\n" + "".join(line + ",,\n" for line in BASE.splitlines()),
                       output="out/customers.xlsx", customers=A_B, expect="refuse"),
    ),
    KnownDefect(
        "D22", "--discount-rate 1 passes the settings check (0 to 1) and is refused by the model after the log is read (0 <= rate < 1), only when the model fits",
        ("valid-refused",), r"discount_rate", r"",
        lambda: recalc("opt:discount", HEAD + "".join(f"c{i % 12},2024-{1 + i % 12:02d}-{1 + i % 27:02d},{10 + i}\n" for i in range(60)),
                       "--discount-rate", "1", expect="refuse"),
    ),
    KnownDefect(
        "D23", "a first purchase on 1900-01-01 goes into an .xlsx output as serial 0, which Excel shows as 1900-01-00 (a time, not a date)",
        ("range",), r"purchase-dates", r"",
        lambda: recalc("date:1900-01-01+out:xlsx", HEAD + BASE + "c,1900-01-01,5\n", output="out/customers.xlsx", expect="succeed"),
    ),
    KnownDefect(
        "D38", "--sheet is ignored when the output is .xlsx (the workbook path reads the Transactions table or the first sheet): the log is refused or the wrong sheet read",
        ("valid-refused",), r"no customer id column, no date column, no amount column", r"out:xlsx",
        lambda: recalc("out:xlsx+xl:sheet", zip_parts(package([("Notes", sheet_xml([["exported 2024"]])), ("Data", sheet_xml(log_rows(random.Random(3), 12)))])),
                       "--sheet", "Data", input_name="in/book.xlsx", output="out/refreshed.xlsx", expect="succeed"),
    ),
    # --- workbooks as input --------------------------------------------------------------
    KnownDefect(
        "D24", "a cell far from A1 (XFD1048576; XFD10000) makes calamine build the whole grid: abort 'memory allocation of … bytes failed' or more than 2 GB, from a 2 KB file",
        ("crash", "memory"), r"", r"xl:cell-(XFD1048576|far-apart)",
        lambda: recalc("xl:cell-XFD1048576", zip_parts(_book(sheet=sheet_xml(log_rows(random.Random(3), 12), dimension="A1:XFD1048576", table=True,
                        tail_rows='<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'))), input_name="in/book.xlsx"),
    ),
    KnownDefect(
        "D25", "the zip-bomb check uses the whole package's ratio: a sheet that unpacks 1000:1, diluted by an incompressible part, is opened and takes gigabytes (clvxl freeze has no check at all)",
        ("memory", "crash"), r"", r"bomb-diluted", _bomb,
    ),
    KnownDefect(
        "D26", "a table whose ref is wider than its sheet's data, or whose column list is shorter than its ref, crashes: ValueError: 6 columns passed, passed data had 3 columns",
        ("exception",), r"ValueError@(sources|workbook)", r"xl:table-(ref-wide|columns-mismatch)",
        lambda: recalc("xl:table-ref-wide", zip_parts(_book(table=table_xml("A1:F13", ["customer", "date", "amount", "x", "y", "z"]))), input_name="in/book.xlsx"),
    ),
    KnownDefect(
        "D27", "a table ref written backwards (C13:A1) crashes: pyo3_runtime.PanicException: invalid range bounds",
        ("exception",), r"PanicException@(sources|workbook)", r"xl:table-ref-(reversed|garbage)",
        lambda: recalc("xl:table-ref-reversed", zip_parts(_book(table=table_xml("C13:A1", ["customer", "date", "amount"]))), input_name="in/book.xlsx"),
    ),
    KnownDefect(
        "D28", "calamine's errors after the workbook opens are not explained: a missing sheet part (WorksheetNotFound), "
        "no xl/workbook.xml (IndexError), a missing shared string (CalamineError)",
        ("exception",), r"(WorksheetNotFound|IndexError|CalamineError|XmlError)@(sources|workbook)", r"",
        lambda: recalc("xl:no-sheet-part", zip_parts(_book(lambda p: p.pop("xl/worksheets/sheet1.xml"))), input_name="in/book.xlsx"),
    ),
    KnownDefect(
        "D29", "a part with a bad CRC crashes before any message: zipfile.BadZipFile: Bad CRC-32 (recalc: in the DOCTYPE scan; freeze too)",
        ("exception",), r"BadZipFile@", r"",
        lambda: recalc("xl:bad-crc", _bad_crc(zip_parts(_book(), zipfile.ZIP_STORED)), input_name="in/book.xlsx"),
    ),
    # --- freeze --------------------------------------------------------------------------
    KnownDefect(
        "D30", "freeze: a formatted empty cell (<c r=\"A50\" s=\"0\"/>) before a clvxl formula in a row makes the frozen sheet XML invalid (the cell regex spans both cells)",
        ("freeze-xml",), r"", r"fz:selfclosing-before-formula",
        lambda: freeze_case("fz:selfclosing-before-formula", _freeze_parts(_add_row('<row r="50"><c r="A50" s="0"/><c r="B50"><f>CLV(100,0.2,0.1)</f><v>375</v></c></row>'))),
    ),
    KnownDefect(
        "D31", "freeze: shared formulas: the master is frozen, the cells that share it keep <f t=\"shared\" si=\"0\"/> with no master (Excel repairs the file) and stay clvxl formulas",
        ("freeze-orphan-shared", "freeze-formula-left"), r"", r"fz:shared-formula",
        lambda: freeze_case("fz:shared-formula", _freeze_parts(_add_row(
            '<row r="40"><c r="B40"><f t="shared" ref="B40:B41" si="0">CLV(A40,0.2,0.1)</f><v>10</v></c></row>'
            '<row r="41"><c r="B41"><f t="shared" si="0"/><v>20</v></c></row>'))),
    ),
    KnownDefect(
        "D32", "freeze: a sheet written with a namespace prefix (<x:c>, <x:f>: valid SpreadsheetML) is not frozen at all",
        ("freeze-formula-left",), r"", r"fz:prefixed-namespace",
        lambda: freeze_case("fz:prefixed-namespace", _freeze_parts(prefixed_sheet)),
    ),
    KnownDefect(
        "D33", "freeze: a workbook with macros frozen to .xlsx keeps vbaProject.bin and the macro-enabled content type: Excel refuses to open the shared copy",
        ("freeze-macro",), r"", r"fz:macros", lambda: _macro_freeze(),
    ),
    KnownDefect(
        "D34", "freeze: zip entries outside the package ('../../evil.txt') are copied into the shared copy",
        ("freeze-traversal",), r"", r"fz:path-traversal", lambda: freeze_case("fz:path-traversal", _freeze_parts() | {"../../evil.txt": b"x"}),
    ),
    KnownDefect(
        "D35", "freeze: a broken package gives a traceback, not a message: no xl/workbook.xml (KeyError), a DOCTYPE (EntitiesForbidden), "
        "a UTF-16 sheet (UnicodeDecodeError), no workbook rels (CalamineError/XmlError), a folder as input (IsADirectoryError)",
        ("exception",), r"@(freeze|workbook)\.py", r"",
        lambda: freeze_case("fz:no-workbook-xml", {k: v for k, v in _freeze_parts().items() if k != "xl/workbook.xml"}),
    ),
    KnownDefect(
        "D36", "a cell at XFD1048576 on the Settings sheet aborts the process in read_settings (calamine builds the grid): clvxl freeze, and clvxl recalc BOOK.xlsx -o X.csv",
        ("crash", "memory"), r"", r"fz:settings-XFD1048576", lambda: _settings_far_cell(),
    ),
    KnownDefect(
        "D41", "a 30-line semicolon log (many zero amounts, blank lines) runs for minutes: Pareto/NBD's Nelder-Mead polish walks "
        "out to log-parameters of 35, where each hypergeometric evaluation slows down, with no bound on evaluations",
        ("timeout",), r"", r"", lambda: _flat_pareto_log(),
    ),
    # --- fit -----------------------------------------------------------------------------
    KnownDefect(
        "D37", "fit: a summary with text in a number column (ValueError: could not convert string to float) or weights that sum to 0 (ZeroDivisionError) gives a traceback",
        ("exception",), r"(ValueError@(fitcmd|fit)|ZeroDivisionError@)", r"",
        lambda: _fit(_SUMMARY.replace("2,10.5,30", "abc,10.5,30", 1)),
    ),
    KnownDefect(
        "D39", "fit bgbb: a huge number of periods (1e9, 1e300) loops for ever: the likelihood sums range(periods - recency) terms one by one",
        ("timeout", "memory"), r"", r"fit:huge", lambda: _bgbb_huge_periods(),
    ),
]


#: The fuzzer's case text:31000634 (kept whole: which customers make the likelihood flat
#: is not obvious from a shorter log).
_FLAT_PARETO_LOG = b'Customer;Date;Amount\n00101;06.05.2022;0,00\nZo\xc3\xab 12;06.11.2022;1987,03\nC0007;02.11.2022;-45,69\n00108;09.06.2022;36,61\nZo\xc3\xab 12;04.02.2023;419,02\n00101;27.02.2022;97,00\n\xc3\x87elik 4;12.01.2022;1.196,06\nC0002;30.03.2023;187,64\n\n00101;28.05.2022;0,00\nC0003;16.05.2022;0,00\n\xc3\x86r\xc3\xb8 5;12.11.2022;2063,29\n00109;13.09.2022;1.651,53\n00111;11.01.2022;0,00\nC0000;04.03.2023;0,00\n\n\nC0007;31.10.2022;0,00\n\xc3\x87elik 4;02.03.2022;0,00\n\n\nZo\xc3\xab 6;30.05.2022;416,55\n00109;14.08.2022;91,79\nZo\xc3\xab 12;05.03.2023;0,00\n\n\n\nC0010;10.01.2023;0,00\nC0007;08.11.2022;195,61\n\xc3\x86r\xc3\xb8 5;23.10.2022;470,00\n'


def _flat_pareto_log() -> Case:
    case = recalc("csv:blank-lines", _FLAT_PARETO_LOG, expect="succeed")
    case.timeout = 20.0  # about 1 s when the polish is bounded
    return case


def _bad_crc(data: bytes) -> bytes:
    raw = bytearray(data)
    at = bytes(raw).find(b"<sheetData>") + 20
    raw[at] ^= 0x01
    return bytes(raw)


def _macro_freeze() -> Case:
    parts = _freeze_parts()
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml", b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    parts["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0" + bytes(500)
    return freeze_case("fz:macros", parts, input_name="in/book.xlsm")


def _settings_far_cell() -> Case:
    parts = _freeze_parts()
    name = "xl/worksheets/sheet2.xml"
    parts[name] = parts[name].replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')
    return freeze_case("fz:settings-XFD1048576", parts)


def _bgbb_huge_periods() -> Case:
    rows = "".join(f"{x},{t},{n},1\n" for x, t, n in [(0, 0, 6), (2, 4, 6), (1, 3, 6), (3, 5, 6), (6, 6, 6), (2, 6, 6)] * 5)
    case = _fit("frequency,recency,periods,weights\n" + rows + "1,3,1e9,1\n", "bgbb", "fit:huge")
    case.timeout = 6.0  # the same table with periods 6 fits in about a second
    return case


#: Defects fixed since: their reproducers now guard the fixes (they must keep every
#: promise), and a failure like theirs in a fuzz run is a regression, explained by nothing.
FIXED = frozenset(
    {
        # the output side: one output transaction, every output checked against the input
        "D15", "D16", "D17", "D18",
        # --sheet for an .xlsx output
        "D38",
        # workbooks: the hardened package reader, bounded sheets, tables, calamine's errors
        "D24", "D25", "D26", "D27", "D28", "D29",
        # freeze: the same reader, tokenised cells, shared formulas, prefixes, what is left out
        "D30", "D31", "D32", "D33", "D34", "D35", "D36",
        # fit: the inputs checked (BG/BB's opportunities bounded), unsettled fits refused
        "D37", "D39",
        # recalc: the Nelder-Mead polish kept to the optimiser's box and 4,000 evaluations
        "D41",
        # the reading layer: one date parser with its forms and range, one money rule per
        # column, time-zone offsets, tz-aware parquet, as-of values
        "D01", "D02", "D03", "D04", "D05", "D06", "D07", "D09", "D10", "D11", "D13",
        "D20", "D23", "D40", "D42",
        # refused now, in words, as the catalogue promises: a decimal comma among decimal
        # points, an id too long for a cell, an empty header into a workbook, a discount
        # rate of 100 %
        "D08", "D19", "D21", "D22",
        # a Windows-1252 byte first seen after 64 KB: the whole file is checked for UTF-8
        "D12",
    }
)


def match(failure: Failure) -> str | None:
    """The id of the open known defect that explains ``failure``, or None."""
    for defect in KNOWN:
        if defect.id not in FIXED and defect.matches(failure):
            return defect.id
    return None
