"""`prometheus`: `prometheus/scrape-configs.yaml`, a scrape job for every metrics port.

A metrics port is one of kind `metrics` or one that declares a `metrics:` path.
"""

from __future__ import annotations

from typing import Any

from portplan.model import Port, Service, Topology
from portplan.render import Artifact, Options
from portplan.render._common import address, deployed, header
from portplan.render._yaml import dump_yaml

TARGET = "prometheus"
SCRAPE_FILE = "prometheus/scrape-configs.yaml"


def render(topology: Topology, options: Options) -> list[Artifact]:
    jobs = [job for s in deployed(topology) for job in _jobs(topology, s)]
    return [Artifact(SCRAPE_FILE, header(options, TARGET) + dump_yaml({"scrape_configs": jobs}))]


def metrics_ports(service: Service) -> list[Port]:
    return [p for p in service.ports if p.kind == "metrics" or p.metrics_path is not None]


def _jobs(topology: Topology, service: Service) -> list[dict[str, Any]]:
    ports = metrics_ports(service)
    return [
        {
            "job_name": service.name if len(ports) == 1 else f"{service.name}-{port.name}",
            "metrics_path": port.metrics_path or "/metrics",
            "static_configs": [
                {
                    "targets": [address(topology, service, port)],
                    "labels": {"service": service.name, "port": port.name},
                }
            ],
        }
        for port in ports
    ]
