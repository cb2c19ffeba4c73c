"""`/v1/leases`: lease, renew, release, read and list."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from portplan.server import bell, db, leases, openapi, readers
from portplan.server.auth import require
from portplan.server.openapi import LEASE_LINKS, LeaseId, Name, PortNumber, QueryName, errors
from portplan.server.tenants import Caller

router = openapi.router("/v1/leases", "leases")
# a body is read as its JSON types say: `true` or "60" is no number here (422), as the
# document says; lax conversion would lease on what the caller did not send
STRICT = ConfigDict(strict=True)


class PortWish(BaseModel):
    """One port: `range` (a range of the system's plan), `first`-`last`, `candidates`, or
    `service` with `port_name` (its planned port, else the range its policy gives it)."""

    range: Name | None = None
    first: int | None = Field(default=None, ge=1, le=65535)
    last: int | None = Field(default=None, ge=1, le=65535)
    candidates: list[PortNumber] = Field(default_factory=list, max_length=1000)
    service: Name | None = None
    port_name: Name | None = None
    protocol: str = Field(default="tcp", pattern="^(tcp|udp)$")

    # what a wish needs, in the document too (the server answers 422 empty_wish otherwise)
    model_config = ConfigDict(
        strict=True,
        json_schema_extra={
            "anyOf": [
                {"required": ["range"], "properties": {"range": {"type": "string"}}},
                {
                    "required": ["first", "last"],
                    "properties": {"first": {"type": "integer"}, "last": {"type": "integer"}},
                },
                {"required": ["candidates"], "properties": {"candidates": {"minItems": 1}}},
                {"required": ["service"], "properties": {"service": {"type": "string"}}},
            ]
        },
    )


class LeaseIn(BaseModel):
    model_config = STRICT

    holder: Name
    ports: list[PortWish] = Field(min_length=1, max_length=64)
    host: Name | None = None
    system: Name | None = None
    ttl_seconds: float | None = Field(default=None, gt=0, le=366 * 86400)
    idempotency_key: Name | None = None


class RenewIn(BaseModel):
    model_config = STRICT

    ttl_seconds: float | None = Field(default=None, gt=0, le=366 * 86400)


class LeasePort(BaseModel):
    protocol: str
    port: int
    service: str | None = None
    port_name: str | None = None
    env: str | None = None


class LeaseOut(BaseModel):
    id: str
    host: str
    holder: str
    system: str | None
    state: str
    created_at: float
    expires_at: float | None
    ended_at: float | None
    ports: list[LeasePort]


class LeaseList(BaseModel):
    leases: list[LeaseOut]


# the reads render their answer through the documented models, in pydantic's core
_ONE: TypeAdapter[LeaseOut] = TypeAdapter(LeaseOut)
_LIST: TypeAdapter[LeaseList] = TypeAdapter(LeaseList)


def one(lease: dict[str, Any]) -> bytes:
    """The JSON of a lease, as `LeaseOut` documents it."""
    return _ONE.dump_json(_ONE.validate_python(lease))


def many(found: list[dict[str, Any]]) -> bytes:
    """The JSON of a listing, as `LeaseList` documents it."""
    return _LIST.dump_json(_LIST.validate_python({"leases": found}))


def _request(body: LeaseIn, key: str | None) -> leases.Request:
    wishes = tuple(
        leases.Wish(
            range=w.range,
            first=w.first,
            last=w.last,
            candidates=tuple(w.candidates),
            service=w.service,
            port_name=w.port_name,
            protocol=w.protocol,
        )
        for w in body.ports
    )
    return leases.Request(
        holder=body.holder,
        wishes=wishes,
        host=body.host,
        system=body.system,
        ttl_seconds=body.ttl_seconds,
        idempotency_key=body.idempotency_key or key,
    )


@router.post(
    "",
    status_code=201,
    response_model=LeaseOut,
    operation_id="create_lease",
    responses={
        200: {"model": LeaseOut, "description": "a replay of an idempotent request"},
        201: {"description": "the lease", "links": LEASE_LINKS},
        **errors(409),
    },
)
def create(
    body: LeaseIn, request: Request, response: Response, caller: Caller = Depends(require("lease"))
) -> Any:
    """Lease ports on a host, all or none; `Idempotency-Key` (header or field) makes a
    retry return the first answer (200 instead of 201)."""
    wanted = _request(body, request.headers.get("idempotency-key"))
    lease, created = bell.write(request, lambda c: leases.grant(c, caller, wanted))
    if not created:
        response.status_code = 200
    return lease


@router.get("", response_model=LeaseList, operation_id="list_leases")
async def list_(
    request: Request,
    host: QueryName = None,
    holder: QueryName = None,
    state: Annotated[str | None, Query(pattern="^(live|released|expired)$")] = None,
    caller: Caller = Depends(require("read")),
) -> Any:
    found = await readers.read(
        request, lambda conn: leases.listing(conn, caller, host, holder, state)
    )
    return readers.answer(many(found))


@router.get("/{lease_id}", response_model=LeaseOut, operation_id="read_lease")
async def read(
    lease_id: LeaseId, request: Request, caller: Caller = Depends(require("read"))
) -> Any:
    found = await readers.read(
        request, lambda conn: leases.get(conn, caller, lease_id, db.now(conn))
    )
    return readers.answer(one(found))


@router.post(
    "/{lease_id}/renew", response_model=LeaseOut, operation_id="renew_lease", responses=errors(409)
)
def renew(
    lease_id: LeaseId, body: RenewIn, request: Request, caller: Caller = Depends(require("lease"))
) -> Any:
    return bell.write(request, lambda c: leases.renew(c, caller, lease_id, body.ttl_seconds))


@router.delete(
    "/{lease_id}", response_model=LeaseOut, operation_id="release_lease", responses=errors(409)
)
def release(lease_id: LeaseId, request: Request, caller: Caller = Depends(require("lease"))) -> Any:
    """Release the lease: its ports are free at once; the lease stays readable, `released`."""
    return bell.write(request, lambda c: leases.release(c, caller, lease_id))
