"""What a stored plan says (services, hosts, ports, ranges, findings, free ports per range),
read by the plan's SHA-256. A revision never changes, so the answer to one question about
one plan text is worked out once per process and kept, as JSON bytes; a read costs one query
for the system's newest revision (tenant and system in its WHERE clause: a tenant reaches
only its own plans), plus the live leases for free ports."""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from fastapi.encoders import jsonable_encoder
from sqlalchemy import Connection, bindparam, select

from portplan.errors import UsageError
from portplan.model import PortRange, Service, Topology
from portplan.plan import allocate, check
from portplan.server import leases, plans, readers
from portplan.server.errors import ApiError, not_found
from portplan.server.schema import plan_revisions, systems
from portplan.server.tenants import Caller

K = TypeVar("K")
V = TypeVar("V")

_NEWEST = (
    select(plan_revisions.c.id, plan_revisions.c.sha256)
    .join(systems, systems.c.id == plan_revisions.c.system_id)
    .where(systems.c.tenant_id == bindparam("tenant_id"), systems.c.name == bindparam("system"))
    .order_by(plan_revisions.c.number.desc())
    .limit(1)
)


class _Recent(Generic[K, V]):
    """The `size` most recently used entries (the thread pool's readers share it)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K, make: Callable[[], V]) -> V:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


_TOPOLOGIES: _Recent[str, Topology] = _Recent(64)
_BODIES: _Recent[tuple[str, str], bytes] = _Recent(512)
_USAGES: _Recent[tuple[str, str | None], list[allocate.RangeUsage]] = _Recent(256)


def newest(conn: Connection, tenant_id: int, system: str) -> tuple[str, Topology]:
    """(SHA-256, model) of the system's newest plan; 404 when the tenant has no such system."""
    row = conn.execute(_NEWEST, {"tenant_id": tenant_id, "system": system}).first()
    if row is None:
        raise not_found(f"system {system!r}")
    revision_id, sha = int(row[0]), str(row[1])

    def load() -> Topology:
        return plans.topology_by_id(conn, revision_id)

    return sha, _TOPOLOGIES.get(sha, load)


def body(conn: Connection, tenant_id: int, system: str, view: str) -> bytes:
    """The JSON of `view` (a key of VIEWS) of the system's newest plan."""
    sha, topology = newest(conn, tenant_id, system)
    return _BODIES.get((view, sha), lambda: readers.render(jsonable_encoder(VIEWS[view](topology))))


def _services(topology: Topology) -> dict[str, Any]:
    return {
        "services": [
            {"name": s.name, "host": s.host, "category": s.category, "ports": _ports_of(s)}
            for s in topology.services.values()
        ]
    }


def _ports_of(service: Service) -> list[dict[str, Any]]:
    return [
        {"name": p.name, "number": p.number, "protocol": p.protocol, "kind": p.kind}
        for p in service.ports
    ]


def _hosts(topology: Topology) -> dict[str, Any]:
    return {"hosts": sorted(topology.host_names())}


def _ports(topology: Topology) -> dict[str, Any]:
    ordered = sorted(topology.bindings(), key=lambda b: (b.host, b.port, b.protocol))
    return {
        "ports": [
            {
                "host": b.host,
                "protocol": b.protocol,
                "port": b.port,
                "service": b.service,
                "port_name": b.port_name,
            }
            for b in ordered
        ]
    }


def _ranges(topology: Topology) -> dict[str, Any]:
    return {
        "ranges": [
            {"name": r.name, "ports": str(r.ports), "category": r.category, "kind": r.kind}
            for r in topology.ranges
        ]
    }


def _findings(topology: Topology) -> dict[str, Any]:
    return {"findings": [f.as_dict() for f in check.check(topology).findings]}


VIEWS: dict[str, Callable[[Topology], dict[str, Any]]] = {
    "services": _services,
    "hosts": _hosts,
    "ports": _ports,
    "ranges": _ranges,
    "check": _findings,
}


def free(conn: Connection, caller: Caller, system: str, range_name: str | None) -> dict[str, Any]:
    """Free ports per range: neither assigned nor reserved by the plan, nor held by a live
    lease on the range's hosts."""
    sha, topology = newest(conn, caller.tenant_id, system)
    try:
        usages = _USAGES.get((sha, range_name), lambda: allocate.usage(topology, range_name))
    except UsageError as error:
        raise ApiError(404, "not_found", str(error)) from None
    held = [leases.held_on(conn, caller, u.hosts, "tcp") for u in usages]
    return {"ranges": [_free(u, h) for u, h in zip(usages, held, strict=True)]}


def _free(usage: allocate.RangeUsage, held: set[int]) -> dict[str, Any]:
    inside = sorted(p for p in held if p in usage.range.ports)
    runs = [run for r in usage.free for run in _without(r, inside)]
    return {
        "range": usage.range.name,
        "ports": str(usage.range.ports),
        "hosts": list(usage.hosts),
        "leased": inside,
        "free": [str(r) for r in runs],
        "free_count": sum(len(r) for r in runs),
    }


def _without(run: PortRange, held: list[int]) -> list[PortRange]:
    """`run` split around the `held` ports (sorted) that fall in it: work per held port,
    not per port of the range."""
    found: list[PortRange] = []
    start = run.start
    for port in held[bisect.bisect_left(held, run.start) : bisect.bisect_right(held, run.end)]:
        if port > start:
            found.append(PortRange(start, port - 1))
        start = port + 1
    if start <= run.end:
        found.append(PortRange(start, run.end))
    return found
