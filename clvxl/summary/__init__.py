"""Per-customer summary: one SQL text (:mod:`~clvxl.summary.sql`) run by embedded DuckDB
or by Spark (:mod:`~clvxl.summary.spark`) on the encoded clean log
(:mod:`~clvxl.summary.engine`).

The SQL texts and :data:`ENGINES` load at once; the engine (DuckDB, pandas, Arrow) loads
on first use of one of its names, so the command line can list the engines without it.
"""

from __future__ import annotations

import importlib

from clvxl.summary.sql import ENGINES, HOLDOUT_SQL, LINES_SQL, ORDERS_SQL, SUMMARY_SQL

_FROM_ENGINE = ("SUMMARY_COLUMNS", "CustomerSummary", "EngineLog", "calibration_holdout", "summarize")

__all__ = [
    "ENGINES",
    "HOLDOUT_SQL",
    "LINES_SQL",
    "ORDERS_SQL",
    "SUMMARY_SQL",
    *_FROM_ENGINE,
]


def __getattr__(name: str) -> object:
    if name in _FROM_ENGINE:
        return getattr(importlib.import_module("clvxl.summary.engine"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
