"""`kubernetes`: per service a Service and a Deployment patch (container ports and probes).

`kubernetes/<service>.yaml` holds two documents meant for kustomize or `kubectl patch`: the
Service, and a strategic-merge patch of the Deployment of the same name that sets the
container's ports and its readiness and liveness probes.
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
    documents = (k8s_service(topology, service), deployment_patch(topology, service))
    return header(options, TARGET) + "---\n".join(dump_yaml(d) for d in documents)


@lru_cache(maxsize=65_536)
def dns_name(name: str) -> str:
    """A DNS-1123 label: 'Token Engine' -> 'token-engine'."""
    return _NOT_DNS.sub("-", name.lower()).strip("-")[:63] or "service"


def port_name(port: Port) -> str:
    """An IANA service name (15 characters at most, with a letter) for a port."""
    return _iana_name(port.name, port.number)


@lru_cache(maxsize=65_536)
def _iana_name(name: str, number: int) -> str:
    found = _NOT_DNS.sub("-", name.lower()).strip("-")[:15].strip("-")
    return found if _LETTER.search(found) else f"p-{number}"[:15]


def _labels(topology: Topology, service: Service) -> dict[str, str]:
    labels = {"app.kubernetes.io/name": dns_name(service.name)}
    if topology.system:
        labels["app.kubernetes.io/part-of"] = dns_name(topology.system)
    return labels


def k8s_service(topology: Topology, service: Service) -> dict[str, Any]:
    public = service.exposure is Exposure.PUBLIC
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": dns_name(service.name), "labels": _labels(topology, service)},
        "spec": {
            "type": "LoadBalancer" if public else "ClusterIP",
            "selector": {"app.kubernetes.io/name": dns_name(service.name)},
            "ports": [
                {
                    "name": port_name(p),
                    "port": p.number,
                    "targetPort": port_name(p),
                    "protocol": p.protocol.upper(),
                }
                for p in service.ports
            ],
        },
    }


def deployment_patch(topology: Topology, service: Service) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": dns_name(service.name),
        "ports": [
            {"name": port_name(p), "containerPort": p.number, "protocol": p.protocol.upper()}
            for p in service.ports
        ],
    }
    probe = _probe(service)
    if probe is not None:
        container["readinessProbe"] = probe
        container["livenessProbe"] = {**probe, "failureThreshold": 3}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": dns_name(service.name), "labels": _labels(topology, service)},
        "spec": {"template": {"spec": {"containers": [container]}}},
    }


def _probe(service: Service) -> dict[str, Any] | None:
    port = next((p for p in service.ports if declared_health(p) is not None), None)
    health = declared_health(port) if port is not None else None
    if port is None or health is None:
        return None
    return {
        **_ACTIONS[health.kind](port, health),
        "periodSeconds": PERIOD_SECONDS,
        "timeoutSeconds": max(1, math.ceil(health.timeout_ms / 1000)),
    }


def _http(port: Port, health: Health) -> dict[str, Any]:
    return {"httpGet": {"path": health.path or "/", "port": port_name(port)}}


def _tcp(port: Port, health: Health) -> dict[str, Any]:
    return {"tcpSocket": {"port": port_name(port)}}


def _grpc(port: Port, health: Health) -> dict[str, Any]:
    action: dict[str, Any] = {"port": port.number}
    if health.grpc_service:
        action["service"] = health.grpc_service
    return {"grpc": action}


_ACTIONS: Final[dict[str, Callable[[Port, Health], dict[str, Any]]]] = {
    "http": _http,
    "tcp": _tcp,
    "grpc": _grpc,
}
