"""Variables in env and shell blocks and in compose `environment:` lists.

`X_PORT=8080` is a port of the service the prefix names (or of the block's service for a
bare `HTTP_PORT`); `X_URL=scheme://host:port/...` is a port of the service the URL
reaches (by scheme for databases, else by host, else by the prefix) and a dependency of the
block's service on it. A host is recorded as written (`payments.default.svc.cluster.local`,
`api.stripe.com`): which service it names, if any, is for reconcile to say
(`portplan.reconcile.names`, by `host_service`); a name of the host machine
(`host.docker.internal`) is a port on the host, of the service the prefix names, and no
dependency. Values of literal secrets (PP111's `secret_kind`: a secret-named
variable, a URL with a password) are never recorded: the observation keeps the name,
`secret=True` and `value=None`. A reference (`${JWT_SECRET}`, `postgres://u:${DB_PASSWORD}@db`)
is not a secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from portplan.model import normalize_name
from portplan.rules.pp111_secret import secret_kind
from portplan.sources.base import PortObservation, VariableObservation
from portplan.sources.markdown.context import Collector
from portplan.sources.markdown.text import (
    URL,
    Url,
    is_local_host,
    kind_of,
    parse_url,
    url_port_name,
)

ENV_URL = "env-url"


@dataclass(frozen=True, slots=True)
class Assignment:
    """`NAME=value` at (line, index); value None for a bare `NAME` (passed through)."""

    name: str
    value: str | None
    line: int
    name_index: int
    value_index: int


_ASSIGNMENT: Final = re.compile(
    r"^(?P<lead>\s*(?:export[ \t]+|set[ \t]+|\$env:)?)"
    r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)[ \t]*=(?!=)[ \t]*(?P<value>.*?)\s*$"
)
_TRAILING_COMMENT: Final = re.compile(r"\s+#.*$")


def parse_assignment(text: str, line: int, offset: int = 0) -> Assignment | None:
    """`text` as `NAME=value` (also `export`, Windows `set`, PowerShell `$env:`), or None.

    `offset` is where `text` starts in the document line."""
    found = _ASSIGNMENT.match(text)
    if found is None:
        return None
    value, start = found.group("value"), found.start("value")
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value, start = value[1:-1], start + 1
    else:
        value = _TRAILING_COMMENT.sub("", value)
    name_index = offset + found.start("name")
    return Assignment(found.group("name"), value, line, name_index, offset + start)


_REFERENCE: Final = re.compile(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?")


def record(ctx: Collector, owner: str | None, assignment: Assignment, source: str) -> None:
    """The variable, and the ports and dependencies its value states."""
    value = assignment.value
    secret = is_secret(assignment.name, value)
    reads = value is None or bool(_REFERENCE.fullmatch(value))
    location = ctx.at(assignment.line, assignment.name_index)
    shown = None if secret else value
    observation = VariableObservation(
        owner, assignment.name, location, source, value=shown, secret=secret, sets=not reads
    )
    ctx.result.variables.append(observation)
    if value is not None and not reads:
        _port_variable(ctx, owner, assignment, value, source)
        _addresses(ctx, owner, assignment, value, source)


def is_secret(name: str, value: str | None) -> bool:
    """A literal secret by the rule of PP111 (`secret_kind`), also for a URL inside a longer
    value (`--db postgres://u:pw@db`). A reference is not a secret: `${JWT_SECRET}`, or a URL
    whose password is `${DB_PASSWORD}`."""
    if value is None:
        return False
    if secret_kind(name, value) is not None:
        return True
    return "@" in value and any(secret_kind("", m.group()) for m in URL.finditer(value))


# --- X_PORT ---------------------------------------------------------------------------

_PORT_VARIABLE: Final = re.compile(r"^(?:(?P<prefix>[A-Za-z0-9_]*?)_+)?PORT$", re.IGNORECASE)
_PROTOCOLS: Final = frozenset({"UDP", "SCTP"})
_DEFAULTED: Final = re.compile(r"^\$\{[A-Za-z_]\w*:?-(?P<n>\d+)\}$")


def _port_variable(
    ctx: Collector, owner: str | None, assignment: Assignment, value: str, source: str
) -> None:
    found = _PORT_VARIABLE.match(assignment.name)
    if found is None:
        return
    index = assignment.value_index
    defaulted = _DEFAULTED.match(value)
    if defaulted:
        value, index = defaulted.group("n"), index + defaulted.start("n")
    service, kind = port_owner(found.group("prefix") or "", owner)
    if not value.isdigit() or service is None:
        return
    number = int(value)
    if ctx.checked_port(number, assignment.line, index, assignment.name):
        location = ctx.at(assignment.line, index)
        protocol = variable_protocol(assignment.name)
        ctx.port(
            PortObservation(
                service,
                number,
                location,
                source,
                port_name=kind,
                protocol=protocol,
                variable=assignment.name,
            )
        )


_PROTOCOL_WORD: Final = re.compile(r"(?:^|_)(?P<protocol>UDP|SCTP)(?=_PORT$)", re.IGNORECASE)


def variable_protocol(variable: str) -> str:
    """The protocol a port variable states: RTP_UDP_PORT, UDP_PORT -> udp; else tcp."""
    found = _PROTOCOL_WORD.search(variable)
    return found.group("protocol").lower() if found else "tcp"


def port_owner(prefix: str, owner: str | None) -> tuple[str | None, str | None]:
    """(service, port name) of `<prefix>_PORT` read in `owner`'s block.

    `HTTP_PORT` -> (owner, "http"); `RTP_UDP_PORT` -> ("RTP", None) (a protocol is no
    name: `variable_protocol`); `ZOOKEEPER_CLIENT_PORT` in zookeeper -> (zookeeper,
    "client"); `TOKEN_ENGINE_GRPC_PORT` -> ("TOKEN_ENGINE", "grpc"); `GATEWAY_PORT` ->
    ("GATEWAY", None).
    """
    words = [word for word in prefix.split("_") if word]
    if words and words[-1].upper() in _PROTOCOLS:  # RTP_UDP_PORT: the protocol, no name
        words.pop()
    if not words:
        return owner, None
    kind = name_kind(words[-1])
    if len(words) == 1 and kind:
        return owner, kind
    if owner:
        owned = re.findall(r"[a-z0-9]+", owner.lower())
        if [word.lower() for word in words[: len(owned)]] == owned:
            rest = "_".join(words[len(owned) :])
            return owner, name_kind(rest) or rest.lower() or None
    if kind:
        return "_".join(words[:-1]), kind
    return "_".join(words), None


def name_kind(name: str) -> str | None:
    """The port kind a port's name is ("gRPC" -> grpc, "WebSocket" -> ws), if any; a name
    with a digit is a name of its own (`http-2`, `HTTP_2` are not the kind http)."""
    return None if any(ch.isdigit() for ch in name) else kind_of(name)


# --- X_URL and host:port ----------------------------------------------------------------

_ADDRESS_VARIABLE: Final = re.compile(
    r"(?:^|_)(?:URL|URI|ADDR|ADDRESS|ENDPOINTS?|HOSTS?|DSN|CONN|CONNECT|CONNECTION|"
    r"BROKERS?|SERVERS?|LISTENERS)$",
    re.IGNORECASE,
)
_HOST_PORT: Final = re.compile(
    r"(?<![\w.:/@-])(?P<host>[A-Za-z][\w.-]*):(?P<port>\d{1,5})(?![\w.:])"
)
SCHEME_SERVICES: Final = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "redis": "redis",
    "rediss": "redis",
    "nats": "nats",
    "mysql": "mysql",
    "mariadb": "mariadb",
    "mongodb": "mongodb",
    "amqp": "rabbitmq",
    "amqps": "rabbitmq",
    "kafka": "kafka",
    "clickhouse": "clickhouse",
}
PREFIX_SERVICES: Final = {
    "DATABASE": "postgres",
    "DB": "postgres",
    "POSTGRES": "postgres",
    "POSTGRESQL": "postgres",
    "PG": "postgres",
    "REDIS": "redis",
    "CACHE": "redis",
    "NATS": "nats",
}


def _addresses(
    ctx: Collector, owner: str | None, assignment: Assignment, value: str, source: str
) -> None:
    found_url = False
    for match in URL.finditer(value):
        url = parse_url(match.group())
        if url is None:
            continue
        found_url = True
        at = assignment.value_index + match.start()
        port_at = at + url.port_offset if url.port is not None else at
        target = url_service(url, assignment.name)
        kind, where = url_port_name(url), (at, port_at)
        _reach(ctx, owner, target, url.port, kind, assignment, where, source, url.host)
    if found_url or not _ADDRESS_VARIABLE.search(assignment.name):
        return
    for match in _HOST_PORT.finditer(value):
        host = match.group("host")
        target = prefix_service(assignment.name) if is_host_machine(host) else host
        at = assignment.value_index + match.start()
        port_at = assignment.value_index + match.start("port")
        port = int(match.group("port"))
        _reach(ctx, owner, target, port, None, assignment, (at, port_at), source, host)


def _reach(
    ctx: Collector,
    owner: str | None,
    target: str | None,
    port: int | None,
    kind: str | None,
    assignment: Assignment,
    where: tuple[int, int],
    source: str,
    host: str | None,
) -> None:
    """`owner` reaches `target` (on `port`), as `assignment` says, at `host`: on the host
    machine (`host.docker.internal`) that is a port there, not a dependency."""
    if target is None:
        return
    line, (at, port_at) = assignment.line, where
    if port is not None and ctx.checked_port(port, line, port_at, assignment.name):
        location = ctx.at(line, port_at)
        ctx.port(
            PortObservation(
                target, port, location, source, port_name=kind, variable=assignment.name
            )
        )
    if owner and normalize_name(owner) != normalize_name(target) and not on_host_machine(host):
        ctx.dependency(owner, target, line, at, source, ENV_URL)


def url_service(url: Url, variable: str) -> str | None:
    """The service an URL reaches: an external endpoint by its host whatever the scheme
    (`postgres://u@db.abc.rds.amazonaws.com`: not our postgres); on localhost, an IP
    address or the host machine, by the prefix of an address variable (TOKEN_ENGINE_URL ->
    TOKEN_ENGINE, AUTH_DB_URL=postgresql://localhost:5432 -> AUTH_DB, DATABASE_URL ->
    postgres), else by scheme (postgresql -> postgres: a bare `URL`, `LOCAL_DB`); elsewhere by
    scheme, else by host when it is a name (as written: `payments.default.svc.cluster.local`);
    by host also when the variable's prefix names it (`AUTH_DB_URL=postgresql://auth-db:5432`,
    how generate reaches a port kept off the host: auth-db, not postgres).
    Which service a prefix or a product name is, is reconcile's to say
    (`portplan.reconcile.names`: `CELERY_BROKER` of a `redis://` URL is redis when no
    service bears that name)."""
    scheme = url.scheme.split("+")[0]
    if is_external_host(url.host):
        return url.host
    prefix = prefix_service(variable) if _ADDRESS_VARIABLE.search(variable) else None
    if is_host_machine(url.host):
        if prefix is None and scheme not in SCHEME_SERVICES:
            return prefix_service(variable)
        return prefix or SCHEME_SERVICES[scheme]
    named = host_service(url.host)
    if prefix is not None and named is not None and normalize_name(prefix) == normalize_name(named):
        return url.host
    if scheme in SCHEME_SERVICES:
        return SCHEME_SERVICES[scheme]
    return url.host


def prefix_service(variable: str) -> str | None:
    """TOKEN_ENGINE_URL -> "TOKEN_ENGINE"; DATABASE_URL -> "postgres"; URL -> None."""
    prefix = variable_prefix(variable)
    return None if prefix is None else PREFIX_SERVICES.get(prefix.upper(), prefix)


def variable_prefix(variable: str) -> str | None:
    """The prefix of an address variable as written: DB_URL -> "DB"; URL -> None."""
    suffix = _ADDRESS_VARIABLE.search(variable)
    return (variable[: suffix.start()] if suffix else variable).strip("_") or None


# --- hosts ------------------------------------------------------------------------------

# Names of the machine a container runs on (Docker Desktop, Podman, minikube, Lima): what
# listens there is a port on the host, not a service a container can depend on.
HOST_MACHINE: Final = frozenset(
    {"host.docker.internal", "gateway.docker.internal", "host.containers.internal",
     "host.minikube.internal", "host.lima.internal", "docker.for.mac.localhost",
     "docker.for.win.localhost", "ip6-localhost", "ip6-loopback"}
)  # fmt: skip
# Domains that resolve only inside a network: Kubernetes' cluster domain, mDNS (RFC 6762),
# home networks (RFC 8375) and the usual private ones.
PRIVATE_DOMAINS: Final = ("cluster.local", "local", "internal", "lan", "localdomain", "home.arpa")
# Top-level domains of public names beside the two-letter country codes: `x.com` is a
# public name, `payments.default` a service in a namespace (or a compose network).
PUBLIC_TLDS: Final = frozenset(
    {"com", "net", "org", "edu", "gov", "mil", "int", "info", "biz", "app", "dev", "cloud",
     "xyz", "tech", "site", "online", "page", "store", "shop", "blog", "link", "live", "pro"}
)  # fmt: skip
_CLUSTER_SERVICE: Final = "svc"


def on_host_machine(host: str | None) -> bool:
    """`host.docker.internal` and the like: the machine a container runs on."""
    return host is not None and host.lower().rstrip(".") in HOST_MACHINE


def is_host_machine(host: str | None) -> bool:
    """localhost (any letter case, `localhost.localdomain`, `*.localhost`), an IP address or
    a name of the machine a container runs on (`host.docker.internal`): no service's name."""
    if host is None or on_host_machine(host):
        return True
    if host[:1].isdigit() or ":" in host:  # an IP address, if any
        return is_local_host(host)
    labels = host.lower().rstrip(".").split(".")
    return "localhost" in (labels[0], labels[-1])


def host_service(host: str | None) -> str | None:
    """The service a host name names, when it is one of the system's own: the name itself
    (`payments`), the service of a cluster name (`payments.default.svc.cluster.local`,
    `payments.default.svc`, `payments.svc.cluster.local`; a StatefulSet pod's
    `kafka-0.kafka-headless.kafka.svc` -> kafka-headless), of a name qualified by a
    namespace or compose network (`payments.default`, `payments.backend`: two labels, the
    second no public top-level domain) or of a private domain (`db.internal`,
    `printer.local`). None for the host machine (`is_host_machine`) and for a public DNS
    name (`api.stripe.com`, `smtp.gmail.com`, `stripe.com`: `is_external_host`)."""
    if host is None or is_host_machine(host):
        return None
    labels = host.rstrip(".").split(".")
    lower = [label.lower() for label in labels]
    if len(labels) == 1:
        return host
    if _CLUSTER_SERVICE in lower[1:]:
        before = labels[: lower.index(_CLUSTER_SERVICE, 1)]
        return before[1] if len(before) >= 3 else before[0]
    domain = ".".join(lower)
    if any(domain.endswith("." + private) for private in PRIVATE_DOMAINS):
        return labels[0]
    if len(labels) == 2 and not _public_tld(lower[1]):
        return labels[0]
    return None


def is_external_host(host: str | None) -> bool:
    """A public DNS name (`o1.ingest.sentry.io`, `api.stripe.com`): an endpoint outside
    the system, unless a plan or a compose file names a service so (reconcile's names)."""
    return host is not None and not is_host_machine(host) and host_service(host) is None


def _public_tld(label: str) -> bool:
    return label in PUBLIC_TLDS or (len(label) == 2 and label.isalpha())
