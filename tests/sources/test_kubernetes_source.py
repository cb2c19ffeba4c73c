"""The Kubernetes source: Services, workloads, probes, env, multi-document files and Lists
-> exact observations (service, port, protocol, address, exposure, line, column)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from portplan.findings import Level
from portplan.model import Exposure
from portplan.plan.loader import load_text
from portplan.reconcile.core import reconcile
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
        "NodePort: public, its port on the cluster IP (unpublished), its nodePort on every node",
        [("gateway", 8080, "tcp", None, PUBLIC, False, 8080, None, None, 29, 13)],
    ),
    (
        "LoadBalancer: public, on an address of its own (no host port)",
        [("edge", 443, "tcp", None, PUBLIC, False, 8443, None, None, 40, 13)],
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
        (None, "HTTP_PORT", "9999", False, 127, 3),  # the ConfigMap: no workload reads it
        (None, "port", "9999", False, 128, 3),
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
        ("settings.yaml", "replicaCount: 2\n", None),
        ("values.yaml", "replicaCount: 2\n", "code"),  # a Helm chart's values, read as code
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


# --- one cluster: references across files ----------------------------------------------

CLUSTER = RESOURCES / "cluster"


def _at(location: Any) -> str:
    return f"{Path(location.file).name}:{location.line}:{location.column}"


def test_cross_file_references_that_nothing_declares() -> None:
    """A Service's targetPort (a number, a name, or its port by default), a probe's port and
    an Ingress backend's port (number or name) checked against what the other files declare;
    a selector or Service nobody defines (`unknown`) is not checked."""
    pods = ["web.yaml:14:43", "web.yaml:15:46"]
    service = ["service.yaml:8:26", "service.yaml:9:25", "service.yaml:10:27"]
    service += ["service.yaml:11:29", "service.yaml:12:27"]
    ports = "(http 80, alt 81, stats 9100, metrics 9113, admin 9000)"
    found = [f for f in reconcile(scan([CLUSTER])) if f.rule == "PP214"]
    assert [(f.level.name, [_at(loc) for loc in f.locations], f.message) for f in found] == [
        (
            "ERROR",
            ["ingress.yaml:17:32", *service],
            f"Ingress front: backend web port 8080 is not a port of Service web {ports}",
        ),
        (
            "ERROR",
            ["ingress.yaml:21:49", *service],
            f"Ingress front: backend web port name grpc names no port of Service web {ports}",
        ),
        (
            "ERROR",
            ["service.yaml:8:42", *pods],
            "web: targetPort 8080 is not a container port of the pods it selects "
            "(web: http 80, metrics 9113)",
        ),
        (
            "ERROR",
            ["service.yaml:10:45", *pods],
            "web: targetPort stats names no container port of the pods it selects "
            "(web: http 80, metrics 9113)",
        ),
        (
            "WARNING",
            ["service.yaml:12:27", *pods],
            "web: port 9000 (no targetPort) is not a container port of the pods it selects "
            "(web: http 80, metrics 9113); the Service's other ports reach declared ones: "
            "it may listen undeclared",
        ),
        (
            "ERROR",
            ["web.yaml:19:43", *pods],
            "web: readinessProbe port 8080 is not a container port of its pod "
            "(http 80, metrics 9113)",
        ),
        (
            "ERROR",
            ["web.yaml:21:42", *pods],
            "web: livenessProbe port admin names no container port of its pod "
            "(http 80, metrics 9113)",
        ),
    ]


_BROKER = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: broker}
spec:
  template:
    metadata: {labels: {app: broker}}
    spec:
      containers:
        - name: broker
          image: example/broker:3
          ports: [{containerPort: 5672}, {containerPort: 15672}]
---
apiVersion: v1
kind: Service
metadata: {name: broker}
spec:
  selector: {app: broker}
  ports:
    - {name: amqp, port: 5672, targetPort: 5672}
    - {name: ui, port: 15672, targetPort: 15672}
    - {name: cluster, port: 4369, targetPort: 4369}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: front}
spec:
  template:
    metadata: {labels: {app: front}}
    spec:
      containers: [{name: front, image: example/front:1, ports: [{containerPort: 3000}]}]
---
apiVersion: v1
kind: Service
metadata: {name: front}
spec:
  selector: {app: front}
  ports: [{port: 80, targetPort: 80}]
"""


def test_undeclared_target_beside_reached_ports_is_a_warning(tmp_path: Path) -> None:
    """A numeric targetPort the pods do not declare: a warning when the Service's other
    ports reach declared ones (the container lists only some of its ports), an error when
    none does (the Service reaches nothing: front's 80 against the pods' only 3000)."""
    (tmp_path / "stack.yaml").write_text(_BROKER)
    found = [f for f in reconcile(scan([tmp_path])) if f.rule == "PP214"]
    assert [(f.level.name, _at(f.locations[0]), f.message) for f in found] == [
        (
            "WARNING",
            "stack.yaml:21:47",
            "broker: targetPort 4369 is not a container port of the pods it selects "
            "(broker: 5672, 15672); the Service's other ports reach declared ones: "
            "it may listen undeclared",
        ),
        (
            "ERROR",
            "stack.yaml:37:34",
            "front: targetPort 80 is not a container port of the pods it selects (front: 3000)",
        ),
    ]


def test_service_ports_node_ports_and_exposure() -> None:
    """One observation per Service port: a named targetPort resolved in another file's pods;
    NodePort: public, unpublished, its nodePort kept; headless (clusterIP: None): internal."""
    (result,) = [r for r in scan([CLUSTER]) if r.file.endswith("service.yaml")]
    assert [
        (p.service, p.number, p.target, p.node_port, p.exposure, p.published, _at(p.location))
        for p in result.ports
    ] == [
        ("web", 80, 8080, None, INTERNAL, False, "service.yaml:8:26"),
        ("web", 81, 80, None, INTERNAL, False, "service.yaml:9:25"),  # targetPort http
        ("web", 9100, None, None, INTERNAL, False, "service.yaml:10:27"),
        ("web", 9113, 9113, None, INTERNAL, False, "service.yaml:11:29"),
        ("web", 9000, 9000, None, INTERNAL, False, "service.yaml:12:27"),
        ("payments", 8081, 8082, 30081, PUBLIC, False, "service.yaml:22:13"),
        ("redis", 6379, 6379, None, INTERNAL, False, "service.yaml:33:18"),
    ]


def test_a_config_map_is_read_like_an_env_file_of_the_workload_that_reads_it() -> None:
    """`data` entries named like variables (not `application.properties`), owned by the one
    workload whose `envFrom` reads the ConfigMap: REDIS_URL's port disagrees with redis'."""
    (result,) = [r for r in scan([CLUSTER]) if r.file.endswith("config.yaml")]
    assert [(v.service, v.name, v.value, _at(v.location)) for v in result.variables] == [
        ("web", "REDIS_URL", "redis://redis:6380/0", "config.yaml:5:3")
    ]
    assert [(p.service, p.number, p.variable, _at(p.location)) for p in result.ports] == [
        ("redis", 6380, "REDIS_URL", "config.yaml:5:28")
    ]
    assert [(d.service, d.target, d.via) for d in result.dependencies] == [
        ("web", "redis", "env-url")
    ]
    drift = [f for f in reconcile(scan([CLUSTER])) if f.rule in ("PP201", "PP216")]
    assert [(f.level.name, f.message, [_at(loc) for loc in f.locations]) for f in drift] == [
        (
            "ERROR",
            "web: REDIS_URL (redis:6380) reaches redis on 6380, but redis listens on 6379",
            ["config.yaml:5:28", "service.yaml:33:18"],
        )
    ]


def test_a_config_map_read_by_two_workloads_has_no_owner() -> None:
    result = parse_kubernetes(
        "kind: ConfigMap\nmetadata: {name: shared}\ndata: {API_URL: 'http://api:8080'}\n---\n"
        + "".join(
            f"kind: Pod\nmetadata: {{name: {name}}}\nspec:\n  containers:\n"
            "    - {name: c, envFrom: [{configMapRef: {name: shared}}]}\n---\n"
            for name in ("a", "b")
        ),
        "k.yaml",
    )
    assert [(v.service, v.name) for v in result.variables] == [(None, "API_URL")]
    assert result.dependencies == []


def test_a_go_template_is_one_note_not_an_error() -> None:
    """A manifest that only parses as a Go template (no Chart.yaml around it): one info
    note at the first action on the line the YAML fails on; the other documents are read."""
    result = parse_kubernetes(
        'apiVersion: v1\nkind: Service\nmetadata:\n  name: "{{ .Release.Name }}-api"\n'
        "spec:\n  ports:\n    - port: {{ .Values.port }}\n"
        "---\n"
        "kind: Service\nmetadata: {name: a}\nspec:\n  ports:\n    - port: {{ .Values.b }}\n"
        "---\n"
        "kind: Service\nmetadata: {name: db}\nspec: {ports: [{port: 5432}]}\n",
        "svc.yaml",
    )
    assert [(e.level, e.message) for e in result.errors] == [
        (
            Level.INFO,
            "not read svc.yaml:7:13: a Go template ({{ }}), not YAML; render it (helm "
            "template) to reconcile it",
        )
    ]
    assert [(p.service, p.number) for p in result.ports] == [("db", 5432)]


def test_example_manifests_are_templates(tmp_path: Path) -> None:
    text = "apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec: {ports: [{port: 5432}]}\n"
    (tmp_path / "db.example.yaml").write_text(text)
    (tmp_path / "db.yaml").write_text(text)
    marked = {
        Path(r.file).name: [(p.number, p.template) for p in r.ports]
        + [(s.service, s.template) for s in r.services]
        for r in scan([tmp_path])
    }
    assert marked == {
        "db.example.yaml": [(5432, True), ("db", True)],
        "db.yaml": [(5432, False), ("db", False)],
    }


def test_an_url_to_a_service_of_the_cluster_reaches_it_and_host_network_is_recorded() -> None:
    """`postgres://app@db:5432` in a container's env reaches the cluster's Service `db`
    (not the scheme's postgres); a workload on `hostNetwork` says so."""
    result = parse_kubernetes(
        "apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec:\n  ports: [{port: 5432}]\n"
        "---\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  template:\n"
        "    spec:\n      hostNetwork: true\n      containers:\n        - name: api\n"
        "          env: [{name: DATABASE_URL, value: 'postgres://app@db:5432/app'}]\n",
        "k8s.yaml",
    )
    assert [(s.service, s.host_network) for s in result.services] == [
        ("db", False),
        ("api", True),
    ]
    assert [(p.service, p.number, p.variable) for p in result.ports] == [
        ("db", 5432, None),
        ("db", 5432, "DATABASE_URL"),
    ]
    assert [(d.service, d.target) for d in result.dependencies] == [("api", "db")]


# --- the service a resource belongs to ---------------------------------------------------

NAMES = RESOURCES / "names"


def _named(name: str) -> SourceResult:
    (result,) = [r for r in scan([NAMES]) if r.file.endswith(name)]
    return result


def test_a_charts_objects_are_named_by_the_service_their_labels_name() -> None:
    """`shop-web` (Deployment and LoadBalancer), `web-internal` and `web-headless` are all
    `web`: the pods' `app.kubernetes.io/name` label (over their `app: storefront`) names the
    workload's service, the pods a Service selects name its; each object's own name is an
    alias."""
    result = _named("chart.yaml")
    assert [(s.service, s.aliases, _at(s.location)) for s in result.services] == [
        ("web", ("shop-web",), "chart.yaml:6:9"),  # Deployment
        ("web", ("shop-web",), "chart.yaml:33:9"),  # LoadBalancer
        ("web", ("web-internal",), "chart.yaml:43:9"),
        ("web", ("web-headless",), "chart.yaml:52:9"),
    ]
    assert [(p.service, p.number, p.port_name, _at(p.location)) for p in result.ports] == [
        ("web", 8080, "http", "chart.yaml:23:43"),
        ("web", 50051, "grpc", "chart.yaml:24:43"),
        ("api-svc", 8000, "http", "chart.yaml:26:54"),  # API_URL: the Service's name
        ("web", 8080, "http", "chart.yaml:28:43"),  # readinessProbe
        ("web", 50051, "grpc", "chart.yaml:38:26"),
        ("web", 8080, "http", "chart.yaml:47:26"),
        ("web", 8080, "http", "chart.yaml:57:26"),
    ]
    assert result.mismatches == []


def test_app_labels_a_config_map_and_a_cron_job() -> None:
    """`app: api` names `api-deployment` and the Service `api-svc` that selects it; the
    ConfigMap `api-deployment` reads belongs to `api`; a CronJob's pod label names it."""
    result = _named("api.yaml")
    assert [(s.service, s.aliases, _at(s.location)) for s in result.services] == [
        ("api", ("api-deployment",), "api.yaml:4:9"),
        ("api", ("api-svc",), "api.yaml:18:9"),
        ("report", ("shop-report",), "api.yaml:33:9"),
    ]
    assert [(v.service, v.name, _at(v.location)) for v in result.variables] == [
        ("api", "CACHE_URL", "api.yaml:28:3"),
        ("report", "WEB_ADMIN_URL", "api.yaml:44:28"),
    ]
    assert [(d.service, d.target, _at(d.location)) for d in result.dependencies] == [
        ("api", "cache-svc", "api.yaml:28:14"),
        ("report", "web-internal", "api.yaml:44:51"),
    ]


def test_a_service_selecting_no_one_service_is_named_by_its_labels_then_its_name() -> None:
    """`shop-all` selects the pods of web and api: its `app` label names it; `cache-svc`
    selects nothing: `app.kubernetes.io/name` before `app`; `payments-mirror` selects pods of
    another namespace only: its name; `payments-svc` the pod of its own namespace."""
    result = _named("fallbacks.yaml")
    assert [(s.service, s.aliases, _at(s.location)) for s in result.services] == [
        ("shop", ("shop-all",), "fallbacks.yaml:6:9"),
        ("cache", ("cache-svc",), "fallbacks.yaml:15:9"),
        ("payments-mirror", (), "fallbacks.yaml:24:9"),
        ("payments", ("payments-svc",), "fallbacks.yaml:33:9"),
        ("payments", ("payments-0",), "fallbacks.yaml:42:9"),
    ]
    assert [(p.service, p.number, p.target, _at(p.location)) for p in result.ports] == [
        ("shop", 8443, 8000, "fallbacks.yaml:10:31"),  # targetPort http: api's pods first
        ("cache", 6379, 6379, "fallbacks.yaml:19:31"),
        ("payments-mirror", 8001, 8001, "fallbacks.yaml:28:18"),
        ("payments", 8001, 8001, "fallbacks.yaml:37:18"),
        ("payments", 8001, 8001, "fallbacks.yaml:46:57"),
    ]


NAMES_PLAN = """\
system: shop
services:
  web:
    exposure: public
    ports:
      grpc: 50051
      http: {port: 8080, exposure: internal, health: {path: /ready}}
    depends_on: [api]
  api:
    ports: {http: 8000}
    depends_on: [cache]
  cache:
    ports: {redis: 6379}
  report:
    depends_on: [web]
"""


def test_services_named_after_their_chart_reconcile_with_the_plan_and_each_other() -> None:
    """Against the plan: `web`, `api` and `report` are the plan's, and URLs to `api-svc`,
    `web-internal` and `cache-svc` reach api, web and cache: no finding. Without a plan,
    no finding either (no `web-internal` or `shop-web` beside `web`)."""
    results = scan([NAMES / "chart.yaml", NAMES / "api.yaml"])
    assert [(f.rule, f.message) for f in reconcile(results, load_text(NAMES_PLAN))] == []
    assert [(f.rule, f.message) for f in reconcile(results)] == []


def test_a_probe_and_a_target_port_mismatch_name_the_object_and_belong_to_the_service() -> None:
    result = parse_kubernetes(
        "kind: Deployment\nmetadata: {name: shop-web}\nspec:\n  template:\n"
        "    metadata: {labels: {app: web}}\n    spec:\n      containers:\n"
        "        - name: web\n          ports: [{name: http, containerPort: 8080}]\n"
        "          livenessProbe: {tcpSocket: {port: 9000}}\n"
        "---\n"
        "kind: Service\nmetadata: {name: web-svc}\nspec:\n  selector: {app: web}\n"
        "  ports: [{port: 80, targetPort: admin}]\n",
        "k.yaml",
    )
    assert [(m.service, _at(m.location), m.message) for m in result.mismatches] == [
        (
            "web",
            "k.yaml:10:45",
            "shop-web: livenessProbe port 9000 is not a container port of its pod (http 8080)",
        ),
        (
            "web",
            "k.yaml:16:34",
            "web-svc: targetPort admin names no container port of the pods it selects "
            "(shop-web: http 8080)",
        ),
    ]
