"""HAProxy configuration as observations: the ports HAProxy listens on and the servers it
balances to.

`haproxy.cfg`, `*.haproxy.cfg`, any `*.cfg` in a folder named `haproxy`, and by content a
`*.cfg`/`*.conf` whose head holds a `frontend`, `backend` or `listen` section with a
`bind`, `server` or `default_backend` line. Read, section by section:

- `bind` in `frontend`, `listen` and `log-forward` sections (and the address an old-style
  `listen NAME ADDR:PORT` header gives): `:80`, `*:443 ssl crt ...`, `0.0.0.0:8080`,
  `:::80`, `ipv6@:::80`, `:8000-8010`, `:80,:8080`: ports of the owner itself, on the
  container side (`quic4@`/`udp@` ones on udp; a unix socket, `fd@` or `abns@` listens on
  no port). An environment variable is expanded only inside double quotes, as HAProxy
  does: one in the address (`"${LISTEN_ADDR}:8080"`) leaves the port read; a port that is
  a variable (`"*:${PORT}"`, `"*:${PORT-8080}"`) states no number (what the environment sets
  is not written here), only that the owner reads the variable;
- `server NAME ADDR:PORT [options]` (and `server-template PREFIX N ADDR:PORT`) in `backend`
  and `listen` sections: a reference to the service `ADDR` names (`_config_refs`; a
  loopback or IP address, a server without a port, one holding a variable states nothing);
- `default_backend NAME` and `use_backend NAME [if ...]`: a name that is no `backend` or
  `listen` section of the file is a mismatch (HAProxy refuses to start); a dynamic name
  (`%[req.hdr(host)]`) states nothing.

The file belongs to the compose service that bind-mounts it (or its folder) or builds from
the folder holding it (`portplan.sources.homes`), else to "haproxy".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

from portplan.model import Exposure, Location
from portplan.sources._config_refs import address_reference
from portplan.sources.base import (
    CONTAINER,
    Mismatch,
    PortObservation,
    SourceResult,
    VariableObservation,
    read_text,
)

KIND: Final = "haproxy"
OWNER: Final = "haproxy"
_SECTIONS: Final = frozenset(
    {"global", "defaults", "frontend", "backend", "listen", "resolvers", "peers", "userlist",
     "cache", "program", "http-errors", "ring", "mailers", "log-forward", "traces",
     "crt-store", "fcgi-app"}
)  # fmt: skip
_LISTENING: Final = frozenset({"frontend", "listen", "log-forward"})
_SERVING: Final = frozenset({"backend", "listen"})
_WORD: Final = re.compile(r"(?:\"(?:[^\"\\]|\\.)*\"?|'[^']*'?|[^\s#\"'])+|#.*")
_VARIABLE: Final = re.compile(r"\$\{(?P<braced>\w+)(?:[:]?-[^}]*)?\}|\$(?P<bare>\w+)")
_BIND: Final = re.compile(r"^(?:(?P<family>[a-z0-9]+)@)?(?P<host>.*):(?P<port>[^:]*)$")
_PORTS: Final = re.compile(r"^(\d{1,5})(?:-(\d{1,5}))?$")
_NO_PORT_FAMILIES: Final = frozenset({"unix", "abns", "abnsz", "fd", "sockpair"})
_UDP_FAMILIES: Final = frozenset({"udp", "udp4", "udp6", "quic4", "quic6"})
_SERVER_FAMILY: Final = re.compile(r"^(?:ipv4|ipv6|tcp|tcp4|tcp6)@")


@dataclass(frozen=True)
class _Word:
    text: str  # as written, quotes included
    at: Location

    @property
    def bare(self) -> str:
        """The word without its quotes."""
        return self.text.replace('"', "").replace("'", "")


@dataclass(frozen=True)
class _Line:
    section: str  # the kind of section it is in (`frontend`, `backend`...), "" before any
    words: tuple[_Word, ...]
    text: str


@dataclass
class _Reading:
    path: str
    owner: str
    result: SourceResult
    seen: set[tuple[int, str]] = field(default_factory=set)


def read_haproxy(path: str) -> SourceResult:
    """The observations of the HAProxy configuration at `path`."""
    result = SourceResult(file=path, kind=KIND, owner=OWNER)
    text = read_text(path, result)
    if text is not None:
        parse_haproxy(text, path, OWNER, result)
    return result


def parse_haproxy(text: str, path: str, owner: str, result: SourceResult) -> None:
    """Add what the HAProxy configuration `text` says of `owner` to `result`."""
    lines = list(_lines(text, path))
    backends = {
        line.words[1].bare
        for line in lines
        if line.words[0].text in _SERVING and len(line.words) > 1
    }
    reading = _Reading(path, owner, result)
    for line in lines:
        keyword, section = line.words[0].text, line.section
        if keyword in _LISTENING and keyword == section:
            for word in line.words[2:]:
                _bind(word, reading)  # `listen web 0.0.0.0:80`: the old header form
        elif keyword == "bind" and section in _LISTENING and len(line.words) > 1:
            _bind(line.words[1], reading)
        elif keyword in ("server", "server-template") and section in _SERVING:
            _server(line, reading)
        elif keyword in ("default_backend", "use_backend") and len(line.words) > 1:
            _backend(line.words[0], line.words[1], backends, reading)


def _lines(text: str, path: str) -> Iterator[_Line]:
    """The configuration's lines (comments dropped), each with the section it is in."""
    section = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        words = tuple(
            _Word(found.group(), Location(path, number, found.start() + 1))
            for found in _WORD.finditer(raw)
            if not found.group().startswith("#")
        )
        if not words:
            continue
        if words[0].text in _SECTIONS:  # no directive shares a section's name
            section = words[0].text
        yield _Line(section, words, raw)


def _bind(word: _Word, reading: _Reading) -> None:
    """Each address of a `bind` word (a comma-separated list)."""
    offset = 0
    for item in word.text.split(","):
        _address(item, word.at, offset, reading)
        offset += len(item) + 1


def _address(item: str, at: Location, offset: int, reading: _Reading) -> None:
    found = _BIND.match(item.replace('"', "").replace("'", ""))
    if found is None or (found.group("family") or "") in _NO_PORT_FAMILIES:
        return
    port = found.group("port")
    variable = _VARIABLE.search(port) if '"' in item else None
    if variable is not None:
        name = variable.group("braced") or variable.group("bare")
        dollar = item.find("$", item.rfind(":"))
        where = Location(at.file, at.line, at.column + offset + dollar)
        reading.result.variables.append(
            VariableObservation(reading.owner, name, where, KIND, sets=False)
        )
        return
    ports = _PORTS.match(port)
    if ports is None:
        return
    first, last = int(ports.group(1)), int(ports.group(2) or ports.group(1))
    protocol = "udp" if found.group("family") in _UDP_FAMILIES else "tcp"
    if not 0 < first <= last <= 65535 or (first, protocol) in reading.seen:
        return
    reading.seen.add((first, protocol))
    host = found.group("host").strip("[]")
    column = at.column + offset + item.rfind(":") + 1  # the port's first digit
    reading.result.ports.append(
        PortObservation(
            reading.owner,
            first,
            Location(at.file, at.line, column),
            KIND,
            protocol=protocol,
            address=None if host in ("", "*") or "$" in host else host,
            published=False,
            target=first,
            exposure=Exposure.INTERNAL,
            range_end=last if last != first else None,
            side=CONTAINER,
        )
    )


def _server(line: _Line, reading: _Reading) -> None:
    """`server NAME ADDR ...`, `server-template PREFIX NUM ADDR ...`: ADDR is a reference."""
    index = 2 if line.words[0].text == "server" else 3
    if len(line.words) <= index:
        return
    word = line.words[index]
    if '"' in word.text and "$" in word.text:
        return  # a variable: what the environment sets is not written here
    family = _SERVER_FAMILY.match(word.bare)
    value = word.bare[family.end() :] if family else word.bare
    at = word.at
    if family:
        at = Location(at.file, at.line, at.column + family.end())
    found = address_reference(reading.owner, value, at, KIND, line=line.text)
    if found is not None:
        reading.result.ports.append(found)


def _backend(keyword: _Word, name: _Word, backends: set[str], reading: _Reading) -> None:
    """A backend a frontend sends to: one the file does not define is a mismatch."""
    wanted = name.bare
    if wanted in backends or "%[" in wanted or "$" in wanted or wanted in ("if", "unless"):
        return
    shown = ", ".join(sorted(backends)) or "none"
    message = (
        f"{keyword.text} {wanted} names no backend of this file (its backends: {shown}): "
        "HAProxy refuses to start"
    )
    reading.result.mismatches.append(Mismatch(reading.owner, name.at, KIND, message))
