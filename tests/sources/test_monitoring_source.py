"""Monitoring configs (Prometheus, Grafana datasources, Promtail), recognised by content,
owned by the compose service that mounts them: every target is a reference, held to the
ports its target declares."""

from __future__ import annotations

from pathlib import Path

from portplan.reconcile.core import reconcile
from portplan.sources import detect, scan

COMPOSE = """\
services:
  api:
    image: example/api:1.4
    ports: ["8000:8080"]
  prometheus:
    image: prom/prometheus:v2.53.0
    ports: ["9090:9090"]
    volumes:
      - ./monitoring/prometheus.yml:/etc/prometheus/prometheus.yml:ro
      - /:/host:ro
  grafana:
    image: grafana/grafana:11.1.0
    volumes: ["./monitoring/grafana:/etc/grafana/provisioning"]
  loki:
    image: grafana/loki:3.1.0
    expose: ["3100"]
  promtail:
    image: grafana/promtail:3.1.0
    volumes: ["./monitoring/promtail.yaml:/etc/promtail/config.yml"]
"""

PROMETHEUS = """\
global:
  scrape_interval: 30s
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["alertmanager:9093"]
scrape_configs:
  - job_name: self
    static_configs:
      - targets: ['localhost:9090']
  - job_name: api
    static_configs:
      - targets:
          - 'api:8000'
          - api:8080
  - job_name: secure
    scheme: https
    static_configs:
      - targets: [api, "${TARGET}:9100"]
"""

DATASOURCES = """\
apiVersion: 1
datasources:
  - name: Prometheus
    type: prometheus
    url: http://prometheus:9090
  - name: Loki
    type: loki
    url: http://loki:3100
"""

PROMTAIL = """\
server:
  http_listen_port: 9080
clients:
  - url: http://loki:3100/loki/api/v1/push
scrape_configs:
  - job_name: system
    static_configs:
      - targets: [localhost]
"""


def write(root: Path) -> Path:
    files = {
        "compose.yaml": COMPOSE,
        "monitoring/prometheus.yml": PROMETHEUS,
        "monitoring/grafana/datasources/sources.yaml": DATASOURCES,
        "monitoring/promtail.yaml": PROMTAIL,
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_detected_by_content(tmp_path: Path) -> None:
    root = write(tmp_path)
    assert detect(str(root / "monitoring/prometheus.yml")) == "monitoring"
    assert detect(str(root / "monitoring/promtail.yaml")) == "monitoring"
    assert detect(str(root / "monitoring/grafana/datasources/sources.yaml")) == "monitoring"
    (root / "other.yml").write_text("scrape_interval: 30s\nclients: 3\n")
    assert detect(str(root / "other.yml")) is None


def test_targets_are_references_of_the_mounting_service(tmp_path: Path) -> None:
    results = {Path(r.file).name: r for r in scan([write(tmp_path)])}
    rows = [
        (p.service, p.number, p.owner, p.host, p.side, p.location.line, p.location.column)
        for p in results["prometheus.yml"].ports
    ]
    assert rows == [
        ("api", 8000, "prometheus", "api", "container", 14, 18),
        ("api", 8080, "prometheus", "api", "container", 15, 17),
        ("api", 443, "prometheus", "api", "container", 19, 19),  # scheme https, no port
        ("alertmanager", 9093, "prometheus", "alertmanager", "container", 6, 35),
    ]
    assert all(p.reference for p in results["prometheus.yml"].ports)
    assert [(p.service, p.number, p.owner) for p in results["sources.yaml"].ports] == [
        ("prometheus", 9090, "grafana"),
        ("loki", 3100, "grafana"),
    ]
    assert [(p.service, p.number, p.owner) for p in results["promtail.yaml"].ports] == [
        ("loki", 3100, "promtail")
    ]


def test_a_target_on_a_host_port_and_a_host_no_one_defines(tmp_path: Path) -> None:
    found = [
        (f.rule, [f"{Path(loc.file).name}:{loc.line}" for loc in f.locations], f.message)
        for f in reconcile(scan([write(tmp_path)]))
    ]
    assert found == [
        (
            "PP217",
            ["prometheus.yml:6"],
            "prometheus: alertmanager:9093 reaches alertmanager, which no source defines",
        ),
        (
            "PP216",
            ["prometheus.yml:14", "compose.yaml:4"],
            "prometheus: api:8000 reaches api on 8000, its host port; on the container "
            "network api listens on 8080",
        ),
        (
            "PP216",
            ["prometheus.yml:19", "compose.yaml:4"],
            "prometheus: api:443 reaches api on 443, but api listens on 8080",
        ),
    ]
