"""Several ports per service (issue 12 class 3) and listener settings (PP219): Kafka's
internal, host and JMX listeners, ZooKeeper's client port, a schema registry's listener, a
Dapr sidecar on its app's network. tests/resources/listeners/compose.yaml."""

from __future__ import annotations

from pathlib import Path

from portplan.findings import Level
from portplan.reconcile.core import build_view, reconcile_paths
from portplan.sources import scan

LISTENERS = Path(__file__).resolve().parent / "resources" / "listeners"


def test_a_mapping_to_a_port_no_listener_states_is_an_error() -> None:
    findings = reconcile_paths([LISTENERS]).findings
    assert [
        (f.rule, f.level, [(at.line, at.column) for at in f.locations], f.message) for f in findings
    ] == [
        (
            "PP219",
            Level.ERROR,
            [(23, 10), (26, 57)],
            "schema-registry maps 8181:8181 but listens only on 8081 "
            "(SCHEMA_REGISTRY_LISTENERS, compose.yaml:26)",
        )
    ]


def test_listener_settings_are_the_owners_own_ports() -> None:
    view = build_view(scan([LISTENERS]), None)
    own = sorted(
        (view.show(p.key), p.obs.number, p.obs.variable)
        for p in view.ports
        if p.obs.variable and not p.obs.reference
    )
    assert own == [
        ("kafka", 9092, "KAFKA_LISTENERS"),  # PLAINTEXT_HOST:// is read as a scheme
        ("kafka", 9101, "KAFKA_JMX_PORT"),
        ("kafka", 29092, "KAFKA_ADVERTISED_LISTENERS"),  # kafka:29092: its own name
        ("kafka", 29092, "KAFKA_LISTENERS"),
        ("orders", 80, "ASPNETCORE_URLS"),  # a bind address
        ("schema-registry", 8081, "SCHEMA_REGISTRY_LISTENERS"),
        ("zookeeper", 2181, "ZOOKEEPER_CLIENT_PORT"),  # a product's own namespace
    ]


def test_a_sidecar_on_the_services_network_listens_there_too(tmp_path: Path) -> None:
    text = (LISTENERS / "compose.yaml").read_text()
    (tmp_path / "compose.yaml").write_text(text.replace('    network_mode: "service:orders"\n', ""))
    found = [f.message for f in reconcile_paths([tmp_path]).findings if f.rule == "PP219"]
    assert found[-1] == (
        "orders maps 50001:50001 but listens only on 80 (ASPNETCORE_URLS, compose.yaml:33)"
    )
