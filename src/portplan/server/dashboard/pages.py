"""What every dashboard page shares: the signed-in viewer, the CSRF check of forms, the
templates, the security headers, and the errors shown as pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from portplan.server import plans
from portplan.server.dashboard import sessions
from portplan.server.tenants import Caller

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.trim_blocks = templates.env.lstrip_blocks = True  # no template indentation sent
templates.env.filters["utc"] = lambda at: datetime.fromtimestamp(at, UTC).strftime(
    "%Y-%m-%d %H:%M:%S"
)
HEADERS = {
    # scripts, styles and images of this origin only: no inline script, nothing from a CDN
    # (style attributes only: the widths of a band's segments)
    "Content-Security-Policy": "default-src 'self'; style-src 'self'; "
    "style-src-attr 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class LoginRequired(Exception):
    """No live session: the page answers with a redirect to the login form."""

    def __init__(self, after: str) -> None:
        super().__init__(after)
        self.after = after


class PageError(Exception):
    """An expected failure shown as a page: 403 (scope, CSRF), 404 (unknown or another
    tenant's object: the same answer)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Viewer:
    caller: Caller
    session_id: str
    csrf: str

    @property
    def admin(self) -> bool:
        return self.caller.may("admin")


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + ("?" + query if query else "")


def viewer(request: Request) -> Viewer:
    """A FastAPI dependency: the signed-in viewer, else a redirect to the login form."""
    session_id = request.cookies.get(sessions.COOKIE)
    found = request.app.state.dashboard_sessions.get(session_id)
    if found is not None and session_id is not None:
        with request.app.state.engine.connect() as conn:
            caller = sessions.lookup(conn, found.token_hash)
        if caller is not None:
            return Viewer(caller, session_id, found.csrf)
    raise LoginRequired(_here(request))


async def form(request: Request) -> dict[str, str]:
    """The fields of an urlencoded form (the first value of each)."""
    body = (await request.body()).decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    parts = urlsplit(origin)
    return parts.netloc == request.headers.get("host", "")


async def changing(request: Request, who: Viewer = Depends(viewer)) -> Viewer:
    """A viewer whose form carries the session's CSRF token, from this origin (403 otherwise)."""
    fields = await form(request)
    given = fields.get("csrf") or request.headers.get("x-csrf-token")
    if not _same_origin(request) or not sessions.same(given, who.csrf):
        raise PageError(403, "This form has expired or did not come from this dashboard.")
    return who


def safe_next(value: str | None) -> str:
    """A local path to return to after login (never another site)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers.update(HEADERS)
    return response


def page(
    request: Request, who: Viewer, name: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    """A signed-in page: the tenant's systems for the navigation, and the viewer."""
    with request.app.state.engine.connect() as conn:
        systems = [s["name"] for s in plans.system_names(conn, who.caller.tenant_id)]
    base = {"viewer": who, "systems": systems, "here": _here(request)}
    return render(request, name, {**base, **context}, status)


def pick_system(request: Request, who: Viewer, wanted: str | None) -> str | None:
    """The system a page shows: `wanted` (404 unless the tenant has it), else the first."""
    with request.app.state.engine.connect() as conn:
        names = [s["name"] for s in plans.system_names(conn, who.caller.tenant_id)]
    if wanted:
        if wanted not in names:
            raise PageError(404, f"No system named {wanted!r}.")
        return wanted
    return names[0] if names else None


def install(app: FastAPI) -> None:
    """Show the dashboard's errors as pages."""

    @app.exception_handler(LoginRequired)
    async def login_required(_request: Request, error: LoginRequired) -> Response:
        return RedirectResponse("/login?next=" + quote(error.after, safe="/"), status_code=303)

    @app.exception_handler(PageError)
    async def page_error(request: Request, error: PageError) -> Response:
        return render(request, "error.html", {"message": str(error)}, error.status)
