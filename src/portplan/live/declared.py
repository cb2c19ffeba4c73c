"""The plan as the live commands see it: found if present, and indexed by port.

`ports` and `who` work without a plan; with one they name the service and port each
listener belongs to. Loading the plan is the costly part, so it is skipped (and the
loader not even imported) when no file is there.
"""

from __future__ import annotations

import os

from portplan.errors import UsageError
from portplan.live._slotted import Slotted

TYPE_CHECKING = False
if TYPE_CHECKING:  # neither typing nor the model is imported at run time without a plan
    from collections.abc import Collection, Iterable, Sequence
    from typing import Any

    from portplan.live.owners import Listener
    from portplan.model import Service, Topology

# kept in step with portplan.plan.loader.FILENAMES (a test checks); importing the loader to
# learn them would cost more than the rest of `portplan ports`
FILENAMES = ("portplan.yaml", "portplan.yml")


def find_file(start: str | None = None) -> str | None:
    """portplan.yaml in `start` (default: the current folder) or its nearest parent,
    relative to the current folder as `loader.discover` gives it.

    os.path rather than pathlib: importing pathlib alone costs more than this search.
    """
    folder = os.path.abspath(start or os.getcwd())
    while True:
        for name in FILENAMES:
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                try:
                    return os.path.relpath(path)
                except ValueError:  # another drive (Windows)
                    return path
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def optional_plan(file: str | os.PathLike[str] | None = None) -> Topology | None:
    """The plan given, or the one discovered, or None when there is none; read through the
    plan cache (portplan.plan.cache: PORTPLAN_NO_CACHE=1 reads it afresh)."""
    path = os.fspath(file) if file is not None else find_file()
    if path is None:
        return None
    from portplan.plan.cache import load

    return load(path)


def this_host(topology: Topology, requested: str | None = None) -> str:
    """The plan's name for this machine: as asked, the only host, or the hostname."""
    names = topology.host_names()
    found = host_named(names, requested)
    if found is not None:
        return found
    if requested is not None:
        raise UsageError(f"no host '{requested}' in the plan; hosts: {_listing(names)}")
    raise UsageError(f"the plan names several hosts ({_listing(names)}); choose one with --host")


def host_named(names: Collection[str], requested: str | None = None) -> str | None:
    """`this_host` among the plan's host `names`; None where it raises."""
    if requested is not None:
        return requested if requested in names else None
    if len(names) <= 1:
        return next(iter(names), "default")
    return next((name for name in _local_names() if name in names), None)


def _listing(names: Iterable[str]) -> str:
    return ", ".join(sorted(names)) or "none"


def _local_names() -> tuple[str, ...]:
    import socket

    full = socket.gethostname()
    return (full, full.split(".")[0], "localhost", "default")


class Declared(Slotted):
    """A port the plan declares: service.port_name = protocol/port on address."""

    __slots__ = ("service", "port_name", "protocol", "port", "address")  # noqa: RUF023 - the fields in order

    def __init__(
        self, service: str, port_name: str, protocol: str, port: int, address: str | None = None
    ) -> None:
        self.service = service
        self.port_name = port_name
        self.protocol = protocol
        self.port = port
        self.address = address

    @property
    def label(self) -> str:
        return f"{self.service}.{self.port_name}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "port_name": self.port_name,
            "protocol": self.protocol,
            "port": self.port,
            "address": self.address,
        }


class DeclaredIndex:
    """The plan's host ports on this machine, looked up by port number or by listener.

    Only published ports are indexed, by their host number: an unpublished port
    (`published: false`) listens on its container network, never holds a host socket."""

    def __init__(self, topology: Topology | None, host: str | None = None) -> None:
        self._by_port: dict[int, list[Declared]] = {}
        for service in _local_services(topology, host):
            for port in service.ports:
                if not port.published:
                    continue
                declared = Declared(
                    service.name, port.name, port.protocol, port.number, port.address
                )
                self._by_port.setdefault(port.number, []).append(declared)

    def __bool__(self) -> bool:
        return bool(self._by_port)

    def on(self, port: int) -> list[Declared]:
        """Every declaration of `port`, whatever its protocol."""
        return self._by_port.get(port, [])

    def of(self, listener: Listener) -> Declared | None:
        """The declaration a listener fulfils: same protocol and port, meeting addresses."""
        from portplan.model import addresses_overlap

        return next(
            (
                d
                for d in self._by_port.get(listener.port, ())
                if d.protocol == listener.protocol
                and addresses_overlap(d.address, listener.address)
            ),
            None,
        )


def _local_services(topology: Topology | None, host: str | None) -> Sequence[Service]:
    if topology is None:
        return ()
    try:
        chosen = this_host(topology, host)
    except UsageError:
        if host is not None:
            raise
        return list(topology.services.values())  # several hosts, none this one: match any
    return [s for s in topology.services.values() if s.host == chosen]
