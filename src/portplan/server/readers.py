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
from sqlalchemy.exc import DBAPIError

T = TypeVar("T")
JSON = "application/json"


def _inline(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _in_connection(engine: Engine, work: Callable[[Connection], T]) -> T:
    with engine.connect() as conn:
        return work(conn)


def _autocommit(engine: Engine, work: Callable[[Connection], T]) -> T:
    """`work(conn)` on PostgreSQL without a transaction of its own: each statement is its
    own (a read of one statement sees one snapshot all the same), so a read sends no
    BEGIN and no ROLLBACK, two round trips of its four. A connection that turns out to be
    dead (the server restarted while it sat in the pool) is replaced and the read run
    again: it changed nothing."""
    for attempt in (1, 2):
        try:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                return work(conn)
        except DBAPIError as error:
            if attempt == 2 or not error.connection_invalidated:
                raise
    raise AssertionError("unreachable")


async def run(engine: Engine, work: Callable[[Connection], T]) -> T:
    """`work(conn)`: on SQLite on the loop, in one read transaction; on PostgreSQL in a
    thread, each statement in a transaction of its own (`_autocommit`)."""
    if _inline(engine):
        return _in_connection(engine, work)
    return await run_in_threadpool(_autocommit, engine, work)


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
