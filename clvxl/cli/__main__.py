"""``python -m clvxl.cli``: the ``clvxl`` command."""

import sys

from clvxl.cli import main

sys.exit(main())
