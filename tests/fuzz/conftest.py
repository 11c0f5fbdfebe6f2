"""The fuzz tests import the fuzzer's modules from this folder and register their marker."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "fuzz: the seeded fuzz run and the known-defect reproducers (tests/fuzz)"
    )
