from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations

from portplan.findings import Finding, Level
from portplan.model import PortRange, RangePolicy, Topology
from portplan.rules._base import Context, rule


@rule("PP104", "overlapping-ranges", Level.WARNING, "two range policies share ports")
def check(topology: Topology, context: Context) -> Iterator[Finding]:
    """Two range policies that claim ports for different purposes overlap.

    Ranges on different hosts never overlap; a range without category or kind (a free pool)
    is not a claim and is ignored.

    PASS: http {ports: 8080-8089, kind: http}; ws {ports: 8090-8099, kind: ws}
    FAIL: http {ports: 8080-8099, kind: http}; ws {ports: 8090-8099, kind: ws}
    """
    claims = [r for r in topology.ranges if r.category is not None or r.kind is not None]
    for first, second in combinations(claims, 2):
        if _same_host(first, second) and first.ports.overlaps(second.ports):
            shared = PortRange(
                max(first.ports.start, second.ports.start), min(first.ports.end, second.ports.end)
            )
            yield check.finding(
                f"range {second.name} ({second.ports}) overlaps range {first.name} "
                f"({first.ports}) on {shared}",
                [second.location, first.location],
                ranges=[first.name, second.name],
                overlap=str(shared),
            )


def _same_host(first: RangePolicy, second: RangePolicy) -> bool:
    return first.host is None or second.host is None or first.host == second.host


RULE = check
