"""reconcile on shapes found in a held-out pass over real repositories (session 7): a port
a compose file lists beside the main one, a document remapping the host side of every
port, a `docker run -p` after `docker compose up`, a change log, OTLP's gRPC URL written
`http://`, a bind address beside its port variable. Each case is a small project written
here; each has a control that still fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from portplan.cli import main
from tests.test_reconcile_compose import _write
from tests.test_reconcile_heldout import _errors

# --- a port listed beside the main one --------------------------------------------------

# A Java service whose debug image opens a JDWP port: compose publishes both its http port
# and the debug port; the debug Dockerfile exposes only the debug port; the proxy reaches
# the http port.
DEBUG_COMPOSE = """\
services:
  appserver:
    build:
      context: app
      dockerfile: Dockerfile-dev
    ports:
      - "8080:8080"
      - "5005:5005"
  proxy:
    image: nginx:1.27
    ports:
      - "80:80"
"""
NGINX = """\
events {}
http {
  server {
    listen 80;
    location / {
      proxy_pass http://appserver:8080;
    }
  }
}
"""


def _debug_project(root: Path, exposed: int) -> Path:
    return _write(
        root,
        {
            "docker-compose.yml": DEBUG_COMPOSE,
            "app/Dockerfile-dev": f'FROM eclipse-temurin:21\nEXPOSE {exposed}\nCMD ["java"]\n',
            "proxy/nginx.conf": NGINX,
        },
    )


def test_a_port_compose_lists_beside_the_main_one_is_no_other_value_of_it(
    tmp_path: Path,
) -> None:
    """`EXPOSE 5005` is the debug port compose publishes beside 8080, not another number
    of the port nginx reaches."""
    assert _errors(_debug_project(tmp_path, 5005)) == []


def test_an_exposed_port_no_listing_states_still_drifts(tmp_path: Path) -> None:
    assert _errors(_debug_project(tmp_path, 5006)) == [
        (
            "PP201",
            ["Dockerfile-dev:2", "docker-compose.yml:7", "nginx.conf:6"],
            "appserver: port is 5006 here but 8080 in docker-compose.yml:7 (and 1 more)",
        )
    ]


MAIL_COMPOSE = """\
services:
  mailserver:
    image: acme/mailserver:1.0
    ports:
      - "25:25"
      - "143:143"
      - "993:993"
"""
INSTALL = """\
# Install

```yaml
services:
  mailserver:
    image: acme/mailserver:1.0
    ports:
      - "25:25"
      - "143:143"
```
"""


def _rootless(second: str) -> str:
    return f"""\
# Rootless

Change `compose.yaml` so that every port is bound on an unprivileged host port:

```yaml
services:
  mailserver:
    ports:
      - "10025:25"
      - "{second}"
      - "10993:993"
```
"""


def test_a_document_remapping_each_host_port_states_those_ports(tmp_path: Path) -> None:
    """`10143:143` in another folder's document is the port compose publishes as
    `143:143` on another host port, not a number of the first one (25)."""
    root = _write(
        tmp_path,
        {
            "compose.yaml": MAIL_COMPOSE,
            "docs/install.md": INSTALL,
            "docs/rootless.md": _rootless("10143:143"),
        },
    )
    assert _errors(root) == []


def test_a_document_port_of_no_listed_container_port_still_drifts(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "compose.yaml": MAIL_COMPOSE,
            "docs/install.md": INSTALL,
            "docs/rootless.md": _rootless("10110:110"),
        },
    )
    assert _errors(root) == [
        (
            "PP201",
            ["rootless.md:10", "compose.yaml:5", "install.md:8"],
            "mailserver: port is 10110 here but 25 in compose.yaml:5 (and 1 more)",
        )
    ]


# --- docker run -p after docker compose up ------------------------------------------------

QUOTE_COMPOSE = """\
services:
  quote:
    image: acme/quote:1.0
    expose:
      - "8090"
  proxy:
    image: nginx:1.27
    ports:
      - "8080:80"
"""
QUOTE_README = """\
# Quote

## Run the service

```sh
docker compose up quote
```

Its address inside the stack is `http://localhost:8091/quote`.

## Development

```sh
docker build . -t quote
docker run --rm -e QUOTE_PORT=8999 -p "8999:8999" quote
curl http://localhost:8999/getquote
```
"""


def test_a_docker_run_that_publishes_its_own_port_ends_the_compose_side(tmp_path: Path) -> None:
    """After `docker run -p 8999:8999` localhost:8999 is that container's, not compose's;
    the address before it (in the section that ran `docker compose up`) is still held to
    what compose publishes (the control)."""
    root = _write(tmp_path, {"compose.yaml": QUOTE_COMPOSE, "README.md": QUOTE_README})
    assert _errors(root) == [
        (
            "PP216",
            ["README.md:9", "compose.yaml:9"],
            "localhost:8091 after `docker compose up`: no compose file here publishes 8091; "
            "they publish 8080 (proxy, compose.yaml:9)",
        )
    ]


# --- a change log -------------------------------------------------------------------------

HISTORY = """\
# Changelog

## 1.2.0

- The mail transport is configured by URL:
  - SMTP Cleartext: `smtp://user:pw@mail:1234/?disable_starttls=true`
  - SMTP with implicit TLS: `smtps://user:pw@mail:1234/?legacy_ssl=true`
"""


def test_a_change_log_in_a_folder_is_not_read(tmp_path: Path) -> None:
    """A change log tells the project's past; the same text in another document (the
    control) is read, and named on the command line a change log is read too."""
    root = _write(tmp_path, {"CHANGELOG.md": HISTORY, "docs/history-of-ports.md": "# x\n"})
    assert _errors(root) == []
    (root / "docs" / "mail.md").write_text(HISTORY)
    claimed = (
        "PP202",
        ["mail.md:6", "mail.md:7"],
        "port 1234/tcp is claimed by SMTP Cleartext and SMTP with implicit TLS",
    )
    assert _errors(root) == [claimed]


def test_a_change_log_named_on_the_command_line_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _write(tmp_path, {"CHANGELOG.md": HISTORY})
    assert main(["reconcile", str(root / "CHANGELOG.md")]) == 1
    out = capsys.readouterr().out
    assert "port 1234/tcp is claimed by SMTP Cleartext and SMTP with implicit TLS" in out


# --- .env: a URL's port variable, a bind address ---------------------------------------------

OTEL_COMPOSE = """\
services:
  collector:
    image: otel/opentelemetry-collector-contrib:0.120.0
    ports:
      - "${COLLECTOR_PORT_GRPC}"
      - "${COLLECTOR_PORT_HTTP}"
  shop:
    image: acme/shop:1.0
    environment:
      - EXPORTER_ENDPOINT=http://${COLLECTOR_HOST}:${COLLECTOR_PORT_GRPC}
      - TRACES_URL=http://${COLLECTOR_HOST}:${COLLECTOR_PORT_HTTP}/v1/traces
      - EXPORTER_OTLP_ENDPOINT
  proxy:
    image: acme/proxy:1.0
    ports:
      - "${ENVOY_PORT}:${ENVOY_PORT}"
      - "${ENVOY_ADMIN_PORT}:${ENVOY_ADMIN_PORT}"
    environment:
      - ENVOY_ADDR
      - ENVOY_PORT
      - ENVOY_ADMIN_PORT
"""


def _otel_env(endpoint_port: str, envoy_addr: str) -> str:
    return f"""\
COLLECTOR_HOST=collector
COLLECTOR_PORT_GRPC=4317
COLLECTOR_PORT_HTTP=4318
EXPORTER_OTLP_ENDPOINT=http://${{COLLECTOR_HOST}}:{endpoint_port}
ENVOY_ADDR={envoy_addr}
ENVOY_PORT=8080
ENVOY_ADMIN_PORT=10000
"""


def test_a_urls_port_variable_names_its_kind_and_a_bind_address_is_no_reference(
    tmp_path: Path,
) -> None:
    """`http://${COLLECTOR_HOST}:${COLLECTOR_PORT_GRPC}` reaches the gRPC port (OTLP over
        gRPC is written http://), not another number of the http one, also where compose passes
    the `.env`'s value on (`- EXPORTER_OTLP_ENDPOINT`); `ENVOY_ADDR=0.0.0.0`
        beside `ENVOY_PORT` is where the proxy (which publishes both ENVOY ports) listens."""
    root = _write(
        tmp_path,
        {
            "docker-compose.yml": OTEL_COMPOSE,
            ".env": _otel_env("${COLLECTOR_PORT_GRPC}", "0.0.0.0"),
        },
    )
    assert _errors(root) == []


def test_a_literal_port_under_the_http_scheme_still_drifts(tmp_path: Path) -> None:
    root = _write(
        tmp_path, {"docker-compose.yml": OTEL_COMPOSE, ".env": _otel_env("4317", "0.0.0.0")}
    )
    assert _errors(root) == [
        (
            "PP201",
            [
                "docker-compose.yml:6",
                "docker-compose.yml:11",
                ".env:4",
                "docker-compose.yml:5",
                "docker-compose.yml:12",
            ],
            "collector: http port is 4318 here but 4317 in .env:4 (and 2 more)",
        )
    ]


STOREFRONT_COMPOSE = """\
services:
  frontend:
    image: acme/frontend:1.0
    environment:
      - FRONTEND_PORT
  checkout:
    image: acme/checkout:1.0
    environment:
      - FRONTEND_ADDR=${FRONTEND_HOST}:${FRONTEND_PORT}
  proxy:
    image: envoyproxy/envoy:v1.32
    ports:
      - "${PROXY_PORT}:${PROXY_PORT}"
"""
STOREFRONT_ENV = """\
FRONTEND_HOST=frontend
FRONTEND_PORT=8080
PROXY_PORT=8080
"""


def test_a_port_inside_a_container_and_a_published_one_share_a_number(tmp_path: Path) -> None:
    """`FRONTEND_PORT` is where frontend listens in its own container (no mapping
    publishes it), `PROXY_PORT` the host port the proxy publishes: no clash."""
    root = _write(tmp_path, {"compose.yaml": STOREFRONT_COMPOSE, ".env": STOREFRONT_ENV})
    assert _errors(root) == []


def test_two_published_ports_of_one_env_number_still_clash(tmp_path: Path) -> None:
    published = STOREFRONT_COMPOSE.replace(
        "      - FRONTEND_PORT\n",
        "      - FRONTEND_PORT\n    ports:\n      - ${FRONTEND_PORT}:80\n",
    )
    root = _write(tmp_path, {"compose.yaml": published, ".env": STOREFRONT_ENV})
    assert [(rule, message) for rule, _, message in _errors(root)] == [
        ("PP213", "port 8080 is given to FRONTEND_PORT and PROXY_PORT"),
        (
            "PP212",
            "host port 8080/tcp is published twice: by frontend (all interfaces) and by proxy "
            "(all interfaces, compose.yaml:15)",
        ),
    ]


# --- routes of one gateway ------------------------------------------------------------------


def _visit(paths: tuple[str, str]) -> str:
    return f"""\
# Try it

Once the containers are started, visit:

- **Webstore**: [http://localhost:8080{paths[0]}](http://localhost:8080{paths[0]})
- **Flags UI**: [http://localhost:8080{paths[1]}](http://localhost:8080{paths[1]})
"""


def test_names_reached_on_paths_of_one_port_are_routes_of_one_server(tmp_path: Path) -> None:
    """Two names whose URLs share a port on different paths are routes behind one server;
    on the same path (the control) they claim the port twice."""
    assert _errors(_write(tmp_path / "a", {"VISIT.md": _visit(("/", "/feature/"))})) == []
    assert _errors(_write(tmp_path / "b", {"VISIT.md": _visit(("/", "/"))})) == [
        (
            "PP202",
            ["VISIT.md:5", "VISIT.md:6"],
            "port 8080/tcp is claimed by Flags UI and Webstore",
        )
    ]


# --- a port of an outside host ------------------------------------------------------------

RELAYING_COMPOSE = MAIL_COMPOSE.replace("    ports:", "    env_file: mailserver.env\n    ports:")
RELAY_DOC = """\
# Relay through your provider

```env
RELAY_HOST={host}
RELAY_PORT=587
```
"""


def test_the_port_of_a_host_left_to_the_reader_or_outside_is_no_services(tmp_path: Path) -> None:
    """A document's `RELAY_HOST=smtp.example.com` with 587 is a mail relay's port, no other
    value of the `.env`'s `RELAY_PORT=25`, which beside `RELAY_HOST=` (the user gives it) is
    on another machine: no clash with the mail server's 25."""
    root = _write(
        tmp_path,
        {
            "compose.yaml": RELAYING_COMPOSE,
            "mailserver.env": "RELAY_HOST=\nRELAY_PORT=25\nMAILSERVER_URL=smtp://mailserver:25\n",
            "docs/relay.md": RELAY_DOC.format(host="smtp.example.com"),
        },
    )
    assert _errors(root) == []


def test_the_port_beside_a_service_host_still_drifts(tmp_path: Path) -> None:
    """Without `RELAY_HOST=` the `.env`'s RELAY_PORT claims this machine's 25."""
    root = _write(
        tmp_path,
        {
            "compose.yaml": RELAYING_COMPOSE,
            "mailserver.env": "RELAY_PORT=25\n",
            "docs/relay.md": RELAY_DOC.format(host="relay"),
        },
    )
    assert _errors(root) == [
        (
            "PP202",
            ["compose.yaml:6", "mailserver.env:1"],
            "port 25/tcp is claimed by mailserver and RELAY",
        ),
        (
            "PP201",
            ["relay.md:5", "mailserver.env:1"],
            "RELAY: port is 587 here but 25 in mailserver.env:1",
        ),
    ]


# --- Helm: a key an inline action renders ---------------------------------------------------

BRIDGE_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ include "bridge.fullname" . }}
spec:
  ports:
    - name: http-monitoring
      protocol: TCP
      {{ with .Values.monitoring.httpPort }}port: {{ . }}{{ end }}
    - name: metrics
      protocol: TCP
  selector:
    app: bridge
"""


def test_a_port_an_inline_with_renders_is_no_missing_port(tmp_path: Path) -> None:
    """`{{ with .Values.x }}port: {{ . }}{{ end }}` writes `port:` only when the value is
    set (0 here: none); the entry after it, without an action, still lacks its port."""
    files = {
        "charts/bridge/Chart.yaml": "apiVersion: v2\nname: bridge\nversion: 1.0.0\n",
        "charts/bridge/values.yaml": "monitoring:\n  httpPort: 0\n",
        "charts/bridge/templates/service.yaml": BRIDGE_SERVICE,
    }
    root = _write(tmp_path, files)
    assert _errors(root) == [
        (
            "PP209",
            ["service.yaml:10"],
            f"could not read {root}/charts/bridge/templates/service.yaml:10:7: ports[1]: port "
            "is missing; expected a port 1-65535",
        )
    ]


# --- a collection of samples, some only a README ------------------------------------------

ANGULAR = """\
services:
  web:
    build: .
    ports:
      - "4200:4200"
"""


def _sample_readme(web: int, db: str) -> str:
    return f"""\
# Sample

```yaml
services:
  db:
    image: {db}
  web:
    build: .
    ports:
      - "{web}:{web}"
    depends_on:
      - db
```
"""


def test_readme_only_samples_beside_other_samples_are_projects_of_their_own(
    tmp_path: Path,
) -> None:
    """Each sample folder's README shows its own compose file: its `web` and `db` are not
    the sibling samples' (angular's compose file, the other READMEs)."""
    root = _write(
        tmp_path,
        {
            "angular/compose.yaml": ANGULAR,
            "official-samples/django/README.md": _sample_readme(8000, "postgres:16"),
            "official-samples/rails/README.md": _sample_readme(3000, "postgres:16"),
            "official-samples/wordpress/README.md": _sample_readme(80, "mysql:8"),
        },
    )
    assert _errors(root) == []


def test_a_readme_below_the_compose_files_folder_still_describes_it(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {"compose.yaml": ANGULAR, "docs/django/README.md": _sample_readme(8000, "postgres:16")},
    )
    assert _errors(root) == [
        (
            "PP201",
            ["README.md:10", "compose.yaml:5"],
            "web: port is 8000 here but 4200 in compose.yaml:5",
        )
    ]


# --- an all-in-one image beside the compose deployment --------------------------------------

TRACKER_COMPOSE = """\
services:
  web:
    image: acme/web:1.0
    expose:
      - "3000"
  api:
    image: acme/api:1.0
    expose:
      - "8000"
  proxy:
    image: caddy:2
    ports:
      - "8080:80"
"""
AIO_README = """\
# All-in-one image

One container runs every part of the tracker:

- **Web** (Port 3001)
- **API** (Port 3004)
"""


def _aio_dockerfile(runs: str) -> str:
    return f"""\
FROM python:3.12-slim
RUN pip install {runs}
COPY start.sh /app/start.sh
EXPOSE 80
CMD ["/app/start.sh"]
"""


def test_the_readme_of_an_all_in_one_image_describes_that_deployment(tmp_path: Path) -> None:
    """An image that runs its parts under supervisord is another deployment of the same
    services, on ports of its own; the same README beside an ordinary image (the control)
    describes the compose deployment's services."""
    files = {"compose.yaml": TRACKER_COMPOSE, "deployments/aio/README.md": AIO_README}
    aio = _write(
        tmp_path / "aio", {**files, "deployments/aio/Dockerfile": _aio_dockerfile("supervisor")}
    )
    assert _errors(aio) == []
    plain = _write(
        tmp_path / "plain", {**files, "deployments/aio/Dockerfile": _aio_dockerfile("uvicorn")}
    )
    assert _errors(plain) == [
        (
            "PP201",
            ["README.md:5", "compose.yaml:5"],
            "web: port is 3001 here but 3000 in compose.yaml:5",
        ),
        (
            "PP201",
            ["README.md:6", "compose.yaml:9"],
            "api: port is 3004 here but 8000 in compose.yaml:9",
        ),
    ]


# --- a protocol's name before a port ----------------------------------------------------------


def _certificates(name: str) -> str:
    return f"""\
# Certificates

When the `{name}` (port 80) challenge cannot reach you, use DNS instead.

```yaml
services:
  reverse-proxy:
    image: caddy:2
    ports:
      - "80:80"
```
"""


def test_a_protocol_label_with_a_version_names_no_service(tmp_path: Path) -> None:
    """`HTTP-01` (port 80) is what port 80 speaks (an ACME challenge); a service's name
    there (the control) claims the port the snippet's proxy publishes."""
    assert _errors(_write(tmp_path / "a", {"tls.md": _certificates("HTTP-01")})) == []
    assert _errors(_write(tmp_path / "b", {"tls.md": _certificates("acme-companion")})) == [
        (
            "PP202",
            ["tls.md:3", "tls.md:10"],
            "port 80/tcp is claimed by acme-companion and reverse-proxy",
        )
    ]


def test_names_at_hosts_of_their_own_on_one_port_are_virtual_hosts(tmp_path: Path) -> None:
    """`Portal: https://login.example.com:8080` and `Mail: https://mail.example.com:8080` are
    virtual hosts of one proxy on 8080, not two claims of the port."""
    text = (
        "# Suites\n\n- Portal: [https://login.example.com:8080](https://login.example.com:8080)\n"
        "- Mail: [https://mail.example.com:8080](https://mail.example.com:8080)\n"
    )
    assert _errors(_write(tmp_path, {"SUITES.md": text})) == []


# --- alternatives shown by documents, templates of a documentation site ---------------------


def _proxy_doc(proxy: str, port: str) -> str:
    return f"""\
# {proxy}

```yaml
services:
  {proxy}:
    image: acme/{proxy}:1
    ports:
      - "{port}"
  portal:
    image: acme/portal:1
```
"""


def test_documents_showing_alternative_proxies_on_one_port_do_not_clash(
    tmp_path: Path,
) -> None:
    """Each proxy's page shows a compose file of its own with that proxy on 80: two ways
    to deploy, never run together; a port written as a site generator's shortcode is the
    reader's to fill in, no error. Both proxies in one page (the control) clash."""
    files = {
        "docs/proxies/traefik.md": _proxy_doc("traefik", "80:80"),
        "docs/proxies/envoy.md": _proxy_doc("envoy", "80:80"),
        "docs/deploy.md": _proxy_doc("portal", '127.0.0.1:{{< sitevar name="port" >}}:9091'),
    }
    assert _errors(_write(tmp_path / "a", files)) == []
    together = _proxy_doc("traefik", "80:80") + "\n" + _proxy_doc("envoy", "80:80")
    assert _errors(_write(tmp_path / "b", {"docs/proxies/both.md": together})) == [
        ("PP202", ["both.md:8", "both.md:20"], "port 80/tcp is claimed by envoy and traefik")
    ]


# --- a build context relative to where a program runs compose -----------------------------


def test_a_named_dockerfile_beside_the_compose_file_whose_context_is_elsewhere(
    tmp_path: Path,
) -> None:
    """The suites' program runs compose from `suites/`, so `context: example/web` is not
    there beside the compose file: the `Dockerfile.frontend` it names beside the compose
    file is web-frontend's (3000), not the folder web's other image (web-backend, 9091)."""
    build = "    build:\n      context: example/web\n      dockerfile: Dockerfile.{part}\n"
    files = {
        "suites/example/web/compose.frontend.yml": "services:\n  web-frontend:\n"
        + build.format(part="frontend"),
        "suites/example/web/compose.backend.yml": "services:\n  web-backend:\n"
        + build.format(part="backend"),
        "suites/example/web/Dockerfile.frontend": "FROM node:22\nEXPOSE 3000\n",
        "suites/example/web/Dockerfile.backend": "FROM golang:1.24\nEXPOSE 9091\n",
    }
    assert _errors(_write(tmp_path, files)) == []


# --- other projects' files ----------------------------------------------------------------

# A PHP application whose installed dependencies (composer's vendor/) include a library with
# its own development compose file: services named by PHP versions, on the app's port.
APP_COMPOSE = """\
services:
  app:
    build: .
    ports:
      - "8080:80"
"""
LIBRARY_COMPOSE = """\
services:
  "8.2":
    image: php:8.2-cli
    ports:
      - "8080:8000"
  "7.4":
    image: php:7.4-cli
    ports:
      - "8080:8000"
"""


@pytest.mark.parametrize("folder", ["vendor", "third_party", "bower_components"])
def test_the_files_of_installed_or_vendored_dependencies_are_not_read(
    tmp_path: Path, folder: str
) -> None:
    root = _write(
        tmp_path,
        {
            "docker-compose.yml": APP_COMPOSE,
            "Dockerfile": "FROM php:8.2-apache\nEXPOSE 80\n",
            f"{folder}/acme/http-client/docker-compose.yml": LIBRARY_COMPOSE,
        },
    )
    assert _errors(root) == []
    # the same library compose file in a folder of the project's own is read: its clash shows
    (tmp_path / folder).rename(tmp_path / "examples")
    assert [rule for rule, _, _ in _errors(root)] == ["PP212"]
