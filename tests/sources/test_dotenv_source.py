"""The .env source: the compose dialect and what variables say -> exact observations
(service, port, port name, variable, line, column), and the findings of one .env file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from portplan.reconcile.core import reconcile
from portplan.sources import scan
from portplan.sources.base import SourceResult
from portplan.sources.dotenv import known_names, owner_of, parse_dotenv_source, read_dotenv

RESOURCES = Path(__file__).resolve().parents[1] / "resources" / "env"

Row = tuple[Any, ...]


def port_rows(result: SourceResult) -> list[Row]:
    return [
        (p.service, p.number, p.port_name, p.variable, p.location.line, p.location.column)
        for p in result.ports
    ]


def var_rows(result: SourceResult) -> list[Row]:
    return [
        (v.service, v.name, v.value, v.secret, v.location.line, v.location.column)
        for v in result.variables
    ]


def dep_rows(result: SourceResult) -> list[Row]:
    return [
        (d.service, d.target, d.via, d.location.line, d.location.column)
        for d in result.dependencies
    ]


def lines_of(folder: str) -> list[str]:
    return (RESOURCES / folder / ".env").read_text().split("\n")


# --- the compose dialect: quotes, escapes, export, comments, multi-line values -----------

DIALECT: list[tuple[int, str, Row, list[Row]]] = [
    (
        2,
        "GATEWAY_PORT=8080",
        (None, "GATEWAY_PORT", "8080", False, 2, 1),
        [("GATEWAY", 8080, None, "GATEWAY_PORT", 2, 14)],
    ),
    (
        3,
        "export TOKEN_ENGINE_PORT=8081",
        (None, "TOKEN_ENGINE_PORT", "8081", False, 3, 8),
        [("TOKEN_ENGINE", 8081, None, "TOKEN_ENGINE_PORT", 3, 26)],
    ),
    (
        4,
        'OBLIGATION_ENGINE_PORT="8082"',
        (None, "OBLIGATION_ENGINE_PORT", "8082", False, 4, 1),
        [("OBLIGATION_ENGINE", 8082, None, "OBLIGATION_ENGINE_PORT", 4, 25)],
    ),
    (
        5,
        "LIQUIDITY_ROUTER_PORT='8083'",
        (None, "LIQUIDITY_ROUTER_PORT", "8083", False, 5, 1),
        [("LIQUIDITY_ROUTER", 8083, None, "LIQUIDITY_ROUTER_PORT", 5, 24)],
    ),
    (
        6,
        "RISK_ENGINE_PORT=8084 # inline comment",
        (None, "RISK_ENGINE_PORT", "8084", False, 6, 1),
        [("RISK_ENGINE", 8084, None, "RISK_ENGINE_PORT", 6, 18)],
    ),
    (
        7,
        "CLEARING_ENGINE_PORT = 8085",
        (None, "CLEARING_ENGINE_PORT", "8085", False, 7, 1),
        [("CLEARING_ENGINE", 8085, None, "CLEARING_ENGINE_PORT", 7, 24)],
    ),
    (
        8,
        "COMPLIANCE_ENGINE_PORT: 8086",
        (None, "COMPLIANCE_ENGINE_PORT", "8086", False, 8, 1),
        [("COMPLIANCE_ENGINE", 8086, None, "COMPLIANCE_ENGINE_PORT", 8, 25)],
    ),
    (
        9,
        'SETTLEMENT_ENGINE_URL="http://settlement:${SETTLEMENT_PORT:-8087}/api"',
        (None, "SETTLEMENT_ENGINE_URL", "http://settlement:8087/api", False, 9, 1),
        [("settlement", 8087, "http", "SETTLEMENT_ENGINE_URL", 9, 42)],  # at the ${...}
    ),
    (
        # compose-go expands only keys defined above: REPORTING_PORT comes later.
        10,
        "REPORTING_ENGINE_URL=http://reporting:$REPORTING_PORT",
        (None, "REPORTING_ENGINE_URL", "http://reporting:", False, 10, 1),
        [],
    ),
    (
        11,
        "REPORTING_PORT=8088",
        (None, "REPORTING_PORT", "8088", False, 11, 1),
        [("REPORTING", 8088, None, "REPORTING_PORT", 11, 16)],
    ),
    (12, 'GREETING="line one', (None, "GREETING", "line one\nline two", False, 12, 1), []),
    (
        14,
        "NOTIFICATION_ENGINE_PORT=8089",
        (None, "NOTIFICATION_ENGINE_PORT", "8089", False, 14, 1),
        [("NOTIFICATION_ENGINE", 8089, None, "NOTIFICATION_ENGINE_PORT", 14, 26)],
    ),
    (
        15,
        r'ESCAPED="tab\there \"quoted\" \$HOME"',
        (None, "ESCAPED", 'tab\there "quoted" $HOME', False, 15, 1),
        [],
    ),
    (
        16,
        "SINGLE='no ${EXPANSION} here'",
        (None, "SINGLE", "no ${EXPANSION} here", False, 16, 1),
        [],
    ),
    (
        17,
        "INDENTED_PORT=8090",
        (None, "INDENTED_PORT", "8090", False, 17, 4),
        [("INDENTED", 8090, None, "INDENTED_PORT", 17, 18)],
    ),
]


@pytest.fixture(scope="module")
def dialect() -> SourceResult:
    return read_dotenv(str(RESOURCES / "dialect" / ".env"))


@pytest.mark.parametrize(
    ("line", "text", "variable", "ports"), DIALECT, ids=[c[1] for c in DIALECT]
)
def test_dialect(
    dialect: SourceResult, line: int, text: str, variable: Row, ports: list[Row]
) -> None:
    assert lines_of("dialect")[line - 1].strip() == text
    assert [row for row in var_rows(dialect) if row[4] == line] == [variable]
    assert [row for row in port_rows(dialect) if row[4] == line] == ports


def test_dialect_is_pinned_whole(dialect: SourceResult) -> None:
    assert var_rows(dialect) == [variable for _, _, variable, _ in DIALECT]
    assert port_rows(dialect) == [row for *_, ports in DIALECT for row in ports]
    assert dialect.dependencies == [] and dialect.errors == []  # no owner: no dependency


# --- *_PORT, *_URL, *_ADDR, *_HOST --------------------------------------------------------

VARIABLES: list[tuple[int, str, Row, list[Row]]] = [
    (
        1,
        "TOKEN_ENGINE_PORT=8081",
        (None, "TOKEN_ENGINE_PORT", "8081", False, 1, 1),
        [("TOKEN_ENGINE", 8081, None, "TOKEN_ENGINE_PORT", 1, 19)],
    ),
    (
        2,
        "TOKEN_ENGINE_GRPC_PORT=50051",
        (None, "TOKEN_ENGINE_GRPC_PORT", "50051", False, 2, 1),
        [("TOKEN_ENGINE", 50051, "grpc", "TOKEN_ENGINE_GRPC_PORT", 2, 24)],
    ),
    (
        # a local host: the service the prefix names
        3,
        "TOKEN_ENGINE_URL=http://localhost:8081/api",
        (None, "TOKEN_ENGINE_URL", "http://localhost:8081/api", False, 3, 1),
        [("TOKEN_ENGINE", 8081, "http", "TOKEN_ENGINE_URL", 3, 35)],
    ),
    (
        4,
        "GATEWAY_URL=https://gateway.internal:8443",
        (None, "GATEWAY_URL", "https://gateway.internal:8443", False, 4, 1),
        [("gateway.internal", 8443, "https", "GATEWAY_URL", 4, 38)],
    ),
    (
        # a password in the URL: a secret, the value is not kept
        5,
        "DATABASE_URL=postgresql://deltran:s3cret-pass@postgres:5432/deltran",
        (None, "DATABASE_URL", None, True, 5, 1),
        [("postgres", 5432, None, "DATABASE_URL", 5, 56)],
    ),
    (
        # a reference in the password: not a secret; the port found past the reference
        6,
        "REDIS_URL=redis://:${REDIS_PASSWORD}@redis:6379/0",
        (None, "REDIS_URL", "redis://:@redis:6379/0", False, 6, 1),
        [("redis", 6379, None, "REDIS_URL", 6, 44)],
    ),
    (
        7,
        "NATS_ADDR=nats:4222",
        (None, "NATS_ADDR", "nats:4222", False, 7, 1),
        [("nats", 4222, None, "NATS_ADDR", 7, 16)],
    ),
    (
        # a listen address of the file's owner; this file has none
        8,
        "METRICS_ADDR=:9464",
        (None, "METRICS_ADDR", ":9464", False, 8, 1),
        [],
    ),
    (
        9,
        "LEDGER_HOST=ledger:8090",
        (None, "LEDGER_HOST", "ledger:8090", False, 9, 1),
        [("ledger", 8090, None, "LEDGER_HOST", 9, 20)],
    ),
    (10, "CLEARING_HOST=clearing", (None, "CLEARING_HOST", "clearing", False, 10, 1), []),
    (
        11,
        "KAFKA_BROKERS=kafka-1:9092,kafka-2:9093",
        (None, "KAFKA_BROKERS", "kafka-1:9092,kafka-2:9093", False, 11, 1),
        [
            ("kafka-1", 9092, None, "KAFKA_BROKERS", 11, 23),
            ("kafka-2", 9093, None, "KAFKA_BROKERS", 11, 36),
        ],
    ),
    (12, "JWT_SECRET=hunter2", (None, "JWT_SECRET", None, True, 12, 1), []),
    (13, "API_KEY=${API_KEY}", (None, "API_KEY", "", False, 13, 1), []),
]


@pytest.fixture(scope="module")
def variables() -> SourceResult:
    return read_dotenv(str(RESOURCES / "variables" / ".env"))


@pytest.mark.parametrize(
    ("line", "text", "variable", "ports"), VARIABLES, ids=[c[1] for c in VARIABLES]
)
def test_variables(
    variables: SourceResult, line: int, text: str, variable: Row, ports: list[Row]
) -> None:
    assert lines_of("variables")[line - 1] == text
    assert [row for row in var_rows(variables) if row[4] == line] == [variable]
    assert [row for row in port_rows(variables) if row[4] == line] == ports


def test_variables_are_pinned_whole(variables: SourceResult) -> None:
    assert var_rows(variables) == [variable for _, _, variable, _ in VARIABLES]
    assert port_rows(variables) == [row for *_, ports in VARIABLES for row in ports]


def test_secrets_are_never_kept(variables: SourceResult) -> None:
    assert "s3cret-pass" not in repr(variables)
    assert "hunter2" not in repr(variables)


def test_a_service_env_file_owns_its_bare_variables() -> None:
    path = RESOURCES / "owned" / "token-engine.env"
    result = read_dotenv(str(path), owner_of(str(path)))
    assert port_rows(result) == [
        ("token-engine", 8081, "http", "HTTP_PORT", 1, 11),
        ("token-engine", 50051, "grpc", "GRPC_PORT", 2, 11),
        ("token-engine", 9464, "metrics", "METRICS_PORT", 3, 14),
        ("token-engine", 9000, "admin", "TOKEN_ENGINE_ADMIN_PORT", 4, 25),
        ("nats", 4222, None, "NATS_URL", 5, 27),
        ("obligation-engine", 8082, "http", "OBLIGATION_ENGINE_URL", 6, 48),
    ]
    assert dep_rows(result) == [
        ("token-engine", "nats", "env-url", 5, 10),
        ("token-engine", "obligation-engine", "env-url", 6, 23),
    ]
    assert {v.service for v in result.variables} == {"token-engine"}


@pytest.mark.parametrize(
    ("name", "owner"),
    [
        ("token-engine.env", "token-engine"),
        ("services/gateway.env", "gateway"),
        (".env", None),
        (".env.local", None),
        ("production.env", None),
        ("service-ports.env", None),
    ],
)
def test_owner_of(name: str, owner: str | None) -> None:
    assert owner_of(name) == owner


# --- bad input ---------------------------------------------------------------------------


OUT_OF_RANGE = "expected a port 1-65535, got a number out of that range"


@pytest.mark.parametrize(
    ("text", "location", "message"),
    [
        (
            'A=1\nB="open\nC=3\n',
            "x.env:2:3",
            "could not read x.env:2:3: unterminated double-quoted value (opened at column 3)",
        ),
        ("A=1\nB C=2\n", "x.env:2:1", "could not read x.env:2:1: key cannot contain a space"),
        (
            "A=1\nB!=2\n",
            "x.env:2:2",
            "could not read x.env:2:2: unexpected character in a variable name (expected "
            'letters, digits, "_", ".", "-", "[" or "]", then "=" or ":")',
        ),
        (
            "A=${B:?needed}\n",
            "x.env:1:3",
            "could not read x.env:1:3: required variable B is missing a value",
        ),
        ("GATEWAY_PORT=70000\n", "x.env:1:14", f"GATEWAY_PORT: {OUT_OF_RANGE}"),
        ("GATEWAY_PORT=0\n", "x.env:1:14", f"GATEWAY_PORT: {OUT_OF_RANGE}"),
    ],
)
def test_bad_input_is_one_error(text: str, location: str, message: str) -> None:
    result = parse_dotenv_source(text, "x.env")
    assert [(str(e.location), e.message) for e in result.errors] == [(location, message)]
    assert result.ports == []


def test_undecodable_file_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_bytes(b"A_PORT=80\xff\n")
    result = read_dotenv(str(path))
    assert [e.message for e in result.errors] == [f"could not read {path}:1:10: not UTF-8 text"]


# --- findings of one .env file ------------------------------------------------------------


def _findings(folder: str) -> list[tuple[str, list[str], str]]:
    found = reconcile(scan([RESOURCES / folder]))
    return [
        (f.rule, [str(loc).split("/env/")[-1] for loc in f.locations], f.message) for f in found
    ]


def test_one_port_given_to_two_variables() -> None:
    # TOKEN_ENGINE_PORT and TOKEN_ENGINE_URL hold one port of one service: no finding; nor
    # do LEDGER_URL=http://ledger:8092 (ledger's own address on the container network) and
    # CLEARING_PORT=8092.
    assert _findings("reused") == [
        (
            "PP213",
            ["reused/.env:1:14", "reused/.env:2:1"],
            "port 8080 is given to ADMIN_PORT and GATEWAY_PORT",
        ),
    ]


def test_secrets_are_findings_without_their_values() -> None:
    found = _findings("variables")
    assert found == [
        ("PP210", ["variables/.env:5:1"], "DATABASE_URL holds a literal secret (value not shown)"),
        ("PP210", ["variables/.env:12:1"], "JWT_SECRET holds a literal secret (value not shown)"),
    ]
    assert "s3cret" not in repr(found) and "hunter2" not in repr(found)


def test_dialect_and_owned_files_are_clean() -> None:
    assert _findings("dialect") == []
    assert _findings("owned") == []


@pytest.mark.parametrize(
    ("name", "template"),
    [
        (".env.example", True),
        (".env.sample", True),
        (".env.template", True),
        (".env.dist", True),
        ("example.env", True),
        (".env.local.example", True),
        (".env", False),
        (".env.local", False),
        ("token-engine.env", False),
    ],
)
def test_example_files_mark_their_observations_as_templates(name: str, template: bool) -> None:
    result = parse_dotenv_source("WEB_PORT=8080\nAPI_URL=http://api:9000\n", name, "web")
    assert [(p.service, p.number, p.template) for p in result.ports] == [
        ("web", 8080, template),
        ("api", 9000, template),
    ]
    assert [(v.name, v.template) for v in result.variables] == [
        ("WEB_PORT", template),
        ("API_URL", template),
    ]
    assert [(d.target, d.template) for d in result.dependencies] == [("api", template)]


def test_an_url_host_that_names_a_known_service_wins_over_the_scheme() -> None:
    """`postgres://...@db:5432` read where a service `db` is known (its compose project's)
    reaches db; where none is known, the scheme's product (postgres); a local host never
    names a service, and in a compose project's env_file (a container's environment) it is
    the container itself: no dependency."""
    text = (
        "DATABASE_URL=postgres://app@db:5432/app\n"
        "CACHE_URL=redis://Cache_1:6379\n"
        "LOCAL_DB=postgres://app@localhost:5433/app\n"
    )
    known = parse_dotenv_source(text, "api.env", "api", known_names(["db", "cache-1"]))
    assert port_rows(known) == [
        ("db", 5432, None, "DATABASE_URL", 1, 32),
        ("cache_1", 6379, None, "CACHE_URL", 2, 27),
        ("postgres", 5433, None, "LOCAL_DB", 3, 35),
    ]
    assert [(d.service, d.target) for d in known.dependencies] == [
        ("api", "db"),
        ("api", "cache_1"),
    ]
    alone = parse_dotenv_source(text, "api.env", "api")
    assert [p.service for p in alone.ports] == ["postgres", "redis", "postgres"]
