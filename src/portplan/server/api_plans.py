"""`/v1/systems`: push and pull plans, revisions and diffs, and what a stored plan says."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field

from portplan.server import bell, bundle, openapi, plan_views, plans, readers
from portplan.server.auth import require
from portplan.server.openapi import TEXT, QueryName, RevisionNumber, SystemName
from portplan.server.tenants import Caller

router = openapi.router("/v1/systems", "plans")
FilePath = Annotated[str | None, Query(min_length=1, max_length=bundle.MAX_PATH, pattern=TEXT)]


class PlanFileIn(BaseModel):
    path: str = Field(
        min_length=1,
        max_length=bundle.MAX_PATH,
        pattern=TEXT,
        description="its path under the plan's folder, as the plan's `include:` names it",
    )
    text: str = Field(max_length=4_000_000, pattern=TEXT)


class PlanIn(BaseModel):
    text: str = Field(
        max_length=4_000_000, pattern=TEXT, description="the plan, portplan.yaml, as text"
    )
    files: list[PlanFileIn] = Field(
        default_factory=list,
        max_length=bundle.MAX_FILES,
        description="every file the plan includes (transitively), no other",
    )


@router.get("")
async def systems(request: Request, caller: Caller = Depends(require("read"))) -> Any:
    found = await readers.read(request, lambda conn: plans.system_names(conn, caller.tenant_id))
    return readers.answer({"systems": found})


@router.put("/{system}/plan", operation_id="push_plan")
def push(
    system: SystemName, body: PlanIn, request: Request, caller: Caller = Depends(require("admin"))
) -> Any:
    """Store a new revision of the system's plan, with the files it includes; a plan with
    errors is refused (422) with its findings, as `portplan check` reports them, and so are
    files that are not its includes (`plan_includes`)."""
    files = tuple(sorted((f.path, f.text) for f in body.files))
    return bell.write(request, lambda c: plans.push(c, caller, system, body.text, files))


@router.get(
    "/{system}/plan",
    responses={200: {"content": {"application/yaml": {"schema": {"type": "string"}}}}},
)
async def pull(
    system: SystemName,
    request: Request,
    revision: RevisionNumber | None = None,
    file: FilePath = None,
    caller: Caller = Depends(require("read")),
) -> Any:
    """The plan's text exactly as pushed (the newest revision, or `revision`); with
    `file`, the text of one of the files it includes (a path its revision lists)."""
    found = await readers.read(
        request, lambda conn: plans.get(conn, caller.tenant_id, system, revision)
    )
    text = found.file(file or bundle.PLAN_FILE)
    etag = hashlib.sha256(text.encode()).hexdigest()
    headers = {"X-Portplan-Revision": str(found.number), "ETag": f'"{etag}"'}
    return PlainTextResponse(text, media_type="application/yaml", headers=headers)


@router.get("/{system}/revisions")
async def revisions(
    system: SystemName, request: Request, caller: Caller = Depends(require("read"))
) -> Any:
    found = await readers.read(
        request, lambda conn: plans.revisions(conn, caller.tenant_id, system)
    )
    return readers.answer({"revisions": found})


@router.get("/{system}/diff")
async def diff(
    system: SystemName,
    old: RevisionNumber,
    new: RevisionNumber,
    request: Request,
    caller: Caller = Depends(require("read")),
) -> Any:
    """A unified diff from revision `old` to `new`."""
    found = await readers.read(
        request, lambda conn: plans.diff(conn, caller.tenant_id, system, old, new)
    )
    return readers.answer({"diff": found})


async def _view(request: Request, caller: Caller, system: str, view: str) -> Response:
    found = await readers.read(
        request, lambda conn: plan_views.body(conn, caller.tenant_id, system, view)
    )
    return readers.answer(found)


@router.get("/{system}/services")
async def services(
    system: SystemName, request: Request, caller: Caller = Depends(require("read"))
) -> Any:
    return await _view(request, caller, system, "services")


@router.get("/{system}/hosts")
async def hosts(
    system: SystemName, request: Request, caller: Caller = Depends(require("read"))
) -> Any:
    return await _view(request, caller, system, "hosts")


@router.get("/{system}/ports")
async def ports(
    system: SystemName, request: Request, caller: Caller = Depends(require("read"))
) -> Any:
    return await _view(request, caller, system, "ports")


@router.get("/{system}/ranges")
async def ranges(
    system: SystemName, request: Request, caller: Caller = Depends(require("read"))
) -> Any:
    return await _view(request, caller, system, "ranges")


@router.get("/{system}/free")
async def free(
    system: SystemName,
    request: Request,
    range: QueryName = None,
    caller: Caller = Depends(require("read")),
) -> Any:
    """Free ports per range: neither assigned nor reserved by the plan, nor held by a live
    lease on the range's hosts."""
    found = await readers.read(request, lambda conn: plan_views.free(conn, caller, system, range))
    return readers.answer(found)


@router.get("/{system}/check")
async def findings(
    system: SystemName, request: Request, caller: Caller = Depends(require("read"))
) -> Any:
    return await _view(request, caller, system, "check")
