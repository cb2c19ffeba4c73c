"""Wakes the feed's streams when a change commits, so that they need not wait for their next
poll: at once for this process's changes, through PostgreSQL's NOTIFY for other processes'
(NOTIFY only wakes; the streams read the changes from the events table)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from portplan.server import db

T = TypeVar("T")
log = logging.getLogger("portplan.server")


class Bell:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop, self._event = loop, asyncio.Event()

    def ring(self) -> None:
        """From any thread: wake every stream waiting now."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._ring)

    def _ring(self) -> None:
        if self._event is not None:
            self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        """Until the next ring, or `timeout` seconds."""
        event = self._event
        if event is None:
            await asyncio.sleep(timeout)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)


def write(request: Any, work: Callable[[Connection], T]) -> T:
    """`db.write` on the app's database, then wake the feed's streams."""
    result = db.write(request.app.state.engine, work)
    request.app.state.bell.ring()
    return result


class Listener:
    """On PostgreSQL: LISTEN for the commits of every server on the database, and ring."""

    def __init__(self, engine: Engine, bell: Bell) -> None:
        self._url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._bell = bell
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="portplan-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True) as conn:
                    conn.execute("LISTEN portplan_feed")
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=0.5):
                            self._bell.ring()
            except psycopg.Error:
                log.warning("feed listener lost its connection; retrying")
                self._stop.wait(1.0)
