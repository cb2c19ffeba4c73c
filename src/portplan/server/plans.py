"""Stored plans: push (validated as `check` validates, with the files the plan includes),
pull, revisions, diff, and the ports a tenant's plans assign or reserve on a host."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, func, insert, select

from portplan.errors import InputError
from portplan.findings import Level
from portplan.model import Topology
from portplan.plan import check
from portplan.server import bundle, db, feed
from portplan.server.bundle import PLAN_FILE, Files
from portplan.server.errors import ApiError, not_found
from portplan.server.schema import plan_files, plan_revisions, systems
from portplan.server.tenants import Caller


@dataclass(frozen=True)
class Revision:
    system: str
    number: int
    text: str
    sha256: str
    actor: str
    created_at: float
    files: Files = ()  # the files the plan includes

    def summary(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "revision": self.number,
            "sha256": self.sha256,
            "actor": self.actor,
            "created_at": self.created_at,
            "files": [PLAN_FILE, *(path for path, _ in self.files)],
        }

    def topology(self) -> Topology:
        return topology_of(self.text, self.files)

    def file(self, path: str) -> str:
        """The text of one of the revision's files (404 for a path it does not have)."""
        if path == PLAN_FILE:
            return self.text
        found = dict(self.files).get(path)
        if found is None:
            raise not_found(f"file {path!r} of revision {self.number} of {self.system!r}")
        return found


@lru_cache(maxsize=256)
def topology_of(text: str, files: Files = ()) -> Topology:
    """The model of a stored plan and its files (stored plans were valid when pushed)."""
    return bundle.load(text, files)


def validate(text: str, files: Files = ()) -> list[dict[str, Any]]:
    """The findings of the plan and its files as `check` reports them; raises a 422 on
    files that are not the plan's includes (`plan_includes`), on a plan that cannot be read
    (`invalid_plan`) and on one with errors (`plan_has_errors`)."""
    try:
        bundle.check(text, files)
    except InputError as error:
        raise _refusal("plan_includes", error) from None
    try:
        topology = bundle.load(text, files)
    except InputError as error:
        raise _refusal("invalid_plan", error) from None
    findings = check.check(topology).findings
    listed = [f.as_dict() for f in findings]
    if any(f.level >= Level.ERROR for f in findings):
        raise ApiError(422, "plan_has_errors", "the plan has errors", listed)
    return listed


def _refusal(code: str, error: InputError) -> ApiError:
    detail = {"file": error.file, "line": error.line, "column": error.column}
    return ApiError(422, code, error.message(), [{**detail, "message": error.what}])


def push(
    conn: Connection, caller: Caller, system: str, text: str, files: Files = ()
) -> dict[str, Any]:
    """Store `text` and the files it includes as the next revision of `system` (created on
    first push)."""
    findings = validate(text, files)
    system_id = _ensure_system(conn, caller.tenant_id, system)
    previous = _latest(conn, caller.tenant_id, system)
    digest = bundle.digest(text, files)
    if previous is not None and previous.sha256 == digest:
        return {**previous.summary(), "changed": False, "findings": findings}
    number = (previous.number if previous else 0) + 1
    at = db.now(conn)
    revision_id = conn.execute(
        insert(plan_revisions)
        .values(
            system_id=system_id,
            number=number,
            text=text,
            sha256=digest,
            actor=caller.token,
            created_at=at,
            file_count=len(files),
        )
        .returning(plan_revisions.c.id)
    ).scalar_one()
    if files:
        rows = [{"revision_id": revision_id, "path": p, "text": t} for p, t in files]
        conn.execute(insert(plan_files), rows)
    stored = Revision(system, number, text, digest, caller.token, at, files)
    before = previous.summary() if previous else None
    after = {
        "system": system,
        "revision": number,
        "sha256": digest,
        "files": stored.summary()["files"],
    }
    revision = feed.record(
        conn, caller.tenant_id, caller.token, "plan.pushed", f"systems/{system}", before, after
    )
    return {**stored.summary(), "changed": True, "feed_revision": revision, "findings": findings}


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
    return _columns().where(systems.c.tenant_id == tenant_id, systems.c.name == system)


def _columns() -> Any:
    return select(
        systems.c.name,
        plan_revisions.c.number,
        plan_revisions.c.text,
        plan_revisions.c.sha256,
        plan_revisions.c.actor,
        plan_revisions.c.created_at,
        plan_revisions.c.id,
        plan_revisions.c.file_count,
    ).join(systems, systems.c.id == plan_revisions.c.system_id)


def _revision(row: Any, files: Files = ()) -> Revision:
    return Revision(str(row[0]), int(row[1]), str(row[2]), str(row[3]), str(row[4]), row[5], files)


def _whole(conn: Connection, row: Any) -> Revision:
    """The revision of `row` with its included files (read only when it has some)."""
    if not row[7]:
        return _revision(row)
    found = conn.execute(
        select(plan_files.c.path, plan_files.c.text)
        .where(plan_files.c.revision_id == row[6])
        .order_by(plan_files.c.path)
    )
    return _revision(row, tuple((str(p), str(t)) for p, t in found))


def topology_by_id(conn: Connection, revision_id: int) -> Topology:
    """The model of the revision with this id, with its files."""
    row = conn.execute(_columns().where(plan_revisions.c.id == revision_id)).one()
    return _whole(conn, row).topology()


def _latest(conn: Connection, tenant_id: int, system: str) -> Revision | None:
    query = _revisions_query(tenant_id, system).order_by(plan_revisions.c.number.desc()).limit(1)
    row = conn.execute(query).first()
    return _whole(conn, row) if row else None


def get(conn: Connection, tenant_id: int, system: str, number: int | None = None) -> Revision:
    """A revision of `system` (the newest without `number`); 404 when there is none."""
    if number is None:
        found = _latest(conn, tenant_id, system)
    else:
        query = _revisions_query(tenant_id, system).where(plan_revisions.c.number == number)
        row = conn.execute(query).first()
        found = _whole(conn, row) if row else None
    if found is None:
        what = f"system {system!r}" if number is None else f"revision {number} of {system!r}"
        raise not_found(what)
    return found


def revisions(conn: Connection, tenant_id: int, system: str) -> list[dict[str, Any]]:
    """Every revision's summary, with the paths of its files (one query for all)."""
    query = _revisions_query(tenant_id, system).order_by(plan_revisions.c.number)
    rows = conn.execute(query).all()
    if not rows:
        raise not_found(f"system {system!r}")
    paths: dict[int, list[str]] = {}
    if ids := [r[6] for r in rows if r[7]]:
        found = conn.execute(
            select(plan_files.c.revision_id, plan_files.c.path)
            .where(plan_files.c.revision_id.in_(ids))
            .order_by(plan_files.c.path)
        )
        for revision_id, path in found:
            paths.setdefault(int(revision_id), []).append(str(path))
    return [
        {**_revision(r).summary(), "files": [PLAN_FILE, *paths.get(int(r[6]), [])]} for r in rows
    ]


def diff(conn: Connection, tenant_id: int, system: str, old: int, new: int) -> str:
    """A unified diff from revision `old` to `new`, file by file (the plan first, then its
    included files by path; a file only one side has is diffed against nothing)."""
    a, b = get(conn, tenant_id, system, old), get(conn, tenant_id, system, new)
    before, after = _texts(a), _texts(b)
    paths = [PLAN_FILE, *sorted((set(before) | set(after)) - {PLAN_FILE})]
    return "".join(
        "".join(
            difflib.unified_diff(
                before.get(path, "").splitlines(keepends=True),
                after.get(path, "").splitlines(keepends=True),
                f"{system}@{old}/{path}" if path in before else "/dev/null",
                f"{system}@{new}/{path}" if path in after else "/dev/null",
            )
        )
        for path in paths
    )


def _texts(revision: Revision) -> dict[str, str]:
    return {PLAN_FILE: revision.text, **dict(revision.files)}


def _heads() -> Any:
    return (
        select(plan_revisions.c.system_id, func.max(plan_revisions.c.number).label("head"))
        .group_by(plan_revisions.c.system_id)
        .subquery()
    )


def system_names(conn: Connection, tenant_id: int) -> list[dict[str, Any]]:
    latest = _heads()
    rows = conn.execute(
        select(systems.c.name, latest.c.head)
        .join(latest, latest.c.system_id == systems.c.id)
        .where(systems.c.tenant_id == tenant_id)
        .order_by(systems.c.name)
    )
    return [{"name": r[0], "revision": int(r[1])} for r in rows]


def topologies(conn: Connection, tenant_id: int) -> list[Topology]:
    """The newest plan of every system of the tenant: one query (and one more for the
    files of each that includes some), however many systems it has."""
    latest = _heads()
    query = (
        _columns()
        .join(
            latest,
            (latest.c.system_id == plan_revisions.c.system_id)
            & (latest.c.head == plan_revisions.c.number),
        )
        .where(systems.c.tenant_id == tenant_id)
        .order_by(systems.c.name)
    )
    return [_whole(conn, row).topology() for row in conn.execute(query).all()]
