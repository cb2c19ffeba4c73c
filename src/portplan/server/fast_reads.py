"""The hot reads without the framework's per-request machinery: a pure ASGI layer in front of
the FastAPI app answers the plain, well-formed GETs of what a stored plan says and of
leases, in one read transaction (token and data), through the same library functions and
renderers as the routes. Anything else - another method or path, an unusual query (unknown,
repeated or empty parameters), a malformed or missing token, any answer but 200 - goes on
to the app, whose routes, validation and error answers are the only ones there are (the
fast path never answers an error itself). Measured: FastAPI's routing, dependency solving
and exception layers cost a read about 0.3 ms of CPU, as much as its token check and query
(benchmarks/README.md, "Registry reads")."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import Connection, Engine

from portplan.server import api_leases, db, leases, plan_views, readers, tenants
from portplan.server.errors import ApiError
from portplan.server.tenants import Caller

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Read = Callable[[Connection, Caller], bytes]


@dataclass(frozen=True)
class Route:
    """What the metrics label a request with: the path template of its operation."""

    path: str


def _view(system: str, view: str) -> Read:
    return lambda conn, caller: plan_views.body(conn, caller.tenant_id, system, view)


def _free(system: str, wanted: str | None) -> Read:
    return lambda conn, caller: readers.render(plan_views.free(conn, caller, system, wanted))


def _lease(lease_id: str) -> Read:
    return lambda conn, caller: api_leases.one(leases.get(conn, caller, lease_id, db.now(conn)))


def _listing(host: str | None, holder: str | None, state: str | None) -> Read:
    return lambda conn, caller: api_leases.many(leases.listing(conn, caller, host, holder, state))


_SYSTEM = re.compile(r"/v1/systems/([^/\x00]{1,200})/(services|hosts|ports|ranges|check|free)")
_LEASE = re.compile(r"/v1/leases/([^/\x00]{1,64})")
_VALUE = re.compile(r"[^\x00]{1,200}")
_STATES = frozenset({"live", "released", "expired"})


def _query(raw: bytes, allowed: frozenset[str]) -> dict[str, str] | None:
    """The query's parameters, when each is one of `allowed`, given once, and a valid name
    (else None: the app answers)."""
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    found = dict(pairs)
    if len(found) != len(pairs) or not allowed.issuperset(found):
        return None
    if not all(_VALUE.fullmatch(v) for v in found.values()):
        return None
    return found


def _plan(path: str, query: bytes) -> tuple[Route, Read] | None:
    """The read a request asks for, if the fast path answers it."""
    if matched := _SYSTEM.fullmatch(path):
        system, view = matched.groups()
        route = Route(f"/v1/systems/{{system}}/{view}")
        if view != "free":
            return (route, _view(system, view)) if not query else None
        found = _query(query, frozenset({"range"}))
        return (route, _free(system, found.get("range"))) if found is not None else None
    if matched := _LEASE.fullmatch(path):
        return (Route("/v1/leases/{lease_id}"), _lease(matched[1])) if not query else None
    if path == "/v1/leases":
        found = _query(query, frozenset({"host", "holder", "state"}))
        if found is None or found.get("state", "live") not in _STATES:
            return None
        read = _listing(found.get("host"), found.get("holder"), found.get("state"))
        return Route("/v1/leases"), read
    return None


def _token(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            token = credentials.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None


class FastReads:
    """The ASGI layer; `app` answers whatever this does not."""

    def __init__(self, app: Any, engine: Engine) -> None:
        self.app = app
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        planned = _plan(scope["path"], scope["query_string"]) if _is_get(scope) else None
        token = _token(scope) if planned is not None else None
        if planned is None or token is None:
            await self.app(scope, receive, send)
            return
        route, read = planned
        body = await readers.run(self.engine, lambda conn: _read(conn, token, read))
        if body is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = route
        headers = [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/json"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _is_get(scope: Scope) -> bool:
    return bool(scope["type"] == "http" and scope["method"] == "GET")


def _read(conn: Connection, token: str, read: Read) -> bytes | None:
    """The answer of `read` for the token's caller; None when the app must answer (an
    unknown or revoked token, a missing object: the app says which, as it always does)."""
    caller = tenants.caller(conn, token)
    if caller is None or not caller.may("read"):
        return None
    try:
        return read(conn, caller)
    except ApiError:
        return None
