"""Matching service names across sources: "Token Engine", "token-engine", `TOKEN_ENGINE`.

Names are compared by `normalize_name`; a few infrastructure synonyms (postgresql ->
postgres) and suffixes ("service", "server") are folded; aliases come from the plan and
from the sources themselves. Against a plan, two rules follow from how sources name things:
an environment-variable prefix (ELASTICSEARCH_TRANSPORT of ELASTICSEARCH_TRANSPORT_PORT)
names the plan service its longest leading words spell, and a product named after a URL
scheme (postgres) is the plan's only service with a port of that kind. A name matched only
by similarity, or not at all, is recorded so that reconcile reports it: nothing is guessed
silently.

A host a source read from an URL or `host:port` is matched by the service it names
(`portplan.names.host_service`): `payments.default.svc.cluster.local`, `payments.default`
and `payments.backend` (a compose network) are `payments`. The host machine
(`host.docker.internal`) is no service, and a public DNS name (`api.stripe.com`) is an
external endpoint, recorded apart: neither is a service nor a dependency, unless the plan
or a source's service bears that very name. Without a plan, a name only a diagram's edges
give, stating no port and matching nothing else (`Stripe[Stripe API]`), is recorded apart
too, not made a service other sources are held to.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Final

from portplan.model import Location, Topology, normalize_name
from portplan.names import (
    SCHEME_SERVICES,
    URL,
    host_service,
    is_host_machine,
    parse_url,
    url_service,
    variable_prefix,
)
from portplan.sources.base import SourceResult, VariableObservation
from portplan.sources.markdown.env import port_owner
from portplan.sources.markdown.mermaid import VIA as DIAGRAM_EDGE

SYNONYMS: Final = {"postgresql": "postgres", "pg": "postgres", "rabbit": "rabbitmq"}
SUFFIXES: Final = ("service", "server", "svc")
MIN_PREFIX: Final = 6
SIMILAR_TAILS: Final = frozenset({"ing", "s", "es", "enhancement"})
SIMILAR_HEADS: Final = frozenset({"server", "client"})

_Find = Callable[[str], str]
_Union = Callable[[str, str], None]


_BASE_KEYS: dict[str, str] = {}  # name -> base key: the same names are asked for again and
_BASE_KEYS_MAX: Final = 1 << 16  # again (as `normalize_name` remembers); emptied when full


def base_key(name: str) -> str:
    found = _BASE_KEYS.get(name)
    if found is None:
        key = normalize_name(name)
        found = SYNONYMS.get(key, key)
        if len(_BASE_KEYS) >= _BASE_KEYS_MAX:
            _BASE_KEYS.clear()
        _BASE_KEYS[name] = found
    return found


def port_key(name: str) -> str:
    """The key port names compare by: `http-2`, `http_2`, `HTTP 2` and `http2` are one
    name (letter case and separators aside); `https` stays apart from `http`."""
    return normalize_name(name)


def strip_suffix(key: str) -> str:
    for suffix in SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix) + 2:
            return key[: -len(suffix)]
    return key


@dataclass
class Names:
    """Canonical service keys for every name the sources use."""

    topology: Topology | None
    canonical: dict[str, str] = field(default_factory=dict)  # base key -> canonical key
    display: dict[str, str] = field(default_factory=dict)  # canonical key -> shown name
    similar: dict[str, tuple[str, Location]] = field(default_factory=dict)  # name -> (name, at)
    unknown: dict[str, list[Location]] = field(default_factory=dict)  # shown name -> where
    ambiguous: dict[str, tuple[list[str], Location]] = field(default_factory=dict)
    hosts: dict[str, str | None] = field(default_factory=dict)  # host -> name (None: no service)
    external: dict[str, list[Location]] = field(default_factory=dict)  # public DNS name -> where
    diagram_only: dict[str, list[Location]] = field(default_factory=dict)  # shown name -> where
    read: _Read | None = field(default=None, repr=False, compare=False)  # what they came from

    def key(self, name: str) -> str | None:
        """The canonical key of `name`, or None when it matches no service."""
        if name in self.hosts:
            found = self.hosts[name]
            if found is None:
                return None
            name = found
        return self.canonical.get(base_key(name))

    def show(self, key: str) -> str:
        return self.display.get(key, key)


@dataclass(frozen=True)
class _Read:
    """What the names are matched from, read from the sources alone (the same with a plan
    or without, but for a host name the plan holds: see `_read_again`)."""

    results: list[SourceResult]
    topology: Topology | None  # hosts are told from the plan's names (`_Hosts`)
    found: _Spelled
    hosts: dict[str, str | None]
    external: dict[str, list[Location]]
    aliases: dict[str, str]
    products: dict[str, str]
    prefixes: dict[str, set[str]]


def _read(results: list[SourceResult], topology: Topology | None) -> _Read:
    names = Names(topology)
    found = _spellings(results, _Hosts(names, results))
    external = {name: sorted(set(locations)) for name, locations in names.external.items()}
    aliases = _source_aliases(results) | _same_image(results)
    products, prefixes = _url_products(results), _prefix_products(results)
    return _Read(results, topology, found, names.hosts, external, aliases, products, prefixes)


def _read_again(
    earlier: Names | None, results: list[SourceResult], topology: Topology | None
) -> _Read | None:
    """What `earlier` was read from, when `results` are the very same observations and
    the plan holds none of the names read as hosts: `portplan import` matches the names of
    the sources twice, without a plan and then against the plan it voted."""
    read = earlier.read if earlier is not None else None
    if read is None or len(read.results) != len(results):
        return None
    if any(a is not b for a, b in zip(read.results, results, strict=True)):
        return None
    if read.topology is topology:
        return read
    if read.topology is not None or topology is None:
        return None
    # read without a plan: a name read as a host that the plan holds is no host against it
    return None if any(topology.resolve(host) for host in read.hosts) else read


def build_names(
    results: Iterable[SourceResult], topology: Topology | None, earlier: Names | None = None
) -> Names:
    """The names of `results` (against `topology` when given); `earlier`, names built from
    the same results, lends what it read of them (`_read_again`)."""
    results = list(results)
    read = _read_again(earlier, results, topology) or _read(results, topology)
    names = Names(topology, hosts=dict(read.hosts), external=dict(read.external), read=read)
    # copies: matching names without a plan adds and drops keys of these
    found = replace(read.found, spelled=dict(read.found.spelled), where=dict(read.found.where))
    spelled, where, drawn = found.spelled, found.where, found.drawn
    aliases, products, prefixes = dict(read.aliases), read.products, read.prefixes
    if topology is not None:
        _against_plan(names, topology, spelled, where, aliases, (products, prefixes))
    else:
        aliases |= _host_machine_targets(found, _reference_owners(results))
        aliases |= _to_products(spelled, where, products)
        aliases |= _to_prefixes(spelled, prefixes)
        aliases |= _to_port_owners(spelled, _port_names(results))
        aliases |= _to_publishers(spelled, results)
        aliases |= _to_only_listeners(spelled, results, aliases)
        aliases |= _to_short_names(spelled, aliases)
        _among_sources(names, spelled, where, aliases, drawn, _defining_files(results))
    return names


_DEFINED: Final = 1000  # the weight of a service's definition against one mention
_MENTIONED: Final = 1
_DRAWN: Final = 0  # a mention by a diagram's edge
_BY_HOST_MACHINE: Final = -1  # a reference on the host machine, named after its variable


def _named(results: list[SourceResult]) -> Iterator[tuple[str, Location, int]]:
    """Every name the observations give, where, and how (`_DEFINED`, `_MENTIONED`,
    `_DRAWN`)."""
    for result in results:
        for service in result.services:
            yield service.service, service.location, _DEFINED
        for port in result.ports:
            weak = port.reference and is_host_machine(port.host)
            yield port.service, port.location, _BY_HOST_MACHINE if weak else _MENTIONED
        for dep in result.dependencies:
            how = _DRAWN if dep.via == DIAGRAM_EDGE else _MENTIONED
            yield dep.service, dep.location, how
            yield dep.target, dep.location, how
        for variable in result.variables:
            if variable.service:
                yield variable.service, variable.location, _MENTIONED


_LABEL: Final = r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?"
_HOST: Final = re.compile(_LABEL + r"(?:\." + _LABEL + r")+")  # lower case, as URLs give hosts


class _Hosts:
    """Fills `names.hosts` with the names a source gives that neither the plan nor a
    source's service bears and that are hosts: the host machine's (localhost in any letter
    case, an IP address, host.docker.internal) -> None; a dotted lower-case host name ->
    the service it names, or None for an external endpoint, which `names.external`
    records."""

    def __init__(self, names: Names, results: list[SourceResult]) -> None:
        self.names = names
        self.defined: set[str] = set()
        self.networks: set[str] = set()
        for result in results:
            for service in result.services:
                self.defined.update((service.service, *service.aliases))
                self.networks.update(network.lower() for network in service.networks)
        self.seen: set[str] = set()

    def name(self, given: str, location: Location) -> str | None:
        """The name `given` stands for (None: no service's)."""
        hosts, external = self.names.hosts, self.names.external
        if given in self.seen:
            if given in external:
                external[given].append(location)
            return hosts.get(given, given)
        self.seen.add(given)
        topology = self.names.topology
        if given in self.defined or (topology is not None and topology.resolve(given)):
            return given
        if is_host_machine(given):
            hosts[given] = None
        elif "." in given and _HOST.fullmatch(given):
            hosts[given] = _host_name(given, self.networks)
            if hosts[given] is None:
                external[given] = [location]
        return hosts.get(given, given)


def _host_name(host: str, networks: set[str]) -> str | None:
    """The name a host stands for (`host_service`), also `payments.app` on the compose
    network `app`; None for an external endpoint."""
    found = host_service(host)
    if found is None:
        first, _, network = host.partition(".")
        return first if network in networks else None
    return found


@dataclass
class _Spelled:
    """Base key -> its spellings (weighted: a service's definition above a mention), where
    each is given, the keys only a diagram's edges give, and the keys only references on
    the host machine give (`localhost:5202` in `PurchaseUrl`: a variable, not a service)."""

    spelled: dict[str, Counter[str]]
    where: dict[str, list[Location]]
    drawn: set[str]
    by_host_machine: set[str]


def _spellings(results: list[SourceResult], hosts: _Hosts) -> _Spelled:
    """The names the sources give (`_Spelled`); hosts by what they name."""
    spelled: dict[str, Counter[str]] = {}
    where: dict[str, list[Location]] = {}
    stated: set[str] = set()
    strong: set[str] = set()
    for given, location, how in _named(results):
        name = hosts.name(given, location)
        key = base_key(name) if name is not None else ""
        if name is None or not key:
            continue
        counts = spelled.get(key)
        if counts is None:
            counts = spelled[key] = Counter()
        counts[name] = counts.get(name, 0) + max(how, _MENTIONED)  # no __missing__ call
        where.setdefault(key, []).append(location)
        if how != _DRAWN:
            stated.add(key)
        if how != _BY_HOST_MACHINE:
            strong.add(key)
    return _Spelled(spelled, where, set(spelled) - stated, set(spelled) - strong)


def _host_machine_targets(found: _Spelled, owners: dict[str, set[str]]) -> dict[str, str]:
    """Without a plan, a name only references on the host machine give (`PurchaseUrl`,
    `CSMM_HOSTNAME`: the variable's leading words) names a service other sources give when
    exactly one of those starts with its words (IDENTITY -> identity-api), else the one of
    them that makes the references (csmm-web's own `CSMM_HOSTNAME`); otherwise it is no
    service at all and is dropped: a variable never becomes a service."""
    aliases: dict[str, str] = {}
    strong = [key for key in found.spelled if key not in found.by_host_machine]
    for weak in sorted(found.by_host_machine):
        candidates = {key for key in strong if key.startswith(weak) and len(weak) >= 3}
        if len(candidates) > 1:
            candidates &= owners.get(weak, set())
        if len(candidates) == 1:
            aliases[weak] = candidates.pop()
        else:
            del found.spelled[weak]
            del found.where[weak]
    return aliases


def _reference_owners(results: list[SourceResult]) -> dict[str, set[str]]:
    """Key of a name references on the host machine give -> keys of the services that make
    them."""
    found: dict[str, set[str]] = {}
    for result in results:
        for port in result.ports:
            if port.reference and port.owner and is_host_machine(port.host):
                found.setdefault(base_key(port.service), set()).add(base_key(port.owner))
    return found


def _source_aliases(results: list[SourceResult]) -> dict[str, str]:
    """alias key -> key of the name the source gave it (renames: "Data Bridge" -> data-bridge)."""
    found: dict[str, str] = {}
    for result in results:
        for service in result.services:
            for alias in service.aliases:
                found.setdefault(base_key(alias), base_key(service.service))
    return found


# Images a service is built on or runs beside rather than is: base images of language
# runtimes and web servers, and sidecars (every Dapr app runs `daprio/daprd`).
_GENERIC_IMAGES: Final = frozenset(
    {"alpine", "busybox", "debian", "ubuntu", "centos", "fedora", "nginx", "httpd", "python",
     "node", "openjdk", "eclipse-temurin", "amazoncorretto", "golang", "ruby", "php", "perl",
     "rust", "dotnet/aspnet", "dotnet/runtime", "dotnet/sdk", "daprio/daprd", "daprd"}
)  # fmt: skip
_DEPLOYMENTS: Final = frozenset({"compose", "kubernetes"})


@lru_cache(maxsize=1 << 16)  # each image is asked for again by every view of one run
def image_repository(image: str) -> str | None:
    """The repository of an image reference without registry, tag or digest
    (`docker.io/library/redis:7` -> `redis`), None for an image given by a variable."""
    if "$" in image or "{" in image:
        return None
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)
    if ":" in last[-1]:
        name = name.rsplit(":", 1)[0]
    parts = name.lower().split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]  # a registry host
    if parts and parts[0] == "library":
        parts = parts[1:]
    return "/".join(parts) or None


def _same_image(results: list[SourceResult]) -> dict[str, str]:
    """alias key -> key: a compose service and a Kubernetes workload that run one image
    (`maildev` and `mailserver`, both `maildev/maildev`) are two descriptions of one
    deployment's service, whatever their names. Only when the image is the one service of
    that image on each side (two `postgres` services are two databases) and not a generic
    base or sidecar image (`_GENERIC_IMAGES`)."""
    sides: dict[tuple[str, str], set[str]] = {}
    for result in results:
        if result.kind not in _DEPLOYMENTS:
            continue
        for service in result.services:
            repository = image_repository(service.image) if service.image else None
            if repository is None or repository in _GENERIC_IMAGES:
                continue
            if repository.rsplit("/", 1)[-1] in _GENERIC_IMAGES:
                continue
            sides.setdefault((repository, result.kind), set()).add(base_key(service.service))
    found: dict[str, str] = {}
    for (repository, kind), keys in sides.items():
        others = sides.get((repository, "kubernetes"), set())
        if kind != "compose" or len(keys) != 1 or len(others) != 1 or keys == others:
            continue
        found[next(iter(keys))] = next(iter(others))
    return found


def _against_plan(
    names: Names,
    topology: Topology,
    spelled: dict[str, Counter[str]],
    where: dict[str, list[Location]],
    aliases: dict[str, str],
    named: tuple[dict[str, str], dict[str, set[str]]],
) -> None:
    products, prefixes = named
    for service in topology.services.values():
        names.canonical[base_key(service.name)] = service.name
        names.display[service.name] = service.name
        for alias in service.aliases:
            names.canonical.setdefault(base_key(alias), service.name)
    planned = dict(names.canonical)
    for key in sorted(spelled):
        if key in names.canonical:
            continue
        found = _plan_service(topology, key, spelled[key], aliases)
        if found is None:
            found = variable_service(spelled[key], planned) or kind_service(key, topology)
        if found is None and key in products:
            product = products[key]
            found = planned.get(product) or kind_service(product, topology)
        if found is None:
            found = _only({planned.get(raw) for raw in prefixes.get(key, ())})
        if found is not None:
            names.canonical[key] = found
        else:
            names.unknown[_shown(spelled[key])] = sorted(set(where[key]))


def _plan_service(
    topology: Topology, key: str, spellings: Counter[str], aliases: dict[str, str]
) -> str | None:
    for candidate in (key, strip_suffix(key), aliases.get(key, "")):
        service = topology.resolve(candidate) if candidate else None
        if service is not None:
            return service.name
    for name in spellings:
        service = topology.resolve(name)
        if service is not None:
            return service.name
    return None


def _products() -> dict[str, frozenset[str]]:
    """The services readers name after a URL scheme (postgresql:// -> postgres), each with
    the port kinds it serves: rabbitmq -> {rabbitmq, amqp, amqps}."""
    found: dict[str, set[str]] = {}
    for scheme, product in SCHEME_SERVICES.items():
        found.setdefault(base_key(product), {base_key(product)}).add(base_key(scheme))
    return {product: frozenset(kinds) for product, kinds in found.items()}


_PRODUCTS: Final = _products()


def _with_urls(result: SourceResult) -> Iterator[VariableObservation]:
    """The variables of `result` whose value may hold an URL (every URL has `://`): the
    others are passed by without a regular expression."""
    return (variable for variable in result.variables if "://" in (variable.value or ""))


def _url_products(results: list[SourceResult]) -> dict[str, str]:
    """Key of a name a variable's prefix gives to a product's port -> the product's key:
    the readers name the target of `CELERY_BROKER_URL=redis://localhost:6379` by the prefix
    (a local URL reaches the service the variable names: AUTH_DB_URL is auth-db's) and,
    when no service bears that name, it is the product the scheme names (redis)."""
    found: dict[str, str] = {}
    for result in results:
        for variable in _with_urls(result):
            for match in URL.finditer(variable.value or ""):
                url = parse_url(match.group())
                product = SCHEME_SERVICES.get(url.scheme.split("+")[0]) if url else None
                named = url_service(url, variable.name) if url and product else None
                if product is not None and named is not None:
                    key, product = base_key(named), base_key(product)
                    if key != product:
                        found.setdefault(key, product)
    return found


def _to_products(
    spelled: dict[str, Counter[str]], where: dict[str, list[Location]], products: dict[str, str]
) -> dict[str, str]:
    """Without a plan, a name only variables mention (no source defines a service so) that
    reaches a product's port is that product (`_url_products`): the aliases that say so."""
    found: dict[str, str] = {}
    for key, product in products.items():
        counts = spelled.get(key)
        if counts is None or counts.total() >= _DEFINED:
            continue
        if product not in spelled:
            spelled[product] = Counter({product: counts.total()})
            where[product] = list(where[key])
        found[key] = product
    return found


def _prefix_products(results: list[SourceResult]) -> dict[str, set[str]]:
    """Key of a product a reader named a local URL's target after by the variable's prefix
    (DB_URL=tcp://localhost:5432 -> postgres, by `PREFIX_SERVICES`) -> keys of the prefixes
    as written (db): when no service bears the product's name and one bears the prefix's,
    the prefix names the service (a plan's `db` of kind tcp)."""
    found: dict[str, set[str]] = {}
    for result in results:
        for variable in _with_urls(result):
            raw = variable_prefix(variable.name)
            for match in URL.finditer(variable.value or ""):
                url = parse_url(match.group())
                named = url_service(url, variable.name) if url and raw else None
                if url is None or raw is None or named is None or not is_host_machine(url.host):
                    continue
                if base_key(named) != base_key(raw):
                    found.setdefault(base_key(named), set()).add(base_key(raw))
    return found


def _to_prefixes(spelled: dict[str, Counter[str]], prefixes: dict[str, set[str]]) -> dict[str, str]:
    """Without a plan, a product no source defines (`_prefix_products`) is the one service a
    source defines under the prefix the variable gave (compose's `db` for DB_URL)."""
    found: dict[str, str] = {}
    for product, raws in prefixes.items():
        counts = spelled.get(product)
        if counts is None or counts.total() >= _DEFINED:
            continue
        owner = _only({raw for raw in raws if spelled.get(raw, Counter()).total() >= _DEFINED})
        if owner is not None:
            found[product] = owner
    return found


def _port_names(results: list[SourceResult]) -> dict[str, set[str]]:
    """Service key -> the keys of the port names the sources give it."""
    found: dict[str, set[str]] = {}
    for result in results:
        for port in result.ports:
            if port.port_name:
                found.setdefault(base_key(port.service), set()).add(port_key(port.port_name))
    return found


def _to_port_owners(
    spelled: dict[str, Counter[str]], port_names: dict[str, set[str]]
) -> dict[str, str]:
    """Without a plan, a name only a variable's prefix gives (RTP_PORT_10001 of
    RTP_PORT_10001_PORT, no source defines it) whose leading words are another name of the
    file set (RTP) and whose other words are a port name: one ending in a number
    (`port-10001`, `http-2`; more than a bare number: KAFKA_1 stays kafka-1) or one the
    sources give that service (BROKER_MANAGEMENT when broker.env has it). Generate writes
    `<SERVICE>_<PORT NAME>_PORT` for a port whose name is not a kind."""
    found: dict[str, str] = {}
    for key, counts in spelled.items():
        if counts.total() >= _DEFINED or not all(_VARIABLE_PREFIX.fullmatch(s) for s in counts):
            continue
        owner = _port_owner(next(iter(counts)).split("_"), key, spelled, port_names)
        if owner is not None:
            found[key] = owner
    return found


_UPPER_NAME: Final = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")


def _to_only_listeners(
    spelled: dict[str, Counter[str]], results: list[SourceResult], aliases: dict[str, str]
) -> dict[str, str]:
    """Without a plan, a name only port variables give, always with one number, that names
    the image of the one service a compose or Kubernetes file defines whose only container
    port that is (`POSTGRES_DEFAULT` of a `.env`'s POSTGRES_DEFAULT_PORT=5432: postgresql,
    which runs `postgres:16`) is that service; an unrelated name with that number (API_PORT=80
    beside an nginx on 80) stays apart, a port of its own."""
    given: dict[str, set[int]] = {}
    others: set[str] = set()  # names something other than a port variable gives a port
    only: dict[int, set[str]] = {}  # container port -> services with that one port
    ports: dict[str, set[int]] = {}
    images: dict[str, str] = {}  # service key -> the key of its image's repository
    for result in results:
        for service in result.services:
            repository = image_repository(service.image) if service.image else None
            if repository:
                images[base_key(service.service)] = base_key(repository.rsplit("/", 1)[-1])
        for port in result.ports:
            key = base_key(port.service)
            if result.kind in _DEPLOYMENTS and not port.reference and port.variable is None:
                ports.setdefault(key, set()).add(port.target or port.number)
            if port.variable and not port.reference:
                given.setdefault(key, set()).add(port.number)
            else:
                others.add(key)
    for key, numbers in ports.items():
        if len(numbers) == 1:
            only.setdefault(next(iter(numbers)), set()).add(key)
    found: dict[str, str] = {}
    for key, numbers in given.items():
        counts = spelled.get(key)
        if counts is None or counts.total() >= _DEFINED or key in aliases or key in others:
            continue
        owners = only.get(next(iter(numbers)), set()) if len(numbers) == 1 else set()
        words = {base_key(word) for word in next(iter(counts)).split("_")}
        owner = _only({o for o in owners if images.get(o) in words})
        if owner is not None and owner != key and spelled.get(owner, Counter()).total() >= _DEFINED:
            found[key] = owner
    return found


def _to_publishers(spelled: dict[str, Counter[str]], results: list[SourceResult]) -> dict[str, str]:
    """Without a plan, a name only a port variable gives (`API` of API_PORT, no source
    defines it) is the one service a compose file publishes a port of from that variable
    on both sides (`"${API_PORT:-80}:${API_PORT:-80}"` of web-api; not a host port alone:
    ROUTER_EXTERNAL_PORT of `$ROUTER_EXTERNAL_PORT:8080` is no port router listens on),
    when every port it publishes is one of that name's (ENVOY of `${ENVOY_PORT}` and
    `${ENVOY_ADMIN_PORT}`; CALLS of mattermost's CALLS_PORT, beside its APP_PORT, would
    need the port's name)."""
    publishers: dict[str, set[str]] = {}
    published: dict[str, set[int]] = {}  # service key -> the container ports it publishes
    covered: dict[tuple[str, str], set[int]] = {}  # (name, service) -> ports of that name
    for result in results:
        for port in result.ports:
            target = port.target if port.target is not None else port.number
            if port.published and not port.reference:
                published.setdefault(base_key(port.service), set()).add(target)
            variable = port.published_variable
            same = port.target in (None, port.number)  # `${API_PORT}:${API_PORT}`, not `:8080`
            if variable and same and variable.upper().endswith("_PORT") and len(variable) > 5:
                named, _ = port_owner(variable[:-5], None)  # ENVOY_ADMIN_PORT: ENVOY's admin
                prefix = base_key(named or variable[:-5])
                publishers.setdefault(prefix, set()).add(base_key(port.service))
                covered.setdefault((prefix, base_key(port.service)), set()).add(target)
    found: dict[str, str] = {}
    for key, owners in publishers.items():
        counts = spelled.get(key)
        if counts is None or counts.total() >= _DEFINED or len(owners) != 1:
            continue
        owner = next(iter(owners))
        if published.get(owner, set()) - covered.get((key, owner), set()):
            continue  # one of several ports (mattermost's CALLS_PORT beside APP_PORT)
        if owner != key and spelled.get(owner, Counter()).total() >= _DEFINED:
            found[key] = owner
    return found


def _to_short_names(spelled: dict[str, Counter[str]], aliases: dict[str, str]) -> dict[str, str]:
    """Without a plan, a name only variables give (`CSMM` of CSMM_PORT, no source defines
    it) that begins exactly one defined service's name (csmm-web) is that service: a
    variable is never a service of its own when it can be told whose it is."""
    found: dict[str, str] = {}
    defined = [key for key, counts in spelled.items() if counts.total() >= _DEFINED]
    for key, counts in spelled.items():
        if key in aliases or counts.total() >= _DEFINED or len(key) < 3:
            continue
        if not all(_UPPER_NAME.fullmatch(name) for name in counts):
            continue
        candidates = [other for other in defined if other.startswith(key) and other != key]
        if len(candidates) == 1:
            found[key] = candidates[0]
    return found


def _port_owner(
    words: list[str], key: str, spelled: dict[str, Counter[str]], port_names: dict[str, set[str]]
) -> str | None:
    for count in range(len(words) - 1, 0, -1):
        head, rest = base_key("".join(words[:count])), words[count:]
        if head == key or head not in spelled:
            continue
        numbered = rest[-1].isdigit() and len(rest) > 1
        if numbered or port_key("".join(rest)) in port_names.get(head, ()):
            return head
    return None


def _only(found: set[str | None]) -> str | None:
    found.discard(None)
    return found.pop() if len(found) == 1 else None


_VARIABLE_PREFIX: Final = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")


def variable_service(spellings: Iterable[str], known: dict[str, str]) -> str | None:
    """The service an environment-variable prefix names, by the longest run of its leading
    words that is a known service (`known`: base key -> service):
    ELASTICSEARCH_TRANSPORT (from ELASTICSEARCH_TRANSPORT_PORT) -> elasticsearch,
    ML_SERVICES_HTTP_2 -> ml-services. Only when every spelling is such a prefix: a
    service named `token-engine-worker` in a compose file is not `token-engine`."""
    spellings = list(spellings)
    if not spellings or not all(_VARIABLE_PREFIX.fullmatch(s) for s in spellings):
        return None
    words = spellings[0].split("_")
    for count in range(len(words) - 1, 0, -1):
        found = known.get(base_key("".join(words[:count])))
        if found is not None:
            return found
    return None


def kind_service(key: str, topology: Topology) -> str | None:
    """The plan's only service with a port of the kind a product name stands for: a reader
    names the target of `postgresql://localhost:5432` "postgres" (by its scheme), and the
    plan may call that database `db`."""
    kinds = _PRODUCTS.get(key)
    if kinds is None:
        return None
    found = {
        service.name
        for service in topology.services.values()
        for port in service.ports
        if base_key(port.kind) in kinds or base_key(port.name) in kinds
    }
    return found.pop() if len(found) == 1 else None


def _among_sources(
    names: Names,
    spelled: dict[str, Counter[str]],
    where: dict[str, list[Location]],
    aliases: dict[str, str],
    drawn: set[str],
    files: dict[str, set[str]],
) -> None:
    parent = {key: key for key in spelled}

    def find(key: str) -> str:
        while parent[key] != key:
            key = parent[key]
        return key

    def union(a: str, b: str) -> None:
        if a in parent and b in parent and find(a) != find(b):
            parent[max(find(a), find(b))] = min(find(a), find(b))

    for alias, key in aliases.items():
        union(alias, key)
    _fold_suffixes(spelled, union)
    _fold_similar(names, spelled, where, find, union, files)
    groups: dict[str, list[str]] = {}
    for key in spelled:
        groups.setdefault(find(key), []).append(key)
    for root, keys in groups.items():
        counts: Counter[str] = Counter()
        for key in keys:
            counts.update(spelled[key])
        if all(key in drawn for key in keys):
            places = {location for key in keys for location in where[key]}
            names.diagram_only[_shown(counts)] = sorted(places)
            continue
        for key in keys:
            names.canonical[key] = root
        names.display[root] = _shown(counts)
    for shown in [s for s in names.similar if names.key(s) is None]:
        del names.similar[shown]


def _fold_suffixes(spelled: dict[str, Counter[str]], union: _Union) -> None:
    stripped: dict[str, list[str]] = {}
    for key in spelled:
        stripped.setdefault(strip_suffix(key), []).append(key)
    for short, keys in stripped.items():
        for key in keys:
            union(key, short if short in spelled else keys[0])


def _fold_similar(
    names: Names,
    spelled: dict[str, Counter[str]],
    where: dict[str, list[Location]],
    find: _Find,
    union: _Union,
    files: dict[str, set[str]],
) -> None:
    """A service name that only adds a word to another ("compliancemonitoring" and
    "compliancemonitor", "serverapigateway" and "apigateway") is matched, and the match is
    recorded so that it is reported; never two services one compose or Kubernetes file
    defines side by side (`temporal-frontend` and `temporal-frontend2`: two copies)."""
    by_short: dict[str, list[str]] = {}
    for key in spelled:
        by_short.setdefault(strip_suffix(key), []).append(key)
    for key in sorted(spelled):
        short = strip_suffix(key)
        if find(key) != key or len(short) < MIN_PREFIX:
            continue
        others = {
            o
            for v in _variants(short)
            for o in by_short.get(v, ())
            if not files.get(key, set()) & files.get(o, set())
        }
        candidates = sorted({find(o) for o in others if find(o) != key})
        if len(candidates) == 1:
            names.similar[_shown(spelled[key])] = (_shown(spelled[candidates[0]]), min(where[key]))
            union(key, candidates[0])
        elif len(candidates) > 1:
            names.ambiguous[_shown(spelled[key])] = (candidates, min(where[key]))


def _defining_files(results: list[SourceResult]) -> dict[str, set[str]]:
    """Base key -> the compose and Kubernetes files that define a service of that name."""
    found: dict[str, set[str]] = {}
    for result in results:
        if result.kind in ("compose", "kubernetes"):
            for service in result.services:
                found.setdefault(base_key(service.service), set()).add(result.file)
    return found


def _variants(short: str) -> Iterator[str]:
    """The names that differ from `short` by one word of SIMILAR_TAILS / SIMILAR_HEADS, or
    by one trailing digit (apache, apache2)."""
    for tail in SIMILAR_TAILS:
        yield short + tail
        if short.endswith(tail) and len(short) - len(tail) >= MIN_PREFIX:
            yield short[: -len(tail)]
    for digit in "0123456789":  # apache and apache2: a version in the name
        yield short + digit
    if short[-1:].isdigit() and not short[-2:-1].isdigit() and len(short) - 1 >= MIN_PREFIX:
        yield short[:-1]
    for head in SIMILAR_HEADS:
        yield head + short
        if short.startswith(head) and len(short) - len(head) >= MIN_PREFIX:
            yield short[len(head) :]


def _shown(counts: Counter[str]) -> str:
    """The spelling used most, preferring lower-case service-like names on ties."""
    return min(counts, key=lambda name: (-counts[name], name.isupper(), name))
