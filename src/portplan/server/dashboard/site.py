"""`install(app)`: the dashboard on the registry's app (the one hook in `create_app`)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from portplan.server.dashboard import activity, pages, routes, sessions


def install(app: FastAPI) -> None:
    app.state.dashboard_sessions = sessions.Sessions(app.state.engine)
    pages.install(app)
    app.include_router(routes.router)
    app.include_router(activity.router)
    app.mount("/static", StaticFiles(directory=str(pages.HERE / "static")), name="static")
