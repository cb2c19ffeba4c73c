"""Health checks started early: in another process, while the rest of `portplan status` runs.

`EarlyChecks` runs checks in a forked process, on a core of its own: thousands of loopback
checks cost about as much CPU as the rest of `status` (the plan, the owners, the rows and
the table), and in one process the two only take turns. The process sends its results
through a pipe (marshal) and leaves; one that fails is not trusted: its rows are checked
afresh. Where the system has no fork, or this process runs other threads (a lock one of
them holds would stay held in the copy), the checks run in a thread instead: their system
calls and the main thread's work overlap.

When they start: with the plan in the plan cache (`portplan.plan.cache`), `start` starts
them before the plan is even loaded: the checks of a plan (what each row of `status`
checks, on which port) are kept beside its plan-cache entry as plain data, and neither
this module nor the checking process imports the model, the plan's loader, json, re or
dataclasses, so that thousands of checks are under way within a few dozen milliseconds of
start-up, while the model is imported and unpickled. A plan read afresh starts its own
list (`started`) as soon as it is loaded; `portplan.live.status` starts the checks of its
rows once the machine's sockets are known, for a caller that started none.

What is kept is a hint: `status` works out the checks of its rows itself, and uses an early
result only for the same row sending the same check (`EarlyChecks.results`); any other row
is checked afresh. A list is used only while the plan's entry holds (the same model).
"""

from __future__ import annotations

import marshal
import os
import sys

from portplan.live._slotted import Slotted

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time (see _slotted)
    import threading
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any

    from portplan.live.probe import ProbeResult, Target
    from portplan.live.sockets import RawSocket
    from portplan.model import Health

EARLY_CHECKS = 100  # from this many checks on, they start before the owners are known

# The interpreter's switch interval while the checks thread runs (seconds; CPython's own is
# 5 ms). Each check's every system call ends with the thread asking for the interpreter lock
# back; while the main thread computes (owners, rows), it is handed over only each interval:
# with 5 ms, 30 ms of work there let ~40 of 2,000 loopback checks through, with 0.5 ms ~300
# (most of what the checks do alone), and the server being checked is kept busy.
SWITCH_INTERVAL = 0.0005

SUFFIX = ".checks"  # the kept list, beside the plan's cache entry
_VERSION = 1
_KINDS = ("http", "tcp")  # checked on the poll loop; gRPC checks are never started early


class EarlyChecks:
    """Checks run meanwhile: in a forked process where the system has fork, else in a
    thread. `wanted` are (row, check) pairs to start now (`status` picks them once the
    sockets are known); `EarlyChecks.kept` starts those of a kept list instead, picked in
    the checking process itself."""

    _child: tuple[int, int] | None = None  # (pid, read end of its pipe) of the checking process
    _thread: threading.Thread | None = None  # the checking thread, where there is no fork

    def __init__(
        self,
        wanted: list[tuple[int, Target]],
        concurrency: int,
        sockets: tuple[list[str], list[RawSocket]] | None = None,
        workers: int = 1,
    ) -> None:
        self._start(lambda: wanted, concurrency, workers)
        by_row = dict(wanted)
        self._sent: Callable[[int, str], tuple[Any, ...] | None] = lambda row, host: (
            None if (target := by_row.get(row)) is None or target.host != host else _check(target)
        )
        # the protocols read and the sockets read for these checks (by `start`)
        self.sockets = sockets

    @classmethod
    def kept(
        cls,
        listed: list[tuple[Any, ...]],
        protocols: list[str],
        concurrency: int,
        workers: int = 1,
    ) -> EarlyChecks:
        """The checks of a kept list (`save`) whose port something listens on: picked from
        the machine's sockets by the checking process, which reads them itself (this one
        reads them meanwhile: `sockets`)."""
        started = cls.__new__(cls)
        started._start(lambda: _wanted(listed, _raw(protocols)), concurrency, workers)
        started._sent = _kept_sent(listed)
        started.sockets = None
        return started

    def _start(
        self, wanted: Callable[[], list[tuple[int, Target]]], concurrency: int, workers: int
    ) -> None:
        self._found: list[tuple[Any, ...]] | BaseException | None = None
        if _forkable():
            self._child = _fork(wanted, concurrency, workers)
            return
        import threading

        self._thread = threading.Thread(
            target=self._run, args=(wanted, concurrency, workers), daemon=True
        )
        self._interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._interval, SWITCH_INTERVAL))
        self._thread.start()

    def close(self) -> None:
        """End the checking process, if its results were never asked for (an error came
        first): it is not left waiting to send them. Whoever starts checks closes them, in
        a `finally` (not in `__del__`: a Ctrl-C that lands in a `__del__` is lost)."""
        if self._child is not None:
            pid, read = self._child
            self._child = None
            os.close(read)
            import signal

            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:  # ended and reaped already
                pass

    def _run(
        self, wanted: Callable[[], list[tuple[int, Target]]], concurrency: int, workers: int
    ) -> None:
        try:
            self._found = _checked(wanted(), concurrency, workers)
        except BaseException as exc:  # raised again in the caller's thread
            self._found = exc
        finally:
            sys.setswitchinterval(self._interval)

    def results(self, wanted: list[tuple[int, Target]]) -> dict[int, ProbeResult]:
        """The results of the rows in `wanted` checked early (the same row, the same check
        of the same address and port); none when the checks failed (every row is checked
        afresh, where the same failure is the caller's)."""
        checks = {row: _check(target) for row, target in wanted}  # while the checks run
        if self._child is not None:
            child, self._child = self._child, None
            self._found = _collect(child)
        elif self._thread is not None:
            self._thread.join()
        found = self._found
        if isinstance(found, BaseException) and not isinstance(found, Exception):
            raise found
        if not isinstance(found, list):
            return {}
        from portplan.live.probe import ProbeResult

        results = {}
        try:
            for row, host, *result in found:
                check = checks.get(row)
                if check is not None and self._sent(row, host) == check:
                    results[row] = ProbeResult(*result)
        except (TypeError, ValueError):  # a garbled list or answer: every row checked afresh
            return {}
        return results


# What a checking process sends of each check: (row, address, kind, healthy, detail, latency).
def _checked(
    wanted: list[tuple[int, Target]], concurrency: int, workers: int = 1
) -> list[tuple[Any, ...]]:
    from portplan.live.probing import probe_all

    targets = [target for _, target in wanted]
    found = probe_all(targets, concurrency=concurrency, workers=workers)
    return [
        (row, target.host, r.kind, r.healthy, r.detail, r.latency_ms)
        for (row, target), r in zip(wanted, found, strict=True)
    ]


def _kept_sent(listed: list[tuple[Any, ...]]) -> Callable[[int, str], tuple[Any, ...] | None]:
    """What was sent to a row from the kept list, by its row and address (`_check`)."""
    by_row: dict[Any, tuple[Any, ...]] | None = None

    def sent(row: int, host: str) -> tuple[Any, ...] | None:
        nonlocal by_row
        if by_row is None:
            by_row = {check[0]: check for check in listed}
        check = by_row.get(row)
        return None if check is None else (host, check[2], *check[3:])

    return sent


def _raw(protocols: list[str]) -> list[RawSocket]:
    from portplan.live import sockets

    return sockets.raw_listeners(protocols) or []


def _forkable() -> bool:
    """Fork where the system has it and this process runs no other thread: a thread holding
    a lock when the process forks would leave the lock held for ever in the copy. On Linux
    the process's own threads are counted (those of extensions too: grpc's, a database
    driver's), elsewhere the interpreter's."""
    if not hasattr(os, "fork"):
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        threading = sys.modules.get("threading")
        return threading is None or threading.active_count() == 1


def _fork(
    wanted: Callable[[], list[tuple[int, Target]]], concurrency: int, workers: int
) -> tuple[int, int]:
    """(pid, read end of its pipe) of a process running the checks `wanted` gives (itself
    spreading them over `workers` processes: `portplan.live.workers`)."""
    from portplan.live import forked

    return forked.start(lambda: marshal.dumps(_checked(wanted(), concurrency, workers)))


def _collect(child: tuple[int, int]) -> list[tuple[Any, ...]] | None:
    """What the checking process `child` sent; None when it failed."""
    from portplan.live import forked

    data = forked.answer(child)
    try:
        found = None if data is None else marshal.loads(data)
    except (ValueError, EOFError, TypeError):
        return None
    return found if isinstance(found, list) else None


def _check(target: Target) -> tuple[Any, ...]:
    """What a check sends and judges: its address, port and health check (the latency
    budget and the plan's line of the check aside: those judge the result afterwards)."""
    h = target.health
    return (
        target.host,
        target.port,
        h.kind,
        h.path,
        h.status,
        h.expect,
        h.grpc_service,
        h.timeout_ms,
    )


# ---------------------------------------------------------------------------
# The checks kept beside the plan cache


class _Health(Slotted):
    """What a check needs of the plan's `Health` (the same attribute names), as kept."""

    __slots__ = ("kind", "path", "status", "expect", "grpc_service", "timeout_ms")  # noqa: RUF023 - in order

    def __init__(
        self,
        kind: str,
        path: str | None,
        status: int | None,
        expect: Mapping[str, Any] | None,
        grpc_service: str,
        timeout_ms: float,
    ) -> None:
        self.kind = kind
        self.path = path
        self.status = status
        self.expect = expect
        self.grpc_service = grpc_service
        self.timeout_ms = timeout_ms


def start(
    plan: str, requested_host: str | None, concurrency: int, workers: int = 1
) -> tuple[EarlyChecks | None, bool]:
    """(the checks started from the list kept for `plan`, or None; True when no list is
    kept for the plan as it is: `save` one once the plan is loaded)."""
    from portplan.plan import cache

    if not cache.enabled():
        return None, False
    entry = cache.entry(plan)
    if entry is None:  # no entry that holds: the plan is read afresh, its checks kept
        return None, True
    try:
        kept = _read(cache.read_beside(entry[0], SUFFIX), entry[1])
    except (ValueError, TypeError, KeyError, EOFError):  # a corrupt list: kept again
        return None, True
    if kept is None:
        return None, True
    names, hosts = kept
    return started(names, hosts, requested_host, concurrency, workers), False


def started(
    names: Sequence[str],
    hosts: Mapping[str, tuple[list[str], list[tuple[Any, ...]]]],
    requested_host: str | None,
    concurrency: int,
    workers: int = 1,
) -> EarlyChecks | None:
    """The checks of this host started, from `save`'s list of them (kept, or the loaded
    plan's own); None when there are too few to be worth a process, or on a system where
    the sockets come with their owners (psutil)."""
    host = _host(names, requested_host)
    if host is None or host not in hosts:
        return None
    protocols, listed = hosts[host]
    if len(listed) < EARLY_CHECKS or not set(protocols) <= {"tcp", "udp"}:
        return None
    from portplan.live import sockets

    if not sockets.reads_raw():  # the owners come with the sockets (psutil): checked once loaded
        return None
    checks = EarlyChecks.kept(listed, list(protocols), concurrency, workers)
    raw = sockets.raw_listeners(protocols)
    checks.sockets = None if raw is None else (list(protocols), raw)
    return checks


def _read(data: bytes | None, model: str) -> tuple[list[str], dict[str, Any]] | None:
    """(host names, checks per host) kept for `model`, whole (its own SHA-256 holds);
    None for none, another model's or another version's."""
    from portplan.plan.cache import sha256

    if not data:
        return None
    version, kept_model, digest, body = marshal.loads(data)
    if version != _VERSION or kept_model != model or sha256(body) != digest:
        return None
    names, hosts = marshal.loads(body)
    return list(names), dict(hosts)


def _host(names: Sequence[str], requested: str | None) -> str | None:
    from portplan.live.declared import host_named

    return host_named(set(names), requested)


def _wanted(listed: Sequence[tuple[Any, ...]], raw: list[RawSocket]) -> list[tuple[int, Target]]:
    """(row, check) of each kept check whose port something listens on (any address)."""
    from portplan.live.probe import target_of

    first: dict[tuple[str, int], RawSocket] = {}
    for sock in raw:
        first.setdefault((sock.protocol, sock.port), sock)
    wanted = []
    for row, protocol, number, *check in listed:
        held = first.get((protocol, number))
        if held is not None:
            health: Health = _Health(*check)  # type: ignore[assignment]  # the same attributes
            wanted.append((row, target_of(held.address, number, health)))
    return wanted


def save(
    plan: str, names: Sequence[str], hosts: Mapping[str, tuple[list[str], list[tuple[Any, ...]]]]
) -> None:
    """Keep the checks of the rows of each host of `plan`: for each host, the protocols
    `status` reads and (row, protocol, port, kind, path, status, expect, gRPC service,
    timeout) of each HTTP or TCP check of a published port on no set address (those of
    a set address are checked once the plan is loaded)."""
    from portplan.plan import cache

    entry = cache.entry(plan)
    if entry is None:
        return
    try:
        body = marshal.dumps((list(names), dict(hosts)))
    except ValueError:  # a value marshal cannot hold: nothing kept
        return
    data = marshal.dumps((_VERSION, entry[1], cache.sha256(body), body))
    cache.write_beside(entry[0], SUFFIX, data)


def kept_check(row: int, protocol: str, number: int, health: Health) -> tuple[Any, ...] | None:
    """A check as `save` keeps it; None for one never started early (gRPC)."""
    if health.kind not in _KINDS:
        return None
    expect = None if health.expect is None else _plain(health.expect)
    return (
        row,
        protocol,
        number,
        health.kind,
        health.path,
        health.status,
        expect,
        health.grpc_service,
        health.timeout_ms,
    )


def _plain(value: Any) -> Any:
    """A JSON value with plain dicts and lists (the plan's carry their marks)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
