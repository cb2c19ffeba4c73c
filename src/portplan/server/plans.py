"""Stored plans: push (validated as `check` validates), pull, revisions, diff, and the
ports a tenant's plans assign or reserve on a host."""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, func, insert, select

from portplan.errors import InputError
from portplan.findings import Level
from portplan.model import Topology
from portplan.plan import check, loader
from portplan.server import db, feed
from portplan.server.errors import ApiError, not_found
from portplan.server.schema import plan_revisions, systems
from portplan.server.tenants import Caller

PLAN_FILE = "portplan.yaml"


@dataclass(frozen=True)
class Revision:
    system: str
    number: int
    text: str
    sha256: str
    actor: str
    created_at: float

    def summary(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "revision": self.number,
            "sha256": self.sha256,
            "actor": self.actor,
            "created_at": self.created_at,
        }


@lru_cache(maxsize=256)
def topology_of(text: str) -> Topology:
    """The model of a stored plan (stored plans were valid when pushed)."""
    return loader.load_text(text, PLAN_FILE)


_INCLUDE = re.compile(r"""^["']?include["']?[ \t]*:""", re.MULTILINE)


def validate(text: str) -> list[dict[str, Any]]:
    """The findings of `text` as `check` reports them; raises a 422 on a plan with errors."""
    _refuse_includes(text)
    try:
        topology = loader.load_text(text, PLAN_FILE)
    except InputError as error:
        detail = {"file": error.file, "line": error.line, "column": error.column}
        raise ApiError(
            422, "invalid_plan", str(error), [{**detail, "message": error.what}]
        ) from None
    findings = check.check(topology).findings
    listed = [f.as_dict() for f in findings]
    if any(f.level >= Level.ERROR for f in findings):
        raise ApiError(422, "plan_has_errors", "the plan has errors", listed)
    return listed


def _refuse_includes(text: str) -> None:
    """A stored plan is one file: the files a plan includes are on the pusher's disk, and a
    plan stored without them would lack their services (and their ports would be leased)."""
    found = _INCLUDE.search(text)
    if found is None:
        return
    line = text.count("\n", 0, found.start()) + 1
    message = (
        "include: the registry keeps one file, not the files a plan includes; "
        "merge them into the plan before pushing it"
    )
    detail = {"file": PLAN_FILE, "line": line, "column": 1, "message": message}
    raise ApiError(422, "plan_includes", f"{PLAN_FILE}:{line}:1: {message}", [detail])


def push(conn: Connection, caller: Caller, system: str, text: str) -> dict[str, Any]:
    """Store `text` as the next revision of `system` (created on first push)."""
    findings = validate(text)
    system_id = _ensure_system(conn, caller.tenant_id, system)
    previous = _latest(conn, caller.tenant_id, system)
    digest = hashlib.sha256(text.encode()).hexdigest()
    if previous is not None and previous.sha256 == digest:
        return {**previous.summary(), "changed": False, "findings": findings}
    number = (previous.number if previous else 0) + 1
    at = db.now(conn)
    conn.execute(
        insert(plan_revisions).values(
            system_id=system_id,
            number=number,
            text=text,
            sha256=digest,
            actor=caller.token,
            created_at=at,
        )
    )
    before = previous.summary() if previous else None
    after = {"system": system, "revision": number, "sha256": digest}
    revision = feed.record(
        conn, caller.tenant_id, caller.token, "plan.pushed", f"systems/{system}", before, after
    )
    summary = Revision(system, number, text, digest, caller.token, at).summary()
    return {**summary, "changed": True, "feed_revision": revision, "findings": findings}


def _ensure_system(conn: Connection, tenant_id: int, name: str) -> int:
    found = conn.execute(
        select(systems.c.id).where(systems.c.tenant_id == tenant_id, systems.c.name == name)
    ).scalar()
    if found is not None:
        return int(found)
    row = conn.execute(
        insert(systems)
        .values(tenant_id=tenant_id, name=name, created_at=db.now(conn))
        .returning(systems.c.id)
    )
    return int(row.scalar_one())


def _revisions_query(tenant_id: int, system: str) -> Any:
    return (
        select(
            systems.c.name,
            plan_revisions.c.number,
            plan_revisions.c.text,
            plan_revisions.c.sha256,
            plan_revisions.c.actor,
            plan_revisions.c.created_at,
        )
        .join(systems, systems.c.id == plan_revisions.c.system_id)
        .where(systems.c.tenant_id == tenant_id, systems.c.name == system)
    )


def _revision(row: Any) -> Revision:
    return Revision(str(row[0]), int(row[1]), str(row[2]), str(row[3]), str(row[4]), row[5])


def _latest(conn: Connection, tenant_id: int, system: str) -> Revision | None:
    query = _revisions_query(tenant_id, system).order_by(plan_revisions.c.number.desc()).limit(1)
    row = conn.execute(query).first()
    return _revision(row) if row else None


def get(conn: Connection, tenant_id: int, system: str, number: int | None = None) -> Revision:
    """A revision of `system` (the newest without `number`); 404 when there is none."""
    if number is None:
        found = _latest(conn, tenant_id, system)
    else:
        query = _revisions_query(tenant_id, system).where(plan_revisions.c.number == number)
        row = conn.execute(query).first()
        found = _revision(row) if row else None
    if found is None:
        what = f"system {system!r}" if number is None else f"revision {number} of {system!r}"
        raise not_found(what)
    return found


def revisions(conn: Connection, tenant_id: int, system: str) -> list[dict[str, Any]]:
    rows = conn.execute(_revisions_query(tenant_id, system).order_by(plan_revisions.c.number))
    found = [_revision(r).summary() for r in rows]
    if not found:
        raise not_found(f"system {system!r}")
    return found


def diff(conn: Connection, tenant_id: int, system: str, old: int, new: int) -> str:
    a, b = get(conn, tenant_id, system, old), get(conn, tenant_id, system, new)
    lines = difflib.unified_diff(
        a.text.splitlines(keepends=True),
        b.text.splitlines(keepends=True),
        f"{system}@{old}/{PLAN_FILE}",
        f"{system}@{new}/{PLAN_FILE}",
    )
    return "".join(lines)


def system_names(conn: Connection, tenant_id: int) -> list[dict[str, Any]]:
    latest = (
        select(plan_revisions.c.system_id, func.max(plan_revisions.c.number).label("head"))
        .group_by(plan_revisions.c.system_id)
        .subquery()
    )
    rows = conn.execute(
        select(systems.c.name, latest.c.head)
        .join(latest, latest.c.system_id == systems.c.id)
        .where(systems.c.tenant_id == tenant_id)
        .order_by(systems.c.name)
    )
    return [{"name": r[0], "revision": int(r[1])} for r in rows]


def topologies(conn: Connection, tenant_id: int) -> list[Topology]:
    """The newest plan of every system of the tenant."""
    return [
        topology_of(get(conn, tenant_id, s["name"]).text) for s in system_names(conn, tenant_id)
    ]
