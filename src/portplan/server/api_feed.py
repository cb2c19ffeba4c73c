"""`/v1/events` (Server-Sent Events, `Last-Event-ID` resume), `/v1/changes` (the same feed
as JSON pages) and `/v1/audit` (admins)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from portplan.server import feed, openapi
from portplan.server.auth import require
from portplan.server.errors import ApiError
from portplan.server.openapi import AuditId, FeedRevision
from portplan.server.tenants import Caller

router = openapi.router("/v1", "feed")
KEEPALIVE_SECONDS = 10.0


def _after(request: Request, after: int | None) -> int:
    header = request.headers.get("last-event-id")
    if header is not None:
        if not header.strip().isdigit():
            raise ApiError(400, "bad_last_event_id", "Last-Event-ID must be a revision number")
        return int(header)
    return after or 0


@router.get("/changes")
def changes(
    request: Request,
    after: FeedRevision = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    caller: Caller = Depends(require("read")),
) -> Any:
    """The changes after revision `after`, oldest first."""
    with request.app.state.engine.connect() as conn:
        return {"events": feed.since(conn, caller.tenant_id, after, limit)}


@router.get("/events", response_class=StreamingResponse)
async def events(
    request: Request, after: FeedRevision | None = None, caller: Caller = Depends(require("read"))
) -> StreamingResponse:
    """Every change after `Last-Event-ID` (or `after`), then each new one as it commits."""
    start = _after(request, after)
    stream = _stream(request, caller.tenant_id, start)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream, media_type="text/event-stream", headers=headers)


async def _stream(request: Request, tenant_id: int, last: int) -> AsyncIterator[str]:
    engine = request.app.state.engine
    poll = request.app.state.settings.feed_poll_seconds

    def read() -> list[dict[str, Any]]:
        with engine.connect() as conn:
            return feed.since(conn, tenant_id, last)

    yield ": portplan feed\n\n"
    quiet = 0.0
    while not await request.is_disconnected():
        batch = await run_in_threadpool(read)
        for item in batch:
            last = item["revision"]
            yield f"id: {last}\nevent: {item['kind']}\ndata: {json.dumps(item)}\n\n"
        quiet = 0.0 if batch else quiet + poll
        if quiet >= KEEPALIVE_SECONDS:  # a comment, so that no client times out on silence
            yield ": keep-alive\n\n"
            quiet = 0.0
        if not batch:
            await request.app.state.bell.wait(poll)


@router.get("/audit")
def audit(request: Request, after: AuditId = 0, caller: Caller = Depends(require("admin"))) -> Any:
    """The tenant's audit log: who did what when, before and after."""
    with request.app.state.engine.connect() as conn:
        return {"entries": feed.audit_log(conn, caller.tenant_id, after)}
