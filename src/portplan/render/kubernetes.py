"""`kubernetes`: per service a Service and a Deployment patch (container ports and probes).

`kubernetes/<service>.yaml` holds the documents meant for kustomize or `kubectl patch`: the
Service (and a `-internal` or `-public` one for ports of the other exposure), and a
strategic-merge patch of the Deployment of the same name that sets the container's ports,
its readiness and liveness probes, and the pod label the Services select.

Every object (and the pod template) is labelled `app.kubernetes.io/name: <service>`,
`app.kubernetes.io/part-of: <system>` (when the plan names one) and
`app.kubernetes.io/managed-by: portplan`: the Kubernetes source reads a Service back as the
service its pods' name label names, whatever the Service is called.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any, Final

from portplan.model import Exposure, Health, Port, Service, Topology
from portplan.render import Artifact, Options
from portplan.render._common import declared_health, deployed, header
from portplan.render._yaml import dump_yaml

TARGET = "kubernetes"
MANAGER: Final = "portplan"
PERIOD_SECONDS: Final = 10
_NOT_DNS: Final = re.compile(r"[^a-z0-9-]+")
_LETTER: Final = re.compile(r"[a-z]")


def render(topology: Topology, options: Options) -> list[Artifact]:
    return [
        Artifact(f"kubernetes/{dns_name(s.name)}.yaml", _manifest(topology, s, options))
        for s in deployed(topology)
        if s.ports
    ]


def _manifest(topology: Topology, service: Service, options: Options) -> str:
    documents = (*k8s_services(topology, service), deployment_patch(topology, service))
    return header(options, TARGET) + "---\n".join(dump_yaml(d) for d in documents)


@lru_cache(maxsize=65_536)
def dns_name(name: str) -> str:
    """A DNS-1123 label: 'Token Engine' -> 'token-engine'."""
    return _NOT_DNS.sub("-", name.lower()).strip("-")[:63] or "service"


def port_name(port: Port) -> str:
    """An IANA service name (15 characters at most, with a letter) for a port."""
    return _iana_name(port.name, port.number)


def port_names(service: Service) -> dict[str, str]:
    """Port name -> a name unique among the service's ports (`metrics-inter-2` when two
    long names cut to 15 characters would be one: a Service's port names must differ)."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for port in service.ports:
        name = port_name(port)
        count = 1
        while name in taken:
            count += 1
            suffix = f"-{count}"
            name = port_name(port)[: 15 - len(suffix)].rstrip("-") + suffix
        taken.add(name)
        names[port.name] = name
    return names


@lru_cache(maxsize=65_536)
def _iana_name(name: str, number: int) -> str:
    found = _NOT_DNS.sub("-", name.lower()).strip("-")[:15].strip("-")
    return found if _LETTER.search(found) else f"p-{number}"[:15]


def _labels(topology: Topology, service: Service) -> dict[str, str]:
    labels = {"app.kubernetes.io/name": dns_name(service.name)}
    if topology.system:
        labels["app.kubernetes.io/part-of"] = dns_name(topology.system)
    labels["app.kubernetes.io/managed-by"] = MANAGER
    return labels


def k8s_services(topology: Topology, service: Service) -> list[dict[str, Any]]:
    """The Services: a LoadBalancer for the public ports, a ClusterIP for the others. The
    one of the service's own exposure is named after it; the other (when the exposure of
    some ports differs) gets `-internal` or `-public` after the name."""
    public = [p for p in service.ports if _load_balanced(service, p)]
    other = [p for p in service.ports if not _load_balanced(service, p)]
    if service.exposure is Exposure.PUBLIC:
        groups = [("", True, public), ("-internal", False, other)]
    else:
        groups = [("", False, other), ("-public", True, public)]
    return [
        _service_document(topology, service, suffix, load_balancer, ports)
        for suffix, load_balancer, ports in groups
        if ports
    ]


def _load_balanced(service: Service, port: Port) -> bool:
    return port.published and service.exposure_of(port) is Exposure.PUBLIC


def k8s_service(topology: Topology, service: Service) -> dict[str, Any]:
    """The Service named after the service (the first of `k8s_services`)."""
    found = k8s_services(topology, service)
    public = service.exposure is Exposure.PUBLIC
    return found[0] if found else _service_document(topology, service, "", public, [])


def _service_document(
    topology: Topology,
    service: Service,
    suffix: str,
    load_balancer: bool,
    ports: list[Port],
) -> dict[str, Any]:
    """A Service: the plan's number is the Service's port; `targetPort` names the
    container's port (`target`)."""
    names = port_names(service)
    name = dns_name(service.name)[: 63 - len(suffix)].rstrip("-") + suffix
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": _labels(topology, service)},
        "spec": {
            "type": "LoadBalancer" if load_balancer else "ClusterIP",
            "selector": {"app.kubernetes.io/name": dns_name(service.name)},
            "ports": [
                {
                    "name": names[p.name],
                    "port": p.number,
                    "targetPort": names[p.name],
                    "protocol": p.protocol.upper(),
                }
                for p in ports
            ],
        },
    }


def deployment_patch(topology: Topology, service: Service) -> dict[str, Any]:
    """The container's ports and its probes, which call the container's port (by name; a
    gRPC probe takes only a number); the pods labelled as the Services select them."""
    names = port_names(service)
    container: dict[str, Any] = {
        "name": dns_name(service.name),
        "ports": [
            {
                "name": names[p.name],
                "containerPort": p.container_port,
                "protocol": p.protocol.upper(),
            }
            for p in service.ports
        ],
    }
    probe = _probe(service, names)
    if probe is not None:
        container["readinessProbe"] = probe
        container["livenessProbe"] = {**probe, "failureThreshold": 3}
    labels = _labels(topology, service)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": dns_name(service.name), "labels": labels},
        "spec": {"template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}}},
    }


def _probe(service: Service, names: dict[str, str]) -> dict[str, Any] | None:
    port = next((p for p in service.ports if declared_health(p) is not None), None)
    health = declared_health(port) if port is not None else None
    if port is None or health is None:
        return None
    return {
        **_ACTIONS[health.kind](port, names[port.name], health),
        "periodSeconds": PERIOD_SECONDS,
        "timeoutSeconds": max(1, math.ceil(health.timeout_ms / 1000)),
    }


def _http(port: Port, name: str, health: Health) -> dict[str, Any]:
    return {"httpGet": {"path": health.path or "/", "port": name}}


def _tcp(port: Port, name: str, health: Health) -> dict[str, Any]:
    return {"tcpSocket": {"port": name}}


def _grpc(port: Port, name: str, health: Health) -> dict[str, Any]:
    action: dict[str, Any] = {"port": port.container_port}
    if health.grpc_service:
        action["service"] = health.grpc_service
    return {"grpc": action}


_ACTIONS: Final[dict[str, Callable[[Port, str, Health], dict[str, Any]]]] = {
    "http": _http,
    "tcp": _tcp,
    "grpc": _grpc,
}
