"""Leases: ports handed to a holder on a host, all of a request or none, until released or
expired (by the database clock).

The database enforces the no-duplicate rule: `lease_ports` has one row per held
(tenant, host, protocol, port) and a primary key over exactly that. Choosing a port reads
what is held; if a concurrent transaction took it first, the insert fails and the whole
transaction runs again (`db.write`). Expired leases lose their rows in the transaction that
needs the ports, before it chooses, and in the periodic sweep.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from portplan.model import PortRange, Topology
from portplan.server import db, feed, plans
from portplan.server.errors import ApiError, not_found
from portplan.server.schema import lease_ports, leases
from portplan.server.tenants import Caller


@dataclass(frozen=True)
class Wish:
    """One port of a lease request: from a named range of the system's plan, from an
    explicit range (`first`-`last`), from `candidates`, or for a service's named port."""

    range: str | None = None
    first: int | None = None
    last: int | None = None
    candidates: tuple[int, ...] = ()
    service: str | None = None
    port_name: str | None = None
    protocol: str = "tcp"


@dataclass(frozen=True)
class Request:
    holder: str
    wishes: tuple[Wish, ...]
    host: str | None = None
    system: str | None = None
    ttl_seconds: float | None = None
    idempotency_key: str | None = None

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()


def grant(conn: Connection, caller: Caller, request: Request) -> tuple[dict[str, Any], bool]:
    """Lease the ports of `request`; returns (lease, created). A retried request with the
    same idempotency key returns the lease it was given the first time."""
    if request.idempotency_key is not None:
        replay = _replay(conn, caller, request)
        if replay is not None:
            return replay, False
    topology = _topology(conn, caller, request.system)
    host = _host(request, topology)
    at = _lock_host(conn, caller.tenant_id, host)
    expire(conn, caller, at)
    chosen = _choose(conn, caller, request, topology, host)
    lease_id = secrets.token_hex(12)
    expires = None if request.ttl_seconds is None else at + request.ttl_seconds
    row = {
        "id": lease_id,
        "host": host,
        "holder": request.holder,
        "system": request.system,
        "state": "live",
        "created_at": at,
        "expires_at": expires,
    }
    held = [
        {"tenant_id": caller.tenant_id, "host": host, "lease_id": lease_id, **_key(p)}
        for p in chosen
    ]
    changes = [
        insert(leases).values(
            **row,
            tenant_id=caller.tenant_id,
            idempotency_key=request.idempotency_key,
            request_hash=request.digest(),
            ports=json.dumps(chosen),
        ),
        # one statement a port: a multi-row VALUES is compiled again on every call (it
        # has no cache key), and a lease has a port or a few
        *(insert(lease_ports).values(p) for p in held),
    ]
    lease = {**row, "ended_at": None, "ports": chosen}
    subject = f"leases/{lease_id}"
    feed.record(
        conn, caller.tenant_id, caller.token, "lease.granted", subject, None, lease, at, changes
    )
    return lease, True


def _key(port: dict[str, Any]) -> dict[str, Any]:
    return {"protocol": port["protocol"], "port": port["port"]}


def _replay(conn: Connection, caller: Caller, request: Request) -> dict[str, Any] | None:
    row = conn.execute(
        select(leases.c.id, leases.c.request_hash).where(
            leases.c.tenant_id == caller.tenant_id,
            leases.c.idempotency_key == request.idempotency_key,
        )
    ).first()
    if row is None:
        return None
    if row[1] != request.digest():
        raise ApiError(
            409,
            "idempotency_key_reused",
            "this idempotency key was used for a different request",
            {"lease": row[0]},
        )
    return get(conn, caller, str(row[0]))


def _topology(conn: Connection, caller: Caller, system: str | None) -> Topology | None:
    if system is None:
        return None
    return plans.get(conn, caller.tenant_id, system).topology()


def _host(request: Request, topology: Topology | None) -> str:
    if request.host is not None:
        return request.host
    for wish in request.wishes:
        if wish.service is not None and topology is not None:
            service = topology.services.get(wish.service)
            if service is not None:
                return service.host
    return topology.default_host if topology is not None else "default"


def _lock_host(conn: Connection, tenant_id: int, host: str) -> float:
    """The database clock, read once the host is locked: on PostgreSQL, writers for one
    host queue on an advisory lock (fewer lost races; one round trip with the clock);
    correctness does not depend on it: the primary key of lease_ports does that."""
    if conn.dialect.name != "postgresql":
        return db.now(conn)
    key = (tenant_id * 1_000_003 + zlib.crc32(host.encode())) % (2**63)
    # the select list is evaluated in order: the clock is read after the lock is granted
    sql = "SELECT pg_advisory_xact_lock(%s), extract(epoch from clock_timestamp())::float8"
    return float(conn.exec_driver_sql(sql, (key,)).one()[1])


def _choose(
    conn: Connection, caller: Caller, request: Request, topology: Topology | None, host: str
) -> list[dict[str, Any]]:
    planned = _planned(conn, caller, host)
    chosen: list[dict[str, Any]] = []
    for wish in request.wishes:
        own = _own_port(topology, wish)
        segments = _options(topology, wish, own)
        mine = {c["port"] for c in chosen if c["protocol"] == wish.protocol}
        blocked = mine | {p for proto, p in planned if proto == wish.protocol}
        place = _Place(caller.tenant_id, host, wish.protocol)
        port = next(
            (p for s in segments if (p := _first_free(conn, place, s, own, mine, blocked))),
            None,
        )
        if port is None:
            raise ApiError(409, "no_free_port", "no free port for this request", asdict(wish))
        chosen.append(_entry(topology, wish, port))
    return chosen


@dataclass(frozen=True)
class _Place:
    tenant_id: int
    host: str
    protocol: str

    def of(self, table: Any) -> tuple[Any, ...]:
        return (
            table.c.tenant_id == self.tenant_id,
            table.c.host == self.host,
            table.c.protocol == self.protocol,
        )


def _first_free(
    conn: Connection,
    place: _Place,
    segment: Sequence[int],
    own: int | None,
    mine: set[int],
    blocked: set[int],
) -> int | None:
    """The first port of `segment` no live lease holds and neither the plan (`blocked`) nor
    this request takes; a service's own planned port is free unless a lease holds it."""
    if isinstance(segment, range):
        return _lowest_in_range(conn, place, segment, blocked)
    held = _held(conn, place, segment)
    for port in segment:
        if port not in held and port not in (mine if port == own else blocked):
            return port
    return None


def _lowest_in_range(
    conn: Connection, place: _Place, ports: range, blocked: set[int]
) -> int | None:
    """The lowest port of `ports` that no lease holds, found in the database along the
    primary key (the first gap after `cursor`), stepping over the plan's own ports (in
    memory first: a run of planned ports costs no query)."""
    cursor, last = ports.start, ports.stop - 1
    while cursor <= last:
        while cursor in blocked:
            cursor += 1
        if cursor > last:
            return None
        found = _lowest_unheld(conn, place, cursor, last)
        if found is None or found not in blocked:
            return found
        cursor = found + 1
    return None


def _lowest_unheld(conn: Connection, place: _Place, cursor: int, last: int) -> int | None:
    """`cursor` if no lease holds it, else the first held port after it whose successor is
    not held, along the primary key's order: one query (a window, not an anti-join, whose
    plan depends on no table statistics)."""
    held = (
        select(lease_ports.c.port)
        .where(*place.of(lease_ports), lease_ports.c.port == cursor)
        .exists()
    )
    window = (
        select(
            lease_ports.c.port,
            func.lead(lease_ports.c.port).over(order_by=lease_ports.c.port).label("next"),
        )
        .where(*place.of(lease_ports), lease_ports.c.port.between(cursor, last))
        .subquery()
    )
    gap = (
        select(window.c.port + 1)
        .where(or_(window.c.next.is_(None), window.c.next > window.c.port + 1))
        .order_by(window.c.port)
        .limit(1)
        .scalar_subquery()
    )
    found = conn.execute(select(case((~held, literal(cursor)), else_=gap))).scalar()
    return None if found is None or found > last else int(found)


def _held(conn: Connection, place: _Place, ports: Sequence[int]) -> set[int]:
    """Which of `ports` (a short list) live leases hold."""
    rows = conn.execute(
        select(lease_ports.c.port).where(
            *place.of(lease_ports), lease_ports.c.port.in_(list(ports))
        )
    )
    return {int(r[0]) for r in rows}


def _own_port(topology: Topology | None, wish: Wish) -> int | None:
    if topology is None or wish.service is None or wish.port_name is None:
        return None
    service = topology.services.get(wish.service)
    port = service.port(wish.port_name) if service else None
    return port.number if port is not None else None


def _options(topology: Topology | None, wish: Wish, own: int | None) -> list[Sequence[int]]:
    """Where the wish's port may be, in order: ranges (searched in the database) or lists."""
    if wish.candidates:
        return [list(wish.candidates)]
    if wish.first is not None and wish.last is not None:
        return [range(wish.first, wish.last + 1)]
    if wish.range is not None:
        if topology is None:
            raise ApiError(422, "system_required", "a named range needs `system`")
        by_name = {r.name: r for r in topology.ranges}
        if wish.range not in by_name:
            raise not_found(f"range {wish.range!r}")
        return [_span(by_name[wish.range].ports)]
    if wish.service is not None:
        return _service_options(topology, wish, own)
    raise ApiError(422, "empty_wish", "a port needs range, first/last, candidates or service")


def _span(ports: PortRange) -> range:
    return range(ports.start, ports.end + 1)


def _service_options(topology: Topology | None, wish: Wish, own: int | None) -> list[Sequence[int]]:
    """The service port's planned number first, then the range its policy gives it."""
    from portplan.plan.allocate import applicable_ranges

    if topology is None:
        raise ApiError(422, "system_required", "a service port needs `system`")
    service = topology.services.get(wish.service or "")
    if service is None:
        raise not_found(f"service {wish.service!r}")
    names = [wish.port_name] if wish.port_name else [p.name for p in service.ports]
    if wish.port_name and service.port(wish.port_name) is None and own is None:
        ranges = applicable_ranges(topology, service, wish.port_name)
    else:
        ranges = [r for n in names for r in applicable_ranges(topology, service, n or "")]
    options: list[Sequence[int]] = [[own]] if own is not None else []
    options.extend(_span(policy.ports) for policy in ranges)
    if not options:
        raise ApiError(409, "no_free_port", f"no planned port or range for {wish.service}")
    return options


def _entry(topology: Topology | None, wish: Wish, port: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"protocol": wish.protocol, "port": port}
    if wish.service is not None:
        entry["service"] = wish.service
        entry["port_name"] = wish.port_name
        entry["env"] = _env_name(topology, wish)
    return entry


def _env_name(topology: Topology | None, wish: Wish) -> str:
    service = topology.services.get(wish.service or "") if topology else None
    port = service.port(wish.port_name) if service and wish.port_name else None
    if port is not None and port.env:
        return port.env
    parts = [wish.service or "", wish.port_name or "", "port"]
    return "_".join(p for p in parts if p).upper().replace("-", "_").replace(".", "_")


def _planned(conn: Connection, caller: Caller, host: str) -> set[tuple[str, int]]:
    """(protocol, port) assigned or reserved on `host` by the tenant's stored plans."""
    held: set[tuple[str, int]] = set()
    for topology in plans.topologies(conn, caller.tenant_id):
        held.update((b.protocol, b.port) for b in topology.bindings() if b.host == host)
        for reservation in topology.reserved:
            if reservation.host is None or reservation.host == host:
                held.update((proto, p) for p in reservation.ports for proto in ("tcp", "udp"))
    return held


def held_on(conn: Connection, caller: Caller, hosts: Sequence[str], protocol: str) -> set[int]:
    """The ports live leases hold on any of `hosts` now (an expired lease the sweep has not
    ended yet holds nothing)."""
    at = db.now(conn)
    values = {"tenant_id": caller.tenant_id, "hosts": list(hosts), "protocol": protocol, "at": at}
    return {int(r[0]) for r in conn.execute(_HELD_ON, values)}


# the statements of the reads, built once (building one costs more than running it)
_HELD_ON = (
    select(lease_ports.c.port)
    .join(leases, leases.c.id == lease_ports.c.lease_id)
    .where(
        lease_ports.c.tenant_id == bindparam("tenant_id"),
        lease_ports.c.host.in_(bindparam("hosts", expanding=True)),
        lease_ports.c.protocol == bindparam("protocol"),
        or_(leases.c.expires_at.is_(None), leases.c.expires_at > bindparam("at")),
    )
)
_BY_ID = select(leases).where(
    leases.c.id == bindparam("lease_id"), leases.c.tenant_id == bindparam("tenant_id")
)


def expire(conn: Connection, caller: Caller | None, at: float) -> int:
    """End every live lease (of `caller`'s tenant, or all) whose time is up; frees its ports."""
    query = select(leases.c.id, leases.c.tenant_id, leases.c.expires_at).where(
        leases.c.state == "live", leases.c.expires_at.is_not(None), leases.c.expires_at <= at
    )
    if caller is not None:
        query = query.where(leases.c.tenant_id == caller.tenant_id)
    rows = conn.execute(query).all()
    for lease_id, tenant_id, expired_at in rows:
        ending = _ending(str(lease_id), "expired", float(expired_at))
        subject = f"leases/{lease_id}"
        feed.record(conn, int(tenant_id), "server", "lease.expired", subject, changes=ending)
    return len(rows)


def _ending(lease_id: str, state: str, at: float) -> list[Any]:
    """The statements that end a lease: its ports freed, its state and end time set."""
    return [
        delete(lease_ports).where(lease_ports.c.lease_id == lease_id),
        update(leases).where(leases.c.id == lease_id).values(state=state, ended_at=at),
    ]


def get(conn: Connection, caller: Caller, lease_id: str, at: float | None = None) -> dict[str, Any]:
    """The lease; with `at` (a read that ends nothing), one whose time is up by then is
    shown as it will be once the sweep has ended it: expired at its expiry time."""
    values = {"lease_id": lease_id, "tenant_id": caller.tenant_id}
    row = conn.execute(_BY_ID, values).mappings().first()
    if row is None:
        raise not_found(f"lease {lease_id!r}")
    return _public(row, at)


def _public(row: Any, at: float | None = None) -> dict[str, Any]:
    state, ended, expires = row["state"], row["ended_at"], row["expires_at"]
    if at is not None and state == "live" and expires is not None and expires <= at:
        state, ended = "expired", expires
    return {
        "id": row["id"],
        "host": row["host"],
        "holder": row["holder"],
        "system": row["system"],
        "state": state,
        "created_at": row["created_at"],
        "expires_at": expires,
        "ended_at": ended,
        "ports": json.loads(row["ports"]),
    }


def _live(conn: Connection, caller: Caller, lease_id: str) -> tuple[dict[str, Any], float]:
    """The lease, live (else 409), and the database clock it was read at."""
    at = db.now(conn)
    expire(conn, caller, at)
    lease = get(conn, caller, lease_id)
    if lease["state"] != "live":
        raise ApiError(409, "lease_ended", f"lease {lease_id!r} is {lease['state']}")
    return lease, at


def renew(conn: Connection, caller: Caller, lease_id: str, ttl: float | None) -> dict[str, Any]:
    before, at = _live(conn, caller, lease_id)
    after = {**before, "expires_at": None if ttl is None else at + ttl}
    change = update(leases).where(leases.c.id == lease_id).values(expires_at=after["expires_at"])
    subject = f"leases/{lease_id}"
    feed.record(
        conn, caller.tenant_id, caller.token, "lease.renewed", subject, before, after, at, [change]
    )
    return after


def release(conn: Connection, caller: Caller, lease_id: str) -> dict[str, Any]:
    before, at = _live(conn, caller, lease_id)
    after = {**before, "state": "released", "ended_at": at}
    ending = _ending(lease_id, "released", at)
    subject = f"leases/{lease_id}"
    feed.record(
        conn, caller.tenant_id, caller.token, "lease.released", subject, before, after, at, ending
    )
    return after


def listing(
    conn: Connection, caller: Caller, host: str | None, holder: str | None, state: str | None
) -> list[dict[str, Any]]:
    """The tenant's leases as of the database clock now (a read: it ends nothing)."""
    at = db.now(conn)
    query = _listing(host is not None, holder is not None, state)
    values = {"tenant_id": caller.tenant_id, "host": host, "holder": holder}
    found = [_public(r, at) for r in conn.execute(query, values).mappings()]
    return [lease for lease in found if state is None or lease["state"] == state]


@lru_cache(maxsize=16)
def _listing(by_host: bool, by_holder: bool, state: str | None) -> Select[Any]:
    """The statement of a listing with these filters, built once."""
    query = select(leases).where(leases.c.tenant_id == bindparam("tenant_id"))
    if by_host:
        query = query.where(leases.c.host == bindparam("host"))
    if by_holder:
        query = query.where(leases.c.holder == bindparam("holder"))
    if state in ("live", "expired"):  # a live lease may have expired by now
        query = query.where(leases.c.state.in_(["live", "expired"]))
    elif state is not None:
        query = query.where(leases.c.state == state)
    return query.order_by(leases.c.created_at, leases.c.id)
