"""The naming conventions that tie a system's names together, in one place for every source,
reconcile and import: what an address variable's prefix names (`TOKEN_ENGINE_URL` ->
TOKEN_ENGINE, `DATABASE_URL` -> postgres), which product a URL's scheme is (`postgresql://`
-> postgres), the protocol a port variable states (`RTP_UDP_PORT` -> udp), URLs, and which
host names are the system's own services (`payments.default.svc.cluster.local`), the host
machine (`host.docker.internal`) or external endpoints (`api.stripe.com`).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import SplitResult, urlsplit

from portplan.model import normalize_name

# --- variables ----------------------------------------------------------------------------

_PROTOCOL_WORD: Final = re.compile(r"(?:^|_)(?P<protocol>UDP|SCTP)(?=_PORT$)", re.IGNORECASE)


def variable_protocol(variable: str) -> str:
    """The protocol a port variable states: RTP_UDP_PORT, UDP_PORT -> udp; else tcp."""
    found = _PROTOCOL_WORD.search(variable)
    return found.group("protocol").lower() if found else "tcp"


ADDRESS_VARIABLE: Final = re.compile(
    r"(?:^|_)(?:URL|URI|ADDR|ADDRESS|ENDPOINTS?|HOSTS?|DSN|CONN|CONNECT|CONNECTION|"
    r"BROKERS?|SERVERS?|LISTENERS)$",
    re.IGNORECASE,
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


# --- URLs ---------------------------------------------------------------------------------

# The scheme starts a run of scheme characters (lookbehind): tried from inside a run, the
# pattern would scan to its end from every character of it, quadratic on long values.
URL: Final = re.compile(r"(?<![\w+.-])[A-Za-z][\w+.-]*://[^\s\"'`<>|,;]+")
LOCAL_HOSTS: Final = frozenset({"localhost", "host.docker.internal", "0.0.0.0", "::", "::1"})


@dataclass(frozen=True, slots=True)
class Url:
    """What an URL says about a port: scheme, host, port (and where it is in the text)."""

    scheme: str
    host: str | None
    port: int | None
    path: str
    port_offset: int  # index of the port's digits in the URL text, -1 without a port
    has_password: bool


def parse_url(text: str) -> Url | None:
    """The URL `text`, or None when it is not one; a bad port number counts as none. A
    listener name as scheme (`PLAINTEXT_HOST://0.0.0.0:9092`, Kafka's) is read as one."""
    scheme, sep, rest = text.partition("://")
    if sep and "_" in scheme:
        text = scheme.replace("_", "-") + sep + rest  # same length: offsets hold
    parts = _lenient_split(text)
    if parts is None or not parts.scheme or not parts.netloc:
        return None
    try:
        port = parts.port
    except ValueError:
        port = None
    offset = -1
    if port is not None:
        at = text.find("@") + 1 if parts.password is not None else text.find("://") + 3
        offset = text.find(f":{port}", at) + 1
    return Url(
        scheme=parts.scheme.lower(),
        host=parts.hostname,
        port=port,
        path=parts.path,
        port_offset=offset,
        has_password=_has_password(parts),
    )


def _lenient_split(text: str) -> SplitResult | None:
    try:
        return urlsplit(text)
    except ValueError:
        return None


def _has_password(parts: SplitResult) -> bool:
    try:
        return bool(parts.password)
    except ValueError:
        return False


def is_local_host(host: str | None) -> bool:
    """localhost, a loopback or wildcard address, or any IP address: not a service name."""
    if host is None or host in LOCAL_HOSTS:
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def url_service(url: Url, variable: str) -> str | None:
    """The service an URL reaches: an external endpoint by its host whatever the scheme
    (`postgres://u@db.abc.rds.amazonaws.com`: not our postgres); on localhost, an IP
    address or the host machine, by the prefix of an address variable (TOKEN_ENGINE_URL ->
    TOKEN_ENGINE, AUTH_DB_URL=postgresql://localhost:5432 -> AUTH_DB, DATABASE_URL ->
    postgres), else by scheme (postgresql -> postgres: a bare `URL`, `LOCAL_DB`); elsewhere by
    scheme, else by host when it is a name (as written: `payments.default.svc.cluster.local`);
    by host also when the variable's prefix names it (`AUTH_DB_URL=postgresql://auth-db:5432`,
    `DB_URL=mysql://db:3306`, as written before a prefix is taken for a product: how
    generate reaches a port on the container network: auth-db and db, not postgres, mysql).
    Which service a prefix or a product name is, is reconcile's to say
    (`portplan.reconcile.names`: `CELERY_BROKER` of a `redis://` URL is redis when no
    service bears that name)."""
    scheme = url.scheme.split("+")[0]
    if is_external_host(url.host):
        return url.host
    prefix = prefix_service(variable) if ADDRESS_VARIABLE.search(variable) else None
    if is_host_machine(url.host):
        if prefix is None and scheme not in SCHEME_SERVICES:
            return prefix_service(variable)
        return prefix or SCHEME_SERVICES[scheme]
    named = host_service(url.host)
    if prefix is not None and named is not None and normalize_name(prefix) == normalize_name(named):
        return url.host
    written = variable_prefix(variable) if prefix is not None else None  # DB of DB_URL
    if written is not None and normalize_name(written) == normalize_name(url.host or ""):
        return url.host
    if scheme in SCHEME_SERVICES:
        return SCHEME_SERVICES[scheme]
    return url.host


_WORD: Final = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
# The words that make a variable an address (`PurchaseUrl`, `IdentityUrlExternal`,
# `RABBITMQ_ADDRESSES`, `CSMM_HOSTNAME`): the words before them name the target.
ADDRESS_WORDS: Final = frozenset(
    {"url", "urls", "uri", "uris", "addr", "address", "addresses", "endpoint", "endpoints",
     "host", "hosts", "hostname", "dsn", "listeners", "servers", "brokers", "conn",
     "connect", "connection"}
)  # fmt: skip
# Words after an address word that only say which of several addresses it is.
_ADDRESS_TAILS: Final = frozenset({"external", "internal", "public", "callback", "base"})


def variable_words(variable: str) -> list[str]:
    """A variable's words, lower case, split on `_`, `__`, `.`, `-` and case changes:
    `PurchaseUrl` -> [purchase, url]; `IdentityUrlExternal` -> [identity, url, external];
    `ConnectionStrings__Redis` -> [connection, strings, redis]; `CSMM_HOSTNAME` -> [csmm,
    hostname]."""
    return [word.lower() for word in _WORD.findall(variable)]


def address_prefix_words(variable: str) -> list[str] | None:
    """The words of an address variable before its address words (`PicBaseUrl` -> [pic],
    `IdentityUrlExternal` -> [identity], `RETAIL_ORDERS_ADDRESSES` -> [retail, orders]); []
    for a bare `URL`; None when the variable is no address variable by its words."""
    words = variable_words(variable)
    while words and words[-1] in _ADDRESS_TAILS:
        words.pop()
    if not words or words[-1] not in ADDRESS_WORDS:
        return None
    while words and (words[-1] in ADDRESS_WORDS or words[-1] in _ADDRESS_TAILS):
        words.pop()
    return words


def is_address_variable(variable: str) -> bool:
    """Whether a variable holds an address by its name (`DB_URL`, `PurchaseUrl`,
    `KAFKA_BROKERS`, `CSMM_HOSTNAME`, `RABBITMQ_ADDRESSES`)."""
    return bool(ADDRESS_VARIABLE.search(variable)) or address_prefix_words(variable) is not None


# Words of a variable that lists who may call a service rather than where one is: the
# origins a browser may call from, the hosts a server answers to (`BACKEND_CORS_ORIGINS`,
# `CORS_ALLOWED_ORIGINS`, `CSRF_TRUSTED_ORIGINS`, `ALLOWED_HOSTS`).
_CALLER_WORDS: Final = frozenset({"cors", "origins"})
_ALLOW_WORDS: Final = frozenset({"allow", "allowed", "trusted"})
_ALLOWED_WORDS: Final = frozenset({"origin", "hosts", "domains", "urls"})


def is_caller_list(variable: str) -> bool:
    """Whether a variable lists the addresses of callers (CORS origins, allowed hosts): its
    URLs are other programs' (a browser's page, a front end), neither a port of its owner
    nor a service its owner reaches."""
    words = set(variable_words(variable))
    return bool(words & _CALLER_WORDS) or bool(words & _ALLOW_WORDS and words & _ALLOWED_WORDS)


# What Kubernetes (as docker links did) sets in every container for each Service: `<NAME>_
# SERVICE_HOST`, `<NAME>_SERVICE_PORT[_<PORT NAME>]`, `<NAME>_PORT_6379_TCP[_ADDR|_PORT|_PROTO]`.
_SERVICE_LINK: Final = re.compile(
    r"^(?P<name>[A-Z][A-Z0-9_]*?)_(?:SERVICE_(?:HOST|PORT(?:_[A-Z0-9_]+)?)"
    r"|PORT_\d{1,5}_(?:TCP|UDP|SCTP)(?:_(?:ADDR|PORT|PROTO))?)$"
)


def service_link(variable: str) -> str | None:
    """The Service a variable Kubernetes sets for it names (`KIBANA_LOGGING_SERVICE_PORT`,
    `KIBANA_LOGGING_PORT_5601_TCP` -> kibana-logging), else None: its port is the
    Service's on the cluster network, never one of a host."""
    found = _SERVICE_LINK.match(variable)
    return found.group("name").lower().replace("_", "-") if found else None


def prefix_service(variable: str) -> str | None:
    """TOKEN_ENGINE_URL -> "TOKEN_ENGINE"; DATABASE_URL -> "postgres"; URL -> None."""
    prefix = variable_prefix(variable)
    return None if prefix is None else PREFIX_SERVICES.get(prefix.upper(), prefix)


def variable_prefix(variable: str) -> str | None:
    """The prefix of an address variable as written: DB_URL -> "DB"; URL -> None."""
    suffix = ADDRESS_VARIABLE.search(variable)
    if suffix is None and (words := address_prefix_words(variable)):
        return "_".join(words).upper()  # PurchaseUrl -> PURCHASE, CSMM_HOSTNAME -> CSMM
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


def reference_side(host: str | None) -> str:
    """The side a reference at `host` reaches: `host.docker.internal` is a port the host
    publishes; `localhost` or an IP address does not say (the program may run on the host
    or in the container); any other name is reached on the container network."""
    if on_host_machine(host):
        return "published"
    return "unknown" if is_host_machine(host) else "container"


BIND_ADDRESSES: Final = frozenset({"", "0.0.0.0", "::", "[::]", "*", "+"})


def is_bind_address(host: str | None) -> bool:
    """A host that says "every interface of mine" (`0.0.0.0`, `::`, `*`, `+`, nothing, as
    in `ASPNETCORE_URLS=http://+:80` or `LISTEN=:8080`): a port its owner listens on, never
    a reference to another service."""
    return host is None or host.strip() in BIND_ADDRESSES
