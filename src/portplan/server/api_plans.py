"""`/v1/systems`: push and pull plans, revisions and diffs, and what a stored plan says."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from portplan.errors import UsageError
from portplan.plan import allocate, check
from portplan.server import bell, leases, openapi, plans
from portplan.server.auth import require
from portplan.server.errors import ApiError
from portplan.server.openapi import TEXT, QueryName, RevisionNumber, SystemName
from portplan.server.tenants import Caller

router = openapi.router("/v1/systems", "plans")


class PlanIn(BaseModel):
    text: str = Field(
        max_length=4_000_000, pattern=TEXT, description="the plan, portplan.yaml, as text"
    )


def _engine(request: Request) -> Any:
    return request.app.state.engine


def _topology(request: Request, caller: Caller, system: str) -> Any:
    with _engine(request).connect() as conn:
        text = plans.get(conn, caller.tenant_id, system).text
    return plans.topology_of(text)


@router.get("")
def systems(request: Request, caller: Caller = Depends(require("read"))) -> Any:
    with _engine(request).connect() as conn:
        return {"systems": plans.system_names(conn, caller.tenant_id)}


@router.put("/{system}/plan", operation_id="push_plan")
def push(
    system: SystemName, body: PlanIn, request: Request, caller: Caller = Depends(require("admin"))
) -> Any:
    """Store a new revision of the system's plan; a plan with errors is refused (422) with
    its findings, as `portplan check` reports them."""
    return bell.write(request, lambda c: plans.push(c, caller, system, body.text))


@router.get(
    "/{system}/plan",
    responses={200: {"content": {"application/yaml": {"schema": {"type": "string"}}}}},
)
def pull(
    system: SystemName,
    request: Request,
    revision: RevisionNumber | None = None,
    caller: Caller = Depends(require("read")),
) -> Any:
    """The plan's text exactly as pushed (the newest revision, or `revision`)."""
    with _engine(request).connect() as conn:
        found = plans.get(conn, caller.tenant_id, system, revision)
    headers = {"X-Portplan-Revision": str(found.number), "ETag": f'"{found.sha256}"'}
    return PlainTextResponse(found.text, media_type="application/yaml", headers=headers)


@router.get("/{system}/revisions")
def revisions(
    system: SystemName, request: Request, caller: Caller = Depends(require("read"))
) -> Any:
    with _engine(request).connect() as conn:
        return {"revisions": plans.revisions(conn, caller.tenant_id, system)}


@router.get("/{system}/diff")
def diff(
    system: SystemName,
    old: RevisionNumber,
    new: RevisionNumber,
    request: Request,
    caller: Caller = Depends(require("read")),
) -> Any:
    """A unified diff from revision `old` to `new`."""
    with _engine(request).connect() as conn:
        return {"diff": plans.diff(conn, caller.tenant_id, system, old, new)}


@router.get("/{system}/services")
def services(
    system: SystemName, request: Request, caller: Caller = Depends(require("read"))
) -> Any:
    topology = _topology(request, caller, system)
    return {
        "services": [
            {"name": s.name, "host": s.host, "category": s.category, "ports": _ports(s)}
            for s in topology.services.values()
        ]
    }


def _ports(service: Any) -> list[dict[str, Any]]:
    return [
        {"name": p.name, "number": p.number, "protocol": p.protocol, "kind": p.kind}
        for p in service.ports
    ]


@router.get("/{system}/hosts")
def hosts(system: SystemName, request: Request, caller: Caller = Depends(require("read"))) -> Any:
    return {"hosts": sorted(_topology(request, caller, system).host_names())}


@router.get("/{system}/ports")
def ports(system: SystemName, request: Request, caller: Caller = Depends(require("read"))) -> Any:
    topology = _topology(request, caller, system)
    return {
        "ports": [
            {
                "host": b.host,
                "protocol": b.protocol,
                "port": b.port,
                "service": b.service,
                "port_name": b.port_name,
            }
            for b in sorted(topology.bindings(), key=lambda b: (b.host, b.port, b.protocol))
        ]
    }


@router.get("/{system}/ranges")
def ranges(system: SystemName, request: Request, caller: Caller = Depends(require("read"))) -> Any:
    topology = _topology(request, caller, system)
    return {
        "ranges": [
            {"name": r.name, "ports": str(r.ports), "category": r.category, "kind": r.kind}
            for r in topology.ranges
        ]
    }


@router.get("/{system}/free")
def free(
    system: SystemName,
    request: Request,
    range: QueryName = None,
    caller: Caller = Depends(require("read")),
) -> Any:
    """Free ports per range: neither assigned nor reserved by the plan, nor held by a live
    lease on the range's hosts."""
    topology = _topology(request, caller, system)
    try:
        usages = allocate.usage(topology, range)
    except UsageError as error:
        raise ApiError(404, "not_found", str(error)) from None
    with _engine(request).connect() as conn:
        held = [leases.held_on(conn, caller, u.hosts, "tcp") for u in usages]
    return {"ranges": [_free(u, h) for u, h in zip(usages, held, strict=True)]}


def _free(usage: allocate.RangeUsage, held: set[int]) -> dict[str, Any]:
    ports = [p for r in usage.free for p in r if p not in held]
    return {
        "range": usage.range.name,
        "ports": str(usage.range.ports),
        "hosts": list(usage.hosts),
        "leased": sorted(held & set(usage.range.ports)),
        "free": [str(r) for r in allocate.compact(ports)],
        "free_count": len(ports),
    }


@router.get("/{system}/check")
def findings(
    system: SystemName, request: Request, caller: Caller = Depends(require("read"))
) -> Any:
    topology = _topology(request, caller, system)
    return {"findings": [f.as_dict() for f in check.check(topology).findings]}
