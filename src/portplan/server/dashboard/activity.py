"""The dashboard's pages about what happens: leases (release for admins), the audit log, and
`/live`, the change feed that tells every open page to refresh its live part."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from portplan.server import bell, leases
from portplan.server.dashboard import queries, sessions
from portplan.server.dashboard.pages import PageError, Viewer, changing, page, viewer
from portplan.server.errors import ApiError

router = APIRouter(include_in_schema=False)
KEEPALIVE = 15.0
LEASE_STATES = ("live", "released", "expired")


@router.get("/leases")
def leases_page(request: Request, state: str = "", who: Viewer = Depends(viewer)) -> Response:
    state = state if state in LEASE_STATES else ""
    with request.app.state.engine.connect() as conn:
        rows = queries.recent_leases(conn, who.caller.tenant_id, state)
    return page(request, who, "leases.html", {"rows": rows, "state": state})


@router.post("/leases/{lease_id}/release")
def release(lease_id: str, request: Request, who: Viewer = Depends(changing)) -> Response:
    if not who.admin:
        raise PageError(403, "Releasing another holder's lease takes an admin token.")
    try:
        bell.write(request, lambda c: leases.release(c, who.caller, lease_id))
    except ApiError as error:
        raise PageError(error.status, str(error)) from None
    return RedirectResponse("/leases", status_code=303)


@router.get("/audit")
def audit_page(
    request: Request,
    actor: str = "",
    action: str = "",
    subject: str = "",
    who: Viewer = Depends(viewer),
) -> Response:
    if not who.admin:
        raise PageError(403, "The audit log takes an admin token.")
    tenant = who.caller.tenant_id
    with request.app.state.engine.connect() as conn:
        rows = queries.audit_log(conn, tenant, actor, action, subject)
        actors, actions = queries.audit_choices(conn, tenant)
    filters = {"actor": actor, "action": action, "subject": subject}
    context = {"rows": rows, "actors": actors, "actions": actions, "filters": filters}
    return page(request, who, "audit.html", context)


@router.get("/live")
def live(request: Request) -> Response:
    """Server-Sent Events: one `change` event per batch of the tenant's changes from now
    on. No session: 204, which tells EventSource to stop reconnecting."""
    session_id = request.cookies.get(sessions.COOKIE)
    found = request.app.state.dashboard_sessions.get(session_id)
    if found is None:
        return Response(status_code=204)
    with request.app.state.engine.connect() as conn:
        caller = sessions.lookup(conn, found.token_hash)
        start = 0 if caller is None else queries.feed_position(conn, caller.tenant_id)
    if caller is None:
        return Response(status_code=204)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    stream = _changes(request, caller.tenant_id, start, session_id or "")
    return StreamingResponse(stream, media_type="text/event-stream", headers=headers)


async def _changes(
    request: Request, tenant_id: int, last: int, session_id: str
) -> AsyncIterator[str]:
    engine = request.app.state.engine
    poll = request.app.state.settings.feed_poll_seconds
    store: sessions.Sessions = request.app.state.dashboard_sessions
    quiet = 0.0

    def read() -> int | None:
        """The feed's position, None once the session has ended (on any process)."""
        if store.get(session_id) is None:
            return None
        with engine.connect() as conn:
            return queries.feed_position(conn, tenant_id)

    yield "retry: 1000\n\n"
    while not await request.is_disconnected():
        newest = await run_in_threadpool(read)
        if newest is None:
            break
        if newest != last:
            last, quiet = newest, 0.0
            yield f"event: change\ndata: {last}\n\n"
            continue
        await request.app.state.bell.wait(poll)
        quiet += poll
        if quiet >= KEEPALIVE:
            quiet = 0.0
            yield ": keepalive\n\n"
