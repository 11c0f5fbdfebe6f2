"""clvxl: customer-lifetime-value analytics for finance teams.

Data flows one way: source → clean transactions → per-customer summary →
metrics and models → sheet. This package is the pure core; Excel
(``udfs.py``, ``clvxl_addin.py``) and the ``clvxl`` command are adapters.
"""

__version__ = "0.1.0"
