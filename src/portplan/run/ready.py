"""Readiness: the check that gates a service's dependents, and the pre-flight port check.

Both reuse the live machine's code: health checks and TCP connects are
`portplan.live.probe` (the checks `portplan status` runs), the pre-flight check reads the
listeners with `portplan.live.sockets` and names holders as `status` does.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from portplan.errors import PortplanError
from portplan.model import Health, Port, Readiness, Service, Topology

if TYPE_CHECKING:
    from portplan.live.owners import Listener

_LOOPBACK = {"0.0.0.0": "127.0.0.1", "::": "::1", "*": "127.0.0.1", "": "127.0.0.1"}
_EXEC_TIMEOUT = 10.0


class PortsHeld(PortplanError):
    """A port the stack needs is held before anything started (exit 1)."""

    exit_code = 1


@dataclass
class Probe:
    """One service's readiness check; `last` is what the latest attempt saw."""

    service: Service
    readiness: Readiness
    env: Mapping[str, str]
    cwd: str | None
    log_seen: threading.Event
    last: str = "not probed yet"

    def __call__(self) -> bool:
        kind = self.readiness.kind
        if kind == "started":
            self.last = "started"
            return True
        if kind == "log":
            self.last = f"no line matched {self.readiness.pattern!r} yet"
            return self.log_seen.is_set()
        if kind == "exec":
            return self._exec()
        return self._ports(kind)

    def _exec(self) -> bool:
        from portplan.run.process import spawn_quiet

        assert self.readiness.command is not None
        try:
            code = spawn_quiet(self.readiness.command, self.env, self.cwd, _EXEC_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.last = f"the ready command gave no answer within {_EXEC_TIMEOUT:g}s"
            return False
        except OSError as error:
            self.last = f"the ready command cannot run: {error.strerror}"
            return False
        self.last = f"the ready command exited with code {code}"
        return code == 0

    def _ports(self, kind: str) -> bool:
        from portplan.live.probe import Target
        from portplan.live.probe_local import probe_here

        targets = [
            Target(_host(port), port.number, health)
            for port in self.service.ports
            if (health := _check(port, kind)) is not None
        ]
        if not targets:
            self.last = "started (no TCP port to check)"
            return True
        results = probe_here(targets)
        for target, result in zip(targets, results, strict=True):
            if not result.healthy:
                self.last = f"{_describe(target)}: {result.detail}"
                return False
        self.last = "; ".join(
            f"{_describe(t)}: {r.detail}" for t, r in zip(targets, results, strict=False)
        )
        return True


def _check(port: Port, kind: str) -> Health | None:
    """The check of one port: its declared health (auto, health), else a TCP connect."""
    if port.protocol != "tcp":
        return None
    if kind in ("auto", "health") and port.health is not None:
        return port.health
    return Health(kind="tcp", timeout_ms=1000.0)


def _host(port: Port) -> str:
    address = port.address
    return _LOOPBACK.get(address or "", address or "127.0.0.1")


def _describe(target: object) -> str:
    from portplan.live.probe import Target

    assert isinstance(target, Target)
    health = target.health
    where = f"{target.host}:{target.port}"
    if health.kind == "http":
        return f"http://{where}{health.path or '/'}"
    return f"{health.kind} {where}"


def preflight(topology: Topology, names: Sequence[str]) -> None:
    """Raise PortsHeld, naming each holder, when a port of `names` is taken already."""
    from portplan.live.sockets import listeners

    wanted = [topology.services[n] for n in names]
    numbers = {p.number for s in wanted for p in s.ports}
    if not numbers:
        return
    found = listeners(("tcp", "udp"), ports=numbers)
    held: set[tuple[str, int]] = set()
    problems = _held(topology, names, found, held) if found else []
    problems += _bound_elsewhere(wanted, held)
    if problems:
        count = len(problems)
        head = f"{count} port{'s' if count > 1 else ''} of the stack already held; nothing started:"
        raise PortsHeld("\n".join([head, *problems]))


def _held(
    topology: Topology, names: Sequence[str], found: Sequence[Listener], held: set[tuple[str, int]]
) -> list[str]:
    """A line per port of `names` a listener holds, naming the holder as `status` does
    (imported only then: a clean check does not pay for it); fills `held`."""
    from portplan.live.status import State, declared_rows, describe

    rows = declared_rows(list(topology.services.values()), found)
    problems = []
    chosen = set(names)
    for row in rows:
        if row.service not in chosen or row.state not in (State.UP, State.SQUATTED):
            continue
        holder = row.owner
        if holder is None:
            continue
        known = _runner_service(holder.pid) or row.holder
        whose = f", which is the plan's service {known}" if known else ""
        problems.append(
            f"  {row.label} ({row.protocol}/{row.port}) is held by {describe(holder)}{whose}"
        )
    held.update((row.protocol, row.port) for row in rows if row.state in (State.UP, State.SQUATTED))
    return problems


def _bound_elsewhere(services: Sequence[Service], held: set[tuple[str, int]]) -> list[str]:
    """TCP ports no listener holds that still cannot be bound: an outgoing connection
    uses the number as its local port (a port inside the ephemeral range, PP109)."""
    import errno
    import socket

    found = []
    for service in services:
        for port in service.ports:
            if port.protocol != "tcp" or ("tcp", port.number) in held:
                continue
            with socket.socket() as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind((_host(port), port.number))
                except OSError as error:
                    if error.errno != errno.EADDRINUSE:
                        continue
                    found.append(
                        f"  {service.name}.{port.name} (tcp/{port.number}) is in use by a "
                        "connection of this machine (its local port; see PP109)"
                    )
    return found


def _runner_service(pid: int | None) -> str | None:
    """The service a process was started as by portplan (PORTPLAN_SERVICE), when readable."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    for item in data.split(b"\0"):
        if item.startswith(b"PORTPLAN_SERVICE="):
            return item.split(b"=", 1)[1].decode("utf-8", "replace")
    return None
