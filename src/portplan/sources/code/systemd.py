"""A systemd unit: a `.service`'s `ExecStart=` command (its port flags, as
`commands.command_ports` reads them) and a
`.socket`'s `ListenStream=` / `ListenDatagram=` (`8080`, `0.0.0.0:8080`, `[::]:8080`)."""

from __future__ import annotations

import re
from typing import Final

from portplan.sources.base import at_offset
from portplan.sources.code.base import Listen, port_number
from portplan.sources.code.commands import command_ports

SOURCE: Final = "systemd"
_SETTING: Final = re.compile(
    r"^[ \t]*(?P<key>ExecStart|ListenStream|ListenDatagram)[ \t]*=[ \t]*(?P<value>[^\n]*)$",
    re.M,
)


def read(path: str, text: str) -> list[Listen]:
    """The ports a systemd unit listens on."""
    found: list[Listen] = []
    for match in _SETTING.finditer(text):
        at = at_offset(path, text, match.start("value"))
        value = match.group("value").strip()
        if match.group("key") == "ExecStart":
            found.extend(command_ports(value.lstrip("-@+!:"), at, SOURCE))
            continue
        number = port_number(value)
        if number is not None and "/" not in value:  # not a socket file's path
            protocol = "udp" if match.group("key") == "ListenDatagram" else None
            found.append(Listen(number, at, SOURCE, name=protocol))
    return found
