"""Stop whatever holds a port: SIGTERM, a grace period, then SIGKILL.

PID 1 and processes of another user are refused unless forced; portplan never stops
itself. Zombies count as stopped: they hold no sockets and only wait for their parent.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from portplan.errors import NotFoundError, UsageError
from portplan.live.owners import Access, Listener, Process, is_running, user_name
from portplan.portnumber import MAX_GRACE, PORT_RULE, grace_seconds, port_number

DEFAULT_GRACE = 5.0
_POLL = 0.02
_AFTER_KILL = 2.0  # how long SIGKILL may take to be seen


class Refused(UsageError):
    """A holder that portplan will not stop (PID 1, another user's) without --force."""


@dataclass(frozen=True, slots=True)
class Holder:
    """A process holding a port, with the sockets it holds there."""

    process: Process
    listeners: tuple[Listener, ...]


@dataclass(frozen=True, slots=True)
class KillResult:
    """How a holder was stopped: the last signal sent, and whether it is gone."""

    process: Process
    signal: str  # "SIGTERM" or "SIGKILL"
    stopped: bool


def holders(port: int, listeners: Sequence[Listener] | None = None) -> list[Holder]:
    """Every process holding `port` (TCP or UDP). Raises NotFoundError when nothing
    listens, UsageError when the holder cannot be inspected."""
    found = [li for li in listeners if li.port == port] if listeners is not None else _on(port)
    if not found:
        raise NotFoundError(f"nothing listens on port {port}")
    by_pid: dict[int, list[Listener]] = {}
    processes: dict[int, Process] = {}
    for listener in found:
        _collect(listener, by_pid, processes)
    if not by_pid:
        raise UsageError(_hidden(port, found[0]))
    return [Holder(processes[pid], tuple(by_pid[pid])) for pid in sorted(by_pid)]


def _on(port: int) -> list[Listener]:
    from portplan.live.sockets import listeners

    return listeners(("tcp", "udp"), ports={port}, complete=True)


def _collect(
    listener: Listener, by_pid: dict[int, list[Listener]], processes: dict[int, Process]
) -> None:
    from portplan.live.owners import process_info

    for pid in listener.pids:
        process = processes.get(pid) or process_info(pid)
        if process is not None:
            processes[pid] = process
            by_pid.setdefault(pid, []).append(listener)


def _hidden(port: int, listener: Listener) -> str:
    if listener.access is Access.DENIED:
        hint = "" if os.getuid() == 0 else "; try as root"
        return f"the holder of port {port} cannot be inspected (permission denied){hint}"
    return f"no visible process holds port {port} (another namespace or container?)"


def refusal(process: Process, *, force: bool = False) -> str | None:
    """Why `process` must not be stopped, or None when it may be."""
    if process.pid == os.getpid():
        return "it is this portplan process"
    if force:
        return None
    if process.pid == 1:
        return "it is PID 1 (the init process)"
    me = os.getuid()
    if process.uid is not None and process.uid != me:
        return f"it belongs to user {process.user}, not {user_name(me)}"
    return None


def check_refusals(found: Sequence[Holder], *, force: bool = False) -> None:
    """Raise Refused for the first holder that may not be stopped."""
    for holder in found:
        reason = refusal(holder.process, force=force)
        if reason is not None:
            process = holder.process
            hint = "" if process.pid == os.getpid() else "; use --force to stop it anyway"
            raise Refused(
                f"refusing to stop process {process.pid} ({process.name}): {reason}{hint}"
            )


def stop(pid: int, *, grace: float = DEFAULT_GRACE) -> tuple[str, bool]:
    """SIGTERM, wait up to `grace` seconds, then SIGKILL; (last signal, stopped)."""
    if grace_seconds(grace) is None:  # nan or inf would never reach SIGKILL
        raise UsageError(f"--grace: expected a number of seconds from 0 to {MAX_GRACE:g}")
    if not _signal(pid, signal.SIGTERM) or _wait_gone(pid, grace):
        return "SIGTERM", True
    if not _signal(pid, signal.SIGKILL):
        return "SIGKILL", True
    return "SIGKILL", _wait_gone(pid, _AFTER_KILL)


def _signal(pid: int, signum: signal.Signals) -> bool:
    """Send a signal; False when the process is already gone."""
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        return False
    except PermissionError:
        raise UsageError(f"not allowed to signal process {pid} (permission denied)") from None
    return True


def _wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while is_running(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL)
    return True


def kill_port(
    port: int,
    *,
    force: bool = False,
    grace: float = DEFAULT_GRACE,
    confirm: Callable[[Sequence[Holder]], bool] | None = None,
) -> list[KillResult]:
    """Stop every holder of `port`, after `confirm(holders)` agrees (when given).

    Returns [] when confirmation is declined; raises Refused, NotFoundError, UsageError.
    """
    if port_number(str(port)) is None or grace_seconds(grace) is None:
        raise UsageError(f"{PORT_RULE}; --grace: 0 to {MAX_GRACE:g} seconds")
    found = holders(port)
    check_refusals(found, force=force)
    if confirm is not None and not confirm(found):
        return []
    results = []
    for holder in found:
        last, stopped = stop(holder.process.pid, grace=grace)
        results.append(KillResult(holder.process, last, stopped))
    return results
