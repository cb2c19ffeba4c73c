"""Every URL and `host:port` is an observation of a port (PP216, PP217).

A reference (`PortObservation.reference`: an env URL, a `<P>_HOST` + `<P>_PORT` pair, a
healthcheck or proxy target, a document's `curl` line) reaches its target on one side of
the target's ports (`PortObservation.side`): on the container network a name reaches the
ports the target listens on; from the host machine a URL reaches the ports it publishes.
The target's ports are what its own configuration declares (compose, Kubernetes, `.env`
and the other configuration files; never a document, which only describes): a compose
mapping `H:C` publishes H and listens on C. A target that declares no port is never
held to anything (a database image with its default port, a service a plan does not give).

The side of a reference its source could not tell (`unknown`) is settled here: in a
container's environment (the reference has an owner) a host-machine URL to another service
is one a browser or the host uses (`PurchaseUrl=http://localhost:5202`), and so is one to
the owner itself in a variable that names its public address (`*_HOSTNAME`, `PUBLIC_URL`,
`EXTERNAL_URL`, `SITE_URL`, `BASE_URL`): both are the published side.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

from portplan.findings import Finding, Level
from portplan.model import Location, normalize_name
from portplan.names import host_service, is_external_host, is_host_machine, variable_words
from portplan.reconcile.names import strip_suffix
from portplan.reconcile.view import Port, View, rule
from portplan.sources.base import CONTAINER, LOCAL, PUBLISHED, UNKNOWN, PortObservation

# Source kinds that describe rather than configure: they never declare a target's ports.
DESCRIBING: Final = frozenset({"markdown"})
# Source kinds whose set of services is open: a `.env` or a Kubernetes manifest may reach a
# service another repository, chart or namespace defines, so no host is unknown to them.
# A compose project (and a config file one of its services mounts) is a closed world.
UNBOUNDED: Final = frozenset({"markdown", "dotenv", "kubernetes"})
# Words of a variable that names the owner's own public address.
PUBLIC_WORDS: Final = frozenset({"hostname", "public", "external", "site", "base"})


@dataclass
class _Declared:
    """What one service's own configuration declares, in one system."""

    published: dict[int, list[Location]] = field(default_factory=dict)
    container: dict[int, list[Location]] = field(default_factory=dict)
    # A Kubernetes Service answers only on the ports it declares: a name reaches no other.
    complete: bool = False

    def add(self, port: Port) -> None:
        obs = port.obs
        self.complete = self.complete or obs.source == "kubernetes"
        if port.kind == "compose" and obs.source == "compose" and obs.published:
            self.published.setdefault(obs.number, []).append(obs.location)
            if obs.target is not None:
                self.container.setdefault(obs.target, []).append(obs.location)
            return
        if obs.node_port is not None:
            self.published.setdefault(obs.node_port, []).append(obs.location)
        if obs.side == PUBLISHED:
            self.published.setdefault(obs.number, []).append(obs.location)
            return
        self.container.setdefault(obs.number, []).append(obs.location)
        if obs.target is not None:
            self.container.setdefault(obs.target, []).append(obs.location)

    def declares(self, number: int) -> bool:
        return number in self.published or number in self.container

    def any(self) -> bool:
        return bool(self.published or self.container)


def _declaring(port: Port) -> bool:
    return not port.obs.reference and port.kind not in DESCRIBING and port.kind != "plan"


def to_a_host_port(port: Port, target: _Declared | None) -> bool:
    """Whether a reference by name on the container network reaches a number its target
    (`target`: what it declares) only publishes on the host (`reverse_proxy pihole:8081`
    with `"8081:80"`): PP216 reports it; it is no value of the target's port."""
    obs = port.obs
    if not obs.reference or obs.side != CONTAINER or target is None:
        return False
    return obs.number in target.published and obs.number not in target.container


def declared_ports(view: View) -> dict[tuple[int, str], _Declared]:
    """(system, service key) -> the ports its own configuration declares."""
    found: dict[tuple[int, str], _Declared] = {}
    for port in view.ports:
        if _declaring(port):
            place = (view.system(port.obs.location), port.key)
            declared = found.get(place)
            if declared is None:  # not one _Declared made per port and dropped
                declared = found[place] = _Declared()
            declared.add(port)
    return found


def side_of(port: Port, view: View) -> str:
    """The side a reference reaches (see the module's docstring)."""
    obs = port.obs
    if obs.side != UNKNOWN or obs.owner is None or not is_host_machine(obs.host):
        return obs.side
    owner = view.key(obs.owner)
    if owner != port.key:
        return PUBLISHED
    words = set(variable_words(obs.variable or ""))
    return PUBLISHED if words & PUBLIC_WORDS else UNKNOWN


def _numbers(places: dict[int, list[Location]]) -> str:
    return ", ".join(str(n) for n in sorted(places))


@rule("PP216", "unreachable-port", Level.ERROR, "a URL reaches a port its target does not have")
def unreachable_port(view: View) -> Iterator[Finding]:
    """A URL or `host:port` reaches a service on a port that service does not have on that
    side: a name on the container network on a port it does not listen on (its host port,
    say), a host-machine URL on a port it does not publish (its container port, say). Both
    places are named. A target that declares no port is not checked.

    PASS: web: API_URL=http://api:9000; api: ports ["8080:9000"]
    FAIL: web: API_URL=http://api:8080; api: ports ["8080:9000"] (8080 is only its host port)
    FAIL: README/.env: APP_HOSTNAME=http://localhost:1337; app: ports ["1377:1337"]
    """
    yield from _documented_addresses(view)
    declared = view.memo("declared-ports", declared_ports)
    for port in view.ports:
        if not port.obs.reference or port.kind == "plan":
            continue
        ports = declared.get((view.system(port.obs.location), port.key))
        if ports is None or not ports.any():
            continue
        side = side_of(port, view)
        if side == LOCAL and port.kind == "code":
            continue  # an app setting of a program run on the host: PP213 compares them
        if side != CONTAINER and _published_by_another(view, port, declared):
            continue
        if through_another(view, port):
            continue
        finding = _check(view, port, side, ports)
        if finding is not None:
            yield finding


def _documented_addresses(view: View) -> Iterator[Finding]:
    """A document's host-machine address after `docker compose up` (`SourceResult.addresses`,
    published side) on a port no compose file of its folder publishes, while one of them
    maps that container port to another host port: the document used the container port."""
    for result in view.results:
        by_number: dict[int, list[PortObservation]] = {}
        for obs in result.addresses:
            if obs.side == PUBLISHED:
                by_number.setdefault(obs.number, []).append(obs)
        if not by_number:
            continue
        mappings = _nearest_mappings(view, os.path.dirname(result.file))
        published = {port.obs.number for port in mappings}
        shown = {obs.number for obs in result.ports if obs.published}
        for number, said in sorted(by_number.items()):
            behind = [p for p in mappings if p.obs.target == number and p.obs.number != number]
            if number in published:
                continue
            if behind:
                yield _container_port_finding(view, said, behind)
            elif number not in shown:  # else PP201 holds the document's own mapping
                yield from _unpublished_finding(view, said, mappings)


# Container ports of databases, brokers and caches: never the address a reader opens.
_NOT_WEB: Final = frozenset(
    {22, 25, 53, 587, 1433, 1521, 1883, 2181, 3306, 4222, 5432, 5671, 5672, 6222, 6379, 7687,
     9042, 9092, 9093, 9300, 11211, 26257, 27017}
)  # fmt: skip


def _unpublished_finding(
    view: View, said: list[PortObservation], mappings: list[Port]
) -> Iterator[Finding]:
    """A document's address after `docker compose up` on a port that the compose files of
    its folder neither publish nor map: when they publish one port a reader would open (no
    database's or broker's), or several of which one service's name says it is the user
    interface (`client`, `webapp`, `frontend`), the document means that one (an error
    naming its service); else an info listing them."""
    web = [p for p in mappings if (p.obs.target or p.obs.number) not in _NOT_WEB]
    numbers = sorted({p.obs.number for p in web})
    if not numbers:
        return
    first = said[0]
    shown = ", ".join(
        f"{n} ({'/'.join(sorted({view.show(p.key) for p in web if p.obs.number == n}))}, "
        f"{_line_of(next(p for p in web if p.obs.number == n))})"
        for n in numbers
    )
    what = f"{first.host}:{first.number}" if first.host else f"port {first.number}"
    message = (
        f"{what} after `docker compose up`: no compose file here publishes "
        f"{first.number}; they publish {shown}"
    )
    places = [o.location for o in said[:3]]
    faces = {
        p.key for p in web if _UI_WORDS & set(re.split(r"[^a-z0-9]+", view.show(p.key).lower()))
    }
    if len(numbers) > 1 and len(faces) != 1:  # which one the document means cannot be told
        yield unreachable_port.finding(message, places, Level.INFO, port=first.number)
        return
    # its one port, or of several its one user interface (`client`, `webapp`): the one a
    # reader opens
    if len(numbers) == 1:
        only = next(p for p in web if p.obs.number == numbers[0])
    else:
        only = next(p for p in web if p.key in faces)
    yield unreachable_port.finding(
        message, [*places, only.obs.location], Level.ERROR, service=only.key, port=first.number
    )


# Names of the service a reader opens in a browser, among several published ones.
_UI_WORDS: Final = frozenset(
    {"web", "webapp", "webui", "frontend", "front", "client", "ui", "www", "site", "portal"}
)


def _line_of(port: Port) -> str:
    return f"{os.path.basename(port.file)}:{port.obs.location.line}"


def _nearest_mappings(view: View, folder: str) -> list[Port]:
    """The published mappings of the compose project a document's `docker compose up` runs:
    its folder's, else the nearest folder's above it (`src/client/README.md` of `src/`),
    else the one folder below it that has some (`GettingStarted.md`, then `cd src`)."""
    here = folder
    while True:
        found = _folder_mappings(view, here)
        parent = os.path.dirname(here)
        if found or parent == here:
            break
        here = parent
    if found:
        return found
    below = {
        os.path.dirname(p.file)
        for p in view.ports
        if p.kind == "compose" and p.obs.published and _inside(os.path.dirname(p.file), folder)
    }
    return _folder_mappings(view, below.pop()) if len(below) == 1 else []


def _inside(inner: str, folder: str) -> bool:
    prefix = folder.rstrip(os.sep) + os.sep if folder not in ("", os.curdir) else ""
    return inner.startswith(prefix) if prefix else not os.path.isabs(inner)


def _folder_mappings(view: View, folder: str) -> list[Port]:
    """The published mappings of the compose files in `folder`."""
    return [
        port
        for port in view.ports
        if port.kind == "compose"
        and port.obs.source == "compose"
        and port.obs.published
        and os.path.dirname(port.file) == folder
    ]


def _container_port_finding(view: View, said: list[PortObservation], behind: list[Port]) -> Finding:
    first = said[0]
    number = first.number
    shown = ", ".join(
        f"{p.obs.number} ({view.show(p.key)}, {os.path.basename(p.file)}:{p.obs.location.line})"
        for p in sorted(behind, key=lambda p: (p.obs.number, p.key))
    )
    whose = view.show(behind[0].key) if len({p.key for p in behind}) == 1 else None
    what = f"{whose}'s container port" if whose else "a container port"
    message = (
        f"{first.host}:{number} after `docker compose up` is {what}: no compose file here "
        f"publishes {number}; {number} is published as {shown}"
    )
    places = [o.location for o in said[:3]] + [p.obs.location for p in behind]
    return unreachable_port.finding(
        message, places, Level.ERROR, service=behind[0].key, port=number
    )


def _published_by_another(
    view: View, port: Port, declared: dict[tuple[int, str], _Declared]
) -> bool:
    """Whether a host-machine URL whose target only its variable's leading words name
    (`MarketingUrl` -> marketing-api) reaches a port another service of the system
    publishes (webmarketingapigw's 5203): that one is what it reaches. A target the
    variable names in full (`VOTINGSVC_HOST` -> voting-svc) stays its target."""
    obs = port.obs
    if _names_in_full(view, obs.service, port.key):
        return False
    system = view.system(obs.location)
    return any(
        obs.number in ports.published
        for (other_system, key), ports in declared.items()
        if other_system == system and key != port.key
    )


def through_another(view: View, port: Port) -> bool:
    """Whether a host-machine URL in a service's own environment is an address through
    another service: a port it does not declare, that one other service of the system
    publishes, and that service proxies to it (a gateway's `9000:80` whose nginx passes to
    the frontend, for the frontend's `BOARD_URL=http://localhost:9000`) or the variable
    names it (`CONSOLE_SQL_ADVERTISED_URL=http://localhost:8088`, the SQL engine's
    `8088:8088`): the browser reaches that other service. The port of an unrelated service
    (`API_URL=http://localhost:5555`, another tool's 5555) is still the owner's drift."""
    obs = port.obs
    if not obs.reference or obs.owner is None or not is_host_machine(obs.host):
        return False
    if view.key(obs.owner) != port.key:
        return False
    own = view.memo("declared-ports", declared_ports).get((view.system(obs.location), port.key))
    if own is not None and own.declares(obs.number):
        return False
    others = _publishers(view, port)
    if len(others) == 1:
        (other,) = others
        return _named(view, obs, other) or other in view.memo("proxies", _proxies).get(
            port.key, set()
        )
    # several publish it (services of other profiles, an all-in-one copy): the one the
    # variable names (`VITE_ADMIN_URL`, sh-admin's and the all-in-one's 3100)
    return any(_named(view, obs, other) for other in others)


def _named(view: View, obs: PortObservation, other: str) -> bool:
    """Whether a word of the variable of `obs` is a word of service `other`'s name."""
    words = {word.rstrip("0123456789") for word in variable_words(obs.variable or "")}
    return bool(words & set(re.split(r"[^a-z0-9]+", view.show(other).lower())) - {""})


def _proxies(view: View) -> dict[str, set[str]]:
    """Service key -> the keys of the services whose own configuration reaches it by its
    name (a gateway's `proxy_pass http://board-front/`)."""
    found: dict[str, set[str]] = {}
    for port in view.ports:
        owner = view.key(port.obs.owner) if port.obs.reference and port.obs.owner else None
        if owner is not None and owner != port.key and not is_host_machine(port.obs.host):
            found.setdefault(port.key, set()).add(owner)
    return found


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _publisher(view: View, port: Port) -> str | None:
    """The one other service of the system that publishes the number `port` uses."""
    found = _publishers(view, port)
    return next(iter(found)) if len(found) == 1 else None


def _publishers(view: View, port: Port) -> set[str]:
    """The other services of the system that publish the number `port` uses."""
    declared = view.memo("declared-ports", declared_ports)
    system = view.system(port.obs.location)
    return {
        key
        for (other_system, key), ports in declared.items()
        if other_system == system and key != port.key and port.obs.number in ports.published
    }


def _reached_by_others(view: View, port: Port, ports: _Declared) -> bool:
    """Whether another service reaches `port`'s service on a container port it declares
    (nginx's `django:8000` beside `EXPOSE 8000`): then that is where it listens."""
    system = view.system(port.obs.location)
    return any(
        other.key == port.key
        and other.obs.reference
        and other.obs.owner is not None
        and view.key(other.obs.owner) not in (None, port.key)
        and other.obs.number in ports.container
        and view.system(other.obs.location) == system
        for other in view.ports
    )


def _names_in_full(view: View, given: str, key: str) -> bool:
    wanted = {normalize_name(view.show(key))}
    wanted |= {strip_suffix(name) for name in wanted}
    mine = normalize_name(given)
    return mine in wanted or strip_suffix(mine) in wanted


def _check(view: View, port: Port, side: str, ports: _Declared) -> Finding | None:
    obs, name = port.obs, view.show(port.key)
    number, what = obs.number, _what(obs)
    if side == CONTAINER:
        if number in ports.container:
            return None
        if number in ports.published:
            message = (
                f"{what} reaches {name} on {number}, its host port; on the container network "
                f"{name} listens on {_numbers(ports.container)}"
            )
            return _finding(port, message, ports.published[number])
        # compose lists the ports it maps, not every port a program listens on; a
        # healthcheck of the service itself should call one it is known to have
        own = obs.owner is not None and view.key(obs.owner) == port.key
        if ports.complete and obs.source == "kubernetes":  # in the cluster, to a Service
            level = Level.ERROR
        elif own and is_host_machine(obs.host):
            # its own healthcheck misses the port another service reaches it on: an error
            level = Level.ERROR if _reached_by_others(view, port, ports) else Level.WARNING
        else:
            level = Level.INFO
        found = _missing(port, what, name, "listens on", ports.container, level)
        other = _publisher(view, port)
        if found is None or other is None or other == view.key(obs.owner or ""):
            # a balancer passing on the port it publishes itself (nginx `listen 1514`,
            # `server wazuh.master:1514`) took no host port for a container port
            return found
        message = f"{found.message} ({number} is {_possessive(view.show(other))} host port)"
        return _finding(port, message, list(found.locations[1:]), Level.ERROR)
    if side == PUBLISHED:
        if number in ports.published:
            return None
        if number in ports.container and ports.published:
            shown = _numbers(ports.published)
            message = (
                f"{what} reaches {name} from the host on {number}, its container port; "
                f"{name} publishes {shown}"
            )
            return _finding(port, message, ports.container[number])
        return _missing(port, what, name, "publishes", ports.published, Level.ERROR)
    if number in ports.published or number in ports.container:
        return None
    every = {**ports.container, **ports.published}
    found = _missing(port, what, name, "has", every, Level.ERROR)
    other = _publisher(view, port)
    if found is None or other is None:
        return found
    message = f"{found.message} ({number} is {_possessive(view.show(other))} host port)"
    return _finding(port, message, list(found.locations[1:]), Level.ERROR)


def _what(obs: PortObservation) -> str:
    host = obs.host or obs.service
    where = f"{obs.variable} ({host}:{obs.number})" if obs.variable else f"{host}:{obs.number}"
    owner = f"{obs.owner}: " if obs.owner else ""
    return f"{owner}{where}"


def _missing(
    port: Port,
    what: str,
    name: str,
    verb: str,
    places: dict[int, list[Location]],
    level: Level,
) -> Finding | None:
    if not places:
        return None
    message = f"{what} reaches {name} on {port.obs.number}, but {name} {verb} {_numbers(places)}"
    return _finding(port, message, [at for ats in places.values() for at in ats], level)


def _finding(
    port: Port, message: str, others: list[Location], level: Level | None = None
) -> Finding:
    places = [port.obs.location, *sorted(set(others))[:3]]
    return unreachable_port.finding(message, places, level, service=port.key, port=port.obs.number)


@rule("PP217", "unknown-host", Level.WARNING, "a URL reaches a host no source defines")
def unknown_host(view: View) -> Iterator[Finding]:
    """A service of a compose project reaches a host by a name (one label, or a private
    domain) that no source defines as a service: nothing answers there any more. A `.env`
    file or a Kubernetes manifest alone may reach what another repository defines: only
    compose projects (and the files their services read) are held to this.

    PASS: prometheus.yml alerting target alertmanager:9093; compose defines alertmanager
    FAIL: prometheus.yml alerting target alertmanager:9093; no source defines alertmanager
    """
    defined = view.memo("defined-services", _defined)
    seen: set[tuple[str, str]] = set()
    for result in view.results:
        if result.kind in UNBOUNDED:
            continue
        for obs in result.ports:
            if not _unknown_target(view, obs, defined):
                continue
            mark = (obs.owner or "", obs.host or "")
            if mark in seen:
                continue
            seen.add(mark)
            yield unknown_host.finding(
                f"{obs.owner}: {_what(obs).split(': ', 1)[-1]} reaches {obs.host}, "
                "which no source defines",
                [obs.location],
                service=obs.owner,
                host=obs.host,
            )


def _unknown_target(view: View, obs: PortObservation, defined: set[str]) -> bool:
    host = obs.host
    if not obs.reference or obs.owner is None or host is None or is_host_machine(host):
        return False
    if is_external_host(host) or view.key(obs.owner) not in defined:
        return False
    named = host_service(host)
    if named is None or normalize_name(named) in defined or view.key(obs.service) in defined:
        return False
    return view.key(named) not in defined


def _defined(view: View) -> set[str]:
    """The keys of the services some source defines or whose own configuration states a
    port, and every name and alias a source defines (normalized)."""
    found = {port.key for port in view.ports if not port.obs.reference}
    for result in view.results:
        for service in result.services:
            key = view.key(service.service)
            if key is not None:
                found.add(key)
            found.update(normalize_name(name) for name in (service.service, *service.aliases))
    return found


# Variables that state the complete set of addresses a program listens on.
_LISTENER: Final = re.compile(
    r"(?:^|_)(?:LISTENERS|LISTEN|LISTEN_ADDR|LISTEN_ADDRESS|BIND|BIND_ADDR|BIND_ADDRESS)$|"
    r"^ASPNETCORE_URLS$",
    re.IGNORECASE,
)


@rule("PP219", "not-listening", Level.ERROR, "a port is mapped that its service does not listen on")
def not_listening(view: View) -> Iterator[Finding]:
    """A compose file maps (or exposes) a container port that its service does not listen
    on, when the service's environment states where it listens (`*_LISTENERS`,
    `*_LISTEN`, `*_BIND`, `ASPNETCORE_URLS`): with its other port settings (`*_PORT`,
    `JMX_PORT`), that is the complete set; or, for a service compose builds, when the
    Dockerfile it builds exposes ports of the mapping's protocol but not that one and nothing
    else says it listens there.

    PASS: schema-registry: ports ["8081:8081"]; SCHEMA_REGISTRY_LISTENERS=http://0.0.0.0:8081
    FAIL: schema-registry: ports ["8181:8181"]; SCHEMA_REGISTRY_LISTENERS=http://0.0.0.0:8081
    """
    listening, listeners = _listening(view)
    for port in view.ports:
        obs = port.obs
        if port.kind != "compose" or obs.source != "compose" or obs.reference or obs.variable:
            continue
        place = (view.system(obs.location), port.key)
        heard = listening.get(place)
        number = obs.target if obs.published and obs.target is not None else obs.number
        if heard is None or number in heard or (obs.random_host and number in heard):
            continue
        said = listeners[place]
        shown = ", ".join(str(n) for n in sorted(heard))
        variable = said[0].variable or ""
        where = f"{os.path.basename(said[0].location.file)}:{said[0].location.line}"
        mapping = f"{obs.number}:{number}" if obs.published else str(number)
        yield not_listening.finding(
            f"{view.show(port.key)} maps {mapping} but listens only on {shown} "
            f"({variable}, {where})",
            [obs.location, *(o.location for o in said[:2])],
            service=port.key,
            port=number,
        )
    yield from _unexposed(view)


def commanded_ports(view: View) -> dict[str, set[int]]:
    """Service key -> the ports its compose `command:`/`entrypoint:` starts it on
    (`gunicorn -b 0.0.0.0:8000`): where it listens, whatever its image's `EXPOSE` says."""
    found: dict[str, set[int]] = {}
    for result in view.results:
        if result.kind != "image":
            continue
        for port in result.ports:
            key = view.key(port.service)
            if port.source == "compose" and not port.reference and key is not None:
                found.setdefault(key, set()).add(port.number)
    return found


# Kinds of files in which a service says where it listens, besides its environment.
_LISTENING_KINDS: Final = frozenset({"nginx", "caddy", "envoy", "haproxy", "code", "image"})


def _unexposed(view: View) -> Iterator[Finding]:
    """A compose mapping of a service it builds (`build: ./traps/ubuntu`, no `command:`) to
    a container port that the Dockerfile it builds does not `EXPOSE`, while that Dockerfile
    exposes a port of the mapping's protocol that no mapping of the file reaches but another
    compose file of the service maps (the alternatives disagree on the container port; the
    image says which is right), and nothing else says the service listens there (a port
    setting of its environment, its own server configuration or code):
    `traps maps 162:162/udp but its image exposes only 1162/udp`."""
    built: dict[tuple[str, str], str] = {}  # (compose file, service key) -> its Dockerfile
    for result in view.results:
        for service in result.services:
            key = view.key(service.service)
            # a command line may start it on any port
            if result.kind == "compose" and service.build and not service.command and key:
                built[(result.file, key)] = os.path.normpath(service.build)
    mapped: dict[tuple[str, str], set[int]] = {}  # (compose file, key) -> container ports
    for port in view.ports:
        obs = port.obs
        if port.kind == "compose" and obs.source == "compose" and not obs.reference:
            target = obs.target if obs.published and obs.target is not None else obs.number
            mapped.setdefault((port.file, port.key), set()).add(target)
    exposed: dict[str, dict[str, dict[int, Location]]] = {}  # Dockerfile -> protocol -> port
    heard: dict[str, set[int]] = {}
    for key, numbers in view.memo("commanded-ports", commanded_ports).items():
        heard.setdefault(key, set()).update(numbers)
    for port in view.ports:
        obs = port.obs
        if port.kind == "dockerfile" and not obs.reference:
            found = exposed.setdefault(os.path.normpath(port.file), {})
            found.setdefault(obs.protocol, {}).setdefault(obs.number, obs.location)
        elif not obs.reference and (obs.variable or port.kind in _LISTENING_KINDS):
            heard.setdefault(port.key, set()).add(obs.number)
    for port in view.ports:
        obs = port.obs
        dockerfile = built.get((port.file, port.key))
        if dockerfile is None or obs.source != "compose" or obs.reference or obs.variable:
            continue
        if obs.published is None:
            continue
        number = obs.target if obs.published and obs.target is not None else obs.number
        image = exposed.get(dockerfile, {}).get(obs.protocol)
        if not image or number in image or number in heard.get(port.key, set()):
            continue
        if set(image) <= mapped[(port.file, port.key)]:
            continue  # it maps every port the image exposes: this one is one more (a debugger's)
        others = {
            n for (f, k), ns in mapped.items() if k == port.key and f != port.file for n in ns
        }
        if not others & set(image):
            continue  # no other compose file maps the exposed one: PP201 compares the two
        shown = ", ".join(f"{n}/{obs.protocol}" for n in sorted(image))
        suffix = "" if obs.protocol == "tcp" else f"/{obs.protocol}"
        mapping = f"{obs.number}:{number}{suffix}" if obs.published else f"{number}{suffix}"
        first = min(image.values())
        yield not_listening.finding(
            f"{view.show(port.key)} maps {mapping} but the image it builds exposes only "
            f"{shown} ({os.path.basename(first.file)}:{first.line})",
            [obs.location, first],
            service=port.key,
            port=number,
        )


def _listening(
    view: View,
) -> tuple[dict[tuple[int, str], set[int]], dict[tuple[int, str], list[PortObservation]]]:
    """(system, service key) -> the ports its environment says it listens on, and the
    listener settings that say so, for the services that state a listener setting."""
    numbers: dict[tuple[int, str], set[int]] = {}
    listeners: dict[tuple[int, str], list[PortObservation]] = {}
    for port in view.ports:
        obs = port.obs
        if obs.reference or not obs.variable or port.kind == "markdown" or port.kind == "plan":
            continue
        place = (view.system(obs.location), port.key)
        numbers.setdefault(place, set()).add(obs.number)
        if _LISTENER.search(obs.variable):
            listeners.setdefault(place, []).append(obs)
    for result in view.results:  # a sidecar on a service's network listens there too
        for service in result.services:
            host = view.key(service.network_of) if service.network_of else None
            for place in [p for p in listeners if p[1] == host]:
                del listeners[place]
    return {place: numbers[place] for place in listeners}, listeners
