"""Dashboard sessions live in the database: every serve process on it knows them, sign out
on one ends them on all, and no row holds a session id readable."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select, update

from portplan.server import db
from portplan.server.app import create_app
from portplan.server.schema import dashboard_sessions
from portplan.server.settings import Settings
from tests.dashboard.test_pages import Site, _csrf, signed_in


@pytest.fixture
def two(database_url: str) -> Iterator[tuple[Site, Site]]:
    """Two apps (two serve processes) on one database."""
    first = Site(database_url)
    second = Site.__new__(Site)  # the same tokens, a second app
    second.app = create_app(Settings(database_url=database_url, sweep_seconds=0.2))
    second.tokens = first.tokens
    yield first, second
    first.app.state.engine.dispose()
    second.app.state.engine.dispose()


def test_a_session_started_on_one_process_is_valid_on_another(two: tuple[Site, Site]) -> None:
    first, second = two
    client = signed_in(first, "admin")
    cookie = client.cookies["portplan_session"]
    other = second.client()
    other.cookies.set("portplan_session", cookie)
    page = other.get("/leases")
    assert page.status_code == 200
    # the CSRF token is derived from the session: the same on both processes
    assert _csrf(page.text) == _csrf(client.get("/leases").text)
    # sign out on the second process ends the session on the first
    assert other.post("/logout", data={"csrf": _csrf(page.text)}).status_code == 303
    assert client.get("/leases").headers["location"] == "/login?next=/leases"
    assert client.get("/live").status_code == 204


def test_no_row_holds_the_session_id(two: tuple[Site, Site]) -> None:
    first, _second = two
    cookie = signed_in(first, "reader").cookies["portplan_session"]
    with first.app.state.engine.connect() as conn:
        rows = conn.execute(select(dashboard_sessions)).all()
    assert len(rows) == 1
    assert all(cookie not in str(value) for row in rows for value in row)
    assert all(first.tokens["reader"] not in str(value) for row in rows for value in row)


def test_an_expired_session_redirects_to_login_and_is_deleted(two: tuple[Site, Site]) -> None:
    first, second = two
    client = signed_in(first, "reader")
    assert client.get("/matrix").status_code == 200
    engine = first.app.state.engine
    db.write(engine, lambda c: c.execute(update(dashboard_sessions).values(expires_at=0.0)))
    assert client.get("/matrix").headers["location"] == "/login?next=/matrix"
    assert client.get("/live").status_code == 204
    # the next login on any process deletes the expired row
    signed_in(second, "admin")
    with engine.connect() as conn:
        expiries = conn.execute(select(dashboard_sessions.c.expires_at)).scalars().all()
    assert len(expiries) == 1 and expiries[0] > 0.0
