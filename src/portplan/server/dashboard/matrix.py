"""The port matrix of a system: per host, its services by category with each port's number,
protocol, exposure and status, and each range drawn as a band of used, reserved, leased and
free ports. Pure: the stored plan and the leased ports in, the view out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any, cast

from portplan.model import PortRange, Service, Topology
from portplan.plan.allocate import RangeUsage, usage

STATES = ("used", "reserved", "leased", "free")
TELLING = ("leased", "used", "reserved", "free")  # a slice of mixed ports shows the first
MAX_SEGMENTS = 64  # a band is a few hundred pixels wide: more runs than this are not seen
UNCATEGORISED = "(no category)"


@dataclass(frozen=True)
class Filters:
    host: str = ""
    category: str = ""
    exposure: str = ""
    q: str = ""

    def keeps(self, service: Service, host: str) -> bool:
        if service.host != host:
            return False
        return not self.category or (service.category or UNCATEGORISED) == self.category


@dataclass(frozen=True)
class PortRow:
    name: str
    number: int
    protocol: str
    kind: str
    exposure: str
    status: str
    leased_by: str | None


@dataclass(frozen=True)
class ServiceRow:
    name: str
    category: str
    status: str
    ports: tuple[PortRow, ...]


@dataclass(frozen=True)
class Segment:
    """A run of ports in one state; past `MAX_SEGMENTS` runs, a slice of the range drawn in
    its most telling state (leased, used, reserved, free) and labelled with every count."""

    first: int
    last: int
    state: str
    mixed: tuple[tuple[str, int], ...] = ()

    @property
    def size(self) -> int:
        return self.last - self.first + 1

    @property
    def label(self) -> str:
        span = str(self.first) if self.first == self.last else f"{self.first}–{self.last}"
        if self.mixed:
            return f"{span}: " + ", ".join(f"{n} {state}" for state, n in self.mixed)
        return f"{span} {self.state} ({self.size})"


@dataclass(frozen=True)
class Band:
    range: str
    ports: str
    segments: tuple[Segment, ...]
    counts: Mapping[str, int]


@dataclass(frozen=True)
class HostBlock:
    name: str
    categories: tuple[tuple[str, tuple[ServiceRow, ...]], ...]
    bands: tuple[Band, ...]
    port_count: int = 0


@dataclass(frozen=True)
class Matrix:
    hosts: tuple[HostBlock, ...]
    host_names: tuple[str, ...]
    categories: tuple[str, ...]
    exposures: tuple[str, ...] = ("public", "internal", "local")
    totals: Mapping[str, int] = field(default_factory=dict)


def build(
    topology: Topology, leased: Mapping[str, Mapping[tuple[str, int], str]], filters: Filters
) -> Matrix:
    """The matrix of `topology`; `leased` maps host -> (protocol, port) -> holder."""
    hosts, usages, used = _layout(topology)
    blocks = []
    for host in hosts:
        if filters.host and host != filters.host:
            continue
        held = leased.get(host, {})
        services = [s for s in topology.services.values() if filters.keeps(s, host)]
        rows = [r for r in (_service(s, held, filters) for s in services) if r is not None]
        bands = tuple(
            _band(
                u.range.name, u.range.ports, used.get(host, set()), _reserved(topology, host), held
            )
            for u in usages
            if host in u.hosts
        )
        blocks.append(HostBlock(host, _by_category(rows), bands, sum(len(r.ports) for r in rows)))
    categories = sorted({s.category or UNCATEGORISED for s in topology.services.values()})
    totals = {"services": len(topology.services), "shown": sum(b.port_count for b in blocks)}
    return Matrix(tuple(blocks), tuple(hosts), tuple(categories), totals=totals)


_LAYOUTS: dict[int, tuple[Topology, Any]] = {}


def _layout(topology: Topology) -> tuple[list[str], list[RangeUsage], dict[str, set[int]]]:
    """What the plan alone decides (hosts, each range's hosts, the ports bound per host),
    once per stored plan: the model of a stored plan is one object (`plans.topology_of`)."""
    cached = _LAYOUTS.get(id(topology))
    if cached is not None and cached[0] is topology:
        return cast(tuple[list[str], list[RangeUsage], dict[str, set[int]]], cached[1])
    used: dict[str, set[int]] = {}
    for binding in topology.bindings():
        if binding.protocol == "tcp":
            used.setdefault(binding.host, set()).add(binding.port)
    found = (sorted(topology.host_names()), usage(topology), used)
    if len(_LAYOUTS) >= 32:
        _LAYOUTS.clear()
    _LAYOUTS[id(topology)] = (topology, found)
    return found


def _reserved(topology: Topology, host: str) -> set[int]:
    return {p for r in topology.reserved if r.host is None or r.host == host for p in r.ports}


def _service(
    service: Service, held: Mapping[tuple[str, int], str], filters: Filters
) -> ServiceRow | None:
    ports = tuple(
        PortRow(
            p.name,
            p.number,
            p.protocol,
            p.kind,
            str(service.exposure_of(p)),
            str(service.status),
            held.get((p.protocol, p.number)),
        )
        for p in service.ports
        if not filters.exposure or str(service.exposure_of(p)) == filters.exposure
    )
    row = ServiceRow(service.name, service.category or UNCATEGORISED, str(service.status), ports)
    if filters.exposure and not ports:
        return None
    return row if _matches(row, filters.q) else None


def _matches(row: ServiceRow, q: str) -> bool:
    needle = q.strip().lower()
    if not needle:
        return True
    words = [row.name, row.category, *(p.name for p in row.ports), *(p.kind for p in row.ports)]
    numbers = [str(p.number) for p in row.ports]
    return any(needle in w.lower() for w in words) or any(n.startswith(needle) for n in numbers)


def _by_category(rows: Iterable[ServiceRow]) -> tuple[tuple[str, tuple[ServiceRow, ...]], ...]:
    ordered = sorted(rows, key=lambda r: (r.category, r.name))
    return tuple((c, tuple(g)) for c, g in groupby(ordered, key=lambda r: r.category))


def _band(
    name: str,
    ports: PortRange,
    used: set[int],
    reserved: set[int],
    held: Mapping[tuple[str, int], str],
) -> Band:
    states = ["free"] * len(ports)
    # in rising precedence: a later mark wins
    marks = (
        ("reserved", reserved),
        ("used", used),
        ("leased", [p for proto, p in held if proto == "tcp"]),
    )
    for state, numbers in marks:
        for port in numbers:
            if port in ports:
                states[port - ports.start] = state
    counts = {s: states.count(s) for s in STATES}
    runs = [(k, len(list(g))) for k, g in groupby(states)]
    if len(runs) <= MAX_SEGMENTS:
        return Band(name, str(ports), tuple(_runs(ports.start, runs)), counts)
    return Band(name, str(ports), tuple(_slices(ports.start, states)), counts)


def _runs(start: int, runs: list[tuple[str, int]]) -> list[Segment]:
    found = []
    for key, size in runs:
        found.append(Segment(start, start + size - 1, key))
        start += size
    return found


def _slices(start: int, states: list[str]) -> list[Segment]:
    width = -(-len(states) // MAX_SEGMENTS)
    found = []
    for at in range(0, len(states), width):
        part = states[at : at + width]
        seen = tuple((s, part.count(s)) for s in STATES if s in part)
        telling = next(s for s in TELLING if s in part)
        mixed = seen if len(seen) > 1 else ()
        found.append(Segment(start + at, start + at + len(part) - 1, telling, mixed))
    return found
