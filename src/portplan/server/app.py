"""`create_app(settings)`: the registry as an ASGI application (FastAPI)."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException

from portplan import __version__
from portplan.server import api_feed, api_leases, api_plans, db, leases
from portplan.server.bell import Bell, Listener
from portplan.server.dashboard import site as dashboard
from portplan.server.errors import ApiError
from portplan.server.fast_reads import FastReads
from portplan.server.metrics import Metrics, MetricsMiddleware
from portplan.server.openapi import errors
from portplan.server.settings import Settings

log = logging.getLogger("portplan.server")
CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 401: "unauthenticated"}


def prepare(engine: Engine, migrate: bool) -> None:
    """Migrate when asked, and always on an empty database."""
    try:
        with engine.connect() as conn:
            empty = not inspect(conn).get_table_names()
    except OperationalError:  # its message may quote the URL's password: not shown
        shown = engine.url.render_as_string(hide_password=True)
        raise db.DatabaseError(f"cannot open the database {shown}") from None
    if migrate or empty:
        db.migrate(engine)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The registry for `settings` (the SQLite file of the data folder by default)."""
    settings = settings or Settings()
    engine = db.engine_for(settings.url(), settings.pool_size)
    prepare(engine, settings.migrate)
    metrics = Metrics()
    ringer = Bell()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        _settle()
        ringer.bind(asyncio.get_running_loop())
        sweeper = asyncio.create_task(_sweep(engine, settings.sweep_seconds, ringer))
        listener = Listener(engine, ringer) if engine.dialect.name == "postgresql" else None
        if listener is not None:
            listener.start()
        try:
            yield
        finally:
            sweeper.cancel()
            if listener is not None:
                listener.stop()
            engine.dispose()

    app = FastAPI(
        title="portplan registry",
        version=__version__,
        description="Shared ports for teams and CI fleets: plans, leases, a change feed.",
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.bell = ringer
    _errors(app)
    _operations(app)
    for module in (api_plans, api_leases, api_feed):
        app.include_router(module.router)
    dashboard.install(app)
    app.add_middleware(FastReads, engine=engine)  # inside the metrics: they count its reads
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app


def _settle() -> None:
    """Move what start-up made (modules, the app, its routes and models: about 100,000
    objects) out of the garbage collector's way: a full collection no longer walks them, and
    no longer stops the requests of the moment for about 60 ms. Done when the app is served
    as a whole (its lifespan runs), not when another app mounts it."""
    gc.collect()
    gc.freeze()


async def _sweep(engine: Engine, every: float, ringer: Bell) -> None:
    """Expire leases whose time is up, so that their ends reach the feed promptly."""

    def once() -> int:
        return db.write(engine, lambda conn: leases.expire(conn, None, db.now(conn)))

    while True:
        await asyncio.sleep(every)
        try:
            if await run_in_threadpool(once):
                ringer.ring()
        except Exception:  # the sweep must outlive a passing database outage
            log.exception("lease sweep failed")


def _error(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details}}
    return JSONResponse(jsonable_encoder(body), status_code=status)


def _errors(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_request: Request, error: ApiError) -> JSONResponse:
        return _error(error.status, error.code, str(error), error.details)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, error: HTTPException) -> JSONResponse:
        code = CODES.get(error.status_code, f"http_{error.status_code}")
        return _error(error.status_code, code, str(error.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type")}
            for e in error.errors()
        ]
        return _error(422, "invalid_request", "the request does not fit the API", details)

    @app.exception_handler(DataError)
    async def unstorable(_request: Request, _error_: DataError) -> JSONResponse:
        # PostgreSQL refuses a NUL character in text (and a number its column cannot hold)
        return _error(422, "invalid_value", "a value the database cannot store")

    @app.exception_handler(Exception)
    async def internal(_request: Request, error: Exception) -> JSONResponse:
        log.error("internal error", exc_info=error)
        return _error(500, "internal", "internal server error")


def _operations(app: FastAPI) -> None:
    engine: Engine = app.state.engine

    @app.get("/healthz", tags=["operations"])
    def healthz() -> Any:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], responses=errors(503))
    def readyz() -> Any:
        """Ready: the database answers and its schema is the newest migration."""
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                current = db.current(conn)
        except Exception as error:
            raise ApiError(503, "database_unavailable", type(error).__name__) from None
        if current != db.head():
            raise ApiError(
                503,
                "migrations_pending",
                "the database schema is not current",
                {"current": current, "head": db.head()},
            )
        return {"status": "ready", "schema": current}

    @app.get("/metrics", response_class=PlainTextResponse, tags=["operations"])
    def metrics() -> Any:
        text_ = app.state.metrics.text(engine)
        return PlainTextResponse(text_, media_type="text/plain; version=0.0.4")
