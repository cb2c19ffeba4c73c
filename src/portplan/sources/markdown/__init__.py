"""Markdown: every port, range, dependency, variable and service a planning document states.

Planning documents state ports everywhere, and this source reads them all:

- tables with a service column and port columns in any order ("Port", "HTTP Port",
  "gRPC Port", "WebSocket", "Ports" holding "9200, 9300"), range and reserved rows,
  health-check tables, and service cells such as `api-gateway (8000)` (tables);
- fenced code blocks by content: compose files and fragments, env and shell blocks
  (`X_PORT=`, `X_URL=`, secrets), Mermaid graphs, `docker ps` output, dependency trees
  and text diagrams (code, compose, env, mermaid);
- headings, list items and prose: `Gateway (Port 8080)`, `**compliance-monitor (8017)**:`,
  `Port 8000: API Gateway (public)`, `8000-8009: Core`, `Reserved: 8004-8006`... (prose).

Every observation carries the Location (file, line, column) of the value it is about: the
port's digits, the range's first port, the variable's name, the dependency's target, the
service's name. Broken encodings (UTF-8 read as cp1252, Mac Roman or cp1254) are repaired
in place, column for column. Secret values are never stored.

`source` on each observation says which reader saw it: markdown-table, markdown-code,
mermaid, docker-ps or prose. `conflicts()` pairs the ports one document gives two services.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Callable
from dataclasses import fields, replace
from functools import cache
from itertools import combinations
from typing import TYPE_CHECKING, Any, Final, TypeVar

from portplan.files import BINARY, UnreadableFile, nul_position, safe_read
from portplan.model import Location, addresses_overlap, normalize_name
from portplan.sources.base import PortObservation, SourceResult, reason, unread
from portplan.sources.markdown.blocks import Fence, Heading, Table, TextLine, blocks
from portplan.sources.markdown.code import DOCKER_PS, fence
from portplan.sources.markdown.context import Collector
from portplan.sources.markdown.enumerations import enumerations
from portplan.sources.markdown.prose import heading, text_line
from portplan.sources.markdown.tables import table
from portplan.sources.markdown.text import redact
from portplan.sources.markdown.urls import host_addresses

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["conflicts", "decode_markdown", "parse_markdown", "read_markdown"]

KIND = "markdown"

_READERS: Final[dict[type, Callable[[Collector, Any], None]]] = {
    Heading: heading,
    TextLine: text_line,
    Table: table,
    Fence: fence,
}


def parse_markdown(text: str, file: str) -> SourceResult:
    """What the Markdown document `text` states; `file` names it in every Location."""
    ctx = Collector(file)
    lines = [line.removesuffix("\r") for line in text.removeprefix("\ufeff").split("\n")]
    for block in blocks(lines):
        _READERS[type(block)](ctx, block)
    ctx.routed()
    host_addresses(ctx.result, lines)
    enumerations(ctx.result, lines)
    return _without_secrets(ctx.result)


def _without_secrets(result: SourceResult) -> SourceResult:
    """The result with secrets masked in every text field, wherever a reader took a name
    or a label from (a service key can hold `DATABASE_URL=postgres://u:pw@db`)."""
    result.services = [_masked(o) for o in result.services]
    result.ports = [_masked(o) for o in result.ports]
    result.dependencies = [_masked(o) for o in result.dependencies]
    result.variables = [_masked(o) for o in result.variables]
    result.ranges = [_masked(o) for o in result.ranges]
    result.errors = [_masked(o) for o in result.errors]
    return result


_Record = TypeVar("_Record", bound="DataclassInstance")


def _masked(record: _Record) -> _Record:
    changes: dict[str, Any] = {}
    for name in _field_names(type(record)):
        value = getattr(record, name)
        if isinstance(value, str):
            masked: Any = redact(value)
        elif isinstance(value, tuple):
            masked = tuple(redact(v) if isinstance(v, str) else v for v in value)
        else:
            continue
        if masked != value:
            changes[name] = masked
    return replace(record, **changes) if changes else record


@cache
def _field_names(kind: type[DataclassInstance]) -> tuple[str, ...]:
    return tuple(item.name for item in fields(kind))


def read_markdown(path: str | os.PathLike[str]) -> SourceResult:
    """`parse_markdown` of the file at `path`; a file that cannot be read is a SourceError."""
    file = os.fspath(path)
    try:
        data = safe_read(file)
    except UnreadableFile as exc:
        result = SourceResult(file=file, kind=KIND)
        result.errors.append(unread(Location(file), reason(exc)))
        return result
    text = decode_markdown(data)
    nul = nul_position(text)
    if nul is not None:
        result = SourceResult(file=file, kind=KIND)
        result.errors.append(unread(Location(file, *nul), BINARY))
        return result
    return parse_markdown(text, file)


_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_markdown(data: bytes) -> str:
    """The text of a Markdown file, whatever its bytes: UTF-8 (or UTF-16/32 behind a BOM);
    a file that is not UTF-8 is decoded line by line, each line as UTF-8, else as
    Windows-1252, else as UTF-8 with U+FFFD for the bytes that make no sense. Never fails."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "\n".join(_decode_line(line) for line in data.split(b"\n"))


def _decode_line(raw: bytes) -> str:
    for codec in ("utf-8", "cp1252"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "replace")


# --- one port, two services -------------------------------------------------------------

_WELL_KNOWN: Final = {
    "postgresql": "postgres",
    "pg": "postgres",
    "mongo": "mongodb",
    "rabbit": "rabbitmq",
}


def conflicts(result: SourceResult) -> list[tuple[PortObservation, PortObservation]]:
    """Pairs of port observations in which one document gives one port to two services.

    Names are one service when `normalize_name` makes them equal ("Token Engine",
    "token-engine", "TOKEN_ENGINE"), when the document renames one to the other
    (`Data Bridge (Port 8001) → enhanced-data-bridge (8001)`), when one's words begin or
    end the other's ("API Gateway", "api-gateway-enhancement", "server-api-gateway"), or
    when they are spellings of one well-known server ("postgres", "PostgreSQL"); a
    container in `docker ps` output is named without its compose replica number
    ("deltran-gateway-1" is "deltran-gateway", which ends with "gateway"). Ports
    that are not published on the host (a container's own port) and ports on different
    protocols or addresses do not conflict. One pair per two services per port, the
    earliest observation of each; pairs come in document order.
    """
    renamed = _renames(result)
    by_port: dict[tuple[int, str], list[PortObservation]] = {}
    for port in result.ports:
        if port.published is not False:
            by_port.setdefault((port.number, port.protocol), []).append(port)
    pairs: list[tuple[PortObservation, PortObservation]] = []
    for observations in by_port.values():
        for first, second in combinations(_services(observations, renamed), 2):
            pair = _overlapping(first, second)
            if pair is not None:
                pairs.append(pair)
    return sorted(pairs, key=lambda pair: (pair[0].location, pair[1].location))


def _key(name: str) -> str:
    key = normalize_name(name)
    return _WELL_KNOWN.get(key, key)


def _words(name: str) -> tuple[str, ...]:
    return tuple(re.findall(r"[a-z0-9]+", name.lower()))


def _same(a: str, b: str) -> bool:
    if _key(a) == _key(b):
        return True
    short, long = sorted((_words(a), _words(b)), key=len)
    size = len(short)
    return size > 0 and (long[:size] == short or long[-size:] == short)


def _renames(result: SourceResult) -> dict[str, str]:
    """Name key -> the key of its group, for the names a document says are one service."""
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.get(key, key) != key:
            key = parent[key]
        return key

    for service in result.services:
        for alias in service.aliases:
            a, b = root(_key(service.service)), root(_key(alias))
            if a != b:
                parent[b] = a
    return {key: root(key) for key in parent}


def _services(
    observations: list[PortObservation], renamed: dict[str, str]
) -> list[list[PortObservation]]:
    """The observations of one port grouped by service, groups in order of appearance."""
    groups: list[list[PortObservation]] = []
    for observation in observations:
        name = _name(observation)
        matching = [g for g in groups if any(_one(name, _name(o), renamed) for o in g)]
        if not matching:
            groups.append([observation])
            continue
        merged = matching[0]
        for other in matching[1:]:
            merged.extend(other)
            groups.remove(other)
        merged.append(observation)
    for group in groups:
        group.sort(key=lambda o: o.location)
    return sorted(groups, key=lambda g: g[0].location)


_REPLICA: Final = re.compile(r"[-_]\d+$")


def _name(observation: PortObservation) -> str:
    if observation.source == DOCKER_PS:
        return _REPLICA.sub("", observation.service)
    return observation.service


def _one(a: str, b: str, renamed: dict[str, str]) -> bool:
    if _same(a, b):
        return True
    ka, kb = _key(a), _key(b)
    return renamed.get(ka, ka) == renamed.get(kb, kb)


def _overlapping(
    first: list[PortObservation], second: list[PortObservation]
) -> tuple[PortObservation, PortObservation] | None:
    for a in first:
        for b in second:
            if addresses_overlap(a.address, b.address):
                return (a, b) if a.location <= b.location else (b, a)
    return None
