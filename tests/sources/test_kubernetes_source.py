"""The Kubernetes source: Services, workloads, probes, env, multi-document files and Lists
-> exact observations (service, port, protocol, address, exposure, line, column)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from portplan.model import Exposure
from portplan.reconcile import reconcile
from portplan.sources import detect, scan
from portplan.sources.base import SourceResult
from portplan.sources.kubernetes import parse_kubernetes, read_kubernetes

RESOURCES = Path(__file__).resolve().parents[1] / "resources" / "k8s"
PUBLIC, INTERNAL, LOCAL = Exposure.PUBLIC, Exposure.INTERNAL, Exposure.LOCAL

Row = tuple[Any, ...]


def port_rows(result: SourceResult) -> list[Row]:
    return [
        (
            p.service, p.number, p.protocol, p.address, p.exposure, p.published, p.target,
            p.port_name, p.variable, p.location.line, p.location.column,
        )
        for p in result.ports
    ]  # fmt: skip


def read(name: str) -> SourceResult:
    return read_kubernetes(str(RESOURCES / name))


@pytest.fixture(scope="module")
def manifests() -> SourceResult:
    return read("services/token-engine.yaml")


def test_services_and_workloads(manifests: SourceResult) -> None:
    assert [(s.service, s.location.line, s.location.column) for s in manifests.services] == [
        ("token-engine", 4, 9),  # Service
        ("gateway", 23, 9),  # Service (NodePort)
        ("edge", 36, 10),  # Service (LoadBalancer), quoted name
        ("token-engine", 47, 9),  # Deployment
        ("gateway", 88, 9),  # DaemonSet
        ("reporter", 109, 9),  # CronJob
    ]  # the ConfigMap and the Ingress say nothing about ports


SERVICE_PORTS: list[tuple[str, list[Row]]] = [
    (
        "port 80, named targetPort http -> the selected pods' containerPort 8081",
        [("token-engine", 80, "tcp", None, INTERNAL, False, 8081, "http", None, 10, 13)],
    ),
    (
        "port and numeric targetPort",
        [("token-engine", 50051, "tcp", None, INTERNAL, False, 50051, "grpc", None, 13, 13)],
    ),
    (
        "another targetPort than port",
        [("token-engine", 9090, "tcp", None, INTERNAL, False, 9464, "metrics", None, 17, 13)],
    ),
    (
        "NodePort: port inside the cluster, nodePort on every node",
        [
            ("gateway", 8080, "tcp", None, INTERNAL, False, 8080, None, None, 29, 13),
            ("gateway", 30080, "tcp", None, PUBLIC, True, 8080, None, None, 31, 17),
        ],
    ),
    (
        "LoadBalancer: port published",
        [("edge", 443, "tcp", None, PUBLIC, True, 8443, None, None, 40, 13)],
    ),
]

WORKLOAD_PORTS: list[tuple[str, list[Row]]] = [
    (
        "container ports",
        [
            ("token-engine", 8081, "tcp", None, INTERNAL, False, 8081, "http", None, 61, 30),
            ("token-engine", 50051, "tcp", None, INTERNAL, False, 50051, "grpc", None, 63, 30),
            ("token-engine", 9464, "tcp", None, INTERNAL, False, 9464, "metrics", None, 64, 30),
        ],
    ),
    (
        "probes: httpGet on a named port, tcpSocket, grpc",
        [
            ("token-engine", 8081, "tcp", None, None, False, 8081, "http", None, 77, 21),
            ("token-engine", 8081, "tcp", None, None, False, 8081, None, None, 80, 21),
            ("token-engine", 50051, "tcp", None, None, False, 50051, None, None, 83, 21),
        ],
    ),
    (
        "env: a port variable and an URL",
        [
            ("token-engine", 8081, "tcp", None, None, None, None, "http", "HTTP_PORT", 68, 23),
            ("nats", 4222, "tcp", None, None, None, None, None, "NATS_URL", 70, 34),
        ],
    ),
    (
        "hostPort on hostIP, hostPort on every address, a probe on a named port",
        [
            ("gateway", 80, "tcp", "127.0.0.1", LOCAL, True, 8080, "web", None, 99, 25),
            ("gateway", 443, "tcp", None, PUBLIC, True, 8443, None, None, 102, 25),
            ("gateway", 8080, "tcp", None, None, False, 8080, "web", None, 104, 43),
        ],
    ),
    (
        "CronJob pod on the host network",
        [("reporter", 9100, "tcp", None, None, True, 9100, None, None, 120, 34)],
    ),
]


@pytest.mark.parametrize(
    ("what", "expected"),
    SERVICE_PORTS + WORKLOAD_PORTS,
    ids=[w for w, _ in SERVICE_PORTS + WORKLOAD_PORTS],
)
def test_ports(manifests: SourceResult, what: str, expected: list[Row]) -> None:
    rows = port_rows(manifests)
    assert [row for row in rows if row in expected] == expected


def test_every_port_is_pinned(manifests: SourceResult) -> None:
    pinned = [row for _, rows in SERVICE_PORTS + WORKLOAD_PORTS for row in rows]
    assert sorted(port_rows(manifests), key=repr) == sorted(pinned, key=repr)
    assert len(port_rows(manifests)) == len(pinned)


def test_env(manifests: SourceResult) -> None:
    assert [
        (v.service, v.name, v.value, v.secret, v.location.line, v.location.column)
        for v in manifests.variables
    ] == [
        ("token-engine", "HTTP_PORT", "8081", False, 67, 21),
        ("token-engine", "NATS_URL", "nats://nats:4222", False, 69, 21),
        ("token-engine", "DATABASE_PASSWORD", None, False, 71, 21),  # valueFrom: a reference
    ]
    assert [
        (d.service, d.target, d.via, d.location.line, d.location.column)
        for d in manifests.dependencies
    ] == [("token-engine", "nats", "env-url", 70, 22)]


def test_a_service_and_its_pods_agree() -> None:
    # port 80 -> targetPort http -> containerPort 8081: one port, no drift; two Services
    # may both use a port (each has its own address).
    assert reconcile([read("services/token-engine.yaml")]) == []


def test_list_kind() -> None:
    result = read("list/list.yaml")
    assert [(s.service, s.location.line) for s in result.services] == [
        ("risk-engine", 7),
        ("risk-engine", 14),
    ]  # the Secret is ignored
    assert port_rows(result) == [
        ("risk-engine", 8084, "tcp", None, INTERNAL, False, 8084, "http", None, 10, 30),
        ("risk-engine", 8084, "tcp", None, INTERNAL, False, 8084, "http", None, 19, 43),
    ]
    assert "hunter2" not in repr(result)


def test_a_broken_document_is_one_error_and_the_others_are_read() -> None:
    path = RESOURCES / "broken" / "manifests.yaml"
    result = read_kubernetes(str(path))
    assert [(e.location.line, e.location.column, e.message) for e in result.errors] == [
        (
            15,
            5,
            f"could not read {path}:15:5: invalid YAML: did not find expected node content "
            "(while parsing a flow node that starts at line 15, column 5)",
        )
    ]
    assert [(p.service, p.number, p.location.line) for p in result.ports] == [
        ("ledger", 8090, 7),
        ("clearing", 8091, 25),
    ]
    found = reconcile(scan([path]))
    assert [(f.rule, f.locations[0].line) for f in found] == [("PP209", 15)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"kind: Service\x00\n",
            "could not read k.yaml:1:14: is a binary file, not YAML (NUL byte)",
        ),
        (
            b"kind: Service\nmetadata: {name: caf\xe9}\n",
            "could not read k.yaml:2:21: cannot decode the text here: expected UTF-8",
        ),
    ],
)
def test_unreadable_bytes_are_one_error(data: bytes, message: str) -> None:
    result = parse_kubernetes(data, "k.yaml")
    assert [e.message for e in result.errors] == [message]


@pytest.mark.parametrize(
    ("name", "head", "kind"),
    [
        ("svc.yaml", "apiVersion: v1\nkind: Service\n", "kubernetes"),
        ("values.yaml", "replicaCount: 2\n", None),
        ("svc.json", "apiVersion: v1\nkind: Service\n", None),
    ],
)
def test_detection(tmp_path: Path, name: str, head: str, kind: str | None) -> None:
    path = tmp_path / name
    path.write_text(head)
    assert detect(str(path)) == kind


def test_images_app_protocol_names_and_probe_health() -> None:
    """A workload's first container's image; a Service port without `name` named by its
    `appProtocol`; the first httpGet probe's path and (resolved) port as health check."""
    result = parse_kubernetes(
        "apiVersion: v1\nkind: Service\nmetadata: {name: api}\nspec:\n"
        "  selector: {app: api}\n"
        "  ports:\n"
        "    - {port: 80, targetPort: 8080, appProtocol: kubernetes.io/h2c}\n"
        "    - {port: 9090, appProtocol: grpc}\n"
        "    - {port: 81, name: web, appProtocol: http}\n"
        "---\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n"
        "  template:\n"
        "    metadata: {labels: {app: api}}\n"
        "    spec:\n"
        "      initContainers: [{name: init, image: busybox}]\n"
        "      containers:\n"
        "        - name: api\n"
        "          image: ghcr.io/acme/api:1.2\n"
        "          ports: [{name: http, containerPort: 8080}]\n"
        "          readinessProbe: {httpGet: {path: /ready, port: http}}\n"
        "        - name: sidecar\n"
        "          image: envoyproxy/envoy:v1.30\n"
        "          livenessProbe: {httpGet: {port: 9901}}\n",
        "api.yaml",
    )
    assert [(s.service, s.image, s.health_path, s.health_port) for s in result.services] == [
        ("api", None, None, None),  # the Service
        ("api", "ghcr.io/acme/api:1.2", "/ready", 8080),  # the Deployment
    ]
    assert [(p.number, p.port_name) for p in result.ports if p.published is not None][:3] == [
        (80, "http"),
        (9090, "grpc"),
        (81, "web"),
    ]
    assert result.errors == []
