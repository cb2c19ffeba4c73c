"""PP221: the ports a Helm chart's values give, against its rendered templates, the plan
and compose. Charts modelled on `helm create` and on charts that hard-code a port in the
deployment template."""

from __future__ import annotations

from pathlib import Path

import pytest

from portplan.plan.loader import load
from portplan.reconcile.core import reconcile_paths
from portplan.sources.code import helm

CHART = "apiVersion: v2\nname: web\nversion: 0.1.0\n"

VALUES = """\
replicaCount: 1
image:
  repository: example/web
  tag: "1.4"
service:
  type: ClusterIP
  port: 80
containerPort: 3000
env:
  PORT: "3000"
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "web.fullname" . }}
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: web
  template:
    metadata:
      labels:
        app.kubernetes.io/name: web
    spec:
      containers:
        - name: web
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          ports:
            - name: http
              containerPort: {{ .Values.containerPort }}
          env:
            {{- range $k, $v := .Values.env }}
            - name: {{ $k }}
              value: {{ $v | quote }}
            {{- end }}
"""

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ include "web.fullname" . }}
spec:
  type: {{ .Values.service.type }}
  ports:
    - port: {{ .Values.service.port }}
      targetPort: http
      name: http
  selector:
    app.kubernetes.io/name: web
"""


def _chart(root: Path, values: str = VALUES, deployment: str = DEPLOYMENT) -> Path:
    chart = root / "charts" / "web"
    (chart / "templates").mkdir(parents=True, exist_ok=True)
    (chart / "Chart.yaml").write_text(CHART)
    (chart / "values.yaml").write_text(values)
    (chart / "templates" / "deployment.yaml").write_text(deployment)
    (chart / "templates" / "service.yaml").write_text(SERVICE)
    return root


def _findings(root: Path, plan: str | None = None) -> list[tuple[str, list[str], str]]:
    topology = None
    if plan is not None:
        (root / "portplan.yaml").write_text(plan)
        topology = load(root / "portplan.yaml")
    found = reconcile_paths([str(root)], topology).findings
    return [
        (
            f.rule,
            [f"{Path(at.file).relative_to(root)}:{at.line}:{at.column}" for at in f.locations],
            f.message,
        )
        for f in found
        if f.rule == "PP221" or f.level.name == "ERROR"
    ]


def test_values_the_templates_read_agree(tmp_path: Path) -> None:
    """`containerPort: {{ .Values.containerPort }}`, `port: {{ .Values.service.port }}`:
    the rendered ports are the values; PORT is the container port too."""
    assert _findings(_chart(tmp_path)) == []


@pytest.mark.parametrize(
    ("values", "found"),
    [
        (  # the classic: containerPort hard-coded in the template, the value is dead
            VALUES,
            [
                ("PP221", ["charts/web/values.yaml:8:16",
                           "charts/web/templates/deployment.yaml:19:30",
                           "charts/web/templates/service.yaml:8:13"],
                 "web: values.yaml:8 gives containerPort 3000, but the chart's templates "
                 "declare container port 8080 (deployment.yaml:19, service.yaml:8)"),
                ("PP221", ["charts/web/values.yaml:10:9",
                           "charts/web/templates/deployment.yaml:19:30",
                           "charts/web/templates/service.yaml:8:13"],
                 "web: values.yaml:10 gives env.PORT 3000, but the chart's templates "
                 "declare container port 8080 (deployment.yaml:19, service.yaml:8)"),
            ],
        ),
        (  # the same number hard-coded: no drift
            VALUES.replace("3000", "8080"),
            [],
        ),
        (  # bitnami style: containerPorts map, service.ports map, env list
            "containerPorts:\n  http: 3000\nservice:\n  port: 80\n  nodePorts:\n    http: \"\"\n"
            "extraEnvVars:\n  - name: PORT\n    value: \"8080\"\n  - name: DB_PORT\n"
            "    value: \"5432\"\n",
            [
                ("PP221", ["charts/web/values.yaml:2:9",
                           "charts/web/templates/deployment.yaml:19:30",
                           "charts/web/templates/service.yaml:8:13"],
                 "web: values.yaml:2 gives containerPorts.http 3000, but the chart's "
                 "templates declare container port 8080 (deployment.yaml:19, service.yaml:8)"),
            ],
        ),
    ],
    ids=["hard-coded", "same-number", "maps-and-env-list"],
)  # fmt: skip
def test_a_hard_coded_template_port_against_the_values(
    tmp_path: Path, values: str, found: list[tuple[str, list[str], str]]
) -> None:
    deployment = DEPLOYMENT.replace("{{ .Values.containerPort }}", "8080")
    assert _findings(_chart(tmp_path, values, deployment)) == found


def test_a_service_port_the_template_does_not_read(tmp_path: Path) -> None:
    service = SERVICE.replace("{{ .Values.service.port }}", "8000")
    root = _chart(tmp_path)
    (root / "charts/web/templates/service.yaml").write_text(service)
    assert _findings(root) == [
        (
            "PP221",
            ["charts/web/values.yaml:7:9", "charts/web/templates/deployment.yaml:19:30",
             "charts/web/templates/service.yaml:8:13"],
            "web: values.yaml:7 gives service.port 80, but the chart's templates declare "
            "Service ports 3000, 8000 (deployment.yaml:19, service.yaml:8)",
        )
    ]  # fmt: skip


PLAN = """\
version: 1
services:
  web:
    ports:
      http: {port: 8080}
"""


def test_values_against_the_plan(tmp_path: Path) -> None:
    """A chart whose templates are not there (or do not parse): its values are held to the
    plan; when the templates render them, the rendered ports are (PP201, at their lines)."""
    root = _chart(tmp_path)
    for template in (root / "charts/web/templates").iterdir():
        template.unlink()
    assert _findings(root, PLAN) == [
        (
            "PP221",
            ["charts/web/values.yaml:7:9", "portplan.yaml:5:20"],
            "web: values.yaml:7 gives service.port 80, but the plan gives web Service port "
            "8080 (portplan.yaml:5)",
        ),
        (
            "PP221",
            ["charts/web/values.yaml:8:16", "portplan.yaml:5:20"],
            "web: values.yaml:8 gives containerPort 3000, but the plan gives web container "
            "port 8080 (portplan.yaml:5)",
        ),
        (
            "PP221",
            ["charts/web/values.yaml:10:9", "portplan.yaml:5:20"],
            "web: values.yaml:10 gives env.PORT 3000, but the plan gives web container port "
            "8080 (portplan.yaml:5)",
        ),
    ]
    agreed = VALUES.replace("3000", "8080").replace("port: 80", "port: 8080")
    assert _findings(_chart(tmp_path, agreed), PLAN) == []
    assert [f[:2] for f in _findings(_chart(tmp_path), PLAN)] == [
        ("PP201", ["charts/web/templates/deployment.yaml:19:30", "portplan.yaml:5:20"]),
        ("PP201", ["charts/web/templates/service.yaml:8:13", "portplan.yaml:5:20"]),
    ]


def test_values_against_compose_of_the_same_service(tmp_path: Path) -> None:
    """Values no template renders (a chart of values only) against compose's web."""
    compose = "services:\n  web:\n    image: example/web:1.4\n    ports: ['8080:8080']\n"
    root = _chart(tmp_path)
    for template in (root / "charts/web/templates").iterdir():
        template.unlink()
    (root / "compose.yaml").write_text(compose)
    found = [f for f in _findings(tmp_path) if f[0] == "PP221"]
    assert found == [
        (
            "PP221",
            ["charts/web/values.yaml:8:16", "compose.yaml:4:14"],
            "web: values.yaml:8 gives containerPort 3000, but compose runs web on container "
            "port 8080 (compose.yaml:4)",
        ),
        (
            "PP221",
            ["charts/web/values.yaml:10:9", "compose.yaml:4:14"],
            "web: values.yaml:10 gives env.PORT 3000, but compose runs web on container "
            "port 8080 (compose.yaml:4)",
        ),
    ]


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("containerPort", "container"),
        ("port", "container"),
        ("service.targetPort", "container"),
        ("service.internalPort", "container"),
        ("containerPorts.http", "container"),
        ("env.PORT", "container"),
        ("extraEnvVars.HTTP_PORT", "container"),
        ("service.port", "service"),
        ("service.externalPort", "service"),
        ("service.ports.http", "service"),
        ("metrics.service.port", "service"),
        ("service.nodePort", "node"),
        ("service.nodePorts.http", "node"),
        ("metrics.port", None),
        ("redis.port", None),
        ("env.DB_PORT", None),
    ],
)
def test_the_role_of_a_value(path: str, role: str | None) -> None:
    assert helm.role(path) == role


def test_subchart_values_are_the_subchart_s(tmp_path: Path) -> None:
    chart = "apiVersion: v2\nname: web\ndependencies:\n  - name: postgresql\n    version: 12.x\n"
    values = "service:\n  port: 80\npostgresql:\n  primary:\n    service:\n      port: 5432\n"
    (tmp_path / "Chart.yaml").write_text(chart)
    found = helm.read(str(tmp_path / "values.yaml"), values)
    assert [(x.name, x.number) for x in found] == [("service.port", 80)]


def test_the_values_read(tmp_path: Path) -> None:
    values = (
        'containerPorts:\n  http: 8080\n  https: "8443"\n'
        "service:\n  ports:\n    - {name: http, port: 80, targetPort: http}\n"
        '  nodePorts: {http: ""}\n'
        'env:\n  - name: PORT\n    value: "8080"\n  - name: LOG_LEVEL\n    value: "3"\n'
        "envFrom: []\nreplicaCount: 2\n"
    )
    (tmp_path / "Chart.yaml").write_text(CHART)
    found = helm.read(str(tmp_path / "values.yaml"), values)
    assert [(x.name, x.number, f"{x.location.line}:{x.location.column}") for x in found] == [
        ("containerPorts.http", 8080, "2:9"),
        ("containerPorts.https", 8443, "3:10"),
        ("service.ports.port", 80, "6:26"),
        ("env.PORT", 8080, "10:12"),
    ]
