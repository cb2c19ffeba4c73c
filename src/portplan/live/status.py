"""Hold a topology against this machine: which declared ports are up, down or squatted,
which listeners in managed ranges nobody declared, and how healthy and fast each port is.

`check_status` returns data (a `StatusReport` of `PortStatus` rows and `Finding`s); the
CLI formats it. Who holds a port is told by name: a process whose name or command line
mentions a service's name, an alias or its image belongs to that service.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from portplan.findings import Finding, Level, count_by_level, sorted_findings
from portplan.live.declared import this_host
from portplan.live.early import EARLY_CHECKS, EarlyChecks, kept_check
from portplan.live.owners import Listener
from portplan.live.probe import DEFAULT_CONCURRENCY, ProbeResult, Target, target_of
from portplan.live.text import printable
from portplan.model import (
    Health,
    Location,
    Port,
    PortRange,
    Service,
    Status,
    Topology,
    addresses_overlap,
    normalize_name,
)

if TYPE_CHECKING:  # sockets whose owner is known or not: the checks start before owners
    from typing import Protocol, TypeVar

    class _Socket(Protocol):
        """A listening socket, its owner known (a Listener) or not yet (sockets.RawSocket)."""

        @property
        def protocol(self) -> str: ...
        @property
        def address(self) -> str: ...
        @property
        def port(self) -> int: ...

    _S = TypeVar("_S", bound=_Socket)


# rule id -> (name, level): the findings of the live machine
RULES: dict[str, tuple[str, Level]] = {
    "PP501": ("port-down", Level.ERROR),
    "PP502": ("port-squatted", Level.ERROR),
    "PP503": ("unexpected-listener", Level.WARNING),
    "PP504": ("unhealthy", Level.ERROR),
    "PP505": ("latency-over-target", Level.WARNING),
    "PP506": ("latency-over-max", Level.ERROR),
}
_MIN_TOKEN = 4  # shorter names ("db", "api") match too many command lines to tell owners


class State(StrEnum):
    UP = "up"  # something listens, and nothing says it is another service's
    DOWN = "down"  # nothing listens
    SQUATTED = "squatted"  # another service's process holds it
    UNEXPECTED = "unexpected"  # a listener in a managed range that no service declares
    UNPUBLISHED = "unpublished"  # `published: false`: on its container network, not the host


@dataclass(frozen=True, slots=True)
class PortStatus:
    """One row of `portplan status`: a declared port, or an unexpected listener."""

    state: State
    protocol: str
    port: int  # the host port (published), else the port on its container network
    service: str | None = None
    port_name: str | None = None
    address: str | None = None  # declared bind address
    target: int | None = None  # the port inside its container, when it differs
    listeners: tuple[Listener, ...] = ()
    holder: str | None = None  # the service whose process holds it, when told by name
    health: Health | None = None  # the declared check
    probe: ProbeResult | None = None
    range_name: str | None = None  # for unexpected listeners: the managed range
    location: Location = field(default=Location("<unknown>"))

    @property
    def label(self) -> str:
        """service.port, or protocol/port for an unexpected listener."""
        if self.service is None:
            return f"{self.protocol}/{self.port}"
        return f"{self.service}.{self.port_name}"

    @property
    def owner(self) -> Listener | None:
        return self.listeners[0] if self.listeners else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "port_name": self.port_name,
            "protocol": self.protocol,
            "port": self.port,
            "address": self.address,
            "target": self.target,
            "published": self.state is not State.UNPUBLISHED,
            "state": self.state.value,
            "holder": self.holder,
            "range": self.range_name,
            "listeners": [listener.as_dict() for listener in self.listeners],
            "health": self.probe.as_dict() if self.probe else None,
            "location": self.location.as_dict(),
        }


@dataclass(frozen=True, slots=True)
class StatusReport:
    """Every declared port and unexpected listener, and the findings among them."""

    host: str
    ports: tuple[PortStatus, ...]
    findings: tuple[Finding, ...]
    checked_at: float = 0.0  # Unix time

    @property
    def failed(self) -> bool:
        """True when something declared is down, squatted, unhealthy or over its maximum."""
        return any(finding.level >= Level.ERROR for finding in self.findings)

    def _state_counts(self) -> dict[State, int]:
        """Rows per state, every state (an enum member's `.value` is slow to read: not per row)."""
        counts = dict.fromkeys(State, 0)
        for row in self.ports:
            counts[row.state] += 1
        return counts

    def summary(self) -> dict[str, Any]:
        """Counts of states, health results and findings, as `portplan check` counts them."""
        states = {state.value: n for state, n in self._state_counts().items()}
        probed = [row.probe for row in self.ports if row.probe]
        healthy = sum(1 for result in probed if result.healthy)
        counts = count_by_level(self.findings)
        return {
            **states,
            "healthy": healthy,
            "unhealthy": len(probed) - healthy,
            "errors": counts[Level.ERROR],
            "warnings": counts[Level.WARNING],
            "infos": counts[Level.INFO],
            "headline": self.headline(),
        }

    def headline(self) -> str:
        """'5 ports on host default: 2 up, 1 down, ...; 1 error, 0 warnings'.

        Unpublished ports are counted only when there are some: they are a fact of the
        plan, not of this machine."""
        summary = {state.value: n for state, n in self._state_counts().items()}
        if not summary[State.UNPUBLISHED.value]:
            del summary[State.UNPUBLISHED.value]
        states = ", ".join(f"{n} {name}" for name, n in summary.items())
        counts = count_by_level(self.findings)
        levels = (
            f"{_plural(counts[Level.ERROR], 'error')}, {_plural(counts[Level.WARNING], 'warning')}"
        )
        declared = sum(1 for row in self.ports if row.service is not None)
        return f"{_plural(declared, 'port')} on host {self.host}: {states}; {levels}"

    def as_dict(self) -> dict[str, Any]:
        """The JSON document: `portplan check`'s findings and summary, plus every row."""
        return {
            "version": 1,
            "command": "status",
            "findings": [finding.as_dict() for finding in self.findings],
            "summary": self.summary(),
            "host": self.host,
            "checked_at": self.checked_at,
            "ports": [row.as_dict() for row in self.ports],
        }


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@dataclass(frozen=True, slots=True)
class StatusOptions:
    """How to check: `host` is the plan's name for this machine (guessed when None);
    `probes=False` skips health checks; `concurrency` bounds the checks in flight;
    `workers` > 1 spreads thousands of checks over forked processes."""

    host: str | None = None
    probes: bool = True
    concurrency: int = DEFAULT_CONCURRENCY
    workers: int = 1  # processes to spread many HTTP/TCP checks over (forked)


def check_status(
    topology: Topology,
    options: StatusOptions | None = None,
    *,
    listeners: Sequence[Listener] | None = None,
    meanwhile: Callable[[], object] | None = None,
    early: EarlyChecks | None = None,
) -> StatusReport:
    """Compare the topology's ports on this machine with what listens, and probe health.

    `listeners` defaults to the machine's own (read here): of those, only the sockets a row
    can show (on a declared port, or inside a managed range) have their owners looked up.
    `meanwhile` is called while thousands of checks run in a thread, once the rows are
    made (other work of the caller's, done while this thread would wait). `early` are checks
    the caller started already (`portplan.live.early.start`).
    """
    options = options or StatusOptions()
    chosen = this_host(topology, options.host)
    services = [s for s in topology.services.values() if s.host == chosen]
    started = None
    try:
        if listeners is None:
            listeners, started = _read_listeners(topology, chosen, services, options, early)
        rows = declared_rows(services, listeners)
        rows += unexpected_rows(topology, chosen, services, listeners)
        if meanwhile is not None:
            meanwhile()
        if options.probes:
            _probe_rows(rows, options, early or started)
    finally:
        if started is not None:  # started here: ended here (the caller's are the caller's)
            started.close()
    findings = sorted_findings(f for row in rows for f in findings_of(row, topology))
    return StatusReport(chosen, tuple(rows), tuple(findings), time.time())


def watch(
    topology: Topology, options: StatusOptions | None = None, *, interval: float = 2.0
) -> Iterator[StatusReport]:
    """A fresh report every `interval` seconds, forever (stop iterating to end)."""
    while True:
        started = time.monotonic()
        yield check_status(topology, options)
        time.sleep(max(0.0, interval - (time.monotonic() - started)))


def _read_listeners(
    topology: Topology,
    host: str,
    services: Sequence[Service],
    options: StatusOptions,
    started: EarlyChecks | None = None,
) -> tuple[list[Listener], EarlyChecks | None]:
    """The machine's listeners that a row can show: on a port that an active service
    declares, or inside a managed range (the others' owners are not looked up: tens of ms of
    /proc for thousands of sockets). With many health checks to run in this process, they
    start in a thread as soon as the sockets are known, while the sockets' owners are looked
    up: a port that its owner then shows squatted, not to be checked, is checked all the
    same and its answer dropped."""
    from portplan.live import sockets

    protocols = _protocols(services)
    read = started.sockets if started is not None else None
    # the sockets the started checks were picked from, when of the same protocols
    raw = read[1] if read is not None and read[0] == protocols else None
    if raw is None:
        raw = sockets.raw_listeners(protocols)
    if raw is None:  # the owners come with the sockets (psutil)
        return sockets.listeners(protocols), None
    raw = _shown(raw, services, _managed_ranges(topology, host))
    early = None
    if started is None and options.probes:
        wanted = _early_targets(services, raw)
        if len(wanted) >= EARLY_CHECKS:
            early = _EarlyChecks(wanted, options.concurrency, workers=options.workers)
    return sockets.with_owners(raw), early


_EarlyChecks = EarlyChecks  # started here (tests watch it)


def _protocols(services: Sequence[Service]) -> list[str]:
    """The protocols of the sockets to read: UDP too when a service publishes a UDP port."""
    udp = any(p.protocol == "udp" for s in services for p in _published(s))
    return ["tcp", "udp"] if udp else ["tcp"]


def kept_checks(
    topology: Topology,
) -> tuple[list[str], dict[str, tuple[list[str], list[tuple[Any, ...]]]]]:
    """The plan's host names and, for each host, what `portplan.live.early.save` keeps:
    the protocols to read and each HTTP or TCP check of a row of a port on no set address."""
    names = sorted(topology.host_names())
    hosts = {}
    for host in names:
        services = [s for s in topology.services.values() if s.host == host]
        checks = [
            kept
            for row, port in _checked_ports(services)
            if port.health is not None
            and port.address is None
            and (kept := kept_check(row, port.protocol, port.number, port.health)) is not None
        ]
        hosts[host] = (_protocols(services), checks)
    return names, hosts


def _checked_ports(services: Sequence[Service]) -> Iterator[tuple[int, Port]]:
    """(row, port) of each published port with a check, numbered as `declared_rows` rows."""
    rows = (port for service in services if _expected(service) for port in service.ports)
    return (
        (row, port) for row, port in enumerate(rows) if port.published and port.health is not None
    )


def _shown(
    raw: Sequence[_S],
    services: Sequence[Service],
    managed: Sequence[tuple[str, PortRange, Location]],
) -> list[_S]:
    """The sockets some row shows: on a published port of an active service (`declared_rows`)
    or inside a managed range (`unexpected_rows`)."""
    declared = {
        (port.protocol, port.number)
        for service in services
        if _expected(service)
        for port in _published(service)
    }
    return [
        sock
        for sock in raw
        if (sock.protocol, sock.port) in declared or _range_of(sock.port, managed) is not None
    ]


# ---------------------------------------------------------------------------
# Declared ports


def _expected(service: Service) -> bool:
    return service.status is Status.ACTIVE


def _published(service: Service) -> Iterator[Port]:
    """The ports a service binds on the host (`published: false` ports are not)."""
    return (port for port in service.ports if port.published)


def declared_rows(services: Sequence[Service], listeners: Sequence[Listener]) -> list[PortStatus]:
    """One row per port of every active service: up, down or squatted on its host port,
    or unpublished (not bound on the host: no host listener is looked for)."""
    index = _index(listeners)
    owners = _Owners(services)
    rows = []
    for service in services:
        if not _expected(service):
            continue
        for port in service.ports:
            if not port.published:
                rows.append(_row(service, port, State.UNPUBLISHED))
                continue
            held = _held(port, index)
            state, holder = _holding(service, held, owners)
            rows.append(_row(service, port, state, held, holder))
    return rows


def _early_targets(
    services: Sequence[Service], sockets: Sequence[_Socket]
) -> list[tuple[int, Target]]:
    """(row, target) of each check the rows of `declared_rows` ask for, before the owners
    are known (as if no port were squatted)."""
    index = _index(sockets)
    wanted = []
    for row, port in _checked_ports(services):
        if port.health is not None and (held := _held(port, index)):
            wanted.append((row, target_of(held[0].address, port.number, port.health)))
    return wanted


def _held(port: Port, index: Mapping[tuple[str, int], list[_S]]) -> list[_S]:
    return [li for li in index.get((port.protocol, port.number), ()) if _meets(port, li)]


def _index(listeners: Iterable[_S]) -> dict[tuple[str, int], list[_S]]:
    index: dict[tuple[str, int], list[_S]] = defaultdict(list)
    for listener in listeners:
        index[listener.protocol, listener.port].append(listener)
    return index


def _meets(port: Port, listener: _Socket) -> bool:
    return addresses_overlap(port.address, listener.address)


def _row(
    service: Service,
    port: Port,
    state: State,
    held: Sequence[Listener] = (),
    holder: str | None = None,
) -> PortStatus:
    return PortStatus(
        state=state,
        protocol=port.protocol,
        port=port.number,
        service=service.name,
        port_name=port.name,
        address=port.address,
        target=port.target,
        listeners=tuple(held),
        holder=holder,
        health=port.health,
        location=port.location,
    )


def _holding(service: Service, held: list[Listener], owners: _Owners) -> tuple[State, str | None]:
    """(state, the service recognised as holding the port) for a declared port."""
    if not held:
        return State.DOWN, None
    holders = sorted({name for li in held if (name := owners.service_of(li)) is not None})
    if not holders or service.name in holders:
        return State.UP, service.name if holders else None
    return State.SQUATTED, holders[0]


class _Owners:
    """Tells which service a process belongs to, by the names in its command line.

    Answers are kept per process: one server often holds many ports."""

    def __init__(self, services: Iterable[Service]) -> None:
        tokens: dict[str, str] = {}
        for service in services:
            for token in _tokens(service):
                tokens.setdefault(token, service.name)
        # longest first, so "token-engine-admin" wins over "token-engine"
        self._tokens = sorted(tokens.items(), key=lambda item: -len(item[0]))
        self._known: dict[int, str | None] = {}

    def service_of(self, listener: Listener) -> str | None:
        process = listener.process
        if process is None:
            return None
        if process.pid not in self._known:
            text = normalize_name(" ".join((process.name, *process.cmdline)))
            match = next((name for token, name in self._tokens if token in text), None)
            self._known[process.pid] = match
        return self._known[process.pid]


def _tokens(service: Service) -> set[str]:
    names = [service.name, *service.aliases]
    if service.image:
        names.append(service.image.rsplit("/", 1)[-1].split(":")[0])
    return {key for key in map(normalize_name, names) if len(key) >= _MIN_TOKEN}


# ---------------------------------------------------------------------------
# Unexpected listeners


def unexpected_rows(
    topology: Topology, host: str, services: Sequence[Service], listeners: Sequence[Listener]
) -> list[PortStatus]:
    """Listeners inside a managed range (a range policy or a reservation) on a host port no
    service declares: an unpublished port claims no host port."""
    managed = _managed_ranges(topology, host)
    if not managed:
        return []
    declared = {(p.protocol, p.number) for s in services for p in _published(s)}
    rows = []
    for (protocol, number), held in _index(listeners).items():
        where = _range_of(number, managed)
        if where is not None and (protocol, number) not in declared:
            rows.append(_unexpected_row(protocol, number, held, where))
    return rows


def _managed_ranges(topology: Topology, host: str) -> list[tuple[str, PortRange, Location]]:
    """(label, ports, location) of every range policy and reservation on this host."""
    ranges = [
        (f"range {r.name} ({r.ports})", r.ports, r.location)
        for r in topology.ranges
        if r.host in (None, host)
    ]
    for res in topology.reserved:
        if res.host in (None, host):
            reason = f" ({res.reason})" if res.reason else ""
            ranges.append((f"reserved ports {res.ports}{reason}", res.ports, res.location))
    return ranges


def _range_of(
    number: int, managed: Sequence[tuple[str, PortRange, Location]]
) -> tuple[str, Location] | None:
    return next(((name, loc) for name, ports, loc in managed if number in ports), None)


def _unexpected_row(
    protocol: str, number: int, held: list[Listener], where: tuple[str, Location]
) -> PortStatus:
    return PortStatus(
        state=State.UNEXPECTED,
        protocol=protocol,
        port=number,
        listeners=tuple(held),
        range_name=where[0],
        location=where[1],
    )


# ---------------------------------------------------------------------------
# Health and latency


def _probe_rows(
    rows: list[PortStatus], options: StatusOptions, early: EarlyChecks | None = None
) -> None:
    """Run the rows' checks and give each checked row its result.

    The result is set on the row itself: the rows are this module's own until
    `check_status` returns them (a frozen dataclass's `replace` would copy each row, 7 ms
    for 2,000, once the checks are over)."""
    wanted = _targets(rows)
    results = early.results(wanted) if early is not None else {}
    missing = [(i, target) for i, target in wanted if i not in results]
    if missing:
        from portplan.live.probing import probe_all

        targets = [target for _, target in missing]
        found = probe_all(targets, concurrency=options.concurrency, workers=options.workers)
        results.update((i, result) for (i, _), result in zip(missing, found, strict=True))
    for i, result in results.items():
        object.__setattr__(rows[i], "probe", result)


def _targets(rows: Sequence[PortStatus]) -> list[tuple[int, Target]]:
    return [(i, target) for i, row in enumerate(rows) if (target := _target(row)) is not None]


def _target(row: PortStatus) -> Target | None:
    if row.health is None or row.state is not State.UP or row.owner is None:
        return None
    return target_of(row.owner.address, row.port, row.health)


# ---------------------------------------------------------------------------
# Findings


def findings_of(row: PortStatus, topology: Topology) -> list[Finding]:
    """The problems one row shows, as findings PP501-PP506."""
    return [finding for check in _ROW_CHECKS if (finding := check(row, topology)) is not None]


def _finding(rule: str, message: str, row: PortStatus, **facts: Any) -> Finding:
    name, level = RULES[rule]
    base = {
        "service": row.service,
        "port_name": row.port_name,
        "protocol": row.protocol,
        "port": row.port,
        "state": row.state.value,
    }
    return Finding(rule, name, level, message, (row.location,), {**base, **facts})


def _down(row: PortStatus, topology: Topology) -> Finding | None:
    if row.state is not State.DOWN:
        return None
    return _finding(
        "PP501", f"{row.label} ({row.protocol} {row.port}) is down: nothing listens", row
    )


def _squatted(row: PortStatus, topology: Topology) -> Finding | None:
    if row.state is not State.SQUATTED or row.owner is None:
        return None
    message = (
        f"{row.label} ({row.protocol} {row.port}) is held by {row.holder}: {describe(row.owner)}"
    )
    return _finding("PP502", message, row, holder=row.holder, pid=row.owner.pid)


def _unexpected(row: PortStatus, topology: Topology) -> Finding | None:
    if row.state is not State.UNEXPECTED or row.owner is None:
        return None
    message = (
        f"{row.owner.protocol} {row.owner.endpoint} is inside {row.range_name} but no service "
        f"declares it; held by {describe(row.owner)}"
    )
    return _finding("PP503", message, row, range=row.range_name, pid=row.owner.pid)


def _unhealthy(row: PortStatus, topology: Topology) -> Finding | None:
    if row.probe is None or row.probe.healthy:
        return None
    message = f"{row.label} ({row.protocol} {row.port}) is unhealthy: {row.probe.detail}"
    return _finding("PP504", message, row, check=row.probe.kind, detail=row.probe.detail)


def _latency(row: PortStatus, topology: Topology) -> Finding | None:
    result = row.probe
    if result is None or not result.healthy or result.latency_ms is None or row.health is None:
        return None
    budget = row.health.latency
    if budget is None:
        return None
    for rule, limit, what in (
        ("PP506", budget.max_ms, "maximum"),
        ("PP505", budget.target_ms, "target"),
    ):
        if limit is not None and result.latency_ms > limit:
            message = (
                f"{row.label} answered in {result.latency_ms:.1f} ms, "
                f"over its {what} of {limit:g} ms"
            )
            return _finding(
                rule, message, row, latency_ms=round(result.latency_ms, 3), limit_ms=limit
            )
    return None


_ROW_CHECKS = (_down, _squatted, _unexpected, _unhealthy, _latency)


def describe(listener: Listener) -> str:
    """'process 1234 (python3 -m http.server, user alice)' or why the owner is not known."""
    process = listener.process
    if process is None:
        return _NO_OWNER.get(listener.access.value, "an unknown process")
    return f"process {process.pid} ({printable(process.command)}, user {listener.user})"


_NO_OWNER: Mapping[str, str] = {
    "denied": "a process that cannot be inspected (permission denied)",
    "unknown": "no visible process",
}
