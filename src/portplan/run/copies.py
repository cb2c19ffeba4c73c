"""Parallel copies of a stack (`up --copy NAME`) on ports no other copy and nothing
listening uses.

Each port of a copy moves to the lowest free port of the range policy that governs it;
a port no range governs (or whose range has no free port left) moves with the others by
one offset (100, 200, ...) that keeps every one of them free. The choice is made under
one lock for the whole machine (state.machine_lock), against every other copy's claim
(their ports.json files) and every listener, so two `up --copy` started together cannot
take the same port; the claim stays until `down --copy NAME`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from portplan.atomicfile import write_atomic
from portplan.errors import UsageError
from portplan.model import Port, RangePolicy, Service, Topology
from portplan.run.graph import runnable
from portplan.run.state import StateDir, claimed_ports, machine_lock

Assignment = dict[tuple[str, str], int]
_OFFSET_STEP = 100
_RETRIES = 20


def assign(topology: Topology, state: StateDir) -> Assignment:
    """The copy's ports: its recorded claim, or a new one made under the machine lock."""
    with machine_lock():
        recorded = read(state)
        if recorded is not None:
            return recorded
        taken = claimed_ports(exclude=state.path) | _listening() | _planned(topology)
        chosen = choose(topology, set(taken))
        for _ in range(_RETRIES):  # a connection may use a free port as its local port
            unbindable = {n for n in chosen.values() if not _bindable(n)}
            if not unbindable:
                break
            taken |= unbindable
            chosen = choose(topology, set(taken))
        state.create()
        document = {
            "copy": state.copy,
            "ports": [
                {"service": s, "name": n, "port": number} for (s, n), number in chosen.items()
            ],
        }
        write_atomic(state.ports_file, json.dumps(document, indent=2) + "\n")
        return chosen


def read(state: StateDir) -> Assignment | None:
    """The copy's recorded ports, or None."""
    try:
        document = json.loads(state.ports_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {(p["service"], p["name"]): int(p["port"]) for p in document.get("ports", [])}


def release(state: StateDir) -> None:
    """Give the copy's ports back."""
    with machine_lock():
        state.ports_file.unlink(missing_ok=True)


def choose(topology: Topology, taken: set[int]) -> Assignment:
    """New ports for every port of every service `up` runs, none in `taken`."""
    chosen: Assignment = {}
    loose: list[tuple[Service, Port]] = []
    for service in runnable(topology):
        for port in service.ports:
            policy = _policy(topology, service, port)
            if policy is None:
                loose.append((service, port))
                continue
            number = next((n for n in policy.ports if n not in taken), None)
            if number is None:  # the range is full: it moves with the loose ones
                loose.append((service, port))
                continue
            taken.add(number)
            chosen[service.name, port.name] = number
    offset = _offset([port.number for _, port in loose], taken)
    for service, port in loose:
        chosen[service.name, port.name] = port.number + offset
    return chosen


def _policy(topology: Topology, service: Service, port: Port) -> RangePolicy | None:
    return next((r for r in topology.ranges if r.applies_to(service, port)), None)


def _offset(numbers: list[int], taken: set[int]) -> int:
    if not numbers:
        return 0
    for offset in range(_OFFSET_STEP, 65536, _OFFSET_STEP):
        moved = [n + offset for n in numbers]
        if max(moved) <= 65535 and not any(n in taken for n in moved):
            taken.update(moved)
            return offset
    raise UsageError("no offset keeps every port of the copy free")


def _listening() -> set[int]:
    from portplan.live.sockets import listeners

    return {li.port for li in listeners(("tcp", "udp"), owners=False)}


def _bindable(number: int) -> bool:
    """False when a TCP socket cannot be bound to the port on loopback: something holds
    it, a listener or a connection using it as its local port (as `up`'s pre-flight
    check finds)."""
    import socket

    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", number))
        except OSError:
            return False
    return True


def _planned(topology: Topology) -> set[int]:
    return {p.number for s in topology.services.values() for p in s.ports}


def claims(state_dirs: Iterable[StateDir]) -> dict[str, Assignment]:
    """Each copy's claim (for tests and `ps`)."""
    return {s.copy: read(s) or {} for s in state_dirs}
