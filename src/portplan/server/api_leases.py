"""`/v1/leases`: lease, renew, release, read and list."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from portplan.server import bell, db, leases
from portplan.server.auth import require
from portplan.server.tenants import Caller

router = APIRouter(prefix="/v1/leases", tags=["leases"])


class PortWish(BaseModel):
    """One port: `range` (a range of the system's plan), `first`-`last`, `candidates`, or
    `service` with `port_name` (its planned port, else the range its policy gives it)."""

    range: str | None = None
    first: int | None = Field(default=None, ge=1, le=65535)
    last: int | None = Field(default=None, ge=1, le=65535)
    candidates: list[int] = Field(default_factory=list, max_length=1000)
    service: str | None = None
    port_name: str | None = None
    protocol: str = Field(default="tcp", pattern="^(tcp|udp)$")


class LeaseIn(BaseModel):
    holder: str = Field(min_length=1, max_length=200)
    ports: list[PortWish] = Field(min_length=1, max_length=64)
    host: str | None = Field(default=None, min_length=1, max_length=200)
    system: str | None = Field(default=None, min_length=1, max_length=200)
    ttl_seconds: float | None = Field(default=None, gt=0, le=366 * 86400)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)


class RenewIn(BaseModel):
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


@router.post("", status_code=201, response_model=LeaseOut)
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


@router.get("", response_model=LeaseList)
def list_(
    request: Request,
    host: str | None = None,
    holder: str | None = None,
    state: str | None = None,
    caller: Caller = Depends(require("read")),
) -> Any:
    def work(conn: Any) -> list[dict[str, Any]]:
        leases.expire(conn, caller, db.now(conn))
        return leases.listing(conn, caller, host, holder, state)

    return {"leases": db.write(request.app.state.engine, work)}


@router.get("/{lease_id}", response_model=LeaseOut)
def read(lease_id: str, request: Request, caller: Caller = Depends(require("read"))) -> Any:
    def work(conn: Any) -> dict[str, Any]:
        leases.expire(conn, caller, db.now(conn))
        return leases.get(conn, caller, lease_id)

    return db.write(request.app.state.engine, work)


@router.post("/{lease_id}/renew", response_model=LeaseOut)
def renew(
    lease_id: str, body: RenewIn, request: Request, caller: Caller = Depends(require("lease"))
) -> Any:
    return bell.write(request, lambda c: leases.renew(c, caller, lease_id, body.ttl_seconds))


@router.delete("/{lease_id}", response_model=LeaseOut)
def release(lease_id: str, request: Request, caller: Caller = Depends(require("lease"))) -> Any:
    return bell.write(request, lambda c: leases.release(c, caller, lease_id))
