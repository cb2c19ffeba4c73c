from __future__ import annotations

from portplan.rules import markdown

print(markdown(), end="")
