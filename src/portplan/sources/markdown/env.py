"""Variables in env and shell blocks and in compose `environment:` lists.

`X_PORT=8080` is a port of the service the prefix names (or of the block's service for a
bare `HTTP_PORT`); `X_URL=scheme://host:port/...` is a port of the service the URL
reaches (by scheme for databases, else by host, else by the prefix) and a dependency of the
block's service on it. A host is recorded as written (`payments.default.svc.cluster.local`,
`api.stripe.com`): which service it names, if any, is for reconcile to say
(`portplan.reconcile.names`, by `host_service`); a name of the host machine
(`host.docker.internal`) is a port on the host, of the service the prefix names, and no
dependency. Values of literal secrets (`portplan.secretscan.detect`: a secret-named
variable, a URL with a password) are never recorded: the observation keeps the name,
`secret=True` (`credential=True` for a real credential's shape) and `value=None`. A
reference (`${JWT_SECRET}`, `postgres://u:${DB_PASSWORD}@db`) is not a secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Final

from portplan.model import normalize_name
from portplan.names import (
    URL,
    is_address_variable,
    is_caller_list,
    is_host_machine,
    on_host_machine,
    parse_url,
    prefix_service,
    reference_side,
    service_link,
    url_service,
    variable_protocol,
)
from portplan.secretscan import detect
from portplan.sources.base import PortObservation, VariableObservation
from portplan.sources.markdown.context import Collector
from portplan.sources.markdown.text import kind_of, url_port_name

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
    value = _first_of_several(value)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value, start = value[1:-1], start + 1
    else:
        value = _TRAILING_COMMENT.sub("", value)
    name_index = offset + found.start("name")
    return Assignment(found.group("name"), value, line, name_index, offset + start)


# `A='x' B='y' docker compose up`: each word before the command is an assignment of its own
_WORD: Final = re.compile(r"""(?:'[^']*'|"[^"]*"|[^\s'"])+""")
_ANOTHER: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


def _first_of_several(value: str) -> str:
    """The value of the first of several assignments a line prefixes a command with."""
    words = _WORD.findall(value)
    return words[0] if len(words) > 1 and any(_ANOTHER.match(w) for w in words[1:]) else value


_REFERENCE: Final = re.compile(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?")


def record(ctx: Collector, owner: str | None, assignment: Assignment, source: str) -> None:
    """The variable, and the ports and dependencies its value states."""
    value = assignment.value
    found = secret_in(assignment.name, value)
    secret = found is not None
    reads = value is None or bool(_REFERENCE.fullmatch(value))
    location = ctx.at(assignment.line, assignment.name_index)
    shown = None if secret else value
    observation = VariableObservation(
        owner,
        assignment.name,
        location,
        source,
        value=shown,
        secret=secret,
        credential=found is not None and found.credential,
        sets=not reads,
    )
    ctx.result.variables.append(observation)
    if value is not None and not reads:
        if (link := service_link(assignment.name)) is not None:
            _service_link(ctx, link, assignment, value, source)
            return
        _port_variable(ctx, owner, assignment, value, source)
        _addresses(ctx, owner, assignment, value, source)


_LINK_PORT: Final = re.compile(r"(?:^|:)(?P<n>\d{1,5})$")


def _service_link(
    ctx: Collector, service: str, assignment: Assignment, value: str, source: str
) -> None:
    """The port of a Kubernetes Service variable (`X_SERVICE_PORT=5601`,
    `X_PORT_5601_TCP=tcp://10.0.204.206:5601`): the Service's, on the cluster."""
    found = _LINK_PORT.search(value.strip())
    if found is None:
        return
    index = assignment.value_index + found.start("n")
    protocol = "udp" if "_UDP" in assignment.name else "tcp"
    link = {"protocol": protocol, "published": False, "side": "container"}
    _variable_port(ctx, service, int(found.group("n")), assignment, index, source, **link)


def _variable_port(
    ctx: Collector,
    service: str,
    number: int,
    assignment: Assignment,
    index: int,
    source: str,
    **facts: Any,
) -> None:
    """Port `number` of `service` that `assignment` states at `index` of its line."""
    if ctx.checked_port(number, assignment.line, index, assignment.name):
        location = ctx.at(assignment.line, index)
        observation = PortObservation(service, number, location, source, variable=assignment.name)
        ctx.port(replace(observation, **facts))


def is_secret(name: str, value: str | None) -> bool:
    """A literal secret by the detector PP111 and PP210 share (`secretscan.detect`), also
    inside a longer value (`--db postgres://u:pw@db`). A reference is not a secret:
    `${JWT_SECRET}`, or a URL whose password is `${DB_PASSWORD}`."""
    return secret_in(name, value) is not None


def secret_in(name: str, value: str | None) -> detect.Secret | None:
    """The secret `value` holds (its kind and strength, never the value), or None."""
    return detect.secret(name, value)


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
    if _elsewhere(ctx, found.group("prefix") or "", assignment.line):
        return
    protocol = variable_protocol(assignment.name)
    _variable_port(
        ctx, service, int(value), assignment, index, source, port_name=kind, protocol=protocol
    )


_HOST_OF: Final = ("HOST", "HOSTNAME", "SERVER", "ADDR", "ADDRESS")
_NEAR: Final = 10  # lines: a host variable this close above is of the same block


def _elsewhere(ctx: Collector, prefix: str, line: int) -> bool:
    """Whether `<prefix>_HOST` just above (`RELAY_HOST=smtp.example.com` or `RELAY_HOST=`,
    then `RELAY_PORT=587`) gives an outside host, a domain name, or one left to the
    reader: the port is that host's (a mail relay's), no port of a service `prefix`."""
    names = {f"{prefix}_{word}".upper() for word in _HOST_OF} if prefix else set()
    for variable in reversed(ctx.result.variables):
        if line - variable.location.line > _NEAR:
            break
        if variable.name.upper() in names and variable.value is not None:
            value = variable.value.strip().strip("\"'")
            outside = "." in value and not _IP.fullmatch(value) and not _INSIDE.search(value)
            return not value or outside
    return False


_IP: Final = re.compile(r"[\d.]+")
# Domain names of a cluster's or a machine's own (a Service, the Docker host), not outside.
_INSIDE: Final = re.compile(r"\.(?:svc|cluster\.local|local|internal|localhost)$")


# Prefixes of a port variable that name no service but the program reading it (or its
# framework): in a service's environment, `<PREFIX>_PORT` is that service's own port.
GENERIC_PORT_PREFIXES: Final = frozenset(
    {"APP", "SERVER", "SERVICE", "LISTEN", "BIND", "CONTAINER", "LOCAL", "INTERNAL",
     "EXPOSED", "PUBLIC", "FLASK_RUN", "ASPNETCORE_HTTP", "ASPNETCORE_HTTPS", "SPRING_SERVER",
     "QUARKUS_HTTP", "NODE", "DAPR_APP", "APP_HTTP", "APP_GRPC"}
)  # fmt: skip


# Prefixes a client framework requires of the variables it hands to the browser or app
# (Create React App, Next.js, Vite, Expo, Vue CLI, Nuxt, Gatsby): the words after it name the
# service (`EXPO_PUBLIC_FRONTEND_PROXY_PORT` is frontend-proxy's port).
_CLIENT_PREFIXES: Final = (
    ("REACT", "APP"), ("NEXT", "PUBLIC"), ("EXPO", "PUBLIC"), ("NUXT", "PUBLIC"),
    ("VUE", "APP"), ("VITE",), ("GATSBY",),
)  # fmt: skip


def _without_client_prefix(words: list[str]) -> list[str]:
    upper = [word.upper() for word in words]
    for lead in _CLIENT_PREFIXES:
        if len(upper) > len(lead) and tuple(upper[: len(lead)]) == lead:
            return words[len(lead) :]
    return words


_OWN_WORDS: Final = frozenset({"LISTEN", "LISTENING", "BIND"})
# Servers a program talks to: `<OWNER>_EMAIL_PORT` is the port of the owner's mail server.
_CLIENT_ROLES: Final = frozenset(
    {"EMAIL", "MAIL", "SMTP", "IMAP", "POP3", "LDAP", "DB", "DATABASE", "REDIS", "CACHE",
     "BROKER", "AMQP", "PROXY", "SENTRY", "STATSD"}
)  # fmt: skip


def port_owner(prefix: str, owner: str | None) -> tuple[str | None, str | None]:
    """(service, port name) of `<prefix>_PORT` read in `owner`'s block.

    `HTTP_PORT` -> (owner, "http"); `API_LISTEN_PORT` -> (owner, None) (where the owner
    listens, whatever names it); `RTP_UDP_PORT` -> ("RTP", None) (a protocol is no
    name: `variable_protocol`); `ZOOKEEPER_CLIENT_PORT` in zookeeper -> (zookeeper,
    "client"); `TOKEN_ENGINE_GRPC_PORT` -> ("TOKEN_ENGINE", "grpc"); `GATEWAY_PORT` ->
    ("GATEWAY", None); `VITE_GATEWAY_PORT` (a client framework's prefix) -> ("GATEWAY", None).
    """
    words = _without_client_prefix([word for word in prefix.split("_") if word])
    if words and words[-1].upper() in _PROTOCOLS:  # RTP_UDP_PORT: the protocol, no name
        words.pop()
    if not words:
        return owner, None
    if words[0].upper() in _OWN_WORDS and len(words) > 1:
        # LISTEN_HTTP_PORT (in a shared `.env`, or an anchor every service merges): whoever
        # reads it listens there, which the variable does not say
        return None, None
    if owner and "_".join(words).upper() in GENERIC_PORT_PREFIXES:
        return owner, None  # APP_PORT, FLASK_RUN_PORT in a service's env: its own port
    if owner and words[-1].upper() in _OWN_WORDS:
        return owner, None  # API_LISTEN_PORT, HTTP_BIND_PORT in a service's env: where it listens
    if owner and words[-1].upper() == "JMX":
        return owner, "jmx"  # KAFKA_JMX_PORT in broker's env: the port its own JVM opens
    kind = name_kind(words[-1])
    if len(words) == 1 and kind:
        return owner, kind
    if owner:
        owned = re.findall(r"[a-z0-9]+", owner.lower())
        # ZOO_PORT in zoo1 (and zoo2, zoo3): the owner's name without its copy's number
        uncounted = [*owned[:-1], owned[-1].rstrip("0123456789") or owned[-1]]
        if [word.lower() for word in words[: len(owned)]] in (owned, uncounted):
            if words[len(owned) :] and words[len(owned)].upper() in _CLIENT_ROLES:
                return None, None  # DJANGO_EMAIL_PORT: the port of django's mail server
            rest = "_".join(words[len(owned) :])
            return owner, name_kind(rest) or rest.lower() or None
        if len(words) == 1 < len(owned) and owned[0] == words[0].lower():
            # CSMM_PORT in csmm-web: the owner's short name; TOKEN_ENGINE_PORT in
            # token-engine-worker names the service token-engine, not the owner
            return owner, None
        tail = _owner_tail(owned, [word.lower() for word in words])
        if tail:  # FRONTEND_GRPC_PORT in temporal-frontend (or temporal-frontend2)
            rest = "_".join(words[tail:])
            return owner, name_kind(rest) or rest.lower() or None
    if kind:
        return "_".join(words[:-1]), kind
    return "_".join(words), None


def _owner_tail(owned: list[str], words: list[str]) -> int:
    """How many leading `words` of a port variable spell the last words of its owner's
    name (`FRONTEND` of temporal-frontend, a copy's number aside: temporal-frontend2); 0
    for none, or when a server the owner talks to follows (`<tail>_DB_PORT`)."""
    for start in range(1, len(owned)):
        tail = [*owned[start:-1], owned[-1].rstrip("0123456789") or owned[-1]]
        if words[: len(tail)] == tail and len(tail[0]) > 2:
            rest = words[len(tail) :]
            return 0 if rest and rest[0].upper() in _CLIENT_ROLES else len(tail)
    return 0


def name_kind(name: str) -> str | None:
    """The port kind a port's name is ("gRPC" -> grpc, "WebSocket" -> ws), if any; a name
    with a digit is a name of its own (`http-2`, `HTTP_2` are not the kind http)."""
    return None if any(ch.isdigit() for ch in name) else kind_of(name)


# --- X_URL and host:port ----------------------------------------------------------------

_HOST_PORT: Final = re.compile(
    r"(?<![\w.:/@-])(?P<host>[A-Za-z][\w.-]*):(?P<port>\d{1,5})(?![\w.:])"
)


def _addresses(
    ctx: Collector, owner: str | None, assignment: Assignment, value: str, source: str
) -> None:
    if is_caller_list(assignment.name):
        return  # `CORS_ALLOWED_ORIGINS=http://localhost:3000`: where callers are
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
    if found_url or not is_address_variable(assignment.name):
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
                target,
                port,
                location,
                source,
                port_name=kind,
                variable=assignment.name,
                reference=True,
                owner=owner,
                host=host,
                side=reference_side(host),
            )
        )
    if owner and normalize_name(owner) != normalize_name(target) and not on_host_machine(host):
        ctx.dependency(owner, target, line, at, source, ENV_URL)
