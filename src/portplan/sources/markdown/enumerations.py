"""Enumerations that pair names with ports: "The nginx, msql and apache containers expose
ports 80, 8000 and 3306 respectively" states nginx 80, msql 8000 and apache 3306. Only a
sentence that says "respectively" and lists as many names as ports pairs them."""

from __future__ import annotations

import re
from typing import Final

from portplan.model import Location
from portplan.sources.base import PortObservation, SourceResult

SOURCE = "prose"
_LIST: Final = r"{item}(?:\s*,\s*{item})*\s*,?\s+(?:and|&)\s+{item}"
_NAME: Final = r"`?[A-Za-z][\w.-]*`?"
_NUMBER: Final = r"`?\d{1,5}`?"
_ENUMERATION: Final = re.compile(
    r"(?:\bthe\s+)?(?P<names>" + _LIST.format(item=_NAME) + r")"
    r"(?:\s+(?:containers?|services?|servers?|apps?))?"
    r"\s+(?:expose|exposes|use|uses|listen\s+on|listens\s+on|run\s+on|runs\s+on|are\s+on|"
    r"publish|publishes|bind|bind\s+to)"
    r"\s+(?:the\s+)?(?:host\s+)?ports?\s+(?P<ports>" + _LIST.format(item=_NUMBER) + r")"
    r"\s*,?\s+respectively\b",
    re.IGNORECASE,
)
_ITEM: Final = re.compile(r"[A-Za-z][\w.-]*|\d+")
MAX_PORT: Final = 65535


def enumerations(result: SourceResult, lines: list[str]) -> None:
    """Add the name-port pairs of every "..., respectively" sentence of `lines`."""
    for number, line in enumerate(lines, start=1):
        for found in _ENUMERATION.finditer(line):
            names = _items(found.group("names"), found.start("names"), words=True)
            ports = _items(found.group("ports"), found.start("ports"), words=False)
            if len(names) != len(ports):
                continue
            for (name, _), (port, at) in zip(names, ports, strict=True):
                value = int(port)
                if 1 <= value <= MAX_PORT:
                    location = Location(result.file, number, at + 1)
                    result.ports.append(PortObservation(name, value, location, SOURCE))


def _items(text: str, offset: int, *, words: bool) -> list[tuple[str, int]]:
    found = [(m.group(), offset + m.start()) for m in _ITEM.finditer(text)]
    return [
        (item, at)
        for item, at in found
        if item.lower() not in ("and",) and (not item.isdigit() if words else item.isdigit())
    ]
