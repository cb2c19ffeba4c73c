"""The dashboard's pages about a system's plan: login, the port matrix, findings, the plan's
text, the dependency graph and the revisions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from portplan.model import Topology
from portplan.plan import check
from portplan.server import plans
from portplan.server.bundle import PLAN_FILE
from portplan.server.dashboard import graph_svg, matrix, queries, sessions
from portplan.server.dashboard.pages import (
    PageError,
    Viewer,
    changing,
    form,
    page,
    pick_system,
    render,
    safe_next,
    viewer,
)
from portplan.server.errors import ApiError

router = APIRouter(include_in_schema=False)


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return _login_page(request, next, "", 200)


def _login_page(request: Request, after: str, error: str, status: int) -> Response:
    token = sessions.login_token()
    context = {"next": safe_next(after), "csrf": token, "error": error}
    response = render(request, "login.html", context, status)
    sessions.set_cookie(request, response, sessions.LOGIN_COOKIE, token, 3600)
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    fields = await form(request)
    after = safe_next(fields.get("next"))
    if not sessions.same(fields.get("csrf"), request.cookies.get(sessions.LOGIN_COOKIE)):
        return _login_page(request, after, "The form expired: please sign in again.", 403)
    with request.app.state.engine.connect() as conn:
        found = sessions.login(conn, fields.get("token", ""))
    if found is None:
        return _login_page(request, after, "Unknown or revoked token.", 401)
    session_id = request.app.state.dashboard_sessions.start(found[1])
    response = RedirectResponse(after, status_code=303)
    sessions.set_cookie(request, response, sessions.COOKIE, session_id, sessions.LIFETIME)
    response.delete_cookie(sessions.LOGIN_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(request: Request, who: Viewer = Depends(changing)) -> Response:
    request.app.state.dashboard_sessions.close(who.session_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(sessions.COOKIE, path="/")
    return response


@router.get("/")
def index(_who: Viewer = Depends(viewer)) -> Response:
    return RedirectResponse("/matrix", status_code=303)


def _plan(request: Request, who: Viewer, system: str | None) -> tuple[str | None, Any]:
    """(system, its newest revision) or (None, None) when the tenant has no plan yet."""
    name = pick_system(request, who, system)
    if name is None:
        return None, None
    with request.app.state.engine.connect() as conn:
        return name, plans.get(conn, who.caller.tenant_id, name)


@router.get("/matrix")
def matrix_page(
    request: Request,
    system: str | None = None,
    host: str = "",
    category: str = "",
    exposure: str = "",
    q: str = "",
    who: Viewer = Depends(viewer),
) -> Response:
    name, revision = _plan(request, who, system)
    filters = matrix.Filters(host, category, exposure, q)
    found = None
    if revision is not None:
        with request.app.state.engine.connect() as conn:
            leased = queries.held(conn, who.caller.tenant_id)
        found = matrix.build(revision.topology(), leased, filters)
    context = {"system": name, "revision": revision, "filters": filters, "matrix": found}
    return page(request, who, "matrix.html", context)


def _services_of(finding: Any, topology: Topology) -> list[str]:
    """The services a finding is about: its facts, else the service whose block holds its
    first line."""
    named = finding.facts.get("services") or [finding.facts.get("service")]
    found = [n for n in named if isinstance(n, str) and n in topology.services]
    if found or finding.location is None:
        return found
    line = finding.location.line
    above = [s for s in topology.services.values() if 0 < s.location.line <= line]
    return [max(above, key=lambda s: s.location.line).name] if above else []


def _place(finding: Any) -> dict[str, Any]:
    """Where a finding is on the plan page: its line, the line's anchor, and the file when
    it is one the plan includes."""
    where = finding.location
    if where is None or not where.line:
        return {"line": 0}
    shown = "" if where.file == PLAN_FILE else where.file
    return {"line": where.line, "anchor": f"{_anchor(where.file)}{where.line}", "file": shown}


@router.get("/findings")
def findings_page(
    request: Request, system: str | None = None, who: Viewer = Depends(viewer)
) -> Response:
    name, revision = _plan(request, who, system)
    rows = []
    if revision is not None:
        topology = revision.topology()
        for f in check.check(topology).findings:
            rows.append({"finding": f, **_place(f), "services": _services_of(f, topology)})
    context = {"system": name, "revision": revision, "rows": rows}
    return page(request, who, "findings.html", context)


@router.get("/plan")
def plan_page(
    request: Request,
    system: str | None = None,
    revision: int | None = None,
    who: Viewer = Depends(viewer),
) -> Response:
    name = pick_system(request, who, system)
    if name is None:
        raise PageError(404, "This tenant has no plan yet.")
    with request.app.state.engine.connect() as conn:
        found = _revision(conn, who, name, revision)
    files = [
        {"path": path, "anchor": _anchor(path), "lines": text.splitlines()}
        for path, text in ((PLAN_FILE, found.text), *found.files)
    ]
    return page(request, who, "plan.html", {"system": name, "revision": found, "files": files})


def _anchor(file: str) -> str:
    """What the ids of a file's lines on the plan page start with: `L15` in the plan itself,
    `services/db.yaml-L3` in a file it includes."""
    return "L" if file == PLAN_FILE else f"{file}-L"


def _revision(conn: Any, who: Viewer, system: str, number: int | None) -> Any:
    try:
        return plans.get(conn, who.caller.tenant_id, system, number)
    except ApiError as error:
        raise PageError(404, str(error)) from None


@router.get("/graph")
def graph_page(
    request: Request, system: str | None = None, who: Viewer = Depends(viewer)
) -> Response:
    name, revision = _plan(request, who, system)
    svg, listed = None, []
    if revision is not None:
        topology = revision.topology()
        findings = check.check(topology).findings
        svg = graph_svg.svg(topology, findings)
        listed = graph_svg.listing(topology, findings)
    context = {"system": name, "revision": revision, "svg": svg, "listed": listed}
    return page(request, who, "graph.html", context)


@router.get("/revisions")
def revisions_page(
    request: Request,
    system: str | None = None,
    old: int | None = None,
    new: int | None = None,
    who: Viewer = Depends(viewer),
) -> Response:
    name = pick_system(request, who, system)
    listed: list[dict[str, Any]] = []
    diff = None
    if name is not None:
        with request.app.state.engine.connect() as conn:
            listed = plans.revisions(conn, who.caller.tenant_id, name)
            if old is not None and new is not None:
                _revision(conn, who, name, old)
                _revision(conn, who, name, new)
                diff = plans.diff(conn, who.caller.tenant_id, name, old, new).splitlines()
    context = {"system": name, "revisions": listed, "old": old, "new": new, "diff": diff}
    return page(request, who, "revisions.html", context)
