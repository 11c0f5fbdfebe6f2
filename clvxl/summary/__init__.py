"""Per-customer summary: one SQL text (:mod:`~clvxl.summary.sql`) run by embedded DuckDB
or by Spark (:mod:`~clvxl.summary.spark`) on the encoded clean log
(:mod:`~clvxl.summary.engine`)."""

from clvxl.summary.engine import (
    ENGINES,
    SUMMARY_COLUMNS,
    CustomerSummary,
    EngineLog,
    calibration_holdout,
    summarize,
)
from clvxl.summary.sql import HOLDOUT_SQL, LINES_SQL, ORDERS_SQL, SUMMARY_SQL

__all__ = [
    "ENGINES",
    "HOLDOUT_SQL",
    "LINES_SQL",
    "ORDERS_SQL",
    "SUMMARY_COLUMNS",
    "SUMMARY_SQL",
    "CustomerSummary",
    "EngineLog",
    "calibration_holdout",
    "summarize",
]
