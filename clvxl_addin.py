"""The module the CLV ribbon add-in runs (``import clvxl_addin; clvxl_addin.main()``).

xlwings names the module after the add-in file, ``clvxl_addin.xlam``; the button's code
lives in :mod:`clvxl.excel.addin`.
"""

from clvxl.excel.addin import XlwingsBook, main

__all__ = ["XlwingsBook", "main"]
