"""Tenants and their bearer tokens: a token is shown once, stored as its SHA-256 only, and
carries one scope (read < lease < admin)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, insert, select, update

from portplan.server import db
from portplan.server.schema import tenants, tokens

SCOPES = ("read", "lease", "admin")
PREFIX = "ppt_"


@dataclass(frozen=True)
class Caller:
    """Who a request comes from: a tenant, and the token's name and scope."""

    tenant_id: int
    tenant: str
    token: str
    scope: str

    def may(self, scope: str) -> bool:
        return SCOPES.index(self.scope) >= SCOPES.index(scope)


def hash_token(token: str) -> str:
    # the tokens are 256 random bits: a fast hash is enough, nothing to brute-force
    return hashlib.sha256(token.encode()).hexdigest()


def ensure_tenant(conn: Connection, name: str) -> int:
    found = conn.execute(select(tenants.c.id).where(tenants.c.name == name)).scalar()
    if found is not None:
        return int(found)
    row = conn.execute(
        insert(tenants).values(name=name, created_at=db.now(conn)).returning(tenants.c.id)
    )
    return int(row.scalar_one())


def create_token(conn: Connection, tenant: str, name: str, scope: str) -> str:
    """A new token for `tenant` (created if new); the only time its value exists in clear."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}, got {scope!r}")
    tenant_id = ensure_tenant(conn, tenant)
    token = PREFIX + secrets.token_urlsafe(32)
    conn.execute(
        insert(tokens).values(
            tenant_id=tenant_id,
            name=name,
            token_hash=hash_token(token),
            scope=scope,
            created_at=db.now(conn),
        )
    )
    return token


def revoke(conn: Connection, tenant: str, name: str) -> int:
    """Revoke the tenant's tokens named `name`; returns how many."""
    tenant_id = conn.execute(select(tenants.c.id).where(tenants.c.name == tenant)).scalar()
    if tenant_id is None:
        return 0
    done = conn.execute(
        update(tokens)
        .where(tokens.c.tenant_id == tenant_id, tokens.c.name == name, tokens.c.revoked.is_(False))
        .values(revoked=True)
    )
    return int(done.rowcount)


# built once: building a statement costs more than running it (every request runs this)
_CALLER = (
    select(tokens.c.tenant_id, tenants.c.name, tokens.c.name, tokens.c.scope)
    .join(tenants, tenants.c.id == tokens.c.tenant_id)
    .where(tokens.c.token_hash == bindparam("token_hash"), tokens.c.revoked.is_(False))
)


def caller(conn: Connection, token: str) -> Caller | None:
    """The caller a token stands for, or None for an unknown or revoked token."""
    row = conn.execute(_CALLER, {"token_hash": hash_token(token)}).first()
    if row is None:
        return None
    return Caller(int(row[0]), str(row[1]), str(row[2]), str(row[3]))
