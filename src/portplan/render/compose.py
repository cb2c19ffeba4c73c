"""`compose`: the `ports`, `expose`, `networks` and `healthcheck` of each service.

Written as an override file (`compose.ports.yaml`, used with `docker compose -f compose.yaml
-f compose.ports.yaml`), or merged into an existing compose file (`Options.compose_base`),
keeping its comments and order. Public ports are published; local ones are bound to
127.0.0.1; internal ones are only exposed to the other containers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from portplan.model import Exposure, Health, Port, Service, Topology
from portplan.render import Artifact, Options
from portplan.render._common import declared_health, deployed, duration, header
from portplan.render._yaml import Quoted, dump_yaml

TARGET = "compose"
OVERRIDE_FILE = "compose.ports.yaml"
INTERVAL: Final = "10s"
RETRIES: Final = 3


def render(topology: Topology, options: Options) -> list[Artifact]:
    document = compose_sections(topology)
    if options.compose_base is not None:
        from portplan.render._compose_merge import merge

        path, text = options.compose_base
        return [Artifact(path, merge(text, path, document))]
    return [Artifact(OVERRIDE_FILE, header(options, TARGET) + dump_yaml(document))]


def compose_sections(topology: Topology) -> dict[str, Any]:
    """{"services": {name: {ports, expose, networks, healthcheck}}, "networks": {...}}."""
    services = {s.name: body for s in deployed(topology) if (body := service_sections(s))}
    document: dict[str, Any] = {"services": services}
    networks = _networks(topology, services)
    if networks:
        document["networks"] = networks
    return document


def service_sections(service: Service) -> dict[str, Any]:
    body: dict[str, Any] = {}
    published = [_published(service, p) for p in service.ports if _is_published(service, p)]
    exposed = [_exposed(p) for p in service.ports if not _is_published(service, p)]
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


def _is_published(service: Service, port: Port) -> bool:
    return service.exposure_of(port) is not Exposure.INTERNAL


def _published(service: Service, port: Port) -> Quoted:
    """'8080:8080', '127.0.0.1:9001:9001', '10.0.0.5:443:8443/udp'."""
    address = port.address
    if service.exposure_of(port) is Exposure.LOCAL:
        address = address if address and address.startswith(("127.", "::1")) else "127.0.0.1"
    elif address in (None, "", "0.0.0.0", "*"):
        address = None
    host = f"[{address}]" if address and ":" in address else address
    prefix = f"{host}:" if host else ""
    return Quoted(f"{prefix}{port.number}:{port.number}{_protocol(port)}")


def _exposed(port: Port) -> Quoted:
    return Quoted(f"{port.number}{_protocol(port)}")


def _protocol(port: Port) -> str:
    return "" if port.protocol == "tcp" else f"/{port.protocol}"


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
    """The compose healthcheck of the first port that declares a health check."""
    port = next((p for p in service.ports if declared_health(p) is not None), None)
    health = declared_health(port) if port is not None else None
    if port is None or health is None:
        return None
    return {
        "test": _TESTS[health.kind](port, health),
        "interval": INTERVAL,
        "timeout": duration(health.timeout_ms),
        "retries": RETRIES,
    }


def _http_test(port: Port, health: Health) -> list[str]:
    address = f"http://localhost:{port.number}{health.path or '/'}"
    return ["CMD-SHELL", f"curl -fsS {address} || exit 1"]


def _tcp_test(port: Port, health: Health) -> list[str]:
    return ["CMD-SHELL", f"nc -z localhost {port.number} || exit 1"]


def _grpc_test(port: Port, health: Health) -> list[str]:
    test = ["CMD", "grpc_health_probe", f"-addr=localhost:{port.number}"]
    if health.grpc_service:
        test.append(f"-service={health.grpc_service}")
    return test


_TESTS: Final[dict[str, Callable[[Port, Health], list[str]]]] = {
    "http": _http_test,
    "tcp": _tcp_test,
    "grpc": _grpc_test,
}
