"""The port matrix of a system: per host, its services by category with each port's number,
protocol, exposure and status, and each range drawn as a band of used, reserved, leased and
free ports. Pure: the stored plan and the leased ports in, the view out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import groupby

from portplan.model import PortRange, Service, Topology
from portplan.plan.allocate import usage

STATES = ("used", "reserved", "leased", "free")
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
    first: int
    last: int
    state: str

    @property
    def size(self) -> int:
        return self.last - self.first + 1

    @property
    def label(self) -> str:
        span = str(self.first) if self.first == self.last else f"{self.first}–{self.last}"
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
    hosts = sorted(topology.host_names())
    usages = usage(topology)
    used: dict[str, set[int]] = {}
    for binding in topology.bindings():
        if binding.protocol == "tcp":
            used.setdefault(binding.host, set()).add(binding.port)
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
    leased = {port for protocol, port in held if protocol == "tcp"}

    def state(port: int) -> str:
        if port in leased:
            return "leased"
        if port in used:
            return "used"
        return "reserved" if port in reserved else "free"

    segments = []
    counts = dict.fromkeys(STATES, 0)
    for key, run in groupby(ports, key=state):
        numbers = list(run)
        segments.append(Segment(numbers[0], numbers[-1], key))
        counts[key] += len(numbers)
    return Band(name, str(ports), tuple(segments), counts)
