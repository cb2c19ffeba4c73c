from __future__ import annotations

from collections.abc import Iterator

from portplan.findings import Finding, Level
from portplan.model import Topology
from portplan.rules._base import Context, rule


@rule("PP105", "unknown-dependency", Level.ERROR, "a dependency on a service not in the plan")
def check(topology: Topology, context: Context) -> Iterator[Finding]:
    """A service depends on a service the plan does not define (by name or alias).

    PASS: api {depends_on: [db]}; db {ports: {postgresql: 5432}}
    FAIL: api {depends_on: [dbb]}; db {ports: {postgresql: 5432}}
    """
    for service in topology.services.values():
        for dependency in service.depends_on:
            if topology.resolve(dependency.name) is None:
                yield check.finding(
                    f"{service.name} depends on {dependency.name}, which is not a service "
                    "of this plan",
                    [dependency.location],
                    service=service.name,
                    dependency=dependency.name,
                )


RULE = check
