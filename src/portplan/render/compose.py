"""`compose`: the `ports`, `expose`, `networks` and `healthcheck` of each service.

Written as an override file (`compose.ports.yaml`, used with `docker compose -f compose.yaml
-f compose.ports.yaml`), or merged into an existing compose file (`Options.compose_base`),
keeping its comments and order. Public ports are published; local ones are bound to
127.0.0.1; internal ones are only exposed to the other containers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from portplan.model import Port, Service, Topology
from portplan.render import Artifact, Options
from portplan.render._common import by_host, declared_health, deployed, header
from portplan.render._compose_parts import (
    expose_text,
    health_settings,
    health_test,
    is_published,
    planned_address,
)
from portplan.render._yaml import Quoted, dump_yaml

TARGET = "compose"
OVERRIDE_FILE = "compose.ports.yaml"


def render(topology: Topology, options: Options) -> list[Artifact]:
    if options.compose_base is not None:
        from portplan.render._compose_merge import merge

        path, text = options.compose_base
        return [merge(text, path, topology)]
    return [
        Artifact(
            folder + OVERRIDE_FILE,
            header(options, TARGET) + dump_yaml(compose_sections(topology, services)),
        )
        for folder, services in by_host(topology)
    ]


def compose_sections(
    topology: Topology, services: Iterable[Service] | None = None
) -> dict[str, Any]:
    """{"services": {name: {ports, expose, networks, healthcheck}}, "networks": {...}} of
    `services` (every deployed service by default): one compose project."""
    chosen = deployed(topology) if services is None else services
    sections = {s.name: body for s in chosen if (body := service_sections(s))}
    document: dict[str, Any] = {"services": sections}
    networks = _networks(topology, sections)
    if networks:
        document["networks"] = networks
    return document


def service_sections(service: Service) -> dict[str, Any]:
    body: dict[str, Any] = {}
    published = [_published(service, p) for p in service.ports if is_published(service, p)]
    exposed = [_exposed(p) for p in service.ports if not is_published(service, p)]
    if published:
        body["ports"] = published
    if exposed:
        body["expose"] = exposed
    if service.networks:
        body["networks"] = list(service.networks)
    check = healthcheck(service)
    if check is not None:
        body["healthcheck"] = check
    return body


def _published(service: Service, port: Port) -> Quoted:
    """'8088:80', '127.0.0.1:9001:9001', '[::1]:9002:9002', '10.0.0.5:443:443/udp': the
    plan's number published on the host, mapped to the container's port (`target`)."""
    address = planned_address(service, port)
    host = f"[{address}]" if address and ":" in address else address
    prefix = f"{host}:" if host else ""
    return Quoted(f"{prefix}{port.number}:{expose_text(port.container_port, port.protocol)}")


def _exposed(port: Port) -> Quoted:
    return Quoted(expose_text(port.container_port, port.protocol))


def _networks(topology: Topology, services: dict[str, Any]) -> dict[str, Any]:
    names = sorted({n for body in services.values() for n in body.get("networks", ())})
    result: dict[str, Any] = {}
    for name in names:
        network = topology.networks.get(name)
        subnet = network.subnet if network is not None else None
        result[name] = {"ipam": {"config": [{"subnet": subnet}]}} if subnet else {}
    return result


# --- health checks ------------------------------------------------------------------------


def healthcheck(service: Service) -> dict[str, Any] | None:
    """The compose healthcheck of the first port that declares a health check, calling the
    port inside the container (a healthcheck runs there)."""
    port = next((p for p in service.ports if declared_health(p) is not None), None)
    health = declared_health(port) if port is not None else None
    if port is None or health is None:
        return None
    return {"test": health_test(health, port.container_port), **health_settings(health)}
