"""Who is calling: the bearer token of a request, as a dependency that requires a scope."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from portplan.server import tenants
from portplan.server.errors import ApiError
from portplan.server.tenants import Caller


def require(scope: str) -> Callable[[Request], Caller]:
    """A FastAPI dependency: the caller, who must hold `scope` (401/403 otherwise)."""

    def dependency(request: Request) -> Caller:
        header = request.headers.get("authorization", "")
        kind, _, token = header.partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            raise ApiError(401, "unauthenticated", "a bearer token is required")
        with request.app.state.engine.connect() as conn:
            found = tenants.caller(conn, token.strip())
        if found is None:
            raise ApiError(401, "unauthenticated", "unknown or revoked token")
        if not found.may(scope):
            raise ApiError(403, "forbidden", f"this token's scope is {found.scope}, not {scope}")
        request.state.caller = found
        return found

    return dependency
