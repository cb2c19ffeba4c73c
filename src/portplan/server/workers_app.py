"""The app of one of several `portplan serve --workers N` processes: uvicorn starts each from
an import string, so the database URL reaches them through the environment (the URL, never
a token: tokens live hashed in the database)."""

from __future__ import annotations

import os

from fastapi import FastAPI

from portplan.server.app import create_app
from portplan.server.settings import Settings

DATABASE = "PORTPLAN_WORKER_DATABASE"
TARGET = f"{__name__}:app"


def app() -> FastAPI:
    return create_app(Settings(database_url=os.environ[DATABASE]))
