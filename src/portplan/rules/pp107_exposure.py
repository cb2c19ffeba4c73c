from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from portplan.findings import Finding, Level
from portplan.model import WILDCARD_ADDRESSES, Exposure, Port, Service, Topology, Zone
from portplan.rules._base import Context, rule

_RANK = {Exposure.LOCAL: 0, Exposure.INTERNAL: 1, Exposure.PUBLIC: 2}


@rule("PP107", "exposure-violation", Level.ERROR, "a port reachable wider than its exposure allows")
def check(topology: Topology, context: Context) -> Iterator[Finding]:
    """A port is bound or declared wider than its exposure or its zone allows.

    An internal or local port bound to every interface (0.0.0.0, ::); a local port bound to
    a non-loopback address; a port more exposed than the zone (or a network's zone) of its
    service allows, such as a public port in an internal zone.
    An unpublished port (`published: false`) is bound inside its container, so its address
    exposes nothing on the host: only its zone is checked.

    PASS: db {exposure: internal, ports: {postgresql: 5432}}
    FAIL: db {exposure: internal, ports: {postgresql: {port: 5432, address: 0.0.0.0}}}
    """
    known: dict[tuple[str | None, tuple[str, ...]], tuple[list[Zone], int]] = {}
    for service in topology.services.values():
        # A service's zones are those of its zone and networks: a plan repeats a few.
        found = known.get((service.zone, service.networks))
        if found is None:
            zones = _zones_of(topology, service)
            widest = min((_RANK[zone.exposure] for zone in zones), default=_RANK[Exposure.PUBLIC])
            found = known[(service.zone, service.networks)] = (zones, widest)
        zones, widest = found
        for port in service.ports:
            # Most ports state no address and sit in a zone that allows their exposure:
            # asked without making the generators that would find nothing.
            if port.address is not None:
                yield from _binding_problems(service, port)
            if _RANK[service.exposure_of(port)] > widest:
                yield from _zone_problems(service, port, zones)


def _binding_problems(service: Service, port: Port) -> Iterator[Finding]:
    exposure = service.exposure_of(port)
    address = port.address
    if address is None or exposure is Exposure.PUBLIC or not port.published:
        return
    if address in WILDCARD_ADDRESSES:
        yield _finding(
            service, port, f"is {exposure.value} but bound to every interface ({address})"
        )
    elif exposure is Exposure.LOCAL and not _is_loopback(address):
        yield _finding(service, port, f"is local but bound to {address}, not a loopback address")


def _zone_problems(service: Service, port: Port, zones: list[Zone]) -> Iterator[Finding]:
    exposure = service.exposure_of(port)
    for zone in zones:
        if _RANK[exposure] > _RANK[zone.exposure]:
            widest = zone.exposure.value
            what = f"is {exposure.value} but its zone {zone.name} allows at most {widest}"
            yield _finding(service, port, what, zone=zone.name)


def _zones_of(topology: Topology, service: Service) -> list[Zone]:
    names = [service.zone] if service.zone else []
    for network in service.networks:
        declared = topology.networks.get(network)
        if declared is not None and declared.zone:
            names.append(declared.zone)
    names += [z.name for z in topology.zones.values() if set(z.networks) & set(service.networks)]
    unique = dict.fromkeys(n for n in names if n in topology.zones)
    return [topology.zones[name] for name in unique]


def _finding(service: Service, port: Port, what: str, zone: str | None = None) -> Finding:
    return check.port_finding(
        service,
        port,
        f"({port.number}) {what}",
        exposure=service.exposure_of(port).value,
        address=port.address,
        **({"zone": zone} if zone else {}),
    )


def _is_loopback(address: str) -> bool:
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


RULE = check
