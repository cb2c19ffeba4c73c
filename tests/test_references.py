"""Every URL and host:port is an observation of a port (PP216 unreachable-port, PP217
unknown-host): tests/resources/references/shop is a compose project whose services reach
each other by name, by the host machine and by a healthcheck, and a README that gives a
host-machine address."""

from __future__ import annotations

from pathlib import Path

from portplan.findings import Level
from portplan.reconcile.core import reconcile_paths
from portplan.sources.markdown import parse_markdown

SHOP = Path(__file__).resolve().parent / "resources" / "references" / "shop"


def _found(path: Path) -> list[tuple[str, Level, str, int, str]]:
    findings = reconcile_paths([path]).findings
    return [
        (f.rule, f.level, Path(f.locations[0].file).name, f.locations[0].line, f.message)
        for f in findings
    ]


def test_references_are_held_to_the_ports_their_targets_declare() -> None:
    assert _found(SHOP) == [
        (
            "PP216", Level.ERROR, "README.md", 6,
            "VOTING_HOST (localhost:8091) reaches voting on 8091, but voting has 8090, 9000 "
            "(8091 is results' host port)",
        ),
        (
            "PP216", Level.ERROR, "compose.yaml", 10,
            "web: RESULTS_URL (results:8090) reaches results on 8090, but results listens on "
            "8080 (8090 is voting's host port)",
        ),
        (
            "PP216", Level.ERROR, "compose.yaml", 11,
            "web: PUBLIC_URL (localhost:3000) reaches web from the host on 3000, its container "
            "port; web publishes 8080",
        ),
        (
            "PP216", Level.WARNING, "compose.yaml", 13,
            "web: localhost:3001 reaches web on 3001, but web listens on 3000",
        ),
        (
            "PP217", Level.WARNING, "compose.yaml", 30,
            "monitor: ALERTS_URL (alertmanager:9093) reaches alertmanager, which no source "
            "defines",
        ),
    ]  # fmt: skip
    # VotingUrl (camelCase) reaches voting:9000, its container port; SEARCH_URL reaches
    # Elasticsearch's transport port 9300 beside its http port 9200: neither is a finding


def test_the_other_end_of_each_finding_is_named() -> None:
    findings = reconcile_paths([SHOP]).findings
    assert [(f.locations[-1].line, f.locations[-1].column) for f in findings] == [
        (17, 10),  # voting's mapping "8090:9000"
        (21, 10),  # results' mapping "8091:8080"
        (7, 10),  # web's mapping "8080:3000"
        (7, 10),
        (30, 39),  # no other end: nothing defines alertmanager
    ]


def test_a_target_that_declares_no_port_is_not_checked(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n"
        "  app:\n"
        "    image: app:1\n"
        "    environment:\n"
        "      BROKER_URL: redis://broker:6379/0\n"
        "      TIKA_ENDPOINT: http://tika:9998\n"
        "  broker:\n"
        "    image: redis:7\n"
        "  tika:\n"
        "    image: apache/tika:2\n"
    )
    assert _found(tmp_path) == []


CATALOG = Path(__file__).resolve().parent / "resources" / "references" / "catalog"


def test_every_host_address_of_a_document_is_read_with_its_side() -> None:
    """In a code block, in inline code, as a bare URL of a list item; published after
    `docker compose up` until a heading above that section, unknown before it (`go run`)
    and after it."""
    found = parse_markdown((CATALOG / "README.md").read_text(), "README.md")
    assert [
        (a.host, a.number, a.side, a.location.line, a.location.column) for a in found.addresses
    ] == [
        ("localhost", 8080, "unknown", 7, 79),
        ("localhost", 8080, "published", 20, 16),
        ("localhost", 8080, "published", 23, 31),
        ("localhost", 8081, "published", 23, 67),
        ("localhost", 8080, "unknown", 27, 75),
    ]
    assert found.ports == []  # no service named: nothing for PP201 to compare


def test_a_docs_host_address_after_compose_up_on_a_container_port_is_drift() -> None:
    assert _found(CATALOG) == [
        (
            "PP216", Level.ERROR, "README.md", 20,
            "localhost:8080 after `docker compose up` is catalog's container port: no compose "
            "file here publishes 8080; 8080 is published as 8081 (catalog, compose.yaml:5)",
        )
    ]  # fmt: skip
