from __future__ import annotations

import sys

from portplan._entry import main

sys.exit(main())
