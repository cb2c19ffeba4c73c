"""reconcile on shapes found in a held-out pass over real repositories (session 6): compose
profiles beside an alternative file, CORS origins, test-run env files, shell scripts named
`*.env`, Helm template fields under an `if`, Kubernetes manifests and Service variables in
Markdown. Each case is a small project written here; each has a control that still fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from portplan.cli import main
from portplan.importer.core import import_paths
from portplan.plan import loader
from portplan.sources import scan
from portplan.sources.markdown.env import port_owner
from tests.test_reconcile_compose import _found, _write


def _errors(root: Path) -> list[tuple[str, list[str], str]]:
    return [
        (rule, places, message) for rule, level, places, message in _found(root) if level == "error"
    ]


# --- compose profiles ---------------------------------------------------------------------

# hoppscotch-style: one compose file, a profile per way of running it (the all-in-one
# container or its parts, which publish the same host ports); an internal deployment file
# defines the all-in-one service again without profiles.
PROFILES = """\
services:
  backend:
    profiles: ["backend", "app"]
    image: acme/backend
    ports: ["3170:3170"]
  app:
    profiles: ["app"]
    image: acme/app
    ports: ["3000:3000"]
  aio:
    profiles: ["default"]
    container_name: aio
    image: acme/aio
    ports: ["3000:3000", "3170:3170"]
  aio-no-db:
    profiles: ["default-no-db"]
    container_name: aio
    image: acme/aio
    ports: ["3000:3000", "3170:3170"]
  docs:
    image: nginx:1.27
    ports: ["8080:80"]
  preview:
    profiles: ["app"]
    image: nginx:1.27
    ports: ["8080:80"]
"""
DEPLOY = """\
services:
  aio:
    container_name: aio
    image: acme/aio
    environment:
      - SUBPATH=true
"""


def test_services_of_disjoint_profiles_never_clash_beside_an_alternative_file(
    tmp_path: Path,
) -> None:
    """The alternative file's `aio` (no profiles) does not start it with `app`: the project
    that defines both keeps them apart. Two services of one `container_name` in disjoint
    profiles do not clash either; `docs` always runs, so `preview` clashes with it."""
    root = _write(tmp_path, {"docker-compose.yml": PROFILES, "docker-compose.deploy.yml": DEPLOY})
    assert _errors(root) == [
        (
            "PP212",
            ["docker-compose.yml:22", "docker-compose.yml:26"],
            "host port 8080/tcp is published twice: by docs (all interfaces) and by preview "
            "(all interfaces, docker-compose.yml:26)",
        )
    ]


# --- callers' addresses -------------------------------------------------------------------


def test_cors_origins_are_callers_addresses(tmp_path: Path) -> None:
    """full-stack-fastapi-style: the backend allows the Vite dev server's origin; that is
    the front end's address, not a port of the backend. An address variable of the same
    value still is one."""
    compose = (
        "services:\n  backend:\n    image: acme/backend\n    ports: ['8000:80']\n"
        "    environment:\n      - BACKEND_CORS_ORIGINS=${BACKEND_CORS_ORIGINS}\n"
        "      - CSRF_TRUSTED_ORIGINS=http://localhost:5174\n"
        "      - BACKEND_URL=${BACKEND_URL}\n"
    )
    env = (
        'BACKEND_CORS_ORIGINS="http://localhost,http://localhost:5173,https://localhost:5173"\n'
        "BACKEND_URL=http://localhost:5173\n"
    )
    root = _write(tmp_path, {"docker-compose.yml": compose, ".env": env})
    reached = "BACKEND_URL (localhost:5173) reaches backend on 5173, but backend has 80, 8000"
    assert [(rule, places, message) for rule, places, message in _errors(root)] == [
        ("PP216", [".env:2", "docker-compose.yml:4"], reached),
        ("PP216", ["docker-compose.yml:8", "docker-compose.yml:4"], f"backend: {reached}"),
    ]


# --- env files ----------------------------------------------------------------------------


def test_env_files_of_test_runs_are_no_drift(tmp_path: Path) -> None:
    """wild-workouts-style: component tests run the services on ports of their own
    (`.test.env`, `.test.ci.env`, `.e2e.env`), off the stack's; another env file is read."""
    files = {
        "compose.yaml": "services:\n  trainer:\n    image: acme/trainer\n    ports: ['3000:3000']\n",
        ".e2e.env": "TRAINER_HTTP_ADDR=localhost:3001\n",
        ".test.env": "TRAINER_HTTP_ADDR=localhost:6000\n",
        ".test.ci.env": "TRAINER_HTTP_ADDR=localhost:5000\n",
        "docker.env": "TRAINER_HTTP_ADDR=localhost:4000\n",
    }
    root = _write(tmp_path, files)
    assert _errors(root) == [
        (
            "PP216",
            ["docker.env:1", "compose.yaml:4"],
            "TRAINER_HTTP_ADDR (localhost:4000) reaches trainer on 4000, but trainer has 3000",
        )
    ]


def test_a_shell_script_named_env_is_no_env_file(tmp_path: Path) -> None:
    """wazuh-style: `permanent_data.env` is a shell script an image sources (an array); a
    `.env` that does not parse is still an error."""
    script = 'i=0\nPERMANENT_DATA[((i++))]="/var/ossec/etc"\n'
    root = _write(tmp_path, {"config/permanent_data.env": script, "app/.env": script})
    assert [(rule, places) for rule, places, _ in _errors(root)] == [("PP209", [".env:2"])]


# --- Helm and Kubernetes ------------------------------------------------------------------

CHART_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ include "mail.fullname" . }}
spec:
  type: {{ .Values.service.type }}
  ports:
    - name: http
      port: {{ .Values.service.port }}
      targetPort: http
      {{- if and (eq .Values.service.type "NodePort") .Values.service.nodePort }}
      nodePort: {{ .Values.service.nodePort }}
      {{- end }}
    - name: smtp
      port: 1025
      nodePort: smtp
  selector:
    app: mail
"""


def test_a_chart_field_under_an_if_is_what_helm_renders(tmp_path: Path) -> None:
    """mailhog-chart-style: `nodePort` only when the values set one (null here): no value
    to read. A field written without an action is read as written."""
    files = {
        "charts/mail/Chart.yaml": "apiVersion: v2\nname: mail\nversion: 1.0.0\n",
        "charts/mail/values.yaml": "service:\n  type: ClusterIP\n  port: 8025\n  nodePort: null\n",
        "charts/mail/templates/service.yaml": CHART_SERVICE,
    }
    root = _write(tmp_path, files)
    assert _errors(root) == [
        (
            "PP209",
            ["service.yaml:16"],
            "could not read "
            f"{root}/charts/mail/templates/service.yaml:16:17: ports[1].nodePort: expected a "
            "port 1-65535, got a string of 4 characters",
        )
    ]


README_K8S = """\
# Mongo

```yaml
apiVersion: v1
kind: Service
metadata:
  name: mongo
spec:
  ports:
    - port: 27017
      targetPort: 27017
  selector:
    name: mongo
```

The explorer shows what Kubernetes sets:

```console
$ curl localhost:8001/api/v1/proxy/namespaces/default/pods/explorer:8080/vars/
KIBANA_LOGGING_PORT_5601_TCP_PORT=5601
KIBANA_LOGGING_SERVICE_PORT=5601
KIBANA_LOGGING_PORT_5601_TCP=tcp://10.0.204.206:5601
MONITORING_GRAFANA_SERVICE_PORT=80
MONITORING_HEAPSTER_SERVICE_PORT=80
MONITORING_HEAPSTER_PORT=tcp://10.0.150.238:80
```

A compose fragment is still one:

```yaml
web:
  ports:
    - port: 80
```
"""


def test_kubernetes_in_markdown_is_no_compose_and_claims_no_host_port(tmp_path: Path) -> None:
    """kubernetes/examples-style: a Service manifest in a README is no compose fragment
    (its `spec:` is no service), and the variables Kubernetes sets for each Service are
    ports on the cluster, not host ports two services claim."""
    root = _write(tmp_path, {"README.md": README_K8S})
    assert _errors(root) == [
        ("PP209", ["README.md:33"], "services.web.ports: additional properties 'port' not allowed")
    ]


# --- addresses through another service, listen settings ----------------------------------

SHARED_ENV = """\
services:
  shell:
    profiles: ["app"]
    image: acme/shell
    env_file: .env
    ports: ["3000:3000"]
  sh-admin:
    profiles: ["admin"]
    image: acme/admin
    env_file: .env
    ports: ["3100:3100"]
  aio:
    profiles: ["default"]
    image: acme/aio
    env_file: .env
    ports: ["3000:3000", "3100:3100"]
"""


def test_a_shared_env_files_url_to_a_port_a_named_service_publishes(tmp_path: Path) -> None:
    """hoppscotch-style: every service reads one `.env` of browser addresses; 3100 is
    published by the admin dashboard and by the all-in-one copy (other profiles). The
    variable naming one of them (`VITE_ADMIN_URL`) is that one's address; one naming the
    reader (`VITE_SHELL_URL`) is still the reader's drift."""
    env = (
        "VITE_BASE_URL=http://localhost:3000\nVITE_ADMIN_URL=http://localhost:3100\n"
        "VITE_SHELL_URL=http://localhost:3100\n"
    )
    root = _write(tmp_path, {"docker-compose.yml": SHARED_ENV, ".env": env})
    assert _errors(root) == [
        (
            "PP216",
            [".env:3", "docker-compose.yml:6"],
            "VITE_SHELL_URL (localhost:3100) reaches shell on 3100, but shell has 3000",
        )
    ]


LISTEN = """\
services:
  web:
    image: acme/web
    env_file: .env
  proxy:
    image: caddy:2
    env_file: .env
    environment:
      METRICS_ADDR: ":9464"
    ports:
      - ${LISTEN_HTTP_PORT}:80
      - ${LISTEN_HTTPS_PORT}:443
"""


def test_listen_settings_and_protocol_labels_name_no_service(tmp_path: Path) -> None:
    """plane-style: `LISTEN_HTTP_PORT` (the proxy's mapping publishes from it), Caddy's
    `SITE_ADDRESS=:80` in a `.env` every service reads, a README's `- 443: HTTPS`: no
    service LISTEN, SITE or HTTPS claims 80 or 443 beside the proxy. A bind address whose
    prefix only names a kind (`METRICS_ADDR`) is still its reader's own port."""
    files = {
        "docker-compose.yml": LISTEN,
        ".env": "LISTEN_HTTP_PORT=80\nLISTEN_HTTPS_PORT=443\nSITE_ADDRESS=:80\n",
        "README.md": "# Proxy\n\n## Port Mapping\n\n- `80`: HTTP\n- `443`: HTTPS (if SSL configured)\n",
    }
    root = _write(tmp_path, files)
    assert _found(root) == []
    ports = sorted((p.service, p.number, p.port_name) for r in scan([root]) for p in r.ports)
    assert ports == [("proxy", 80, None), ("proxy", 443, None), ("proxy", 9464, "metrics")]


ALTERNATIVE_BLOCKS = """\
# Nextcloud

## Base version - apache

```yaml
services:
  db:
    image: mariadb:10.6
  app:
    image: nextcloud
    ports:
      - 8080:80
```

## Base version - FPM

```yaml
services:
  db:
    image: mariadb:10.6
  app:
    image: nextcloud:fpm
  web:
    image: nginx
    ports:
      - 8080:80
```
"""


def test_a_documents_compose_examples_are_alternatives(tmp_path: Path) -> None:
    """nextcloud-style: the README's Apache example publishes `app` on 8080, its FPM
    example (which runs `app` too) publishes `web` on 8080 instead: never run together.
    A block that runs neither `app` nor `web` says nothing of them: its `proxy` clashes."""
    assert _errors(_write(tmp_path, {"README.md": ALTERNATIVE_BLOCKS})) == []
    proxy = "\n## A proxy\n\n```yaml\nservices:\n  proxy:\n    image: caddy\n    ports:\n      - 8080:80\n```\n"
    root = _write(tmp_path, {"README.md": ALTERNATIVE_BLOCKS + proxy})
    assert _errors(root) == [
        (
            "PP202",
            ["README.md:12", "README.md:26", "README.md:36"],
            "port 8080/tcp is claimed by app and proxy and web",
        )
    ]


# --- a chart's README parameters table ----------------------------------------------------

MAIL_VALUES = """\
containerPort:
  http:
    name: http
    port: 8025
  smtp:
    name: tcp-smtp
    port: 1025
service:
  type: ClusterIP
  port:
    http: 8025
    smtp: 1025
  managementPort: 9990
"""
MAIL_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: mail
spec:
  ports:
    {{- $httpPortName := .Values.containerPort.http.name }}
    {{- $smtpPortName := .Values.containerPort.smtp.name }}
    - name: {{ $httpPortName }}
      port: {{ .Values.service.port.http }}
      targetPort: {{ $httpPortName }}
    - name: {{ $smtpPortName }}
      port: {{ .Values.service.port.smtp }}
      targetPort: {{ $smtpPortName }}
  selector:
    app: mail
"""
MAIL_README = """\
# mail

## Parameters

| Parameter | Description | Default |
|---|---|---|
| `service.port.http` | The HTTP Service port | `8025` |
| `service.port.smtp` | The SMTP Service port | `1025` |
| `service.managementPort` | The management Service port | `8443` |
| `service.type` | The Service type | `ClusterIP` |
"""


def test_a_charts_readme_parameters_against_its_values(tmp_path: Path) -> None:
    """codecentric-style (keycloak's README said 8443 for the management port, values.yaml
    9990): the README's parameter defaults are held to values.yaml key by key. Two ports
    of one template named by one value read leniently (`name: {{ $httpPortName }}`) are
    two ports, not one port of two numbers."""
    files = {
        "charts/mail/Chart.yaml": "apiVersion: v2\nname: mail\nversion: 1.0.0\n",
        "charts/mail/values.yaml": MAIL_VALUES,
        "charts/mail/templates/service.yaml": MAIL_SERVICE,
        "charts/mail/README.md": MAIL_README,
    }
    root = _write(tmp_path, files)
    assert _errors(root) == [
        (
            "PP221",
            ["README.md:9", "values.yaml:13"],
            "mail: the README documents service.managementPort 8443, but values.yaml:13 gives 9990",
        )
    ]


BALANCER = """\
services:
  master:
    image: wazuh/wazuh-manager:5.0.1
    ports: ["1515:1515", "55000:55000"]
  worker:
    image: wazuh/wazuh-manager:5.0.1
  nginx:
    image: nginx:stable
    ports: ["1514:1514"]
    volumes:
      - ./nginx.conf:/etc/nginx/nginx.conf:ro
"""
STREAM = """\
events {
    worker_connections  1024;
}
stream {
    upstream cluster {
        hash $remote_addr consistent;
        server master:1514;
        server worker:1514;
    }
    server {
        listen 1514;
        proxy_pass cluster;
    }
}
"""


def test_a_balancer_passing_on_its_own_published_port(tmp_path: Path) -> None:
    """wazuh-style: nginx publishes 1514 and balances it to the managers' 1514, which
    compose does not map (the image listens there): compose lists what it maps, not every
    port of an image, so that is a note, not the error of a host port taken for a
    container port."""
    root = _write(tmp_path, {"docker-compose.yml": BALANCER, "nginx.conf": STREAM})
    assert [(rule, level, message) for rule, level, _, message in _found(root)] == [
        (
            "PP216",
            "info",
            "nginx: master:1514 reaches master on 1514, but master listens on 1515, 55000",
        )
    ]


# --- whose a copied config is; ports of a copy; profiles on import -----------------------

PROD_DOCKERFILE = """\
FROM node:20 AS base
COPY . /usr/src/app

FROM alpine:3.19 AS backend
COPY --from=base /usr/src/app/packages/backend/backend.Caddyfile /etc/caddy/backend.Caddyfile
ENV PORT=8080
EXPOSE 80
EXPOSE 3170

FROM alpine:3.19 AS admin
COPY --from=base /usr/src/app/packages/admin/admin.Caddyfile /etc/caddy/admin.Caddyfile
EXPOSE 80
EXPOSE 3100
"""
COPIED = """\
services:
  backend:
    build: {context: ., dockerfile: prod.Dockerfile, target: backend}
    env_file: .env
    ports: ["3180:80", "3170:3170"]
  admin:
    build: {context: ., dockerfile: prod.Dockerfile, target: admin}
    env_file: .env
    ports: ["3280:80", "3100:3100"]
  old-backend:
    build: {context: ., dockerfile: packages/backend/Dockerfile}
    env_file: .env
    environment: [PORT=3000]
    ports: ["3171:3000"]
"""


def test_a_config_a_stage_copies_is_that_stages_services(tmp_path: Path) -> None:
    """hoppscotch-style: the root `prod.Dockerfile` copies `packages/backend/backend.Caddyfile`
    (through a build stage's path) into the `backend` image; the old image built in that
    folder does not. The Caddyfile is backend's, and the Caddy listeners `:80 :3100` of
    the admin image list the admin dashboard's two ports (its `http` 3100 and 80 beside
    it), not one http port of two numbers."""
    files = {
        "prod.Dockerfile": PROD_DOCKERFILE,
        "docker-compose.yml": COPIED,
        ".env": "VITE_ADMIN_URL=http://localhost:3100\n",
        "packages/backend/Dockerfile": "FROM node:20\nEXPOSE 3000\n",
        "packages/backend/backend.Caddyfile": ":80 :3170 {\n\treverse_proxy localhost:8080\n}\n",
        "packages/admin/admin.Caddyfile": ":80 :3100 {\n\tfile_server\n}\n",
    }
    root = _write(tmp_path, files)
    assert _errors(root) == []
    caddy = sorted(
        (p.service, p.number) for r in scan([root]) for p in r.ports if r.kind == "caddy"
    )
    assert caddy == [("admin", 80), ("admin", 3100), ("backend", 80), ("backend", 3170)]


def test_a_copys_port_variable_is_its_own() -> None:
    """`ZOO_PORT` in zoo1, zoo2 (copies of one zookeeper): the owner's own port."""
    assert port_owner("ZOO", "zoo1") == ("zoo1", None)
    assert port_owner("ZOO_ADMIN", "zoo2") == ("zoo2", "admin")
    assert port_owner("ZOO", "kafka1") == ("ZOO", None)


def test_import_puts_services_of_disjoint_profiles_on_hosts_of_their_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """hoppscotch-style: the all-in-one copy (profile `default`) and its parts (`app`)
    publish the same host ports and never run together: `check` of the imported plan finds
    no port bound twice; `docs` and `preview` run together and still clash."""
    root = _write(tmp_path / "src", {"docker-compose.yml": PROFILES})
    plan = tmp_path / "portplan.yaml"
    plan.write_text(import_paths([root]).text)
    topology = loader.load(plan)
    assert {name: s.host for name, s in topology.services.items()} == {
        "aio": "profile-default",
        "app": "profile-app",
        "backend": "profile-app",
        "docs": "default",
        "preview": "default",
    }
    assert main(["check", "-f", str(plan)]) == 1
    assert "port 8080/tcp on host default is bound by both docs" in capsys.readouterr().out


# --- a chart of several components --------------------------------------------------------

COMPONENT_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "logs.compactorFullname" . }}
spec:
  selector:
    matchLabels:
      {{- include "logs.compactorSelectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "logs.compactorSelectorLabels" . | nindent 8 }}
    spec:
      initContainers:
        {{- toYaml .Values.compactor.initContainers | nindent 8 }}
      containers:
        - name: compactor
          image: grafana/logs:3.0
          ports:
            - name: http
              containerPort: 3100
"""
COMPONENT_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ include "logs.compactorFullname" . }}
spec:
  ports:
    - name: http
      port: 3100
      targetPort: http
  selector:
    {{- include "logs.compactorSelectorLabels" . | nindent 4 }}
"""
GATEWAY_DEPLOYMENT = """\
{{- if .Values.gateway.enabled }}
{{ $dict := dict "ctx" . "component" "gateway" }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "logs.resourceName" $dict }}
spec:
  template:
    spec:
      containers:
        - name: nginx
          image: nginx:1.27
          ports:
            - name: http
              containerPort: 8080
{{- end }}
"""
GATEWAY_SERVICE = """\
{{ $dict := dict "ctx" . "component" "gateway" }}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "logs.resourceName" $dict }}
spec:
  ports:
    - name: http
      port: 80
      targetPort: http
"""


def test_a_charts_components_are_services_of_their_own(tmp_path: Path) -> None:
    """grafana-charts-style: each component is named by a helper of its own
    (`logs.compactorFullname`, `logs.resourceName` given `"component" "gateway"`), so the
    compactor's 3100 and the gateway's 8080 are two services' ports, not one service's
    http port of two numbers; an `initContainers:` the values fill is no empty list; the
    gateway's Service reaches its pods' named port though its selector is a helper's."""
    chart = "charts/logs"
    files = {
        f"{chart}/Chart.yaml": "apiVersion: v2\nname: logs\nversion: 1.0.0\n",
        f"{chart}/values.yaml": "gateway:\n  enabled: true\ncompactor:\n  initContainers: []\n",
        f"{chart}/templates/compactor/deployment.yaml": COMPONENT_DEPLOYMENT,
        f"{chart}/templates/compactor/service.yaml": COMPONENT_SERVICE,
        f"{chart}/templates/gateway/deployment.yaml": GATEWAY_DEPLOYMENT,
        f"{chart}/templates/gateway/service.yaml": GATEWAY_SERVICE,
    }
    root = _write(tmp_path, files)
    assert _errors(root) == []
    ports = sorted(
        (p.service, p.number, p.target) for r in scan([root]) for p in r.ports if p.port_name
    )
    assert ports == [
        ("logs-compactor", 3100, 3100),
        ("logs-compactor", 3100, 3100),
        ("logs-gateway", 80, 8080),
        ("logs-gateway", 8080, 8080),
    ]


UMBRELLA_VALUES = """\
server:
  service:
    port: 80
  containerPorts:
    http: 8080
dex:
  containerPorts:
    http: 5556
operator:
  tls:
    internalPort: 10250
"""
UMBRELLA_SERVER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "cd.server.fullname" . }}
spec:
  template:
    spec:
      containers:
        - name: server
          image: acme/cd:2.0
          ports:
            - name: http
              containerPort: {{ .Values.server.containerPorts.http }}
        - name: proxy
          image: acme/cloud-sql-proxy:2
          args: ["--http-port", "9090"]
          {{- if .Values.proxy.probe }}
          livenessProbe:
            httpGet:
              path: /liveness
              port: 9090
          {{- end }}
      initContainers:
      # filled from the values, as a list
      {{- toYaml .Values.initContainers | nindent 8 }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "cd.server.fullname" . }}
spec:
  ports:
    - name: http
      port: {{ .Values.server.service.port }}
      targetPort: http
"""
UMBRELLA_DEX = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ template "cd.dex.fullname" . }}
spec:
  template:
    spec:
      containers:
        - name: dex
          image: dexidp/dex:2.38
          ports:
            - name: http
              containerPort: {{ .Values.dex.containerPorts.http }}
"""


def test_an_umbrella_charts_values_are_held_to_their_own_component(tmp_path: Path) -> None:
    """argo-helm/kube-prometheus-stack-style: components named `<chart>.<component>.fullname`
    are services of their own (dex's 5556 is no http port of the server); a value whose
    path names no component (`operator.tls.internalPort`) is compared with nothing; a
    sidecar that declares no port is probed on its own; `initContainers:` above a comment
    and the action that fills it is no empty list."""
    chart = "charts/cd"
    files = {
        f"{chart}/Chart.yaml": "apiVersion: v2\nname: cd\nversion: 1.0.0\n",
        f"{chart}/values.yaml": UMBRELLA_VALUES,
        f"{chart}/templates/server.yaml": UMBRELLA_SERVER,
        f"{chart}/templates/dex.yaml": UMBRELLA_DEX,
    }
    root = _write(tmp_path, files)
    assert _errors(root) == []
    named = sorted({p.service for r in scan([root]) for p in r.ports if r.kind == "kubernetes"})
    assert named == ["cd-dex", "cd-server"]


PROXY_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ include "proxy.fullname" . }}
spec:
  ports:
    - port: {{ .Values.service.port }}
      {{- if .Values.rbac.enabled }}
      targetPort: krp
      {{- else }}
      targetPort: http
      {{- end }}
"""
PROXY_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "proxy.fullname" . }}
spec:
  template:
    spec:
      containers:
        - name: proxy
          image: acme/proxy:1
          ports:
            - name: krp
              containerPort: 8100
"""


def test_a_chart_with_a_template_helm_alone_renders_is_not_held_to_its_templates(
    tmp_path: Path,
) -> None:
    """prom-label-proxy-style: the Service template does not parse read leniently (both
    branches of an `if` give `targetPort`), so the templates read declare only container
    ports: a Service port value is compared with nothing."""
    chart = "charts/proxy"
    files = {
        f"{chart}/Chart.yaml": "apiVersion: v2\nname: proxy\nversion: 1.0.0\n",
        f"{chart}/values.yaml": "service:\n  port: 8080\nrbac:\n  enabled: true\n",
        f"{chart}/templates/service.yaml": PROXY_SERVICE,
        f"{chart}/templates/deployment.yaml": PROXY_DEPLOYMENT,
    }
    root = _write(tmp_path, files)
    assert [(rule, level) for rule, level, _, _ in _found(root)] == [("PP209", "info")]


# --- a document's compose section ----------------------------------------------------------

# frappe_docker-style: a guide starts the stack, shows how to change the host side of a
# mapping, stops the stack and goes on with a development server of its own.
GUIDE_COMPOSE = """\
services:
  web:
    image: acme/web:1
    ports:
      - "8080:8080"
"""
GUIDE = """\
# Acme

## Quick start

```bash
docker compose up -d
```

Open http://localhost:8080, or the admin page at http://localhost:9000.

If 8080 is taken on your machine, change the host side of the mapping:

```yaml
ports:
  - "127.0.0.1:8180-8185:8080-8085"
  - 127.0.0.1:8190:8080
```

When you are done:

```bash
docker compose down
```

## Quick start, development

```bash
make dev
```

Open http://localhost:3000.
"""


def test_a_mapping_and_the_addresses_after_compose_down_are_no_published_addresses(
    tmp_path: Path,
) -> None:
    """The host side of a mapping in a document (`127.0.0.1:8180-8185:8080-8085`) is no
    address a reader opens, and after `docker compose down` nothing the stack published
    is open: only the address before it on a port no compose file publishes is drift."""
    root = _write(tmp_path, {"compose.yaml": GUIDE_COMPOSE, "README.md": GUIDE})
    assert _errors(root) == [
        (
            "PP216",
            ["README.md:9", "compose.yaml:5"],
            "localhost:9000 after `docker compose up`: no compose file here publishes 9000; "
            "they publish 8080 (web, compose.yaml:5)",
        )
    ]


# --- diffs of env files --------------------------------------------------------------------

# sentry self-hosted-style: an optional modification shipped as patches, one of them a
# unified diff of the project's `.env`.
ENV_PATCH = """\
--- .env
+++ .env.external-kafka
@@ -3,2 +3,4 @@
 WEB_PORT=9000
+KAFKA_BOOTSTRAP_SERVERS=kafka.example.internal:9092
+KAFKA_SECURITY_PROTOCOL=SASL_SSL
"""


def test_a_diff_of_an_env_file_is_no_env_file(tmp_path: Path) -> None:
    """`.env.patch` (and `.env.diff`, `.env.rej`) is a diff to apply, not an env file that
    does not parse; a `.env.<variant>` that does not parse is still reported."""
    files = {
        "compose.yaml": "services:\n  web:\n    image: acme/web:1\n    ports:\n"
        '      - "${WEB_PORT}:9000"\n',
        ".env": "WEB_PORT=9000\n",
        "patches/external-kafka/.env.patch": ENV_PATCH,
        "patches/external-kafka/.env.diff": ENV_PATCH,
    }
    root = _write(tmp_path, files)
    assert _errors(root) == []
    (root / "patches/external-kafka/.env.kafka").write_text(ENV_PATCH)
    assert [(rule, places) for rule, places, _ in _errors(root)] == [("PP209", [".env.kafka:1"])]
