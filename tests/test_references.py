"""Every URL and host:port is an observation of a port (PP216 unreachable-port, PP217
unknown-host): tests/resources/references/shop is a compose project whose services reach
each other by name, by the host machine and by a healthcheck, and a README that gives a
host-machine address."""

from __future__ import annotations

from pathlib import Path

from portplan.findings import Level
from portplan.reconcile.core import reconcile_paths

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
