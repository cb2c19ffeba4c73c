"""The first pass of `portplan import`: services (names, aliases) and their ports, voted
from the observations as `portplan reconcile` groups them without a plan."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import replace
from typing import Final, TypeVar

from portplan.importer.plan import PlanPort, PlanService
from portplan.importer.products import main_port_name, other_port_name, product_of
from portplan.importer.vote import Claim, describe, vote
from portplan.importer.vote import shown as places
from portplan.model import Exposure, Location, normalize_name
from portplan.names import is_host_machine
from portplan.plan.schema import MapOf
from portplan.reconcile.core import as_one_system
from portplan.reconcile.names import Names
from portplan.reconcile.ports import (
    UNNAMED,
    in_containers,
    listed_together,
    reliability,
    slot_name,
    slot_of,
    slots,
)
from portplan.reconcile.view import Port, View, external_dependencies
from portplan.sources.base import PortObservation, SourceResult, published_exposure
from portplan.sources.code.helm import SOURCE as HELM_VALUES
from portplan.sources.helm_templates import PLACEHOLDER

KUBERNETES: Final = "kubernetes"
DEFINING: Final = ("compose", KUBERNETES)  # kinds of file whose service names are identifiers
_NOT_NAME: Final = re.compile(r"[^a-z0-9]+")
_NAME: Final = re.compile(MapOf.key_pattern)  # what portplan.yaml takes as a name
T = TypeVar("T", bound=Hashable)


def plan_services(
    results: Sequence[SourceResult], view: View, health: set[str]
) -> list[PlanService]:
    """A service for every name that some source gives a port, a dependency or a definition,
    in order of first mention; `health` holds the keys of services with an HTTP health
    check."""
    mentions = _Mentions(view.names)
    for result in results:
        mentions.read(result)
    taken: set[str] = set()
    services = []
    for key in mentions.services:
        defined = mentions.defined.get(key)
        name = _unique((_valid(defined) if defined else _slug(view.show(key))) or "service", taken)
        spelled = mentions.spellings.get(key)  # none: only a host names it
        alone = len(spelled) == 1 and name in spelled if spelled else True  # most services
        aliases = sorted(spelled - {name}) if spelled and not alone else []
        service = PlanService(name, key, mentions.first[key], aliases)
        _image(service, mentions.images.get(key, []))
        services.append(service)
    _add_ports(services, view, health)
    _add_name_notes(services, view)
    _add_external_notes(services, view)
    return sorted(services, key=lambda service: (service.first, service.name))


class _Mentions:
    """Every name the sources give each service, where they first name it, and the name a
    compose or Kubernetes file defines it by."""

    def __init__(self, names: Names) -> None:
        self.names = names
        self.keys: dict[str, str | None] = {}  # name -> key, each name matched once
        self.spellings: dict[str, set[str]] = {}
        self.first: dict[str, Location] = {}
        self.defined: dict[str, str] = {}
        self.services: dict[str, None] = {}  # keys with a definition, port or dependency
        self.images: dict[str, list[Claim[str]]] = {}

    def read(self, result: SourceResult) -> None:
        for obs in result.services:
            key = self.add(obs.service, obs.location, True)
            if key is not None and result.kind in DEFINING:
                self.defined.setdefault(key, obs.service)
            if key is not None and obs.image and PLACEHOLDER not in obs.image:
                claim = Claim(obs.image, obs.location, result.kind)  # no unrendered template
                self.images.setdefault(key, []).append(claim)
        for port in result.ports:
            self.add(port.service, port.location, True)
        for dep in result.dependencies:
            self.add(dep.service, dep.location, True)
            self.add(dep.target, dep.location, True)
        for var in result.variables:
            if var.service:
                self.add(var.service, var.location, False)

    def add(self, name: str, location: Location, service: bool) -> str | None:
        if name not in self.keys:
            self.keys[name] = self.names.key(name)
        key = self.keys[name]
        if key is None:
            return None
        if name not in self.names.hosts:  # a host names it (`payments.default`): no alias
            spelled = self.spellings.get(key)
            if spelled is None:
                spelled = self.spellings[key] = set()
            spelled.add(name)
        first = self.first.get(key)
        if first is None or location < first:
            self.first[key] = location
        if service:
            self.services[key] = None
        return key


def _image(service: PlanService, claims: list[Claim[str]]) -> None:
    """The image most files give the service, and the product it is."""
    sides = vote(claims)
    if sides:
        service.image = sides[0].value
        if len(sides) > 1:
            service.image_comments.append(describe(sides[0], sides[1:]))
    service.product = product_of(service.image, service.key)


def _slug(name: str) -> str:
    """'Token Engine' -> 'token-engine'."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return _NOT_NAME.sub("-", text.lower()).strip("-")


def _valid(name: str) -> str:
    """`name` when portplan.yaml takes it as a name (compose and Kubernetes names), else
    its slug."""
    return name if _NAME.fullmatch(name) else _slug(name)


def _unique(name: str, taken: set[str]) -> str:
    found, n = name, 1
    while found in taken:
        n += 1
        found = f"{name}-{n}"
    taken.add(found)
    return found


def _add_ports(services: list[PlanService], view: View, health: set[str]) -> None:
    whole = as_one_system(view)
    contained = in_containers(view)
    merged = _merged_slots(whole)
    trust = reliability(whole)
    by_key: dict[str, list[Port]] = {}
    for port in view.ports:
        by_key.setdefault(port.key, []).append(port)
    for service in services:
        by_slot = _scraped_main(merged.get(service.key, {}))
        stated = by_key.get(service.key, [])
        # most services: reconcile placed every port in a slot (each in one, all of them
        # the service's), nothing else to number
        rest: list[Port] = []
        if sum(len(ports) for ports in by_slot.values()) != len(stated):
            placed = {id(p) for ports in by_slot.values() for p in ports}
            rest = [p for p in stated if id(p) not in placed]
        known = (
            {n for ports in by_slot.values() for p in ports for n in p.numbers()} if rest else set()
        )
        # Left out by reconcile: a number another slot states (support for it), or else
        # a port a compose/Kubernetes file lists beside the ones it names.
        support = [p for p in rest if p.numbers() & known]
        for slot, ports in sorted(by_slot.items()):
            if slot != UNNAMED:
                service.ports.append(_port(slot_name(slot, ports), ports, support, trust))
        if UNNAMED in by_slot:
            _unnamed(service, by_slot[UNNAMED], support, service.key in health, trust)
        if rest:
            _separate(service, [p for p in rest if not p.numbers() & known])
        service.ports = _distinct(service.ports, by_slot)
        _spread_ranges(service, stated)
        if service.key in contained:  # compose publishes only what `ports` maps
            for planned in service.ports:
                planned.published = planned.published is True


MONITORING: Final = "monitoring"
METRICS: Final = "metrics"


def _scraped_main(by_slot: dict[str, list[Port]]) -> dict[str, list[Port]]:
    """A service's only port, which a scrape target alone names `metrics` (Prometheus
    scraping a Spring Boot app's `/actuator/prometheus` on its one port 8081), is its main
    port, named as an unnamed one is: the target names a metrics path, not the port's kind."""
    ports = by_slot.get(METRICS, [])
    named = [p for p in ports if p.obs.port_name]
    if len(by_slot) != 1 or not named or any(p.kind != MONITORING for p in named):
        return by_slot
    return {UNNAMED: ports} if any(p.kind in DEFINING for p in ports) else by_slot


MAX_SPREAD = 1024  # host ports of one published range listed as planned ports, at most


def _spread_ranges(service: PlanService, stated: list[Port]) -> None:
    """One planned port per host port of a published range (`8000-8002:80`: http 8000,
    http-2 8001, http-3 8002, each to the same target), as a plan's port is one number:
    check then sees a clash on any of them."""
    ranges: dict[tuple[int, str], list[int]] = {}  # (first, protocol) -> ends: one lookup each
    for p in stated:
        if p.obs.range_end and p.obs.published:
            ranges.setdefault((p.obs.number, p.obs.protocol), []).append(p.obs.range_end)
    if not ranges:
        return  # no range published (most services)
    taken = {port.number for port in service.ports}
    spread: list[PlanPort] = []
    for planned in service.ports:
        spread.append(planned)
        ends = ranges.get((planned.number, planned.protocol), [])
        last = max(ends, default=0)
        if last - planned.number >= MAX_SPREAD:  # a plan of 64,000 ports helps no one
            service.notes.append(
                f"note: {planned.name} publishes host ports {planned.number}-{last}; the plan "
                f"keeps the first (more than {MAX_SPREAD} ports are not listed one by one)"
            )
            last = planned.number
        for offset, number in enumerate(range(planned.number + 1, last + 1), 2):
            if number not in taken:
                taken.add(number)
                extra = replace(planned, name=f"{planned.name}-{offset}", number=number)
                extra.comments, extra.target_comments = [], []
                extra.env, extra.health = None, None
                spread.append(extra)
    service.ports = spread


def _merged_slots(whole: View) -> dict[str, dict[str, list[Port]]]:
    """key -> slot -> ports, as reconcile groups them against a plan: `whole` is the view
    as one system (a plan merges the systems of the sources)."""
    found: dict[str, dict[str, list[Port]]] = {}
    for (key, _, slot), ports in slots(whole).items():
        found.setdefault(key, {})[slot] = ports
    return found


def _separate(service: PlanService, ports: list[Port]) -> None:
    by_number: dict[int, list[Port]] = {}
    for port in ports:
        by_number.setdefault(port.obs.number, []).append(port)
    for number, stated in sorted(by_number.items()):
        service.ports.append(_port(other_port_name(service.product, number), stated, []))


def _distinct(ports: list[PlanPort], by_slot: dict[str, list[Port]]) -> list[PlanPort]:
    """One port per number and protocol (a metrics endpoint on the http port is the http
    port): the port of the most stated slot stays; then in order of first statement."""

    if len(ports) < 2:
        return ports  # most services: one port, distinct and named as it is

    def weight(port: PlanPort) -> tuple[int, Location, str]:
        stated = by_slot.get(slot_of(port.name) or "", [])
        return (-len({p.file for p in stated}), port.first, port.name)

    kept: dict[tuple[int, str], PlanPort] = {}
    for port in sorted(ports, key=weight):
        kept.setdefault((port.number, port.protocol), port)
    taken: set[str] = set()
    for port in kept.values():  # the first (most stated) keeps a name two ports were given
        port.name = port.name if port.name not in taken else f"{port.name}-{port.number}"
        taken.add(port.name)
    return sorted(kept.values(), key=lambda port: (port.first, port.name))


def _port(
    name: str,
    ports: list[Port],
    support: list[Port],
    trust: dict[str, float] | None = None,
    host: Callable[[Port], int] | None = None,
) -> PlanPort:
    """The port named `name` with the number most files state (counting the statements of
    its candidate numbers in `support`; between as many files, the files `trust` rates
    higher, as reconcile agrees on a value), and what they say of it. A container port that
    a mapping publishes (`PORT: 80` beside `8088:80`) is a statement of the host port."""
    host = host or host_numbers(ports + support)  # `host`: that of these ports, made already
    candidates = {host(p) for p in ports}
    stated = ports + [p for p in support if host(p) in candidates]
    if len(stated) == 1:
        return _stated_once(name, stated[0], host(stated[0]))
    winner = vote(_claims(stated, host), trust)[0]
    chosen = [p for p in stated if p.obs.number == winner.value] or stated
    port = PlanPort(_valid(name) or UNNAMED, winner.value, winner.locations[0])
    port.protocol = vote(_claims(chosen, lambda p: p.obs.protocol))[0].value
    port.published = _published(stated)
    _target(port, [p for p in stated if host(p) == winner.value], host, trust)
    _addresses(port, [p for p in chosen if p.obs.address is not None])
    _node_ports(port, chosen)
    env = [p for p in chosen if _port_variable(p.obs)]
    port.env = vote(_claims(env, lambda p: p.obs.variable or ""))[0].value if env else None
    return port


def _stated_once(name: str, stated: Port, number: int) -> PlanPort:
    """`_port` of a port one statement gives (most ports): what it says, with no vote."""
    obs = stated.obs
    location = obs.location
    first = Location(location.file, location.line) if location.column else location
    port = PlanPort(_valid(name) or UNNAMED, number, first, obs.protocol)
    port.published = _published([stated])
    port.target = (
        obs.target if obs.target is not None else (obs.number if number != obs.number else None)
    )
    if obs.address is not None:
        port.address = obs.address
    _node_ports(port, [stated])
    if _port_variable(obs):
        port.env = obs.variable
    return port


def _port_variable(obs: PortObservation) -> bool:
    """Whether the observation's variable carries the port's number as the port's own
    (`env`): a `*_PORT` variable, but not a client's setting for a host another variable
    names (`SMTP_HOST: mailcatcher` beside `SMTP_PORT: "1025"`: SMTP_PORT is the client's
    setting, not the variable mailcatcher reads), unless its words name that host
    (`DB_HOST=db`, `DB_PORT`)."""
    variable = obs.variable or ""
    if not variable.upper().endswith("PORT"):
        return False
    if not obs.reference or obs.host is None or is_host_machine(obs.host):
        return True
    return normalize_name(variable[:-4]) == normalize_name(obs.host)


_CONFIGURED: Final = frozenset({"compose", KUBERNETES})


def _published(ports: list[Port]) -> bool | None:
    """Whether a port is bound on the host: when a compose or Kubernetes statement of it
    publishes it; not when they keep it off the host (`expose`, a ClusterIP Service, a
    random host port), nor when only Kubernetes manifests and a chart's values state it (a
    pod's port is on the cluster network); None when no statement says (documents, `.env`).
    Configuration outranks prose: a README's `docker ps` row publishing what the compose
    file only `expose`s is not what runs."""
    configured = [p for p in ports if p.kind in _CONFIGURED and p.obs.published is not None]
    ports = configured or ports
    if any(p.obs.published for p in ports):
        return True
    if any(p.obs.published is False for p in ports):
        return False
    in_cluster = all(p.kind == KUBERNETES or p.obs.source == HELM_VALUES for p in ports)
    return False if ports and in_cluster else None


def _target(
    port: PlanPort, ports: list[Port], host: Callable[[Port], int], trust: dict[str, float] | None
) -> None:
    """The container port behind `port`, as most files state it: a mapping's target
    (`8088:80`), a Kubernetes Service's targetPort, a container port a mapping publishes
    (`PORT: 80` beside `8088:80`); another container port is a conflict beside it."""
    claims = [
        Claim(number, p.obs.location, p.kind)
        for p in ports
        if (number := _container_side(p, host)) is not None
    ]
    sides = vote(claims, trust)
    if not sides:
        return
    port.target = sides[0].value
    if len(sides) > 1:
        port.target_comments.append(describe(sides[0], sides[1:]))


def _container_side(port: Port, host: Callable[[Port], int]) -> int | None:
    """The container port a statement gives: its target, or its own number when a mapping
    publishes that on another host port."""
    if port.obs.target is not None:
        return port.obs.target
    return port.obs.number if host(port) != port.obs.number else None


def host_numbers(ports: list[Port]) -> Callable[[Port], int]:
    """Port -> the number it stands for (the plan's `port`): its own, or, for a container
    port that exactly one port of these maps to another number, that port: the host port
    that publishes it (`8088:80`, or `3000:3000` as itself), else the one unpublished
    mapping of it (a Kubernetes Service port 80 with `targetPort: 8080` is how others reach
    the container's 8080, unless a compose file publishes it)."""
    mapped: dict[tuple[bool, int], set[int]] = {}
    for port in ports:
        target = port.obs.target
        if target is not None and (target != port.obs.number or port.obs.published):
            mapped.setdefault((bool(port.obs.published), target), set()).add(port.obs.number)
    single = {
        target: next(iter(numbers))
        for (published, target), numbers in sorted(mapped.items())  # published ones last
        if len(numbers) == 1 and (published or not mapped.get((True, target)))
    }

    def host(port: Port) -> int:
        if port.obs.published or (port.obs.target or port.obs.number) != port.obs.number:
            return port.obs.number
        return single.get(port.obs.number, port.obs.number)

    return host


def _addresses(port: PlanPort, bound: list[Port]) -> None:
    """The address most files bind the port on; none when one file binds it on several
    (`[::1]:3000:3000` and `127.0.0.1:3000:3000`), with a note unless all are loopback (the
    exposure, local, says it)."""
    if not bound:
        return  # no source binds it on an address (most ports)
    by_origin: dict[str, set[str]] = {}
    for p in bound:
        by_origin.setdefault(p.origin, set()).add(_address(p))
    several = sorted({a for found in by_origin.values() if len(found) > 1 for a in found})
    if not several:
        addresses = vote(_claims(bound, _address))
        port.address = addresses[0].value if addresses else None
        return
    if not all(published_exposure(a) is Exposure.LOCAL for a in several):
        where = places(p.obs.location for p in bound if _address(p) in several)
        port.comments.append(f"note: bound on {' and '.join(several)} ({where})")


def _node_ports(port: PlanPort, stated: list[Port]) -> None:
    """A note for the node port a Kubernetes Service (NodePort, LoadBalancer) opens for
    the port on every node: the plan has no field for it."""
    by_number: dict[int, list[Location]] = {}
    for p in stated:
        if p.obs.node_port is not None:
            by_number.setdefault(p.obs.node_port, []).append(p.obs.location)
    for number, locations in sorted(by_number.items()):
        port.comments.append(f"note: node port {number} on every node ({places(locations)})")


def _address(port: Port) -> str:
    return port.obs.address or ""


def _claims(ports: Iterable[Port], value: Callable[[Port], T]) -> list[Claim[T]]:
    return [Claim(value(p), p.obs.location, p.kind) for p in ports]


def _unnamed(
    service: PlanService,
    ports: list[Port],
    support: list[Port],
    http: bool,
    trust: dict[str, float],
) -> None:
    """Ports no source names: the winner is the service's main port; a value that the same
    compose/Kubernetes file or the same line states beside it is another port of it (not
    the container port a mapping of it publishes)."""
    name = main_port_name(service.product) or ("http" if http else UNNAMED)
    if len(ports) == 1 and not support:  # one statement (most services): no other port
        main = _stated_once(UNNAMED, ports[0], ports[0].obs.number)
        _name_main(service, main, name)
        return
    host = host_numbers(ports + support)
    main = _port(UNNAMED, ports, support, trust, host)
    _name_main(service, main, name)
    by_host: dict[int, list[Port]] = {}  # grouped once: a range maps thousands of ports
    for port in ports:
        by_host.setdefault(host(port), []).append(port)
    winners = by_host.get(main.number, [])
    inside = {main.number, main.target or main.number}  # what maps to the main port
    for number in sorted(set(by_host) - {main.number}):
        own = by_host[number]
        if all(p.obs.target is not None and p.obs.target in inside for p in own):
            continue  # a Kubernetes Service port before a container compose publishes
        if any(listed_together(p, q) for p in own for q in winners):
            other = other_port_name(service.product, number)
            service.ports.append(_port(other, own, support, trust))
    _other_protocols(service, main, winners, trust)


def _name_main(service: PlanService, main: PlanPort, name: str) -> None:
    main.name = name if name not in {port.name for port in service.ports} else f"port-{main.number}"
    service.ports.append(main)


def _other_protocols(
    service: PlanService, main: PlanPort, winners: list[Port], trust: dict[str, float]
) -> None:
    """The main number in another protocol that a compose or Kubernetes file lists beside
    it (`${CALLS_PORT}:${CALLS_PORT}/udp` and `/tcp`) is a port of its own."""
    for protocol in sorted({p.obs.protocol for p in winners} - {main.protocol}):
        own = [p for p in winners if p.obs.protocol == protocol]
        if any(listed_together(p, q) for p in own for q in winners if q.obs.protocol != protocol):
            port = _port(other_port_name(service.product, main.number), own, [], trust)
            port.protocol = protocol
            service.ports.append(port)


def _add_name_notes(services: list[PlanService], view: View) -> None:
    """Names matched only by similarity, or not matched because they could be several."""
    by_key = {service.key: service for service in services}
    names = view.names
    for shown, (other, where) in sorted(names.similar.items()):
        service = by_key.get(names.key(shown) or "")
        if service is not None:
            service.notes.append(
                f'note: "{shown}" ({_line(where)}) and "{other}" are taken to be one service '
                "(similar names)"
            )
    for shown, (candidates, where) in sorted(names.ambiguous.items()):
        service = by_key.get(names.key(shown) or "")
        others = [by_key[c].name for c in candidates if c in by_key]
        if service is not None and others:
            service.notes.append(
                f"note: could be {' or '.join(others)} ({_line(where)}); "
                "kept as a service of its own"
            )


def _add_external_notes(services: list[PlanService], view: View) -> None:
    """A note under each service for each external host it depends on (a public DNS name:
    no service of the plan), in order of first mention."""
    by_key = {service.key: service for service in services}
    firsts = [
        (places[0], host, by_key[key])
        for host, dependents in external_dependencies(view).items()
        for key, places in dependents.items()
        if key in by_key
    ]
    for where, host, service in sorted(firsts, key=lambda first: first[0]):
        service.notes.append(
            f"note: depends on external host {host} ({_line(where)}): not a service of this system"
        )


def _line(location: Location) -> str:
    return str(Location(location.file, location.line))
