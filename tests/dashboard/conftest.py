"""A real `portplan serve` (uvicorn on a free loopback port, SQLite) with two tenants, and
Debian's chromium driven by Playwright (the driver in the wheel; no browser download)."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from portplan.server import db, tenants
from tests.dashboard.plans import RIVAL, SHOP, SHOP_2
from tests.server.conftest import database_url, postgres
from tests.server.serve import start

# the in-process tests run on SQLite and on a real PostgreSQL, as the server's tests do
__all__ = ["database_url", "postgres"]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Served:
    url: str
    database: str
    log: Path
    tokens: dict[str, str]

    def call(self, who: str, method: str, path: str, body: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return httpx.request(method, self.url + path, json=body, headers=headers, timeout=10)


def seed(database: str) -> dict[str, str]:
    """Tokens: acme's admin and reader, rival's admin."""
    engine = db.engine_for(database)
    db.migrate(engine)
    made = {
        who: db.write(engine, lambda c, t=tenant, n=name, s=scope: tenants.create_token(c, t, n, s))
        for who, tenant, name, scope in (
            ("admin", "acme", "alice", "admin"),
            ("reader", "acme", "rob", "read"),
            ("rival", "rival", "eve", "admin"),
        )
    }
    engine.dispose()
    return made


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """One server for the dashboard's browser tests; each test leaves its own traces."""
    folder = Path(tempfile.mkdtemp(prefix="portplan-dash-"))
    database = f"sqlite:///{folder / 'registry.db'}"
    tokens = seed(database)
    log = folder / "server.log"
    process, url = start(database, log)
    found = Served(url, database, log, tokens)
    for text in (SHOP, SHOP_2):
        assert found.call("admin", "PUT", "/v1/systems/shop/plan", {"text": text}).is_success
    assert found.call("rival", "PUT", "/v1/systems/hushhush/plan", {"text": RIVAL}).is_success
    try:
        yield found
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        text = log.read_text()
        shutil.rmtree(folder, ignore_errors=True)
        assert "Traceback" not in text
        assert all(token not in text for token in tokens.values())


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    """Playwright's sync API runs an event loop on this thread while it is open: closed at
    the end of the module, so that later tests can run asyncio themselves."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (see .ci/run)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


def open_browser(playwright: Any, folder: Path, **options: Any) -> Any:
    """A fresh chromium with an empty profile in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    return playwright.chromium.launch_persistent_context(
        str(folder),
        executable_path=CHROMIUM,
        headless=True,
        args=ARGS,
        viewport=options.pop("viewport", {"width": 1280, "height": 800}),
        **options,
    )


@pytest.fixture
def browser(playwright: Any, tmp_path: Path) -> Iterator[Any]:
    context = open_browser(playwright, tmp_path / "profile")
    try:
        yield context
    finally:
        context.close()


def login(page: Any, served: Served, who: str, path: str = "/matrix") -> None:
    page.goto(served.url + path)
    page.fill("#token", served.tokens[who])
    page.click("button[type=submit]")
    page.wait_for_load_state()
