"""Reconcile rules about port numbers: drift, double claims, reserved ports, exposure,
duplicate published ports (compose) and ports given twice in one `.env`."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import combinations
from typing import Final

from portplan.findings import Finding, Level
from portplan.model import WILDCARD_ADDRESSES, Exposure, Location, addresses_overlap
from portplan.model import Port as PlanPort
from portplan.names import is_host_machine, variable_protocol
from portplan.reconcile.names import port_key
from portplan.reconcile.nodeports import node_port_clashes
from portplan.reconcile.references import (
    commanded_ports,
    declared_ports,
    through_another,
    to_a_host_port,
)
from portplan.reconcile.settings import reused_in_config
from portplan.reconcile.view import PLANNED, Port, View, place_order, precedence, rule
from portplan.sources.base import PortObservation, VariableObservation, published_exposure
from portplan.sources.markdown.code import DOCKER_PS

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
CONTAINERS: Final = ("compose", "kubernetes")  # file kinds that state container ports
# File kinds that list a service's ports side by side: two numbers of one file are two ports.
LISTING: Final = frozenset(
    {"compose", "kubernetes", "dockerfile", "nginx", "caddy", "envoy", "haproxy"}
)
# Kinds of a server's configuration, which may be split over the files of one folder.
SERVER_CONFIGS: Final = frozenset({"nginx", "caddy", "envoy", "haproxy"})
# Kinds of port a service has beside its main one: an unnamed value is never taken for
# another number of one of these (only for one it shares a number with).
BESIDE_MAIN: Final = frozenset({"grpc", "ws", "metrics", "admin", "debug"})
MAX_PORT: Final = 65535


def slot_of(name: str | None) -> str | None:
    """The slot a port name stands for: its key (`http-2`, `http_2` and `HTTP2` are one:
    `portplan.reconcile.names.port_key`), a synonym taken for its kind (`https`, `web`
    -> http); None for no name."""
    if not name:
        return None
    key = port_key(name)
    return SLOT_NAMES.get(key, key) if key else None


def slot_name(slot: str, ports: Iterable[Port]) -> str:
    """How a slot is shown: the plan's spelling of the port's name, else the one most
    statements use (lower case; of as many, the first in order), else the slot itself
    (a synonym such as `https` is shown as its kind, `http`)."""
    spelled = [
        (p.kind != PLANNED, p.obs.port_name.lower())
        for p in ports
        if p.obs.port_name and port_key(p.obs.port_name) == slot
    ]
    counts = Counter(spelled)
    return min(counts, key=lambda s: (s[0], -counts[s], s[1]))[1] if counts else slot


@dataclass(frozen=True, slots=True)
class Side:
    """One value of a (service, slot) and every place that states it."""

    value: int
    ports: tuple[Port, ...]

    @property
    def locations(self) -> list[Location]:
        """Where the value is stated: the plan's lines first, then by `place_order` (so the
        order never depends on where the plan and the sources lie on disk)."""
        return sorted({p.obs.location for p in self.ports}, key=_plan_first(self.ports))

    @property
    def files(self) -> set[str]:
        return {p.file for p in self.ports}


def slots(view: View) -> dict[tuple[str, int, str], list[Port]]:
    """(service key, system, slot) -> the ports stated for it. An unnamed port joins the
    named port it has a number of (so it counts as one more statement of it), else the
    service's http port, or its only named one, unless that is of a kind of BESIDE_MAIN or
    a file states an unnamed port of the service beside it (`NATS_PORT` and
    `NATS_MONITORING_PORT` in one `.env` are two ports); the other unnamed ports of a
    service are one unnamed slot."""
    found: dict[tuple[str, int, str], list[Port]] = view.memo("slots", _slots)
    return found


def _slots(view: View) -> dict[tuple[str, int, str], list[Port]]:
    named: dict[tuple[str, int, str], list[Port]] = {}
    unnamed: list[Port] = []
    checked = view.memo("declared-ports", declared_ports)
    both = view.memo("http-and-https", _http_and_https)
    commanded = view.memo("commanded-ports", commanded_ports)
    roles = view.memo("product-roles", _product_roles)
    one = view.topology is not None or view.one_system  # every file in system 0
    for port in view.ports:
        obs = port.obs
        system = 0 if one else view.system(obs.location)
        if obs.reference:  # what only a reference (a URL, `host:port`) may be
            target = checked.get((system, port.key))
            if target is not None and not target.declares(obs.number):
                continue  # a URL to a port its target does not declare: PP216 holds it to them
            if to_a_host_port(port, target):
                continue  # `pihole:8081` on the container network to its host port: PP216's
            if through_another(view, port):
                continue  # its own address through a gateway: no value of its own port
        if port.kind == "code":
            continue  # an app setting's address: PP216 and PP220 hold it
        if port.kind == "dockerfile" and obs.number not in commanded.get(port.key, {obs.number}):
            continue  # EXPOSE documents the image's default; compose runs it on another
        role = _role(roles, port)
        # a URL's scheme names no port of a product whose ports have roles (http://search:9300
        # reaches elasticsearch's transport port)
        slot = role if obs.reference and role else slot_of(obs.port_name) or role
        if slot == "http" and (port.key, system) in both:
            slot = port_key(obs.port_name or "") or slot
        if slot is None:
            unnamed.append(port)
        else:
            named.setdefault((port.key, system, slot), []).append(port)
    known: dict[tuple[str, int], dict[str, set[int]]] = {}
    for (key, system, slot), ports in named.items():
        numbers = known.setdefault((key, system), {}).setdefault(slot, set())
        numbers.update(n for p in ports for n in p.numbers())
    origins = {(p.key, p.origin) for p in view.ports if p.obs.port_name}
    placed: list[tuple[Port, int, list[str]]] = []
    beside: set[tuple[str, int]] = set()  # services a file states a port of beside a named one
    named_files = {(p.key, p.file) for ports in named.values() for p in ports}
    slots_of = _slots_by_number(known)
    for port in unnamed:
        system = 0 if one else view.system(port.obs.location)
        have = slots_of.get((port.key, system), {})
        matching = sorted({slot for n in port.numbers() for slot in have.get(n, ())})
        if not matching and _another_port(port, origins):
            continue
        if not matching and _checks_a_listed_port(view, port):
            continue
        if not matching and (port.key, port.file) in named_files:
            beside.add((port.key, system))
        placed.append((port, system, matching))
    sorted_names = {place: sorted(slots) for place, slots in known.items()}
    # a file listing a service's ports some of which are its named ones lists the others
    # beside them (`9080:8080`, `9443:8443`, `50000:50000` with http 9080 and https 9443),
    # unless the plan names the service's ports: then they are all it has
    planned = {p.key for p in view.ports if p.kind == PLANNED}
    listed = {
        (p.key, s, p.file) for p, s, matching in placed if matching and _in_a_list(p, planned)
    }
    for port, system, matching in placed:
        names = sorted_names.get((port.key, system), [])
        slot = _unnamed_slot(matching, names, (port.key, system) not in beside)
        if not matching and _in_a_list(port, planned) and (port.key, system, port.file) in listed:
            slot = UNNAMED
        named.setdefault((port.key, system, slot), []).append(port)
    return named


# Files that list a service's ports: compose `ports:`, `EXPOSE`, a pod's containerPorts,
# a server's listeners (Caddy `:80 :3100`, nginx `listen`, HAProxy `bind`, Envoy listeners).
_LISTING: Final = frozenset(
    {"compose", "kubernetes", "dockerfile", "caddy", "nginx", "haproxy", "envoy"}
)


def _in_a_list(port: Port, planned: set[str]) -> bool:
    """Whether `port` is one of a list of a service's ports (see `_LISTING`, and a `docker
    ps` row's PORTS) of a service the plan does not list."""
    listing = port.kind in _LISTING or port.obs.source == DOCKER_PS
    return listing and not port.obs.reference and port.key not in planned


def _http_and_https(view: View) -> set[tuple[str, int]]:
    """(service, system) of the services one file states both an http and an https port of
    (`JENKINS_HTTP_PORT=9080`, `JENKINS_HTTPS_PORT=9443`): they have two ports, not one
    port that another source calls https."""
    kinds: dict[tuple[str, str], set[str]] = {}
    systems: dict[str, int] = {}
    for port in view.ports:
        name = port_key(port.obs.port_name or "")
        if name in ("http", "https") and not port.obs.reference:
            kinds.setdefault((port.key, port.origin), set()).add(name)
            systems.setdefault(port.origin, view.system(port.obs.location))
    return {(key, systems[origin]) for (key, origin), found in kinds.items() if len(found) == 2}


def _role(products: dict[str, dict[int, str]], port: Port) -> str | None:
    """What an unnamed container port of a product with several ports is (maildev's 1080
    is its web UI, 1025 its SMTP port: `importer.products.PORT_ROLES`; `products`: the
    view's `_product_roles`)."""
    if port.kind not in ("compose", "kubernetes") and not port.obs.reference:
        return None
    roles = products.get(port.key)
    if not roles:
        return None
    role: str | None = roles.get(
        port.obs.target if port.obs.target is not None else port.obs.number
    )
    return role


def _product_roles(view: View) -> dict[str, dict[int, str]]:
    """Service key -> its product's port roles, by the image its compose or Kubernetes
    files run."""
    from portplan.importer.products import roles_of_image

    found: dict[str, dict[int, str]] = {}
    for result in view.results:
        for service in result.services:
            roles = roles_of_image(service.image)
            key = view.key(service.service) if roles else None
            if roles and key:
                found.setdefault(key, roles)
    return found


def _slots_by_number(
    known: dict[tuple[str, int], dict[str, set[int]]],
) -> dict[tuple[str, int], dict[int, set[str]]]:
    """(service, system) -> number -> the named slots holding it: one lookup per number, not
    a scan of every slot per port (a compose range maps thousands of unnamed ports)."""
    found: dict[tuple[str, int], dict[int, set[str]]] = {}
    for place, slots in known.items():
        numbers: dict[int, set[str]] = {}
        found[place] = numbers
        for slot, values in slots.items():
            for number in values:
                held = numbers.get(number)
                if held is None:  # not a set made per number and dropped
                    numbers[number] = {slot}
                else:
                    held.add(slot)
    return found


def _unnamed_slot(matching: list[str], have: list[str], alone: bool) -> str:
    """The slot of an unnamed port: a named one it shares a number with, else the http
    port, else the service's only named port when that may be its main one (never a port
    a service has beside its main one: a gRPC port stated as such is no other value of a
    port stated without a kind; nor one a file states an unnamed port beside: `alone`
    False), else a slot of its own."""
    if "http" in (matching or have):
        return "http"
    if matching:
        return matching[0]
    main = len(have) == 1 and have[0] not in BESIDE_MAIN and alone
    return have[0] if main else UNNAMED


def _checks_a_listed_port(view: View, port: Port) -> bool:
    """Whether `port` is a service's check of its own container (a HEALTHCHECK's
    `localhost:80`) on a port its listings state (`EXPOSE 80`, `3080:80`): that port,
    not another value of its http port, whatever number that has."""
    obs = port.obs
    if not obs.reference or obs.owner is None or view.key(obs.owner) != port.key:
        return False
    listed: dict[str, set[int]] = view.memo("listed-container-ports", _listed_container_ports)
    return obs.number in listed.get(port.key, set())


def _listed_container_ports(view: View) -> dict[str, set[int]]:
    """Service key -> the container ports its listing files state (see `_LISTING`)."""
    found: dict[str, set[int]] = {}
    for port in view.ports:
        if port.kind in _LISTING and not port.obs.reference:
            obs = port.obs
            found.setdefault(port.key, set()).add(obs.number if obs.target is None else obs.target)
    return found


def _another_port(port: Port, origins: set[tuple[str, str]]) -> bool:
    """A compose or Kubernetes file that names some ports of a service and not this one
    lists another port of it, not another number for a named one."""
    return port.kind in ("compose", "kubernetes") and (port.key, port.origin) in origins


def sides(ports: list[Port], trust: dict[str, float] | None = None) -> list[Side]:
    """The values of one slot, the agreed one first: the plan's, else the one stated in
    the most files; between as many files, the one of the files that `trust` rates higher
    (see `reliability`); then the one stated most often, then the one of the first file
    kind in KIND_ORDER (compose, Kubernetes, .env, Markdown), then the earliest by path
    (letter case aside) and line."""
    found = _values(ports)
    rating = trust or {}

    def weight(side: Side) -> tuple[bool, int, float, int, int, tuple[str, str, int, int]]:
        planned = any(p.kind == PLANNED for p in side.ports)
        trusted = sum(rating.get(file, 0.5) for file in side.files)
        kind = min(precedence(p.kind) for p in side.ports)
        first = min(place_order(location) for location in side.locations)
        return (not planned, -len(side.files), -trusted, -len(side.ports), kind, first)

    return sorted(found, key=weight) if len(found) > 1 else found


def _values(ports: list[Port]) -> list[Side]:
    by_value: dict[int, list[Port]] = {}
    for port in ports:
        by_value.setdefault(port.obs.number, []).append(port)
    return [Side(value, tuple(group)) for value, group in by_value.items()]


def slot_sides(view: View) -> dict[tuple[str, int, str], list[Side]]:
    """(service key, system, slot) -> its values, the agreed one first (see `sides`)."""
    found: dict[tuple[str, int, str], list[Side]] = view.memo("sides", _slot_sides)
    return found


def _slot_sides(view: View) -> dict[tuple[str, int, str], list[Side]]:
    trust = reliability(view)
    return {slot: sides(ports, trust) for slot, ports in slots(view).items()}


def reliability(view: View) -> dict[str, float]:
    """file -> how far its values agree with the others' where most files agree on a
    value: (right + 1) / (right + wrong + 2). A document that states a port the majority
    contradicts is trusted less where it stands alone against another."""
    found: dict[str, float] = view.memo("reliability", _reliability)
    return found


def _reliability(view: View) -> dict[str, float]:
    right: dict[str, int] = {}
    wrong: dict[str, int] = {}
    for ports in slots(view).values():
        number = ports[0].obs.number
        if all(port.obs.number == number for port in ports):
            continue  # one value (most slots): nothing to agree with
        found = _values(ports)
        found.sort(key=lambda side: -len(side.files))
        if len(found[0].files) == len(found[1].files):
            continue  # no value stated by more files than every other
        for side in found:
            tally = right if side is found[0] else wrong
            for file in side.files:
                tally[file] = tally.get(file, 0) + 1
    files = set(right) | set(wrong)
    return {f: (right.get(f, 0) + 1) / (right.get(f, 0) + wrong.get(f, 0) + 2) for f in files}


@rule("PP201", "port-drift", Level.ERROR, "sources give a service's port different numbers")
def port_drift(view: View) -> Iterator[Finding]:
    """A service's port has another number in one source than in the others (or the plan).
    Unnamed ports ("Reporting Engine :8087") are compared with the service's http port.
    With a plan, a compose or Kubernetes file that maps the plan's port (its host side, or
    a Service's port) to a container port compares that with the plan's `target` (unset:
    the port's own number): `"8088:80"` against `{port: 8088}` is a container port 80 where
    the plan says 8088.

    PASS: table "Reporting Engine | 8088"; env REPORTING_ENGINE_URL=http://localhost:8088
    FAIL: table "Reporting Engine | 8088"; mermaid Reporting[Reporting Engine :8087]
    """
    return value_drift(view, containers=view.topology is not None)


def value_drift(view: View, containers: bool = False) -> Iterator[Finding]:
    """`port_drift`'s findings of the values of each slot and of documents' host ports;
    with `containers` (against a plan), also those of the container ports compose and
    Kubernetes files map a planned port to (`portplan import` votes on those itself)."""
    for (key, _, slot), found in sorted(slot_sides(view).items()):
        agreed = found[0]
        mapped = _mapped(found) if len(found) > 1 else set()  # one value: nothing drifts
        listings = _listings(found) if len(found) > 1 else {}
        apart = _apart(found) if slot == UNNAMED and len(found) > 1 else set()
        for side in found[1:]:
            if side.value in apart:
                continue
            if slot == UNNAMED and _unpaired(side, agreed, listings):
                continue
            if side.value not in mapped:
                yield _drift(view, key, slot, side, agreed)
        if containers:
            yield from _container_drift(view, key, slot, agreed)
    yield from _documented_host_ports(view)


def _documented_host_ports(view: View) -> Iterator[Finding]:
    """A document's mapping (`docker ps`: `0.0.0.0:8080->80/tcp`, a compose snippet
    `8080:80`) of a service's container port to a host port that no compose file of the
    document's own folder publishes for it, while one of them maps that container port to
    another host port: the document and the configuration beside it disagree on the host
    side. Only the folder's own compose files: an alternative file elsewhere is another
    project, and a document elsewhere may describe any of them."""
    config: dict[tuple[str, str], list[Port]] = {}
    for port in view.ports:
        obs = port.obs
        if port.kind == "compose" and obs.source == "compose" and obs.published:
            config.setdefault((port.key, os.path.dirname(port.file)), []).append(port)
    seen: set[tuple[str, int, int]] = set()
    for port in view.ports:
        obs = port.obs
        if port.kind != "markdown" or not obs.published or obs.target is None or obs.reference:
            continue
        mine = config.get((port.key, os.path.dirname(port.file)), [])
        if not mine or any(p.obs.number == obs.number for p in mine):
            continue
        other = [p for p in mine if p.obs.target == obs.target and not p.obs.random_host]
        if not other or (port.key, obs.number, obs.target) in seen:
            continue
        seen.add((port.key, obs.number, obs.target))
        shown = ", ".join(f"{p.obs.number}:{p.obs.target}" for p in other)
        first = other[0].obs.location
        yield port_drift.finding(
            f"{view.show(port.key)}: {os.path.basename(obs.location.file)}:"
            f"{obs.location.line} shows container port {obs.target} published on "
            f"{obs.number}, but {os.path.basename(first.file)}:{first.line} publishes {shown}",
            [obs.location, *(p.obs.location for p in other)],
            service=view.show(port.key),
            port=obs.number,
            port_name=slot_of(other[0].obs.port_name) or UNNAMED,
            value=obs.number,
            expected=other[0].obs.number,
            side="published",
        )


def _container_drift(view: View, key: str, slot: str, agreed: Side) -> Iterator[Finding]:
    """The container ports compose and Kubernetes files map the planned port to, where
    they are not the plan's."""
    planned = next((p for p in agreed.ports if p.kind == PLANNED), None)
    if planned is None:
        return
    expected = planned.obs.target or planned.obs.number
    by_value: dict[int, list[Location]] = {}
    for port in agreed.ports:
        target = port.obs.target
        if port.kind in CONTAINERS and target is not None and target != expected:
            by_value.setdefault(target, []).append(port.obs.location)
    if not by_value:
        return
    shown = slot_name(slot, agreed.ports)
    what = "container port" if slot == UNNAMED else f"{shown} container port"
    where = _target_location(view, planned)
    for value, locations in sorted(by_value.items()):
        yield port_drift.finding(
            f"{view.show(key)}: {what} is {value} here but {expected} in {_short(where)}",
            [*sorted(locations), where],
            service=view.show(key),
            port_name=shown,
            value=value,
            expected=expected,
            side="container",
        )


def _target_location(view: View, planned: Port) -> Location:
    """The plan's `target:` line of a planned port, else its `port:` line (no target:
    the container port is the port)."""
    ports: dict[tuple[str, str], PlanPort] = view.memo("plan ports", _plan_ports)
    port = ports.get((planned.obs.service, planned.obs.port_name or ""))
    return port.target_location if port and port.target_location else planned.obs.location


def _plan_ports(view: View) -> dict[tuple[str, str], PlanPort]:
    """(service, port name) -> the plan's port: one lookup each, not a search per port (an
    imported range of 60,000 host ports)."""
    services = view.topology.services if view.topology else {}
    found: dict[tuple[str, str], PlanPort] = {}
    for key, service in services.items():
        for port in service.ports:
            found.setdefault((key, port.name), port)
    return found


def _mapped(found: list[Side]) -> set[int]:
    """The values that are one port with the agreed one (the first): a mapping states two
    numbers of one port (`18080:8080` in compose, a Kubernetes Service's `port: 80` with
    `targetPort: 8081`, a `hostPort` and its `containerPort`), and values that share a
    number through mappings are one port. Against a port the plan publishes, a host port a
    source publishes is held to it by its own number: sharing the plan's `target` makes it
    no other value of it (`8080:80` against `{port: 8088, target: 80}` drifts; against
    `{port: 80, published: false}` it publishes the plan's port); so is an unpublished
    mapping against a plan: a ClusterIP Service's `port: 80` with `targetPort: 8080` is
    how clients reach the port, so against `{port: 8080}` it drifts."""
    numbers = set().union(*(p.numbers() for p in found[0].ports))
    values = {found[0].value}
    plan = [p for p in found[0].ports if p.kind == PLANNED]
    published = any(p.obs.published for p in plan)
    grown = True
    while grown:
        grown = False
        for side in found[1:]:
            if side.value in values or (plan and any(_held(p, published) for p in side.ports)):
                continue
            mine = set().union(*(p.numbers() for p in side.ports))
            if mine & numbers:
                numbers |= mine
                values.add(side.value)
                grown = True
    return values


def _held(port: Port, published: bool) -> bool:
    """Whether, against a plan, a statement is held to the plan's port by its own number:
    a published one when the plan publishes the port, an unpublished mapping (a Service's
    `port: 80` with `targetPort: 8080`) always."""
    if port.obs.published:
        return published
    return port.obs.target is not None and port.obs.target != port.obs.number


def _apart(found: list[Side]) -> set[int]:
    """Unnamed ports: the values that are other ports than the agreed one (the first). A
    line stating both values ("ports 9200, 9300"), or a compose or Kubernetes file listing
    both, lists two ports, so every statement of the other value is of that other port
    (`EXPOSE 5005` of a debug Dockerfile beside compose's `8080:8080` and `5005:5005`); so
    is a value that shares a number with one of them through a mapping (a document's
    `10143:143` beside compose's `143:143`). Anything else is a disagreement."""
    agreed = found[0]
    apart = {
        side.value
        for side in found[1:]
        if any(listed_together(p, q) for p in side.ports for q in agreed.ports)
    }
    numbers = set().union(*(p.numbers() for s in found if s.value in apart for p in s.ports))
    grown = bool(numbers)
    while grown:
        grown = False
        for side in found[1:]:
            mine = set().union(*(p.numbers() for p in side.ports))
            if side.value not in apart and mine & numbers:
                apart.add(side.value)
                numbers |= mine
                grown = True
    return apart


def _listings(found: list[Side]) -> dict[str, set[int]]:
    """file (a compose or Kubernetes file, a Dockerfile, a proxy config) -> the values it
    lists in one slot."""
    listed: dict[str, set[int]] = {}
    for side in found:
        for port in side.ports:
            if port.kind in LISTING:
                listed.setdefault(_listing(port), set()).add(side.value)
    return listed


def _listing(port: Port) -> str:
    """The listing a port is stated in: its file, or for a server's configuration the
    folder of its files (nginx reads every `conf.d/*.conf`: `listen 8080;` in one and
    `listen 8443 ssl;` in the next are two ports of one server)."""
    return os.path.dirname(port.origin) if port.kind in SERVER_CONFIGS else port.origin


def _unpaired(side: Side, agreed: Side, listings: dict[str, set[int]]) -> bool:
    """Unnamed ports: a file that lists several ports of a service (`EXPOSE 443 9100`)
    against another's one port that is none of them (`"5443:5443"`) says nothing of which
    of its ports that one is, if any (a metrics port, an image default the command line
    overrides): no value of it is another number of that one port. A file listing one port
    against another's one port (`EXPOSE 12349` and `"12340:12340"`) still disagrees."""

    def several(s: Side, other: int) -> bool:
        return all(len(listings.get(_listing(p), ())) > 1 and other not in listings[_listing(p)]
                   for p in s.ports)  # fmt: skip

    return several(side, agreed.value) or several(agreed, side.value)


def listed_together(p: Port, q: Port) -> bool:
    """Whether two ports of a service are listed side by side, so two ports of it rather
    than two values of one: in one compose or Kubernetes file or Dockerfile, in the files of
    one folder of a server's configuration, in the `ports` of one compose file a document
    shows, or on one line of any other file."""
    if p.kind in SERVER_CONFIGS and q.kind == p.kind and _listing(p) == _listing(q):
        return True
    if p.origin != q.origin:
        return False
    if p.kind in LISTING or (_listed(p) and _listed(q)):
        return True
    return p.obs.location.line == q.obs.location.line


def _listed(port: Port) -> bool:
    """A `ports` or `expose` entry of a compose file shown in a document."""
    return port.obs.source == "markdown-code" and port.obs.published is not None


def _drift(view: View, key: str, slot: str, side: Side, agreed: Side) -> Finding:
    shown = slot_name(slot, [p for found in (side, agreed) for p in found.ports])
    what = "port" if slot == UNNAMED else f"{shown} port"
    # One phrasing: the first place that states the agreed value (the plan's, when the
    # plan states it, else the earliest) and how many more do.
    planned = sorted(p.obs.location for p in agreed.ports if p.kind == PLANNED)
    others = planned + [loc for loc in agreed.locations if loc not in planned]
    more = len(others) - 1
    also = f" (and {more} more)" if more else ""
    targets = sorted({p.obs.target for p in side.ports if p.obs.target not in (None, side.value)})
    finding = port_drift.finding(
        f"{view.show(key)}: {what} is {side.value} here but {agreed.value} in "
        f"{_short(others[0])}{also}",
        [*side.locations, *others],
        service=view.show(key),
        port_name=shown,
        value=side.value,
        expected=agreed.value,
    )
    if len(targets) != 1:
        return finding
    # the mapping's container side, for the reader who compares it with a container port
    return replace(finding, facts={**finding.facts, "container_port": targets[0]})


def _short(location: Location) -> str:
    return str(Location(location.file.rsplit("/", 1)[-1], location.line))


@rule("PP202", "port-claimed-twice", Level.ERROR, "two services are given one port")
def port_claimed_twice(view: View) -> Iterator[Finding]:
    """Two services of one system hold the same port (each by its agreed value).
    Ports published twice in one compose project are PP212's, ports given twice in one
    `.env` are PP213's. A container's own port that is not published (compose `expose`,
    a Kubernetes Service or container port, a port the plan says is `published: false`)
    claims nothing: every container and every Service has an address of its own. Of a
    service compose or Kubernetes run in a container (not on the host's network), or a
    port the plan keeps unpublished, only a published statement claims: a document or a
    URL (`postgres://db:5432`) that gives its number says nothing of the host.

    PASS: gateway 8080, token-engine 8081
    FAIL: gateway 8080, reporting 8080
    """
    owners: dict[tuple[int, int, str], list[tuple[str, Side]]] = {}
    every = slot_sides(view)
    boxed = in_containers(view)
    published = _compose_published(view)
    outside = _of_hosts_to_give(view)
    for slot, ports in slots(view).items():
        key, system, _ = slot
        claiming = [
            port
            for port in _claiming(ports, key in boxed)
            if not _to_a_publisher(port, published.get((system, port.obs.number), set()) - {key})
            and (port.file, port.obs.variable) not in outside
        ]
        if not claiming:
            continue
        same = len(claiming) == len(ports)
        agreed = (every[slot] if same else sides(claiming, reliability(view)))[0]
        protocol = agreed.ports[0].obs.protocol
        owners.setdefault((system, agreed.value, protocol), []).append((key, agreed))
    for (_, number, protocol), claims in sorted(owners.items()):
        every_key = sorted({key for key, _ in claims})
        # only those that run with another (disjoint compose profiles, two hosts: never;
        # a project defining both that publishes the port for one of them alone)
        keys = [
            k
            for k in every_key
            if any(
                view.together(k, o) and _not_apart(view, k, o, number) for o in every_key if o != k
            )
        ]
        if len(keys) < 2:
            continue
        claims = [(key, side) for key, side in claims if key in keys]
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


_HOST_WORDS: Final = ("_HOST", "_HOSTNAME", "_SERVER", "_ADDR", "_ADDRESS")


def _of_hosts_to_give(view: View) -> set[tuple[str, str]]:
    """(`.env` file, `<P>_PORT`) beside an empty `<P>_HOST=` of that file (`RELAY_HOST=`,
    `RELAY_PORT=25`): the port of a server the user gives (a mail relay), on another
    machine, which claims no port of this one."""
    found: set[tuple[str, str]] = set()
    for _, var in view.variables:
        name = var.name.upper()
        if var.source != "dotenv" or var.value is None or var.value.strip():
            continue
        for word in _HOST_WORDS:
            if name.endswith(word) and len(name) > len(word):
                found.add((var.location.file, var.name[: -len(word)] + "_PORT"))
    return found


def _not_apart(view: View, a: str, b: str, number: int) -> bool:
    """False when compose projects (files, or a README's blocks listing `services:`)
    publish `number` for each service and one project defines both but publishes it for
    one of them at most: its services run together without clashing there, and the other
    claim comes from an alternative (a README's Apache example's `app: 8080:80` beside its
    FPM example's `app` and `web: 8080:80`). A document's word for one of them still clashes.
    Nor do two documents' own compose files that publish it for one each, neither defining
    the other (`proxies/traefik.md`'s `traefik` and `proxies/envoy.md`'s `envoy` on 80):
    alternatives, as two compose files would be."""
    projects: dict[str, tuple[set[str], set[tuple[str, int]]]] = view.memo(
        "compose-projects", _compose_projects
    )
    each = [
        {project for project, (_, published) in projects.items() if (key, number) in published}
        for key in (a, b)
    ]
    if not all(each):
        return True
    if _shown_apart(view, each, projects, (a, b)):
        return False
    return not any(
        a in keys and b in keys and not ({(a, number), (b, number)} <= published)
        for keys, published in projects.values()
    )


def _shown_apart(
    view: View,
    each: list[set[str]],
    projects: dict[str, tuple[set[str], set[tuple[str, int]]]],
    pair: tuple[str, str],
) -> bool:
    """Whether no project defines both of `pair`, the files whose projects publish the port
    for one and for the other are not the same, and for one of them only documents'
    compose blocks publish it (a compose file of the other's is another alternative)."""
    if all(any(project in view.kinds for project in found) for found in each):
        return False  # compose files publish it for both: their systems tell
    files = [
        {project if project in view.kinds else project.rsplit(":", 1)[0] for project in found}
        for found in each
    ]
    both = any(pair[0] in keys and pair[1] in keys for keys, _ in projects.values())
    return not both and not files[0] & files[1]


def _compose_projects(view: View) -> dict[str, tuple[set[str], set[tuple[str, int]]]]:
    """Compose project (a compose file's result, `FILE:LINE` of a Markdown block) -> the
    keys of the services it defines and the (key, host port) pairs it publishes."""
    found: dict[str, tuple[set[str], set[tuple[str, int]]]] = {}
    blocks: dict[str, list[tuple[int, str]]] = {}  # Markdown file -> (block line, project)
    for result in view.results:
        for service in result.services:
            project = result.file if result.kind == "compose" else service.project
            key = view.key(service.service)
            if project is None or key is None or result.kind not in ("compose", "markdown"):
                continue
            found.setdefault(project, (set(), set()))[0].add(key)
            if result.kind == "markdown":
                start = int(project.rsplit(":", 1)[1])
                blocks.setdefault(service.location.file, []).append((start, project))
    for port in view.ports:
        if not port.obs.published or port.obs.reference:
            continue
        if port.kind == "compose":
            home: str | None = port.origin
        else:
            home = _block_of(blocks.get(port.file, []), port.obs.location.line)
        if home in found:
            found[home][1].add((port.key, port.obs.number))
    return found


def _block_of(blocks: list[tuple[int, str]], line: int) -> str | None:
    """The block (of a Markdown file's compose blocks) that line `line` is in: the last
    one starting before it."""
    before = [(start, project) for start, project in blocks if start <= line]
    return max(before)[1] if before else None


def _compose_published(view: View) -> dict[tuple[int, int], set[str]]:
    """(system, host port) -> the keys of the services a compose file publishes it for."""
    found: dict[tuple[int, int], set[str]] = {}
    for port in view.ports:
        if port.kind == "compose" and port.obs.published and not port.obs.reference:
            place = (view.system(port.obs.location), port.obs.number)
            found.setdefault(place, set()).add(port.key)
    return found


def _to_a_publisher(port: Port, others: set[str]) -> bool:
    """Whether a statement is a URL on this machine to a port another service publishes
    (`WEB_APP_URL=http://localhost:3000` beside the web app's `3000:3000`): it reaches that
    one and claims nothing for the name its variable gives."""
    return bool(others) and port.obs.reference and is_host_machine(port.obs.host)


def _claiming(ports: list[Port], contained: bool) -> list[Port]:
    """The statements of a slot that claim a host port: those that publish it, and, unless
    the service runs in a container or the plan keeps the port unpublished, those that do
    not say (documents, `.env`; not a Kubernetes file's, whose ports are on the cluster:
    `LOCUST_WEB_PORT: "8080"` of a ConfigMap takes no port of a host)."""
    kept = any(p.kind == PLANNED and p.obs.published is False for p in ports)
    if contained or kept:
        return [port for port in ports if port.obs.published]
    return [
        port
        for port in ports
        if port.obs.published or (port.obs.published is None and _on_a_host(port))
    ]


def _on_a_host(port: Port) -> bool:
    """Whether a statement that does not say it publishes may still hold a host's port: not
    a Kubernetes file's (on the cluster) nor a URL to a name (`http://s3.localstack:4566`
    reaches that name's own address)."""
    if port.kind == "kubernetes":
        return False
    return not (port.obs.reference and port.obs.host and not is_host_machine(port.obs.host))


def in_containers(view: View) -> set[str]:
    """The keys of the services compose or Kubernetes files run as containers of their own
    network (none of them on the host's: `network_mode: host`, `hostNetwork: true`): their
    ports are bound on the host only where a mapping publishes them."""
    found: set[str] = view.memo("containers", _in_containers)
    return found


def _in_containers(view: View) -> set[str]:
    boxed: set[str] = set()
    on_host: set[str] = set()
    for result in view.results:
        if result.kind in ("compose", "kubernetes"):
            for service in result.services:
                key = view.key(service.service)
                if key is not None:
                    (on_host if service.host_network else boxed).add(key)
    return boxed - on_host


def _by_service(claims: list[tuple[str, Side]]) -> list[Location]:
    order = _plan_first([port for _, side in claims for port in side.ports])
    first = sorted((side.locations[0] for _, side in claims), key=order)
    rest = sorted({loc for _, side in claims for loc in side.locations} - set(first), key=order)
    return [*first, *rest]


def _plan_first(
    ports: Iterable[Port],
) -> Callable[[Location], tuple[bool, tuple[str, str, int, int]]]:
    """A sort key of locations: the plan's (of `ports`) first, then by `place_order`."""
    planned = {port.obs.location for port in ports if port.kind == PLANNED}
    return lambda location: (location not in planned, place_order(location))


def _one_file_of(view: View, locations: list[Location], kinds: tuple[str, ...]) -> bool:
    files = {loc.file for loc in locations}
    return len(files) == 1 and view.kinds.get(next(iter(files)), "") in kinds


@rule("PP204", "reserved-port-in-use", Level.ERROR, "a service uses a reserved port")
def reserved_port_in_use(view: View) -> Iterator[Finding]:
    """A source gives a service a port that the plan (or a source of the same system)
    reserves. Reservations are of host ports: a port a source keeps off the host (compose
    `expose`, a Kubernetes ClusterIP Service or container port, a random host port) takes
    none, as `portplan check` (PP103) holds only published ports to them.

    PASS: reserved 8004-8006; trading-engine 8007
    FAIL: reserved 8004-8006; trading-engine 8005
    """
    for port in view.ports:
        if port.kind == PLANNED or port.obs.published is False:
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
    """A compose file publishes a port on every interface (on a random host port too:
    `"80"`) while a policy keeps it internal or local: the plan (the port's or its service's
    exposure), or a range a source states that holds the port, or another number a source
    of its system gives the service (a service moved out of its range stays under its
    policy). Whether the plan publishes the port (`published`) is no policy: an exposure is.

    PASS: "8001-8019: internal only"; ports: ["127.0.0.1:8011:8011"]
    FAIL: "8001-8019: internal only"; ports: ["8011:8011"]
    """
    for port in view.ports:
        obs = port.obs
        if port.kind == PLANNED or not (obs.published or obs.random_host):
            continue
        if (obs.address or "") not in WILDCARD_ADDRESSES:
            continue
        policy = _planned(view, port) if view.topology is not None else _stated(view, port)
        keeps = "keeps"
        if policy is None and port.kind in CONTAINERS:
            policy, keeps = _documented(view, port), "shows"
        if policy is not None:
            exposure, where, number = policy
            what = "it" if number == obs.number else f"its port {number}"
            how = "on a random host port " if obs.random_host else ""
            state = exposure.value if keeps == "keeps" else "bound to loopback only"
            yield exposure_drift.finding(
                f"{view.show(port.key)} publishes {_side(obs)} {obs.number} {how}on all "
                f"interfaces, but {_short(where)} {keeps} {what} {state}",
                [obs.location, where],
                service=view.show(port.key),
                port=obs.number,
                exposure=exposure.value,
            )


def _side(obs: PortObservation) -> str:
    return "container port" if obs.random_host else "port"


_NARROW: Final = (Exposure.INTERNAL, Exposure.LOCAL)
Policy = tuple[Exposure, Location, int]


def _planned(view: View, port: Port) -> Policy | None:
    """The plan's exposure of the port (matched by number), else of its service."""
    service = view.topology.services.get(port.key) if view.topology is not None else None
    if service is None:
        return None
    for planned in service.ports:
        if planned.number in port.numbers() and service.exposure_of(planned) in _NARROW:
            return service.exposure_of(planned), planned.location, planned.number
    if service.exposure in _NARROW:
        return service.exposure, service.location, port.obs.number
    return None


def _stated(view: View, port: Port) -> Policy | None:
    """A narrow range of the port's system holding the port, or another number its system
    gives the service (the agreed ones first); the file's own ranges first."""
    if not view.with_ranges:
        return None
    system = view.system(port.obs.location)
    numbers = [port.obs.number, *stated_numbers(view).get((port.key, system), ())]
    for number in numbers:
        for result in sorted(view.with_ranges, key=lambda r: r.file != port.file):
            for found in result.ranges:
                if (
                    found.exposure is not None
                    and found.exposure in _NARROW
                    and number in found.ports
                    and view.system(found.location) == system
                ):
                    return found.exposure, found.location, number
    return None


def _documented(view: View, port: Port) -> Policy | None:
    """A document's binding of the same service's same host port to a loopback address
    (`docker ps`: `127.0.0.1:9200->9200/tcp`, a compose snippet `127.0.0.1:5601:5601`),
    when every binding the documents of its folder (or a folder above it) state for that
    port is one: an exposure statement, not a URL (`http://127.0.0.1:8000` says nothing of
    the interfaces)."""
    folder = os.path.dirname(port.file)
    found: list[PortObservation] = []
    for other in view.memo("documented-bindings", _bindings).get((port.key, port.obs.number), ()):
        doc = os.path.dirname(other.location.file)
        if folder == doc or folder.startswith(doc.rstrip(os.sep) + os.sep) or not doc:
            found.append(other)
    if not found or any(published_exposure(o.address) != Exposure.LOCAL for o in found):
        return None
    first = min(found, key=lambda o: place_order(o.location))
    return Exposure.LOCAL, first.location, port.obs.number


def _bindings(view: View) -> dict[tuple[str, int], list[PortObservation]]:
    """(service key, host port) -> the documents' statements of its binding address."""
    found: dict[tuple[str, int], list[PortObservation]] = {}
    for port in view.ports:
        obs = port.obs
        if port.kind == "markdown" and obs.published and obs.address and not obs.reference:
            found.setdefault((port.key, obs.number), []).append(obs)
    return found


def stated_numbers(view: View) -> dict[tuple[str, int], list[int]]:
    """(service key, system) -> every value its ports are given, the agreed ones first."""
    found: dict[tuple[str, int], list[int]] = view.memo("stated", _stated_numbers)
    return found


def _stated_numbers(view: View) -> dict[tuple[str, int], list[int]]:
    agreed: dict[tuple[str, int], list[int]] = {}
    others: dict[tuple[str, int], list[int]] = {}
    for (key, system, _), found in sorted(slot_sides(view).items()):
        agreed.setdefault((key, system), []).append(found[0].value)
        others.setdefault((key, system), []).extend(side.value for side in found[1:])
    return {slot: numbers + others[slot] for slot, numbers in agreed.items()}


@rule("PP212", "duplicate-published-port", Level.ERROR, "a host port published twice")
def duplicate_published_port(view: View) -> Iterator[Finding]:
    """One compose project publishes a host port twice on overlapping addresses (an exact
    duplicate, all interfaces and 127.0.0.1, a port inside a published range, long and short
    syntax). 127.0.0.1:40040 and 127.0.0.2:40040 do not overlap.

    Two Kubernetes Services of one system that ask for one `nodePort` clash too: every node
    opens it (two LoadBalancers on port 80 do not: each has an address of its own).

    PASS: ["127.0.0.1:40040:80"] and ["127.0.0.2:40040:80"]
    FAIL: ["40040:80"] and ["127.0.0.1:40040:80"]
    """
    yield from _node_ports_twice(view)
    for result in view.results:
        if result.kind != "compose":
            continue
        published: dict[tuple[str, int], list[Port]] = {}
        for port in view.compose_published(result.file):
            for number in _published_numbers(port):
                published.setdefault((port.obs.protocol, number), []).append(port)
        yield from _duplicates(view, published)


def _node_ports_twice(view: View) -> Iterator[Finding]:
    for clash in node_port_clashes(view):
        first, *others = clash.ports
        shown = " and ".join(f"{view.show(p.key)} ({_short(p.obs.location)})" for p in others)
        yield duplicate_published_port.finding(
            f"node port {clash.number}/{clash.protocol} is opened on every node twice: by "
            f"{view.show(first.key)} and by {shown}",
            [p.obs.location for p in clash.ports],
            port=clash.number,
            services=[view.show(p.key) for p in clash.ports],
        )


def _published_numbers(port: Port) -> range:
    return range(port.obs.number, (port.obs.range_end or port.obs.number) + 1)


def _duplicates(view: View, published: dict[tuple[str, int], list[Port]]) -> Iterator[Finding]:
    reported: set[tuple[Location, Location]] = set()
    for (protocol, number), ports in sorted(published.items()):
        for a, b in combinations(ports, 2):
            pair = (a.obs.location, b.obs.location)
            if pair in reported or not addresses_overlap(a.obs.address, b.obs.address):
                continue
            if not _run_at_once(view, a, b):
                continue  # disjoint compose profiles: never published at once
            reported.add(pair)
            other = f"{_address(b)}, {_short(b.obs.location)}"
            yield duplicate_published_port.finding(
                f"host port {number}/{protocol} is published twice: by {view.show(a.key)} "
                f"({_address(a)}) and by {view.show(b.key)} ({other})",
                list(dict.fromkeys(pair)),
                port=number,
                services=[view.show(a.key), view.show(b.key)],
            )


def _run_at_once(view: View, a: Port, b: Port) -> bool:
    """Whether the compose services of `a` and `b` (one project) run at once: two services
    one name stands for (one `container_name`) run in their own profiles."""
    if a.key == b.key and a.obs.service != b.obs.service:
        return view.together(a.obs.service, b.obs.service, a.origin, written=True)
    return view.together(a.key, b.key, a.origin)


def _address(port: Port) -> str:
    return port.obs.address or "all interfaces"


@rule("PP213", "env-port-reused", Level.ERROR, "one .env file gives one port to two variables")
def env_port_reused(view: View) -> Iterator[Finding]:
    """Two variables of one `.env` file hold the same port for different services or
    different ports (an URL and the port variable of its service are one port). The port
    variable of a service a compose file of the same folder runs in a container, and
    publishes no port from, is a port inside that container: it clashes only with that
    service's other ports. A port
    variable whose service cannot be told (`ADMIN_PORT` in a shared `.env`) is a port of
    its own. One app config file that gives one address (side, host, port) to settings
    naming two services, one of which says it runs on another port, is one too
    (`portplan.reconcile.settings.reused_in_config`).
    A URL to a service by its name (`http://orders:8080`) is a port at that
    service's own address on the container network, not on this machine: it shares a
    number with nothing but other URLs to that host. A udp port and a tcp port of one
    number are two ports (`RTP_UDP_PORT=8443` and `WEB_PORT=8443`).

    PASS: TOKEN_ENGINE_PORT=8081 and TOKEN_ENGINE_URL=http://localhost:8081
    PASS: HTTP_PORT=8080, ORDERS_URL=http://orders:8080 and CART_URL=http://cart:8080
    FAIL: GATEWAY_PORT=8080 and ADMIN_PORT=8080
    """
    for message, places, facts in reused_in_config(view):
        yield env_port_reused.finding(message, places, **facts)
    groups: dict[tuple[str, int, str, str], dict[str, tuple[str, Location]]] = {}
    main: set[tuple[str, str]] = set()  # (file, variable): a service's main port
    published = _compose_published(view)
    for port in view.ports:
        if port.obs.source == "dotenv" and port.obs.variable:
            where = (port.file, port.obs.number, port.obs.protocol, _reached_at(port.obs))
            group = groups.setdefault(where, {})
            # a URL on this machine reaches the one service that publishes its port
            to = published.get((view.system(port.obs.location), port.obs.number), set())
            key = next(iter(to)) if len(to) == 1 and _to_a_publisher(port, to) else port.key
            group.setdefault(port.obs.variable, (key, port.obs.location))
            if slot_of(port.obs.port_name) not in BESIDE_MAIN:
                main.add((port.file, port.obs.variable))
    publishers = _publishers(view)
    publishing: set[tuple[str, str]] = set()  # (file, variable) a compose mapping publishes
    for _, var in view.variables:
        number = _unowned_port(var)
        if number is not None:
            protocol = variable_protocol(var.name)
            group = groups.setdefault((var.location.file, number, protocol, ""), {})
            owners = publishers.get((os.path.dirname(var.location.file), var.name), set())
            if len(owners) == 1:
                publishing.add((var.location.file, var.name))
            owner = next(iter(owners)) if len(owners) == 1 else f"?{var.name}"
            group.setdefault(var.name, (owner, var.location))
    inside = _inside_containers(view, publishers)
    outside = _of_hosts_to_give(view)
    for (file, number, _, host), claims in sorted(groups.items()):
        if host:
            continue  # every URL to one name's port (`db:5432`) reaches one port of it
        keys = Counter(key for key, _ in claims.values())
        claims = {  # a port inside one container clashes only with that container's ports
            name: claim
            for name, claim in claims.items()
            if ((file, name) not in inside or keys[claim[0]] > 1) and (file, name) not in outside
        }
        owners = {key for key, _ in claims.values()}
        port_vars = [name for name in claims if _is_port_variable(name)]
        if any((file, name) in main for name in port_vars):
            # the variable a mapping publishes the service's port from and one naming the
            # service alone (GEONODE_LB_PORT beside `${HTTP_PORT}:80`) are one port
            port_vars = [name for name in port_vars if (file, name) not in publishing]
        apart = len(owners) > 1 and not any(  # on two hosts, or of disjoint profiles
            view.together(a, b) for a, b in combinations(sorted(owners), 2)
        )
        if (len(owners) > 1 or len(port_vars) > 1) and not apart:
            names = sorted(claims)
            yield env_port_reused.finding(
                f"port {number} is given to {' and '.join(names)}",
                sorted(location for _, location in claims.values()),
                port=number,
                variables=names,
            )


def _inside_containers(
    view: View, publishers: dict[tuple[str, str], set[str]]
) -> set[tuple[str, str]]:
    """(`.env` file, variable) of the port variables of services a compose file of the
    file's folder runs in a container of its own, that no mapping publishes
    (`FRONTEND_PORT=8080` beside `FRONTEND_HOST=frontend`): a port inside that container,
    which shares a number with another service's port without a clash."""
    contained: set[tuple[str, str]] = set()
    for result in view.results:
        if result.kind != "compose":
            continue
        for service in result.services:
            key = view.key(service.service)
            if key and not service.host_network and service.network_of is None:
                contained.add((os.path.dirname(service.location.file), key))
    found: set[tuple[str, str]] = set()
    for port in view.ports:
        variable, folder = port.obs.variable, os.path.dirname(port.file)
        if port.obs.source != "dotenv" or not variable or not _is_port_variable(variable):
            continue
        if (folder, port.key) in contained and (folder, variable) not in publishers:
            found.add((port.file, variable))
    return found


def _publishers(view: View) -> dict[tuple[str, str], set[str]]:
    """The services a compose file publishes a port of from each variable
    (`${HTTP_PORT}:80`), by (the compose file's folder, the variable): that folder's
    `.env` sets their host port."""
    found: dict[tuple[str, str], set[str]] = {}
    for port in view.ports:
        if port.kind == "compose" and port.obs.published_variable:
            where = (os.path.dirname(port.file), port.obs.published_variable)
            found.setdefault(where, set()).add(port.key)
    return found


def _reached_at(obs: PortObservation) -> str:
    """Where a `.env` port is: a reference's host when it names a service (reached on the
    container network, `orders` of `http://orders:8080`); "" for this machine (a port
    variable, `localhost`, an IP address, the host machine)."""
    if not obs.reference or is_host_machine(obs.host):
        return ""
    return (obs.host or "").lower()


def _unowned_port(var: VariableObservation) -> int | None:
    """The port a `.env` port variable holds when no service could be told for it."""
    value = (var.value or "").strip()
    if var.source != "dotenv" or not _is_port_variable(var.name) or not value.isdigit():
        return None
    return int(value) if 0 < int(value) <= MAX_PORT else None


def _is_port_variable(name: str) -> bool:
    return name.upper().endswith("PORT")
