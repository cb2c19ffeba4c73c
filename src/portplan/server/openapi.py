"""What the OpenAPI document says beyond the routes' own models: the one error shape for
every status the API answers with, and the links that chain a lease to its renew, read and
release (clients and schemathesis' stateful tests follow them)."""

from __future__ import annotations

import re
from typing import Annotated, Any, get_args

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


async def known_query(request: Request) -> None:
    """A router dependency: a query parameter the operation does not declare is refused (422)
    rather than ignored, so that `?stat=live` is not taken for an unfiltered listing; so is a
    parameter given twice (`?after=1&after=9`: which one was meant?) and a whole number
    written otherwise than as digits (`?after=+0.0`, which the JSON Schema of an integer
    does not allow however lax the parsing). Async: it only looks at the request, and a
    plain function would cost every request a hop to a worker thread and back."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    declared = _query_params(route.dependant)
    given = request.query_params
    unknown = sorted(set(given) - set(declared))
    if unknown:
        _refuse(
            f"unknown query parameter {unknown[0]!r}", unknown, "not a parameter of this operation"
        )
    twice = sorted(name for name in set(given) if len(given.getlist(name)) > 1)
    if twice:
        _refuse(
            f"query parameter {twice[0]!r} is given more than once", twice, "given more than once"
        )
    for name, annotation in declared.items():
        value = given.get(name)
        if value is not None and _is_int(annotation) and not _DIGITS.fullmatch(value):
            _refuse(
                f"query parameter {name!r} must be a whole number", [name], "not a whole number"
            )


_DIGITS = re.compile(r"-?[0-9]+")


def _is_int(annotation: object) -> bool:
    return annotation is int or int in get_args(annotation)


def _refuse(message: str, names: list[str], why: str) -> None:
    raise ApiError(
        422,
        "invalid_request",
        message,
        [{"loc": ["query", name], "message": why} for name in names],
    )


def _query_params(dependant: Dependant) -> dict[str, object]:
    """Every query parameter of an operation (its dependencies' too): alias -> type."""
    found: dict[str, object] = {p.alias: p.field_info.annotation for p in dependant.query_params}
    for inner in dependant.dependencies:
        found.update(_query_params(inner))
    return found


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
