"""`env`: the system-wide `service-ports.env` and one `env/<service>.env` per service.

A service's file holds its own ports under the variables it reads (HTTP_PORT, GRPC_PORT...),
a URL for each dependency with the scheme of the port kind (under the name the service
already uses for it, such as DATABASE_URL, else `<DEPENDENCY>_URL`), then the rest of its
declared environment. Secret values are never written: a reference (`${JWT_SECRET}`) is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final
from urllib.parse import urlsplit

from portplan.model import EnvVar, Port, Service, Topology
from portplan.render import Artifact, Options
from portplan.render._common import (
    KIND_NAMES,
    by_host,
    deployed,
    env_name,
    header,
    port_suffix,
    port_variable,
    scheme,
    url_from,
)
from portplan.secretscan.detect import secret

TARGET = "env"
SYSTEM_FILE = "service-ports.env"
_PLAIN: Final = re.compile(r"[\w.:/@${}\-+,=%?&*~\[\]]*")
_FILE_NAME: Final = re.compile(r"[^\w.-]+")


def render(topology: Topology, options: Options) -> list[Artifact]:
    artifacts = [
        Artifact(folder + SYSTEM_FILE, _system_file(services, options))
        for folder, services in by_host(topology)
    ]
    for service in deployed(topology):
        if service.ports or service.depends_on or service.environment:
            artifacts.append(
                Artifact(service_file(service), _service_text(topology, service, options))
            )
    return artifacts


def service_file(service: Service) -> str:
    """`env/<service>.env`: the dotenv reader takes the owner from the file name."""
    return f"env/{_FILE_NAME.sub('-', service.name)}.env"


# --- service-ports.env ------------------------------------------------------------------


def _system_file(services: list[Service], options: Options) -> str:
    """The host ports of one host's services (one file per host: `by_host`)."""
    lines = [header(options, TARGET)]
    for category, grouped in _by_category(services).items():
        lines.append(f"\n# {category}\n")
        lines.extend(_system_line(s, p, i) for s in grouped for i, p in enumerate(s.ports))
    return "".join(lines)


def _system_line(service: Service, port: Port, index: int) -> str:
    """`NAME=8081`; a port kept off the host (`published: false`) claims no host port, so
    it is a comment: `# NAME=3000 (not published: on its container network only)`."""
    assignment = f"{system_variable(service, port, index)}={port.number}"
    if port.published:
        return assignment + "\n"
    return f"# {assignment} (not published: on its container network only)\n"


def _by_category(services: list[Service]) -> dict[str, list[Service]]:
    groups: dict[str, list[Service]] = {}
    for service in services:
        if service.ports:
            groups.setdefault(service.category or "services", []).append(service)
    return groups


def system_variable(service: Service, port: Port, index: int) -> str:
    """TOKEN_ENGINE_HTTP_PORT, TOKEN_ENGINE_GRPC_PORT; POSTGRES_PORT for a first port whose
    name is not a port kind; NATS_MONITORING_PORT for the others; RTP_UDP_PORT for udp."""
    prefix = env_name(service.name)
    if port.name.lower() in KIND_NAMES or index > 0:
        return f"{prefix}_{env_name(port.name)}{port_suffix(port)}"
    return f"{prefix}{port_suffix(port)}"


# --- env/<service>.env --------------------------------------------------------------------


def _service_text(topology: Topology, service: Service, options: Options) -> str:
    lines = [header(options, TARGET), f"# {service.name}\n"]
    lines.extend(
        f"{name}={_quote(value)}\n" for name, value in service_variables(topology, service)
    )
    return "".join(lines)


def service_variables(topology: Topology, service: Service) -> list[tuple[str, str]]:
    """(name, value) pairs of a service's environment, no secret among the values."""
    found: dict[str, str] = {}
    for name, value in (
        *_port_variables(service),
        *_dependency_urls(topology, service),
        *_declared(service),
    ):
        found.setdefault(name, value)
    return list(found.items())


def _port_variables(service: Service) -> Iterator[tuple[str, str]]:
    """The ports the service listens on: inside its container, `target` (where others
    reach it, `port`, is what service-ports.env and the URLs give). Two ports published
    from one container port (`8080:80` and `8081:80`, or an IPv4 and an IPv6 binding) are
    one port the program listens on, under one variable: the first port's that declares
    an `env:`, else the one published on its own number (`80:80`: its variable holds 80
    in service-ports.env too), else the first port's."""
    listened: dict[tuple[int, str], Port] = {}
    for port in sorted(service.ports, key=_variable_order):  # stable: in order
        listened.setdefault((port.container_port, port.protocol), port)
    for port in service.ports:
        if listened[(port.container_port, port.protocol)] is port:
            yield port_variable(service, port), str(port.container_port)


def _variable_order(port: Port) -> tuple[bool, bool]:
    return port.env is None, port.number != port.container_port


def _dependency_urls(topology: Topology, service: Service) -> Iterator[tuple[str, str]]:
    for dependency in service.depends_on:
        target = topology.resolve(dependency.name)
        if target is None or not target.ports:
            continue
        port = target.ports[0]
        declared = _declared_url(service, target, port)
        base = url_from(topology, service, target, port)
        if declared is None:
            yield f"{env_name(target.name)}_URL", base
        elif declared.value is None:
            yield declared.name, base
        elif secret(declared.name, declared.value) is not None:
            # The stated value cannot be written (a literal password): the URL is built
            # again, its password as a reference. A value the plan states otherwise (even
            # `${DB_PASSWORD}@postgres`) is kept exactly as written, by `_declared`.
            yield declared.name, _with_parts(base, declared)


def _declared_url(service: Service, target: Service, port: Port) -> EnvVar | None:
    """The variable the service already reaches `target` with (by port or scheme)."""
    own = f"{env_name(target.name)}_URL"
    for var in service.environment:
        if var.name == own:
            return var
    for var in service.environment:
        parts = _split(var.value)
        if parts is None:
            continue
        same_scheme = parts[0] == scheme(port) and scheme(port) not in ("http", "grpc", "tcp")
        if parts[1] in (port.number, port.container_port) or same_scheme:
            return var
    return None


def _split(value: str | None) -> tuple[str, int | None] | None:
    if not value or "://" not in value:
        return None
    try:
        parts = urlsplit(value)
        return parts.scheme.lower(), parts.port
    except ValueError:
        return None


def _with_parts(base: str, declared: EnvVar) -> str:
    """`base` with the declared URL's user, path and query; its password as a reference."""
    parts = urlsplit(declared.value or "")
    user = parts.username or ""
    if parts.password is not None:
        user += f":${{{_stem(declared.name)}_PASSWORD}}"
    scheme_part, _, address = base.partition("://")
    query = f"?{parts.query}" if parts.query else ""
    userinfo = f"{user}@" if user else ""
    return f"{scheme_part}://{userinfo}{address}{parts.path}{query}"


def _stem(name: str) -> str:
    return re.sub(r"_?(URL|URI|DSN)$", "", name, flags=re.IGNORECASE) or name


def _declared(service: Service) -> Iterator[tuple[str, str]]:
    for var in service.environment:
        if var.value is None or secret(var.name, var.value) is not None:
            yield var.name, f"${{{var.name}}}"
        else:
            yield var.name, var.value


def _quote(value: str) -> str:
    if _PLAIN.fullmatch(value):
        return value
    if "'" not in value:
        return f"'{value}'"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'
