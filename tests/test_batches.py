"""A log scanned in batches gives exactly what the log read whole gives.

`clvxl recalc` scans .csv and .parquet logs in batches (sources.scan_log) so that a log of
any length fits in memory. Everything that depends on the whole log must not depend on
where the batches are cut: how dates and decimals are written, the bad-row report, the
rows named in messages, repeated lines, and the id codes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clvxl.clean import _idcodes, clean_transactions
from clvxl.clean import log as clean_log
from clvxl.clean._idcodes import _buckets
from clvxl.clean.formats import PLACEHOLDER_IDS
from clvxl.errors import BadRowsError, InputError, NoDataError
from clvxl.recalc import recalculate
from clvxl.sources import read_log, read_sql, scan_log, scan_sql


def write(tmp_path, text: str, name: str = "log.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def both(path, batch_rows: int, **options):
    """The clean log read whole and scanned in batches."""
    whole = clean_transactions(read_log(path), **options)
    batched = clean_transactions(scan_log(path, batch_rows=batch_rows), **options)
    return whole, batched


def assert_same(whole, batched) -> None:
    pd.testing.assert_frame_equal(batched.transactions, whole.transactions)
    pd.testing.assert_frame_equal(batched.rejected, whole.rejected)
    assert batched.notes == whole.notes


def test_batches_cut_where_asked_and_number_rows_from_the_file(tmp_path):
    lines = "".join(f"C{i % 3},2024-01-{i + 1:02d},{i}\n" for i in range(7))
    path = write(tmp_path, "customer,date,amount\n" + lines)
    batches = list(scan_log(path, batch_rows=3).batches())
    assert [(b.offset, len(b.table)) for b in batches] == [(0, 3), (3, 3), (6, 1)]
    assert batches[2].row_numbers(np.array([0])).tolist() == [8]  # line 8 of the file
    whole, batched = both(path, 3)
    assert batched.transactions["source_row"].tolist() == list(range(2, 9))
    assert_same(whole, batched)


def test_day_first_shown_only_in_the_last_batch_applies_to_the_first(tmp_path):
    # 03/04/2024 alone could be either; 25/04/2024, three batches later, tells.
    path = write(
        tmp_path,
        "customer,date,amount\nA,03/04/2024,1\nB,05/04/2024,2\nA,06/04/2024,3\nB,25/04/2024,4\n",
    )
    whole, batched = both(path, 1)
    assert batched.transactions["date"].iloc[0] == pd.Timestamp("2024-04-03")
    assert_same(whole, batched)


def test_ambiguous_dates_in_every_batch_are_refused_naming_the_first(tmp_path):
    path = write(tmp_path, "customer,date,amount\nA,2024-01-01,1\nA,03/04/2024,1\nB,05/06/2024,2\n")
    with pytest.raises(InputError, match=r"'03/04/2024' \(row 3\) could be day/month"):
        clean_transactions(scan_log(path, batch_rows=1))
    assert clean_transactions(scan_log(path, batch_rows=1), dates="monthfirst").transactions[
        "date"
    ].iloc[1] == pd.Timestamp("2024-03-04")


def test_days_first_in_one_batch_and_months_first_in_another_are_refused(tmp_path):
    path = write(tmp_path, "customer,date,amount\nA,25/04/2024,1\nB,04/25/2024,2\n")
    with pytest.raises(InputError, match="some dates have the day first and others the month"):
        clean_transactions(scan_log(path, batch_rows=1))


def test_decimal_comma_shown_in_a_later_batch_reads_earlier_amounts_alike(tmp_path):
    # "1,250" alone reads as 1250 (thousands); "7,5" in the last batch shows decimal commas.
    path = write(
        tmp_path, 'customer;date;amount\nA;2024-01-01;"1,250"\nB;2024-01-02;3\nA;2024-01-03;"7,5"\n'
    )
    whole, batched = both(path, 1)
    assert batched.transactions["amount"].tolist() == [1.25, 3.0, 7.5]
    assert_same(whole, batched)


def test_bad_rows_of_all_batches_are_reported_with_their_file_lines(tmp_path):
    rows = [f"C{i},2024-01-01,{'x' if i % 4 == 0 else i}" for i in range(100)]
    rows.insert(50, "")  # a blank line: later rows are one line further down
    path = write(tmp_path, "customer,date,amount\n" + "\n".join(rows) + "\n")
    with pytest.raises(BadRowsError) as whole:
        clean_transactions(read_log(path))
    with pytest.raises(BadRowsError) as batched:
        clean_transactions(scan_log(path, batch_rows=7))
    assert str(batched.value) == str(whole.value)
    assert str(batched.value).startswith("25 bad rows")
    assert [bad.row for bad in batched.value.bad_rows][-1] == 79  # C76: 2 lines + the blank
    whole_skip, batched_skip = both(path, 7, on_error="skip")
    assert batched_skip.rejected["row"].tolist() == whole_skip.rejected["row"].tolist()
    assert 55 in batched_skip.rejected["row"].tolist()  # C52 is on line 55, after the blank
    assert_same(whole_skip, batched_skip)


def test_an_order_repeated_in_another_batch_is_found_and_counted_once(tmp_path):
    path = write(
        tmp_path,
        "order,customer,date,amount\nO1,A,2024-01-01,5\nO2,B,2024-01-02,6\n"
        "O3,A,2024-01-03,7\nO1,A,2024-01-01,5\n",
    )
    whole, batched = both(path, 2)
    assert batched.notes and "first at row 5" in batched.notes[0]
    assert_same(whole, batched)
    whole, batched = both(path, 2, dedupe=True)
    assert len(batched.transactions) == 3
    assert_same(whole, batched)


def test_a_log_without_good_rows_is_no_data_in_batches_too(tmp_path):
    path = write(tmp_path, "customer,date,amount\nA,never,1\nB,never,2\nC,never,3\n")
    with pytest.raises(NoDataError, match="no rows that could be read"):
        clean_transactions(scan_log(path, batch_rows=2), on_error="skip")
    header_only = write(tmp_path, "customer,date,amount\n", "empty.csv")
    with pytest.raises(NoDataError, match="no transactions"):
        clean_transactions(scan_log(header_only, batch_rows=2))


def test_parquet_file_and_folder_scans_equal_the_whole_read(tmp_path):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in rng.integers(0, 400, 500)],
            "customer_id": [f"C{i:03d}" for i in rng.integers(0, 60, 500)],
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, 500), "D"),
            "amount": rng.gamma(2.0, 20.0, 500).round(2),
        }
    )
    path = tmp_path / "log.parquet"
    frame.to_parquet(path)
    folder = tmp_path / "exports"
    for part in range(3):
        (folder / f"month={part}").mkdir(parents=True)
        frame.iloc[part * 170 : (part + 1) * 170].to_parquet(folder / f"month={part}" / "p.parquet")
    for source in (path, folder):
        whole, batched = both(source, 64)
        assert_same(whole, batched)
        assert batched.table.column("customer_id").type == pa.dictionary(pa.int32(), pa.string())


def test_recalculation_in_batches_equals_the_whole_read(tmp_path):
    rng = np.random.default_rng(7)
    n = 3000
    frame = pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(n)],
            "customer_id": [f"C{i}" for i in rng.integers(0, 700, n)],
            "date": (
                pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 500, n), "D")
            ).strftime("%d/%m/%Y"),
            "amount": rng.lognormal(3, 1, n).round(2),
        }
    )
    path = tmp_path / "log.csv"
    frame.to_csv(path, index=False)
    whole = recalculate(read_log(path), sheets=False)
    batched = recalculate(scan_log(path, batch_rows=256), sheets=False)
    pd.testing.assert_frame_equal(batched.customers, whole.customers)
    pd.testing.assert_frame_equal(batched.kpis, whole.kpis)


@settings(max_examples=40, deadline=None)
@given(
    ids=st.lists(  # placeholder ids ("0", "NA") are not customers: left out, not coded
        st.text(min_size=1, max_size=6).filter(lambda s: s.strip().lower() not in PLACEHOLDER_IDS),
        min_size=1,
        max_size=60,
    ),
    batch=st.integers(1, 25),
)
def test_equal_ids_get_equal_codes_whatever_the_batches(tmp_path_factory, ids, batch):
    ids = [i.strip().replace("\x00", "") or "x" for i in ids]
    frame = pd.DataFrame({"customer": ids, "date": "2024-01-01", "amount": "1"})
    path = tmp_path_factory.mktemp("ids") / "log.parquet"
    frame.to_parquet(path)
    whole, batched = both(path, batch)
    assert_same(whole, batched)
    codes = batched.table.column("customer_id").chunk(0)
    assert len(codes.dictionary) == len(set(batched.transactions["customer_id"]))


def test_buckets_depend_on_the_id_alone():
    ids = pa.array(["A1", "", "B22", "A1", "ü-42", "B22"])
    shuffled = pa.array(["B22", "ü-42", "A1", ""])
    a, b = _buckets(ids, 16), _buckets(shuffled, 16)
    by_id = dict(zip(ids.to_pylist(), a.tolist(), strict=True))
    assert [by_id[i] for i in shuffled.to_pylist()] == b.tolist()
    assert set(_buckets(pa.array([f"O{i}" for i in range(1000)]), 16).tolist()) == set(range(16))


def test_a_query_scanned_in_batches_equals_the_query_read_whole(tmp_path):
    path = write(
        tmp_path,
        'Customer ,Invoice Date,Net Amount\nA,03/04/2024,"1,5"\nB,2024-01-02,2\nA,25/04/2024,3\n',
    )
    sql = f"SELECT * FROM read_csv('{path}', all_varchar = true);"
    whole = clean_transactions(read_sql(sql))
    batched = clean_transactions(scan_sql(sql, batch_rows=1))
    assert batched.transactions["amount"].tolist() == [1.5, 2.0, 3.0]
    assert batched.transactions["date"].iloc[0] == pd.Timestamp("2024-04-03")
    assert_same(whole, batched)
    with pytest.raises(InputError, match="the query could not be run"):
        scan_sql("SELECT * FROM no_such_table")


@given(st.lists(st.text(max_size=20), min_size=1, max_size=40), st.integers(0, 5))
def test_an_ids_bucket_is_the_same_whatever_stands_beside_it(ids, skip):
    array = pa.array(ids).slice(min(skip, len(ids) - 1))  # a slice too: offsets not at 0
    alone = [int(_buckets(pa.array([i]), 16)[0]) for i in array.to_pylist()]
    assert _buckets(array, 16).tolist() == alone


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.text(max_size=20), max_size=40),
    st.integers(0, 5),
    st.sampled_from(["as drawn", "distinct", "repeat apart"]),
)
def test_ids_are_dictionary_encoded_as_arrow_does(ids, skip, shape):
    """The fast path for distinct ids gives Arrow's own array: the same dictionary (in
    order of first appearance), the same codes and type."""
    if shape == "distinct":
        ids = [f"{i}-{n}" for n, i in enumerate(ids)]
    elif shape == "repeat apart" and len(ids) > 1:  # a repeat that is not next to itself
        ids = [f"{i}-{n}" for n, i in enumerate(ids)] + [f"{ids[0]}-0"]
    array = pa.array(ids, pa.string()).slice(min(skip, max(len(ids) - 1, 0)))
    ours, arrows = _idcodes.dictionary_encode(array), pc.dictionary_encode(array)
    assert ours.equals(arrows) and ours.type == arrows.type


def test_distinct_ids_take_the_fast_path_and_keep_their_own_text():
    ids = pa.array([f"ORDER-2024-{i:06d}" for i in range(1000)])
    encoded = _idcodes.dictionary_encode(ids)
    assert encoded.dictionary.buffers()[2].address == ids.buffers()[2].address  # not copied
    assert encoded.indices.to_pylist() == list(range(1000))


@pytest.mark.parametrize("piece_rows", [1, 3])
def test_batches_cleaned_in_pieces_equal_the_log_read_whole(tmp_path, monkeypatch, piece_rows):
    monkeypatch.setattr(clean_log, "_PIECE_ROWS", piece_rows)
    rows = [f"O{i},C{i % 5},2024-01-{i % 28 + 1:02d},{'x' if i % 9 == 0 else i}" for i in range(60)]
    rows.insert(20, "")  # later rows are one line further down
    rows.append("O3,C3,2024-01-04,3")  # repeats line 5 exactly
    path = write(tmp_path, "order,customer,date,amount\n" + "\n".join(rows) + "\n")
    whole, batched = both(path, 7, on_error="skip")
    assert_same(whole, batched)
    assert batched.rejected["row"].tolist()[:3] == [2, 11, 20]
    assert "first at row 63" in batched.notes[0]


@pytest.mark.parametrize("large", [False, True])
def test_strings_written_piece_by_piece_equal_their_concatenation(monkeypatch, large):
    if large:  # as for 2 GiB of text: 64-bit offsets
        monkeypatch.setattr(_idcodes._StringsWriter, "LARGE", 0)
    pieces = [[pa.array(["ab", "", "ü"]), pa.array(["xyz"])], [], [pa.array(["q", "rr", "s"])[1:]]]
    writer = _idcodes._StringsWriter(pieces)
    for bucket in pieces:
        for strings in bucket:
            writer.append(strings)
    result = writer.finish()
    assert result.type == (pa.large_string() if large else pa.string())
    assert result.to_pylist() == ["ab", "", "ü", "xyz", "rr", "s"]


def test_row_numbers_follow_a_file_rewritten_in_place(tmp_path):
    path = write(tmp_path, "customer,date,amount\n\nA,2024-01-01,x\n")
    with pytest.raises(BadRowsError, match="row 3,"):
        clean_transactions(read_log(path))
    path.write_text("customer,date,amount\nA,2024-01-01,1\n\n\nB,2024-01-02,x\n", encoding="utf-8")
    with pytest.raises(BadRowsError, match="row 5,"):
        clean_transactions(read_log(path))
