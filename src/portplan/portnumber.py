"""One strict reading of a port number typed by a user: `47150`, nothing else.

`int()` accepts far more than a port: spaces (` 47150`), a sign (`+47150`), underscores
(`47_150`) and any Unicode digit (`４７１５０`). A command that
signals whatever holds a port must not guess which port was meant, so every command-line
port goes through `port_number`: ASCII digits (leading zeros change nothing), 1-65535.
"""

from __future__ import annotations

import math
import re
from typing import Final

_PORT: Final = re.compile(r"0*([1-9][0-9]{0,4})")  # leading zeros are still decimal
PORT_RULE: Final = "a port is a number 1-65535 written in the digits 0-9"
MAX_GRACE: Final = 3600.0


def port_number(text: str) -> int | None:
    """The port `text` spells, or None when it is not exactly a number 1-65535."""
    found = _PORT.fullmatch(text)
    if found is None:
        return None
    number = int(found.group(1))
    return number if number <= 65535 else None


def grace_seconds(value: float) -> float | None:
    """`value` when it is a usable grace period (finite, 0-3600 seconds), else None: `nan`
    compares false with every deadline and `inf` never ends, so neither would escalate."""
    if not math.isfinite(value) or not 0 <= value <= MAX_GRACE:
        return None
    return value
