"""Dockerfiles as observations: the ports the image says its service listens on.

`EXPOSE 8080 9090/udp 8000-8010` states container ports of the service (unpublished, on the
container side: a compose `ports:` mapping or a Kubernetes Service publishes them);
`HEALTHCHECK CMD curl http://localhost:8080/health` states the port and path its health
check calls: a reference to the service's own container port (`localhost` inside the
container is the service). Variables are replaced as the
builder does: `$PORT`, `${PORT}`, `${PORT:-8080}`, `${PORT:+8080}` from the `ARG` defaults
(those before the first `FROM` too) and `ENV` values above; a word that stays unset states
nothing (the build may set it).

Only the image that is built counts: the last stage, with what it inherits from the stage
it starts `FROM`. Lines are joined at the escape character (`\\`, or the one an `# escape=`
directive names) and comment lines inside a joined line are dropped, as the builder does.

The observations name the file's owner: the folder's name until the compose file that
builds it says which service it is (`portplan.sources.homes`). A file that cannot be read is
one error, which quotes nothing of the file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final

from portplan.model import Exposure, Location
from portplan.sources.base import (
    CONTAINER,
    PortObservation,
    ServiceObservation,
    SourceResult,
    read_text,
)

KIND: Final = "dockerfile"
_NOT_DOCKERFILES: Final = (
    ".md",
    ".markdown",
    ".txt",
    ".yml",
    ".yaml",
    ".json",
    ".sh",
    ".py",
    ".dockerignore",
    ".bak",
)
_DIRECTIVE: Final = re.compile(r"^#\s*escape\s*=\s*(\S)\s*$", re.IGNORECASE)
_INSTRUCTION: Final = re.compile(r"^\s*([A-Za-z]+)(\s+|$)")
_VARIABLE: Final = re.compile(
    r"\$(?:\{(?P<name>\w+)(?::?(?P<op>[-+])(?P<word>[^}]*))?\}|(?P<bare>\w+))"
)
_EXPOSED: Final = re.compile(r"^(\d{1,5})(?:-(\d{1,5}))?(?:/(tcp|udp|sctp))?$", re.IGNORECASE)
_OWN_URL: Final = re.compile(
    r"\b(?:https?|grpc)://(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])"
    r"(?::(?P<port>\d{1,5}))?(?P<path>/[^\s'\",\]|;&]*)?"
)


def is_dockerfile_name(name: str) -> bool:
    """`Dockerfile`, `Dockerfile.prod`, `Dockerfile-for-app`, `api.Dockerfile`,
    `Containerfile` (any letter case)."""
    lower = name.lower()
    if lower.endswith(_NOT_DOCKERFILES):
        return False
    for stem in ("dockerfile", "containerfile"):
        if lower == stem or lower.startswith((stem + ".", stem + "-", stem + "_")):
            return True
        if lower.endswith("." + stem):
            return True
    return False


def folder_owner(path: str) -> str:
    """The service a file names until a compose file says better: its folder's name."""
    folder = os.path.dirname(os.path.abspath(path))
    return os.path.basename(folder) or folder


def read_dockerfile(path: str) -> SourceResult:
    """The observations of the Dockerfile at `path`."""
    owner = folder_owner(path)
    result = SourceResult(file=path, kind=KIND, owner=owner)
    text = read_text(path, result)
    if text is not None:
        parse_dockerfile(text, path, owner, result)
    return result


@dataclass
class _Stage:
    base: str
    name: str | None
    at: Location
    exposed: list[PortObservation] = field(default_factory=list)
    health: tuple[str | None, int | None, Location] | None = None


@dataclass
class _Line:
    """One instruction: its text (continuations joined) and where each piece starts."""

    text: str
    pieces: list[tuple[int, int, int]]  # (offset in text, line, column)

    def at(self, path: str, offset: int) -> Location:
        start, line, column = max(p for p in self.pieces if p[0] <= offset)
        return Location(path, line, column + offset - start)


def parse_dockerfile(text: str, path: str, owner: str, result: SourceResult) -> None:
    """Add what the Dockerfile `text` (at `path`) says of `owner` to `result`."""
    stages: list[_Stage] = []
    defaults: dict[str, str] = {}  # ARG before the first FROM
    values: dict[str, str] = {}
    for line in _instructions(text):
        found = _INSTRUCTION.match(line.text)
        if found is None:
            continue
        keyword, start = found.group(1).upper(), found.end()
        if keyword == "FROM":
            stages.append(_from(line, start, path, defaults))
            values = dict(defaults)
        elif keyword in ("ARG", "ENV"):
            _assign(line.text[start:], keyword, values, defaults if not stages else None)
        elif stages and keyword in _READERS:
            _READERS[keyword](stages[-1], line, start, path, values, owner)
    if not stages:
        return
    final = stages[-1]
    service, health = _service(owner, final, stages)
    result.services.append(service)
    result.ports.extend(_inherited(final, stages, "exposed"))
    if health is not None:
        result.ports.append(health)


def _instructions(text: str) -> Iterator[_Line]:
    """The instructions of a Dockerfile: continuation lines joined, comments dropped."""
    lines = text.splitlines()
    escape = "\\"
    for raw in lines[:5]:
        found = _DIRECTIVE.match(raw.strip())
        if found:
            escape = found.group(1)
    current: _Line | None = None
    for number, raw in enumerate(lines, start=1):
        stripped = raw.lstrip()
        if stripped.startswith("#") or (current is None and not stripped):
            continue
        indent = len(raw) - len(stripped)
        body = stripped.rstrip()
        continued = body.endswith(escape)
        body = body[: -len(escape)] if continued else body
        if current is None:
            current = _Line(body, [(0, number, indent + 1)])
        else:
            current.pieces.append((len(current.text) + 1, number, indent + 1))
            current.text += " " + body
        if not continued:
            yield current
            current = None
    if current is not None:
        yield current


def _from(line: _Line, start: int, path: str, values: Mapping[str, str]) -> _Stage:
    words = [w for w in line.text[start:].split() if not w.startswith("--")]
    base = _substitute(words[0], values) or words[0] if words else ""
    name = words[2].lower() if len(words) >= 3 and words[1].upper() == "AS" else None
    return _Stage(base.lower(), name, line.at(path, start))


def _assign(
    text: str, keyword: str, values: dict[str, str], defaults: dict[str, str] | None
) -> None:
    """`ARG NAME[=default]`, `ENV NAME=value ...` or `ENV NAME value`: set what they set (an
    `ARG` without a default takes the one of an `ARG` before the first `FROM`)."""
    words = text.split()
    if keyword == "ENV" and len(words) >= 2 and "=" not in words[0]:
        values[words[0]] = _substitute(" ".join(words[1:]), values) or ""
        return
    for word in words:
        name, sep, value = word.partition("=")
        if sep:
            value = _substitute(value.strip("\"'"), values) or ""
            values[name] = value
            if defaults is not None:
                defaults[name] = value


def _substitute(word: str, values: Mapping[str, str]) -> str | None:
    """`word` with its variables replaced; None when one is unset (and has no default)."""
    missing = False

    def value(found: re.Match[str]) -> str:
        nonlocal missing
        name = found.group("name") or found.group("bare")
        current = values.get(name)
        op, alternative = found.group("op"), found.group("word") or ""
        if op == "-":
            return current if current else alternative
        if op == "+":
            return alternative if current else ""
        if current is None:
            missing = True
            return ""
        return current

    replaced = _VARIABLE.sub(value, word)
    return None if missing else replaced


def _expose(
    stage: _Stage, line: _Line, start: int, path: str, values: Mapping[str, str], owner: str
) -> None:
    for found in re.finditer(r"\S+", line.text[start:]):
        word = _substitute(found.group(), values)
        parsed = _EXPOSED.match(word or "")
        if parsed is None:
            continue
        first, last = int(parsed.group(1)), int(parsed.group(2) or parsed.group(1))
        if not 0 < first <= last <= 65535:
            continue
        stage.exposed.append(
            PortObservation(
                owner,
                first,
                line.at(path, start + found.start()),
                KIND,
                protocol=(parsed.group(3) or "tcp").lower(),
                published=False,
                target=first,
                exposure=Exposure.INTERNAL,
                range_end=last if last != first else None,
                side=CONTAINER,
            )
        )


def _healthcheck(
    stage: _Stage, line: _Line, start: int, path: str, values: Mapping[str, str], owner: str
) -> None:
    rest = line.text[start:]
    if rest.split()[:1] == ["NONE"] or rest.split()[:1] == ["none"]:
        stage.health = (None, None, line.at(path, start))
        return
    text = _substitute(rest, values) or rest
    found = _OWN_URL.search(text)
    if found is None:
        stage.health = (None, None, line.at(path, start))
        return
    port = int(found.group("port")) if found.group("port") else None
    written = _OWN_URL.search(rest)  # the URL as written (its port may be a variable)
    offset = written.start() if written else 0
    if written and port is not None and written.group("port") == found.group("port"):
        offset = written.start("port")
    where = line.at(path, start + offset)
    stage.health = (found.group("path") or "/", port if port and port <= 65535 else None, where)


_READERS: Final[dict[str, Callable[[_Stage, _Line, int, str, Mapping[str, str], str], None]]] = {
    "EXPOSE": _expose,
    "HEALTHCHECK": _healthcheck,
}


def _chain(final: _Stage, stages: list[_Stage]) -> list[_Stage]:
    """The final stage and the stages it is built on (`FROM base AS final`), nearest first."""
    chain = [final]
    named = {stage.name: stage for stage in stages if stage.name}
    while chain[-1].base in named and named[chain[-1].base] not in chain:
        chain.append(named[chain[-1].base])
    return chain


def _inherited(final: _Stage, stages: list[_Stage], what: str) -> list[PortObservation]:
    found: list[PortObservation] = []
    for stage in reversed(_chain(final, stages)):
        found.extend(getattr(stage, what))
    return found


def _service(
    owner: str, final: _Stage, stages: list[_Stage]
) -> tuple[ServiceObservation, PortObservation | None]:
    """The service the image runs, with its health check, and the port that calls."""
    health = next((s.health for s in _chain(final, stages) if s.health is not None), None)
    path, port, where = health if health else (None, None, final.at)
    service = ServiceObservation(owner, final.at, KIND, health_path=path, health_port=port)
    if port is None:
        return service, None
    # `localhost` inside the container is the service itself: a reference to its own port.
    return service, PortObservation(
        owner, port, where, KIND, published=False, target=port, side=CONTAINER,
        reference=True, owner=owner, host="localhost",
    )  # fmt: skip
