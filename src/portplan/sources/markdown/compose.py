"""Compose files and fragments in fenced code blocks.

A block may be a whole file (`services:`), a fragment of service keys (`audit-trail:` with
`ports:`/`networks:` under it), an un-indented fragment whose keys follow a bare service
key, or `ports:` alone under a heading that names the service. A block that is not one
YAML document is read one top-level chunk at a time, and chunks that are not YAML are left
to the line readers. Ports are read as compose reads them (portplan.compose.ports) and
observed as a compose file's are (`portplan.sources.compose.mapped_port`): `"80"`, `":80"`,
`"0:80"` and long syntax without `published` are published on a random host port (public
on all interfaces, no host number); `expose` is unpublished and internal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Final

from portplan.compose.errors import PortSyntaxError
from portplan.compose.ports import PortConfig, number_offset, parse_ports
from portplan.model import Exposure, Location
from portplan.sources.base import PortObservation, ServiceObservation, SourceError
from portplan.sources.markdown.blocks import Fence
from portplan.sources.markdown.context import Collector
from portplan.sources.markdown.env import Assignment, record
from portplan.sources.markdown.text import app_protocol_name
from portplan.yamlio import load as yamlload
from portplan.yamlio.load import Mark, YMap, YSeq

SOURCE = "markdown-code"
SIGNAL_KEYS: Final = frozenset(
    {"ports", "expose", "networks", "environment", "depends_on", "image", "build"}
)


@dataclass(frozen=True, slots=True)
class _Entry:
    key: str
    value: Any
    key_mark: Mark
    value_mark: Mark


@dataclass(slots=True)
class _Service:
    name: str
    mark: Mark | None  # of the name; None for the heading's service
    offset: int  # lines of the block before the chunk the marks count from
    entries: list[_Entry] = field(default_factory=list)
    whole: bool = False  # listed under `services:`: the block is a compose file
    networks: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Block:
    """The fence and the collector, with positions mapped back into the document."""

    ctx: Collector
    start: int
    lines: tuple[str, ...]  # dedented
    cuts: tuple[int, ...]  # what dedenting took from each line

    def line(self, service: _Service, mark: Mark) -> int:
        return self.start + service.offset + mark.line - 1

    def index(self, service: _Service, mark: Mark) -> int:
        """0-based index in the document line; past the quote of a quoted scalar."""
        row = service.offset + mark.line - 1
        text = self.lines[row]
        quoted = mark.column <= len(text) and text[mark.column - 1] in "\"'"
        return self.cuts[row] + mark.column - 1 + quoted

    def at(self, service: _Service, mark: Mark, shift: int = 0) -> Location:
        return self.ctx.at(self.line(service, mark), self.index(service, mark) + shift)

    def project(self, service: _Service) -> str | None:
        """A block listing `services:` as a compose project (its services are the ones
        depends_on may name); a fragment is none."""
        return f"{self.ctx.file}:{self.start}" if service.whole else None


def compose_block(ctx: Collector, fence: Fence) -> bool:
    """Record the services of a compose block; False when it holds none."""
    lines, cuts = fence.dedented()
    if _kubernetes(lines):
        return False  # a manifest's `spec:` with `ports:` under it is no compose service
    block = _Block(ctx, fence.start, lines, cuts)
    services = [
        service
        for document, offset in _documents(ctx.file, lines)
        for service in _services(ctx, document, offset)
    ]
    for service in services:
        _read(block, service)
    return bool(services)


_ELISION: Final = re.compile(r"^(\s*)(?:\.\.\.|…)\s*$")
_K8S_TOP: Final = re.compile(r"^(?:apiVersion|kind)\s*:")
_K8S_KEYS: Final = frozenset({"apiVersion", "kind"})


def _kubernetes(lines: tuple[str, ...]) -> bool:
    """Whether a block is a Kubernetes manifest: `apiVersion:` and `kind:` at its top."""
    found = (_K8S_TOP.match(line) for line in lines)
    return {match.group().split(":")[0].strip() for match in found if match} == _K8S_KEYS


def _documents(file: str, lines: tuple[str, ...]) -> list[tuple[YMap, int]]:
    # a line of only `...` (or `…`) elides a part of the file: a comment, not YAML's
    # end-of-document marker (line numbers and columns are kept)
    lines = tuple(_ELISION.sub(r"\1#...", line) for line in lines)
    whole = _load("\n".join(lines), file)
    if whole is not None:
        return [(whole, 0)]
    chunks = [(_load("\n".join(chunk), file), offset) for offset, chunk in _chunks(lines)]
    return [(document, offset) for document, offset in chunks if document is not None]


def _load(text: str, file: str) -> YMap | None:
    try:
        document = yamlload.load(text, file)
    except (yamlload.YAMLInputError, RecursionError):
        return None
    return document if isinstance(document, YMap) else None


def _chunks(lines: tuple[str, ...]) -> list[tuple[int, list[str]]]:
    """The block cut before each line at the smallest indentation."""
    content = [(i, len(t) - len(t.lstrip())) for i, t in enumerate(lines) if _content(t)]
    if not content:
        return []
    top = min(indent for _, indent in content)
    starts = [i for i, indent in content if indent == top]
    bounds = [*starts, len(lines)]
    return [(a, list(lines[a:b])) for a, b in pairwise(bounds)]


def _content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _services(ctx: Collector, document: YMap, offset: int) -> list[_Service]:
    listed = document.get("services")
    if isinstance(listed, YMap):
        return [
            _Service(name, listed.key_marks[name], offset, _entries(body), whole=True)
            for name, body in listed.items()
            if isinstance(body, YMap)
        ]
    return _fragment_services(ctx, document, offset)


def _fragment_services(ctx: Collector, document: YMap, offset: int) -> list[_Service]:
    found: list[_Service] = []
    current = _Service(ctx.heading_service, None, offset) if ctx.heading_service else None
    if current is not None:
        found.append(current)
    for key, value in document.items():
        if isinstance(value, YMap) and SIGNAL_KEYS & value.keys():
            found.append(_Service(key, document.key_marks[key], offset, _entries(value)))
            current = None
        elif value is None:
            current = _Service(key, document.key_marks[key], offset)
            found.append(current)
        elif key in SIGNAL_KEYS and current is not None:
            marks = document.key_marks[key], document.value_marks[key]
            current.entries.append(_Entry(key, value, *marks))
    return [service for service in found if service.entries]


def _entries(body: YMap) -> list[_Entry]:
    return [
        _Entry(key, value, body.key_marks[key], body.value_marks[key])
        for key, value in body.items()
    ]


def _read(block: _Block, service: _Service) -> None:
    for entry in service.entries:
        reader = _READERS.get(entry.key)
        if reader is not None:
            reader(block, service, entry)
    mark = service.mark or service.entries[0].key_mark
    image = next((e.value for e in service.entries if e.key == "image"), None)
    observation = ServiceObservation(
        service.name,
        block.at(service, mark),
        SOURCE,
        networks=tuple(service.networks),
        project=block.project(service),
        image=image if isinstance(image, str) and "$" not in image else None,
    )
    block.ctx.result.services.append(observation)


# --- keys -----------------------------------------------------------------------------


def _items(value: Any) -> list[tuple[Any, Mark]]:
    if isinstance(value, YSeq):
        return list(zip(value, value.item_marks, strict=True))
    return []


def _ports(block: _Block, service: _Service, entry: _Entry) -> None:
    for item, mark in _items(entry.value):
        try:
            configs = parse_ports(item)
        except PortSyntaxError as exc:
            # `${PORT}`, a site generator's `{{< sitevar name="port" >}}`, `{{ port }}`: a
            # template the document's reader sees filled in, not a port written wrong
            if "$" not in str(item) and "{{" not in str(item) and "{%" not in str(item):
                message = f"services.{service.name}.{entry.key}: {exc}"
                block.ctx.result.errors.append(SourceError(block.at(service, mark), message))
            continue
        for config in configs:
            _port(block, service, item, mark, config, entry.key == "ports")


def _port(
    block: _Block, service: _Service, item: Any, mark: Mark, config: PortConfig, ports: bool
) -> None:
    """A `ports` entry as a compose file's (`sources.compose.mapped_port`: no host port is a
    random one); an `expose` entry unpublished and internal."""
    shift = number_offset(item) if isinstance(item, str) and "$" not in item else 0
    if isinstance(item, YMap):
        mark = item.value_marks.get("published", item.value_marks.get("target", mark))
    location = block.at(service, mark, shift)
    if ports:
        # lazily: sources.compose reads environments through sources.dotenv, which uses
        # names of this package (a cycle at import time otherwise)
        from portplan.sources.compose import mapped_port

        block.ctx.port(mapped_port(service.name, config, location, source=SOURCE))
        return
    observation = PortObservation(
        service.name, config.target, location, SOURCE,
        port_name=config.name or app_protocol_name(config.app_protocol),
        protocol=config.protocol, published=False, target=config.target,
        exposure=Exposure.INTERNAL,
    )  # fmt: skip
    block.ctx.port(observation)


def _environment(block: _Block, service: _Service, entry: _Entry) -> None:
    value = entry.value
    if isinstance(value, YMap):
        for key, raw in value.items():
            line = block.line(service, value.key_marks[key])
            name_at = block.index(service, value.key_marks[key])
            value_at = block.index(service, value.value_marks[key])
            assignment = Assignment(key, _text(raw), line, name_at, value_at)
            record(block.ctx, service.name, assignment, SOURCE)
        return
    for item, mark in _items(value):
        if isinstance(item, str):
            name, equals, raw = item.partition("=")
            at = block.index(service, mark)
            text = raw if equals else None
            assignment = Assignment(name, text, block.line(service, mark), at, at + len(name) + 1)
            record(block.ctx, service.name, assignment, SOURCE)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _depends_on(block: _Block, service: _Service, entry: _Entry) -> None:
    value = entry.value
    targets = list(value.key_marks.items()) if isinstance(value, YMap) else _items(entry.value)
    for target, mark in targets:
        if isinstance(target, str):
            line, index = block.line(service, mark), block.index(service, mark)
            block.ctx.dependency(
                service.name, target, line, index, SOURCE, "depends_on", block.project(service)
            )


def _networks(block: _Block, service: _Service, entry: _Entry) -> None:
    value = entry.value
    names = list(value) if isinstance(value, Mapping | YSeq) else []
    service.networks.extend(str(name) for name in names)


_Reader = Callable[[_Block, _Service, _Entry], None]
_READERS: Final[dict[str, _Reader]] = {
    "ports": _ports,
    "expose": _ports,
    "environment": _environment,
    "depends_on": _depends_on,
    "networks": _networks,
}
