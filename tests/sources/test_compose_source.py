"""The compose source: every form of the compose specification -> exact observations
(service, port, protocol, address, exposure, file, line, column)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from portplan.findings import Level
from portplan.importer.core import import_results
from portplan.model import Exposure
from portplan.reconcile.core import build_view, reconcile
from portplan.sources import scan
from portplan.sources.base import SourceResult
from portplan.sources.compose import parse_compose, project_groups, read_compose

RESOURCES = Path(__file__).resolve().parents[1] / "resources" / "compose"
PUBLIC, INTERNAL, LOCAL = Exposure.PUBLIC, Exposure.INTERNAL, Exposure.LOCAL
COMPOSE = "compose.yaml"

Row = tuple[Any, ...]


def port_rows(result: SourceResult) -> list[Row]:
    return [
        (
            p.service, p.number, p.protocol, p.address, p.exposure, p.published, p.random_host,
            p.target, p.range_end, p.port_name, p.variable, Path(p.location.file).name,
            p.location.line, p.location.column,
        )
        for p in result.ports
    ]  # fmt: skip


def published(
    service: str,
    number: int,
    target: int,
    line: int,
    column: int,
    *,
    protocol: str = "tcp",
    address: str | None = None,
    exposure: Exposure | None = PUBLIC,
    range_end: int | None = None,
    name: str | None = None,
    file: str = COMPOSE,
) -> Row:
    return (
        service, number, protocol, address, exposure, True, False, target, range_end, name,
        None, file, line, column,
    )  # fmt: skip


def unpublished(
    service: str,
    number: int,
    line: int,
    column: int,
    *,
    protocol: str = "tcp",
    range_end: int | None = None,
    exposure: Exposure | None = INTERNAL,
    file: str = COMPOSE,
    address: str | None = None,
    random_host: bool = False,
) -> Row:
    return (
        service, number, protocol, address, exposure, False, random_host, number, range_end,
        None, None, file, line, column,
    )  # fmt: skip


def random_port(service: str, number: int, line: int, column: int, **options: Any) -> Row:
    """A container port compose publishes on a random host port: no host number, exposed
    as its address says (all interfaces: public)."""
    options.setdefault("exposure", PUBLIC)
    return unpublished(service, number, line, column, random_host=True, **options)


def variable(
    service: str,
    number: int,
    name: str,
    line: int,
    column: int,
    *,
    port_name: str | None = None,
    file: str = COMPOSE,
) -> Row:
    return (
        service, number, "tcp", None, None, None, False, None, None, port_name, name, file,
        line, column,
    )  # fmt: skip


def dep_rows(result: SourceResult) -> list[Row]:
    return [
        (d.service, d.target, d.via, d.required, Path(d.location.file).name, d.location.line,
         d.location.column)
        for d in result.dependencies
    ]  # fmt: skip


def var_rows(result: SourceResult) -> list[Row]:
    return [
        (v.service, v.name, v.value, v.secret, v.sets, Path(v.location.file).name,
         v.location.line, v.location.column)
        for v in result.variables
    ]  # fmt: skip


def read(folder: str, *names: str, environ: dict[str, str] | None = None) -> SourceResult:
    return read_compose([str(RESOURCES / folder / name) for name in names], environ or {})


# --- every form of `ports`, `expose` and `network_mode: host` ----------------------------

PORT_FORMS: list[tuple[int, str, list[Row]]] = [
    (7, '- "3000"', [random_port("web", 3000, 7, 10)]),
    (
        8,
        '- "3001-3003"',
        [random_port("web", n, 8, 10) for n in (3001, 3002, 3003)],
    ),
    (9, '- "8000:8000"', [published("web", 8000, 8000, 9, 10)]),
    (
        10,
        '- "9090-9091:8080-8081"',
        [published("web", 9090, 8080, 10, 10), published("web", 9091, 8081, 10, 10)],
    ),
    (11, '- "49100:22"', [published("web", 49100, 22, 11, 10)]),
    (12, '- "8100-8110:80"', [published("web", 8100, 80, 12, 10, range_end=8110)]),
    (
        13,
        '- "127.0.0.1:8001:8001"',
        [published("web", 8001, 8001, 13, 20, address="127.0.0.1", exposure=LOCAL)],
    ),
    (
        14,
        '- "127.0.0.1:5000-5001:5000-5001"',
        [
            published("web", 5000, 5000, 14, 20, address="127.0.0.1", exposure=LOCAL),
            published("web", 5001, 5001, 14, 20, address="127.0.0.1", exposure=LOCAL),
        ],
    ),
    (15, '- "6060:6060/udp"', [published("web", 6060, 6060, 15, 10, protocol="udp")]),
    (
        16,
        '- "[::1]:6001:6001"',
        [published("web", 6001, 6001, 16, 16, address="::1", exposure=LOCAL)],
    ),
    (
        17,
        '- "10.0.0.5:7002:7002/sctp"',
        [
            published(
                "web", 7002, 7002, 17, 19, protocol="sctp", address="10.0.0.5", exposure=INTERNAL
            )
        ],
    ),
    (18, "- 7001", [random_port("web", 7001, 18, 9)]),
    (19, "- 7003:7003", [published("web", 7003, 7003, 19, 9)]),
    (
        22,
        'published: "8080"',
        [published("web", 8080, 80, 22, 21, address="127.0.0.1", exposure=LOCAL, name="web")],
    ),
    (28, "published: 8443-8444", [published("web", 8443, 443, 28, 20, range_end=8444)]),
    (
        29,
        "- {target: 53, published: 5353, protocol: udp}",
        [published("web", 5353, 53, 29, 33, protocol="udp")],
    ),
    (30, "- target: 9229", [random_port("web", 9229, 30, 17)]),
    (32, '- "3000"', [unpublished("web", 3000, 32, 10)]),
    (33, '- "8200-8202"', [unpublished("web", 8200, 33, 10, range_end=8202)]),
    (34, "- 9000/udp", [unpublished("web", 9000, 34, 9, protocol="udp")]),
    (
        38,
        'ports: ["9999:9100", "127.0.0.1:9998:9101"]',
        [
            published("monitor", 9100, 9100, 38, 19, exposure=None),
            published("monitor", 9101, 9101, 38, 42, exposure=None),
        ],
    ),
    (39, "expose: [7777]", [published("monitor", 7777, 7777, 39, 14, exposure=None)]),
]


@pytest.fixture(scope="module")
def port_forms() -> tuple[list[str], list[Row]]:
    path = RESOURCES / "ports" / COMPOSE
    return path.read_text().split("\n"), port_rows(read("ports", COMPOSE))


@pytest.mark.parametrize(
    ("line", "text", "expected"), PORT_FORMS, ids=[t for _, t, _ in PORT_FORMS]
)
def test_port_forms(
    port_forms: tuple[list[str], list[Row]], line: int, text: str, expected: list[Row]
) -> None:
    lines, rows = port_forms
    assert lines[line - 1].strip() == text
    assert [row for row in rows if row[-2] == line] == expected


def test_every_port_form_is_pinned(port_forms: tuple[list[str], list[Row]]) -> None:
    _, rows = port_forms
    assert rows == [row for _, _, expected in PORT_FORMS for row in expected]


def test_port_services_and_no_errors() -> None:
    result = read("ports", COMPOSE)
    assert [(s.service, s.location.line, s.location.column) for s in result.services] == [
        ("web", 4, 3),
        ("monitor", 35, 3),
    ]
    assert result.errors == []


# --- depends_on, networks, healthcheck, environment, env_file ----------------------------


@pytest.fixture(scope="module")
def services() -> SourceResult:
    return read("services", COMPOSE, environ={"HOME": "/home/portplan"})


def test_services_networks_and_health_paths(services: SourceResult) -> None:
    assert [
        (s.service, s.location.line, s.location.column, s.networks, s.health_path)
        for s in services.services
    ] == [
        ("gateway", 2, 3, ("frontend", "backend"), "/health"),
        ("token-engine", 19, 3, ("backend",), "/ready"),
        ("redis", 42, 3, (), None),  # disable: true
    ]


def test_depends_on_list_and_map(services: SourceResult) -> None:
    assert [row for row in dep_rows(services) if row[2] == "depends_on"] == [
        ("gateway", "token-engine", "depends_on", True, COMPOSE, 5, 9),
        ("gateway", "ledger", "depends_on", True, COMPOSE, 6, 9),
        ("token-engine", "redis", "depends_on", True, COMPOSE, 22, 7),
        ("token-engine", "audit", "depends_on", False, COMPOSE, 24, 7),
    ]


def test_environment_and_env_file_dependencies(services: SourceResult) -> None:
    assert [row for row in dep_rows(services) if row[2] == "env-url"] == [
        ("gateway", "token-engine", "env-url", True, COMPOSE, 11, 25),
        ("token-engine", "redis", "env-url", True, COMPOSE, 32, 19),
        ("token-engine", "postgres", "env-url", True, COMPOSE, 33, 23),
        ("token-engine", "nats", "env-url", True, "token-engine.env", 3, 10),
    ]


def test_environment_healthcheck_and_env_file_ports(services: SourceResult) -> None:
    assert port_rows(services) == [
        unpublished("gateway", 8080, 17, 53, exposure=None),  # healthcheck test list
        variable("token-engine", 8081, "TOKEN_ENGINE_URL", 11, 45, port_name="http"),
        variable("gateway", 8080, "HTTP_PORT", 12, 21, port_name="http"),  # quoted key, value
        unpublished("token-engine", 8081, 41, 40, exposure=None),  # healthcheck test string
        variable("token-engine", 50051, "GRPC_PORT", 31, 19, port_name="grpc"),
        variable("redis", 6379, "REDIS_URL", 32, 33),
        variable("postgres", 5432, "DATABASE_URL", 33, 60),
        variable("token-engine", 9464, "METRICS_ADDR", 34, 23, port_name="metrics"),
        variable(
            "token-engine", 8081, "HTTP_PORT", 2, 11, port_name="http", file="token-engine.env"
        ),
        variable("nats", 4222, "NATS_URL", 3, 22, file="token-engine.env"),
    ]


def test_environment_variables(services: SourceResult) -> None:
    assert var_rows(services) == [
        (
            "gateway",
            "TOKEN_ENGINE_URL",
            "http://token-engine:8081/api",
            False,
            True,
            COMPOSE,
            11,
            7,
        ),
        ("gateway", "HTTP_PORT", "8080", False, True, COMPOSE, 12, 8),
        ("gateway", "JWT_SECRET", None, True, True, COMPOSE, 13, 7),
        ("gateway", "API_KEY", None, False, False, COMPOSE, 14, 16),  # ${API_KEY}: read, unset
        ("gateway", "API_KEY", "", False, True, COMPOSE, 14, 7),  # a reference, not a secret
        ("gateway", "LOG_LEVEL", None, False, True, COMPOSE, 15, 7),
        ("token-engine", "GRPC_PORT", "50051", False, True, COMPOSE, 31, 9),
        ("token-engine", "REDIS_URL", "redis://redis:6379/0", False, True, COMPOSE, 32, 9),
        ("token-engine", "DATABASE_URL", None, True, True, COMPOSE, 33, 10),
        ("token-engine", "METRICS_ADDR", ":9464", False, True, COMPOSE, 34, 9),
        ("token-engine", "HOME", "/home/portplan", False, True, COMPOSE, 35, 9),
        ("token-engine", "HTTP_PORT", "8081", False, True, "token-engine.env", 2, 1),
        ("token-engine", "NATS_URL", "nats://nats:4222", False, True, "token-engine.env", 3, 1),
    ]


def test_missing_env_file(services: SourceResult) -> None:
    # optional.env is `required: false`; missing.env is required.
    path = RESOURCES / "services" / COMPOSE
    assert [(str(e.location), e.level, e.message) for e in services.errors] == [
        (
            f"{path}:44:15",
            Level.WARNING,
            "env_file missing.env of redis: No such file or directory; read without it",
        )
    ]


def test_secret_values_are_not_kept(services: SourceResult) -> None:
    assert "s3cret" not in repr(services)
    assert "literal-not-a-reference" not in repr(services)


# --- interpolation: process environment, then the project's .env ------------------------


@pytest.fixture(scope="module")
def interpolated() -> SourceResult:
    # WEB_PORT is in .env too: the process environment wins, as in compose.
    return read("interpolation", COMPOSE, environ={"WEB_PORT": "28081"})


def test_interpolated_ports(interpolated: SourceResult) -> None:
    assert port_rows(interpolated) == [
        published("gateway", 18080, 8080, 5, 10),  # ${GATEWAY_PORT} from .env
        published("gateway", 28081, 3000, 6, 10),  # ${WEB_PORT:-3000}: environment wins
        published("gateway", 9000, 9000, 7, 10),  # ${ADMIN_PORT:-9000}: unset, default
        published("gateway", 9464, 9464, 8, 10, address="127.0.0.1", exposure=LOCAL),
        random_port("gateway", 7000, 9, 10),  # ${UNSET_PORT}: "" -> ":7000"
        random_port("gateway", 5005, 10, 10),  # ${DEBUG_PORT:+5005}: unset -> ""
        published("gateway", 4000, 4000, 11, 10),  # nested default
        variable("token-engine", 8081, "TOKEN_ENGINE_URL", 13, 46, port_name="http"),
    ]


def test_interpolated_variables(interpolated: SourceResult) -> None:
    assert var_rows(interpolated) == [
        ("gateway", "UNSET_PORT", None, False, False, COMPOSE, 9, 10),
        ("gateway", "TOKEN_ENGINE_URL", "http://token-engine:8081", False, True, COMPOSE, 13, 7),
        ("gateway", "PRICE", "$5", False, True, COMPOSE, 14, 7),  # $$ escapes $
        ("gateway", "DB_PASSWORD", None, False, False, COMPOSE, 15, 17),
        ("gateway", "PASSWORD", "", False, True, COMPOSE, 15, 7),
        # `${REQUIRED_PORT:?...}` unset: one unset variable, its entry left out
        ("broken", "REQUIRED_PORT", None, False, False, COMPOSE, 19, 10),
    ]


def test_an_unset_required_variable_leaves_the_rest_readable(
    interpolated: SourceResult,
) -> None:
    """compose refuses `${REQUIRED_PORT:?...}` unset; portplan reads what it can: the file
    holds no error, the entry that needs the variable is left out, the others are read."""
    assert interpolated.errors == []
    assert [p.service for p in interpolated.ports if p.service == "broken"] == []
    assert [s.service for s in interpolated.services][-1] == "broken"


def test_environment_overrides_dotenv_default() -> None:
    result = read("interpolation", COMPOSE, environ={"GATEWAY_PORT": "38080"})
    assert result.ports[0].number == 38080


# --- several files merged --------------------------------------------------------------


def test_override_file_is_merged() -> None:
    result = read("merge", COMPOSE, "compose.override.yaml")
    override = "compose.override.yaml"
    assert port_rows(result) == [
        published("gateway", 8080, 8080, 5, 10),  # repeated in the override: one entry
        published("gateway", 9090, 9090, 6, 10),
        published("gateway", 5678, 5678, 5, 20, address="127.0.0.1", exposure=LOCAL, file=override),
        unpublished("gateway", 8081, 7, 15),
        unpublished("gateway", 8082, 6, 23, file=override),
        variable("gateway", 8090, "HTTP_PORT", 13, 19, port_name="http", file=override),
    ]  # token-engine: `ports: !reset []`
    assert dep_rows(result) == [
        ("gateway", "token-engine", "depends_on", True, override, 8, 7),
        ("gateway", "redis", "depends_on", True, override, 10, 7),
    ]
    assert [(v.name, v.value, Path(v.location.file).name) for v in result.variables] == [
        ("LOG_LEVEL", "info", COMPOSE),
        ("HTTP_PORT", "8090", override),  # the list of the override wins over the map
    ]
    assert [s.service for s in result.services] == ["gateway", "token-engine", "redis"]


def test_explicit_file_list_with_override_tag_and_host_network() -> None:
    result = read("merge", COMPOSE, "compose.override.yaml", "compose.prod.yaml")
    prod, override = "compose.prod.yaml", "compose.override.yaml"
    assert [row for row in port_rows(result) if row[10] is None] == [
        published("gateway", 8080, 8080, 4, 13, exposure=None, file=prod),  # 80:8080, host
        published("gateway", 8081, 8081, 7, 15, exposure=None),
        published("gateway", 8082, 8082, 6, 23, exposure=None, file=override),
    ]


def test_project_groups() -> None:
    names = ["compose.yaml", "compose.override.yml", "docker-compose.yml", "compose.prod.yaml"]
    assert project_groups(names) == [
        ["compose.prod.yaml"],
        ["compose.yaml", "compose.override.yml"],
        ["docker-compose.yml"],
    ]
    # compose v2 reads any default name with any default override name
    names = ["docker-compose.yml", "compose.override.yaml", "docker-compose.prod.yml"]
    assert project_groups(names) == [
        ["docker-compose.prod.yml"],
        ["docker-compose.yml", "compose.override.yaml"],
    ]
    names = ["compose.yml", "docker-compose.override.yaml", "app.yml", "app.override.yml"]
    assert project_groups(names) == [
        ["app.yml", "app.override.yml"],
        ["compose.yml", "docker-compose.override.yaml"],
    ]


def test_scan_reads_a_base_file_and_its_override_as_one_project() -> None:
    results = [r for r in scan([RESOURCES / "merge"]) if r.kind == "compose"]
    assert [Path(r.file).name for r in results] == ["compose.prod.yaml", COMPOSE]
    assert 5678 in {p.number for p in results[1].ports}  # from compose.override.yaml


# --- YAML anchors and merge keys --------------------------------------------------------


def test_anchors_and_merge_keys() -> None:
    result = read("anchors", COMPOSE)
    assert port_rows(result) == [
        published("ledger", 18080, 8080, 18, 20),
        variable("nats", 4222, "NATS_URL", 6, 27),  # from the anchored environment
        published("settlement", 18087, 8080, 27, 20),
        variable("settlement", 8087, "HTTP_PORT", 24, 19, port_name="http"),
        variable("nats", 4222, "NATS_URL", 6, 27),
        published("nats", 4222, 4222, 31, 10),
        published("nats-mirror", 4222, 4222, 31, 10),  # an alias of nats' list
    ]
    assert [(s.service, s.networks) for s in result.services] == [
        ("ledger", ("backend",)),
        ("settlement", ("backend",)),
        ("nats", ()),
        ("nats-mirror", ()),
    ]


# --- findings --------------------------------------------------------------------------


def _findings(folder: str) -> list[tuple[str, str, str]]:
    found = reconcile(scan([RESOURCES / folder]))
    return [
        (f.rule, " ".join(str(loc).split("/compose/")[-1] for loc in f.locations), f.message)
        for f in found
    ]


def test_dependency_on_an_undefined_service_is_a_finding() -> None:
    assert [f for f in _findings("services") if f[0] == "PP211"] == [
        (
            "PP211",
            "services/compose.yaml:6:9",
            "gateway depends on ledger, which no compose file of its directory defines",
        )
    ]  # audit is `required: false`


def test_an_aliased_port_list_is_published_twice() -> None:
    assert _findings("anchors") == [
        (
            "PP212",
            "anchors/compose.yaml:31:10",
            "host port 4222/tcp is published twice: by nats (all interfaces) and by "
            "nats-mirror (all interfaces, compose.yaml:31)",
        )
    ]


def test_merged_and_port_form_projects_are_clean() -> None:
    assert _findings("merge") == []
    assert _findings("ports") == []


EXPOSE = "expected a port 1-65535 or a range such as 8000-8010, then /tcp or /udp"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("services: [\n", "could not read x/compose.yaml:2:1: "),
        ("- a\n", "could not read x/compose.yaml:1:1: expected a mapping at the top level"),
        (
            'services:\n  a:\n    ports: ["80:80:80:80"]\n',
            "could not read x/compose.yaml:3:13: services.a.ports: invalid host IP address: "
            "expected an IPv4 address or an IPv6 one in brackets",
        ),
        (
            "services:\n  a:\n    expose: [http]\n",
            f"could not read x/compose.yaml:3:14: services.a.expose: {EXPOSE}",
        ),
        (
            "services:\n  a:\n    expose: ['80-x']\n",
            f"could not read x/compose.yaml:3:14: services.a.expose: {EXPOSE}",
        ),
        (
            "services:\n  a:\n    ports: [{target: 80, published: abc}]\n",
            "could not read x/compose.yaml:3:37: services.a.ports: invalid published port: the "
            "port is not a number",
        ),
        (
            "services:\n  a:\n    ports: [{target: 80, published: '99999'}]\n",
            "could not read x/compose.yaml:3:37: services.a.ports: invalid published port: the "
            "port is out of range 0-65535",
        ),
        (
            "services:\n  a:\n    ports: 8080\n",
            "could not read x/compose.yaml:3:12: services.a.ports: expected a list",
        ),
        (
            "services:\n  a:\n    depends_on: web\n    ports: ['80']\n",
            "could not read x/compose.yaml:3:17: services.a.depends_on: expected a list or a "
            "mapping",
        ),
        (
            "services:\n  a:\n    healthcheck: 'curl http://localhost:80/'\n    ports: ['80']\n",
            "could not read x/compose.yaml:3:19: services.a.healthcheck: expected a mapping",
        ),
    ],
)
def test_bad_input_is_one_error(text: str, message: str) -> None:
    result = parse_compose(text, "x/compose.yaml")
    assert [e.message[: len(message)] for e in result.errors] == [message]
    assert [p.number for p in result.ports] == ([80] if "'80'" in text else [])


def test_published_zero_is_any_free_port() -> None:
    result = parse_compose('services:\n  a:\n    ports: ["0:80"]\n', "compose.yaml")
    assert port_rows(result) == [random_port("a", 80, 3, 14)]


def test_image_app_protocol_names_and_health_port() -> None:
    """`image` (interpolated, the later file winning), a port without `name` named by its
    `app_protocol`, and the port the healthcheck's URL calls."""
    result = parse_compose(
        "services:\n"
        "  api:\n"
        "    image: ${PLAN:-ghcr.io/acme}/api:1.2\n"
        "    ports:\n"
        "      - {target: 8080, published: '18080', app_protocol: HTTP}\n"
        "      - {target: 9090, app_protocol: gRPC}\n"
        "      - {target: 5000, name: admin, app_protocol: http}\n"
        "      - {target: 5001, app_protocol: kubernetes.io/h2c}\n"
        "    healthcheck: {test: [CMD, curl, -f, 'http://localhost:8080/live']}\n"
        "  db: {image: 'postgres:16', expose: ['5432']}\n",
        "compose.yaml",
        {},
    )
    assert [(s.service, s.image, s.health_path, s.health_port) for s in result.services] == [
        ("api", "ghcr.io/acme/api:1.2", "/live", 8080),
        ("db", "postgres:16", None, None),
    ]
    assert [(p.service, p.number, p.port_name) for p in result.ports] == [
        ("api", 8080, None),  # the healthcheck's
        ("api", 18080, "http"),
        ("api", 9090, "grpc"),
        ("api", 5000, "admin"),
        ("api", 5001, "http"),
        ("db", 5432, None),
    ]
    assert result.errors == []


def test_the_image_of_a_later_file_wins(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  api: {image: 'acme/api:1'}\n")
    (tmp_path / "compose.override.yaml").write_text("services:\n  api: {image: 'acme/api:2'}\n")
    result = read_compose([str(tmp_path / "compose.yaml"), str(tmp_path / "compose.override.yaml")])
    assert [(s.service, s.image) for s in result.services] == [("api", "acme/api:2")]


# --- include and extends ----------------------------------------------------------------


def _where(location: Any) -> str:
    return f"{location.file.split('/compose/', 1)[-1]}:{location.line}:{location.column}"


def test_include_short_and_long_form() -> None:
    """`- path` and `{path: [file, override], project_directory, env_file}`: each included
    project read with its own folder and variables (its env_file, or the .env of its
    folder, under the including project's .env, which wins); scan reads an included file
    as part of the project that includes it, and, when it is the default compose file of
    a folder of its own (infra/compose.yaml), also as a project of its own."""
    results = [r for r in scan([RESOURCES / "include"]) if r.kind == "compose"]
    assert [r.file.split("/compose/", 1)[-1] for r in results] == [
        "include/compose.yaml",
        "include/infra/compose.yaml",
    ]
    result, infra = results
    assert [(s.service, s.project) for s in infra.services] == [("kafka", infra.file)]
    assert [(s.service, _where(s.location), s.image) for s in result.services] == [
        ("api", "include/compose.yaml:7:3", "acme/api"),
        ("kafka", "include/infra/compose.yaml:2:3", "bitnami/kafka"),
        ("cache", "include/shared/cache.yaml:2:3", "redis:7"),
    ]
    assert [
        (p.service, p.number, p.target, p.exposure, _where(p.location)) for p in result.ports
    ] == [
        ("api", 8000, 8000, PUBLIC, "include/compose.yaml:9:14"),
        ("kafka", 19092, 9092, PUBLIC, "include/infra/compose.yaml:4:14"),  # infra/.env
        ("cache", 26379, 6379, PUBLIC, "include/shared/cache.yaml:4:14"),  # .env wins
        ("cache", 7001, 7001, INTERNAL, "include/shared/cache.override.yaml:3:15"),  # env_file
    ]
    assert [(v.service, v.name, v.value, _where(v.location)) for v in result.variables] == [
        ("cache", "MAXMEMORY", "1gb", "include/shared/cache.env:1:1"),  # project_directory
    ]
    assert result.errors == []


def test_an_included_service_is_a_known_dependency_and_drift_is_found() -> None:
    """No PP211 for depends_on an included service; custom.env's CACHE_PORT is not the
    port the cache runs on (the including project's .env wins)."""
    found = reconcile(scan([RESOURCES / "include"]))
    assert [(f.rule, [_where(loc) for loc in f.locations], f.message) for f in found] == [
        (
            "PP201",
            [
                "include/shared/custom.env:1:12",
                "include/.env:1:12",
                "include/shared/cache.yaml:4:14",
            ],
            "cache: port is 16379 here but 26379 in .env:1 (and 1 more)",
        )
    ]


def test_include_errors_are_one_finding_each() -> None:
    """A missing file, a service both sides define, a cycle (once), a missing env_file;
    what can be read still is."""
    result = read_compose([str(RESOURCES / "include-errors" / COMPOSE)], {})
    assert [(_where(e.location), e.message.split(": ", 1)[1]) for e in result.errors] == [
        (
            "include-errors/compose.yaml:2:5",
            "include missing/compose.yaml: No such file or directory",
        ),
        (
            "include-errors/compose.yaml:3:5",
            "include: services.web of dup.yaml conflicts with services.web of compose.yaml",
        ),
        (
            "include-errors/cycle-b.yaml:1:11",
            "circular include: compose.yaml includes cycle-a.yaml includes cycle-b.yaml "
            "includes cycle-a.yaml",
        ),
        (
            "include-errors/compose.yaml:5:5",
            "include: env_file nope.env: No such file or directory",
        ),
    ]
    assert [(s.service, s.image) for s in result.services] == [
        ("web", "nginx"),  # its own definition, not dup.yaml's
        ("extra", "extra"),
        ("a", "a"),
        ("b", "b"),
    ]


def test_extends_in_the_file_and_from_another() -> None:
    """`extends: base` and `{file, service}` (its relative paths from its own folder, bases of
    bases followed), merged under the service as compose merges files: mappings key by
    key, the service winning; `!override` replacing the base's ports."""
    result = read("extends", COMPOSE)
    shared = "extends/shared/"
    assert [(s.service, s.image) for s in result.services] == [
        ("base", "acme/app"),
        ("app-dev", "acme/app"),
        ("app-prod", "acme/web"),
        ("worker", "acme/web"),
    ]
    ports = [(p.service, p.number, p.variable, _where(p.location)) for p in result.ports]
    assert ports == [
        ("base", 8080, None, "extends/compose.yaml:4:14"),
        ("API", 8080, "API_PORT", "extends/compose.yaml:7:18"),
        ("app-dev", 8080, None, "extends/compose.yaml:4:14"),  # base's
        ("API", 8080, "API_PORT", "extends/compose.yaml:7:18"),
        ("app-prod", 8443, None, "extends/compose.yaml:14:24"),  # !override
        ("app-prod", 8082, "HTTP_PORT", f"{shared}web.env:1:11"),  # env_file of common.yml
        ("worker", 8081, None, f"{shared}common.yml:4:14"),  # worker extends web
        ("worker", 9000, None, f"{shared}common.yml:8:15"),
        ("worker", 8082, "HTTP_PORT", f"{shared}web.env:1:11"),
    ]
    assert [(v.service, v.name, v.value) for v in result.variables if v.name == "LOG_LEVEL"] == [
        ("base", "LOG_LEVEL", "info"),
        ("app-dev", "LOG_LEVEL", "debug"),
    ]
    assert dep_rows(result) == [("worker", "base", "depends_on", True, COMPOSE, 19, 18)]
    assert result.errors == []


def test_extends_errors_are_one_finding_each() -> None:
    """A cycle (reported once), a missing file (once, however many services name it), a
    service the file does not have; never a traceback."""
    result = read("extends-errors", COMPOSE)
    assert [(_where(e.location), e.message.split(": ", 1)[1]) for e in result.errors] == [
        (
            "extends-errors/compose.yaml:3:14",
            "circular extends: a in compose.yaml, extends b in compose.yaml, extends a in "
            "compose.yaml",
        ),
        (
            "extends-errors/compose.yaml:7:21",
            "services.c.extends.file missing.yml: No such file or directory",
        ),
        ("extends-errors/compose.yaml:9:41", "services.d.extends: other.yml has no service nope"),
        (
            "extends-errors/compose.yaml:11:14",
            "services.e.extends: compose.yaml has no service nobody",
        ),
    ]
    assert [s.service for s in result.services] == ["a", "b", "c", "d", "e", "f"]


def test_example_compose_and_env_files_are_templates(tmp_path: Path) -> None:
    (tmp_path / "compose.example.yml").write_text(
        'services:\n  web:\n    ports: ["8080:80"]\n    env_file: .env.example\n'
    )
    (tmp_path / ".env.example").write_text("WEB_PORT=8080\n")
    (tmp_path / COMPOSE).write_text('services:\n  web:\n    ports: ["8088:80"]\n')
    results = {Path(r.file).name: r for r in scan([tmp_path]) if r.kind == "compose"}
    example, real = results["compose.example.yml"], results[COMPOSE]
    assert [(p.number, p.template) for p in example.ports] == [(8080, True), (8080, True)]
    assert [(s.service, s.template) for s in example.services] == [("web", True)]
    assert [(v.name, v.template) for v in example.variables] == [("WEB_PORT", True)]
    assert [(p.number, p.template) for p in real.ports] == [(8088, False)]


def test_a_go_template_compose_file_is_one_note() -> None:
    result = parse_compose(
        "services:\n  api:\n    ports:\n      - {{ .Values.port }}:80\n", "compose.yaml"
    )
    assert [(e.level, e.message) for e in result.errors] == [
        (
            Level.INFO,
            "not read compose.yaml:4:9: a Go template ({{ }}), not YAML; render it (helm "
            "template) to reconcile it",
        )
    ]


def test_a_port_without_a_host_port_is_published_on_a_random_one() -> None:
    """compose publishes `"80"`, `":80"`, `"0:80"` and long syntax without `published` on
    a random host port of the host IP given (all interfaces when none): exposure as that
    address says, no host number (the container port, unpublished)."""
    result = parse_compose(
        "services:\n"
        "  a:\n"
        '    ports: ["127.0.0.1::80", "[::1]::81", "10.0.0.5::82", ":83"]\n'
        "    expose: [84]\n",
        COMPOSE,
    )
    assert port_rows(result) == [
        random_port("a", 80, 3, 25, address="127.0.0.1", exposure=LOCAL),
        random_port("a", 81, 3, 38, address="::1", exposure=LOCAL),
        random_port("a", 82, 3, 54, address="10.0.0.5", exposure=INTERNAL),
        random_port("a", 83, 3, 61),
        unpublished("a", 84, 4, 14),
    ]


@pytest.mark.parametrize(
    ("files", "name", "errors"),
    [
        (["name: shop\nservices: {a: {}}\n"], "shop", []),
        (["name: ${PROJECT:-shop}\nservices: {a: {}}\n"], "shop-dev", []),  # from environ
        (["name: shop\nservices: {a: {}}\n", "name: payments\n"], "payments", []),  # later wins
        (["name: shop\nservices: {a: {}}\n", "services: {a: {}}\n"], "shop", []),
        (["name: ''\nservices: {a: {}}\n"], None, []),  # empty: the directory's name
        (
            ["name: My Shop\nservices: {a: {}}\n"],
            None,
            [
                "could not read compose.yaml:1:7: name: expected a project name of lowercase "
                "letters, digits, '-' and '_', from a letter or digit"
            ],
        ),
        (
            ["name: [shop]\nservices: {a: {}}\n"],
            None,
            ["could not read compose.yaml:1:7: name: expected a string"],
        ),
    ],
)
def test_the_project_name(
    files: list[str], name: str | None, errors: list[str], tmp_path: Path
) -> None:
    """The top-level `name:` (interpolated; a later file's wins) is the project's name on
    every service it defines; one compose refuses is one error that quotes nothing."""
    paths = []
    for index, text in enumerate(files):
        path = tmp_path / ("compose.yaml" if not index else f"compose.{index}.yaml")
        path.write_text(text)
        paths.append(str(path))
    result = read_compose(paths, {"PROJECT": "shop-dev"})
    assert [s.project_name for s in result.services] == [name]
    assert [e.message.replace(f"{tmp_path}/", "") for e in result.errors] == errors


def test_an_url_to_a_service_of_the_project_reaches_it() -> None:
    """`postgres://app@db:5432` in `environment:` (or an env_file) reaches the project's
    service `db`, whatever its image, not the scheme's postgres; `network_mode: host` is
    recorded on the service."""
    result = parse_compose(
        "services:\n"
        "  api:\n"
        "    network_mode: host\n"
        "    environment:\n"
        "      DATABASE_URL: postgres://app@db:5432/app\n"
        "  db:\n"
        "    build: ./db\n",
        COMPOSE,
    )
    assert [(s.service, s.host_network) for s in result.services] == [
        ("api", True),
        ("db", False),
    ]
    assert [(p.service, p.number, p.variable) for p in result.ports] == [
        ("db", 5432, "DATABASE_URL"),
    ]


NAMED_ON_NETWORKS = (
    "services:\n"
    "  api:\n"
    "    environment:\n"
    "      PAYMENTS_URL: http://pay:8080\n"
    "      LEDGER_URL: http://books:9000\n"
    "      DATABASE_URL: postgres://app@pg:5432/app\n"
    "    links: ['ledger:books', db]\n"
    "  payments:\n"
    "    networks:\n"
    "      default: {aliases: [pay, payments-api]}\n"
    "      backend:\n"
    "    ports: ['8080:8080']\n"
    "  ledger:\n"
    "    container_name: ${PROJECT:-shop}-ledger\n"
    "    expose: ['9000']\n"
    "  db:\n"
    "    image: postgres:16\n"
    "    networks: {default: {aliases: [pg]}}\n"
)


def test_names_on_the_networks_are_aliases() -> None:
    """The names compose gives a service on its networks are its aliases: `aliases` of
    each network, `container_name` (interpolated) and the alias another service's `links:
    [svc:alias]` gives it; an URL to one reaches that service, end to end (a URL to `pg`,
    an alias of the project's db, is db's, not the scheme's postgres)."""
    result = parse_compose(NAMED_ON_NETWORKS, COMPOSE)
    assert [(s.service, s.aliases) for s in result.services] == [
        ("api", ()),
        ("payments", ("pay", "payments-api")),
        ("ledger", ("shop-ledger", "books")),
        ("db", ("pg",)),
    ]
    assert dep_rows(result) == [
        ("api", "pay", "env-url", True, COMPOSE, 4, 21),
        ("api", "books", "env-url", True, COMPOSE, 5, 19),
        ("api", "pg", "env-url", True, COMPOSE, 6, 21),
    ]
    view = build_view([result], None)
    assert [
        (view.show(d.key), view.show(d.target), d.obs.location.line) for d in view.dependencies
    ] == [
        ("api", "payments", 4),
        ("api", "ledger", 5),
        ("api", "db", 6),
    ]
    assert sorted({(view.show(p.key), p.obs.number) for p in view.ports}) == [
        ("db", 5432),
        ("ledger", 9000),
        ("payments", 8080),
    ]
    assert reconcile([result]) == []
    plan = yaml.safe_load(import_results([result], [COMPOSE]).text)["services"]
    assert plan["api"]["depends_on"] == ["payments", "ledger", "db"]
    assert [plan[name].get("aliases") for name in plan] == [None, ["pay"], ["books"], None]


def test_a_host_range_of_one_port_is_counted_in_the_singular() -> None:
    result = parse_compose("services:\n  web:\n    ports: ['8080:80-81']\n", COMPOSE)
    assert [e.message for e in result.errors] == [
        "could not read compose.yaml:3:13: services.web.ports: the host range has 1 port and "
        "the container range 2"
    ]


# Compose file format v1: services at the top level, no `services:` key, no `version`.
V1 = """\
app:
  build: .
  links:
    - db
db:
  image: postgres:9.6
nginx:
  image: nginx:1.25
  ports:
    - 8000:80
"""


@pytest.mark.parametrize("text", [V1, 'version: "1"\n' + V1])
def test_a_v1_compose_file_is_read_as_compose_1_read_it(tmp_path: Path, text: str) -> None:
    (tmp_path / "docker-compose.yml").write_text(text)
    (result,) = scan([tmp_path / "docker-compose.yml"])
    first = 2 if text.startswith("version") else 1
    assert sorted(s.service for s in result.services) == ["app", "db", "nginx"]
    assert [(p.service, p.number, p.target, p.location.line) for p in result.ports] == [
        ("nginx", 8000, 80, first + 9)
    ]


def test_a_file_of_top_level_settings_is_not_a_v1_compose_file(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text('version: "3.8"\nx-base:\n  image: app\n')
    (result,) = scan([tmp_path / "docker-compose.yml"])
    assert result.services == []
