"""The change feed and the audit log, written in the transaction of the change they record.

Each change takes the tenant's next revision with `UPDATE ... SET revision = revision + 1`:
the row lock orders writers, so revisions become visible in commit order (a sequence would
hand out numbers in start order, and a reader could skip a late commit)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, insert, select, text, update

from portplan.server import db
from portplan.server.schema import audit, events, tenants


def record(
    conn: Connection,
    tenant_id: int,
    actor: str,
    action: str,
    subject: str,
    before: Any = None,
    after: Any = None,
    at: float | None = None,
) -> int:
    """Append the audit entry and the feed event of one change (at `at` by the database
    clock, now if not given); returns its revision."""
    at = db.now(conn) if at is None else at
    conn.execute(
        insert(audit).values(
            tenant_id=tenant_id,
            actor=actor,
            action=action,
            subject=subject,
            before=None if before is None else json.dumps(before, sort_keys=True),
            after=None if after is None else json.dumps(after, sort_keys=True),
            created_at=at,
        )
    )
    revision = int(
        conn.execute(
            update(tenants)
            .where(tenants.c.id == tenant_id)
            .values(revision=tenants.c.revision + 1)
            .returning(tenants.c.revision)
        ).scalar_one()
    )
    data = {"action": action, "subject": subject, "actor": actor, "after": after}
    conn.execute(
        insert(events).values(
            tenant_id=tenant_id,
            revision=revision,
            kind=action,
            subject=subject,
            data=json.dumps(data, sort_keys=True),
            created_at=at,
        )
    )
    if conn.dialect.name == "postgresql":
        # delivered at commit, to every `portplan serve` on this database: wakes their feeds
        conn.execute(text("SELECT pg_notify('portplan_feed', :t)"), {"t": str(tenant_id)})
    return revision


def since(conn: Connection, tenant_id: int, after: int, limit: int = 500) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(events)
        .where(events.c.tenant_id == tenant_id, events.c.revision > after)
        .order_by(events.c.revision)
        .limit(limit)
    ).mappings()
    return [
        {
            "revision": int(r["revision"]),
            "kind": r["kind"],
            "subject": r["subject"],
            "at": r["created_at"],
            "data": json.loads(r["data"]),
        }
        for r in rows
    ]


def audit_log(conn: Connection, tenant_id: int, after: int = 0, limit: int = 500) -> list[Any]:
    rows = conn.execute(
        select(audit)
        .where(audit.c.tenant_id == tenant_id, audit.c.id > after)
        .order_by(audit.c.id)
        .limit(limit)
    ).mappings()
    return [
        {
            "id": int(r["id"]),
            "actor": r["actor"],
            "action": r["action"],
            "subject": r["subject"],
            "before": None if r["before"] is None else json.loads(r["before"]),
            "after": None if r["after"] is None else json.loads(r["after"]),
            "at": r["created_at"],
        }
        for r in rows
    ]
