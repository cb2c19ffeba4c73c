"""Sockets `up` binds itself and hands to the process (`listen: inherit` on a port), by
systemd's socket-activation protocol (sd_listen_fds(3)): the process finds them as file
descriptors 3, 4, ... in the order of its ports, with LISTEN_FDS (how many), LISTEN_PID
(its own PID) and LISTEN_FDNAMES (the ports' names, colon-separated).

`up` binds them right after the pre-flight check, before any process starts, and holds
them until the stack stops: nothing can take such a port between the check and the bind,
nor while its process restarts (a restarted process gets the same socket again; a
connection made meanwhile waits in the socket's queue). LISTEN_PID must be the PID of the
program itself, known only after the fork, and a `preexec_fn` is not safe in the
supervisor's threads: `process.spawn` starts a few lines of Python first
(`process.INHERIT`) that move the descriptors, set the variables and exec the command.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence

from portplan.model import Port, Topology
from portplan.run.ready import PortsHeld

Sockets = Mapping[tuple[str, str], socket.socket]  # (service, port name) -> bound socket
VARIABLES = ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES")
_WILDCARD = {None: "0.0.0.0", "": "0.0.0.0", "*": "0.0.0.0"}


def inherited(topology: Topology, names: Sequence[str]) -> list[tuple[str, Port]]:
    """(service, port) of every port of the services `names` whose process inherits it."""
    return [
        (name, port)
        for name in names
        for port in topology.services[name].ports
        if port.listen == "inherit"
    ]


def bind(topology: Topology, names: Sequence[str]) -> dict[tuple[str, str], socket.socket]:
    """Bind (and, for TCP, listen on) every inherited port of `names`. PortsHeld names
    each port that cannot be bound; none is kept then."""
    bound: dict[tuple[str, str], socket.socket] = {}
    problems = []
    for service, port in inherited(topology, names):
        try:
            bound[service, port.name] = _bind(port)
        except OSError as error:
            problems.append(
                f"  {service}.{port.name} ({port.protocol}/{port.number}) cannot be bound: "
                f"{error.strerror or error}"
            )
    if problems:
        close(bound)
        count = len(problems)
        head = f"{count} port{'s' if count > 1 else ''} of the stack already held; nothing started:"
        raise PortsHeld("\n".join([head, *problems]))
    return bound


def _bind(port: Port) -> socket.socket:
    host = _WILDCARD.get(port.address, port.address)
    kind = socket.SOCK_DGRAM if port.protocol == "udp" else socket.SOCK_STREAM
    family, _, _, _, address = socket.getaddrinfo(
        host, port.number, type=kind, flags=socket.AI_PASSIVE | socket.AI_NUMERICSERV
    )[0]
    sock = socket.socket(family, kind)
    try:
        if family == socket.AF_INET6 and host == "::":
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)  # IPv4 too
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        if kind == socket.SOCK_STREAM:
            sock.listen(socket.SOMAXCONN)
    except OSError:
        sock.close()
        raise
    return sock


def passed(sockets: Sockets, service: str, ports: Sequence[Port]) -> list[tuple[str, int]]:
    """(port name, descriptor) of the sockets the service's process inherits, in order."""
    return [
        (port.name, sockets[service, port.name].fileno())
        for port in ports
        if (service, port.name) in sockets
    ]


def close(sockets: Sockets) -> None:
    for sock in sockets.values():
        sock.close()
