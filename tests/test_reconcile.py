"""reconcile: the exact findings on the seed documents, and each rule on real files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from portplan.cli import main
from portplan.reconcile import reconcile, reconcile_paths
from portplan.sources import scan
from tests.conftest import RESOURCES, shared_dir

SEED_FINDINGS = [
    (
        "PP208",
        "000",
        33,
        "compliance-monitor and Compliance Monitoring Service are taken to be one service (similar names)",
    ),
    ("PP202", "001", 34, "port 8012/tcp is claimed by configuration-service and ml-supervised"),
    (
        "PP201",
        "001",
        35,
        "ml-deep-learning: port is 8013 here but 8014 in 004_a1d87348a9620570.txt:182 (and 2 more)",
    ),
    (
        "PP201",
        "001",
        36,
        "pattern-validator: port is 8014 here but 8015 in 004_a1d87348a9620570.txt:188 (and 2 more)",
    ),
    ("PP202", "001", 37, "port 8015/tcp is claimed by pattern-validator and telegram-service"),
    ("PP205", "003", 51, "Token Engine depends on NATS by env-url, but not by mermaid-edge"),
    ("PP205", "003", 59, "Obligation Engine depends on NATS by env-url, but not by mermaid-edge"),
    ("PP205", "003", 60, "Obligation Engine depends on Redis by env-url, but not by mermaid-edge"),
    (
        "PP205",
        "003",
        114,
        "Notification Engine depends on Redis by env-url, but not by mermaid-edge",
    ),
    (
        "PP201",
        "003",
        192,
        "Reporting Engine: http port is 8087 here but 8088 in 003_e71b2e849d4d1575.txt:15 (and 4 more)",
    ),
    (
        "PP201",
        "003",
        193,
        "Settlement Engine: http port is 8088 here but 8087 in 003_e71b2e849d4d1575.txt:14 (and 5 more)",
    ),
    (
        "PP208",
        "004",
        71,
        "API Gateway Enhancement and ai-aware-gateway are taken to be one service (similar names)",
    ),
    (
        "PP201",
        "004",
        194,
        "telegram-service: port is 8016 here but 8015 in 001_414c4c51c21fd5c7.txt:37 (and 2 more)",
    ),
    (
        "PP201",
        "004",
        200,
        "backtesting-engine: port is 8017 here but 8016 in 001_414c4c51c21fd5c7.txt:38 (and 1 more)",
    ),
    (
        "PP201",
        "004",
        218,
        "compliance-monitor: port is 8018 here but 8017 in 000_7329aef7b618c9f5.txt:33 (and 6 more)",
    ),
    (
        "PP201",
        "004",
        234,
        "regulatory-reporting: port is 8020 here but 8019 in 000_7329aef7b618c9f5.txt:45 (and 5 more)",
    ),
    (
        "PP208",
        "004",
        292,
        "server-api-gateway and ai-aware-gateway are taken to be one service (similar names)",
    ),
    ("PP205", "004", 367, "trading-engine depends on ml-supervised by env-url, but not by table"),
    (
        "PP201",
        "004",
        367,
        "ml-supervised: http port is 8013 here but 8012 in 001_414c4c51c21fd5c7.txt:34 (and 2 more)",
    ),
    ("PP205", "004", 444, "telegram-service depends on kafka by env-url, but not by dependencies"),
    ("PP205", "004", 444, "telegram-service depends on kafka by env-url, but not by tree"),
    (
        "PP205",
        "004",
        453,
        "backtesting-engine depends on kafka by env-url, but not by dependencies",
    ),
    ("PP205", "004", 464, "compliance-monitor depends on kafka by env-url, but not by table"),
    (
        "PP201",
        "004",
        472,
        "audit-trail: port is 8019 here but 8018 in 000_7329aef7b618c9f5.txt:39 (and 5 more)",
    ),
    (
        "PP205",
        "004",
        488,
        "regulatory-reporting depends on kafka by env-url, but not by depends_on",
    ),
]


@pytest.fixture(scope="module")
def seed_findings() -> list[tuple[str, str, int, str]]:
    result = reconcile_paths([shared_dir() / "seeds"])
    return [
        (f.rule, Path(f.locations[0].file).name[:3], f.locations[0].line, f.message)
        for f in result.findings
    ]


def test_seed_disagreements_are_pinned(seed_findings: list[tuple[str, str, int, str]]) -> None:
    pinned = [f for f in seed_findings if f[0] not in ("PP206", "PP210")]
    assert pinned == SEED_FINDINGS


def test_seed_counts(seed_findings: list[tuple[str, str, int, str]]) -> None:
    counts = Counter(rule for rule, *_ in seed_findings)
    assert counts["PP206"] == 20  # 004 compose publishes internal/local ports; 000 too
    assert counts["PP210"] == 13  # DATABASE_URL passwords, JWT_SECRET, MT5_PASSWORD ...


def test_deltran_diagram_swaps_two_ports(seed_findings: list[tuple[str, str, int, str]]) -> None:
    swapped = [f for f in seed_findings if f[0] == "PP201" and f[1] == "003"]
    assert [f[2] for f in swapped] == [192, 193]


def test_secret_values_are_never_shown() -> None:
    result = reconcile_paths([shared_dir() / "seeds"])
    text = " ".join(f.message for f in result.findings)
    assert "deltran_secure_pass_2024" not in text
    assert "deltran-secret-key" not in text


COMPOSE = RESOURCES / "compose"


def _rules(path: Path) -> list[tuple[str, int, str]]:
    found = reconcile(scan([path]))
    return [(f.rule, f.locations[0].line, f.message) for f in found]


def test_compose_project() -> None:
    assert _rules(COMPOSE / "project") == [
        (
            "PP211",
            15,
            "gateway depends on ledger, which no compose file of its directory defines",
        ),
        ("PP210", 18, "gateway: JWT_SECRET holds a literal secret (value not shown)"),
        ("PP210", 2, "token-engine: DATABASE_URL holds a literal secret (value not shown)"),
    ]


def test_duplicate_published_ports() -> None:
    found = [f for f in _rules(COMPOSE / "duplicates") if f[0] == "PP212"]
    assert [line for _, line, _ in found] == [5, 6, 12]
    assert found[0][2] == (
        "host port 40001/tcp is published twice: by a (all interfaces) and by b "
        "(all interfaces, compose.yaml:10)"
    )


def test_unreadable_file_is_one_finding(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services: [\n")
    (tmp_path / ".env").write_text("A_PORT=8080\nB_PORT=8080\n")
    found = reconcile(scan([tmp_path]))
    rules = sorted(f.rule for f in found)
    assert rules == ["PP209", "PP213"]
    unreadable = next(f for f in found if f.rule == "PP209")
    assert unreadable.message.startswith(f"could not read {tmp_path}/compose.yaml:")


def test_cli_reconcile(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["reconcile", str(COMPOSE / "project")])
    out = capsys.readouterr().out
    assert code == 1
    assert out.endswith("4 files, 4 services: 3 errors, 0 warnings\n") or "errors" in out


def test_cli_help() -> None:
    assert main(["reconcile", "--help"]) == 0
