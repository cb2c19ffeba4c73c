"""HTTP and TCP checks of IP addresses on one poll loop, without asyncio.

A check is a short exchange on a fresh non-blocking socket: connect, send the request,
read the answer to its end. Driven straight from the poller, with no tasks, futures or
timer handles in between, a check costs half the CPU time it takes on asyncio (kernel
time included), which matters with thousands of them (`portplan status` on 2,000
endpoints). The answer is judged by the same code as the asyncio checks
(portplan.live.probe); asyncio still runs gRPC checks and those of host names (their
resolution needs the event loop's resolver).

On Linux the poller is epoll, edge-triggered: a socket is registered once for both
directions (no change when the request has left, and closing it leaves the set), and a
failed connect shows as an error event, so a healthy check makes no system call beyond
the exchange itself; a fifth less CPU than the `selectors` loop used elsewhere.
"""

from __future__ import annotations

import _socket  # socket.py's class wraps each call in Python, and its import costs 2 ms
import heapq
import os
import select
import time
from errno import EINPROGRESS, EWOULDBLOCK

from portplan.live import probe
from portplan.live.probe import ProbeResult, Target

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

_KINDS = frozenset({"http", "tcp"})
_PENDING = (0, EINPROGRESS, EWOULDBLOCK)
_AF_INET, _AF_INET6, _STREAM = _socket.AF_INET, _socket.AF_INET6, _socket.SOCK_STREAM
# where the system has it, a socket is made non-blocking as it is made (no second call)
_NONBLOCK: int = getattr(_socket, "SOCK_NONBLOCK", 0)


def handles(target: Target) -> bool:
    """True for an HTTP or TCP check of an IP address (v4 or v6)."""
    return target.health.kind in _KINDS and _is_address(target.host)


def _is_address(host: str) -> bool:
    family = _AF_INET6 if ":" in host else _AF_INET
    try:
        _socket.inet_pton(family, host)
    except OSError:
        return False
    return True


class _Check:
    """One check in flight: its socket, what is left to send (None until connected),
    what has come."""

    __slots__ = ("answer", "deadline", "fd", "index", "outgoing", "sock", "started")

    def __init__(self, index: int, sock: _socket.socket, started: float, timeout_ms: float):
        self.index = index
        self.sock = sock
        self.fd = sock.fileno()
        self.started = started
        self.deadline = started + timeout_ms / 1000
        self.outgoing: bytes | None = None
        self.answer = bytearray()


class _Epoll:
    """Edge-triggered epoll: each socket registered once, for both directions."""

    def __init__(self) -> None:
        self._poll = select.epoll()
        self._flags = select.EPOLLIN | select.EPOLLOUT | select.EPOLLET
        self._error = select.EPOLLERR | select.EPOLLHUP
        self._readable = select.EPOLLIN | self._error

    def watch(self, check: _Check) -> None:
        self._poll.register(check.fd, self._flags)

    def sent(self, check: _Check) -> None:
        """The request has left: nothing to change."""

    def forget(self, check: _Check) -> None:
        """Closing the socket takes it out of the set."""

    def wait(self, timeout: float | None) -> list[tuple[int, bool, bool]]:
        """(fd, readable, error) of each socket with news."""
        found = self._poll.poll(-1 if timeout is None else timeout)
        error, readable = self._error, self._readable
        return [(fd, bool(events & readable), bool(events & error)) for fd, events in found]

    def close(self) -> None:
        self._poll.close()


class _Selector:
    """Any other system: the selectors module, level-triggered (writable to connect,
    then readable)."""

    def __init__(self) -> None:
        import selectors

        self._selectors = selectors
        self._selector = selectors.DefaultSelector()

    def watch(self, check: _Check) -> None:
        self._selector.register(check.fd, self._selectors.EVENT_WRITE)

    def sent(self, check: _Check) -> None:
        self._selector.modify(check.fd, self._selectors.EVENT_READ)

    def forget(self, check: _Check) -> None:
        self._selector.unregister(check.fd)

    def wait(self, timeout: float | None) -> list[tuple[int, bool, bool]]:
        # a socket whose connect failed is writable: its error is asked for (True)
        read = self._selectors.EVENT_READ
        return [
            (key.fd, bool(events & read), True) for key, events in self._selector.select(timeout)
        ]

    def close(self) -> None:
        self._selector.close()


# the poller of this system (tests try the other one too)
POLLER: type[_Epoll | _Selector] = _Epoll if hasattr(select, "epoll") else _Selector


def probe_many(targets: Sequence[Target], concurrency: int) -> list[ProbeResult]:
    """Run the checks (each `handles()`), at most `concurrency` at once; results in order."""
    return _Loop(targets, concurrency).run()


class _Loop:
    def __init__(self, targets: Sequence[Target], concurrency: int) -> None:
        self.targets = targets
        self.concurrency = max(1, concurrency)
        self.results: list[ProbeResult | None] = [None] * len(targets)
        self.poller = POLLER()
        self.active: dict[int, _Check] = {}  # by file descriptor
        self.deadlines: list[tuple[float, int, int]] = []  # heap of (deadline, index, fd)

    def run(self) -> list[ProbeResult]:
        try:
            for index in range(len(self.targets)):
                self._start(index)
                while len(self.active) >= self.concurrency:
                    self._step()
            while self.active:
                self._step()
        finally:
            for check in self.active.values():
                check.sock.close()
            self.poller.close()
        done = [result for result in self.results if result is not None]
        if len(done) != len(self.results):
            raise RuntimeError("a health check ended without a result")
        return done

    def _start(self, index: int) -> None:
        target = self.targets[index]
        sock = _socket.socket(_AF_INET6 if ":" in target.host else _AF_INET, _STREAM | _NONBLOCK)
        if not _NONBLOCK:
            sock.setblocking(False)
        check = _Check(index, sock, time.perf_counter(), target.health.timeout_ms)
        heapq.heappush(self.deadlines, (check.deadline, index, check.fd))
        try:
            code = sock.connect_ex((target.host, target.port))
        except OSError as exc:
            self._fail(check, exc, watched=False)
            return
        if code not in _PENDING:
            self._fail(check, OSError(code, os.strerror(code)), watched=False)
            return
        self.active[check.fd] = check
        self.poller.watch(check)

    def _step(self) -> None:
        """Wait for the next events (or the next deadline) and act on them."""
        timeout = None
        deadlines, results = self.deadlines, self.results
        while deadlines and results[deadlines[0][1]] is not None:
            heapq.heappop(deadlines)  # finished before its deadline
        if deadlines:
            timeout = max(0.0, deadlines[0][0] - time.perf_counter())
        for fd, readable, error in self.poller.wait(timeout):
            check = self.active.get(fd)
            if check is None:
                continue
            try:
                self._advance(check, readable, error)
            except OSError as exc:
                self._fail(check, exc)
        now = time.perf_counter()
        while deadlines and deadlines[0][0] <= now:
            _, index, fd = heapq.heappop(deadlines)
            if results[index] is None:  # in flight: its descriptor is still its own
                health = self.targets[index].health
                self._finish(self.active[fd], probe.timed_out(health.kind, health.timeout_ms))

    def _advance(self, check: _Check, readable: bool, error: bool) -> None:
        target = self.targets[check.index]
        if check.outgoing is None:  # connecting
            if error or target.health.kind == "tcp":
                code = check.sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_ERROR)
                if code:
                    raise OSError(code, os.strerror(code))
                if target.health.kind == "tcp":
                    self._healthy(check, "connected")
                    return
            check.outgoing = probe.http_request(target.host, target.port, target.health.path or "/")
        if check.outgoing and not self._send(check):
            return
        if readable:  # else the answer's first bytes are news of their own
            self._receive(check)

    def _send(self, check: _Check) -> bool:
        """Send what is left; True once all of it has left."""
        assert check.outgoing is not None
        try:
            check.outgoing = check.outgoing[check.sock.send(check.outgoing) :]
        except BlockingIOError:
            return False
        if check.outgoing:
            return False
        self.poller.sent(check)
        return True

    def _receive(self, check: _Check) -> None:
        """Read what has come (to the end of the answer or until nothing more is there)."""
        while True:
            try:
                data = check.sock.recv(65536)
            except BlockingIOError:
                return
            check.answer += data
            if not data or probe.is_complete(check.answer):
                break
        health = self.targets[check.index].health
        try:
            detail = probe.http_verdict(health, bytes(check.answer))
        except probe.Unhealthy as exc:
            self._finish(check, ProbeResult("http", False, str(exc), _since(check)))
            return
        self._healthy(check, detail)

    def _healthy(self, check: _Check, detail: str) -> None:
        kind = self.targets[check.index].health.kind
        self._finish(check, ProbeResult(kind, True, detail, _since(check)))

    def _fail(self, check: _Check, exc: OSError, *, watched: bool = True) -> None:
        kind = self.targets[check.index].health.kind
        self._finish(check, ProbeResult(kind, False, probe.os_error(exc)), watched=watched)

    def _finish(self, check: _Check, result: ProbeResult, *, watched: bool = True) -> None:
        self.results[check.index] = result
        if watched:
            del self.active[check.fd]
            self.poller.forget(check)
        check.sock.close()


def _since(check: _Check) -> float:
    return (time.perf_counter() - check.started) * 1000
