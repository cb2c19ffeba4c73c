"""Reconcile rules about port numbers: drift, double claims, reserved ports, exposure,
duplicate published ports (compose) and ports given twice in one `.env`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations
from typing import Final

from portplan.findings import Finding, Level
from portplan.model import WILDCARD_ADDRESSES, Exposure, Location, addresses_overlap
from portplan.reconcile import REGISTRY, Port, View, rule
from portplan.sources.base import VariableObservation

SLOT_NAMES: Final = {
    "https": "http",
    "api": "http",
    "rest": "http",
    "web": "http",
    "wss": "ws",
    "websocket": "ws",
    "prometheus": "metrics",
}
UNNAMED = "port"
MAX_PORT: Final = 65535


def slot_of(name: str | None) -> str | None:
    if not name:
        return None
    lower = name.lower()
    return SLOT_NAMES.get(lower, lower)


@dataclass(frozen=True, slots=True)
class Side:
    """One value of a (service, slot) and every place that states it."""

    value: int
    ports: tuple[Port, ...]

    @property
    def locations(self) -> list[Location]:
        return sorted({p.obs.location for p in self.ports})

    @property
    def files(self) -> set[str]:
        return {p.file for p in self.ports}


def slots(view: View) -> dict[tuple[str, int, str], list[Port]]:
    """(service key, system, slot) -> the ports stated for it."""
    named: dict[tuple[str, int, str], list[Port]] = {}
    unnamed: list[Port] = []
    for port in view.ports:
        slot = slot_of(port.obs.port_name)
        if slot is None:
            unnamed.append(port)
        else:
            named.setdefault((port.key, view.system(port.obs.location), slot), []).append(port)
    known: dict[tuple[str, int], set[int]] = {}
    slot_names: dict[tuple[str, int], set[str]] = {}
    for (key, system, slot), ports in named.items():
        known.setdefault((key, system), set()).update(n for p in ports for n in p.numbers())
        slot_names.setdefault((key, system), set()).add(slot)
    origins = {(p.key, p.origin) for p in view.ports if p.obs.port_name}
    for port in unnamed:
        system = view.system(port.obs.location)
        numbers = known.get((port.key, system), set())
        if port.numbers() & numbers or _another_port(port, origins):
            continue
        have = sorted(slot_names.get((port.key, system), ()))
        slot = "http" if "http" in have else have[0] if len(have) == 1 else UNNAMED
        named.setdefault((port.key, system, slot), []).append(port)
    return named


def _another_port(port: Port, origins: set[tuple[str, str]]) -> bool:
    """A compose or Kubernetes file that names some ports of a service and not this one
    lists another port of it, not another number for a named one."""
    return port.kind in ("compose", "kubernetes") and (port.key, port.origin) in origins


def sides(ports: list[Port]) -> list[Side]:
    """The values of one slot, the agreed one first: the plan's, else the one stated in
    the most files, then by the most statements, then the earliest."""
    by_value: dict[int, list[Port]] = {}
    for port in ports:
        by_value.setdefault(port.obs.number, []).append(port)
    found = [Side(value, tuple(group)) for value, group in by_value.items()]

    def weight(side: Side) -> tuple[bool, int, int, Location]:
        planned = any(p.kind == REGISTRY for p in side.ports)
        return (not planned, -len(side.files), -len(side.ports), side.locations[0])

    return sorted(found, key=weight)


@rule("PP201", "port-drift", Level.ERROR, "sources give a service's port different numbers")
def port_drift(view: View) -> Iterator[Finding]:
    """A service's port has another number in one source than in the others (or the plan).
    Unnamed ports ("Reporting Engine :8087") are compared with the service's http port.

    PASS: table "Reporting Engine | 8088"; env REPORTING_ENGINE_URL=http://localhost:8088
    FAIL: table "Reporting Engine | 8088"; mermaid Reporting[Reporting Engine :8087]
    """
    for (key, _, slot), ports in sorted(slots(view).items()):
        found = sides(ports)
        agreed = found[0]
        for side in found[1:]:
            if slot == UNNAMED and not _separate(side, agreed):
                continue
            if _mapped(side, agreed):
                continue
            yield _drift(view, key, slot, side, agreed)


def _mapped(side: Side, agreed: Side) -> bool:
    """A mapping states both values as one port: `18080:8080` in compose, a Kubernetes
    Service's `port: 80` with `targetPort: 8081`, a `hostPort` and its `containerPort`."""
    return any(agreed.value in p.numbers() for p in side.ports) or any(
        side.value in q.numbers() for q in agreed.ports
    )


def _separate(side: Side, agreed: Side) -> bool:
    """Unnamed ports: a line stating both values ("ports 9200, 9300"), or a compose or
    Kubernetes file listing both, lists two ports; anything else is a disagreement."""
    return not all(any(_together(p, q) for q in agreed.ports) for p in side.ports)


def _together(p: Port, q: Port) -> bool:
    if p.origin != q.origin:
        return False
    if p.kind in ("compose", "kubernetes"):
        return True
    return p.obs.location.line == q.obs.location.line


def _drift(view: View, key: str, slot: str, side: Side, agreed: Side) -> Finding:
    what = "port" if slot == UNNAMED else f"{slot} port"
    other = agreed.locations[0]
    where = "in the plan" if agreed.ports[0].kind == REGISTRY else f"in {_short(other)}"
    more = len(agreed.locations) - 1
    also = f" (and {more} more)" if more else ""
    return port_drift.finding(
        f"{view.show(key)}: {what} is {side.value} here but {agreed.value} {where}{also}",
        [*side.locations, *agreed.locations],
        service=view.show(key),
        port_name=slot,
        value=side.value,
        expected=agreed.value,
    )


def _short(location: Location) -> str:
    return str(Location(location.file.rsplit("/", 1)[-1], location.line))


@rule("PP202", "port-claimed-twice", Level.ERROR, "two services are given one port")
def port_claimed_twice(view: View) -> Iterator[Finding]:
    """Two services of one system hold the same port (each by its agreed value).
    Ports published twice in one compose project are PP212's, ports given twice in one
    `.env` are PP213's. A container's own port that is not published (compose `expose`,
    a Kubernetes Service or container port) claims nothing: every container and every
    Service has an address of its own.

    PASS: gateway 8080, token-engine 8081
    FAIL: gateway 8080, reporting 8080
    """
    owners: dict[tuple[int, int, str], list[tuple[str, Side]]] = {}
    for (key, system, _), ports in slots(view).items():
        claiming = [port for port in ports if port.obs.published is not False]
        if not claiming:
            continue
        agreed = sides(claiming)[0]
        protocol = agreed.ports[0].obs.protocol
        owners.setdefault((system, agreed.value, protocol), []).append((key, agreed))
    for (_, number, protocol), claims in sorted(owners.items()):
        keys = sorted({key for key, _ in claims})
        if len(keys) < 2:
            continue
        locations = sorted({loc for _, side in claims for loc in side.locations})
        if _one_file_of(view, locations, ("compose", "dotenv")):
            continue
        shown = " and ".join(view.show(key) for key in keys)
        yield port_claimed_twice.finding(
            f"port {number}/{protocol} is claimed by {shown}",
            _by_service(claims),
            port=number,
            services=[view.show(key) for key in keys],
        )


def _by_service(claims: list[tuple[str, Side]]) -> list[Location]:
    first = sorted(side.locations[0] for _, side in claims)
    rest = sorted({loc for _, side in claims for loc in side.locations} - set(first))
    return [*first, *rest]


def _one_file_of(view: View, locations: list[Location], kinds: tuple[str, ...]) -> bool:
    files = {loc.file for loc in locations}
    return len(files) == 1 and view.kinds.get(next(iter(files)), "") in kinds


@rule("PP204", "reserved-port-in-use", Level.ERROR, "a service uses a reserved port")
def reserved_port_in_use(view: View) -> Iterator[Finding]:
    """A source gives a service a port that the plan (or a source of the same system)
    reserves.

    PASS: reserved 8004-8006; trading-engine 8007
    FAIL: reserved 8004-8006; trading-engine 8005
    """
    for port in view.ports:
        if port.kind == REGISTRY:
            continue
        reservation = _reservation(view, port)
        if reservation is not None:
            label, where = reservation
            yield reserved_port_in_use.finding(
                f"{view.show(port.key)} uses port {port.obs.number}, which {_short(where)} "
                f"reserves{label}",
                [port.obs.location, where],
                service=view.show(port.key),
                port=port.obs.number,
            )


def _reservation(view: View, port: Port) -> tuple[str, Location] | None:
    number = port.obs.number
    if view.topology is not None:
        for item in view.topology.reserved:
            if number in item.ports:
                return (f" ({item.reason})" if item.reason else "", item.location)
        return None
    system = view.system(port.obs.location)
    for result in sorted(view.with_ranges, key=lambda r: r.file != port.file):
        for found in result.ranges:
            if found.reserved and number in found.ports and view.system(found.location) == system:
                return (f" ({found.label})" if found.label else "", found.location)
    return None


@rule("PP206", "exposure-drift", Level.ERROR, "a port is published wider than policy allows")
def exposure_drift(view: View) -> Iterator[Finding]:
    """A compose file publishes a port on every interface while a policy (the plan, or a
    range a source states) keeps it internal or local.

    PASS: "8001-8019: internal only"; ports: ["127.0.0.1:8011:8011"]
    FAIL: "8001-8019: internal only"; ports: ["8011:8011"]
    """
    for port in view.ports:
        obs = port.obs
        if not obs.published or (obs.address or "") not in WILDCARD_ADDRESSES:
            continue
        policy = _policy(view, port)
        if policy is not None:
            exposure, where = policy
            yield exposure_drift.finding(
                f"{view.show(port.key)} publishes port {obs.number} on all interfaces, but "
                f"{_short(where)} keeps it {exposure.value}",
                [obs.location, where],
                service=view.show(port.key),
                port=obs.number,
                exposure=exposure.value,
            )


def _policy(view: View, port: Port) -> tuple[Exposure, Location] | None:
    narrow = (Exposure.INTERNAL, Exposure.LOCAL)
    if view.topology is not None:
        service = view.topology.services.get(port.key)
        if service is not None and service.exposure in narrow:
            return service.exposure, service.location
        return None
    system = view.system(port.obs.location)
    # The file's own policy first, then the other files of its system.
    for result in sorted(view.with_ranges, key=lambda r: r.file != port.file):
        for found in result.ranges:
            if (
                found.exposure in narrow
                and port.obs.number in found.ports
                and view.system(found.location) == system
                and found.exposure is not None
            ):
                return found.exposure, found.location
    return None


@rule("PP212", "duplicate-published-port", Level.ERROR, "a host port published twice")
def duplicate_published_port(view: View) -> Iterator[Finding]:
    """One compose project publishes a host port twice on overlapping addresses (an exact
    duplicate, all interfaces and 127.0.0.1, a port inside a published range, long and short
    syntax). 127.0.0.1:40040 and 127.0.0.2:40040 do not overlap.

    PASS: ["127.0.0.1:40040:80"] and ["127.0.0.2:40040:80"]
    FAIL: ["40040:80"] and ["127.0.0.1:40040:80"]
    """
    for result in view.results:
        if result.kind != "compose":
            continue
        published: dict[tuple[str, int], list[Port]] = {}
        for port in view.compose_published(result.file):
            for number in _published_numbers(port):
                published.setdefault((port.obs.protocol, number), []).append(port)
        yield from _duplicates(view, published)


def _published_numbers(port: Port) -> range:
    return range(port.obs.number, (port.obs.range_end or port.obs.number) + 1)


def _duplicates(view: View, published: dict[tuple[str, int], list[Port]]) -> Iterator[Finding]:
    reported: set[tuple[Location, Location]] = set()
    for (protocol, number), ports in sorted(published.items()):
        for a, b in combinations(ports, 2):
            pair = (a.obs.location, b.obs.location)
            if pair in reported or not addresses_overlap(a.obs.address, b.obs.address):
                continue
            reported.add(pair)
            other = f"{_address(b)}, {_short(b.obs.location)}"
            yield duplicate_published_port.finding(
                f"host port {number}/{protocol} is published twice: by {view.show(a.key)} "
                f"({_address(a)}) and by {view.show(b.key)} ({other})",
                list(dict.fromkeys(pair)),
                port=number,
                services=[view.show(a.key), view.show(b.key)],
            )


def _address(port: Port) -> str:
    return port.obs.address or "all interfaces"


@rule("PP213", "env-port-reused", Level.ERROR, "one .env file gives one port to two variables")
def env_port_reused(view: View) -> Iterator[Finding]:
    """Two variables of one `.env` file hold the same port for different services or
    different ports (an URL and the port variable of its service are one port). A port
    variable whose service cannot be told (`ADMIN_PORT` in a shared `.env`) is a port of
    its own.

    PASS: TOKEN_ENGINE_PORT=8081 and TOKEN_ENGINE_URL=http://localhost:8081
    FAIL: GATEWAY_PORT=8080 and ADMIN_PORT=8080
    """
    groups: dict[tuple[str, int], dict[str, tuple[str, Location]]] = {}
    for port in view.ports:
        if port.obs.source == "dotenv" and port.obs.variable:
            group = groups.setdefault((port.file, port.obs.number), {})
            group.setdefault(port.obs.variable, (port.key, port.obs.location))
    for _, var in view.variables:
        number = _unowned_port(var)
        if number is not None:
            group = groups.setdefault((var.location.file, number), {})
            group.setdefault(var.name, (f"?{var.name}", var.location))
    for (_, number), claims in sorted(groups.items()):
        owners = {key for key, _ in claims.values()}
        port_vars = [name for name in claims if _is_port_variable(name)]
        if len(owners) > 1 or len(port_vars) > 1:
            names = sorted(claims)
            yield env_port_reused.finding(
                f"port {number} is given to {' and '.join(names)}",
                sorted(location for _, location in claims.values()),
                port=number,
                variables=names,
            )


def _unowned_port(var: VariableObservation) -> int | None:
    """The port a `.env` port variable holds when no service could be told for it."""
    value = (var.value or "").strip()
    if var.source != "dotenv" or not _is_port_variable(var.name) or not value.isdigit():
        return None
    return int(value) if 0 < int(value) <= MAX_PORT else None


def _is_port_variable(name: str) -> bool:
    return name.upper().endswith("PORT")
