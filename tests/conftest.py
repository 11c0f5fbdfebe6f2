"""Shared fixtures: the reference data in ../shared/data (beside the repository)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data not found at {SHARED_DATA} (CI has it beside the repo)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def cdnow_sample(shared_data: Path) -> pd.DataFrame:
    """The 1/10 CDNOW sample of the papers as a raw log (customer id = sample id)."""
    return pd.read_csv(
        shared_data / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "amount"],
        dtype={"master_id": str, "customer_id": str, "date": str},
    )
