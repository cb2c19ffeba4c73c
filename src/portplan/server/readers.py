"""The read path: how a read reaches the database, and its answer as JSON bytes.

A read costs the server what its Python costs, so the hot reads skip what they do not
need: on SQLite (an in-process library, no network wait) the read runs on the event loop,
with no hop to a worker thread and back; on PostgreSQL it still runs in the thread pool, so
a slow or unreachable database holds a thread, never the loop. An answer is rendered to
JSON once, by the standard library, and returned as bytes (no response-model validation of
what the code itself built: tests check that the bytes fit the documented models)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import Connection, Engine

T = TypeVar("T")
JSON = "application/json"


def _inline(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _in_connection(engine: Engine, work: Callable[[Connection], T]) -> T:
    with engine.connect() as conn:
        return work(conn)


async def run(engine: Engine, work: Callable[[Connection], T]) -> T:
    """`work(conn)` in one read transaction: on the loop for SQLite, in a thread otherwise."""
    if _inline(engine):
        return _in_connection(engine, work)
    return await run_in_threadpool(_in_connection, engine, work)


async def read(request: Request, work: Callable[[Connection], T]) -> T:
    """`run` on the engine of the request's app."""
    engine: Engine = request.app.state.engine
    return await run(engine, work)


def render(body: Any) -> bytes:
    """JSON as Starlette's JSONResponse renders it (UTF-8, compact, no NaN)."""
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def answer(body: Any) -> Response:
    """A 200 answer of `body` (bytes already rendered, or JSON-able data)."""
    content = body if isinstance(body, bytes) else render(body)
    return Response(content=content, media_type=JSON)
