"""HTTP and TCP checks of IP addresses on one selector loop, without asyncio.

A check is a short exchange on a fresh non-blocking socket: connect, send the request,
read the answer to its end. Driven straight from the selector, with no tasks, futures or
timer handles in between, a check costs half the CPU time it takes on asyncio (kernel
time included), which matters with thousands of them (`portplan status` on 2,000
endpoints). The answer is judged by the same code as the asyncio checks
(portplan.live.probe); asyncio still runs gRPC checks and those of host names (their
resolution needs the event loop's resolver).
"""

from __future__ import annotations

import heapq
import os
import selectors
import socket
import time
from errno import EINPROGRESS, EWOULDBLOCK

from portplan.live import probe
from portplan.live.probe import ProbeResult, Target

_KINDS = frozenset({"http", "tcp"})
_PENDING = (0, EINPROGRESS, EWOULDBLOCK)
_READ, _WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE


def handles(target: Target) -> bool:
    """True for an HTTP or TCP check of an IP address (v4 or v6)."""
    return target.health.kind in _KINDS and _is_address(target.host)


def _is_address(host: str) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        socket.inet_pton(family, host)
    except OSError:
        return False
    return True


class _Check:
    """One check in flight: its socket, what is left to send, what has come."""

    __slots__ = ("answer", "connected", "deadline", "index", "outgoing", "sock", "started")

    def __init__(self, index: int, sock: socket.socket, started: float, timeout_ms: float):
        self.index = index
        self.sock = sock
        self.started = started
        self.deadline = started + timeout_ms / 1000
        self.connected = False
        self.outgoing = b""
        self.answer = bytearray()


def probe_many(targets: list[Target], concurrency: int) -> list[ProbeResult]:
    """Run the checks (each `handles()`), at most `concurrency` at once; results in order."""
    return _Loop(targets, concurrency).run()


class _Loop:
    def __init__(self, targets: list[Target], concurrency: int) -> None:
        self.targets = targets
        self.concurrency = max(1, concurrency)
        self.results: list[ProbeResult | None] = [None] * len(targets)
        self.selector = selectors.DefaultSelector()
        self.active: dict[int, _Check] = {}  # by index
        self.deadlines: list[tuple[float, int]] = []  # heap of (deadline, index)

    def run(self) -> list[ProbeResult]:
        waiting = iter(range(len(self.targets)))
        try:
            for index in waiting:
                self._start(index)
                while len(self.active) >= self.concurrency:
                    self._step()
            while self.active:
                self._step()
        finally:
            for check in self.active.values():
                check.sock.close()
            self.selector.close()
        done = [result for result in self.results if result is not None]
        if len(done) != len(self.results):
            raise RuntimeError("a health check ended without a result")
        return done

    def _start(self, index: int) -> None:
        target = self.targets[index]
        family = socket.AF_INET6 if ":" in target.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        check = _Check(index, sock, time.perf_counter(), target.health.timeout_ms)
        self.active[index] = check
        self.selector.register(sock, _WRITE, check)
        heapq.heappush(self.deadlines, (check.deadline, index))
        try:
            code = sock.connect_ex((target.host, target.port))
        except OSError as exc:
            self._fail(check, exc)
            return
        if code not in _PENDING:
            self._fail(check, OSError(code, _strerror(code)))

    def _step(self) -> None:
        """Wait for the next events (or the next deadline) and act on them."""
        timeout = None
        while self.deadlines and self.deadlines[0][1] not in self.active:
            heapq.heappop(self.deadlines)  # finished before its deadline
        if self.deadlines:
            timeout = max(0.0, self.deadlines[0][0] - time.perf_counter())
        for key, _ in self.selector.select(timeout):
            check: _Check = key.data
            try:
                self._advance(check)
            except OSError as exc:
                self._fail(check, exc)
        now = time.perf_counter()
        while self.deadlines and self.deadlines[0][0] <= now:
            _, index = heapq.heappop(self.deadlines)
            expired = self.active.get(index)
            if expired is not None:
                health = self.targets[index].health
                self._finish(expired, probe.timed_out(health.kind, health.timeout_ms))

    def _advance(self, check: _Check) -> None:
        sock, target = check.sock, self.targets[check.index]
        if not check.connected:
            error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if error:
                raise OSError(error, _strerror(error))
            check.connected = True
            if target.health.kind == "tcp":
                self._healthy(check, "connected")
                return
            check.outgoing = probe.http_request(target.host, target.port, target.health.path or "/")
        if check.outgoing:
            try:
                check.outgoing = check.outgoing[sock.send(check.outgoing) :]
            except BlockingIOError:
                return
            if not check.outgoing:
                self.selector.modify(sock, _READ, check)
            return
        try:
            data = sock.recv(65536)
        except BlockingIOError:
            return
        check.answer += data
        if data and not probe.is_complete(check.answer):
            return
        try:
            detail = probe.http_verdict(target.health, bytes(check.answer))
        except probe.Unhealthy as exc:
            self._finish(check, ProbeResult("http", False, str(exc), _since(check)))
            return
        self._healthy(check, detail)

    def _healthy(self, check: _Check, detail: str) -> None:
        kind = self.targets[check.index].health.kind
        self._finish(check, ProbeResult(kind, True, detail, _since(check)))

    def _fail(self, check: _Check, exc: OSError) -> None:
        kind = self.targets[check.index].health.kind
        self._finish(check, ProbeResult(kind, False, probe.os_error(exc)))

    def _finish(self, check: _Check, result: ProbeResult) -> None:
        self.results[check.index] = result
        del self.active[check.index]
        self.selector.unregister(check.sock)
        check.sock.close()


def _since(check: _Check) -> float:
    return (time.perf_counter() - check.started) * 1000


def _strerror(code: int) -> str:
    return os.strerror(code)
