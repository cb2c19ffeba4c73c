from __future__ import annotations

from collections.abc import Iterator

from portplan.findings import Finding, Level
from portplan.model import RangePolicy, Topology
from portplan.rules._base import Context, published, rule


@rule("PP102", "port-outside-range", Level.ERROR, "a port outside its category's or kind's range")
def check(topology: Topology, context: Context) -> Iterator[Finding]:
    """A port lies outside every range that applies to it.

    A range applies to a port by the service's category and/or the port's kind (and host,
    when the range names one). When several ranges apply, the port must lie in one of them.
    Ranges share out the host's ports: a published port is held to them by its `port` (the
    host side); an unpublished port (`published: false`) is numbered inside its own
    container and is not held to them.

    PASS: core {ports: 8000-8009, category: core}; api {category: core, ports: {http: 8000}}
    FAIL: core {ports: 8000-8009, category: core}; api {category: core, ports: {http: 8020}}
    """
    ranges = topology.ranges
    if not ranges:
        return
    # Which ranges apply hangs on the service's category and host and the port's kind: a
    # plan repeats a few of those for thousands of ports.
    applying: dict[tuple[str | None, str, str], list[RangePolicy]] = {}
    for service in topology.services.values():
        for port in published(service):
            key = (service.category, port.kind, service.host)
            policies = applying.get(key)
            if policies is None:
                policies = applying[key] = [r for r in ranges if r.applies_to(service, port)]
            if policies and not any(port.number in r.ports for r in policies):
                names = ", ".join(f"{r.name} ({r.ports})" for r in policies)
                yield check.port_finding(
                    service,
                    port,
                    f"is {port.number}, outside its range {names}",
                    [r.location for r in policies],
                    ranges=[r.name for r in policies],
                )


RULE = check
