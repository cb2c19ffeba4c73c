"""What the OpenAPI document says beyond the routes' own models: the one error shape for
every status the API answers with, and the links that chain a lease to its renew, read and
release (clients and schemathesis' stateful tests follow them)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from portplan.server.errors import ApiError


class ErrorDetail(BaseModel):
    code: str = Field(description="a stable code: not_found, no_free_port, invalid_request, ...")
    message: str
    details: Any = None


class ErrorOut(BaseModel):
    """Every error of the API, whatever its status."""

    error: ErrorDetail


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses` of a route or router: each status answers with `ErrorOut`."""
    return {status: {"model": ErrorOut, "description": _WHY[status]} for status in statuses}


_WHY = {
    400: "a body that is not JSON, a malformed header",
    401: "no bearer token, or an unknown or revoked one",
    403: "the token's scope is too narrow",
    404: "no such object for this tenant",
    409: "a conflict: no free port, an ended lease, a reused idempotency key",
    422: "the request does not fit the API, or a plan with errors (its findings)",
    503: "the database is unreachable or its schema is not current",
}
# every route behind a token: unauthenticated, forbidden, not found, invalid
AUTHENTICATED = errors(400, 401, 403, 404, 422)


def _link(operation: str, description: str) -> dict[str, Any]:
    return {
        "operationId": operation,
        "parameters": {"lease_id": "$response.body#/id"},
        "description": description,
    }


LEASE_LINKS = {
    "RenewLease": _link("renew_lease", "renew the lease just granted"),
    "ReadLease": _link("read_lease", "read the lease just granted"),
    "ReleaseLease": _link("release_lease", "release the lease just granted"),
}


def known_query(request: Request) -> None:
    """A router dependency: a query parameter the operation does not declare is refused (422)
    rather than ignored, so that `?stat=live` is not taken for an unfiltered listing."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    declared = _query_names(route.dependant)
    unknown = sorted(set(request.query_params) - declared)
    if unknown:
        raise ApiError(
            422,
            "invalid_request",
            f"unknown query parameter {unknown[0]!r}",
            [
                {"loc": ["query", name], "message": "not a parameter of this operation"}
                for name in unknown
            ],
        )


def _query_names(dependant: Dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for inner in dependant.dependencies:
        names |= _query_names(inner)
    return names


def router(prefix: str, tag: str) -> APIRouter:
    """An API router whose operations all take a token, document the error shape for every
    status and refuse unknown query parameters."""
    return APIRouter(
        prefix=prefix, tags=[tag], responses=AUTHENTICATED, dependencies=[Depends(known_query)]
    )


# the bounds the database columns take (a larger number is refused, not an overflow); no
# NUL character, which PostgreSQL's text cannot hold
TEXT = "^[^\\x00]*$"
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=TEXT)]
QueryName = Annotated[str | None, Query(min_length=1, max_length=200, pattern=TEXT)]
SystemName = Annotated[str, Path(min_length=1, max_length=200, pattern=TEXT)]
LeaseId = Annotated[str, Path(min_length=1, max_length=64, pattern=TEXT)]
RevisionNumber = Annotated[int, Query(ge=1, le=2**31 - 1)]
FeedRevision = Annotated[int, Query(ge=0, le=2**62)]
AuditId = Annotated[int, Query(ge=0, le=2**31 - 1)]
PortNumber = Annotated[int, Field(ge=1, le=65535)]
