"""The dashboard's reads that the API has no query for: who holds which port, the newest
leases, the audit log filtered, and the tenant's feed position. Every query is the tenant's."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, or_, select

from portplan.server import db
from portplan.server.schema import audit, lease_ports, leases, tenants

RECENT = 200


def held(conn: Connection, tenant_id: int) -> dict[str, dict[tuple[str, int], str]]:
    """host -> (protocol, port) -> holder, for the live leases that have not run out."""
    at = db.now(conn)
    rows = conn.execute(
        select(lease_ports.c.host, lease_ports.c.protocol, lease_ports.c.port, leases.c.holder)
        .join(leases, leases.c.id == lease_ports.c.lease_id)
        .where(
            lease_ports.c.tenant_id == tenant_id,
            or_(leases.c.expires_at.is_(None), leases.c.expires_at > at),
        )
    )
    found: dict[str, dict[tuple[str, int], str]] = {}
    for host, protocol, port, holder in rows:
        found.setdefault(str(host), {})[(str(protocol), int(port))] = str(holder)
    return found


@dataclass(frozen=True)
class LeaseRow:
    id: str
    host: str
    holder: str
    system: str | None
    state: str
    ports: str
    remaining: float | None  # seconds of a live lease's TTL; None: until released
    age: float  # seconds since granted, or since it ended


def recent_leases(conn: Connection, tenant_id: int, state: str = "") -> list[LeaseRow]:
    """The tenant's newest leases (live and ended), oldest first, so that a new one is
    added at the end of the table and nothing already shown moves."""
    at = db.now(conn)
    query = select(leases).where(leases.c.tenant_id == tenant_id)
    if state:
        query = query.where(leases.c.state == state)
    newest = query.order_by(leases.c.created_at.desc(), leases.c.id.desc()).limit(RECENT)
    rows = list(conn.execute(newest).mappings())
    return [_lease(r, at) for r in reversed(rows)]


def _lease(row: Any, at: float) -> LeaseRow:
    ports = ", ".join(
        f"{p['port']}/{p['protocol']}" + (f" ({p['service']})" if p.get("service") else "")
        for p in json.loads(row["ports"])
    )
    live = row["state"] == "live"
    expires = row["expires_at"]
    remaining = None if expires is None or not live else max(0.0, float(expires) - at)
    since = row["created_at"] if live else (row["ended_at"] or row["created_at"])
    return LeaseRow(
        str(row["id"]),
        str(row["host"]),
        str(row["holder"]),
        row["system"],
        str(row["state"]),
        ports,
        remaining,
        max(0.0, at - float(since)),
    )


@dataclass(frozen=True)
class AuditRow:
    id: int
    actor: str
    action: str
    subject: str
    at: float
    change: str


def audit_log(
    conn: Connection, tenant_id: int, actor: str = "", action: str = "", subject: str = ""
) -> list[AuditRow]:
    """The tenant's newest audit entries that match, oldest first."""
    query = select(audit).where(audit.c.tenant_id == tenant_id)
    if actor:
        query = query.where(audit.c.actor == actor)
    if action:
        query = query.where(audit.c.action == action)
    if subject:
        query = query.where(audit.c.subject.contains(subject, autoescape=True))
    rows = conn.execute(query.order_by(audit.c.id.desc()).limit(RECENT)).mappings()
    return [_audit(r) for r in reversed(list(rows))]


def _audit(row: Any) -> AuditRow:
    after = json.loads(row["after"]) if row["after"] else None
    change = _summary(after) if isinstance(after, dict) else ""
    return AuditRow(
        int(row["id"]),
        str(row["actor"]),
        str(row["action"]),
        str(row["subject"]),
        float(row["created_at"]),
        change,
    )


def _summary(after: dict[str, Any]) -> str:
    if "revision" in after:
        return f"revision {after['revision']}"
    if "ports" in after:
        ports = ", ".join(str(p.get("port")) for p in after["ports"])
        return f"{after.get('holder', '')} on {after.get('host', '')}: {ports}"
    return ""


def audit_choices(conn: Connection, tenant_id: int) -> tuple[list[str], list[str]]:
    """The actors and actions the tenant's audit log holds (for the filter's menus)."""
    mine = audit.c.tenant_id == tenant_id
    actors = conn.execute(select(audit.c.actor).where(mine).distinct().order_by(audit.c.actor))
    actions = conn.execute(select(audit.c.action).where(mine).distinct().order_by(audit.c.action))
    return [str(a[0]) for a in actors], [str(a[0]) for a in actions]


def feed_position(conn: Connection, tenant_id: int) -> int:
    found = conn.execute(select(tenants.c.revision).where(tenants.c.id == tenant_id)).scalar()
    return int(found or 0)
