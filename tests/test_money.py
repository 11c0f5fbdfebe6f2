"""One money rule per column: decided once, shown in a note; a value that does not fit it
is a bad row; signs kept wherever they stand; amounts too large for exact sums refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvxl.clean import clean_transactions
from clvxl.clean.money import MAX_AMOUNT, MONEY_EXPECTED, parse_money
from clvxl.sources import scan_log


def read(values: list[str]) -> tuple[list[float], list[str], tuple[str, ...]]:
    raw = pd.DataFrame({"customer": ["a"] * len(values), "date": "2024-01-01", "amount": values})
    log = clean_transactions(raw, on_error="skip")
    return log.transactions["amount"].tolist(), log.rejected["value"].tolist(), log.notes


def test_signs_after_a_currency_are_kept():
    assert read(["$-40.00", "€-5", "-€5", "40.00-", "(12.00)", "USD 7"])[:2] == (
        [-40.0, -5.0, -5.0, -40.0, -12.0, 7.0],
        [],
    )
    assert read(["EUR -12,50", "3,00"])[:2] == ([-12.5, 3.0], [])


def test_a_decimal_comma_column_reads_thousands_dots_and_refuses_decimal_points():
    amounts, bad, notes = read(["1.500,00", "12,50", "1.234", "$100.00", "7"])
    # 1.234 is 1234 (thousands dots are the rule); $100.00 fits no reading of the rule.
    assert amounts == [1500.0, 12.5, 1234.0, 7.0] and bad == ["$100.00"]
    assert (
        "column 'amount': amounts read with a decimal comma and dots for thousands "
        "(1.234,50 = 1234.50); values written otherwise are bad rows" in notes
    )


def test_one_stray_decimal_comma_does_not_turn_the_column():
    amounts, bad, notes = read(["1,234", "2,500.00", "10.25", "12,5"])
    assert amounts == [1234.0, 2500.0, 10.25] and bad == ["12,5"]
    assert any("a decimal point and commas for thousands" in n for n in notes)


@pytest.mark.parametrize("text", ["12.5.3", "1.2.3,4", "3.14,15", "+-1", "1,.0", "--5", "(-5)", "1-2"])
def test_malformed_numbers_are_bad_rows(text):
    amounts, bad, _ = read(["10.00", "20.00", text])
    assert amounts == [10.0, 20.0] and bad == [text]


def test_a_plain_column_needs_no_rule_and_gets_no_note():
    assert read(["10.5", "3", "-2.25"]) == ([10.5, 3.0, -2.25], [], ("no order id found: each line is counted as one order",))


def test_the_rule_of_a_long_log_is_decided_on_the_whole_log(tmp_path):
    # Batches of 2: "1,250" in the first batch, the decimal commas only later; the
    # votes of all batches decide (3 to 1 for a decimal comma), as for the log read whole.
    path = tmp_path / "log.csv"
    lines = ["customer;date;amount", "a;2024-01-01;1,250", "a;2024-01-02;2", "b;2024-01-03;7,5", "b;2024-01-04;3,25", "c;2024-01-05;0,5"]
    path.write_text("\n".join(lines) + "\n")
    log = clean_transactions(scan_log(path, batch_rows=2))
    assert log.transactions["amount"].tolist() == [1.25, 2.0, 7.5, 3.25, 0.5]


def test_amounts_too_large_for_exact_sums_are_bad_rows():
    _, bad = parse_money(pd.Series([1e15, -1e15, 999_999_999_999_999.0, 1e28, np.inf]))
    assert bad.tolist() == [True, True, False, True, True]
    amounts, rejected, _ = read(["1e28", "5"])
    assert amounts == [5.0] and rejected == ["1e28"]
    assert f"below {MAX_AMOUNT:,.0f} in size" in MONEY_EXPECTED
