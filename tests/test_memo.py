"""Fits remembered by the content of their inputs: the same value back, never a stale one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvxl._runtime import memo
from clvxl.errors import ModelError
from clvxl.models import bgnbd


def counting():
    calls = []

    @memo.remembered
    def fit(values, scale=1.0, unit="weeks"):
        calls.append(1)
        if np.asarray(values).sum() < 0:
            raise ModelError("no fit")
        return {"total": float(np.sum(values)) * scale, "unit": unit}

    return fit, calls


def test_the_same_content_in_another_array_is_the_same_fit():
    fit, calls = counting()
    first = fit(np.array([1.0, 2.0, 3.0]))
    assert fit(pd.Series([1.0, 2.0, 3.0])) is first and len(calls) == 1
    named = fit(np.array([1.0, 2.0, 3.0]), scale=1.0)  # given by name: another call
    assert named == first and named is not first and len(calls) == 2
    assert fit(pd.Series([1.0, 2.0, 3.0]), scale=1.0) is named and len(calls) == 2


def test_any_change_of_a_value_a_dtype_a_shape_or_an_option_fits_again():
    fit, calls = counting()
    base = fit(np.array([1.0, 2.0, 3.0]))
    assert fit(np.array([1.0, 2.0, 3.5]))["total"] == 6.5
    assert fit(np.array([1, 2, 3]))["total"] == 6.0  # int64, not float64
    assert fit(np.array([[1.0, 2.0, 3.0]]))["total"] == 6.0
    assert fit(np.array([1.0, 2.0, 3.0]), unit="days")["unit"] == "days"
    assert fit(np.array([1.0, 2.0, 3.0]), True)["total"] == 6.0  # True is not 1.0
    assert len(calls) == 6
    assert fit(np.array([1.0, 2.0, 3.0])) is base and len(calls) == 6


def test_what_cannot_be_compared_and_what_fails_is_fitted_every_time():
    fit, calls = counting()
    fit(np.array([1.0, 2.0], dtype=object))
    fit(np.array([1.0, 2.0], dtype=object))
    assert len(calls) == 2
    for _ in range(2):
        with pytest.raises(ModelError):
            fit(np.array([-1.0]))
    assert len(calls) == 4


def test_only_the_latest_fits_are_kept():
    fit, calls = counting()
    for k in range(memo.KEPT + 1):
        fit(np.array([float(k)]))
    fit(np.array([float(memo.KEPT)]))  # the latest: kept
    fit(np.array([0.0]))  # the oldest: let go of
    assert len(calls) == memo.KEPT + 2


def test_a_model_fitted_again_on_a_copy_is_the_same_value_and_read_only(cdnow_summary):
    x, t_x, big_t = (cdnow_summary[c].to_numpy(float) for c in ("x", "t_x", "T"))
    model = bgnbd.fit(x, t_x, big_t)
    assert bgnbd.fit(x.copy(), t_x.copy(), big_t.copy()) is model
    assert bgnbd.fit(x, t_x, big_t, standard_errors=False) is not model
    with pytest.raises(ValueError, match="read-only"):
        model.cov[0, 0] = 0.0
    memo.forget_all()
    refitted = bgnbd.fit(x, t_x, big_t)
    assert refitted is not model and refitted.params == model.params


@pytest.fixture(scope="module")
def cdnow_summary(reference_data):
    return pd.read_csv(reference_data / "cdnow_customers_summary_with_transactions.csv")
