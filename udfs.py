"""The module xlwings imports for clvxl's Excel functions (UDF Modules = ``udfs``).

The functions live in :mod:`clvxl.excel.udfs`; this shim only puts them where xlwings
looks for them.
"""

from clvxl.excel.udfs import *  # noqa: F403
from clvxl.excel.udfs import __all__  # noqa: F401
