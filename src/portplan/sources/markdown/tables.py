"""Pipe tables: a service column and port columns in any order, under any heading.

Each header gets a role (service, port, endpoint, status, purpose...). A port column's
header names the port ("HTTP Port" -> http, "gRPC Port" -> grpc, "WebSocket" -> ws,
"Port (gRPC)" -> grpc; "Port", "Port(s)", "Port #", "Port No." -> None) and may say its side:
"Host port" / "External port" the host's, "Container port" / "Internal port" a container's
own port (which claims no port of the host). A port cell holds ports ("8080", "9200, 9300",
"8080/udp", "`8080`", "[8080](http://localhost:8080)", "8080 (HTTP)", "5432 (internal)"),
mappings ("8088:80", "8088 -> 80", "0.0.0.0:8088->80/tcp": the host port, publishing the
container port; "Ports (container:host)" turns them round), a range ("8000-8009",
a RangeObservation labelled by the row) or nothing ("-", "Various"). A row with one port
under Host port and one under Container port states one port: the host port publishing the
container port. A `**RESERVED**` row
(or a row whose status is Reserved) reserves its ports, for the reason in its purpose
column. An endpoint cell's URL gives a port and, with the expected-response column, the
health check. A "Port Name" column names the port of the row's endpoint, and of a port
column whose header names none ("| web | metrics-db | `http://web:9101/metrics` |"). A
table without port or endpoint columns (costs, scorecards) says nothing,
except for service cells that carry a port themselves: `api-gateway (8000)`. A table with
From and To columns is a communication matrix: its rows are dependencies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Final

from portplan.model import Exposure
from portplan.names import URL, parse_url
from portplan.sources.base import PortObservation, ServiceObservation
from portplan.sources.markdown.blocks import Cell, Table
from portplan.sources.markdown.context import MAX_PORT, Collector
from portplan.sources.markdown.env import name_kind
from portplan.sources.markdown.parameters import parameters_table
from portplan.sources.markdown.prose import Spec, clean_line, paren_hits, parse_specs
from portplan.sources.markdown.text import (
    TRANSPORTS,
    clean_text,
    exposure_of,
    first_nonblank,
    kind_of,
    url_port_name,
)

SOURCE = "markdown-table"

_ROLES: Final = (
    ("from", re.compile(r"^from\b")),
    ("to", re.compile(r"^to\b")),
    ("port_name", re.compile(r"\bport[\s_-]*names?\b")),
    ("port", re.compile(r"\bports?\b|\bhttps?\b|\bgrpc\b|\bwebsockets?\b|\bws\b|\bmetrics\b")),
    ("endpoint", re.compile(r"endpoint|\burls?\b|health")),
    ("expect", re.compile(r"expect|response")),
    ("protocol", re.compile(r"protocol|transport")),
    ("status", re.compile(r"status|state")),
    ("technology", re.compile(r"tech|language|stack|framework|runtime")),
    ("phase", re.compile(r"phase|milestone")),
    ("exposure", re.compile(r"exposure|access|visibility")),
    ("purpose", re.compile(r"purpose|description|role|function|notes?\b|responsibilit")),
    ("service", re.compile(r"service|name|component|container|application|\bapp\b|\bnode\b")),
)
_EMPTY: Final = frozenset({"", "-", "--", "—", "–", "n/a", "na", "none", "tbd", "?"})
_RESERVED_NAME: Final = re.compile(r"^reserved\b", re.IGNORECASE)
_RESERVED_STATUS: Final = re.compile(r"\breserved\b", re.IGNORECASE)
_NOTE: Final = re.compile(r"^(?P<body>.*?)\s*\((?P<note>[^()]*)\)\s*$")
_ADDRESS_PORT: Final = re.compile(
    r"^(?P<address>\[[0-9a-fA-F:.]*\]|[\w.-]*):(?P<n>\d{1,5})(?:/(?P<proto>tcp|udp|sctp))?$"
)
_MAPPING: Final = re.compile(
    r"^(?:(?P<address>\[[0-9a-fA-F:.]*\]|\d{1,3}(?:\.\d{1,3}){3}|::)?:)?"
    r"(?P<a>\d{1,5})[ \t]*(?::|->|→|=>|⇒)[ \t]*(?P<b>\d{1,5})(?:/(?P<proto>tcp|udp|sctp))?$"
)
_NAME_EDGES: Final = re.compile(r"^[^a-z0-9]+|[^a-z0-9]+$|[^\w./-]+")
_NOT_A_SERVICE: Final = re.compile(r"^(?:all|any|every)\b|^\*$", re.IGNORECASE)
_PAREN: Final = re.compile(r"\(([^()]*)\)")
_SIDES: Final = (
    ("container", re.compile(r"\b(?:container|internal|target)\b")),
    ("host", re.compile(r"\b(?:host|external|public|published)\b")),
)
_NOT_A_NAME: Final = re.compile(
    r"\bports?\b|\bnumbers?\b|\branges?\b|\bno\b|#|"
    + "|".join(pattern.pattern for _, pattern in _SIDES)
)
_CONTAINER_FIRST: Final = re.compile(r"container\s*(?::|->|→|/)\s*host")


def _role(header: str) -> str:
    text = header.lower()
    return next((role for role, pattern in _ROLES if pattern.search(text)), "other")


def port_name_of(header: str) -> str | None:
    """Port name from a header: "HTTP Port" -> http, "gRPC Port" -> grpc, "Port (gRPC)" ->
    grpc, "Port", "Port(s)", "Port #", "Host port" -> None; any other name as written, so
    that a plan's port names read back: "http-2 Port" -> http-2 (a digit makes it a name of
    its own, not the kind http), "admin_api Port" -> admin_api."""
    text = header.lower()
    words = _NOT_A_NAME.sub(" ", _PAREN.sub(" ", text)).split()
    name = "-".join(_NAME_EDGES.sub("", word) for word in words).strip("-")
    if name:
        return name_kind(name) or name
    return next((kind for note in _PAREN.findall(text) if (kind := kind_of(note))), None)


def port_side(header: str) -> str | None:
    """The side of a port column: host for a Host / External / Published port, container
    for a Container / Internal / Target port, else None (a note in parentheses aside)."""
    text = _PAREN.sub(" ", header.lower())
    return next((side for side, pattern in _SIDES if pattern.search(text)), None)


@dataclass(frozen=True, slots=True)
class _Columns:
    roles: tuple[str, ...]
    headers: tuple[str, ...]
    sides: tuple[str | None, ...]  # of port columns: "host", "container" or None
    container_first: bool  # mappings are written container:host

    @classmethod
    def of(cls, headers: tuple[str, ...]) -> _Columns:
        roles = tuple(_role(header) for header in headers)
        sides = tuple(
            port_side(h) if r == "port" else None for r, h in zip(roles, headers, strict=True)
        )
        first = any(_CONTAINER_FIRST.search(header.lower()) for header in headers)
        return cls(roles, headers, sides, first)

    def first(self, role: str) -> int | None:
        return self.roles.index(role) if role in self.roles else None

    def all(self, role: str) -> list[int]:
        return [i for i, found in enumerate(self.roles) if found == role]

    def side(self, side: str) -> int | None:
        return self.sides.index(side) if side in self.sides else None


@dataclass(frozen=True, slots=True)
class _CellPort:
    """A port (or range) of a port cell; `target` the container port a mapping publishes
    it to, `exposure` what a note says ("5432 (internal)")."""

    spec: Spec
    target: int | None = None
    target_index: int = 0
    exposure: Exposure | None = None


@dataclass(slots=True)
class _Row:
    """One row being read: its cells, the service it names, what it has yielded."""

    cells: tuple[Cell, ...]
    name: str
    name_cell: Cell
    name_index: int
    reserved: bool
    yielded: int = 0
    empty_ports: bool = True

    def cell(self, index: int | None) -> Cell | None:
        return self.cells[index] if index is not None and index < len(self.cells) else None

    def text(self, index: int | None) -> str | None:
        found = self.cell(index)
        text = clean_text(found.text) if found else ""
        return None if text.lower() in _EMPTY else text


def table(ctx: Collector, block: Table) -> None:
    if parameters_table(ctx, block):
        return
    columns = _Columns.of(tuple(clean_text(cell.text) for cell in block.header))
    if "from" in columns.roles and "to" in columns.roles:
        _matrix(ctx, block, columns)
        return
    service = columns.first("service")
    if service is None:
        return
    for cells in block.rows:
        row = _row(cells, service, columns)
        if row is not None:
            _read_row(ctx, row, columns)


def _row(cells: tuple[Cell, ...], service: int, columns: _Columns) -> _Row | None:
    if service >= len(cells):
        return None
    cell = cells[service]
    line = clean_line(cell.text, prose=False)
    hits = paren_hits(line)
    lead = hits[0] if hits and hits[0].index == first_nonblank(line) else None
    name = lead.name if lead else clean_text(cell.text)
    if not name or not any(ch.isalpha() for ch in name) or name.lower() in _EMPTY:
        return None
    index = cell.index + (lead.index if lead else max(line.find(name.split()[0]), 0))
    row = _Row(cells, name, cell, index, reserved=bool(_RESERVED_NAME.match(name)))
    row.reserved = row.reserved or bool(
        _RESERVED_STATUS.search(row.text(columns.first("status")) or "")
    )
    return row


def _read_row(ctx: Collector, row: _Row, columns: _Columns) -> None:
    _service_cell_ports(ctx, row)
    paired = _paired(ctx, row, columns)
    for index in columns.all("port"):
        if index not in paired:
            _port_cell(ctx, row, columns, index)
    for index in columns.all("endpoint"):
        _endpoint_cell(ctx, row, columns, index)
    about_services = bool(columns.all("port") or columns.all("endpoint"))
    if about_services and not row.reserved and (row.yielded or row.empty_ports):
        _service(ctx, row, columns)


def _service_cell_ports(ctx: Collector, row: _Row) -> None:
    """`| api-gateway (8000) | <10ms | <50ms |`: the service cell states a port."""
    line = clean_line(row.name_cell.text, prose=False)
    for hit in paren_hits(line):
        for spec in hit.specs:
            if spec.single and not row.reserved:
                _add_port(ctx, row, spec, row.name_cell, None, "tcp", None)


def _paired(ctx: Collector, row: _Row, columns: _Columns) -> tuple[int, ...]:
    """`| web | 8088 | 80 |` under Host port and Container port: one port, the host port
    publishing the container port (at the host port's cell); the columns so read."""
    host, container = columns.side("host"), columns.side("container")
    if host is None or container is None:
        return ()
    published, own = _cell_ports(row, columns, host), _cell_ports(row, columns, container)
    if len(published) != 1 or len(own) != 1:
        return ()
    (outer, _), (inner, inner_cell) = published[0], own[0]
    if not (outer.spec.single and inner.spec.single) or outer.target or inner.target:
        return ()
    if not all(1 <= spec.start <= MAX_PORT for spec in (outer.spec, inner.spec)):
        return ()  # each cell alone: the bad number is reported, the good one kept
    index = inner_cell.index + inner.spec.index
    found = replace(outer, target=inner.spec.start, target_index=index)
    _add_cell_port(ctx, row, columns, host, found, published[0][1])
    return host, container


def _port_cell(ctx: Collector, row: _Row, columns: _Columns, i: int) -> None:
    for found, cell in _cell_ports(row, columns, i):
        if not found.spec.single or row.reserved:
            _add_range(ctx, row, columns, found.spec, cell)
        else:
            _add_cell_port(ctx, row, columns, i, found, cell)


def _cell_ports(row: _Row, columns: _Columns, i: int) -> list[tuple[_CellPort, Cell]]:
    """What the port cell of column `i` holds (nothing for "-", "n/a"...)."""
    cell = row.cell(i)
    if cell is None:
        return []
    text = clean_line(cell.text, prose=False)
    if text.strip().lower() in _EMPTY:
        return []
    row.empty_ports = False
    return [(found, cell) for found in _cell_specs(text, columns.container_first)]


def _add_cell_port(
    ctx: Collector, row: _Row, columns: _Columns, i: int, found: _CellPort, cell: Cell
) -> None:
    spec, what = found.spec, _what(columns, i)
    if not ctx.checked_port(spec.start, cell.line, cell.index + spec.index, what):
        return
    target, published = found.target, None
    if target is not None and not ctx.checked_port(target, cell.line, found.target_index, what):
        return
    if target is None and columns.sides[i] == "container":
        target, published = spec.start, False  # a container's own port
    protocol, protocol_kind = _protocol(row, columns)
    named = row.text(columns.first("port_name"))
    kind = spec.kind or port_name_of(columns.headers[i]) or named or protocol_kind
    transport = protocol if spec.protocol == "tcp" else spec.protocol
    exposure = found.exposure or _exposure(row, columns)
    _add_port(ctx, row, spec, cell, kind, transport, exposure, target, published)


def _cell_specs(text: str, container_first: bool = False) -> list[_CellPort]:
    """The ports of a port cell ("8080", "9200, 9300", "8000-8009", ":8080", "8080 (HTTP)",
    "8088:80", "0.0.0.0:8088->80/tcp, :::8088->80/tcp"); a mapping's container port
    first when `container_first`."""
    stripped = text.strip()
    lead = text.find(stripped)
    specs = parse_specs(stripped, lead)
    if specs is not None:
        return [_CellPort(spec) for spec in specs]
    found: list[_CellPort] = []
    offset = lead
    for item in stripped.split(","):
        one = _cell_item(item.strip(), offset + len(item) - len(item.lstrip()), container_first)
        if one is None:
            return []
        if all(o.spec.ports != one.spec.ports or o.target != one.target for o in found):
            found.append(one)
        offset += len(item) + 1
    return found


def _cell_item(item: str, lead: int, container_first: bool) -> _CellPort | None:
    """One item of a port cell: a mapping, a port with a note, or `address:port`."""
    mapped = _MAPPING.match(item)
    if mapped:
        host, container = ("b", "a") if container_first else ("a", "b")
        number, protocol = int(mapped.group(host)), mapped.group("proto") or "tcp"
        spec = Spec(number, number, lead + mapped.start(host), protocol=protocol)
        return _CellPort(spec, int(mapped.group(container)), lead + mapped.start(container))
    noted = _NOTE.match(item)
    if noted:
        specs = parse_specs(noted.group("body"), lead)
        if specs is not None and len(specs) == 1:
            note = noted.group("note")
            spec = _with_kind(specs[0], kind_of(note))
            return _CellPort(spec, exposure=None if spec.kind else exposure_of(note))
    addressed = _ADDRESS_PORT.match(item)
    if addressed:
        number = int(addressed.group("n"))
        protocol = addressed.group("proto") or "tcp"
        return _CellPort(Spec(number, number, lead + addressed.start("n"), protocol=protocol))
    return None


def _with_kind(spec: Spec, kind: str | None) -> Spec:
    return Spec(spec.start, spec.end, spec.index, spec.open_ended, kind, spec.protocol)


def _what(columns: _Columns, index: int) -> str:
    return f'table column "{columns.headers[index]}"'


def _add_port(
    ctx: Collector,
    row: _Row,
    spec: Spec,
    cell: Cell,
    kind: str | None,
    protocol: str,
    exposure: Exposure | None,
    target: int | None = None,
    published: bool | None = None,
) -> None:
    location = ctx.at(cell.line, cell.index + spec.index)
    ctx.port(
        PortObservation(
            row.name, spec.start, location, SOURCE, port_name=kind, protocol=protocol,
            exposure=exposure, target=target, published=published,
        )
    )  # fmt: skip
    row.yielded += 1


def _add_range(ctx: Collector, row: _Row, columns: _Columns, spec: Spec, cell: Cell) -> None:
    purpose = row.text(columns.first("purpose"))
    label = (purpose or "") if _RESERVED_NAME.match(row.name) else row.name
    ctx.range(
        spec.ports, cell.line, cell.index + spec.index, SOURCE, label,
        reserved=row.reserved, future=spec.open_ended, exposure=_exposure(row, columns),
    )  # fmt: skip


def _protocol(row: _Row, columns: _Columns) -> tuple[str, str | None]:
    text = (row.text(columns.first("protocol")) or "").lower()
    if text in TRANSPORTS:
        return text, None
    return "tcp", kind_of(text)


def _exposure(row: _Row, columns: _Columns) -> Exposure | None:
    text = row.text(columns.first("exposure"))
    return exposure_of(text) if text else None


def _endpoint_cell(ctx: Collector, row: _Row, columns: _Columns, index: int) -> None:
    cell = row.cell(index)
    found = URL.search(cell.text) if cell else None
    url = parse_url(found.group()) if found else None
    if cell is None or found is None or url is None or url.port is None or row.reserved:
        return
    at = found.start() + url.port_offset
    spec = Spec(url.port, url.port, at)
    if ctx.checked_port(url.port, cell.line, cell.index + at, _what(columns, index)):
        kind = row.text(columns.first("port_name")) or url_port_name(url)
        _add_port(ctx, row, spec, cell, kind, "tcp", _exposure(row, columns))
    if url.path not in ("", "/"):
        expect = row.text(columns.first("expect"))
        location = ctx.at(row.name_cell.line, row.name_index)
        observation = ServiceObservation(
            row.name, location, SOURCE, health_path=url.path, health_expect=expect
        )
        ctx.result.services.append(observation)


def _service(ctx: Collector, row: _Row, columns: _Columns) -> None:
    if columns.all("endpoint") and not columns.all("port"):
        return  # the endpoint reader recorded the service with its health check
    location = ctx.at(row.name_cell.line, row.name_index)
    observation = ServiceObservation(
        row.name, location, SOURCE,
        status=row.text(columns.first("status")),
        purpose=row.text(columns.first("purpose")),
        technology=row.text(columns.first("technology")),
        exposure=_exposure(row, columns),
        phase=row.text(columns.first("phase")),
    )  # fmt: skip
    ctx.result.services.append(observation)


def _a_service(name: str) -> bool:
    return bool(name) and not _NOT_A_SERVICE.match(name)


def _matrix(ctx: Collector, block: Table, columns: _Columns) -> None:
    """`| From Service | To Service | Protocol |`: each row is a dependency."""
    source, target = columns.first("from"), columns.first("to")
    for cells in block.rows:
        if source is None or target is None or max(source, target) >= len(cells):
            continue
        service, depends = clean_text(cells[source].text), clean_text(cells[target].text)
        if not _a_service(service) or not _a_service(depends):
            continue
        cell = cells[target]
        ctx.dependency(service, depends, cell.line, cell.index, SOURCE, "table")
