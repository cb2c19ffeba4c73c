"""Give a service the next free port its range policy allows.

The choice is pure (`choose`); the write-back (`writeback.add_port`) edits the file's text
at the place the parser located, so comments, key order and formatting stay as they were.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from portplan.errors import UsageError
from portplan.model import Port, PortRange, RangePolicy, Service, Topology
from portplan.plan.loader import KIND_BY_NAME

Busy = Callable[[int, str], bool]  # (port, protocol) -> is something listening on it now?


@dataclass(frozen=True)
class Allocation:
    service: str
    port_name: str
    port: int
    protocol: str
    range: RangePolicy
    new_service: bool
    new_port: bool


def applicable_ranges(
    topology: Topology, service: Service | None, port_name: str
) -> list[RangePolicy]:
    """The ranges whose category and kind fit the service and port (policy ranges first)."""
    probe_service = service or Service(name="?")
    probe_port = Port(name=port_name, number=1, kind=KIND_BY_NAME.get(port_name, port_name))
    return [r for r in topology.ranges if r.applies_to(probe_service, probe_port)]


def choose(
    topology: Topology,
    service_name: str,
    port_name: str = "http",
    range_name: str | None = None,
    busy: Busy | None = None,
    protocol: str = "tcp",
) -> Allocation:
    """The lowest port of the applicable range that is free by plan and (with `busy`) now."""
    service = topology.services.get(service_name)
    if service is not None and service.port(port_name) is not None:
        existing = service.port(port_name)
        assert existing is not None
        raise UsageError(
            f"{service_name}.{port_name} already has port {existing.number}; "
            "name another port to allocate a new one"
        )
    policy = _pick_range(topology, service, service_name, port_name, range_name)
    hosts = {service.host if service else topology.default_host}
    port = next(free_ports(topology, policy.ports, hosts, protocol, busy, service), None)
    if port is None:
        raise UsageError(f"range {policy.name} ({policy.ports}) has no free port left")
    return Allocation(
        service=service_name,
        port_name=port_name,
        port=port,
        protocol=protocol,
        range=policy,
        new_service=service is None,
        new_port=True,
    )


def _pick_range(
    topology: Topology,
    service: Service | None,
    service_name: str,
    port_name: str,
    range_name: str | None,
) -> RangePolicy:
    by_name = {r.name: r for r in topology.ranges}
    if range_name is not None:
        if range_name not in by_name:
            raise UsageError(f"no range named {range_name!r} (known: {_names(by_name)})")
        return by_name[range_name]
    ranges = applicable_ranges(topology, service, port_name)
    if len(ranges) == 1:
        return ranges[0]
    what = "several ranges apply" if ranges else "no range applies"
    candidates = _names({r.name: r for r in ranges} if ranges else by_name)
    raise UsageError(
        f"{what} to {service_name}.{port_name}; choose one with --range (known: {candidates})"
    )


def _names(ranges: dict[str, RangePolicy]) -> str:
    return ", ".join(sorted(ranges)) or "none declared"


def taken(
    topology: Topology, hosts: set[str], protocol: str, service: Service | None = None
) -> set[int]:
    """Host ports assigned on any of `hosts` (the numbers of published ports) or reserved
    there; with `service`, also every number its own ports use on either side.

    Another service's unpublished port is bound on its own container network and takes no
    host port. A new port of `service` is published on the same number inside its container
    (`http: 8003`), so it must not meet one of the service's own ports there: a `target`,
    or the number of one of its unpublished ports.
    """
    used = {
        p.number
        for s in topology.services.values()
        if s.host in hosts
        for p in s.ports
        if p.protocol == protocol and p.published
    }
    if service is not None:
        for port in service.ports:
            if port.protocol == protocol:
                used.update((port.number, port.container_port))
    for reservation in topology.reserved:
        if reservation.host is None or reservation.host in hosts:
            used.update(reservation.ports)
    return used


def free_ports(
    topology: Topology,
    ports: PortRange,
    hosts: set[str],
    protocol: str = "tcp",
    busy: Busy | None = None,
    service: Service | None = None,
) -> Iterator[int]:
    """Ports of `ports` that are neither assigned nor reserved on `hosts`, nor busy now
    (nor used by `service`'s own ports, see `taken`)."""
    used = taken(topology, hosts, protocol, service)
    for port in ports:
        if port not in used and not (busy and busy(port, protocol)):
            yield port


@dataclass(frozen=True)
class RangeUsage:
    """How much of a range is taken, and what is left (as compact sub-ranges)."""

    range: RangePolicy
    hosts: tuple[str, ...]
    used: tuple[int, ...]
    free: tuple[PortRange, ...]

    @property
    def free_count(self) -> int:
        return sum(len(r) for r in self.free)


def usage(topology: Topology, range_name: str | None = None) -> list[RangeUsage]:
    """Free ports per range (per host the range applies to)."""
    ranges = list(topology.ranges)
    if range_name is not None:
        ranges = [r for r in ranges if r.name == range_name]
        if not ranges:
            known = ", ".join(r.name for r in topology.ranges) or "none declared"
            raise UsageError(f"no range named {range_name!r} (known: {known})")
    return [_usage(topology, policy) for policy in ranges]


def _usage(topology: Topology, policy: RangePolicy) -> RangeUsage:
    hosts = _hosts_of(topology, policy)
    used = taken(topology, hosts, "tcp")
    inside = tuple(sorted(p for p in used if p in policy.ports))
    free = tuple(compact(free_ports(topology, policy.ports, hosts)))
    return RangeUsage(policy, tuple(sorted(hosts)), inside, free)


def _hosts_of(topology: Topology, policy: RangePolicy) -> set[str]:
    """The range's host, else the hosts of the services it governs, else the default host."""
    if policy.host is not None:
        return {policy.host}
    governed = {
        s.host for s in topology.services.values() if any(policy.applies_to(s, p) for p in s.ports)
    }
    return governed or {topology.default_host}


def compact(ports: Iterable[int]) -> Iterator[PortRange]:
    """Sorted ports -> maximal runs: 1,2,3,7 -> 1-3, 7."""
    start = end = None
    for port in ports:
        if end is not None and port == end + 1:
            end = port
            continue
        if start is not None and end is not None:
            yield PortRange(start, end)
        start = end = port
    if start is not None and end is not None:
        yield PortRange(start, end)
