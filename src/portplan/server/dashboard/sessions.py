"""Dashboard sessions: a login turns a bearer token into a session cookie, and every form
that changes something carries the session's CSRF token.

A session holds the SHA-256 of the token (never the token): each request looks the token up
again, so a revoked token ends its sessions at once. Sessions live in the serving process;
a restart asks for the token again.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from fastapi import Request, Response
from sqlalchemy import Connection, select

from portplan.server.schema import tenants, tokens
from portplan.server.tenants import Caller, hash_token

COOKIE = "portplan_session"
LOGIN_COOKIE = "portplan_login"  # the login form's CSRF token (double submit)
LIFETIME = 12 * 3600.0


@dataclass(frozen=True)
class Session:
    token_hash: str
    csrf: str
    expires: float


class Sessions:
    """Session id -> Session, in memory, bounded by their lifetime."""

    def __init__(self, lifetime: float = LIFETIME) -> None:
        self._lifetime = lifetime
        self._found: dict[str, Session] = {}
        self._lock = threading.Lock()

    def start(self, token_hash: str) -> str:
        session_id = secrets.token_urlsafe(32)
        session = Session(token_hash, secrets.token_urlsafe(32), time.time() + self._lifetime)
        with self._lock:
            self._drop_expired()
            self._found[session_id] = session
        return session_id

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        with self._lock:
            found = self._found.get(session_id)
        if found is None or found.expires < time.time():
            return None
        return found

    def close(self, session_id: str | None) -> None:
        with self._lock:
            self._found.pop(session_id or "", None)

    def _drop_expired(self) -> None:
        now = time.time()
        for key in [k for k, s in self._found.items() if s.expires < now]:
            del self._found[key]


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
