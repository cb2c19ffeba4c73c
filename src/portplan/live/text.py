"""Text from the machine (command lines, process names) made safe to print on a terminal."""

from __future__ import annotations


def printable(text: str) -> str:
    """Control characters (a newline in a `python -c` script) shown escaped, one line."""
    return text.translate(_CONTROL) if not text.isprintable() else text


_CONTROL = {code: f"\\x{code:02x}" for code in range(32)} | {9: "\\t", 10: "\\n", 13: "\\r"}
