"""One `ports` entry of a compose file as written: its parts, and the entry with new parts.

The short syntax `[IP:][PUBLISHED:]TARGET[/PROTOCOL]` is split where compose splits it, but
without interpolating: `${WEB_PORT:-8080}:80` is the published part `${WEB_PORT:-8080}` and
the target `80`, `[::1]:3000:3000` the address `[::1]`. A part that is one reference keeps
its variable and operator when it is rewritten (`${WEB_PORT:-8088}`).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, replace
from typing import Final

from portplan.compose.errors import ComposeSyntaxError
from portplan.compose.interpolate import Reference, tokenize

_NUMBER: Final = re.compile(r"[0-9]{1,5}")
_RANGE: Final = re.compile(r"([0-9]{1,5})-([0-9]{1,5})")
_DEFAULTS: Final = (":-", "-")


@dataclass(frozen=True, slots=True)
class Entry:
    """The parts of a short-syntax entry, as written (None: the part is absent)."""

    address: str | None
    published: str | None
    target: str
    protocol: str | None  # the `/udp` suffix as written, without the slash

    def text(self) -> str:
        head = "".join(f"{part}:" for part in (self.address, self.published) if part is not None)
        suffix = f"/{self.protocol}" if self.protocol is not None else ""
        return f"{head}{self.target}{suffix}"

    def with_parts(self, address: str | None, published: str | None, target: str) -> Entry:
        return replace(self, address=address, published=published, target=target)


def split(raw: str) -> Entry | None:
    """The parts of a short-syntax entry; None when it is not one (or a part is unreadable)."""
    parts = _split_colons(raw)
    if parts is None or len(parts) > 3 or not parts[-1]:
        return None
    target, _, protocol = parts[-1].partition("/")
    entry = Entry(
        address=parts[0] if len(parts) == 3 else None,
        published=parts[-2] if len(parts) >= 2 else None,
        target=target,
        protocol=protocol if "/" in parts[-1] else None,
    )
    return entry if span(entry.target) is not None else None


def _split_colons(raw: str) -> list[str] | None:
    """`raw` split at the colons outside `${...}` and `[...]`; an unbracketed IPv6 address
    (`::1:3000:3000`) stays whole, as compose takes all but the last two parts."""
    parts: list[str] = []
    depth = 0
    start = 0
    bracket = False
    for index, char in enumerate(raw):
        if char == "{" and raw[index - 1 : index] == "$":
            depth += 1
        elif char == "}" and depth:
            depth -= 1
        elif char == "[" and not depth:
            bracket = True
        elif char == "]" and not depth:
            bracket = False
        elif char == ":" and not depth and not bracket:
            parts.append(raw[start:index])
            start = index + 1
    if depth or bracket:
        return None
    parts.append(raw[start:])
    if len(parts) > 3:
        parts = [":".join(parts[:-2]), parts[-2], parts[-1]]
    return parts


def span(text: str | None) -> tuple[int, int] | None:
    """The ports a number, range or reference with a numeric default stands for."""
    if text is None:
        return None
    found = reference(text)
    if found is not None:
        text = found.argument if found.operator in _DEFAULTS else ""
    if _NUMBER.fullmatch(text):
        return int(text), int(text)
    match = _RANGE.fullmatch(text)
    return (int(match.group(1)), int(match.group(2))) if match else None


def reference(text: str) -> Reference | None:
    """The reference `text` is made of, alone (`${WEB_PORT:-8080}`, `$WEB_PORT`), or None."""
    if "$" not in text:
        return None
    try:
        tokens = tokenize(text)
    except ComposeSyntaxError:
        return None
    token = tokens[0] if len(tokens) == 1 else None
    return token if isinstance(token, Reference) and token.raw == text else None


def published(current: str | None, number: int, variable: str | None) -> str:
    """The published part for `number`: a reference keeps its form and gets the number as
    its default (`${WEB_PORT:-8088}`); one without a default (`${WEB_PORT}`) is kept. A
    reference to another variable than the port's declared `variable` names that one."""
    found = reference(current) if current is not None else None
    if found is None:
        return str(number)
    if variable is not None and found.name != variable:
        return f"${{{variable}:-{number}}}"
    if found.operator in _DEFAULTS:
        return f"${{{found.name}{found.operator}{number}}}"
    return found.raw


def address_of(text: str | None) -> str | None:
    """The IP address an address part names (brackets removed), or None for a reference
    or anything else that is not an address."""
    if text is None:
        return None
    bare = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    try:
        return str(ipaddress.ip_address(bare))
    except ValueError:
        return None


def address_part(address: str | None) -> str | None:
    """How an address is written in a short-syntax entry: IPv6 in brackets."""
    if address is None:
        return None
    return f"[{address}]" if ":" in address else address
