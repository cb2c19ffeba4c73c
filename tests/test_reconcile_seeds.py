"""reconcile on the seed documents: every finding pinned (rule, locations, message), alone
and against the example plans of their systems.

Each finding was checked by hand against the seed text (the comments say what it is).
Locations are written `NNN:line:column`, NNN the seed's number, `plan` the example plan.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from portplan.cli import main
from portplan.findings import Finding
from portplan.model import Location
from portplan.plan import loader
from portplan.reconcile.core import reconcile_paths
from tests.conftest import EXAMPLES, shared_dir

SECRETS = (
    "deltran_secure_pass_2024",
    "deltran-secret-key-change-in-production",
    "airflow:airflow@",
)

Pinned = tuple[str, str, str]

# Seeds 000, 001 and 004 describe the Hybrid AI Trading System, 002 the AI Trading Platform,
# 003 DelTran: three systems, held to themselves. Systems go by the names files share: 000
# names 3 services, all in 001 and 004; 001 and 004 share 22 of 001's 25; 002 shares only 4
# of its 12 names (ai-aware-gateway, ai-trading-engine, database, data-bridge) with 001 and
# 004, so it is a system of its own; 003 shares only infrastructure (postgres, prometheus).
SEEDS: list[Pinned] = [
    # 000 names compliance-monitor, 004 "Compliance Monitoring Service": matched, said (info).
    (
        "PP208",
        "000:33:6",
        "compliance-monitor and Compliance Monitoring Service are taken to be one service (similar names)",
    ),
    # 000's compose fragment publishes the compliance ports on every interface; 001 keeps
    # 8001-8019 on the internal network.
    (
        "PP206",
        "000:129:12 001:108:11",
        "compliance-monitor publishes port 8017 on all interfaces, but 001_414c4c51c21fd5c7.txt:108 keeps it internal",
    ),
    (
        "PP206",
        "000:133:12 001:108:11",
        "audit-trail publishes port 8018 on all interfaces, but 001_414c4c51c21fd5c7.txt:108 keeps it internal",
    ),
    (
        "PP206",
        "000:137:12 001:108:11",
        "regulatory-reporting publishes port 8019 on all interfaces, but 001_414c4c51c21fd5c7.txt:108 keeps it internal",
    ),
    # The reference (001) gives 8012 to ml-supervised, the architecture (004) to the
    # configuration service it adds.
    (
        "PP202",
        "001:34:19 004:151:29 001:86:26 001:123:18 004:215:31 004:393:14",
        "port 8012/tcp is claimed by configuration-service and ml-supervised",
    ),
    # DelTran (003): literal secrets in its env blocks (every DATABASE_URL holds a password),
    # env URLs its Mermaid graph has no edge for (NATS and Redis are in the graph), and the
    # graph's Reporting :8087 / Settlement :8088, the other way round everywhere else.
    ("PP210", "003:42:1", "Gateway: JWT_SECRET holds a literal secret (value not shown)"),
    ("PP210", "003:49:1", "Token Engine: DATABASE_URL holds a literal secret (value not shown)"),
    (
        "PP205",
        "003:51:10 003:202:15",
        "Token Engine depends on NATS by env-url, but not by mermaid-edge",
    ),
    (
        "PP210",
        "003:58:1",
        "Obligation Engine: DATABASE_URL holds a literal secret (value not shown)",
    ),
    (
        "PP205",
        "003:59:10 003:196:20",
        "Obligation Engine depends on NATS by env-url, but not by mermaid-edge",
    ),
    (
        "PP205",
        "003:60:11 003:196:20",
        "Obligation Engine depends on Redis by env-url, but not by mermaid-edge",
    ),
    (
        "PP210",
        "003:67:1",
        "Liquidity Router: DATABASE_URL holds a literal secret (value not shown)",
    ),
    ("PP210", "003:74:1", "Risk Engine: DATABASE_URL holds a literal secret (value not shown)"),
    ("PP210", "003:81:1", "Clearing Engine: DATABASE_URL holds a literal secret (value not shown)"),
    (
        "PP210",
        "003:88:1",
        "Compliance Engine: DATABASE_URL holds a literal secret (value not shown)",
    ),
    (
        "PP210",
        "003:96:1",
        "Settlement Engine: DATABASE_URL holds a literal secret (value not shown)",
    ),
    (
        "PP210",
        "003:104:1",
        "Reporting Engine: DATABASE_URL holds a literal secret (value not shown)",
    ),
    (
        "PP210",
        "003:112:1",
        "Notification Engine: DATABASE_URL holds a literal secret (value not shown)",
    ),
    (
        "PP205",
        "003:114:11 003:200:22",
        "Notification Engine depends on Redis by env-url, but not by mermaid-edge",
    ),
    (
        "PP210",
        "003:142:5",
        "Settlement Engine: DATABASE_URL holds a literal secret (value not shown)",
    ),
    (
        "PP210",
        "003:155:5",
        "Notification Engine: DATABASE_URL holds a literal secret (value not shown)",
    ),
    (
        "PP201",
        "003:192:45 003:15:26 003:40:39 003:101:28 003:103:11 003:166:29 003:230:40 003:262:26",
        "Reporting Engine: http port is 8087 here but 8088 in 003_e71b2e849d4d1575.txt:15 (and 6 more)",
    ),
    (
        "PP201",
        "003:193:47 003:14:27 003:39:40 003:92:29 003:94:11 003:139:37 003:145:15 003:165:30 003:231:45 003:261:27",
        "Settlement Engine: http port is 8088 here but 8087 in 003_e71b2e849d4d1575.txt:14 (and 8 more)",
    ),
    # 004 calls api-gateway "API Gateway Enhancement" and (client compose) server-api-gateway.
    (
        "PP208",
        "004:71:1",
        "API Gateway Enhancement and ai-aware-gateway are taken to be one service (similar names)",
    ),
    # 004 moves the AI/ML services one port up from the reference (001), and the compliance
    # services too, against 000, 001 and its own compliance section (lines 49-63).
    (
        "PP201",
        "004:176:29 004:220:23 004:367:46 004:408:14 001:34:19 001:86:26 001:123:18",
        "ml-supervised: http port is 8013 here but 8012 in 001_414c4c51c21fd5c7.txt:34 (and 2 more)",
    ),
    (
        "PP201",
        "004:182:32 004:221:26 004:416:14 001:35:22 001:87:29",
        "ml-deep-learning: port is 8014 here but 8013 in 001_414c4c51c21fd5c7.txt:35 (and 1 more)",
    ),
    (
        "PP201",
        "004:188:33 004:222:27 004:431:14 001:36:23 001:88:30",
        "pattern-validator: port is 8015 here but 8014 in 001_414c4c51c21fd5c7.txt:36 (and 1 more)",
    ),
    (
        "PP201",
        "004:194:24 004:232:26 004:439:14 001:37:22 001:95:19 001:167:26",
        "telegram-service: port is 8016 here but 8015 in 001_414c4c51c21fd5c7.txt:37 (and 2 more)",
    ),
    (
        "PP201",
        "004:200:26 004:449:14 001:38:24 001:172:28",
        "backtesting-engine: port is 8017 here but 8016 in 001_414c4c51c21fd5c7.txt:38 (and 1 more)",
    ),
    (
        "PP201",
        "004:218:28 004:459:14 000:33:26 000:129:12 001:43:24 001:89:31 001:98:31 001:124:23 004:49:37",
        "compliance-monitor: port is 8018 here but 8017 in 000_7329aef7b618c9f5.txt:33 (and 6 more)",
    ),
    (
        "PP201",
        "004:234:30 004:484:14 000:45:28 000:137:12 001:45:26 001:99:33 001:168:30 004:63:36",
        "regulatory-reporting: port is 8020 here but 8019 in 000_7329aef7b618c9f5.txt:45 (and 5 more)",
    ),
    # 004's compose files publish on every interface what its own policy (lines 620-621) keeps
    # local (9001-9004) or internal (8001-8019; regulatory-reporting's port is 8019).
    (
        "PP206",
        "004:287:14 004:620:16",
        "metatrader-connector publishes port 9001 on all interfaces, but 004_a1d87348a9620570.txt:620 keeps it local",
    ),
    (
        "PP208",
        "004:292:21",
        "server-api-gateway and ai-aware-gateway are taken to be one service (similar names)",
    ),
    (
        "PP206",
        "004:299:14 004:620:16",
        "data-collector publishes port 9002 on all interfaces, but 004_a1d87348a9620570.txt:620 keeps it local",
    ),
    (
        "PP206",
        "004:307:14 004:620:16",
        "market-monitor publishes port 9003 on all interfaces, but 004_a1d87348a9620570.txt:620 keeps it local",
    ),
    (
        "PP206",
        "004:315:14 004:620:16",
        "config-manager publishes port 9004 on all interfaces, but 004_a1d87348a9620570.txt:620 keeps it local",
    ),
    (
        "PP206",
        "004:345:14 004:621:31",
        "database-service publishes port 8008 on all interfaces, but 004_a1d87348a9620570.txt:621 keeps it internal",
    ),
    (
        "PP206",
        "004:355:14 004:621:31",
        "data-bridge publishes port 8001 on all interfaces, but 004_a1d87348a9620570.txt:621 keeps it internal",
    ),
    (
        "PP206",
        "004:364:14 004:621:31",
        "trading-engine publishes port 8007 on all interfaces, but 004_a1d87348a9620570.txt:621 keeps it internal",
    ),
    (
        "PP206",
        "004:373:14 004:621:31",
        "ai-orchestration publishes port 8003 on all interfaces, but 004_a1d87348a9620570.txt:621 keeps it internal",
    ),
    (
        "PP206",
        "004:384:14 004:621:31",
        "feature-engineering publishes port 8011 on all interfaces, but 004_a1d87348a9620570.txt:621 keeps it internal",
    ),
    (
        "PP206",
        "004:393:14 004:621:31",
        "configuration-service publishes port 8012 on all interfaces, but 004_a1d87348a9620570.txt:621 keeps it internal",
    ),
    # 004's server compose depends on services it does not define.
    (
        "PP211",
        "004:401:18",
        "configuration-service depends on postgres, which this compose file does not define",
    ),
    (
        "PP206",
        "004:408:14 004:621:31",
        "ml-supervised publishes port 8013 on all interfaces, but 004_a1d87348a9620570.txt:621 keeps it internal",
    ),
    (
        "PP206",
        "004:416:14 004:621:31",
        "ml-deep-learning publishes port 8014 on all interfaces, but 004_a1d87348a9620570.txt:621 keeps it internal",
    ),
    (
        "PP206",
        "004:431:14 004:621:31",
        "pattern-validator publishes port 8015 on all interfaces, but 004_a1d87348a9620570.txt:621 keeps it internal",
    ),
    (
        "PP206",
        "004:439:14 004:621:31",
        "telegram-service publishes port 8016 on all interfaces, but 004_a1d87348a9620570.txt:621 keeps it internal",
    ),
    (
        "PP211",
        "004:445:34",
        "telegram-service depends on performance-analytics, which this compose file does not define",
    ),
    (
        "PP206",
        "004:449:14 004:621:31",
        "backtesting-engine publishes port 8017 on all interfaces, but 004_a1d87348a9620570.txt:621 keeps it internal",
    ),
    (
        "PP206",
        "004:459:14 004:621:31",
        "compliance-monitor publishes port 8018 on all interfaces, but 004_a1d87348a9620570.txt:621 keeps it internal",
    ),
    (
        "PP201",
        "004:472:14 000:39:19 000:133:12 001:44:17 001:90:24 004:58:27 004:229:21",
        "audit-trail: port is 8019 here but 8018 in 000_7329aef7b618c9f5.txt:39 (and 5 more)",
    ),
    (
        "PP206",
        "004:472:14 004:621:31",
        "audit-trail publishes port 8019 on all interfaces, but 004_a1d87348a9620570.txt:621 keeps it internal",
    ),
    (
        "PP206",
        "004:484:14 004:621:31",
        "regulatory-reporting publishes port 8020 on all interfaces, but 004_a1d87348a9620570.txt:621 keeps its port 8019 internal",
    ),
    # regulatory-reporting reaches kafka (defined in its compose file) but does not depend on it.
    (
        "PP205",
        "004:488:23 004:490:18",
        "regulatory-reporting depends on kafka by env-url, but not by depends_on",
    ),
    # airflow's connection string holds a password.
    (
        "PP210",
        "004:537:9",
        "airflow: AIRFLOW__DATABASE__SQL_ALCHEMY_CONN holds a literal secret (value not shown)",
    ),
    ("PP211", "004:538:18", "airflow depends on postgres, which this compose file does not define"),
]


def pinned(findings: list[Finding], plan: Path | None = None) -> list[Pinned]:
    def short(location: Location) -> str:
        file = location.file
        name = "plan" if plan is not None and file == str(plan) else Path(file).name[:3]
        return f"{name}:{location.line}:{location.column}"

    return [(f.rule, " ".join(short(loc) for loc in f.locations), f.message) for f in findings]


def seeds(*numbers: str) -> list[Path]:
    return sorted(p for n in numbers for p in (shared_dir() / "seeds").glob(f"{n}_*"))


@pytest.fixture(scope="module")
def seed_findings() -> list[Finding]:
    return reconcile_paths([shared_dir() / "seeds"]).findings


def test_seed_findings_are_pinned(seed_findings: list[Finding]) -> None:
    assert pinned(seed_findings) == SEEDS


def test_seed_finding_counts(seed_findings: list[Finding]) -> None:
    assert Counter(f.rule for f in seed_findings) == {
        "PP201": 10,  # DelTran's diagram swaps two ports; 004 moves 8 AI/ML and compliance ports
        "PP202": 1,  # 8012: ml-supervised in the reference, configuration-service in 004
        "PP205": 5,  # 4 env URLs missing from DelTran's diagram; kafka from a depends_on
        "PP206": 21,  # 000 and 004 publish internal and local ports on all interfaces
        "PP208": 3,  # names matched by similarity (info)
        "PP210": 13,  # DATABASE_URL passwords, JWT_SECRET, airflow's connection string
        "PP211": 3,  # 004's server compose depends on postgres and performance-analytics
    }


def test_deltran_diagram_swaps_two_ports(seed_findings: list[Finding]) -> None:
    swapped = [f for f in pinned(seed_findings) if f[0] == "PP201" and f[1].startswith("003")]
    assert [message.split(":")[0] for *_, message in swapped] == [
        "Reporting Engine",
        "Settlement Engine",
    ]


def test_architecture_moves_ai_and_compliance_ports(seed_findings: list[Finding]) -> None:
    # Every port drift of the Hybrid AI Trading System is stated in the technical
    # architecture (004) against the reference (001) and the summary (000).
    moved = [f for f in pinned(seed_findings) if f[0] == "PP201" and not f[1].startswith("003")]
    assert {locations[:3] for _, locations, _ in moved} == {"004"}
    assert [message.split(":")[0] for *_, message in moved] == [
        "ml-supervised",
        "ml-deep-learning",
        "pattern-validator",
        "telegram-service",
        "backtesting-engine",
        "compliance-monitor",
        "regulatory-reporting",
        "audit-trail",
    ]


def test_secret_values_are_never_shown(capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("text", "json", "sarif", "github"):
        assert main(["reconcile", str(shared_dir() / "seeds"), "--format", fmt]) == 1
        out = capsys.readouterr().out
        assert not [secret for secret in SECRETS if secret in out]


def test_cli_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reconcile", str(shared_dir() / "seeds")]) == 1
    out = capsys.readouterr().out
    assert out.endswith("5 files, 50 services: 35 errors, 18 warnings, 3 infos\n")


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    main(["reconcile", str(shared_dir() / "seeds"), "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    assert len(document["findings"]) == len(SEEDS)


# --- against the example plans --------------------------------------------------------

DELTRAN = EXAMPLES / "deltran" / "portplan.yaml"
HYBRID = EXAMPLES / "hybrid-ai-trading" / "portplan.yaml"
PLATFORM = EXAMPLES / "ai-trading-platform" / "portplan.yaml"

DELTRAN_FINDINGS: list[Pinned] = [
    ("PP210", "003:42:1", "gateway: JWT_SECRET holds a literal secret (value not shown)"),
    ("PP210", "003:49:1", "token-engine: DATABASE_URL holds a literal secret (value not shown)"),
    (
        "PP205",
        "003:51:10 003:202:15",
        "token-engine depends on nats by env-url, but not by mermaid-edge",
    ),
    (
        "PP210",
        "003:58:1",
        "obligation-engine: DATABASE_URL holds a literal secret (value not shown)",
    ),
    (
        "PP205",
        "003:59:10 003:196:20",
        "obligation-engine depends on nats by env-url, but not by mermaid-edge",
    ),
    (
        "PP205",
        "003:60:11 003:196:20",
        "obligation-engine depends on redis by env-url, but not by mermaid-edge",
    ),
    (
        "PP210",
        "003:67:1",
        "liquidity-router: DATABASE_URL holds a literal secret (value not shown)",
    ),
    ("PP210", "003:74:1", "risk-engine: DATABASE_URL holds a literal secret (value not shown)"),
    ("PP210", "003:81:1", "clearing-engine: DATABASE_URL holds a literal secret (value not shown)"),
    (
        "PP210",
        "003:88:1",
        "compliance-engine: DATABASE_URL holds a literal secret (value not shown)",
    ),
    (
        "PP210",
        "003:96:1",
        "settlement-engine: DATABASE_URL holds a literal secret (value not shown)",
    ),
    (
        "PP210",
        "003:104:1",
        "reporting-engine: DATABASE_URL holds a literal secret (value not shown)",
    ),
    (
        "PP210",
        "003:112:1",
        "notification-engine: DATABASE_URL holds a literal secret (value not shown)",
    ),
    (
        "PP205",
        "003:114:11 003:200:22",
        "notification-engine depends on redis by env-url, but not by mermaid-edge",
    ),
    (
        "PP210",
        "003:142:5",
        "settlement-engine: DATABASE_URL holds a literal secret (value not shown)",
    ),
    (
        "PP210",
        "003:155:5",
        "notification-engine: DATABASE_URL holds a literal secret (value not shown)",
    ),
    (
        "PP201",
        "003:192:45 plan:206:15 003:15:26 003:40:39 003:101:28 003:103:11 003:166:29 003:230:40 003:262:26",
        "reporting-engine: http port is 8087 here but 8088 in portplan.yaml:206 (and 7 more)",
    ),
    (
        "PP201",
        "003:193:47 plan:186:15 003:14:27 003:39:40 003:92:29 003:94:11 003:139:37 003:145:15 003:165:30 003:231:45 003:261:27",
        "settlement-engine: http port is 8088 here but 8087 in portplan.yaml:186 (and 9 more)",
    ),
]

# PP208 (names the plan does not know) are pinned below, apart.
HYBRID_FINDINGS: list[Pinned] = [
    (
        "PP206",
        "000:129:12 plan:201:19",
        "compliance-monitor publishes port 8017 on all interfaces, but portplan.yaml:201 keeps it internal",
    ),
    (
        "PP206",
        "000:133:12 plan:211:19",
        "audit-trail publishes port 8018 on all interfaces, but portplan.yaml:211 keeps it internal",
    ),
    (
        "PP206",
        "000:137:12 plan:221:19",
        "regulatory-reporting publishes port 8019 on all interfaces, but portplan.yaml:221 keeps it internal",
    ),
    (
        "PP201",
        "004:176:29 004:220:23 004:367:46 004:408:14 plan:165:19 001:34:19 001:86:26 001:123:18",
        "ml-supervised: http port is 8013 here but 8012 in portplan.yaml:165 (and 3 more)",
    ),
    (
        "PP201",
        "004:182:32 004:221:26 004:416:14 plan:172:19 001:35:22 001:87:29",
        "ml-deep-learning: http port is 8014 here but 8013 in portplan.yaml:172 (and 2 more)",
    ),
    (
        "PP201",
        "004:188:33 004:222:27 004:431:14 plan:178:19 001:36:23 001:88:30",
        "pattern-validator: http port is 8015 here but 8014 in portplan.yaml:178 (and 2 more)",
    ),
    (
        "PP201",
        "004:194:24 004:232:26 004:439:14 plan:184:19 001:37:22 001:95:19 001:167:26",
        "telegram-service: http port is 8016 here but 8015 in portplan.yaml:184 (and 3 more)",
    ),
    (
        "PP201",
        "004:200:26 004:449:14 plan:192:19 001:38:24 001:172:28",
        "backtesting-engine: http port is 8017 here but 8016 in portplan.yaml:192 (and 2 more)",
    ),
    (
        "PP201",
        "004:218:28 004:459:14 plan:201:19 000:33:26 000:129:12 001:43:24 001:89:31 001:98:31 001:124:23",
        "compliance-monitor: http port is 8018 here but 8017 in portplan.yaml:201 (and 6 more)",
    ),
    (
        "PP201",
        "004:234:30 004:484:14 plan:221:19 000:45:28 000:137:12 001:45:26 001:99:33 001:168:30 004:63:36",
        "regulatory-reporting: http port is 8020 here but 8019 in portplan.yaml:221 (and 6 more)",
    ),
    (
        "PP206",
        "004:287:14 plan:75:19",
        "metatrader-connector publishes port 9001 on all interfaces, but portplan.yaml:75 keeps it local",
    ),
    (
        "PP206",
        "004:299:14 plan:82:19",
        "data-collector publishes port 9002 on all interfaces, but portplan.yaml:82 keeps it local",
    ),
    (
        "PP206",
        "004:307:14 plan:89:19",
        "market-monitor publishes port 9003 on all interfaces, but portplan.yaml:89 keeps it local",
    ),
    (
        "PP206",
        "004:315:14 plan:96:19",
        "config-manager publishes port 9004 on all interfaces, but portplan.yaml:96 keeps it local",
    ),
    (
        "PP206",
        "004:345:14 plan:143:19",
        "database-service publishes port 8008 on all interfaces, but portplan.yaml:143 keeps it internal",
    ),
    (
        "PP206",
        "004:355:14 plan:115:19",
        "data-bridge publishes port 8001 on all interfaces, but portplan.yaml:115 keeps it internal",
    ),
    (
        "PP206",
        "004:364:14 plan:136:19",
        "trading-engine publishes port 8007 on all interfaces, but portplan.yaml:136 keeps it internal",
    ),
    (
        "PP206",
        "004:373:14 plan:128:19",
        "ai-orchestration publishes port 8003 on all interfaces, but portplan.yaml:128 keeps it internal",
    ),
    (
        "PP206",
        "004:384:14 plan:157:19",
        "feature-engineering publishes port 8011 on all interfaces, but portplan.yaml:157 keeps it internal",
    ),
    (
        "PP211",
        "004:401:18",
        "configuration-service depends on postgres, which this compose file does not define",
    ),
    (
        "PP206",
        "004:408:14 plan:160:3",
        "ml-supervised publishes port 8013 on all interfaces, but portplan.yaml:160 keeps it internal",
    ),
    (
        "PP206",
        "004:416:14 plan:167:3",
        "ml-deep-learning publishes port 8014 on all interfaces, but portplan.yaml:167 keeps it internal",
    ),
    (
        "PP206",
        "004:431:14 plan:173:3",
        "pattern-validator publishes port 8015 on all interfaces, but portplan.yaml:173 keeps it internal",
    ),
    (
        "PP206",
        "004:439:14 plan:179:3",
        "telegram-service publishes port 8016 on all interfaces, but portplan.yaml:179 keeps it internal",
    ),
    (
        "PP211",
        "004:445:34",
        "telegram-service depends on performance-analytics, which this compose file does not define",
    ),
    (
        "PP206",
        "004:449:14 plan:187:3",
        "backtesting-engine publishes port 8017 on all interfaces, but portplan.yaml:187 keeps it internal",
    ),
    (
        "PP206",
        "004:459:14 plan:195:3",
        "compliance-monitor publishes port 8018 on all interfaces, but portplan.yaml:195 keeps it internal",
    ),
    (
        "PP201",
        "004:472:14 plan:211:19 000:39:19 000:133:12 001:44:17 001:90:24 004:58:27 004:229:21",
        "audit-trail: http port is 8019 here but 8018 in portplan.yaml:211 (and 6 more)",
    ),
    (
        "PP206",
        "004:472:14 plan:205:3",
        "audit-trail publishes port 8019 on all interfaces, but portplan.yaml:205 keeps it internal",
    ),
    (
        "PP206",
        "004:484:14 plan:215:3",
        "regulatory-reporting publishes port 8020 on all interfaces, but portplan.yaml:215 keeps it internal",
    ),
    (
        "PP205",
        "004:488:23 004:490:18",
        "regulatory-reporting depends on kafka by env-url, but not by depends_on",
    ),
    (
        "PP206",
        "004:495:14 plan:230:20",
        "kafka publishes port 9092 on all interfaces, but portplan.yaml:230 keeps it internal",
    ),
    (
        "PP206",
        "004:507:14 plan:234:21",
        "zookeeper publishes port 2181 on all interfaces, but portplan.yaml:234 keeps it internal",
    ),
    (
        "PP206",
        "004:534:14 plan:246:19",
        "airflow publishes port 8080 on all interfaces, but portplan.yaml:246 keeps it internal",
    ),
    (
        "PP210",
        "004:537:9",
        "airflow: AIRFLOW__DATABASE__SQL_ALCHEMY_CONN holds a literal secret (value not shown)",
    ),
    ("PP211", "004:538:18", "airflow depends on postgres, which this compose file does not define"),
]

# Names of 004 that the hybrid plan knows by no name or alias: real gaps of the plan.
UNKNOWN_TO_HYBRID_PLAN = {
    "Compliance Monitoring Service",
    "API Gateway Enhancement",
    "configuration-service",
    "ML Services",
    "server-api-gateway",
    "postgres",
    "prometheus",
    "grafana",
}
# 004 renames these ("Data Bridge (Port 8001) -> enhanced-data-bridge (8001)"): the old
# name is in the plan, so they are expected to resolve to it once renames are read both
# ways by portplan.reconcile.names.
RENAMED_IN_004 = {
    "enhanced-data-bridge",
    "ai-aware-gateway",
    "ai-trading-engine",
    "multi-model-orchestrator",
    "ai-performance-analytics",
}


def test_deltran_against_its_plan() -> None:
    result = reconcile_paths(seeds("003"), loader.load(DELTRAN))
    assert pinned(result.findings, DELTRAN) == DELTRAN_FINDINGS


def test_hybrid_system_against_its_plan() -> None:
    result = reconcile_paths(seeds("000", "001", "004"), loader.load(HYBRID))
    found = pinned(result.findings, HYBRID)
    assert [f for f in found if f[0] != "PP208"] == HYBRID_FINDINGS
    unknown = {f.facts["name"] for f in result.findings if f.rule == "PP208"}
    assert unknown >= UNKNOWN_TO_HYBRID_PLAN
    assert unknown - UNKNOWN_TO_HYBRID_PLAN <= RENAMED_IN_004


def test_ai_trading_platform_against_its_plan() -> None:
    # "ML Services (8021-8022)" names the plan's ml-services with a range: mentioned.
    result = reconcile_paths(seeds("002"), loader.load(PLATFORM))
    assert result.findings == []


def test_cli_with_a_plan(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reconcile", *map(str, seeds("003")), "-f", str(DELTRAN)]) == 1
    out = capsys.readouterr().out
    assert out.endswith(f"1 file, 14 services against {DELTRAN}: 2 errors, 16 warnings\n")
