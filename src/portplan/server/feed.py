"""The change feed and the audit log, written in the transaction of the change they record.

Each change takes the tenant's next revision with `UPDATE ... SET revision = revision + 1`:
the row lock orders writers, so revisions become visible in commit order (a sequence would
hand out numbers in start order, and a reader could skip a late commit). On PostgreSQL the
change, its audit entry, the revision, the event and the NOTIFY are one statement."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Executable, func, insert, literal, select, update

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
    changes: Sequence[Executable] = (),
) -> int:
    """Make `changes` (statements that write the change itself) and append the audit entry
    and the feed event of the change (at `at` by the database clock, now if not given);
    returns its revision.

    On PostgreSQL all of it is one statement, `changes` and the audit entry as CTEs beside
    the revision bump, the event and the NOTIFY: one round trip instead of one a statement."""
    at = db.now(conn) if at is None else at
    entry = insert(audit).values(
        tenant_id=tenant_id,
        actor=actor,
        action=action,
        subject=subject,
        before=None if before is None else json.dumps(before, sort_keys=True),
        after=None if after is None else json.dumps(after, sort_keys=True),
        created_at=at,
    )
    data = json.dumps(
        {"action": action, "subject": subject, "actor": actor, "after": after}, sort_keys=True
    )
    if conn.dialect.name == "postgresql":
        return _in_one_statement(conn, tenant_id, action, subject, data, at, [*changes, entry])
    for change in [*changes, entry]:
        conn.execute(change)
    revision = int(conn.execute(_bump(tenant_id)).scalar_one())
    conn.execute(
        insert(events).values(
            tenant_id=tenant_id,
            revision=revision,
            kind=action,
            subject=subject,
            data=data,
            created_at=at,
        )
    )
    return revision


def _bump(tenant_id: int) -> Any:
    """The tenant's next revision: the row lock orders writers, commit order."""
    return (
        update(tenants)
        .where(tenants.c.id == tenant_id)
        .values(revision=tenants.c.revision + 1)
        .returning(tenants.c.revision)
    )


def _in_one_statement(
    conn: Connection,
    tenant_id: int,
    action: str,
    subject: str,
    data: str,
    at: float,
    changes: list[Executable],
) -> int:
    bump = _bump(tenant_id).cte("bump")
    event = (
        insert(events)
        .from_select(
            ["tenant_id", "revision", "kind", "subject", "data", "created_at"],
            select(
                literal(tenant_id),
                bump.c.revision,
                literal(action),
                literal(subject),
                literal(data),
                literal(at),
            ),
        )
        .returning(events.c.revision)
        .cte("event")
    )
    # NOTIFY is delivered at commit, to every `portplan serve` on this database: it wakes
    # their feeds
    query = select(event.c.revision, func.pg_notify("portplan_feed", str(tenant_id)))
    for number, change in enumerate(changes):
        query = query.add_cte(change.cte(f"change{number}"))  # type: ignore[attr-defined]
    return int(conn.execute(query).scalar_one())


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
