"""Wakes the feed's streams when this process commits a change, so that they need not wait
for their next poll (changes from other processes arrive by polling)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection

from portplan.server import db

T = TypeVar("T")


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
