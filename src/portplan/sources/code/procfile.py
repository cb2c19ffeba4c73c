"""A `Procfile` (Heroku, Foreman, honcho): each `name: command` line runs a process; a
server's port flags and defaults are read by `commands.command_ports` (`--port $PORT`:
the variable the platform sets, with no default)."""

from __future__ import annotations

import re
from typing import Final

from portplan.model import Location
from portplan.sources.code.base import Listen
from portplan.sources.code.commands import command_ports

SOURCE: Final = "procfile"
_PROCESS: Final = re.compile(r"^(?P<name>[\w-]+)[ \t]*:[ \t]*(?P<command>\S[^\n]*)$", re.M)


def read(path: str, text: str) -> list[Listen]:
    """The ports the processes of a Procfile listen on."""
    found: list[Listen] = []
    for match in _PROCESS.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        column = match.start("command") - match.start() + 1
        at = Location(path, line, column)
        found.extend(command_ports(match.group("command"), at, SOURCE))
    return found
