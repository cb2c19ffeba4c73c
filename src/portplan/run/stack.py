"""The runner as a library: `prepare` a stack from the plan, then `up`, `up_detached`,
`down`, `ps`, `restart` and `logs` it. The CLI commands are thin shells over these.

A detached stack is supervised by a fork of the `up` process in a session of its own;
every command finds it through the state folder (portplan.run.state).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from portplan.atomicfile import write_atomic
from portplan.errors import InputError, NotFoundError, PortplanError, UsageError
from portplan.model import StopPolicy, Topology
from portplan.run import copies, listen, process
from portplan.run.env import check_templates, runner_topology
from portplan.run.graph import Order, order
from portplan.run.output import Output
from portplan.run.ready import preflight
from portplan.run.state import StateDir
from portplan.run.supervisor import StackFailed, Supervisor

_DOWN_GRACE = StopPolicy(grace_ms=5000.0)
_AWAIT_TICK = 0.5  # the longest `up --detach` waits on the supervisor's word between looks


class AlreadyUp(PortplanError):
    exit_code = 1


class NotUp(PortplanError):
    exit_code = 1


@dataclass(frozen=True)
class Stack:
    """A plan as the runner runs it: the topology (a copy's ports applied), the order of
    the services wanted, and the state folder."""

    topology: Topology
    order: Order
    state: StateDir
    file: str
    env: str | None = None
    services: tuple[str, ...] = ()


def plan_file(file: str | None) -> str:
    from portplan.plan.loader import discover

    found = Path(file) if file is not None else discover()
    if found is None:
        raise NotFoundError("no portplan.yaml in this folder or any parent; give one with -f FILE")
    from portplan.files import kind_problem

    try:
        problem = kind_problem(found.stat().st_mode)
    except OSError:
        raise NotFoundError(f"{found}: no such file") from None
    if problem is not None:  # the words `check` uses: `is a folder, not a file`
        raise InputError(str(found), None, None, problem)
    return str(found)


def state_of(file: str | None, copy: str | None = None) -> StateDir:
    return StateDir(plan_file(file), copy)


def prepare(
    file: str | None,
    *,
    env: str | None = None,
    copy: str | None = None,
    services: Sequence[str] = (),
) -> Stack:
    """Load the plan, move a copy's ports, and order the services wanted."""
    from portplan.plan.loader import load

    path = plan_file(file)
    topology = load(path, env=env)
    check_templates(topology, list(topology.services), os.environ)  # as compose: all or none
    state = StateDir(path, copy)
    ports = copies.assign(topology, state) if copy is not None else None
    runner = runner_topology(topology, ports)
    chosen = order(runner, services)
    if not chosen.names:
        raise UsageError(f"no service of {path} has a run: section; nothing to start")
    return Stack(runner, chosen, state, path, env, tuple(services))


# --- up ------------------------------------------------------------------------------


def up(stack: Stack, stream: TextIO | None, colour: bool = False) -> int:
    """Run the stack in this process until ^C/SIGTERM (130/0) or a failure (1)."""
    lock = _take_lock(stack.state)
    try:
        sockets = _bind(stack)
    except BaseException:
        os.close(lock)
        raise
    output = Output(stack.state, stack.order.names, stream, colour)
    supervisor = Supervisor(stack.topology, stack.order, stack.state, output, sockets=sockets)
    previous = _on_signals(supervisor)
    try:
        code = supervisor.run()
    finally:
        _restore(previous)
        output.close()
        listen.close(sockets)
        os.close(lock)
    if supervisor.error:
        raise StackFailed(supervisor.error)
    return 130 if supervisor.interrupted else code


def _bind(stack: Stack) -> dict[tuple[str, str], socket.socket]:
    """The pre-flight check, then the sockets `up` binds for its processes (PortsHeld)."""
    preflight(stack.topology, stack.order.names)
    return listen.bind(stack.topology, stack.order.names)


def _take_lock(state: StateDir) -> int:
    fd = state.hold()
    if fd is None:
        pid = (state.read() or {}).get("supervisor")
        raise AlreadyUp(
            f"the stack of {state.plan_file} (copy {state.copy}) is up already "
            f"(supervisor {pid}); portplan down first"
        )
    return fd


def _on_signals(supervisor: Supervisor) -> dict[int, Any]:
    previous: dict[int, Any] = {}
    for sig, interrupted in ((signal.SIGINT, True), (signal.SIGTERM, False)):
        previous[sig] = signal.signal(
            sig, lambda *_args, i=interrupted: supervisor.stop(interrupted=i)
        )
    return previous


def _restore(previous: dict[int, Any]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


@dataclass
class Detached:
    """What `up --detach` saw: the supervisor's PID and the state once all were ready."""

    pid: int
    state: dict[str, Any] = field(default_factory=dict)


def up_detached(stack: Stack, timeout: float | None = None) -> Detached:
    """Start a supervisor process for the stack; return once every service is ready.

    The supervisor is this process forked twice (a session of its own, no parent to wait
    for it): the plan is not loaded again. Raises AlreadyUp, PortsHeld (before anything
    starts) or StackFailed (the supervisor's error; it has stopped what it started)."""
    lock = _take_lock(stack.state)
    sockets: dict[tuple[str, str], socket.socket] = {}
    try:
        sockets = _bind(stack)
        stack.state.state_file.unlink(missing_ok=True)
        pid, up_signal = _daemonize(stack, lock, sockets)
    finally:
        listen.close(sockets)  # the supervisor holds its own descriptors of these
        os.close(lock)
    try:
        return _await_up(stack, pid, up_signal, timeout)
    finally:
        with contextlib.suppress(OSError):
            os.close(up_signal)


def _await_up(stack: Stack, pid: int, up_signal: int, timeout: float | None) -> Detached:
    """Wait for the supervisor's word (a byte on `up_signal`, or its end), then read the
    state file."""
    limit = timeout if timeout is not None else _startup_limit(stack)
    deadline = time.monotonic() + limit
    open_signal = True
    while True:
        document = stack.state.read() or {}
        status = document.get("status")
        if status == "running" and document.get("supervisor") == pid:
            return Detached(pid, document)
        if not process.is_alive(pid) or status in ("failed", "stopped"):
            error = document.get("error") or _last_line(stack.state.supervisor_log)
            raise StackFailed(error or "the supervisor ended before the stack was up")
        if time.monotonic() > deadline:
            raise StackFailed(f"the stack was not up within {limit:g}s; see portplan ps")
        if open_signal:
            readable, _, _ = select.select([up_signal], [], [], _AWAIT_TICK)
            open_signal = not (readable and not os.read(up_signal, 16))  # EOF: it ended
        else:
            time.sleep(0.02)


def _daemonize(stack: Stack, lock: int, sockets: listen.Sockets) -> tuple[int, int]:
    """Fork the supervisor (double fork, new session): its PID, and the reading end of
    the pipe it writes to once the stack is up."""
    reader, writer = os.pipe()
    up_reader, up_writer = os.pipe()
    first = os.fork()
    if first == 0:  # the intermediate child: a new session, then the supervisor
        os.close(reader)
        os.close(up_reader)
        code = 1
        try:
            os.setsid()
            second = os.fork()
            if second == 0:
                os.close(writer)
                code = _supervise(stack, lock, sockets, up_writer)
            else:
                os.write(writer, str(second).encode())
                code = 0
        finally:
            os._exit(code)
    os.close(writer)
    os.close(up_writer)
    with os.fdopen(reader, "rb") as pipe:
        answer = pipe.read()
    os.waitpid(first, 0)
    if not answer:
        os.close(up_reader)
        raise StackFailed("the supervisor could not be started")
    return int(answer), up_reader


def _supervise(stack: Stack, lock: int, sockets: listen.Sockets, up_signal: int) -> int:
    """The detached supervisor: run the stack until SIGTERM (`down`). Its output and
    errors go to supervisor.log; it never returns into the caller's code."""
    try:
        _redirect(stack.state.supervisor_log)
        output = Output(stack.state, stack.order.names, None)
        supervisor = Supervisor(
            stack.topology, stack.order, stack.state, output, sockets=sockets, notify=up_signal
        )
        _on_signals(supervisor)
        code = supervisor.run()
        output.close()
        return code
    except BaseException as error:
        os.write(2, f"portplan: supervisor: {type(error).__name__}\n".encode())
        return 3
    finally:
        os.close(lock)


def _redirect(log: Path) -> None:
    null = os.open(os.devnull, os.O_RDONLY)
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(null)
    os.close(out)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115


def _startup_limit(stack: Stack) -> float:
    timeouts = [
        stack.topology.services[n].run.ready.timeout_ms / 1000  # type: ignore[union-attr]
        for n in stack.order.names
    ]
    return sum(timeouts) + 30.0


def _last_line(path: Path) -> str | None:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return None
    return lines[-1] if lines else None


# --- down ------------------------------------------------------------------------------


@dataclass
class DownReport:
    """What `down` stopped, and anything it found still there."""

    stopped: list[str]
    left: list[str]  # processes or ports still there (a failure)
    was_up: bool = True


def down(state: StateDir, timeout: float = 120.0) -> DownReport:
    """Stop the stack (through its supervisor when it runs), then verify that no process
    of its groups is left and that every port of it is free."""
    document = state.read()
    if document is None:
        if state.copy != "main":
            copies.release(state)
        return DownReport([], [], was_up=False)
    if state.running():
        _signal_supervisor(state, document, timeout)
        document = state.read() or document
    groups = [int(g) for g in document.get("groups", [])]
    for group in {g for _, g in process.members(groups)}:  # the supervisor is gone
        process.stop_group(group, _DOWN_GRACE)
    left = [f"process {pid} (group {group})" for pid, group in process.members(groups)]
    left += _held_ports(document)
    services = list(document.get("services", {}))
    if not left:
        state.state_file.unlink(missing_ok=True)
        if state.copy != "main":
            copies.release(state)
    return DownReport(services, left)


def _signal_supervisor(state: StateDir, document: dict[str, Any], timeout: float) -> None:
    pid = document.get("supervisor")
    if isinstance(pid, int):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
    deadline = time.monotonic() + timeout
    while state.running() and time.monotonic() < deadline:
        time.sleep(0.05)


def _held_ports(document: dict[str, Any]) -> list[str]:
    from portplan.live.sockets import listeners

    wanted = {
        (p["protocol"], int(p["port"])): name
        for name, unit in document.get("services", {}).items()
        for p in unit.get("ports", [])
    }
    if not wanted:
        return []
    found = listeners(("tcp", "udp"), ports={port for _, port in wanted})
    return [
        f"{wanted[li.protocol, li.port]} port {li.port}/{li.protocol} is still held (PID {li.pid})"
        for li in found
        if (li.protocol, li.port) in wanted
    ]


# --- ps, restart, logs -------------------------------------------------------------------


def ps(state: StateDir) -> dict[str, Any]:
    """The state file, with each process checked against the machine."""
    document = state.read()
    if document is None:
        raise NotUp(f"no stack of {state.plan_file} is up (copy {state.copy})")
    running = state.running()
    document["supervisor_running"] = running
    for unit in document.get("services", {}).values():
        group = unit.get("group")
        alive = group is not None and process.alive(int(group))
        if not alive and unit.get("state") in ("starting", "ready"):
            unit["state"] = "dead"
    return document


def restart(state: StateDir, service: str, timeout: float = 120.0) -> dict[str, Any]:
    """Ask the supervisor to restart `service` (dependents with `with_dependency`
    follow); return its state once it is ready again."""
    document = ps(state)
    if not document["supervisor_running"]:
        raise NotUp(f"the supervisor of {state.plan_file} is not running; portplan up first")
    units = document.get("services", {})
    if service not in units:
        known = ", ".join(units) or "none"
        raise NotFoundError(f"no service '{service}' in the running stack (services: {known})")
    before = int(units[service].get("restarts", 0))
    path = state.request_file(service)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, service + "\n")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        unit = (state.read() or {}).get("services", {}).get(service, {})
        if int(unit.get("restarts", 0)) > before and unit.get("state") == "ready":
            return dict(unit)
        if not state.running():
            break
        time.sleep(0.05)
    raise StackFailed(f"{service} was not ready again within {timeout:g}s; see portplan ps")


def log_lines(state: StateDir, services: Sequence[str], follow: bool = False) -> Iterator[str]:
    """`service | line` for each line of the services' logs (all when none are named);
    with `follow`, then each new line, until the caller stops iterating."""
    folder = state.path / "logs"
    try:
        names = list(services) or sorted(p.stem for p in folder.glob("*.log"))
        paths = {name: state.log_file(name) for name in names}
        missing = [n for n, p in paths.items() if not p.exists()]
        if missing:
            raise NotFoundError(f"no log of {', '.join(missing)} in {folder}")
        handles = {n: open(p, encoding="utf-8", errors="replace") for n, p in paths.items()}  # noqa: SIM115
    except OSError as exc:
        raise InputError(
            str(exc.filename or folder), None, None, f"cannot read: {exc.strerror}"
        ) from None
    width = max((len(n) for n in names), default=0)
    try:
        for name, handle in handles.items():
            for line in handle:
                yield f"{name.ljust(width)} | {line.rstrip(chr(10))}"
        while follow:
            quiet = True
            for name, handle in handles.items():
                line = handle.readline()
                if line:
                    quiet = False
                    yield f"{name.ljust(width)} | {line.rstrip(chr(10))}"
            if quiet:
                time.sleep(0.1)
    finally:
        for handle in handles.values():
            handle.close()
