"""The Markdown source: tables of input -> exact observations (name, number, line, column)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from portplan.model import Exposure
from portplan.reconcile.core import reconcile_paths
from portplan.sources.base import SourceResult
from portplan.sources.markdown import (
    conflicts,
    decode_markdown,
    parse_markdown,
    read_markdown,
)
from portplan.sources.markdown.code import compose_service_names
from portplan.sources.markdown.text import repair

RESOURCES = Path(__file__).resolve().parents[1] / "resources" / "markdown"
SEEDS = {
    0: "000_7329aef7b618c9f5.txt",
    1: "001_414c4c51c21fd5c7.txt",
    2: "002_74688f0c1be2d5b8.txt",
    3: "003_e71b2e849d4d1575.txt",
    4: "004_a1d87348a9620570.txt",
}
SECRETS = (
    "deltran-secret-key-change-in-production",
    "deltran_secure_pass_2024",
    "airflow:airflow@",
)
PUBLIC, INTERNAL, LOCAL = Exposure.PUBLIC, Exposure.INTERNAL, Exposure.LOCAL

Port = tuple[str, int, str | None, int, int]


def ports(result: SourceResult) -> list[Port]:
    return [
        (p.service, p.number, p.port_name, p.location.line, p.location.column) for p in result.ports
    ]


def ranges(result: SourceResult) -> list[tuple[Any, ...]]:
    return [
        (
            str(r.ports),
            r.label,
            r.reserved,
            r.future,
            r.exposure,
            r.location.line,
            r.location.column,
        )
        for r in result.ranges
    ]


def deps(result: SourceResult) -> list[tuple[Any, ...]]:
    return [
        (d.service, d.target, d.via, d.location.line, d.location.column)
        for d in result.dependencies
    ]


def variables(result: SourceResult) -> list[tuple[Any, ...]]:
    return [
        (v.service, v.name, v.value, v.secret, v.sets, v.location.line, v.location.column)
        for v in result.variables
    ]


def parse(text: str) -> SourceResult:
    return parse_markdown(text, "doc.md")


def seed(shared: Path, number: int) -> SourceResult:
    return read_markdown(shared / "seeds" / SEEDS[number])


def seed_lines(shared: Path, number: int) -> list[str]:
    return (shared / "seeds" / SEEDS[number]).read_text(encoding="utf-8").split("\n")


# --- prose, headings, list items ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("### Gateway (Port 8080)", [("Gateway", 8080, None, 1, 19)]),
        ("#### Settlement Engine (Rust - Port 8087)", [("Settlement Engine", 8087, None, 1, 37)]),
        (
            "1. **compliance-monitor (8017)**: Real-time regulatory monitoring",
            [("compliance-monitor", 8017, None, 1, 26)],
        ),
        (
            "Compliance Monitoring Service (Port 8017):",
            [("Compliance Monitoring Service", 8017, None, 1, 37)],
        ),
        ("API Gateway (3001)", [("API Gateway", 3001, None, 1, 14)]),
        ("    ├── database-service (8008)", [("database-service", 8008, None, 1, 27)]),
        (
            "Database Service (Port 8008) → database-service (8008)",
            [("Database Service", 8008, None, 1, 24), ("database-service", 8008, None, 1, 50)],
        ),
        (
            "- **Port 8000**: API Gateway (public, secured with OAuth2/JWT)",
            [("API Gateway", 8000, None, 1, 10)],
        ),
        (
            "- Settlement Engine: Port 8087 (HTTP), 50056 (gRPC)",
            [
                ("Settlement Engine", 8087, "http", 1, 27),
                ("Settlement Engine", 50056, "grpc", 1, 40),
            ],
        ),
        (
            "Token Engine (HTTP 8081, gRPC 50051)",
            [("Token Engine", 8081, "http", 1, 20), ("Token Engine", 50051, "grpc", 1, 31)],
        ),
        (
            "- All services should run behind the Gateway (8080) in production",
            [("Gateway", 8080, None, 1, 47)],
        ),
        ("- 📋 Backtesting engine (8016) enhancement", [("Backtesting engine", 8016, None, 1, 25)]),
        ("Redis (Port 80)", [("Redis", 80, None, 1, 13)]),
        (
            "Token Engine:   http://localhost:8081/metrics",
            [("Token Engine", 8081, "metrics", 1, 34)],
        ),
        (
            "- matcher-web: a web server running on localhost and port 9021.",
            [("matcher-web", 9021, None, 1, 59)],
        ),
        ("* api: serving at port 8000 once started", [("api", 8000, None, 1, 24)]),
        ("Grafana URL: http://localhost:3000/login", [("Grafana", 3000, "http", 1, 31)]),
    ],
)
def test_prose_ports(text: str, expected: list[Port]) -> None:
    assert ports(parse(text)) == expected
    lines = text.split("\n")
    assert all(
        lines[line - 1][column - 1 :].startswith(str(n)) for _, n, _, line, column in expected
    )


@pytest.mark.parametrize(
    "text",
    [
        "- **Total Savings**: $137K (57% cost reduction)",
        "| Infrastructure | $14K | $15K | +$1K |",
        "**Completion Date**: September 22, 2025",
        "**Last Updated**: 2025-11-10",
        "### Phase 1: Production Hardening (Q1 2025)",
        "Released (2024) and revised (2025)",
        "- Event sourcing with 7-year retention",
        "- **Audit Trail**: 7-year immutable audit logging",
        "- **API Response Time**: < 100ms (Target achieved)",
        "- **Throughput**: 1000+ req/sec (Target achieved)",
        "- **Response Caching**: 60-80% cache hit rate for cost optimization",
        "- **Timeline**: 14-18 weeks for complete implementation",
        "- **Memory Usage Optimization**: 20-35% memory reduction",
        "Proven MT5 integration (18 ticks/second)",
        "- **Infrastructure Costs**: 20-30% reduction through optimization",
        "- **Comprehensive Checklist**: 10-section deployment validation checklist",
        "- ✅ **No Port 8010 Conflict**: Port 8010 is reserved for future expansion",
        "- **No Port 8010 Conflict**: Port 8010 is reserved for future expansion",
        "- Only Gateway port 8080 should be publicly accessible",
        "Retries (3) and limits (100)",
        "A buffer of Buffer.alloc(16384) bytes",
        "writable.write() starts returning false (16384).",
        "* python-build: Add PyPy 7.3.0 (1502)",
        "Timeouts: 5s (fast), 30s (normal), 60s (heavy operations)",
        "Max RPS: 5000",
        "Total ports validated: 28",
        "Callback collecting all the info headers (HTTP 100-199) received.",
        "Isolated subnet (172.20.0.0/16)",
        "Auto-scale (1-10) instances",
        "Note: the server is running on port 8080 by default",
        "- The API gateway: running on port 8080",
        "* Url: http://prometheus:9090",
        "URL: `http://<swarm-ip>:3000/dashboard/db/docker-swarm-nodes`",
        "- Endpoint: http://localhost:4317",
    ],
)
def test_prose_that_states_no_port(text: str) -> None:
    result = parse(text)
    assert (result.ports, result.ranges) == ([], [])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "#### **Core Infrastructure Services (8000-8009)**",
            [("8000-8009", "Core Infrastructure Services", False, False, None, 1, 38)],
        ),
        (
            "### Port Allocation Strategy\n- **8000-8009**: Core infrastructure and proven services",
            [("8000-8009", "Core infrastructure and proven services", False, False, None, 2, 5)],
        ),
        (
            "### Port Allocation Strategy\n- **8010**: Reserved for future AI expansion",
            [("8010", "Reserved for future AI expansion", True, False, None, 2, 5)],
        ),
        (
            "### Port Allocation Strategy\n- **8020+**: Available for future services",
            [("8020-65535", "Available for future services", False, True, None, 2, 5)],
        ),
        (
            "- **8000-8009**: outside a section about ports, a list of anything",
            [],
        ),
        ("Reserved: 8004-8006", [("8004-8006", "Reserved", True, False, None, 1, 11)]),
        (
            "### Internal Network Only\n- **Ports 8001-8019**: All internal services",
            [("8001-8019", "All internal services", False, False, INTERNAL, 2, 11)],
        ),
        (
            "### Compliance Network\n- **Ports 8017-8019**: Isolated compliance network segment",
            [("8017-8019", "Isolated compliance network segment", False, False, INTERNAL, 2, 11)],
        ),
        (
            "Client Side: 9001-9004 (local only)",
            [("9001-9004", "Client Side", False, False, LOCAL, 1, 14)],
        ),
        (
            "  Server Side: 8000 (public), 8001-8019 (internal only)",
            [
                ("8000", "Server Side", False, False, PUBLIC, 1, 16),
                ("8001-8019", "Server Side", False, False, INTERNAL, 1, 31),
            ],
        ),
        (
            "### Port Ranges\n- **HTTP Services**: 8080-8099 (20 ports available)",
            [("8080-8099", "HTTP Services", False, False, None, 2, 22)],
        ),
        (
            "Core Services (3000-3999):     1 service",
            [("3000-3999", "Core Services", False, False, None, 1, 16)],
        ),
        (
            "- 📋 Additional AI services (8020+)",
            [("8020-65535", "Additional AI services", False, True, None, 1, 29)],
        ),
    ],
)
def test_prose_ranges(text: str, expected: list[tuple[Any, ...]]) -> None:
    assert ranges(parse(text)) == expected


def test_several_services_and_ranges_on_one_line() -> None:
    text = (
        "Intelligence Layer (8000-8999): Database (8008), AI Orchestrator (8020), "
        "ML Services (8021-8022)"
    )
    result = parse(text)
    assert ports(result) == [
        ("Database", 8008, None, 1, 43),
        ("AI Orchestrator", 8020, None, 1, 67),
    ]
    assert ranges(result) == [
        ("8000-8999", "Intelligence Layer", False, False, None, 1, 21),
        ("8021-8022", "ML Services", False, False, None, 1, 87),
    ]


def test_rename_arrow_makes_an_alias() -> None:
    result = parse("Data Bridge (Port 8001) → enhanced-data-bridge (8001)")
    [service] = result.services
    assert (service.service, service.aliases, service.location.column) == (
        "enhanced-data-bridge",
        ("Data Bridge",),
        27,
    )
    assert conflicts(result) == []


def test_purpose_and_technology_from_prose() -> None:
    result = parse(
        "1. **audit-trail (8018)**: Immutable audit logging\n#### Settlement Engine (Rust - Port 8087)"
    )
    assert [
        (s.service, s.purpose, s.technology, s.location.line, s.location.column)
        for s in result.services
    ] == [
        ("audit-trail", "Immutable audit logging", None, 1, 6),
        ("Settlement Engine", None, "Rust", 2, 6),
    ]


# --- tables ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Port", None),
        ("Ports", None),
        ("HTTP Port", "http"),
        ("gRPC Port", "grpc"),
        ("WebSocket", "ws"),
        ("WS Port", "ws"),
        ("Metrics Port", "metrics"),
        ("Admin Port", "admin"),
        ("Port Range", None),
        ("Port(s)", None),
        ("Port (s)", None),
        ("Port #", None),
        ("Port No.", None),
        ("Port Number", None),
        ("Host port", None),
        ("Container port", None),
        ("External Port", None),
        ("Internal Port", None),
        ("Ports (host:container)", None),
        ("HTTP Port(s)", "http"),
        ("gRPC Port (s)", "grpc"),
        ("Port (gRPC)", "grpc"),
        ("http-2 Port", "http-2"),
    ],
)
def test_port_column_names(header: str, expected: str | None) -> None:
    text = f"| Service | {header} |\n|---|---|\n| gateway | 8080 |"
    assert ports(parse(text)) == [("gateway", 8080, expected, 3, 13)]


@pytest.mark.parametrize(
    ("header", "cell", "expected"),
    [
        # (number, port name, protocol, container port, published, column, exposure)
        ("Port", "8080/tcp", [(8080, None, "tcp", None, None, 13, None)]),
        ("Port", "53/udp", [(53, None, "udp", None, None, 13, None)]),
        ("Port", "`8080`", [(8080, None, "tcp", None, None, 14, None)]),
        ("Port", "**8080**", [(8080, None, "tcp", None, None, 15, None)]),
        ("Port", "[8080](http://localhost:8080)", [(8080, None, "tcp", None, None, 14, None)]),
        ("Port", "8080 (HTTP)", [(8080, "http", "tcp", None, None, 13, None)]),
        ("Port", "5432 (internal)", [(5432, None, "tcp", None, None, 13, INTERNAL)]),
        ("Port", "127.0.0.1:8080", [(8080, None, "tcp", None, None, 23, None)]),
        # a mapping: the host port, publishing the container port
        ("Port", "80 -> 8080", [(80, None, "tcp", 8080, None, 13, None)]),
        ("Port", "80:8080", [(80, None, "tcp", 8080, None, 13, None)]),
        ("Port", "`3001 -> 3000`", [(3001, None, "tcp", 3000, None, 14, None)]),
        ("Port", "3001 → 3000", [(3001, None, "tcp", 3000, None, 13, None)]),
        ("Port", "127.0.0.1:8080:80", [(8080, None, "tcp", 80, None, 23, None)]),
        (
            "Ports",
            "0.0.0.0:80->8080/tcp, :::80->8080/tcp",
            [(80, None, "tcp", 8080, None, 21, None)],
        ),
        (
            "Ports",
            "80:8080, 443:8443/udp",
            [(80, None, "tcp", 8080, None, 13, None), (443, None, "udp", 8443, None, 22, None)],
        ),
        ("Ports (container:host)", "8080:80", [(80, None, "tcp", 8080, None, 18, None)]),
        # a container's own port: it claims no port of the host
        ("Container port", "8080", [(8080, None, "tcp", 8080, False, 13, None)]),
        ("Host port", "8080", [(8080, None, "tcp", None, None, 13, None)]),
    ],
)
def test_port_cells(header: str, cell: str, expected: list[tuple[Any, ...]]) -> None:
    result = parse(f"| Service | {header} |\n|---|---|\n| gateway | {cell} |")
    assert [
        (p.number, p.port_name, p.protocol, p.target, p.published, p.location.column, p.exposure)
        for p in result.ports
    ] == expected
    assert result.errors == []


def test_host_and_container_port_columns() -> None:
    """One port of a row under Host port and Container port: the host port publishing the
    container port; otherwise each cell by its side."""
    text = (
        "| Service | Container Port | Host Port |\n|---|---|---|\n"
        "| web | 80 | 8088 |\n"
        "| db | 5432 | - |\n"
        "| cache | 6379, 6378 | 6380 |\n"
        "| api | 8080 | 70000 |"
    )
    result = parse(text)
    assert [
        (p.service, p.number, p.target, p.published, p.location.line, p.location.column)
        for p in result.ports
    ] == [
        ("web", 8088, 80, None, 3, 14),
        ("db", 5432, 5432, False, 4, 8),
        ("cache", 6379, 6379, False, 5, 11),
        ("cache", 6378, 6378, False, 5, 17),
        ("cache", 6380, None, None, 5, 24),
        ("api", 8080, 8080, False, 6, 9),
    ]
    assert [(str(e.location), e.message) for e in result.errors] == [
        ("doc.md:6:16", 'table column "Host Port": expected a port 1-65535, got a number out '
         "of that range"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("local", Exposure.LOCAL),
        ("Localhost only", Exposure.LOCAL),
        ("loopback", Exposure.LOCAL),
        ("internal", Exposure.INTERNAL),
        ("Private", Exposure.INTERNAL),
        ("cluster", Exposure.INTERNAL),
        ("public", Exposure.PUBLIC),
        ("External", Exposure.PUBLIC),
        ("internet-facing", Exposure.PUBLIC),
        ("public (internal via VPN)", Exposure.PUBLIC),
        ("n/a", None),
        ("locale", None),
    ],
)
def test_exposure_column_words(cell: str, expected: Exposure | None) -> None:
    """Every exposure word of the one table (sources.base.EXPOSURE_WORDS) is read from a
    table's Exposure column, whole words only."""
    text = f"| Service | Port | Exposure |\n|---|---|---|\n| gateway | 8080 | {cell} |"
    assert [(p.service, p.number, p.exposure) for p in parse(text).ports] == [
        ("gateway", 8080, expected)
    ]


def test_tables_resource() -> None:
    result = read_markdown(RESOURCES / "tables.md")
    assert [
        (*p, o.protocol, o.exposure) for p, o in zip(ports(result), result.ports, strict=True)
    ] == [
        ("Token Engine", 50051, "grpc", 6, 34, "tcp", INTERNAL),
        ("Token Engine", 8081, "http", 6, 43, "tcp", INTERNAL),
        ("Risk Engine", 50053, "grpc", 8, 38, "tcp", None),
        ("Risk Engine", 50054, "grpc", 8, 45, "tcp", None),
        ("Metrics Agent", 9100, "http", 9, 32, "udp", PUBLIC),
        ("Gateway", 8080, "http", 21, 31, "tcp", None),
        ("api-gateway", 8000, None, 30, 16, "tcp", None),
    ]
    assert ranges(result) == [
        ("8082", "Future expansion", True, False, None, 7, 29),
        ("8000-8009", "Core", False, False, None, 15, 10),
    ]
    services = [
        (
            s.service,
            s.status,
            s.purpose,
            s.exposure,
            s.health_path,
            s.health_expect,
            s.location.line,
            s.location.column,
        )
        for s in result.services
    ]
    assert services == [
        ("Token Engine", "Running", "Tokens", INTERNAL, None, None, 6, 17),
        ("Risk Engine", "Planned", None, None, None, None, 8, 14),
        ("Metrics Agent", "Active", "Scrapes", PUBLIC, None, None, 9, 12),
        ("Batch Worker", "Active", "No ports", None, None, None, 10, 12),
        ("Gateway", None, None, None, "/health", '{"status": "ok"}', 21, 3),
    ]
    assert deps(result) == [("Data Bridge", "Feature Engineering", "table", 36, 17)]
    assert [(str(e.location), e.message) for e in result.errors] == [
        (
            str(RESOURCES / "tables.md") + ":8:53",
            'table column "HTTP Port": expected a port 1-65535, got a number out of that range',
        )
    ]


def test_readme_port_table() -> None:
    """A README's table (tests/resources/markdown/readme-ports, from a QA report): a
    "Port(s)" column names no port; code spans, notes and mappings read right."""
    result = read_markdown(RESOURCES / "readme-ports" / "README.md")
    assert [
        (p.service, p.number, p.port_name, p.target, p.exposure, p.location.line, p.location.column)
        for p in result.ports
    ] == [
        ("Frontend", 3000, None, None, None, 18, 31),
        ("Backend", 8001, None, None, None, 19, 20),
        ("PostgreSQL", 5432, None, None, INTERNAL, 20, 18),
        ("Grafana", 3001, None, 3000, None, 21, 16),
    ]
    assert [(s.service, s.purpose, s.location.line) for s in result.services] == [
        ("Frontend", "Next.js app", 18),
        ("Backend", "FastAPI", 19),
        ("PostgreSQL", "database", 20),
        ("Grafana", "dashboards", 21),
    ]


def test_readme_port_table_drift() -> None:
    """The README states 8001 for the backend that compose and the architecture document
    give 8000: one finding, on the README's cell; Grafana's 3001 -> 3000 is compose's
    3001:3000 and PostgreSQL's 5432 its container's own port. The diagram's Stripe API,
    which nothing else names, is left out and said (info)."""
    tree = RESOURCES / "readme-ports"
    found = [
        (f.rule, str(f.location), f.message)
        for f in reconcile_paths([tree]).findings
        if f.rule != "PP207"  # ${DB_PASS}: the copy has no .env; not this test's matter
    ]
    assert found == [
        (
            "PP201",
            f"{tree}/README.md:19:20",
            "backend: port is 8001 here but 8000 in compose.yaml:7 (and 1 more)",
        ),
        (
            "PP208",
            f"{tree}/docs/ARCHITECTURE.md:7:16",
            "Stripe API is named only by a diagram, states no port and matches no service: "
            "left out",
        ),
    ]


def test_table_without_port_columns_says_nothing() -> None:
    text = (
        "| Service | Memory | CPU | Storage |\n|---|---|---|---|\n"
        "| compliance-monitor | 512MB | 0.5 cores | 10GB |\n"
        "| audit-trail | 1GB | 0.7 cores | 100GB |"
    )
    result = parse(text)
    assert (result.ports, result.ranges, result.services) == ([], [], [])


def test_table_inside_a_list_item_and_without_outer_pipes() -> None:
    text = "- Ports:\n\n  Service | Port\n  --- | ---\n  gateway | 8080\n  broker | 4222, 8222"
    assert ports(parse(text)) == [
        ("gateway", 8080, None, 5, 13),
        ("broker", 4222, None, 6, 12),
        ("broker", 8222, None, 6, 18),
    ]


def test_a_port_name_column_names_the_port_of_an_endpoint_or_an_unnamed_port_column() -> None:
    """A "Port Name" cell names the port of its row's endpoint URL (before its path or scheme)
    and of a "Port" column; a header or a note that names the port comes first."""
    text = (
        "| Service | Port Name | Endpoint |\n|---|---|---|\n"
        "| web | metrics-jvm | `http://localhost:9101/metrics` |\n"
        "| web | - | `http://localhost:9100/metrics` |\n"
        "\n| Service | Port name | Port | gRPC Port |\n|---|---|---|---|\n"
        "| api | admin | 9000 | 50051 |\n"
        "| api | admin | 9001 (metrics) | - |\n"
    )
    assert ports(parse(text)) == [
        ("web", 9101, "metrics-jvm", 3, 41),
        ("web", 9100, "metrics", 4, 31),  # no name: the URL's path
        ("api", 9000, "admin", 8, 17),
        ("api", 50051, "grpc", 8, 24),
        ("api", 9001, "metrics", 9, 17),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Gateway (8080) | notes\n---",  # a setext heading or a rule, not a delimiter row
        "| Service | Port |\n|---|\n| gateway | 8080 |",  # delimiter row of the wrong width
    ],
)
def test_not_a_table(text: str) -> None:
    assert [p.source for p in parse(text).ports] == ["prose"] * text.count("(8080)")


# --- code blocks ----------------------------------------------------------------------------


def test_compose_fragments() -> None:
    result = read_markdown(RESOURCES / "compose-fragments.md")
    assert [
        (*p, o.published, o.target, o.address, o.protocol)
        for p, o in zip(ports(result), result.ports, strict=True)
    ] == [
        ("gateway", 8080, None, 7, 12, True, 8080, None, "tcp"),
        ("gateway", 9090, None, 7, 35, True, 9090, "127.0.0.1", "udp"),
        ("token-engine", 8081, "http", 11, 44, None, None, None, "tcp"),
        ("audit-trail", 8018, None, 19, 10, True, 8018, None, "tcp"),
        ("audit-trail", 9000, None, 20, 11, False, 9000, None, "tcp"),
        ("token-engine", 18081, None, 29, 18, True, 8081, None, "tcp"),
        ("Token Engine", 8081, None, 35, 24, None, None, None, "tcp"),
        ("Token Engine", 8081, None, 38, 6, True, 8081, None, "tcp"),
    ]
    assert [(s.service, s.networks, s.location.line) for s in result.services] == [
        ("gateway", ("edge", "core"), 5),
        ("audit-trail", (), 18),
        ("token-engine", (), 26),
        ("Token Engine", (), 37),
    ]
    assert deps(result) == [
        ("gateway", "token-engine", "depends_on", 9, 16),
        ("gateway", "token-engine", "env-url", 11, 24),
        ("token-engine", "postgres", "depends_on", 31, 5),
    ]
    assert variables(result) == [
        ("gateway", "TOKEN_ENGINE_URL", "http://token-engine:8081", False, True, 11, 7),
        ("gateway", "JWT_SECRET", None, True, True, 12, 7),
        ("gateway", "PASSTHROUGH", None, False, False, 13, 7),
    ]
    assert [(e.location.line, e.location.column, e.message) for e in result.errors] == [
        (
            40,
            6,
            "services.Token Engine.ports: invalid container port: the start of the range is "
            "not a number",
        )
    ]
    assert "jwt-value-never-shown" not in repr(result)


def test_env_blocks() -> None:
    result = read_markdown(RESOURCES / "env-blocks.md")
    assert ports(result) == [
        ("Gateway", 8080, None, 3, 19),
        ("Gateway", 8080, None, 5, 21),
        ("TOKEN_ENGINE", 8081, "http", 6, 35),
        ("postgres", 5432, None, 7, 56),
        ("kafka", 9092, None, 8, 21),
        ("kafka-2", 9093, None, 8, 34),
        ("Gateway", 9100, "metrics", 10, 30),
        ("Token Engine", 8081, None, 16, 30),
        ("Token Engine", 8081, "http", 18, 15),
        ("Token Engine", 50051, "grpc", 19, 15),
        ("redis", 6379, None, 20, 35),
        ("Token Engine", 8081, "metrics", 25, 34),
        ("Gateway", 8080, "http", 26, 34),
    ]
    assert [p.variable for p in result.ports] == [
        None, "GATEWAY_PORT", "TOKEN_ENGINE_URL", "DATABASE_URL", "KAFKA_BROKERS",
        "KAFKA_BROKERS", "METRICS_PORT", None, "HTTP_PORT", "GRPC_PORT", "REDIS_URL", None, None,
    ]  # fmt: skip
    assert deps(result) == [
        ("Gateway", "TOKEN_ENGINE", "env-url", 6, 18),
        ("Gateway", "postgres", "env-url", 7, 14),
        ("Gateway", "kafka", "env-url", 8, 15),
        ("Gateway", "kafka-2", "env-url", 8, 26),
        ("Token Engine", "redis", "env-url", 20, 17),
    ]
    assert variables(result) == [
        ("Gateway", "GATEWAY_PORT", "8080", False, True, 5, 8),
        ("Gateway", "TOKEN_ENGINE_URL", "http://localhost:8081/api", False, True, 6, 1),
        ("Gateway", "DATABASE_URL", None, True, True, 7, 1),
        ("Gateway", "KAFKA_BROKERS", "kafka:9092,kafka-2:9093", False, True, 8, 1),
        ("Gateway", "API_TOKEN", None, True, True, 9, 1),
        ("Gateway", "METRICS_PORT", "${METRICS_PORT:-9100}", False, True, 10, 1),
        ("Gateway", "ADMIN_PORT", "70000", False, True, 11, 1),
        ("Token Engine", "HTTP_PORT", "8081", False, True, 18, 5),
        ("Token Engine", "GRPC_PORT", "50051", False, True, 19, 5),
        ("Token Engine", "REDIS_URL", "redis://localhost:6379", False, True, 20, 6),
    ]
    assert [(s.service, s.technology, s.health_path) for s in result.services] == [
        ("Token Engine", "Go", None),
        ("Gateway", None, "/healthz"),
    ]
    assert [(e.location.line, e.location.column, e.message) for e in result.errors] == [
        (11, 12, "ADMIN_PORT: expected a port 1-65535, got a number out of that range")
    ]
    text = repr(result)
    assert "hunter2-pass" not in text and "tok-very-secret" not in text


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("HTTP_PORT", "8081", ("Heading Service", 8081, "http")),
        ("GRPC_PORT", "50051", ("Heading Service", 50051, "grpc")),
        ("WS_PORT", "8090", ("Heading Service", 8090, "ws")),
        ("PORT", "3000", ("Heading Service", 3000, None)),
        ("HEADING_SERVICE_ADMIN_PORT", "9901", ("Heading Service", 9901, "admin")),
        ("TOKEN_ENGINE_GRPC_PORT", "50051", ("TOKEN_ENGINE", 50051, "grpc")),
        ("GATEWAY_PORT", "8080", ("GATEWAY", 8080, None)),
        ("TOKEN_ENGINE_URL", "http://localhost:8081", ("TOKEN_ENGINE", 8081, "http")),
        (
            "BACKEND_URL",
            "https://server-api-gateway:8443/v1",
            ("server-api-gateway", 8443, "https"),
        ),
        ("DATABASE_URL", "mysql://db:3306/app", ("mysql", 3306, None)),
        ("DB_URL", "http://127.0.0.1:5433", ("postgres", 5433, "http")),
        ("CACHE_URL", "rediss://cache.example:6380", ("redis", 6380, None)),
        ("KAFKA_BOOTSTRAP_SERVERS", "broker:29092", ("broker", 29092, None)),
        ("PORT", "${PORT:-8080}", ("Heading Service", 8080, None)),
    ],
)
def test_env_assignments(name: str, value: str, expected: tuple[str, int, str | None]) -> None:
    result = parse(f"## Heading Service (Port 1234)\n```env\n{name}={value}\n```")
    assert [(p.service, p.number, p.port_name) for p in result.ports[1:]] == [expected]
    assert result.ports[1].variable == name


@pytest.mark.parametrize(
    "line",
    [
        "X=${X}",
        "LOG_LEVEL=debug",
        "HOST=0.0.0.0",
        "TIMEOUT=30",
        "URL_PREFIX=/api",
        "SOME_PORT=${SOME_PORT}",
        "SOME_PORT=auto",
        "docker compose up -d",
        "netstat -ano | findstr :8088",
        'echo "GATEWAY_PORT=8080" > /dev/null',
    ],
)
def test_env_lines_that_state_no_port(line: str) -> None:
    assert parse(f"```bash\n{line}\n```").ports == []


@pytest.mark.parametrize(
    ("line", "secret", "value"),
    [
        ("JWT_SECRET=abc", True, None),
        ("TELEGRAM_BOT_TOKEN=abc", True, None),
        ("GF_SECURITY_ADMIN_PASSWORD=abc", True, None),
        ("OPENAI_API_KEY=abc", True, None),
        ("ENCRYPTION_KEY=abc", True, None),
        ("SECRET_KEY_BASE=abc", True, None),
        ("TOKEN_ENGINE_URL=http://localhost:8081", False, "http://localhost:8081"),
        ("TELEGRAM_CHAT_ID=42", False, "42"),
        ("CONN=postgresql+psycopg2://airflow:airflow@postgres:5432/airflow", True, None),
        ("REDIS_URL=redis://:hunter2@redis:6379/0", True, None),
        ("REDIS_URL=redis://user@redis:6379/0", False, "redis://user@redis:6379/0"),
    ],
)
def test_secrets_are_never_stored(line: str, secret: bool, value: str | None) -> None:
    result = parse(f"```\n{line}\n```")
    [variable] = result.variables
    assert (variable.secret, variable.value) == (secret, value)
    if secret:
        assert line.partition("=")[2] not in repr(result)
        assert "hunter2" not in repr(result) and "airflow:airflow" not in repr(result)


def test_secret_in_prose_text_is_redacted() -> None:
    result = parse("**gateway (8080)**: reads JWT_SECRET=abc123 and postgres://u:pw123@db:5432/x")
    [service] = result.services
    assert service.purpose == "reads JWT_SECRET=*** and postgres://u:***@db:5432/x"


def test_secret_in_a_name_is_masked() -> None:
    result = parse("```yaml\nweb postgres://u:pw123@db:5432/x:\n  ports: ['80:80']\n```")
    assert [p.service for p in result.ports] == ["web postgres://u:***@db:5432/x"]
    assert "pw123" not in repr(result)


def test_diagrams() -> None:
    result = read_markdown(RESOURCES / "diagrams.md")
    assert ports(result) == [
        ("Gateway", 8080, None, 6, 17),
        ("Token Engine", 8081, None, 6, 50),
        ("Obligation Engine", 8082, None, 7, 35),
        ("PostgreSQL", 5432, None, 7, 63),
        ("NATS", 4222, None, 8, 38),
        ("api-gateway", 8000, None, 17, 14),
        ("database-service", 8008, None, 18, 23),
        ("backup-agent", 8100, None, 19, 23),
        ("trading-engine", 8007, None, 20, 21),
        ("deltran-gateway-1", 8080, None, 27, 91),
        ("deltran-gateway-1", 8080, None, 27, 108),
        ("deltran-postgres-1", 5432, None, 28, 83),
        ("deltran-nats-1", 4222, None, 29, 93),
        ("deltran-nats-1", 4223, None, 29, 93),
    ]
    assert [(p.source, p.address, p.published, p.target) for p in result.ports[9:]] == [
        ("docker-ps", "0.0.0.0", True, 80),
        ("docker-ps", "::", True, 80),
        ("docker-ps", None, False, 5432),
        ("docker-ps", "127.0.0.1", True, 4222),
        ("docker-ps", "127.0.0.1", True, 4223),
    ]
    assert deps(result) == [
        ("Gateway", "Token Engine", "mermaid-edge", 6, 33),
        ("Gateway", "Obligation Engine", "mermaid-edge", 7, 12),
        ("Obligation Engine", "PostgreSQL", "mermaid-edge", 7, 47),
        ("Token Engine", "NATS", "mermaid-edge", 8, 18),
        ("Obligation Engine", "NATS", "mermaid-edge", 8, 18),
        ("Token Engine", "Redis", "mermaid-edge", 12, 25),
        ("api-gateway", "database-service", "tree", 18, 5),
        ("database-service", "backup-agent", "tree", 19, 9),
        ("api-gateway", "trading-engine", "tree", 20, 5),
    ]
    assert conflicts(result) == []
    containers = [s for s in result.services if s.source == "docker-ps"]
    assert [(s.service, s.aliases, s.location.line, s.location.column) for s in containers] == [
        ("deltran-gateway-1", ("gateway",), 27, 128),
        ("deltran-postgres-1", ("postgres",), 28, 128),
        ("deltran-nats-1", ("nats",), 29, 128),
    ]


@pytest.mark.parametrize(
    ("container", "services"),
    [
        ("deltran-gateway-1", ("gateway",)),
        ("my-app-web-12", ("app-web", "web")),
        ("legacy_db_1", ("db",)),
        ("gateway", ()),
    ],
)
def test_compose_service_names_of_a_container(container: str, services: tuple[str, ...]) -> None:
    assert compose_service_names(container) == services


@pytest.mark.parametrize(
    ("graph", "expected_deps"),
    [
        ("graph TD\n  A --> B", [("A", "B")]),
        ("graph TD\n  A-->B-->C", [("A", "B"), ("B", "C")]),
        ("graph TD\n  A -->|calls| B", [("A", "B")]),
        ("graph TD\n  A -- calls --> B", [("A", "B")]),
        ("graph TD\n  A ==> B; B -.-> C", [("A", "B"), ("B", "C")]),
        ("graph TD\n  A & B --> C & D", [("A", "C"), ("A", "D"), ("B", "C"), ("B", "D")]),
        ("flowchart LR\n  api-gw[API Gateway] --> db[(Postgres)]", [("API Gateway", "Postgres")]),
        ("graph TD\n  A --> B\n  A[Alpha]\n  B{Beta}", [("Alpha", "Beta")]),
        ("graph TD\n  classDef x fill:#f00\n  style A fill:#fff\n  %% A --> B", []),
    ],
)
def test_mermaid_edges(graph: str, expected_deps: list[tuple[str, str]]) -> None:
    result = parse(f"```mermaid\n{graph}\n```")
    assert [(d.service, d.target) for d in result.dependencies] == expected_deps


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        ("A[Gateway :8080]", ("Gateway", 8080, 7)),
        ("A(Gateway :8080)", ("Gateway", 8080, 7)),
        ('A["Gateway (8080)"]', ("Gateway", 8080, 7)),
        ("A[Gateway<br/>Port 8080]", ("Gateway", 8080, 7)),
        ("A((Gateway :8080))", ("Gateway", 8080, 8)),
        ("A[(Gateway :8080)]", ("Gateway", 8080, 8)),
        ("A{{Gateway :8080}}", ("Gateway", 8080, 8)),
    ],
)
def test_mermaid_node_ports(node: str, expected: tuple[str, int, int]) -> None:
    result = parse(f"```mermaid\ngraph TD\n  {node} --> B\n```")
    [port] = result.ports
    name, number, label_at = expected
    assert (port.service, port.number, port.source) == (name, number, "mermaid")
    assert port.location.column == 2 + label_at + node[label_at - 1 :].index(str(number))


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ("```bash\n✓ Compliance ports properly isolated (8017-8019)\n```", ([], [])),
        ("```javascript\nconst gateway = listen(8080) // Gateway (Port 8080)\n```", ([], [])),
        ('```json\n{"Gateway (Port 8080)": true}\n```', ([], [])),
        ("```\nGateway (Port 8080)\n```", ([("Gateway", 8080, None, 2, 15)], [])),
        ("```text\nCore (8000-8009)\n```", ([], [("8000-8009", "Core", False, False, None, 2, 7)])),
    ],
)
def test_code_blocks_by_kind(block: str, expected: tuple[list[Port], list[Any]]) -> None:
    result = parse(block)
    assert (ports(result), ranges(result)) == expected


def test_descriptions_in_text_blocks() -> None:
    text = (
        "```yaml\n"
        "Feature Engineering Service (Port 8011)\n"
        "  Purpose: Advanced technical indicators\n"
        "  Technology: Python, TA-Lib\n"
        "  Dependencies: Database Service, Data Bridge (8001), Configuration Service\n"
        "Configuration Service (Port 8012)\n"
        "  Dependencies: Independent - must be deployed first in Phase 0\n"
        "```"
    )
    result = parse(text)
    assert [(s.service, s.purpose, s.technology) for s in result.services] == [
        ("Feature Engineering Service", "Advanced technical indicators", "Python, TA-Lib")
    ]
    assert deps(result) == [
        ("Feature Engineering Service", "Database Service", "dependencies", 5, 17),
        ("Feature Engineering Service", "Data Bridge", "dependencies", 5, 35),
        ("Feature Engineering Service", "Configuration Service", "dependencies", 5, 55),
    ]


def test_unclosed_fence_runs_to_the_end() -> None:
    result = parse("```yaml\ngateway:\n  ports: ['8080:8080']\n")
    assert ports(result) == [("gateway", 8080, None, 3, 12)]


def test_fence_inside_a_list_item() -> None:
    text = "1. Compose:\n\n   ```yaml\n   gateway:\n     ports:\n       - 8080:8080\n   ```"
    assert ports(parse(text)) == [("gateway", 8080, None, 6, 10)]


# --- broken encodings -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("broken", "repaired"),
    [
        ("â”œâ”€â”€ data-bridge", "├──       data-bridge"),
        ("‚úÖ Done", "✅   Done"),
        ("a ‚Üí b", "a →   b"),
        ("ğŸ“‹ Planned", "📋    Planned"),
        ("Größe café naïve", "Größe café naïve"),
        ("✅ Running", "✅ Running"),
        ("plain ascii", "plain ascii"),
    ],
)
def test_repair_keeps_every_column(broken: str, repaired: str) -> None:
    assert repair(broken) == repaired
    assert len(repair(broken)) == len(broken)


def test_mojibake_resource() -> None:
    result = read_markdown(RESOURCES / "mojibake.md")
    assert ports(result) == [
        ("api-gateway", 8000, None, 4, 14),
        ("data-bridge", 8001, None, 5, 24),
        ("trading-engine", 8007, None, 6, 27),
        ("Database Service", 8008, None, 9, 26),
        ("database-service", 8008, None, 9, 54),
        ("Größe Service", 8090, None, 10, 23),
    ]
    assert deps(result) == [
        ("api-gateway", "data-bridge", "tree", 5, 11),
        ("api-gateway", "trading-engine", "tree", 6, 11),
    ]
    assert conflicts(result) == []


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"# A\n", "# A\n"),
        (b"\xef\xbb\xbf# A", "# A"),
        ("# Ä".encode("utf-16"), "# Ä"),
        (b"caf\xe9 (Port 8080)\nok \xe2\x9c\x85", "café (Port 8080)\nok ✅"),
        (b"\x81\x8d\x8f\x90\x9d", "\ufffd\ufffd\ufffd\ufffd\ufffd"),
    ],
)
def test_decoding_never_fails(data: bytes, text: str) -> None:
    assert decode_markdown(data) == text


def test_unreadable_files_are_source_errors(tmp_path: Path) -> None:
    missing = tmp_path / "missing.md"
    result = read_markdown(missing)
    assert [(str(e.location), e.message) for e in result.errors] == [
        (str(missing), f"could not read {missing}: No such file or directory")
    ]
    assert read_markdown(tmp_path).errors[0].message == (
        f"could not read {tmp_path}: is a folder, not a file"
    )


def test_crlf_and_bom() -> None:
    result = parse(
        "\ufeff### Gateway (Port 8080)\r\n| Service | Port |\r\n|---|---|\r\n| db | 5432 |\r\n"
    )
    assert ports(result) == [("Gateway", 8080, None, 1, 19), ("db", 5432, None, 4, 8)]


# --- one port, two services -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- Gateway (Port 8080)\n- Billing (Port 8080)", [(8080, "Gateway", 1, "Billing", 2)]),
        ("- Token Engine (Port 8081)\n- token-engine (8081)\n- TOKEN_ENGINE (8081)", []),
        ("- API Gateway (Port 8000)\n- server-api-gateway (8000)", []),
        ("- PostgreSQL (Port 5432)\n```\nDATABASE_URL=postgres://localhost:5432/x\n```", []),
        (
            "- Old Name (Port 8001) → new-name (8001)\n- Other (Port 8001)",
            [(8001, "Old Name", 1, "Other", 2)],
        ),
        ("```yaml\na:\n  expose: ['9000']\nb:\n  expose: ['9000']\n```", []),
        ("```yaml\na:\n  ports: ['53:53/udp']\nb:\n  ports: ['53:53/tcp']\n```", []),
        ("```yaml\na:\n  ports: ['127.0.0.1:80:80']\nb:\n  ports: ['10.0.0.1:80:80']\n```", []),
        (
            "```yaml\na:\n  ports: ['127.0.0.1:80:80']\nb:\n  ports: ['80:80']\n```",
            [(80, "a", 3, "b", 5)],
        ),
        (
            "- Alpha (Port 9000)\n- Beta (Port 9000)\n- Gamma (Port 9000)",
            [
                (9000, "Alpha", 1, "Beta", 2),
                (9000, "Alpha", 1, "Gamma", 3),
                (9000, "Beta", 2, "Gamma", 3),
            ],
        ),
    ],
)
def test_conflicts(text: str, expected: list[tuple[int, str, int, str, int]]) -> None:
    pairs = conflicts(parse(text))
    found = [(a.number, a.service, a.location.line, b.service, b.location.line) for a, b in pairs]
    assert found == expected


# --- the seeds ------------------------------------------------------------------------------


COUNTS = {  # ports, ranges, services, dependencies, variables, errors
    0: (6, 5, 6, 0, 0, 0),
    1: (57, 18, 25, 15, 0, 0),
    2: (12, 13, 0, 0, 0, 0),
    3: (120, 4, 27, 66, 57, 0),
    4: (74, 4, 41, 73, 67, 0),
}


@pytest.mark.parametrize("number", sorted(SEEDS))
def test_seed_counts(shared: Path, number: int) -> None:
    result = seed(shared, number)
    parts = (result.ports, result.ranges, result.services, result.dependencies)
    counts = tuple(len(part) for part in (*parts, result.variables, result.errors))
    assert counts == COUNTS[number]


@pytest.mark.parametrize("number", sorted(SEEDS))
def test_seeds_keep_no_secret(shared: Path, number: int) -> None:
    text = repr(seed(shared, number))
    assert [secret for secret in SECRETS if secret in text] == []


@pytest.mark.parametrize("number", sorted(SEEDS))
def test_seed_locations_point_at_the_value(shared: Path, number: int) -> None:
    """Every port's column is where its digits are written in the (decoded) line."""
    lines = seed_lines(shared, number)
    for port in seed(shared, number).ports:
        line, column = port.location.line, port.location.column
        assert lines[line - 1][column - 1 :].startswith(str(port.number)), port


def test_seed_000(shared: Path) -> None:
    result = seed(shared, 0)
    assert ports(result)[:3] == [
        ("compliance-monitor", 8017, None, 33, 26),
        ("audit-trail", 8018, None, 39, 19),
        ("regulatory-reporting", 8019, None, 45, 28),
    ]
    assert [(s.service, s.networks) for s in result.services[3:]] == [
        (name, ("aitrading_network", "compliance_network"))
        for name in ("compliance-monitor", "audit-trail", "regulatory-reporting")
    ]
    assert ranges(result)[1:] == [
        ("9001-9004", "Client Services", False, False, None, 26, 21),
        ("8000-8009", "Core Infrastructure", False, False, None, 27, 25),
        ("8011-8016", "AI/ML Pipeline", False, False, None, 28, 20),
        ("8017-8019", "Compliance & Regulatory", False, False, None, 29, 29),
    ]
    assert conflicts(result) == []


def test_seed_001(shared: Path) -> None:
    result = seed(shared, 1)
    found = ports(result)
    assert ("data-bridge", 8001, None, 19, 17) in found
    assert [p for p in found if p[0] in ("elasticsearch", "jaeger")] == [
        ("elasticsearch", 9200, None, 52, 19),
        ("elasticsearch", 9300, None, 52, 25),
        ("jaeger", 16686, None, 53, 12),
        ("jaeger", 14268, None, 53, 19),
    ]
    assert [r for r in ranges(result) if r[2]] == [
        ("8004", "Future expansion", True, False, None, 22, 18),
        ("8005", "Future expansion", True, False, None, 23, 18),
        ("8006", "Future expansion", True, False, None, 24, 18),
        ("8010", "Future AI expansion", True, False, None, 32, 18),
        ("8010", "Reserved for future AI expansion", True, False, None, 65, 5),
    ]
    assert [r for r in ranges(result) if r[3] or r[4]] == [
        ("8020-65535", "Available for future services", False, True, None, 68, 5),
        ("8001-8019", "All internal services", False, False, INTERNAL, 108, 11),
        ("8017-8019", "Isolated compliance network segment", False, False, INTERNAL, 112, 11),
        ("8020-65535", "Additional AI services", False, True, None, 173, 32),
    ]
    public = [(p.service, p.number, p.exposure) for p in result.ports if p.exposure]
    assert public == [("API Gateway", 8000, PUBLIC)]
    assert deps(result)[:5] == [
        ("api-gateway", target, "tree", line, 11)
        for target, line in [
            ("database-service", 75), ("data-bridge", 76), ("trading-engine", 77),
            ("ai-orchestration", 78), ("performance-analytics", 79),
        ]
    ]  # fmt: skip
    assert ("api-gateway", 8000, None, 120, 16) in found  # latency table: "api-gateway (8000)"
    assert [s.phase for s in result.services if s.service == "backtesting-engine"] == [
        "Post-Launch"
    ]
    assert conflicts(result) == []


def test_seed_002(shared: Path) -> None:
    result = seed(shared, 2)
    assert ports(result) == [
        ("API Gateway", 3001, None, 84, 43),
        ("Data Bridge", 5001, None, 85, 43),
        ("Central Hub", 7000, None, 86, 43),
        ("Database", 8008, None, 87, 43),
        ("AI Orchestrator", 8020, None, 87, 67),
        ("Trading Engine", 9000, None, 88, 46),
        ("Billing", 9001, None, 88, 62),
        ("Payment", 9002, None, 88, 78),
        ("Notifications", 9003, None, 88, 100),
        ("Performance", 9100, None, 89, 43),
        ("Usage", 9101, None, 89, 57),
        ("Compliance", 9102, None, 89, 76),
    ]
    assert [(r[0], r[1]) for r in ranges(result)] == [
        ("3000-3999", "External Layer"),
        ("5000-5999", "Data Layer"),
        ("7000-7999", "Discovery Layer"),
        ("8000-8999", "Intelligence Layer"),
        ("8021-8022", "ML Services"),
        ("9000-9099", "Business Layer"),
        ("9100-9199", "Analytics Layer"),
        ("3000-3999", "Core Services"),
        ("5000-5999", "Data Services"),
        ("7000-7999", "Hub Services"),
        ("8000-8999", "Intelligence Layer"),
        ("9000-9099", "Business Layer"),
        ("9100-9199", "Analytics Layer"),
    ]
    assert conflicts(result) == []


def test_seed_003_diagram_swaps_two_ports(shared: Path) -> None:
    result = seed(shared, 3)
    mermaid = {p.service: p.number for p in result.ports if p.source == "mermaid"}
    table = {
        p.service: p.number
        for p in result.ports
        if p.source == "markdown-table" and p.port_name == "http"
    }
    assert (mermaid["Reporting Engine"], mermaid["Settlement Engine"]) == (8087, 8088)
    assert (table["Reporting Engine"], table["Settlement Engine"]) == (8088, 8087)
    pairs = [
        (a.number, a.service, str(a.location), b.service, str(b.location))
        for a, b in conflicts(result)
    ]
    path = str(shared / "seeds" / SEEDS[3])
    assert pairs == [
        (8087, "Settlement Engine", f"{path}:14:27", "Reporting Engine", f"{path}:192:45"),
        (8088, "Reporting Engine", f"{path}:15:26", "Settlement Engine", f"{path}:193:47"),
    ]


def test_seed_003_tables_env_and_health(shared: Path) -> None:
    result = seed(shared, 3)
    found = ports(result)
    assert found[:4] == [
        ("Gateway", 8080, "http", 7, 17),
        ("Token Engine", 8081, "http", 8, 22),
        ("Token Engine", 50051, "grpc", 8, 29),
        ("Obligation Engine", 8082, "http", 9, 27),
    ]
    assert ("Notification Engine", 8090, "ws", 16, 40) in found
    assert ("Notification Engine", 9095, "metrics", 254, 39) in found  # vs HTTP 8089
    token = [p for p in result.ports if p.location.line in (47, 48, 49)]
    assert [(p.service, p.number, p.port_name, p.variable) for p in token] == [
        ("Token Engine", 8081, "http", "HTTP_PORT"),
        ("Token Engine", 50051, "grpc", "GRPC_PORT"),
        ("postgres", 5432, None, "DATABASE_URL"),
    ]
    assert deps(result)[:2] == [
        ("Gateway", "TOKEN_ENGINE", "env-url", 33, 18),
        ("Gateway", "OBLIGATION_ENGINE", "env-url", 34, 23),
    ]
    secrets = [(v.service, v.name, v.location.line) for v in result.variables if v.secret]
    assert secrets[:2] == [("Gateway", "JWT_SECRET", 42), ("Token Engine", "DATABASE_URL", 49)]
    assert len(secrets) == 12 and all(v.value is None for v in result.variables if v.secret)
    health = [(s.service, s.health_path, s.health_expect) for s in result.services if s.health_path]
    assert health[0] == ("Gateway", "/health", '{"status": "ok"}')
    assert health[1] == ("Token Engine", "/health", '{"status": "healthy"}')
    assert len(health) == 10
    assert [(s.service, s.technology) for s in result.services if s.source == "prose"] == [
        ("Settlement Engine", "Rust"),
        ("Notification Engine", "Go"),
    ]
    assert len([d for d in result.dependencies if d.via == "mermaid-edge"]) == 28
    assert [(r[0], r[1]) for r in ranges(result)] == [
        ("8080-8099", "HTTP Services"),
        ("50051-50070", "gRPC Services"),
        ("8090-8099", "WebSocket"),
        ("9090-9099", "Metrics"),
    ]


def test_seed_004_compose_against_prose(shared: Path) -> None:
    result = seed(shared, 4)
    regulatory = [
        (p.service, p.number, p.source, p.location.line)
        for p in result.ports
        if "regulatory" in p.service.lower()
    ]
    assert regulatory == [
        ("Regulatory Reporting Service", 8019, "markdown-code", 63),
        ("Regulatory Reporting", 8020, "markdown-code", 234),
        ("regulatory-reporting", 8020, "markdown-code", 484),
    ]
    compose = {p.service: p.number for p in result.ports if p.published}
    assert compose["regulatory-reporting"] == 8020 and compose["ml-supervised"] == 8013
    pairs = [
        (a.number, a.service, a.location.line, b.service, b.location.line)
        for a, b in conflicts(result)
    ]
    assert pairs == [
        (8017, "Compliance Monitoring Service", 49, "Backtesting Engine", 200),
        (8018, "Audit Trail Service", 58, "Compliance Monitor", 218),
        (8019, "Regulatory Reporting Service", 63, "audit-trail", 472),
    ]
    assert ranges(result) == [
        ("9001-9004", "Client Side", False, False, LOCAL, 620, 16),
        ("8000", "Server Side", False, False, PUBLIC, 621, 16),
        ("8001-8019", "Server Side", False, False, INTERNAL, 621, 31),
        ("8017-8019", "Compliance", False, False, INTERNAL, 623, 15),
    ]
    aliases = [(s.service, s.aliases) for s in result.services if s.aliases]
    assert aliases == [
        ("database-service", ("Database Service",)),
        ("enhanced-data-bridge", ("Data Bridge",)),
        ("ai-aware-gateway", ("API Gateway",)),
        ("ai-trading-engine", ("Trading Engine",)),
        ("multi-model-orchestrator", ("AI Orchestration",)),
        ("ai-performance-analytics", ("Performance Analytics",)),
    ]
    airflow = [v for v in result.variables if v.name == "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert [(v.service, v.secret, v.value) for v in airflow] == [("airflow", True, None)]
    assert ("airflow", "postgres", "env-url", 537, 45) in deps(result)
    via = sorted({d.via for d in result.dependencies})
    assert via == ["dependencies", "depends_on", "env-url", "table"]


def test_compose_block_image_and_app_protocol_names() -> None:
    text = (
        "```yaml\nservices:\n  api:\n    image: acme/api:1.2\n    ports:\n"
        "      - {target: 8080, published: 18080, app_protocol: http}\n"
        "      - {target: 9090, name: metrics}\n"
        "  db:\n    image: ${DB_IMAGE}\n    ports: ['5432:5432']\n```\n"
    )
    result = parse(text)
    assert [(s.service, s.image) for s in result.services] == [
        ("api", "acme/api:1.2"),
        ("db", None),  # a template: what it names is not known here
    ]
    assert [(p.service, p.number, p.port_name) for p in result.ports] == [
        ("api", 18080, "http"),
        ("api", 9090, "metrics"),
        ("db", 5432, None),
    ]


def test_compose_block_ports_without_a_host_port_are_random_host_ports() -> None:
    """As in a compose file (`portplan.sources.compose`): `"80"`, `":81"`, `"0:83"` and long
    syntax without `published` are published on a random host port of all interfaces
    (public, no host number), `"127.0.0.1::82"` on one of loopback (local); `expose` stays
    unpublished and internal."""
    text = (
        "```yaml\nservices:\n  web:\n"
        "    ports: ['80', ':81', '127.0.0.1::82', '0:83', {target: 84}, '8080:86']\n"
        "    expose: ['85']\n```\n"
    )
    assert [
        (p.number, p.published, p.random_host, p.target, p.address, p.exposure, p.location.column)
        for p in parse(text).ports
    ] == [
        (80, False, True, 80, None, PUBLIC, 14),
        (81, False, True, 81, None, PUBLIC, 21),
        (82, False, True, 82, "127.0.0.1", LOCAL, 38),
        (83, False, True, 83, None, PUBLIC, 44),  # at the 0 it publishes on
        (84, False, True, 84, None, PUBLIC, 60),
        (8080, True, False, 86, None, PUBLIC, 66),
        (85, False, False, 85, None, INTERNAL, 15),
    ]


QUOTED_TABLES = """\
# Ports

> **Note:** the ports
> | Service | Port |
> |---|---|
> | api | 8080 |
>> | Service | Port |
>> |---|---|
>> | web | 3000 |
> > | worker | 9000 |

> a quote with a | pipe and no table
"""


def test_tables_inside_blockquotes_are_read_at_their_columns() -> None:
    """Quote markers (`>`, nested `>>` or `> >`) are blanked out: the cells keep their
    columns in the document's line."""
    result = parse_markdown(QUOTED_TABLES, "q.md")
    assert [(p.service, p.number, str(p.location)) for p in result.ports] == [
        ("api", 8080, "q.md:6:11"),
        ("web", 3000, "q.md:9:12"),
        ("worker", 9000, "q.md:10:16"),
    ]
    assert result.errors == []
