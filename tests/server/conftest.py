"""Every server test runs on SQLite and on a real PostgreSQL (started once per session)."""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from portplan.server import db, tenants
from portplan.server.app import create_app
from portplan.server.settings import Settings
from tests.server.postgres import Server

_names = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Server]:
    folder = Path(tempfile.mkdtemp(prefix="portplan-pg-"))
    server = Server(folder)
    server.start()
    # one migrated template; each test copies it (CREATE DATABASE ... TEMPLATE is fast)
    url = server.create_database("portplan_template")
    engine = db.engine_for(url)
    db.migrate(engine)
    engine.dispose()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.db'}"
    server: Server = request.getfixturevalue("postgres")
    return server.create_database(f"t{next(_names)}", template="portplan_template")


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, sweep_seconds=0.2, feed_poll_seconds=0.05)


class Registry:
    """The app in-process, and a way to make tokens."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        self.engine = self.app.state.engine

    def token(self, tenant: str, scope: str = "admin", name: str = "t") -> str:
        return db.write(self.engine, lambda c: tenants.create_token(c, tenant, name, scope))

    def client(self, token: str | None) -> _Sync:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return _Sync(httpx.ASGITransport(app=self.app), headers)


class _Sync:
    """httpx's ASGI transport is async; a tiny synchronous face over it for the tests."""

    def __init__(self, transport: Any, headers: dict[str, str]) -> None:
        self.transport = transport
        self.headers = headers

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        import anyio

        async def go() -> httpx.Response:
            async with httpx.AsyncClient(
                transport=self.transport, base_url="http://registry", headers=self.headers
            ) as client:
                return await client.request(method, url, **kwargs)

        return anyio.run(go)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)


@pytest.fixture
def registry(settings: Settings) -> Iterator[Registry]:
    found = Registry(settings)
    yield found
    found.engine.dispose()
