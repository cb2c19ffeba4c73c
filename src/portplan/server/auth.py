"""Who is calling: the bearer token of a request, as a dependency that requires a scope."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from portplan.server import readers, tenants
from portplan.server.errors import ApiError
from portplan.server.tenants import Caller

# declares the bearer scheme in the OpenAPI document; the dependency below answers 401 itself
_bearer = HTTPBearer(auto_error=False, description="a token from `portplan serve token create`")


def require(scope: str) -> Callable[..., Awaitable[Caller]]:
    """A FastAPI dependency: the caller, who must hold `scope` (401/403 otherwise). The token
    is looked up in the database on every request (no cache), so a revoked token is refused
    by every server process from the revocation's commit on."""

    async def dependency(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
    ) -> Caller:
        token = credentials.credentials.strip() if credentials is not None else ""
        if not token:
            raise ApiError(401, "unauthenticated", "a bearer token is required")
        found = await readers.read(request, lambda conn: tenants.caller(conn, token))
        if found is None:
            raise ApiError(401, "unauthenticated", "unknown or revoked token")
        if not found.may(scope):
            raise ApiError(403, "forbidden", f"this token's scope is {found.scope}, not {scope}")
        request.state.caller = found
        return found

    return dependency
