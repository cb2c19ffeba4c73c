from __future__ import annotations

from collections.abc import Iterator

from portplan.findings import Finding, Level
from portplan.model import Location, Topology
from portplan.rules._base import Context, rule


@rule("PP112", "unknown-reference", Level.ERROR, "a zone, network or host that is not declared")
def check(topology: Topology, context: Context) -> Iterator[Finding]:
    """A service names a zone, network or host that the file does not declare.

    Networks and hosts are checked only when the file declares some (a plan may leave them
    implicit); a zone must always be declared, since it carries the exposure policy.

    PASS: zones {dmz: {exposure: public}}; web {zone: dmz}
    FAIL: zones {dmz: {exposure: public}}; web {zone: dmx}
    """
    for service in topology.services.values():
        if service.zone and service.zone not in topology.zones:
            yield _finding(
                service.name, "zone", service.zone, sorted(topology.zones), service.location
            )
        if topology.networks:
            for network in service.networks:
                if network not in topology.networks:
                    yield _finding(
                        service.name,
                        "network",
                        network,
                        sorted(topology.networks),
                        service.location,
                    )
        if topology.hosts and service.host not in topology.hosts:
            yield _finding(
                service.name, "host", service.host, sorted(topology.hosts), service.location
            )


def _finding(service: str, what: str, name: str, known: list[str], where: Location) -> Finding:
    choices = ", ".join(known) if known else "none declared"
    return check.finding(
        f"{service} names {what} {name!r}, which is not declared (known: {choices})",
        [where],
        service=service,
        **{what: name},
    )


RULE = check
