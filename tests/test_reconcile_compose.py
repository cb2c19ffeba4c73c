"""reconcile on compose projects as real repositories write them: env files that each user
writes (missing in the repository), `${VAR?}` the user must set, example files standing in
for `.env`."""

from __future__ import annotations

from pathlib import Path

import pytest

from portplan.importer.core import import_paths
from portplan.reconcile.core import reconcile
from portplan.sources import scan


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _found(root: Path) -> list[tuple[str, str, list[str], str]]:
    return [
        (
            f.rule,
            str(f.level),
            [f"{Path(loc.file).name}:{loc.line}" for loc in f.locations],
            f.message,
        )
        for f in reconcile(scan([root]))
    ]


# A portainer-style stack: every service reads the stack.env the user writes.
STACK = """\
services:
  web:
    image: registry.example/web
    ports: ["8000:8000"]
    env_file: stack.env
  worker:
    image: registry.example/web
    env_file: [stack.env, worker.env]
  broker:
    image: redis:7
    env_file:
      - path: optional.env
        required: false
"""


def test_a_missing_env_file_is_one_warning_naming_every_reader(tmp_path: Path) -> None:
    (tmp_path / "worker.env").write_text("QUEUE=jobs\n")
    root = _write(tmp_path, {"docker-compose.yml": STACK})
    assert _found(root) == [
        (
            "PP209",
            "warning",
            ["docker-compose.yml:5"],
            "env_file stack.env of web, worker: No such file or directory; read without it",
        )
    ]
    # the rest of the file is read: web's port is there
    (result,) = [r for r in scan([root]) if r.kind == "compose"]
    assert [(p.service, p.number) for p in result.ports] == [("web", 8000)]


def test_an_example_env_file_stands_in_for_a_missing_env_file(tmp_path: Path) -> None:
    files = {
        "docker-compose.yml": STACK.replace("stack.env", ".env"),
        "worker.env": "QUEUE=jobs\n",
        ".env.example": "WEB_WORKERS=4\n",
    }
    root = _write(tmp_path, files)
    assert _found(root) == []
    (result,) = [r for r in scan([root]) if r.kind == "compose"]
    assert result.stand_ins == {f"{root}/.env.example": f"{root}/.env"}


@pytest.mark.parametrize(
    "example", [".env.example", "env.example", ".env.sample", ".env.dist", ".env.template"]
)
def test_an_example_file_stands_in_for_dotenv_in_interpolation(
    tmp_path: Path, example: str
) -> None:
    """mattermost-style: `cp env.example .env`; the compose file's ports come from it."""
    compose = (
        "services:\n  app:\n    image: app\n    ports:\n"
        "      - ${APP_PORT}:8065\n      - ${CALLS_PORT}:${CALLS_PORT}/udp\n"
    )
    root = _write(
        tmp_path, {"docker-compose.yml": compose, example: "APP_PORT=8065\nCALLS_PORT=8443\n"}
    )
    assert _found(root) == []
    (result,) = [r for r in scan([root]) if r.kind == "compose"]
    assert [(p.number, p.target, p.protocol) for p in result.ports] == [
        (8065, 8065, "tcp"),
        (8443, 8443, "udp"),
    ]


def test_a_real_dotenv_wins_over_its_example(tmp_path: Path) -> None:
    compose = "services:\n  app:\n    image: app\n    ports: ['${APP_PORT}:80']\n"
    files = {"compose.yaml": compose, ".env": "APP_PORT=9000\n", "env.example": "APP_PORT=8000\n"}
    (result,) = [r for r in scan([_write(tmp_path, files)]) if r.kind == "compose"]
    assert [p.number for p in result.ports] == [9000]
    assert result.stand_ins == {}


def test_an_unset_required_variable_is_one_finding_and_the_rest_is_read(tmp_path: Path) -> None:
    compose = (
        "services:\n"
        "  api:\n"
        "    image: api\n"
        "    ports: ['${API_PORT:?set API_PORT}:80', '9090:9090']\n"
        "    environment:\n"
        "      TOKEN: ${API_TOKEN?}\n"
        "  web:\n"
        "    image: web\n"
        "    ports: ['${API_PORT:?set API_PORT}:8080']\n"
    )
    root = _write(tmp_path, {"compose.yaml": compose})
    assert _found(root) == [
        (
            "PP207",
            "warning",
            ["compose.yaml:4", "compose.yaml:9"],
            "api and web read ${API_PORT}, which nothing sets",
        ),
        ("PP207", "warning", ["compose.yaml:6"], "api reads ${API_TOKEN}, which nothing sets"),
    ]
    (result,) = [r for r in scan([root]) if r.kind == "compose"]
    assert [(p.service, p.number) for p in result.ports] == [("api", 9090)]
    assert result.errors == []


def test_a_port_of_unset_variables_only_is_the_variable_finding(tmp_path: Path) -> None:
    """`${CALLS_PORT}:${CALLS_PORT}/udp` with CALLS_PORT unset says no port at all: the
    entry is left out and the unset variable is the one finding (not an unreadable file)."""
    compose = (
        "services:\n  app:\n    image: app\n    ports:\n"
        "      - ${CALLS_PORT}:${CALLS_PORT}/udp\n      - ${CALLS_PORT}:${CALLS_PORT}/tcp\n"
    )
    override = "services:\n  app:\n    ports:\n      - ${CALLS_PORT}:${CALLS_PORT}/udp\n"
    root = _write(tmp_path, {"compose.yaml": compose, "compose.override.yaml": override})
    assert _found(root) == [
        (
            "PP207",
            "warning",
            ["compose.override.yaml:4", "compose.yaml:5", "compose.yaml:6"],
            "app reads ${CALLS_PORT}, which nothing sets",
        )
    ]


def test_an_unset_variable_of_alternative_files_is_one_finding(tmp_path: Path) -> None:
    one = "services:\n  app:\n    image: app:${TAG}\n    ports: ['8080:80']\n"
    files = {"compose.dev.yml": one, "compose.prod.yml": one.replace("8080", "80")}
    assert _found(_write(tmp_path, files)) == [
        (
            "PP207",
            "warning",
            ["compose.dev.yml:3", "compose.prod.yml:3"],
            "app reads ${TAG}, which nothing sets",
        )
    ]


# --- alternative projects, profiles -----------------------------------------------------


def _service(name: str, image: str, *ports: str, extra: str = "") -> str:
    listed = ", ".join(f"'{p}'" for p in ports)
    return (
        f"  {name}:\n    image: {image}\n" + (f"    ports: [{listed}]\n" if ports else "") + extra
    )


def test_alternative_files_of_one_folder_are_never_compared(tmp_path: Path) -> None:
    """paperless-style: one compose file per database, one for portainer publishing the
    webserver on 8010; the docs show the override `8010:8000`. Nothing is drift."""
    web = "services:\n" + _service("webserver", "ghcr.io/acme/paper:2", "8000:8000")
    files = {
        "docker/compose/docker-compose.postgres.yml": web + _service("db", "postgres:16"),
        "docker/compose/docker-compose.mariadb.yml": web + _service("db", "mariadb:11"),
        "docker/compose/docker-compose.portainer.yml": web.replace("8000:8000", "8010:8000")
        + _service("db", "postgres:16")
        + _service("broker", "redis:7", "8000:6379"),
        "docs/setup.md": (
            "# Setup\n\nTo use another port, change the mapping:\n\n```yaml\nservices:\n"
            "  webserver:\n    ports:\n      - 8010:8000\n```\n"
        ),
    }
    # before projects were kept apart: "port 8000/tcp is claimed by broker and webserver"
    # (the portainer file's broker against the postgres file's webserver)
    assert _found(_write(tmp_path, files)) == []


def test_sibling_deployments_are_separate_systems(tmp_path: Path) -> None:
    """n8n-style: three folders, one deployment each, the same service names; one publishes
    the database, another the app on another host port: no finding spans two folders."""
    app = _service("n8n", "n8nio/n8n", "5678:5678")
    files = {
        "docker-caddy/docker-compose.yml": "services:\n"
        + app
        + _service("caddy", "caddy:2", "80:80"),
        "withPostgres/docker-compose.yml": "services:\n"
        + app
        + _service("postgres", "postgres:16"),
        "withWorker/docker-compose.yml": "services:\n"
        + app.replace("5678:5678", "80:5678")
        + _service("postgres", "postgres:16", "5432:5432"),
        "withWorker/README.md": "# With worker\n\nOpen http://localhost:80 after `docker compose up`.\n",
    }
    assert _found(_write(tmp_path, files)) == []


def test_one_project_still_finds_its_own_clash(tmp_path: Path) -> None:
    compose = (
        "services:\n" + _service("api", "api", "8080:80") + _service("admin", "admin", "8080:81")
    )
    alternative = "services:\n" + _service("api", "api", "9090:80")
    files = {"compose.yaml": compose, "compose.dev.yaml": alternative}
    assert [(rule, places) for rule, _, places, _ in _found(_write(tmp_path, files))] == [
        ("PP212", ["compose.yaml:4", "compose.yaml:7"])
    ]


def test_services_of_disjoint_profiles_never_clash(tmp_path: Path) -> None:
    compose = (
        "services:\n"
        + _service("app", "app", "8080:80", extra="    profiles: [prod]\n")
        + _service("app-debug", "app", "8080:80", extra="    profiles: [debug, test]\n")
        + _service("mock", "wiremock", "9000:8080", extra="    profiles: [test]\n")
        + _service("stub", "wiremock", "9000:8080", extra="    profiles: [test]\n")
        + _service("docs", "nginx", "3000:80")
        + _service("preview", "nginx", "3000:80", extra="    profiles: [debug]\n")
    )
    found = _found(_write(tmp_path, {"compose.yaml": compose}))
    assert [(rule, places) for rule, _, places, _ in found] == [
        ("PP212", ["compose.yaml:12", "compose.yaml:16"]),  # mock and stub: both in test
        ("PP212", ["compose.yaml:20", "compose.yaml:23"]),  # docs always runs
    ]


def test_a_default_file_and_any_default_override_are_one_project(tmp_path: Path) -> None:
    files = {
        "docker-compose.yml": "services:\n" + _service("web", "nginx", "8080:80"),
        "compose.override.yaml": "services:\n  web:\n    ports: ['8080:81']\n",
    }
    found = _found(_write(tmp_path, files))
    assert [(rule, places) for rule, _, places, _ in found] == [
        ("PP212", ["docker-compose.yml:4", "compose.override.yaml:3"])
    ]


def test_a_file_that_only_adds_to_the_default_project_is_its_override(tmp_path: Path) -> None:
    """mattermost-style: `docker-compose.without-nginx.yml` only publishes ports of the
    default file's service (no image, build or extends): `-f docker-compose.yml -f
    docker-compose.without-nginx.yml`, one project; a file that runs a service of its own
    (nginx) stays a project of its own."""
    files = {
        "docker-compose.yml": "services:\n"
        + _service("app", "mattermost", extra="    restart: always\n"),
        "docker-compose.without-nginx.yml": "services:\n  app:\n    ports: ['8065:8065', '8065:8066']\n",
        "docker-compose.nginx.yml": "services:\n"
        + _service("nginx", "nginx", "443:443")
        + "  app:\n    ports: ['8443:8443/udp']\n",
    }
    root = _write(tmp_path, files)
    results = [r for r in scan([root]) if r.kind == "compose"]
    assert [(Path(r.file).name, [Path(m).name for m in r.merged]) for r in results] == [
        ("docker-compose.nginx.yml", []),
        ("docker-compose.yml", ["docker-compose.without-nginx.yml"]),
    ]
    merged = results[1]
    assert [(s.service, s.image) for s in merged.services] == [("app", "mattermost")]
    assert [(p.service, p.number, p.target) for p in merged.ports] == [
        ("app", 8065, 8065),
        ("app", 8065, 8066),
    ]


def test_two_files_that_only_add_are_alternatives(tmp_path: Path) -> None:
    files = {
        "compose.yaml": "services:\n" + _service("web", "nginx"),
        "compose.dev.yaml": "services:\n  web:\n    ports: ['8080:80']\n",
        "compose.prod.yaml": "services:\n  web:\n    ports: ['80:80']\n",
    }
    results = [r for r in scan([_write(tmp_path, files)]) if r.kind == "compose"]
    assert [(Path(r.file).name, r.merged) for r in results] == [
        ("compose.dev.yaml", []),
        ("compose.prod.yaml", []),
        ("compose.yaml", []),
    ]


# Two alternative projects of one folder publish one database on different host ports; a
# testing guide runs the test one with `-f` and connects to its port.
DEV_DB = 'services:\n  postgres:\n    image: postgres:16\n    ports: ["5434:5432"]\n'
TEST_DB = 'services:\n  postgres:\n    image: postgres:16\n    ports: ["5433:5432"]\n'


def _guide(command: str, port: int) -> str:
    return (
        "# Testing\n\nStart the database:\n\n```sh\n"
        f"{command}\nexport DATABASE_URL=postgres://app:${{PW}}@localhost:{port}/app\n```\n"
    )


@pytest.mark.parametrize(
    "command",
    [
        "docker compose -f docker-compose.test.yml up -d   # database on :5433",
        "docker-compose --file=./docker-compose.test.yml up -d",
    ],
)
def test_a_document_is_held_to_the_project_its_compose_f_names(
    tmp_path: Path, command: str
) -> None:
    root = _write(
        tmp_path,
        {
            "docker-compose.dev.yml": DEV_DB,
            "docker-compose.test.yml": TEST_DB,
            "TESTING.md": _guide(command, 5433),
        },
    )
    assert _found(root) == []


def test_a_document_naming_a_project_is_still_checked_against_it(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "docker-compose.dev.yml": DEV_DB,
            "docker-compose.test.yml": TEST_DB,
            "TESTING.md": _guide("docker compose -f docker-compose.dev.yml up -d", 5433),
        },
    )
    assert [(rule, level, where) for rule, level, where, _ in _found(root)] == [
        ("PP216", "error", ["TESTING.md:7", "docker-compose.dev.yml:4"])
    ]


# A DNS-server-style image: the Dockerfile exposes its default port and a metrics port, the
# compose file runs it on another port given on its command line.
RESOLVER = """\
services:
  resolver:
    build: .
    command: serve --listen 0.0.0.0:5443
    ports:
      - "5443:5443"
"""


def test_several_exposed_ports_are_no_drift_of_another_files_one_port(tmp_path: Path) -> None:
    root = _write(
        tmp_path, {"Dockerfile": "FROM alpine\nEXPOSE 443 9100\n", "docker-compose.yml": RESOLVER}
    )
    assert _found(root) == []


def test_one_exposed_port_against_one_published_port_is_drift(tmp_path: Path) -> None:
    root = _write(
        tmp_path, {"Dockerfile": "FROM alpine\nEXPOSE 5444\n", "docker-compose.yml": RESOLVER}
    )
    assert _found(root) == [
        (
            "PP201",
            "error",
            ["Dockerfile:2", "docker-compose.yml:6"],
            "resolver: port is 5444 here but 5443 in docker-compose.yml:6",
        )
    ]


# A Vite front end and its API, started with compose; the README gives the address.
VITE = """\
services:
  webapp:
    build: ./webapp
    ports:
      - "5173:5173"
  db:
    image: postgres:16
    ports:
      - "5432:5432"
"""


def _readme(*lines: str) -> str:
    return "# App\n\n## Run\n\n```sh\ndocker compose up\n```\n\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("The app is at http://localhost:3000 now.", "localhost:3000"),
        ("Open http://localhost/ in a browser.", "localhost:80"),
        ("Now a server is running on port 5444.", "port 5444"),
        ("Then go to `http://DOCKER_HOST:3000/app/`", "DOCKER_HOST:3000"),
        ("* Web UI `http://<host-ip>:3000`", "<host-ip>:3000"),
    ],
)
def test_an_address_the_project_does_not_publish_is_its_one_web_port(
    tmp_path: Path, line: str, shown: str
) -> None:
    root = _write(tmp_path, {"docker-compose.yml": VITE, "README.md": _readme(line)})
    number = shown.rpartition(" ")[2].rpartition(":")[2]
    assert _found(root) == [
        (
            "PP216",
            "error",
            ["README.md:9", "docker-compose.yml:5"],
            f"{shown} after `docker compose up`: no compose file here publishes {number}; "
            "they publish 5173 (webapp, docker-compose.yml:5)",
        )
    ]


def test_an_unpublished_address_among_several_web_ports_is_an_info(tmp_path: Path) -> None:
    compose = (
        VITE.replace("webapp", "docs")
        + '  api:\n    build: ./api\n    ports:\n      - "10000:10000"\n'
    )
    root = _write(
        tmp_path, {"docker-compose.yml": compose, "README.md": _readme("See http://localhost:3000")}
    )
    assert _found(root) == [
        (
            "PP216",
            "info",
            ["README.md:9"],
            "localhost:3000 after `docker compose up`: no compose file here publishes 3000; "
            "they publish 5173 (docs, docker-compose.yml:5), 10000 (api, docker-compose.yml:13)",
        )
    ]


def test_an_unpublished_address_means_the_one_user_interface(tmp_path: Path) -> None:
    """Of webapp (5173) and api (10000), webapp is the one a reader opens."""
    compose = VITE + '  api:\n    build: ./api\n    ports:\n      - "10000:10000"\n'
    root = _write(
        tmp_path, {"docker-compose.yml": compose, "README.md": _readme("See http://localhost:3000")}
    )
    assert _found(root) == [
        (
            "PP216",
            "error",
            ["README.md:9", "docker-compose.yml:5"],
            "localhost:3000 after `docker compose up`: no compose file here publishes 3000; "
            "they publish 5173 (webapp, docker-compose.yml:5), 10000 (api, docker-compose.yml:13)",
        )
    ]


@pytest.mark.parametrize(
    "line",
    [
        "The app is at http://localhost:5173 and http://localhost:5173/.",
        "```sh\nnpm run dev\n```\n\nThe dev server is at http://localhost:3000.",
        "```sh\nkubectl apply -f k8s/\n```\n\nThe app is available on port 31000 of each node.",
        "* Web UI `http://<host-ip>:5173` (and `http://YOUR_SERVER_IP:5173` from afar)",
        # the reader's own proxy
        "| Use a proxy | `git config --global http.proxy socks5://127.0.0.1:1080` |",
        "```sh\nexport HTTPS_PROXY=http://127.0.0.1:7890\n```",
        "Pass `--proxy http://localhost:3128` to the installer.",
    ],
)
def test_a_published_address_or_a_directly_run_program_is_no_finding(
    tmp_path: Path, line: str
) -> None:
    root = _write(tmp_path, {"docker-compose.yml": VITE, "README.md": _readme(line)})
    assert _found(root) == []


def test_an_address_the_documents_own_mapping_publishes_is_only_that_mappings_drift(
    tmp_path: Path,
) -> None:
    snippet = '```yaml\nservices:\n  webapp:\n    ports:\n      - "3000:5173"\n```\n'
    readme = _readme(snippet, "Then open http://localhost:3000.")
    root = _write(tmp_path, {"docker-compose.yml": VITE, "README.md": readme})
    assert [(rule, where) for rule, _, where, _ in _found(root)] == [
        ("PP201", ["README.md:13", "docker-compose.yml:5"])
    ]


# A GIS-portal-style stack: django, its worker and a map server read one common .env whose
# HTTP_PORT and HTTPS_PORT are what the nginx proxy publishes; a CI service publishes its http and https
# ports through prefixed variables and an agent port beside them.
SHARED_ENV = """\
services:
  django:
    image: portal-app
    build: .
    env_file: .env
  worker:
    image: portal-app
    env_file: .env
  maps:
    image: example/maps:2
    env_file: .env
    ports: ["8080:8080"]
  proxy:
    image: nginx:1.27
    environment:
      - HTTP_PORT=${HTTP_PORT}
      - HTTPS_PORT=${HTTPS_PORT}
    ports:
      - "${HTTP_PORT}:80"
      - "${HTTPS_PORT}:443"
  ci:
    image: jenkins/jenkins:lts
    ports:
      - "${CI_HTTP_PORT}:${CI_HTTP_PORT}"
      - "${CI_HTTPS_PORT}:${CI_HTTPS_PORT}"
      - "50000:50000"
"""
SHARED_DOTENV = "HTTP_PORT=80\nHTTPS_PORT=443\nCI_HTTP_PORT=9080\nCI_HTTPS_PORT=9443\n"
APP_DOCKERFILE = "FROM python:3.12\nEXPOSE 8000\nCMD gunicorn -b 0.0.0.0:8000 app:app\n"


def test_a_shared_env_file_and_http_beside_https(tmp_path: Path) -> None:
    """`HTTP_PORT` of an env_file that several services read is no port of each reader;
    a service with an http and an https port has two ports (https is not http's other
    value there); a port listed beside ports that are named ones is a port of its own."""
    files = {"docker-compose.yml": SHARED_ENV, ".env": SHARED_DOTENV, "Dockerfile": APP_DOCKERFILE}
    assert [f for f in _found(_write(tmp_path, files)) if f[1] == "error"] == []


def test_a_port_variable_of_an_env_file_one_service_reads_is_its_own(tmp_path: Path) -> None:
    """The same variable in an env_file only django reads is django's http port."""
    compose = "services:\n  django:\n    build: .\n    env_file: app.env\n"
    files = {
        "docker-compose.yml": compose,
        "app.env": "HTTP_PORT=80\n",
        "Dockerfile": APP_DOCKERFILE,
    }
    assert _found(_write(tmp_path, files)) == [
        (
            "PP201",
            "error",
            ["Dockerfile:2", "app.env:1"],
            "django: http port is 8000 here but 80 in app.env:1",
        )
    ]


def test_an_extensions_dependency_on_the_main_project_is_no_finding(tmp_path: Path) -> None:
    """An extension compose file in a subfolder, run as `docker compose -f
    docker-compose.yml -f extensions/beat/beat-compose.yml up`, depends on services of the
    folder above; one it names nowhere is still unknown."""
    main = "services:\n  search:\n    image: example/search:8\n    ports: ['9200:9200']\n"
    beat = "services:\n  beat:\n    image: example/beat:8\n    depends_on: [search, missing]\n"
    files = {"docker-compose.yml": main, "extensions/beat/beat-compose.yml": beat}
    assert _found(_write(tmp_path, files)) == [
        (
            "PP211",
            "error",
            ["beat-compose.yml:4"],
            "beat depends on missing, which no compose file of its directory defines",
        )
    ]


def test_a_list_item_naming_a_service_and_its_port(tmp_path: Path) -> None:
    """`- webapp: the UI, running on localhost and port 3000` after `docker compose up` is
    webapp's port, against the compose file's 5173; db's own item agrees."""
    readme = _readme(
        "The command starts:",
        "- db: PostgreSQL, listening on port 5432",
        "- webapp: the UI, running on localhost and port 3000.",
    )
    root = _write(tmp_path, {"docker-compose.yml": VITE, "README.md": readme})
    assert _found(root) == [
        (
            "PP201",
            "error",
            ["README.md:11", "docker-compose.yml:5"],
            "webapp: port is 3000 here but 5173 in docker-compose.yml:5",
        )
    ]


def test_a_listen_port_in_a_services_environment_is_its_own(tmp_path: Path) -> None:
    """`API_LISTEN_PORT=80` in gallery's compose environment is where gallery listens (its
    80 behind `8000:80`), not a service API; the api folder's example.env for running the
    program directly (4001) is another setup, not drift of it."""
    compose = (
        "services:\n  gallery:\n    build: .\n    ports: ['8000:80']\n"
        "    environment:\n      - API_LISTEN_PORT=80\n"
    )
    files = {
        "docker-compose.yml": compose,
        "Dockerfile": "FROM alpine\nEXPOSE 80\n",
        "api/example.env": "API_LISTEN_PORT=4001\nAPI_ENDPOINT=http://localhost:4001/\n",
    }
    assert [f for f in _found(_write(tmp_path, files)) if f[1] == "error"] == []


def test_a_docker_ps_row_lists_a_second_port_beside_the_published_one(tmp_path: Path) -> None:
    """A documented `docker ps` row `0.0.0.0:8080->8080/tcp, 9090/tcp`: 9090 is another
    port of api (exposed, unpublished), not another value of its http port 8080."""
    compose = "services:\n  api:\n    image: example/api:2\n    ports: ['8080:8080']\n"
    compose += "    environment: [HTTP_PORT=8080]\n"
    row = 'abc123   example/api:2   "serve"   1 minute ago   Up 1 minute   '
    row += "0.0.0.0:8080->8080/tcp, 9090/tcp   api"
    header = "CONTAINER ID   IMAGE   COMMAND   CREATED   STATUS   PORTS   NAMES"
    readme = _readme("```\n$ docker ps\n" + header + "\n" + row + "\n```")
    root = _write(tmp_path, {"docker-compose.yml": compose, "README.md": readme})
    assert _found(root) == []


def test_each_sample_folder_is_its_own_system(tmp_path: Path) -> None:
    """A repository of samples, each folder a compose project with its README and a
    Dockerfile below it, each calling its service `web`: each file describes its own
    folder's project, whatever the other folders give their `web`."""
    files = {}
    for folder, port in (("angular", 4200), ("php", 80), ("flask", 5000)):
        files[f"{folder}/docker-compose.yml"] = (
            f"services:\n  web:\n    build: app\n    ports: ['{port}:{port}']\n"
        )
        files[f"{folder}/README.md"] = f"# {folder}\n\n- web: http://localhost:{port}\n"
        files[f"{folder}/app/Dockerfile"] = f"FROM scratch\nEXPOSE {port}\n"
    assert _found(_write(tmp_path, files)) == []


PS_HEADER = (
    "CONTAINER ID   IMAGE        COMMAND       CREATED    STATUS     PORTS                  NAMES"
)


def test_docker_ps_names_of_the_documents_project(tmp_path: Path) -> None:
    """In shop/README.md, `shop_web_1` is web of the shop project (compose names the
    project after the folder); rows a terminal wrapped (`shop-proxy-fro` then `nt_1`) name
    no container; a container's own log line (`db_1  | listening on 0.0.0.0:5433`) is no
    address of this machine."""
    compose = (
        "services:\n  web:\n    build: .\n    ports: ['80:80']\n  db:\n    image: postgres:16\n"
    )
    rows = [
        "$ docker ps",
        PS_HEADER,
        'a1b2c3d4e5f6   shop_web     "serve"       1 min ago  Up 1 min   0.0.0.0:80->80/tcp     shop_web_1',
        'b1b2c3d4e5f6   nginx        "nginx"       1 min ago  Up 1 min   81/tcp                 shop-proxy-fro',
        "nt_1",
        'c1b2c3d4e5f6   postgres:16  "postgres"    1 min ago  Up 1 min   5432/tcp               shop-proxy-fro',
        "nt_2",
    ]
    readme = _readme("```", *rows, "```", "", "```", "db_1  | listening on 0.0.0.0:5433", "```")
    root = _write(tmp_path / "shop", {"docker-compose.yml": compose, "README.md": readme})
    assert _found(root) == []


def test_an_expose_the_compose_command_overrides_is_no_drift(tmp_path: Path) -> None:
    """The image EXPOSEs 5000, compose runs it with `gunicorn -b 0.0.0.0:8000`: 8000 is where
    it listens, and the EXPOSE documents a default nobody runs."""
    compose = (
        "services:\n  app:\n    build: ./app\n    ports: ['8000:8000']\n"
        "    command: gunicorn -w 3 -b 0.0.0.0:8000 app:app\n"
    )
    files = {
        "docker-compose.yml": compose,
        "app/Dockerfile": "FROM python:3.12\nEXPOSE 5000\n",
        "app/app.py": "from flask import Flask\n\napp = Flask(__name__)\n",
    }
    assert [f for f in _found(_write(tmp_path, files)) if f[0] == "PP201"] == []


def test_ports_in_kubernetes_config_maps_claim_no_host_port(tmp_path: Path) -> None:
    """Two ConfigMaps give 8080 to the load generator's web UI and to a ledger: each pod
    has an address of its own, so no port of a host is claimed twice."""
    config = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s-env}\ndata:\n  %s: "%s"\n'
    both = config % ("loadgen", "LOCUST_WEB_PORT", "8080")
    both += "---\n" + config % ("api", "LEDGER_PORT", "8080")
    files = {"config.yaml": both}
    assert [f for f in _found(_write(tmp_path, files)) if f[0] == "PP202"] == []


def test_the_paragraph_announcing_compose_up_says_what_it_publishes(tmp_path: Path) -> None:
    """ "Run the command below and open localhost:3000", then the `docker compose up` block:
    the address is what that command gives (published), so 3000 against 5173 is drift; the
    same sentence before a block that runs the program directly says nothing."""
    readme = (
        "# App\n\n## Develop\n\nRun it, then open `localhost:3001`.\n\n```sh\nnpm start\n```\n\n"
        "## Run\n\nRun the command below and open `localhost:3000`.\n\n"
        "```sh\ndocker compose up\n```\n"
    )
    root = _write(tmp_path, {"docker-compose.yml": VITE, "README.md": readme})
    assert [(rule, level, where) for rule, level, where, _ in _found(root)] == [
        ("PP216", "error", ["README.md:13", "docker-compose.yml:5"])
    ]


def test_documents_of_other_folders_and_compose_headings(tmp_path: Path) -> None:
    """The compose project of `src/` is the one `GettingStarted.md` (root, `cd src` then
    `docker compose up`) and `src/client/README.md` (a "Run with docker-compose" section)
    mean; a sibling section ends what the heading began; an ssh tunnel's forwards are the
    reader's own ports."""
    root_doc = "# Start\n\n- `cd src`\n- `docker compose up`\n- open `http://localhost:3000`\n"
    client_doc = (
        "# Client\n\n## Run with docker-compose\n\nOpen http://localhost:3001 to view it.\n\n"
        "## Run locally\n\nOpen http://localhost:3002 after `npm start`.\n\n"
        "## Remote\n\n```sh\nssh -L 5173:127.0.0.1:5173 box\n```\n"
    )
    files = {"src/docker-compose.yml": VITE, "GettingStarted.md": root_doc}
    files["src/client/README.md"] = client_doc
    root = _write(tmp_path, files)
    assert [(rule, level, where[0]) for rule, level, where, _ in _found(root)] == [
        ("PP216", "error", "GettingStarted.md:5"),
        ("PP216", "error", "README.md:5"),
    ]


def test_a_url_to_a_name_claims_no_host_port(tmp_path: Path) -> None:
    """`S3_ENDPOINT=http://s3.stack:4566` (a bucket's virtual-host name on the stack's
    network) reaches that name's own address: it takes no port of this machine from the
    stack publishing 4566."""
    compose = "services:\n  stack:\n    image: example/stack:3\n    ports: ['4566:4566']\n"
    readme = "# S3\n\n```\nS3_ENDPOINT=http://s3.stack:4566\nDB_ENDPOINT=http://stack:4566\n```\n"
    root = _write(tmp_path, {"docker-compose.yml": compose, "README.md": readme})
    assert [f for f in _found(root) if f[0] == "PP202"] == []


# A map-portal stack: the nginx service `portal` publishes its port 80 from `${HTTP_PORT}`
# of the .env.sample beside it, which also names the same published port after the service
# (`PORTAL_LB_PORT`, its load balancer's address for the app's own links); every service
# reads that file.
LB_COMPOSE = """\
services:
  app:
    image: portal-app
    env_file: .env.sample
  maps:
    image: example/maps:2
    env_file: .env.sample
  portal:
    image: nginx:1.27
    env_file: .env.sample
    environment:
      - HTTP_PORT=${HTTP_PORT}
    ports:
      - "${HTTP_PORT}:80"
"""


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ("PORTAL_LB_PORT=80\n\nHTTP_PORT=80\n", []),
        (
            "PORTAL_ADMIN_PORT=80\nHTTP_PORT=80\n",
            [
                (
                    "PP213",
                    "error",
                    [".env.sample:1", ".env.sample:2"],
                    "port 80 is given to HTTP_PORT and PORTAL_ADMIN_PORT",
                )
            ],
        ),
        (
            "API_PORT=80\nHTTP_PORT=80\n",
            [
                (
                    "PP213",
                    "error",
                    [".env.sample:1", ".env.sample:2"],
                    "port 80 is given to API_PORT and HTTP_PORT",
                )
            ],
        ),
    ],
)
def test_the_variable_a_mapping_publishes_from_is_the_services_port(
    tmp_path: Path, sample: str, expected: list[tuple[str, str, list[str], str]]
) -> None:
    """`HTTP_PORT`, which `portal` publishes its port from, and `PORTAL_LB_PORT`, named after
    portal alone, are one port of portal; a port named after another of its ports (admin),
    or after another service, given the same number is PP213."""
    files = {"docker-compose.yml": LB_COMPOSE, ".env.sample": sample}
    found = [f for f in _found(_write(tmp_path, files)) if f[0] == "PP213"]
    assert found == expected


# A monitoring frontend image built from a folder whose nginx configuration is split in two
# files, one server block each (plain http on 8080, TLS on 8443); the image's Dockerfile and
# the compose file list both ports, and the compose healthcheck calls the http one.
SPLIT_NGINX_COMPOSE = """\
services:
 frontend-nginx:
  build:
   context: ./frontend/alpine
  image: frontend-nginx:alpine-local
  ports:
   - "8081:8080"
   - "8443:8443"
  healthcheck:
   test: ["CMD", "curl", "-f", "http://localhost:8080/"]
"""


def test_a_servers_configuration_split_over_files_lists_its_ports_together(
    tmp_path: Path,
) -> None:
    """`listen 8080;` in nginx.conf and `listen 8443 ssl;` in nginx_ssl.conf of one
    folder are two ports of one server, not two values of its one port."""
    files = {
        "docker-compose.yml": SPLIT_NGINX_COMPOSE,
        "frontend/alpine/Dockerfile": "FROM alpine:3.20\nEXPOSE 8080/TCP 8443/TCP\n",
        "frontend/alpine/conf/nginx.conf": "server {\n    listen          8080;\n}\n",
        "frontend/alpine/conf/nginx_ssl.conf": "server {\n    listen 8443 ssl http2;\n}\n",
    }
    assert _found(_write(tmp_path, files)) == []


# A workflow server run as two frontends from one image, each on ports of its own that its
# environment sets in the same variables.
TWO_FRONTENDS = """\
services:
  workflow-frontend:
    image: example/workflow-server:1.4
    environment:
      - SERVICES=frontend
      - FRONTEND_GRPC_PORT=7237
    ports:
      - published: 7237
        target: 7237
  workflow-frontend2:
    image: example/workflow-server:1.4
    environment:
      - SERVICES=frontend
      # a second frontend on ports of its own
      - FRONTEND_GRPC_PORT=7236
      - FRONTEND_MEMBERSHIP_PORT=6936
    ports:
      - published: 7236
        target: 7236
"""


def test_two_copies_of_a_service_in_one_compose_file_are_two_services(tmp_path: Path) -> None:
    """`FRONTEND_GRPC_PORT` in workflow-frontend's and workflow-frontend2's environments is
    each one's own port, and the two services one file defines are not one by their similar
    names."""
    assert _found(_write(tmp_path, {"docker-compose.yml": TWO_FRONTENDS})) == []


# A project board behind its nginx gateway (the only published port, 9000): the frontend's
# own environment gives the board's public address; a stream console publishes its UI and
# gives the browser the address of the SQL engine's published port.
BEHIND_GATEWAY = """\
services:
  board-front:
    image: example/board-front:6
    environment:
      BOARD_URL: "http://localhost:9000"
  board-back:
    image: example/board-back:6
  board-gateway:
    image: nginx:1.27-alpine
    ports:
      - "9000:80"
    volumes:
      - ./gateway/board.conf:/etc/nginx/conf.d/default.conf
  console:
    image: example/stream-console:8
    ports:
      - "9021:9021"
    environment:
      CONSOLE_SQL_URL: "http://sql-engine:8088"
      CONSOLE_SQL_ADVERTISED_URL: "http://localhost:8088"
  sql-engine:
    image: example/sql-engine:8
    ports:
      - "8088:8088"
"""
BOARD_CONF = """\
server {
    listen 80 default_server;
    location / {
        proxy_pass http://board-front/;
    }
    location /api/ {
        proxy_pass http://board-back:8000/api/;
    }
}
"""


def test_a_services_own_address_through_another_services_published_port(
    tmp_path: Path,
) -> None:
    """A localhost URL in a service's own environment on a port it does not declare and
    one other service publishes is the address the browser opens through that one (the
    gateway's 9000, the SQL engine's 8088): no drift of the service's own port."""
    files = {"docker-compose.yml": BEHIND_GATEWAY, "gateway/board.conf": BOARD_CONF}
    assert [f for f in _found(_write(tmp_path, files)) if f[1] == "error"] == []
    alone = BEHIND_GATEWAY.replace('"8088:8088"', '"8089:8088"')
    assert [
        f for f in _found(_write(tmp_path, {"docker-compose.yml": alone})) if f[1] == "error"
    ] == [
        (
            "PP216",
            "error",
            ["docker-compose.yml:20", "docker-compose.yml:17"],
            "console: CONSOLE_SQL_ADVERTISED_URL (localhost:8088) reaches console on 8088, "
            "but console has 9021",
        )
    ]


# A streaming stack: the broker's JVM opens JMX on 9101, the registry loads a metrics agent
# on 1235; both are mapped; the SQL engine maps 1238, which nothing in it opens.
JVM_PORTS = """\
services:
  broker:
    image: example/streams-server:8.2
    ports:
      - "9092:9092"
      - "9101:9101"
    environment:
      STREAMS_LISTENERS: 'PLAINTEXT://broker:29092,PLAINTEXT_HOST://0.0.0.0:9092'
      STREAMS_JMX_PORT: 9101
      STREAMS_JMX_HOSTNAME: localhost
  registry:
    image: example/streams-registry:8.2
    ports:
      - "8081:8081"
      - "1235:1235"
    environment:
      REGISTRY_LISTENERS: http://0.0.0.0:8081
      EXTRA_ARGS: "-javaagent:/usr/bin/jmx/jmx_prometheus_javaagent-0.15.0.jar=1235:/usr/bin/jmx/exporter.yml"
  sqlengine:
    image: example/streams-sql:8.2
    ports:
      - "8088:8088"
      - "1238:1238"
    environment:
      SQL_LISTENERS: http://0.0.0.0:8088
"""


def test_a_jvms_jmx_port_and_metrics_agent_are_ports_it_listens_on(tmp_path: Path) -> None:
    """`*_JMX_PORT` (beside its `*_JMX_HOSTNAME=localhost`) and a metrics agent's
    `-javaagent:...jar=1235:config` in a service's environment are ports it opens; a mapped
    port nothing opens is still PP219."""
    found = _found(_write(tmp_path, {"docker-compose.yml": JVM_PORTS}))
    assert [f for f in found if f[1] == "error"] == [
        (
            "PP219",
            "error",
            ["docker-compose.yml:23", "docker-compose.yml:25"],
            "sqlengine maps 1238:1238 but listens only on 8088 (SQL_LISTENERS, docker-compose.yml:25)",
        )
    ]


@pytest.mark.parametrize(
    ("command", "found"),
    [("docker compose up -d db", False), ("docker compose up -d webapp db", True)],
)
def test_compose_up_of_only_a_database_publishes_no_address_after_it(
    tmp_path: Path, command: str, found: bool
) -> None:
    """A developer guide that starts only the database with compose (the program runs on
    the host) gives addresses compose does not publish; one that starts the web app too
    is held to it."""
    readme = (
        "# Developer setup\n\n### Prerequisites\n"
        f"- Postgres: if there is none, use the demo one (`{command}`)\n\n"
        "### Running the dev environment\n\nVisit `http://localhost:3000`.\n"
    )
    root = _write(tmp_path, {"docker-compose.yml": VITE, "docs/dev.md": readme})
    assert [f[:3] for f in _found(root)] == (
        [("PP216", "error", ["dev.md:8", "docker-compose.yml:5"])] if found else []
    )


# A monitoring stack in two variants built from their own images: the trap receiver's
# Dockerfiles expose 1162/udp (it runs unprivileged); the alpine file maps 162 to it, the
# ubuntu file to 162; the web image exposes 80 and compose also maps a debugger's port; the
# proxy's command line sets its port.
BUILT_IMAGES = {
    "docker-compose.alpine.yml": """\
services:
  traps:
    build: ./traps/alpine
    ports:
      - "162:1162/udp"
""",
    "docker-compose.ubuntu.yml": """\
services:
  traps:
    build:
      context: ./traps/ubuntu
    ports:
      - "162:162/udp"
  web:
    build: ./web
    ports:
      - "5001:80"
      - "9229:9229"
  proxy:
    build: ./proxy
    command: serve --listen 0.0.0.0:5443
    ports:
      - "5443:5443"
""",
    "traps/alpine/Dockerfile": "FROM alpine:3.20\nEXPOSE 1162/UDP\nUSER 1997\n",
    "traps/ubuntu/Dockerfile": "FROM ubuntu:24.04\nEXPOSE 1162/UDP\nUSER 1997\n",
    "web/Dockerfile": "FROM node:22-slim\nEXPOSE 80\nCMD nodemon --inspect=0.0.0.0 server.js\n",
    "proxy/Dockerfile": "FROM alpine:3.20\nEXPOSE 443 9100\n",
}


def test_a_mapping_to_a_port_the_built_image_does_not_expose(tmp_path: Path) -> None:
    """The ubuntu variant maps 162/udp of an image that exposes only 1162/udp, which the
    alpine variant maps: PP219; a port beside every exposed one (a debugger's 9229) and a
    service whose command line says where it listens are not."""
    assert _found(_write(tmp_path, BUILT_IMAGES)) == [
        (
            "PP219",
            "error",
            ["docker-compose.ubuntu.yml:6", "Dockerfile:2"],
            "traps maps 162:162/udp but the image it builds exposes only 1162/udp (Dockerfile:2)",
        )
    ]


# A scheduling app's stack: every service reads the .env.example that stands in for .env,
# whose URLs give the browser the web app's and the API's published addresses.
SCHEDULER = {
    "docker-compose.yaml": """\
services:
  web:
    image: example/scheduler:5
    ports:
      - 3000:3000
    env_file: .env
  web-api:
    image: example/scheduler-api:2
    ports:
      - "${API_PORT:-80}:${API_PORT:-80}"
    env_file: .env
    environment:
      - API_PORT=${API_PORT:-80}
  database:
    image: postgres:16
    env_file: .env
""",
    ".env.example": (
        "NEXT_PUBLIC_WEBAPP_URL=http://localhost:3000\n"
        "API_PORT=80\n"
        "WEB_APP_URL=http://localhost:3000/\n"
        "DATABASE_HOST=database:5432\n"
        "DATABASE_URL=postgresql://app@${DATABASE_HOST}/scheduler\n"
        "DATABASE_DIRECT_URL=${DATABASE_URL}\n"
    ),
}


def test_urls_in_a_stacks_env_file_to_published_ports_name_no_services(tmp_path: Path) -> None:
    """`WEB_APP_URL=http://localhost:3000/` read by the containers is the web app's
    published address, not a service WEB_APP that claims 3000, nor a dependency of each
    reader; `API_PORT`, which web-api publishes from, is web-api's; three URLs to
    `database:5432` are one port."""
    root = _write(tmp_path, SCHEDULER)
    assert _found(root) == []
    plan = import_paths([root]).plan
    assert sorted(service.name for service in plan.services) == ["database", "web", "web-api"]


# A workflow server on PostgreSQL: the .env beside the compose file holds the database's
# port, which the compose file interpolates for the database.
ONE_DATABASE = {
    "docker-compose.yml": """\
services:
  postgresql:
    image: postgres:16
    expose:
      - ${POSTGRES_DEFAULT_PORT}
  workflow:
    image: example/workflow-server:1.4
    environment:
      - DB=postgres12
      - POSTGRES_SEEDS=postgresql
    depends_on:
      - postgresql
""",
    ".env": "COMPOSE_PROJECT_NAME=workflow\nPOSTGRES_DEFAULT_PORT=5432\n",
}


def test_a_port_variable_of_the_one_service_with_that_port_names_it(tmp_path: Path) -> None:
    """`POSTGRES_DEFAULT_PORT=5432` names no service of its own: 5432 is the only port of
    postgresql, the one service with it, which runs postgres."""
    root = _write(tmp_path, ONE_DATABASE)
    assert [f for f in _found(root) if f[1] == "error"] == []
    plan = import_paths([root]).plan
    assert sorted(service.name for service in plan.services) == ["postgresql", "workflow"]


# A DNS filter's admin page behind Caddy: the Caddyfile proxies to the filter's host port.
CADDY_TO_HOST_PORT = {
    "docker-compose.yml": """\
services:
  caddy:
    image: caddy:2
    ports:
      - "443:443"
    volumes:
      - ./Caddyfile:/etc/caddy/Caddyfile
  dnsfilter:
    image: example/dnsfilter:6
    ports:
      - "8081:80/tcp"
      - "53:53/udp"
      - "53:53/tcp"
""",
    "Caddyfile": "filter.lab {\n  tls internal\n  reverse_proxy dnsfilter:8081\n}\n",
    "README.md": (
        "# DNS filter\n\n```yaml\nservices:\n  dnsfilter:\n    image: example/dnsfilter:6\n"
        '    ports:\n      - "53:53/tcp"\n      - "53:53/udp"\n```\n'
    ),
}


def test_a_proxy_to_a_host_port_is_one_finding(tmp_path: Path) -> None:
    """`reverse_proxy dnsfilter:8081` reaches on the container network a port dnsfilter
    only publishes on the host: PP216 says so; it is no other value of its port (PP201)."""
    found = _found(_write(tmp_path, CADDY_TO_HOST_PORT))
    assert [f for f in found if f[1] == "error"] == [
        (
            "PP216",
            "error",
            ["Caddyfile:3", "docker-compose.yml:11"],
            "caddy: dnsfilter:8081 reaches dnsfilter on 8081, its host port; on the container "
            "network dnsfilter listens on 53, 80",
        )
    ]
