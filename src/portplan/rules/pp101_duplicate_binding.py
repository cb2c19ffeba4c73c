from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from portplan.findings import Finding, Level
from portplan.model import Binding, Port, Service, Status, Topology
from portplan.rules._base import Context, rule


@rule("PP101", "duplicate-binding", Level.ERROR, "two ports bound to one host, protocol and port")
def check(topology: Topology, context: Context) -> Iterator[Finding]:
    """Two services (or two ports of one) bind the same port on the same host and protocol.

    A wildcard address (0.0.0.0, ::, or none stated) overlaps every specific address;
    127.0.0.1 and 127.0.0.2 do not clash; tcp and udp do not clash.

    Only published ports are bound on the host, each by its `port` (a `target` is inside
    its container). An unpublished port (`published: false`: compose `expose`, a ClusterIP
    Service) is bound on its own container network, so it never clashes with another
    service's port: two databases each on 5432 in their own containers are no conflict.
    Two unpublished ports of one service on one number still clash (one container).

    PASS: api {http: 8000}; web {http: {port: 8000, protocol: udp}}
    PASS: auth-db {postgresql: {port: 5432, published: false}}; billing-db {postgresql: 5432}
    FAIL: api {http: 8000}; web {http: 8000}
    """
    # Topology.bindings() grouped, with a Binding made only for a port that clashes (a
    # plan of 5,000 services binds some 12,000 ports, nearly all of them once).
    groups: dict[tuple[str, str, int], list[tuple[Service, Port]]] = {}
    hidden: list[Service] = []  # the services with an unpublished port
    for service in topology.services.values():
        if service.status in _BINDS_NOTHING:
            continue
        host = service.host
        for port in service.ports:
            if not port.published:
                if not hidden or hidden[-1] is not service:
                    hidden.append(service)
                continue
            key = (host, port.protocol, port.number)
            owners = groups.get(key)
            if owners is None:
                groups[key] = [(service, port)]
            else:
                owners.append((service, port))
    for (host, protocol, number), owners in groups.items():
        if len(owners) > 1:
            bindings = [_binding(service, port) for service, port in owners]
            yield from _clashes(f"on host {host}", protocol, number, bindings)
    yield from _inside(hidden)


_BINDS_NOTHING = (Status.RESERVED, Status.DEPRECATED)


def _binding(service: Service, port: Port) -> Binding:
    return Binding(
        service.host,
        port.address,
        port.protocol,
        port.number,
        service.name,
        port.name,
        port.location,
    )


def _inside(services: list[Service]) -> Iterator[Finding]:
    """Unpublished ports of one service that share a number and protocol."""
    for service in services:
        groups: dict[tuple[str, int], list[Binding]] = defaultdict(list)
        for port in service.ports:
            if not port.published:
                groups[(port.protocol, port.number)].append(_binding(service, port))
        for (protocol, number), bindings in groups.items():
            if len(bindings) > 1:
                where = f"inside {service.name} (not published)"
                yield from _clashes(where, protocol, number, bindings)


def _clashes(where: str, protocol: str, port: int, bindings: list[Binding]) -> Iterator[Finding]:
    for index, later in enumerate(bindings):
        first = next((b for b in bindings[:index] if b.overlaps(later)), None)
        if first is None:
            continue
        yield check.finding(
            f"port {port}/{protocol} {where} is bound by both {_who(first)} and {_who(later)}",
            [later.location, first.location],
            services=[first.service, later.service],
            ports=[port],
            hosts=[first.host],
            protocol=protocol,
        )


def _who(binding: Binding) -> str:
    address = f" on {binding.address}" if binding.address else ""
    return f"{binding.service}.{binding.port_name}{address}"


RULE = check
