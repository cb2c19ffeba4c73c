"""What a program's code or application config says of the port it listens on.

A `Listen` is one statement: the port number (the default, or the literal it listens
on), the environment variable it is read from when there is one, and where it is
written. The readers of this package turn a file's text into `Listen`s; the package turns
them into port observations of the service the file belongs to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from portplan.model import Location
from portplan.sources.base import UNKNOWN

# The words besides PORT in a variable that name the program's own port (it listens on
# it), not a port of another service it connects to (`DB_PORT`, `REDIS_PORT`).
OWN_PORT_WORDS: Final = frozenset(
    {"APP", "SERVER", "SERVICE", "LISTEN", "LISTENING", "BIND", "CONTAINER", "LOCAL",
     "INTERNAL", "EXPOSED", "PUBLIC", "HTTP", "HTTPS", "GRPC", "WEB", "API", "METRICS",
     "ADMIN", "MANAGEMENT", "HEALTH", "FLASK", "RUN", "ASPNETCORE", "SPRING", "QUARKUS",
     "NODE", "DAPR", "WS", "WEBSOCKET", "REST", "PROMETHEUS", "DEBUG", "MAIN", "PUBLISH",
     "PUBLISHED", "TCP", "UDP", "H2C", "PROBE", "STATUS", "MONITORING", "EXPRESS", "UVICORN",
     "GUNICORN", "DJANGO", "NEXT", "VITE", "DEV", "FRONTEND", "BACKEND"}
)  # fmt: skip
_WORDS: Final = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


@dataclass(frozen=True, slots=True)
class Listen:
    """'the program listens on `number` (read from `variable` when set)', at `location`.

    `number` is None when the program reads the variable with no default (Heroku's `$PORT`).
    """

    number: int | None
    location: Location
    source: str  # the reader: python, go, node, rust, spring, aspnet, procfile, systemd...
    variable: str | None = None
    side: str = UNKNOWN
    name: str | None = None  # the port's name, when the file says (http, grpc, management)
    # A setting that reaches another service (`PurchaseUrl: http://localhost:5200`): a
    # reference to `target` at `host`, not a port the program listens on.
    target: str | None = None
    host: str | None = None


def is_own_port_variable(variable: str) -> bool:
    """Whether `variable` names the reading program's own port: `PORT`, `HTTP_PORT`,
    `APP_PORT`, `FLASK_RUN_PORT`, `serverPort`; not `DB_PORT` or `REDIS_PORT` (the port of
    a service it connects to)."""
    words = [word.upper() for word in _WORDS.findall(variable.replace("__", "_"))]
    if not words or words[-1] != "PORT":
        return False
    return all(word in OWN_PORT_WORDS for word in words[:-1])


def port_number(text: str) -> int | None:
    """The port `text` states (`8080`, `"8080"`, `:8080`, `0.0.0.0:8080`, `[::]:8080`,
    `http://+:8080`); None when it states none (0 is no port: the system chooses one)."""
    match = _PORT_TAIL.search(text.strip().strip("\"'"))
    if match is None:
        return None
    number = int(match.group(1))
    return number if 0 < number < 65536 else None


_PORT_TAIL: Final = re.compile(r"(?:^|:)(\d{1,5})/?$")


class Lines:
    """Line and column of offsets in a text (1-based, columns count characters)."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self._starts: list[int] | None = None

    def at(self, offset: int) -> Location:
        if self._starts is None:
            self._starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
        import bisect

        index = bisect.bisect_right(self._starts, offset) - 1
        return Location(self.path, index + 1, offset - self._starts[index] + 1)


_LINE_COMMENT: Final = re.compile(r"^[ \t]*//[^\n]*", re.MULTILINE)
_BLOCK_COMMENT: Final = re.compile(r"/\*.*?\*/", re.DOTALL)


def without_comments(text: str) -> str:
    """`text` with `//` comment lines and `/* */` comments blanked (same length, same
    lines), so that what a reader finds in it has the offsets of the original: a port in a
    commented-out line states nothing."""

    def blank(match: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", match.group(0))

    if "/*" in text:
        text = _BLOCK_COMMENT.sub(blank, text)
    return _LINE_COMMENT.sub(blank, text)


_ADDRESS_WORDS: Final = frozenset({"ADDR", "ADDRESS", "LISTEN", "BIND", "URLS"})


def is_own_address_variable(variable: str) -> bool:
    """Whether `variable` names the address the program listens on: `ADDR`, `HTTP_ADDR`,
    `LISTEN_ADDRESS`, `BIND`; not `DB_ADDR` (another service's)."""
    words = [word.upper() for word in _WORDS.findall(variable.replace("__", "_"))]
    if not words or words[-1] not in _ADDRESS_WORDS:
        return False
    return all(word in OWN_PORT_WORDS for word in words[:-1])


def is_own_variable(variable: str) -> bool:
    """A variable that carries the program's own port or listening address."""
    return is_own_port_variable(variable) or is_own_address_variable(variable)
