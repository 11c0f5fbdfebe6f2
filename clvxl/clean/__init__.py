"""From a raw transaction log to clean transactions, or a report of every bad row.

:func:`clean_transactions` maps the columns by name (:mod:`~clvxl.clean.columns`), parses
every value (:mod:`~clvxl.clean.ids`, :mod:`~clvxl.clean.money`,
:mod:`~clvxl.clean.dates`) and reports what it could not read or noticed
(:mod:`~clvxl.clean.report`); :mod:`~clvxl.clean.log` runs it batch by batch.
"""

from clvxl.clean.columns import ALIASES, find_columns
from clvxl.clean.log import CleanLog, clean_transactions

__all__ = ["ALIASES", "CleanLog", "clean_transactions", "find_columns"]
