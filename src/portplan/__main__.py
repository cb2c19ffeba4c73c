from __future__ import annotations

import sys

from portplan.cli import main

sys.exit(main())
