from __future__ import annotations

from collections.abc import Iterator

from portplan.findings import Finding, Level
from portplan.model import PortRange, Service, Topology
from portplan.rules._base import Context, published, rule


@rule("PP109", "ephemeral-port", Level.WARNING, "a port inside the OS's ephemeral range")
def check(topology: Topology, context: Context) -> Iterator[Finding]:
    """A listening port lies in the ephemeral range the OS hands to outgoing connections,
    so an outgoing connection may hold it when the service starts.

    The range is the host's `ephemeral`, else the file's top-level `ephemeral`, else this
    machine's (Linux: /proc/sys/net/ipv4/ip_local_port_range; elsewhere IANA's 49152-65535).
    It is the host's range, so a published port is held to it by its `port`; an
    unpublished port (`published: false`) and a `target` live on a container's own network,
    whose outgoing connections are its own.

    PASS: ephemeral: 32768-60999; api {grpc: 9090}
    FAIL: ephemeral: 32768-60999; api {grpc: 50051}
    """
    by_host: dict[str, tuple[PortRange, str]] = {}  # the range hangs on the host alone
    for service in topology.services.values():
        found = by_host.get(service.host)
        if found is None:
            found = by_host[service.host] = _range_for(topology, service, context)
        ephemeral, origin = found
        for port in published(service):
            if port.number in ephemeral:
                yield check.port_finding(
                    service,
                    port,
                    f"is {port.number}, inside the ephemeral range {ephemeral} ({origin}): "
                    "an outgoing connection may take it first",
                    ephemeral=str(ephemeral),
                )


def _range_for(topology: Topology, service: Service, context: Context) -> tuple[PortRange, str]:
    host = topology.hosts.get(service.host)
    if host is not None and host.ephemeral is not None:
        return host.ephemeral, f"host {host.name}"
    if topology.ephemeral is not None:
        return topology.ephemeral, "declared"
    return context.machine_ephemeral, "this machine's"


RULE = check
