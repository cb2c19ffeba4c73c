"""Dockerfiles as observations: the ports the image says its service listens on.

`EXPOSE 8080 9090/udp 8000-8010` states container ports of the service (unpublished, on the
container side: a compose `ports:` mapping or a Kubernetes Service publishes them);
`HEALTHCHECK CMD curl http://localhost:8080/health` states the port and path its health
check calls: a reference to the service's own container port (`localhost` inside the
container is the service). Variables are replaced as the
builder does: `$PORT`, `${PORT}`, `${PORT:-8080}`, `${PORT:+8080}` from the `ARG` defaults
(those before the first `FROM` too) and `ENV` values above; a word that stays unset states
nothing (the build may set it).

Only the image that is built counts: the stage compose's `build: {target:}` names, else the
last, with what it inherits from the stages it is built `FROM` (`FROM base AS runtime`:
their `EXPOSE`, `HEALTHCHECK` and `ENV`); a stage it only copies from (`COPY --from=build`)
says nothing. Lines are joined at the escape character (`\\`, or the one an `# escape=`
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
    at_offset,
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


def read_dockerfile(path: str, target: str | None = None) -> SourceResult:
    """The observations of the Dockerfile at `path`, of the stage `target` (compose
    `build: {target:}`; by default the last)."""
    owner = folder_owner(path)
    result = SourceResult(file=path, kind=KIND, owner=owner)
    text = read_text(path, result)
    if text is not None:
        parse_dockerfile(text, path, owner, result, target)
    return result


@dataclass
class Line:
    """One instruction: its text (continuations joined) and where each piece starts."""

    text: str
    pieces: list[tuple[int, int, int]]  # (offset in text, line, column)

    def at(self, path: str, offset: int) -> Location:
        start, line, column = max(p for p in self.pieces if p[0] <= offset)
        return Location(path, line, column + offset - start)


@dataclass(frozen=True)
class Instruction:
    """`keyword` (upper case) and its arguments, `line.text[start:]`."""

    keyword: str
    line: Line
    start: int
    values: Mapping[str, str]  # the ARG and ENV values in effect there

    @property
    def arguments(self) -> str:
        return self.line.text[self.start :]


@dataclass
class Stage:
    """A build stage: `FROM base [AS name]` and its instructions; `env` holds the `ENV`
    values it has at its end, those of the stage it is built on included."""

    base: str
    name: str | None
    at: Location
    instructions: list[Instruction] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    exposed: list[PortObservation] = field(default_factory=list)
    health: tuple[str | None, int | None, Location] | None = None
    health_command: str | None = None  # a HEALTHCHECK that calls no URL itself


def stages(text: str, path: str) -> list[Stage]:
    """The stages of the Dockerfile `text`, each instruction with the `ARG` and `ENV`
    values in effect there (see the module)."""
    found: list[Stage] = []
    defaults: dict[str, str] = {}  # ARG before the first FROM
    values: dict[str, str] = {}
    for line in _instructions(text):
        match = _INSTRUCTION.match(line.text)
        if match is None:
            continue
        keyword, start = match.group(1).upper(), match.end()
        if keyword == "FROM":
            found.append(_from(line, start, path, defaults, found))
            values = {**defaults, **found[-1].env}
            continue
        if keyword in ("ARG", "ENV"):
            env = found[-1].env if found and keyword == "ENV" else None
            _assign(line.text[start:], keyword, values, defaults if not found else None, env)
        if found:
            found[-1].instructions.append(Instruction(keyword, line, start, dict(values)))
    return found


def copied(path: str, target: str | None = None) -> list[str]:
    """The files the image of stage `target` (by default the last), and the stages it is
    built on, `COPY` or `ADD` as their sources are written (`nginx.conf`, the path of a
    `--from` stage: `/usr/src/app/packages/web/web.Caddyfile`); [] when `path` cannot be
    read. Flags, URLs and the JSON form's brackets are left out."""
    text = read_text(path, SourceResult(file=path, kind=KIND))
    if text is None:
        return []
    found: list[str] = []
    for stage in built(stages(text, path), target):
        for instruction in stage.instructions:
            if instruction.keyword in ("COPY", "ADD"):
                words = _COPY_WORD.findall(instruction.arguments)
                sources = [w for w in words[:-1] if not w.startswith("--") and "://" not in w]
                found.extend(sources)
    return found


_COPY_WORD: Final = re.compile(r"[^\s\[\],\"']+")


def built(found: list[Stage], target: str | None = None) -> list[Stage]:
    """The stage that is built (`target`, else the last) and the stages it is built on
    (`FROM build AS final`), nearest first; [] when no stage is `target`."""
    named = {stage.name: stage for stage in found if stage.name}
    if target is not None:
        chain = [named[target.lower()]] if target.lower() in named else []
    else:
        chain = found[-1:]
    while chain and chain[-1].base in named and named[chain[-1].base] not in chain:
        chain.append(named[chain[-1].base])
    return chain


def parse_dockerfile(
    text: str, path: str, owner: str, result: SourceResult, target: str | None = None
) -> None:
    """Add what the Dockerfile `text` (at `path`) says of `owner` to `result`: what the
    image of stage `target` (by default the last) says."""
    chain = built(stages(text, path), target)
    if not chain:
        return
    for stage in chain:
        _read_stage(stage, path, owner)
    result.all_in_one = any(
        instruction.keyword in _SUPERVISING and _SUPERVISOR.search(instruction.arguments)
        for stage in chain
        for instruction in stage.instructions
    )
    service, health = _service(owner, chain, path)
    result.services.append(service)
    for stage in reversed(chain):
        result.ports.extend(stage.exposed)
    if health is not None:
        result.ports.append(health)


# An image that runs its programs under a process supervisor installs, copies or starts it.
_SUPERVISOR: Final = re.compile(r"\bsupervisor(?:d|ctl)?\b|\bs6-overlay\b", re.IGNORECASE)
_SUPERVISING: Final = frozenset({"RUN", "COPY", "ADD", "CMD", "ENTRYPOINT"})


def _read_stage(stage: Stage, path: str, owner: str) -> None:
    for instruction in stage.instructions:
        if instruction.keyword in _READERS:
            _READERS[instruction.keyword](stage, instruction, path, owner)


def _instructions(text: str) -> Iterator[Line]:
    """The instructions of a Dockerfile: continuation lines joined, comments dropped."""
    lines = text.splitlines()
    escape = "\\"
    for raw in lines[:5]:
        found = _DIRECTIVE.match(raw.strip())
        if found:
            escape = found.group(1)
    current: Line | None = None
    for number, raw in enumerate(lines, start=1):
        stripped = raw.lstrip()
        if stripped.startswith("#") or (current is None and not stripped):
            continue
        indent = len(raw) - len(stripped)
        body = stripped.rstrip()
        continued = body.endswith(escape)
        body = body[: -len(escape)] if continued else body
        if current is None:
            current = Line(body, [(0, number, indent + 1)])
        else:
            current.pieces.append((len(current.text) + 1, number, indent + 1))
            current.text += " " + body
        if not continued:
            yield current
            current = None
    if current is not None:
        yield current


def _from(
    line: Line, start: int, path: str, values: Mapping[str, str], found: list[Stage]
) -> Stage:
    """The stage `FROM [--platform=...] base [AS name]` starts; built on a named stage, it
    has that stage's `ENV`."""
    words = [w for w in line.text[start:].split() if not w.startswith("--")]
    base = _substitute(words[0], values) or words[0] if words else ""
    name = words[2].lower() if len(words) >= 3 and words[1].upper() == "AS" else None
    on = next((s for s in reversed(found) if s.name and s.name == base.lower()), None)
    env = dict(on.env) if on is not None else {}
    return Stage(base.lower(), name, line.at(path, start), env=env)


def _assign(
    text: str,
    keyword: str,
    values: dict[str, str],
    defaults: dict[str, str] | None,
    env: dict[str, str] | None,
) -> None:
    """`ARG NAME[=default]`, `ENV NAME=value ...` or `ENV NAME value`: set what they set in
    `values` (and in `defaults` before the first FROM, in the stage's `env` for `ENV`); an
    `ARG` without a default takes the one of an `ARG` before the first `FROM`."""
    words = text.split()
    if keyword == "ENV" and len(words) >= 2 and "=" not in words[0]:
        values[words[0]] = _substitute(" ".join(words[1:]), values) or ""
        if env is not None:
            env[words[0]] = values[words[0]]
        return
    for word in words:
        name, sep, value = word.partition("=")
        if sep:
            value = _substitute(value.strip("\"'"), values) or ""
            values[name] = value
            for table in (defaults, env):
                if table is not None:
                    table[name] = value


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


def _expose(stage: Stage, instruction: Instruction, path: str, owner: str) -> None:
    line, start = instruction.line, instruction.start
    for found in re.finditer(r"\S+", instruction.arguments):
        word = _substitute(found.group(), instruction.values)
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


def _healthcheck(stage: Stage, instruction: Instruction, path: str, owner: str) -> None:
    line, start, rest = instruction.line, instruction.start, instruction.arguments
    if rest.split()[:1] == ["NONE"] or rest.split()[:1] == ["none"]:
        stage.health = (None, None, line.at(path, start))
        return
    text = _substitute(rest, instruction.values) or rest
    found = _OWN_URL.search(text)
    if found is None:
        stage.health = (None, None, line.at(path, start))
        stage.health_command = text
        return
    port = int(found.group("port")) if found.group("port") else None
    written = _OWN_URL.search(rest)  # the URL as written (its port may be a variable)
    offset = written.start() if written else 0
    if written and port is not None and written.group("port") == found.group("port"):
        offset = written.start("port")
    where = line.at(path, start + offset)
    stage.health = (found.group("path") or "/", port if port and port <= 65535 else None, where)


_READERS: Final[dict[str, Callable[[Stage, Instruction, str, str], None]]] = {
    "EXPOSE": _expose,
    "HEALTHCHECK": _healthcheck,
}


def _service(
    owner: str, chain: list[Stage], dockerfile: str
) -> tuple[ServiceObservation, PortObservation | None]:
    """The service the image runs, with its health check, and the port that calls."""
    final = chain[0]
    checking = next((s for s in chain if s.health is not None), None)
    health = checking.health if checking else None
    if checking is not None and checking.health_command is not None:
        health = _script_health(checking.health_command, chain, dockerfile) or health
    path, port, where = health if health else (None, None, final.at)
    service = ServiceObservation(owner, final.at, KIND, health_path=path, health_port=port)
    if port is None:
        return service, None
    # `localhost` inside the container is the service itself: a reference to its own port.
    return service, PortObservation(
        owner, port, where, KIND, published=False, target=port, side=CONTAINER,
        reference=True, owner=owner, host="localhost",
    )  # fmt: skip


# --- the script a HEALTHCHECK runs ------------------------------------------------------


def _script_health(
    command: str, chain: list[Stage], path: str
) -> tuple[str | None, int | None, Location] | None:
    """The health check of a script the HEALTHCHECK runs (`CMD /bin/sh /healthcheck.sh`)
    that the image copies from its build context (`COPY healthcheck.sh /`): the first URL
    to the container itself in it (`http://localhost:80/ping`), located in the script."""
    installed = _installed(chain)
    for word in _COPY_WORD.findall(command):
        source = installed.get(word) or installed.get(os.path.basename(word))
        if source is None:
            continue
        script = os.path.join(os.path.dirname(path), source)
        text = read_text(script, SourceResult(file=script, kind=KIND))
        found = _OWN_URL.search(text or "")
        if text is None or found is None or found.group("port") is None:
            continue
        port, where = int(found.group("port")), at_offset(script, text, found.start("port"))
        return found.group("path") or "/", port if port <= 65535 else None, where
    return None


def _in_context(source: str) -> bool:
    """Whether a `COPY` source is one file of the build context as written: not a URL, a
    pattern, nor a path outside the context (absolute, or up through `..`), which the
    builder refuses and which is not read."""
    if "://" in source or any(c in source for c in "*?[") or os.path.isabs(source):
        return False
    return ".." not in source.replace("\\", "/").split("/")


def _installed(chain: list[Stage]) -> dict[str, str]:
    """The files the image copies from its build context, by where they are installed
    (`/healthcheck.sh`) and by their name: the source as written (`healthcheck.sh`)."""
    found: dict[str, str] = {}
    for stage in chain:
        for instruction in stage.instructions:
            if instruction.keyword not in ("COPY", "ADD"):
                continue
            words = _COPY_WORD.findall(instruction.arguments)
            if any(w.startswith("--from") for w in words):
                continue  # from another stage or image, not the build context
            words = [w for w in words if not w.startswith("--")]
            sources, destination = words[:-1], words[-1] if words else ""
            for source in sources:
                if not _in_context(source):
                    continue
                name = os.path.basename(source)
                into = destination.endswith("/") or len(sources) > 1
                found.setdefault(os.path.join(destination, name) if into else destination, source)
                found.setdefault(name, source)
    return found
