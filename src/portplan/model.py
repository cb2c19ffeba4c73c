"""The topology model: immutable records, no I/O.

Every value read from a file keeps its `Location`, so a finding can point at the line to fix.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields
from enum import StrEnum
from functools import cached_property
from typing import Any


@dataclass(frozen=True, slots=True, order=True)
class Location:
    """A place in a file: 1-based line and column (0 when unknown)."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if not self.line:
            return self.file
        if not self.column:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.column}"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line or None, "column": self.column or None}


NOWHERE = Location("<unknown>")


class Exposure(StrEnum):
    """Who may reach a port: anyone, the internal network, or this host only."""

    PUBLIC = "public"
    INTERNAL = "internal"
    LOCAL = "local"


class Status(StrEnum):
    ACTIVE = "active"
    PLANNED = "planned"
    RESERVED = "reserved"
    DEPRECATED = "deprecated"


WILDCARD_ADDRESSES = frozenset({"0.0.0.0", "::", "*", ""})


@dataclass(frozen=True, slots=True, order=True)
class PortRange:
    """An inclusive range of port numbers; a single port is a range of one."""

    start: int
    end: int

    def __contains__(self, port: object) -> bool:
        return isinstance(port, int) and self.start <= port <= self.end

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.start, self.end + 1))

    def __len__(self) -> int:
        return self.end - self.start + 1

    def __str__(self) -> str:
        return str(self.start) if self.start == self.end else f"{self.start}-{self.end}"

    def overlaps(self, other: PortRange) -> bool:
        return self.start <= other.end and other.start <= self.end

    def contains_range(self, other: PortRange) -> bool:
        return self.start <= other.start and other.end <= self.end


@dataclass(frozen=True, slots=True)
class Latency:
    """Latency budget in milliseconds: over target is a warning, over max an error."""

    target_ms: float | None = None
    max_ms: float | None = None


@dataclass(frozen=True, slots=True)
class Throughput:
    """Throughput budget in requests per second."""

    target_rps: float | None = None
    max_rps: float | None = None


@dataclass(frozen=True, slots=True)
class Health:
    """How to tell that a port is healthy: an HTTP request, a TCP connect or gRPC health."""

    kind: str  # "http" | "tcp" | "grpc"
    path: str | None = None
    status: int | None = None  # expected HTTP status; None means any 2xx
    expect: Mapping[str, Any] | None = None  # JSON subset the body must contain
    grpc_service: str = ""
    timeout_ms: float = 2000.0
    latency: Latency | None = None
    location: Location = NOWHERE


@dataclass(frozen=True, slots=True)
class Port:
    """A named port of a service.

    `number` is the port others reach it on: the host port when it is published, else the
    port on its container (or cluster) network. `target` is the port the process listens
    on inside its container or pod when that differs (compose `8088:80`: number 8088,
    target 80; a Kubernetes Service port 80 with targetPort 8080). `published` False: the
    port is not bound on the host (compose `expose`, a ClusterIP Service), so it takes no
    host port and conflicts with no other service's port.
    """

    name: str
    number: int
    protocol: str = "tcp"
    kind: str = "tcp"  # http, grpc, ws, metrics, postgresql, ... (defaults from the name)
    address: str | None = None  # bind address; None = not stated
    target: int | None = None  # the port inside its container/pod; None = `number`
    published: bool = True  # bound on the host; False = on its container network only
    exposure: Exposure | None = None  # None = inherit from the service
    env: str | None = None
    health: Health | None = None
    metrics_path: str | None = None
    throughput: Throughput | None = None
    description: str | None = None
    location: Location = NOWHERE
    target_location: Location | None = None  # where `target:` is, when the plan states it
    listen: str = "self"  # "inherit": `portplan up` binds it and passes the socket (LISTEN_FDS)

    @property
    def is_wildcard(self) -> bool:
        return self.address is None or self.address in WILDCARD_ADDRESSES

    @property
    def container_port(self) -> int:
        """The port the process listens on inside its container or pod."""
        return self.number if self.target is None else self.target


@dataclass(frozen=True, slots=True)
class Resources:
    """What a service may use: cores, memory and storage (each optional)."""

    cpu: float | None = None  # cores
    memory_mb: float | None = None
    storage_gb: float | None = None


@dataclass(frozen=True, slots=True)
class EnvVar:
    """A variable in a service's environment, with where it was written."""

    name: str
    value: str | None
    location: Location = NOWHERE


@dataclass(frozen=True, slots=True)
class Dependency:
    """A service another one depends on, and where the plan says so."""

    name: str
    location: Location = NOWHERE


@dataclass(frozen=True, slots=True)
class Readiness:
    """What makes a started process ready (`run.ready`): `auto` (each port's declared
    health check, else a TCP connect to it), `health`, `tcp`, `exec` (a command exits 0),
    `log` (a line of its output matches) or `started` (at once)."""

    kind: str = "auto"
    command: tuple[str, ...] | str | None = None  # exec
    pattern: str | None = None  # log
    timeout_ms: float = 60000.0
    interval_ms: float = 100.0


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """When a process that ended is started again (`run.restart`)."""

    policy: str = "no"  # "no" | "on-failure" | "always"
    with_dependency: bool = False  # restarted after a dependency restarts
    backoff_ms: float = 500.0  # doubled after each restart, at most 30 s
    max_restarts: int = 5


@dataclass(frozen=True, slots=True)
class StopPolicy:
    """How a process group is stopped (`run.stop`): this signal, then SIGKILL after grace."""

    signal: str = "SIGTERM"
    grace_ms: float = 10000.0


@dataclass(frozen=True, slots=True)
class RunSpec:
    """How `portplan up` runs a service (`run:`)."""

    command: tuple[str, ...] | str
    cwd: str | None = None  # relative to the plan's folder
    env: tuple[EnvVar, ...] = ()
    ready: Readiness = Readiness()
    restart: RestartPolicy = RestartPolicy()
    stop: StopPolicy = StopPolicy()
    wait_for: Mapping[str, str] = field(default_factory=dict)  # dependency -> condition
    location: Location = NOWHERE

    def condition(self, dependency: str) -> str:
        """`started`, `ready` (the default) or `completed`."""
        return self.wait_for.get(dependency, "ready")


@dataclass(frozen=True, slots=True)
class Service:
    """One service of the plan: where it runs, its ports and how it is run."""

    name: str
    host: str = "default"
    system: str | None = None
    aliases: tuple[str, ...] = ()
    purpose: str | None = None
    category: str | None = None
    status: Status = Status.ACTIVE
    phase: str | None = None
    technology: str | None = None
    image: str | None = None
    zone: str | None = None
    exposure: Exposure = Exposure.INTERNAL
    networks: tuple[str, ...] = ()
    ports: tuple[Port, ...] = ()
    depends_on: tuple[Dependency, ...] = ()
    environment: tuple[EnvVar, ...] = ()
    resources: Resources | None = None
    throughput: Throughput | None = None
    location: Location = NOWHERE
    run: RunSpec | None = None

    def port(self, name: str) -> Port | None:
        return next((p for p in self.ports if p.name == name), None)

    def exposure_of(self, port: Port) -> Exposure:
        return port.exposure or self.exposure


@dataclass(frozen=True, slots=True)
class RangePolicy:
    """Where ports of a category and/or kind may live."""

    name: str
    ports: PortRange
    category: str | None = None
    kind: str | None = None
    host: str | None = None
    description: str | None = None
    location: Location = NOWHERE

    def applies_to(self, service: Service, port: Port) -> bool:
        if self.category is not None and service.category != self.category:
            return False
        if self.kind is not None and port.kind != self.kind:
            return False
        if self.host is not None and service.host != self.host:
            return False
        return self.category is not None or self.kind is not None


@dataclass(frozen=True, slots=True)
class Reservation:
    """Ports nobody may take (reserved) or kept free for the future (future)."""

    ports: PortRange
    reason: str = ""
    host: str | None = None
    future: bool = False
    location: Location = NOWHERE


@dataclass(frozen=True, slots=True)
class Zone:
    """A network zone: the widest exposure a port inside it may have."""

    name: str
    exposure: Exposure
    networks: tuple[str, ...] = ()
    description: str | None = None
    location: Location = NOWHERE


@dataclass(frozen=True, slots=True)
class Network:
    """A network of the plan: its subnet and zone."""

    name: str
    subnet: str | None = None
    zone: str | None = None
    location: Location = NOWHERE


@dataclass(frozen=True, slots=True)
class Host:
    """A machine of the plan: its address and description."""

    name: str
    address: str | None = None
    description: str | None = None
    ephemeral: PortRange | None = None
    location: Location = NOWHERE


@dataclass(frozen=True, slots=True)
class Binding:
    """(host, address, protocol, port) owned by (service, port name): what can conflict."""

    host: str
    address: str | None
    protocol: str
    port: int
    service: str
    port_name: str
    location: Location

    def overlaps(self, other: Binding) -> bool:
        """Two bindings clash when host, protocol and port agree and the addresses meet."""
        if (self.host, self.protocol, self.port) != (other.host, other.protocol, other.port):
            return False
        return addresses_overlap(self.address, other.address)


def addresses_overlap(a: str | None, b: str | None) -> bool:
    """A wildcard address overlaps every address of its family; 0.0.0.0 and :: overlap too."""
    if a is None or b is None or a in WILDCARD_ADDRESSES or b in WILDCARD_ADDRESSES:
        return True
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return a == b


@dataclass(frozen=True)
class Topology:
    """A whole plan: services with their ports, and the policies they are held to."""

    source: str
    system: str | None = None
    description: str | None = None
    hosts: Mapping[str, Host] = field(default_factory=dict)
    services: Mapping[str, Service] = field(default_factory=dict)
    ranges: tuple[RangePolicy, ...] = ()
    reserved: tuple[Reservation, ...] = ()
    zones: Mapping[str, Zone] = field(default_factory=dict)
    networks: Mapping[str, Network] = field(default_factory=dict)
    ephemeral: PortRange | None = None  # declared for every host; else read from the OS
    includes: tuple[str, ...] = ()
    default_host: str = "default"

    def bindings(self) -> Iterator[Binding]:
        """The host ports the services bind: every published port of every service that
        runs (reserved and deprecated services bind nothing)."""
        for service in self.services.values():
            if service.status in (Status.RESERVED, Status.DEPRECATED):
                continue
            for port in service.ports:
                if not port.published:
                    continue
                yield Binding(
                    host=service.host,
                    address=port.address,
                    protocol=port.protocol,
                    port=port.number,
                    service=service.name,
                    port_name=port.name,
                    location=port.location,
                )

    def port_count(self) -> int:
        return sum(len(s.ports) for s in self.services.values())

    def host_names(self) -> set[str]:
        return {s.host for s in self.services.values()} | set(self.hosts)

    def resolve(self, name: str) -> Service | None:
        """A service by name or alias, case- and separator-insensitive."""
        found = self.services.get(name)
        return found if found is not None else self._names.get(normalize_name(name))

    @cached_property
    def _names(self) -> dict[str, Service]:
        index: dict[str, Service] = {}
        for service in self.services.values():
            for alias in service.aliases:
                index.setdefault(normalize_name(alias), service)
        for service in self.services.values():
            index[normalize_name(service.name)] = service
        return index


_ASCII_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_NORMALIZED: dict[str, str] = {}  # name -> normalized: a few thousand names, asked for again
_NORMALIZED_MAX = 1 << 16  # and again; emptied when it holds this many (bounded memory)


def normalize_name(name: str) -> str:
    """'Token Engine', 'token-engine', 'TOKEN_ENGINE' -> 'tokenengine'."""
    # Called for every name of every source, the same names again and again (280,000 calls
    # for 5,000 services): remembered, and made without a loop per character.
    found = _NORMALIZED.get(name)
    if found is None:
        found = _normalized(name)
        if len(_NORMALIZED) >= _NORMALIZED_MAX:
            _NORMALIZED.clear()
        _NORMALIZED[name] = found
    return found


def _normalized(name: str) -> str:
    lower = name.lower()
    if lower.isalnum():
        return lower
    if lower.isascii():  # ASCII's letters and digits, lowered, are [0-9a-z]
        return _ASCII_NOT_ALNUM.sub("", lower)
    return "".join(ch for ch in lower if ch.isalnum())


_FACTORY: Any = object()  # stands for a field's default_factory in a parameter list


def _set_through_slots(*classes: type) -> None:
    """Give each frozen, slotted dataclass of `classes` an `__init__` that sets its fields
    through their slot descriptors instead of `object.__setattr__`: twice as fast, and a
    large plan makes a few hundred thousand of these records. The same parameters, defaults
    and factories; frozen-ness, equality, order, hashing and repr stay the dataclass's own.
    (One `exec` for all: compiling is a start-up cost.)"""
    namespace: dict[str, Any] = {"_FACTORY": _FACTORY}
    source: list[str] = []
    for number, cls in enumerate(classes):
        params: list[str] = []
        body: list[str] = []
        for item in fields(cls):
            name, ref = item.name, f"_{number}_{item.name}"
            namespace[f"_set{ref}"] = vars(cls)[name].__set__
            if item.default is not MISSING:
                namespace[f"_default{ref}"] = item.default
                params.append(f"{name}=_default{ref}")
            elif item.default_factory is not MISSING:
                namespace[f"_factory{ref}"] = item.default_factory
                params.append(f"{name}=_FACTORY")
                body.append(f" if {name} is _FACTORY: {name} = _factory{ref}()")
            else:
                params.append(name)
            body.append(f" _set{ref}(self, {name})")
        source += [f"def _init_{number}(self, {', '.join(params)}):", *body]
    exec("\n".join(source), namespace)
    for number, cls in enumerate(classes):
        init = namespace[f"_init_{number}"]
        init.__name__, init.__qualname__ = "__init__", f"{cls.__qualname__}.__init__"
        init.__module__ = cls.__module__
        cls.__init__ = init  # type: ignore[misc]


# The records a plan or a scan makes one of per value, port or service.
_set_through_slots(Location, Port, Health, Service, Dependency, EnvVar, Binding)
