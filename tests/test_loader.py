"""Loading: short and long forms, defaults, includes, locations, names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from portplan import rules
from portplan.errors import InputError
from portplan.model import Exposure, Health, Latency, Location, PortRange, Status
from portplan.plan import loader, schema


def test_short_and_long_forms() -> None:
    topology = loader.load_text(
        "defaults: {host: srv, exposure: local}\n"
        "zones: {dmz: {exposure: public}}\n"
        "services:\n"
        "  api:\n"
        "    zone: dmz\n"
        "    status: Planned\n"
        "    ports:\n"
        "      http: 8080\n"
        "      dns: 5353/udp\n"
        "      websocket: {port: 8090, address: 127.0.0.1, env: WS_PORT, health: /ws/health}\n"
        "    environment: [A=1, B]\n"
        "    latency: {target: 10ms, max: 0.5s}\n"
        "  db: {ports: {pg: 5432}}\n",
        "p.yaml",
    )
    api = topology.services["api"]
    assert (api.host, api.exposure, api.status) == ("srv", Exposure.PUBLIC, Status.PLANNED)
    assert [(p.name, p.number, p.protocol, p.kind, p.address, p.env) for p in api.ports] == [
        ("http", 8080, "tcp", "http", None, None),
        ("dns", 5353, "udp", "dns", None, None),
        ("websocket", 8090, "tcp", "ws", "127.0.0.1", "WS_PORT"),
    ]
    assert api.ports[0].location == Location("p.yaml", 8, 13)
    assert api.ports[0].health == Health(
        kind="tcp", latency=Latency(10.0, 500.0), location=Location("p.yaml", 8, 13)
    )
    assert api.ports[2].health == Health(
        kind="http", path="/ws/health", location=Location("p.yaml", 10, 73)
    )
    assert [(e.name, e.value) for e in api.environment] == [("A", "1"), ("B", None)]
    db = topology.services["db"]
    assert (db.host, db.exposure, db.ports[0].kind) == ("srv", Exposure.LOCAL, "postgresql")


def test_health_forms() -> None:
    topology = loader.load_text(
        "services:\n"
        "  a:\n"
        "    ports:\n"
        "      grpc: {port: 50051, health: {grpc: token.v1.Token, timeout: 500ms}}\n"
        "      http: {port: 8081, health: {path: /health, status: 200, expect: {status: ok},\n"
        "                                  latency: {target: 5, max: 20ms}}}\n"
        "      raw: {port: 9000, health: {tcp: true}}\n"
    )
    grpc, http, raw = (p.health for p in topology.services["a"].ports)
    assert grpc is not None and (grpc.kind, grpc.grpc_service, grpc.timeout_ms) == (
        "grpc",
        "token.v1.Token",
        500.0,
    )
    assert http is not None and (
        http.kind,
        http.path,
        http.status,
        dict(http.expect or {}),
        http.latency,
    ) == ("http", "/health", 200, {"status": "ok"}, Latency(5.0, 20.0))
    assert raw is not None and raw.kind == "tcp"


def test_ranges_reserved_and_aliases() -> None:
    topology = loader.load_text(
        "ranges: {future: {ports: 8020+}, core: {ports: 8000-8009, category: core}}\n"
        "reserved: [8010, {ports: 8004-8006, reason: later, host: srv}]\n"
        "services:\n  token-engine: {aliases: [Token]}\n"
    )
    assert [(r.name, r.ports) for r in topology.ranges] == [
        ("future", PortRange(8020, 65535)),
        ("core", PortRange(8000, 8009)),
    ]
    assert [(r.ports, r.reason, r.host) for r in topology.reserved] == [
        (PortRange(8010, 8010), "", None),
        (PortRange(8004, 8006), "later", "srv"),
    ]
    engine = topology.services["token-engine"]
    for name in ("Token Engine", "TOKEN_ENGINE", "token", "token-engine"):
        assert topology.resolve(name) is engine
    assert topology.resolve("Token Engines") is None


def test_includes_are_checked_together(tmp_path: Path) -> None:
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "portplan.yaml").write_text(
        "system: infra\nreserved: [9999]\nservices:\n  postgres: {ports: {postgresql: 5432}}\n"
        "  api: {ports: {http: 7000}}\n"
    )
    (tmp_path / "portplan.yaml").write_text(
        "system: app\ninclude: [infra/portplan.yaml]\nservices:\n  api: {ports: {http: 5432}}\n"
    )
    topology = loader.load(tmp_path / "portplan.yaml")
    assert sorted(topology.services) == ["app/api", "infra/api", "postgres"]
    assert topology.resolve("api") is topology.services["app/api"]
    assert topology.services["postgres"].system == "infra"
    assert topology.reserved[0].ports == PortRange(9999, 9999)
    assert topology.includes == ("infra/portplan.yaml",)


def test_a_name_both_files_use_is_qualified_in_findings(tmp_path: Path) -> None:
    (tmp_path / "other.yaml").write_text("system: other\nservices:\n  api: {ports: {http: 8000}}\n")
    (tmp_path / "portplan.yaml").write_text(
        "system: main\ninclude: [other.yaml]\nservices:\n  api: {ports: {http: 8000}}\n"
    )
    found = rules.run(loader.load(tmp_path / "portplan.yaml"))
    assert [(f.rule, f.message) for f in found] == [
        (
            "PP101",
            "port 8000/tcp on host default is bound by both main/api.http and other/api.http",
        )
    ]


def test_an_include_without_a_default_host_takes_the_including_files(tmp_path: Path) -> None:
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "portplan.yaml").write_text(
        "services:\n  grafana: {ports: {web: 8001}}\n"
    )
    (tmp_path / "portplan.yaml").write_text(
        "hosts: {local: {}}\ndefaults: {host: local}\ninclude: [infra/portplan.yaml]\n"
        "services:\n  api: {ports: {http: 8001}}\n"
    )
    topology = loader.load(tmp_path / "portplan.yaml")
    assert topology.services["grafana"].host == "local"
    found = rules.run(topology)
    assert [(f.rule, f.message) for f in found] == [
        ("PP101", "port 8001/tcp on host local is bound by both api.http and grafana.web")
    ]


def test_missing_include(tmp_path: Path) -> None:
    (tmp_path / "portplan.yaml").write_text("include:\n  - nope.yaml\n")
    with pytest.raises(InputError) as error:
        loader.load(tmp_path / "portplan.yaml")
    assert str(error.value) == f"{tmp_path}/portplan.yaml:2:5: include: no such file 'nope.yaml'"


def test_discover(tmp_path: Path) -> None:
    (tmp_path / "portplan.yml").write_text("services: {}\n")
    (tmp_path / "a" / "b").mkdir(parents=True)
    found = loader.discover(tmp_path / "a" / "b")
    assert found == Path(os.path.relpath((tmp_path / "portplan.yml").resolve()))
    assert not found.is_absolute() and found.resolve() == (tmp_path / "portplan.yml").resolve()


def test_a_discovered_plan_is_named_relative_to_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Findings, SARIF and GitHub annotations name a discovered plan as the repository
    does (`portplan.yaml`, `../portplan.yaml`), not by an absolute path of one machine."""
    (tmp_path / "portplan.yaml").write_text("services: {}\n")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    assert loader.discover() == Path("portplan.yaml")
    monkeypatch.chdir(tmp_path / "sub")
    assert loader.discover() == Path("../portplan.yaml")


def test_target_and_published() -> None:
    """`target` is the container's side of a port (None: the port's own number);
    `published: false` keeps a port off the host. An overlay's short form changes the
    number and keeps the rest."""
    text = (
        "services:\n"
        "  web:\n"
        "    ports:\n"
        "      http: {port: 8088, target: 80}\n"
        "      admin: 9000\n"
        "  db: {ports: {postgresql: {port: 5432, published: false}}}\n"
        "environments:\n"
        "  prod: {services: {web: {ports: {http: 443}}}}\n"
    )
    topology = loader.load_text(text)
    ports = [p for s in topology.services.values() for p in s.ports]
    assert [(p.name, p.number, p.target, p.container_port, p.published) for p in ports] == [
        ("http", 8088, 80, 80, True),
        ("admin", 9000, None, 9000, True),
        ("postgresql", 5432, None, 5432, False),
    ]
    assert [(b.service, b.port) for b in topology.bindings()] == [("web", 8088), ("web", 9000)]
    prod = loader.load_text(text, env="prod").services["web"].ports[0]
    assert (prod.number, prod.target, prod.published) == (443, 80, True)


def test_the_container_ports_example_of_the_format_page_checks_clean() -> None:
    page = (Path(__file__).parents[1] / "docs" / "topology.md").read_text()
    section = page.split("### Container ports", 1)[1]
    planned = section.split("is planned as\n\n```yaml\n", 1)[1].split("```", 1)[0]
    topology = loader.load_text(planned, "topology.md")
    web = topology.services["web"].ports[0]
    assert (web.number, web.container_port, web.published) == (8088, 80, True)
    found = rules.run(topology, rules.Context(ephemeral=PortRange(32768, 60999)))
    assert [(f.rule, f.message) for f in found] == []


def test_x_keys_hold_shared_anchors_and_are_ignored() -> None:
    """As compose's extension fields: at the top, in a service, in a port (and overlays)."""
    topology = loader.load_text(
        "x-common: &common {category: core, status: planned}\n"
        "services:\n"
        "  api:\n"
        "    <<: *common\n"
        "    x-team: payments\n"
        "    ports: {http: {port: 8000, x-note: behind the proxy}}\n"
        "environments:\n"
        "  prod: {x-why: audit, services: {api: {x-ticket: 12, ports: {http: {x-a: 1}}}}}\n",
        env="prod",
    )
    api = topology.services["api"]
    assert (api.category, api.status, api.ports[0].number) == ("core", Status.PLANNED, 8000)
    document = schema.json_schema()
    assert document["patternProperties"] == {"^x-": {}}
    service = document["properties"]["services"]["additionalProperties"]
    assert service["patternProperties"] == {"^x-": {}}
    assert "x-note" not in service["properties"]


def test_the_json_schema_allows_x_keys_where_the_loader_does() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(schema.json_schema())
    good = {
        "x-a": {"b": 1},
        "services": {"api": {"x-b": 1, "ports": {"http": {"port": 1, "x-c": 2}}}},
    }
    assert list(validator.iter_errors(good)) == []
    bad = {"hosts": {"a": {"x-note": 1}}}
    assert [e.message for e in validator.iter_errors(bad)] == [
        "Additional properties are not allowed ('x-note' was unexpected)"
    ]


def test_the_extension_fields_example_of_the_format_page_loads() -> None:
    page = (Path(__file__).parents[1] / "docs" / "topology.md").read_text()
    section = page.split("### Extension fields", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    api = loader.load_text(example, "topology.md").services["api"]
    assert (api.category, api.technology, api.ports[0].number) == ("core", "go", 8000)
