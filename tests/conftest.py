"""Shared fixtures: the reference data in tests/data (see its README for provenance)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from clvxl._runtime.memo import forget_all

DATA = Path(__file__).resolve().parent / "data"
#: The data folder holds fixture generators, not tests.
collect_ignore_glob = ["data/*"]


@pytest.fixture(autouse=True)
def fits_fitted_afresh():
    """Every test fits its models itself: one that counts a fit's steps sees them all."""
    forget_all()


@pytest.fixture(scope="session")
def reference_data() -> Path:
    """The folder of reference data (published examples, with their attribution)."""
    return DATA


@pytest.fixture(scope="session")
def cdnow_sample(reference_data: Path) -> pd.DataFrame:
    """The 1/10 CDNOW sample of the papers as a raw log (customer id = sample id)."""
    return pd.read_csv(
        reference_data / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "amount"],
        dtype={"master_id": str, "customer_id": str, "date": str},
    )
