"""`portplan --help` without click: the group's help as click last wrote it, while it holds.

Importing click and every command module (for their one-line help) is most of what
`portplan --help` costs. `portplan/data/help.txt` keeps the text click printed, under a
fingerprint of what it was made from (the version and every module of `portplan.cli`,
byte for byte): the console script prints it when the fingerprint still matches and the
terminal is as wide as the text was made for; otherwise click makes the help as always.
`python -m portplan.cli._help_cache` writes it again (tests/test_startup.py compares both).

Imports nothing of portplan, nor anything the interpreter has not loaded already.
"""

from __future__ import annotations

import os
import sys
import zlib

_HERE = os.path.dirname(__file__)
HELP_FILE = os.path.join(_HERE, "data", "help.txt")
WIDTH = 78  # click's width for a terminal of 80 columns or more (or none)
_CLI = os.path.join(_HERE, "cli")


def fingerprint() -> str:
    """A checksum of everything the group's help is made from."""
    sources = [os.path.join(_HERE, "__init__.py")]
    sources += sorted(os.path.join(_CLI, name) for name in os.listdir(_CLI) if name.endswith(".py"))
    checksum = 0
    for path in sources:
        with open(path, "rb") as handle:
            checksum = zlib.crc32(
                handle.read(), zlib.crc32(os.path.basename(path).encode(), checksum)
            )
    return f"{checksum:08x} {WIDTH}"


def cached_help() -> str | None:
    """The group's help as click would print it now, or None when that is not certain."""
    if _terminal_columns() < WIDTH + 2:
        return None
    try:
        with open(HELP_FILE, encoding="utf-8") as handle:
            first, _, text = handle.read().partition("\n")
        current = fingerprint()
    except OSError:
        return None
    return text if first == current else None


def _terminal_columns() -> int:
    """shutil.get_terminal_size().columns (whose import costs more than this command)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
        columns = columns or 80
    return columns
