"""Helm chart templates read leniently without `helm` (sources/helm_templates.py): values
substituted, action-only lines dropped, the rendered documents read by the Kubernetes
source at the template's own lines; what still fails is one info note per chart."""

from __future__ import annotations

from pathlib import Path

from portplan.findings import Level
from portplan.reconcile.core import reconcile
from portplan.sources import scan
from portplan.sources.helm_templates import chart_name, chart_of, render

VALUES = "namespace: shop\nhostName: shop.example.test\napi:\n  port: 8080\n  replicas: 2\n"
API = """\
kind: ConfigMap
apiVersion: v1
metadata:
  name: api-cm
  namespace: {{ .Values.namespace }}
data:
  ORDERS_URL: http://orders:{{ .Values.orders.port | default 7070 }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-api
  labels:
    app: shop
spec:
  replicas: {{ .Values.api.replicas }}
  selector:
    matchLabels:
      service: api
  template:
    metadata:
      labels:
        app: shop
        service: api
      annotations:
        dapr.io/enabled: "true"
    spec:
      containers:
      - name: api
        image: "example/api:{{ .Chart.AppVersion }}"
        {{- with .Values.resources }}
        resources:
          {{- toYaml . | nindent 10 }}
        {{- end }}
        envFrom:
        - configMapRef:
            name: api-cm
        ports:
        - name: http
          containerPort: {{ .Values.api.port }}
---
kind: Service
apiVersion: v1
metadata:
  name: api
  labels:
    app: shop
spec:
  ports:
  {{- if .Values.api.port }}
  - name: http
    port: 80
    targetPort: {{ .Values.api.port }}
  {{- end }}
  - name: dapr-http
    port: 3500
    targetPort: 3500
  selector:
    service: api
"""
ORDERS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: orders
  labels: {app: shop}
spec:
  template:
    metadata:
      labels: {app: shop}
    spec:
      containers:
      - name: orders
        image: example/orders
        ports:
        - containerPort: 7000
"""
BROKEN = "apiVersion: v1\nkind: Service\nmetadata:\n  name: x: 1{{ if .Values.a }}x: 2{{ end }}\n"


def _chart(root: Path, *, chart_yaml: bool) -> Path:
    chart = root / "deploy" / "shop"
    (chart / "templates").mkdir(parents=True)
    (chart / "values.yaml").write_text(VALUES)
    if chart_yaml:
        (chart / "Chart.yaml").write_text("apiVersion: v2\nname: shop\nversion: 1.0.0\n")
    (chart / "templates" / "api.yaml").write_text(API)
    (chart / "templates" / "orders.yaml").write_text(ORDERS)
    return chart


def test_render_substitutes_values_and_drops_action_only_lines() -> None:
    values = {"api": {"port": 8080, "debug": True}, "list": [1]}
    text = (
        "{{- if .Values.api.debug }}\n"
        "name: {{ .Release.Name }}-{{ .Chart.Name }}\n"
        "port: {{ .Values.api.port | quote }}\n"
        "debug: {{ .Values.api.debug }}\n"
        "other: {{ .Values.missing | default 9090 }}\n"
        "url: http://{{ .Values.list }}:1\n"
        "whole: {{ .Values.list }}  # a list\n"
        '  {{- include "shop.labels" . | nindent 4 }}\n'
        "{{ end }}"
    )
    assert render(text, values, "shop").split("\n") == [
        "",
        "name: shop-shop",
        "port: 8080",
        "debug: true",
        "other: 9090",
        "url: http://helm-value:1",
        'whole: "helm-value"  # a list',
        "",
        "",
    ]


def test_the_chart_is_the_folder_holding_templates_with_a_chart_yaml_or_values(
    tmp_path: Path,
) -> None:
    chart = _chart(tmp_path, chart_yaml=False)
    assert chart_of(str(chart / "templates" / "api.yaml")) == str(chart)
    assert chart_name(str(chart)) == "shop"  # its folder's name without a Chart.yaml
    (tmp_path / "app" / "templates").mkdir(parents=True)  # a web app's HTML templates
    assert chart_of(str(tmp_path / "app" / "templates" / "index.yaml")) is None


def test_a_chart_without_chart_yaml_is_read_at_its_template_lines(tmp_path: Path) -> None:
    chart = _chart(tmp_path, chart_yaml=False)
    api = str(chart / "templates" / "api.yaml")
    results = [r for r in scan([tmp_path]) if r.kind == "kubernetes"]
    assert [r.file for r in results] == [api, str(chart / "templates" / "orders.yaml")]
    rows = [(p.service, p.number, p.target, p.port_name, str(p.location)) for p in results[0].ports]
    assert rows == [
        ("orders", 7070, None, "http", f"{api}:7:29"),  # the URL's port, its default
        ("shop-api", 8080, 8080, "http", f"{api}:40:26"),
        ("shop-api", 80, 8080, "http", f"{api}:52:11"),
        ("shop-api", 3500, 3500, "dapr-http", f"{api}:56:11"),
    ]
    # `app: shop` labels every workload of the chart: it names the application, not a
    # service; `{{ .Release.Name }}` is the chart's name
    assert [(s.service, s.aliases) for r in results for s in r.services] == [
        ("shop-api", ()),
        ("shop-api", ("api",)),
        ("orders", ()),
    ]
    [url] = [d for d in results[0].dependencies]
    assert (url.service, url.target, str(url.location)) == ("shop-api", "orders", f"{api}:7:15")
    # a Dapr sidecar serves 3500 in the api pods: no "targetPort is not a container port"
    found = [(f.rule, f.message) for f in reconcile(scan([tmp_path])) if f.level is not Level.INFO]
    assert found == [
        ("PP216", "shop-api: ORDERS_URL (orders:7070) reaches orders on 7070, but orders "
         "listens on 7000")
    ]  # fmt: skip


def test_what_still_fails_is_one_info_note_per_chart(tmp_path: Path) -> None:
    chart = _chart(tmp_path, chart_yaml=True)
    for name in ("a.yaml", "b.yaml"):
        (chart / "templates" / name).write_text(BROKEN)
    results = scan([tmp_path])
    notes = [(str(e.location), e.level) for r in results for e in r.errors]
    assert notes == [(f"{chart}/templates/a.yaml:4:13", Level.INFO)]
    assert [e.message for r in results for e in r.errors] == [
        f"not read {chart}/templates/a.yaml:4:13: a Go template ({{{{ }}}}), not YAML; render it "
        "(helm template) to reconcile it"
    ]
