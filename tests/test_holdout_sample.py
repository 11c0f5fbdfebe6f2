"""The model comparison on a hash sample of a long log's customers: the same choice as on
every customer, the same sample whatever the order of the log, and said in the note."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clvxl import holdout
from clvxl.clean import clean_transactions
from clvxl.models import REGISTRY
from clvxl.sources import demo_log
from clvxl.summary import EngineLog, summarize

_MASK = 2**64 - 1


def fnv1a_finalised(text: str) -> int:
    """The hash by its definition, one byte at a time (FNV-1a, MurmurHash3's fmix64)."""
    h = 0xCBF29CE484222325
    for byte in text.encode():
        h = ((h ^ byte) * 0x100000001B3) & _MASK
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & _MASK
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _MASK
    return h ^ (h >> 33)


@given(st.lists(st.text(max_size=12), max_size=30), st.integers(0, 5))
def test_id_hashes_are_fnv1a_finalised_of_each_id(ids, start):
    array = pa.array(ids, pa.string()).slice(min(start, len(ids)))  # an offset too
    assert holdout.id_hashes(array).tolist() == [fnv1a_finalised(t) for t in ids[start:]]


@pytest.fixture(scope="module")
def demo():
    """The demo log's clean transactions (1,178 customers) and its as-of date."""
    clean = clean_transactions(demo_log()).transactions
    log = EngineLog.from_transactions(clean)
    return clean, summarize(log).as_of


def test_the_sample_chooses_as_all_customers_do(demo):
    clean, as_of = demo
    log = EngineLog.from_transactions(clean)
    full = holdout.compare(log, as_of, "weeks")
    sampled = holdout.compare(log, as_of, "weeks", sample=1000)
    assert full.sample is None and sampled.sample == (1000, 1178)
    assert holdout.choose(full)[0] == holdout.choose(sampled)[0] == "paretonbd"
    # Fitted on fewer customers: other numbers, the same columns.
    assert list(sampled.table.columns) == list(full.table.columns)
    # Every demo customer's first purchase is in the calibration period (CDNOW's cohort).
    assert sampled.holdouts["paretonbd"]["customers"].iloc[-1] == 1000
    assert full.holdouts["paretonbd"]["customers"].iloc[-1] == 1178
    assert (sampled.table["calibration_loglik"] > full.table["calibration_loglik"]).all()


def test_the_sample_depends_on_the_ids_not_the_order_of_the_log(demo):
    clean, as_of = demo
    shuffled = clean.sample(frac=1.0, random_state=7).reset_index(drop=True)
    first, again, other_order = (
        holdout.compare(EngineLog.from_transactions(t), as_of, "weeks", sample=600)
        for t in (clean, clean, shuffled)
    )
    pd.testing.assert_frame_equal(first.table, again.table)
    pd.testing.assert_frame_equal(first.table, other_order.table)
    assert first.sample == other_order.sample == (600, 1178)


def test_the_note_says_the_choice_was_made_on_a_sample(demo):
    clean, as_of = demo
    comparison = holdout.compare(EngineLog.from_transactions(clean), as_of, "weeks", sample=1000)
    _, reason = holdout.choose(comparison)
    assert reason.startswith(
        "purchase model Pareto/NBD, chosen by the holdout check on a sample of 1,000 of "
        "1,178 customers: fitted on the first half of the log"
    )


@pytest.mark.parametrize("name", ["bgnbd", "mbgnbd", "paretonbd"])
def test_a_fit_without_standard_errors_has_the_same_parameters(demo, name):
    # The comparison's calibration fits show no standard errors and so skip them.
    fit = REGISTRY[name].module.fit
    table = summarize(EngineLog.from_transactions(demo[0])).table
    columns = (table[c] for c in ("frequency", "recency", "T"))
    x, t_x, big_t = (c.to_numpy(dtype=float) for c in columns)
    shown, unshown = fit(x, t_x, big_t), fit(x, t_x, big_t, standard_errors=False)
    assert unshown.params == shown.params and unshown.loglik == shown.loglik
    assert np.isfinite(list(shown.stderr.values())).all()
    assert np.isnan(list(unshown.stderr.values())).all() and np.isnan(unshown.cov).all()
