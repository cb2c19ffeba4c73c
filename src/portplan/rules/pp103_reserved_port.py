from __future__ import annotations

from collections.abc import Iterator

from portplan.findings import Finding, Level
from portplan.model import Status, Topology
from portplan.rules._base import Context, published, rule


@rule("PP103", "reserved-port", Level.ERROR, "a port inside a reserved range")
def check(topology: Topology, context: Context) -> Iterator[Finding]:
    """A service takes a port that is reserved (or kept free for the future).

    A service whose status is `reserved` is the reservation itself and is not reported.
    Reservations are of host ports: a published port is held to them by its `port` (the
    host side); an unpublished port (`published: false`) takes no host port.

    PASS: reserved [{ports: 8004-8006, reason: future expansion}]; api {http: 8003}
    FAIL: reserved [{ports: 8004-8006, reason: future expansion}]; api {http: 8005}
    """
    if not topology.reserved:
        return
    for service in topology.services.values():
        if service.status is Status.RESERVED:
            continue
        for port in published(service):
            for reservation in topology.reserved:
                if port.number not in reservation.ports:
                    continue
                if reservation.host is not None and reservation.host != service.host:
                    continue
                reason = f" ({reservation.reason})" if reservation.reason else ""
                yield check.port_finding(
                    service,
                    port,
                    f"takes {port.number}, reserved {reservation.ports}{reason}",
                    [reservation.location],
                    reserved=str(reservation.ports),
                )


RULE = check
