"""Dashboard sessions: a login turns a bearer token into a session cookie, and every form
that changes something carries the session's CSRF token.

A session is a row of `dashboard_sessions` in the registry's database, so every serve
process (`--workers N`, or several serves on one PostgreSQL) knows it and a restart keeps it.
The row holds the SHA-256 of the session id (the id is a credential: never stored readable),
the SHA-256 of the token (never the token) and the expiry by the database clock. Each
request looks the token up again, so a revoked token ends its sessions at once. The CSRF
token is derived from the session id (an HMAC), so it is stored nowhere and is the same on
every process.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request, Response
from sqlalchemy import Connection, Engine, delete, insert, select

from portplan.server import db
from portplan.server.schema import dashboard_sessions, tenants, tokens
from portplan.server.tenants import Caller, hash_token

COOKIE = "portplan_session"
LOGIN_COOKIE = "portplan_login"  # the login form's CSRF token (double submit)
LIFETIME = 12 * 3600.0
_CSRF_LABEL = b"portplan dashboard csrf"


@dataclass(frozen=True)
class Session:
    token_hash: str
    csrf: str
    expires: float


class Sessions:
    """Session id -> Session, in the database, bounded by their lifetime."""

    def __init__(self, engine: Engine, lifetime: float = LIFETIME) -> None:
        self._engine = engine
        self._lifetime = lifetime

    def start(self, token_hash: str) -> str:
        session_id = secrets.token_urlsafe(32)

        def work(conn: Connection) -> None:
            now = db.now(conn)
            conn.execute(delete(dashboard_sessions).where(dashboard_sessions.c.expires_at < now))
            conn.execute(
                insert(dashboard_sessions).values(
                    id_hash=_digest(session_id),
                    token_hash=token_hash,
                    expires_at=now + self._lifetime,
                )
            )

        db.write(self._engine, work)
        return session_id

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        table = dashboard_sessions
        with self._engine.connect() as conn:
            row = conn.execute(
                select(table.c.token_hash, table.c.expires_at).where(
                    table.c.id_hash == _digest(session_id), table.c.expires_at >= db.now(conn)
                )
            ).first()
        if row is None:
            return None
        return Session(str(row[0]), csrf_token(session_id), float(row[1]))

    def close(self, session_id: str | None) -> None:
        if not session_id:
            return
        where = dashboard_sessions.c.id_hash == _digest(session_id)
        db.write(self._engine, lambda conn: conn.execute(delete(dashboard_sessions).where(where)))


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def csrf_token(session_id: str) -> str:
    """The session's CSRF token: an HMAC keyed by the session id, unpredictable without it."""
    return hmac.new(session_id.encode(), _CSRF_LABEL, hashlib.sha256).hexdigest()


def lookup(conn: Connection, token_hash: str) -> Caller | None:
    """The caller of a live token, by the token's hash."""
    row = conn.execute(
        select(tenants.c.id, tenants.c.name, tokens.c.name, tokens.c.scope)
        .select_from(tokens.join(tenants, tenants.c.id == tokens.c.tenant_id))
        .where(tokens.c.token_hash == token_hash, tokens.c.revoked.is_(False))
    ).first()
    return None if row is None else Caller(int(row[0]), str(row[1]), str(row[2]), str(row[3]))


def login(conn: Connection, token: str) -> tuple[Caller, str] | None:
    """(caller, token hash) for a live token, None for an unknown or revoked one."""
    digest = hash_token(token.strip())
    found = lookup(conn, digest)
    return None if found is None else (found, digest)


def same(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison of two CSRF tokens; a missing one never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def set_cookie(request: Request, response: Response, name: str, value: str, age: float) -> None:
    """HttpOnly, SameSite=Lax, path /, and Secure whenever the page came over HTTPS."""
    response.set_cookie(
        name,
        value,
        max_age=int(age),
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def login_token() -> str:
    return secrets.token_urlsafe(24)
