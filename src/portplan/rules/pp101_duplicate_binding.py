from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from portplan.findings import Finding, Level
from portplan.model import Binding, Status, Topology
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
    groups: dict[tuple[str, str, int], list[Binding]] = defaultdict(list)
    for binding in topology.bindings():
        groups[(binding.host, binding.protocol, binding.port)].append(binding)
    for (host, protocol, port), bindings in groups.items():
        if len(bindings) > 1:
            yield from _clashes(f"on host {host}", protocol, port, bindings)
    yield from _inside(topology)


def _inside(topology: Topology) -> Iterator[Finding]:
    """Unpublished ports of one service that share a number and protocol."""
    for service in topology.services.values():
        if service.status in (Status.RESERVED, Status.DEPRECATED):
            continue
        groups: dict[tuple[str, int], list[Binding]] = defaultdict(list)
        for port in service.ports:
            if not port.published:
                binding = Binding(
                    service.host,
                    port.address,
                    port.protocol,
                    port.number,
                    service.name,
                    port.name,
                    port.location,
                )
                groups[(port.protocol, port.number)].append(binding)
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
