from __future__ import annotations

from collections.abc import Iterator

from portplan.findings import Finding, Level
from portplan.model import Topology
from portplan.rules._base import Context, published, rule

FIRST_UNPRIVILEGED = 1024


@rule("PP108", "privileged-port", Level.WARNING, "a port below 1024 needs root or a capability")
def check(topology: Topology, context: Context) -> Iterator[Finding]:
    """A port below 1024 can only be bound by root or with CAP_NET_BIND_SERVICE.

    Only the host side is held to it: a published port's `port` (`{port: 8088, target: 80}`
    binds 8088 on the host). An unpublished port (`published: false`) and a `target` are
    bound inside a container, where docker (20.10 and later) lets any user bind any port.

    PASS: web {http: 8080}
    FAIL: web {http: 80}
    """
    for service in topology.services.values():
        for port in published(service):
            if port.number < FIRST_UNPRIVILEGED:
                yield check.port_finding(
                    service,
                    port,
                    f"is {port.number}, a privileged port (< 1024): "
                    "binding it needs root or CAP_NET_BIND_SERVICE",
                )


RULE = check
