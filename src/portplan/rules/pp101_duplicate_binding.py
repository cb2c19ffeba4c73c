from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from portplan.findings import Finding, Level
from portplan.model import Binding, Topology
from portplan.rules._base import Context, rule


@rule("PP101", "duplicate-binding", Level.ERROR, "two ports bound to one host, protocol and port")
def check(topology: Topology, context: Context) -> Iterator[Finding]:
    """Two services (or two ports of one) bind the same port on the same host and protocol.

    A wildcard address (0.0.0.0, ::, or none stated) overlaps every specific address;
    127.0.0.1 and 127.0.0.2 do not clash; tcp and udp do not clash.

    PASS: api {http: 8000}; web {http: {port: 8000, protocol: udp}}
    FAIL: api {http: 8000}; web {http: 8000}
    """
    groups: dict[tuple[str, str, int], list[Binding]] = defaultdict(list)
    for binding in topology.bindings():
        groups[(binding.host, binding.protocol, binding.port)].append(binding)
    for (host, protocol, port), bindings in groups.items():
        if len(bindings) > 1:
            yield from _clashes(host, protocol, port, bindings)


def _clashes(host: str, protocol: str, port: int, bindings: list[Binding]) -> Iterator[Finding]:
    for index, later in enumerate(bindings):
        first = next((b for b in bindings[:index] if b.overlaps(later)), None)
        if first is None:
            continue
        yield check.finding(
            f"port {port}/{protocol} on host {host} is bound by both "
            f"{_who(first)} and {_who(later)}",
            [later.location, first.location],
            services=[first.service, later.service],
            ports=[port],
            hosts=[host],
            protocol=protocol,
        )


def _who(binding: Binding) -> str:
    address = f" on {binding.address}" if binding.address else ""
    return f"{binding.service}.{binding.port_name}{address}"


RULE = check
