"""`python -m etl`."""

from __future__ import annotations

import sys

from etl.cli import main

sys.exit(main())
