"""Names: environment-variable prefixes and products named after a scheme (against a plan),
hosts (cluster names, the host machine, external endpoints), names only a diagram gives,
port names."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from portplan.cli import main
from portplan.findings import Finding, Level
from portplan.importer.core import import_paths
from portplan.model import Location
from portplan.plan.loader import load_text
from portplan.reconcile.core import reconcile, reconcile_paths
from portplan.reconcile.names import (
    Names,
    build_names,
    kind_service,
    port_key,
    variable_service,
)
from portplan.sources.base import (
    DependencyObservation,
    PortObservation,
    ServiceObservation,
    SourceResult,
    VariableObservation,
)
from tests.conftest import RESOURCES

PLAN = load_text(
    """\
services:
  token-engine: {ports: {http: 8081}}
  token-engine-worker: {ports: {http: 8082, admin-2: 8083}}
  elasticsearch: {aliases: [Elastic], ports: {http: 9200, transport: 9300}}
  db: {ports: {postgresql: 5432}}
  broker: {ports: {amqp: 5672}}
  cache-a: {ports: {redis: 6379}}
  cache-b: {ports: {redis: 6380}}
"""
)
KNOWN = {"tokenengine": "token-engine", "tokenengineworker": "token-engine-worker"}


@pytest.mark.parametrize(
    ("spellings", "service"),
    [
        (["TOKEN_ENGINE_WORKER_ADMIN_2"], "token-engine-worker"),  # the longest prefix
        (["TOKEN_ENGINE_ADMIN"], "token-engine"),
        (["TOKEN_ENGINE_WORKER"], "token-engine"),  # a whole name is not its own prefix
        (["TOKEN_ENGINEX_ADMIN"], None),  # whole words, not characters
        (["token-engine-admin"], None),  # a service's name, not a variable's
        (["TOKEN_ENGINE_ADMIN", "token_engine_admin"], None),
        (["LEDGER_HTTP"], None),
        ([], None),
    ],
)
def test_variable_service(spellings: list[str], service: str | None) -> None:
    assert variable_service(spellings, KNOWN) == service


@pytest.mark.parametrize(
    ("key", "service"),
    [
        ("postgres", "db"),  # port kind postgresql
        ("rabbitmq", "broker"),  # amqp
        ("redis", None),  # two services serve redis
        ("nats", None),  # none does
        ("ledger", None),  # not a product
    ],
)
def test_kind_service(key: str, service: str | None) -> None:
    assert kind_service(key, PLAN) == service


def _port(service: str, number: int) -> PortObservation:
    return PortObservation(service, number, Location("service-ports.env", 1, 1), "dotenv")


def test_build_names_maps_prefixes_and_products_and_reports_the_rest() -> None:
    result = SourceResult(file="service-ports.env", kind="dotenv")
    result.ports = [
        _port("ELASTICSEARCH_TRANSPORT", 9300),
        _port("ELASTIC_TRANSPORT", 9300),  # through the alias
        _port("postgres", 5432),
        _port("JAEGER_COLLECTOR", 14268),
    ]
    names = build_names([result], PLAN)
    assert names.key("ELASTICSEARCH_TRANSPORT") == "elasticsearch"
    assert names.key("ELASTIC_TRANSPORT") == "elasticsearch"
    assert names.key("postgres") == "db"
    assert names.key("JAEGER_COLLECTOR") is None
    assert names.unknown == {"JAEGER_COLLECTOR": [Location("service-ports.env", 1, 1)]}


def _variable(service: str | None, name: str, value: str) -> VariableObservation:
    return VariableObservation(service, name, Location("api.env", 1, 1), "dotenv", value=value)


def test_a_local_url_names_its_service_by_the_prefix_else_the_product() -> None:
    """CELERY_BROKER_URL=redis://localhost reaches the service named CELERY_BROKER, when
    there is one, else the product redis (the plan's only redis service); without a plan,
    the product unless a source defines a service of that name (token-engine)."""
    result = SourceResult(file="api.env", kind="dotenv")
    result.ports = [_port("CELERY_BROKER", 6379), _port("TOKEN_ENGINE", 8081)]
    result.variables = [
        _variable("api", "CELERY_BROKER_URL", "redis://localhost:6379/0"),
        _variable("api", "TOKEN_ENGINE_URL", "postgres://localhost:8081"),
    ]
    two_caches = build_names([result], PLAN)
    assert two_caches.key("CELERY_BROKER") is None
    assert two_caches.unknown == {
        "CELERY_BROKER": [Location("service-ports.env", 1, 1)],
        "api": [Location("api.env", 1, 1)],  # not in PLAN
    }
    assert two_caches.key("TOKEN_ENGINE") == "token-engine"
    one_cache = load_text("services:\n  cache: {ports: {redis: 6379}}\n")
    assert build_names([result], one_cache).key("CELERY_BROKER") == "cache"
    defined = SourceResult(file="compose.yaml", kind="compose")
    defined.services = [ServiceObservation("token-engine", Location("compose.yaml", 2, 3), "x")]
    sources = build_names([result, defined], None)
    broker = sources.key("CELERY_BROKER")
    assert broker is not None and broker == sources.key("redis")
    assert sources.show(broker) == "redis"
    assert sources.key("TOKEN_ENGINE") == sources.key("token-engine") == "tokenengine"


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("http-2", "http_2", True),
        ("http_2", "http2", True),
        ("HTTP 2", "http-2", True),
        ("admin_api", "Admin-API", True),
        ("http", "https", False),
        ("http-2", "http", False),
    ],
)
def test_port_key(a: str, b: str, same: bool) -> None:
    assert (port_key(a) == port_key(b)) is same


COMPOSE, ENV, DOC = "compose.yaml", "compose.yaml", "README.md"


def _hosts_results() -> list[SourceResult]:
    """A compose project (payments on the networks default and app, a service named with
    dots, a network alias `pay`), its api's environment reaching hosts, and a diagram."""
    compose = SourceResult(file=COMPOSE, kind="compose")
    compose.services = [
        ServiceObservation("api", Location(COMPOSE, 2, 3), "compose"),
        ServiceObservation(
            "payments", Location(COMPOSE, 9, 3), "compose", networks=("default", "app"),
            aliases=("pay",),
        ),
        ServiceObservation("legacy.billing", Location(COMPOSE, 14, 3), "compose"),
    ]  # fmt: skip
    compose.ports = [PortObservation("payments", 8081, Location(COMPOSE, 11, 10), "compose")]
    hosts = [
        "payments.default.svc.cluster.local",
        "payments.svc.cluster.local",
        "payments.default",
        "payments.app",  # the compose network app, though a public top-level domain
        "pay",
        "legacy.billing",
        "o1.ingest.sentry.io",
        "api.stripe.com",
        "smtp.gmail.com",
        "gateway.docker.internal",
        "LOCALHOST",
    ]
    compose.dependencies = [
        DependencyObservation("api", host, Location(ENV, 4 + i, 7), "compose", "env-url")
        for i, host in enumerate(hosts)
    ]
    compose.ports.append(
        PortObservation("smtp.gmail.com", 587, Location(ENV, 12, 28), "compose", variable="SMTP")
    )
    doc = SourceResult(file=DOC, kind="markdown")
    doc.ports = [PortObservation("Backend", 8000, Location(DOC, 3, 17), "mermaid")]
    doc.dependencies = [
        DependencyObservation("Backend", "Stripe API", Location(DOC, 4, 16), "mermaid", "mermaid-edge"),
        DependencyObservation("Backend", "Payments", Location(DOC, 5, 16), "mermaid", "mermaid-edge"),
        DependencyObservation("Backend", "Stripe", Location(DOC, 6, 16), "mermaid", "mermaid-edge"),
    ]  # fmt: skip
    return [compose, doc]


def _keys(names: Names) -> dict[str, str | None]:
    return {
        name: names.key(name)
        for name in (
            "payments.default.svc.cluster.local", "payments.svc.cluster.local",
            "payments.default", "payments.app", "pay", "legacy.billing", "o1.ingest.sentry.io",
            "api.stripe.com", "smtp.gmail.com", "gateway.docker.internal", "LOCALHOST", "Stripe API",
            "Stripe", "Payments", "Backend",
        )
    }  # fmt: skip


EXTERNAL = {
    "api.stripe.com": [Location(ENV, 11, 7)],
    "o1.ingest.sentry.io": [Location(ENV, 10, 7)],
    "smtp.gmail.com": [Location(ENV, 12, 7), Location(ENV, 12, 28)],
}


def test_hosts_and_diagram_names_among_sources() -> None:
    """Cluster names and network-qualified names are the service; the host machine and
    public DNS names are no service (the latter recorded as external); a diagram's name
    nothing else gives and that states no port is recorded apart, not made a service."""
    names = build_names(_hosts_results(), None)
    payments = names.key("payments")
    assert payments is not None and names.show(payments) == "payments"
    assert _keys(names) == {
        "payments.default.svc.cluster.local": payments,
        "payments.svc.cluster.local": payments,
        "payments.default": payments,
        "payments.app": payments,
        "pay": payments,
        "legacy.billing": "legacybilling",  # a compose service's own name
        "o1.ingest.sentry.io": None,
        "api.stripe.com": None,
        "smtp.gmail.com": None,
        "gateway.docker.internal": None,
        "LOCALHOST": None,
        "Stripe API": None,
        "Stripe": None,
        "Payments": payments,
        "Backend": "backend",
    }
    assert names.external == EXTERNAL
    assert names.diagram_only == {
        "Stripe": [Location(DOC, 6, 16)],
        "Stripe API": [Location(DOC, 4, 16)],
    }
    assert (names.unknown, names.similar, names.ambiguous) == ({}, {}, {})


HOSTS_PLAN = load_text(
    """services:
  api: {ports: {http: 8080}}
  payments: {ports: {http: 8081}}
  stripe: {aliases: [api.stripe.com]}
"""
)


def test_hosts_against_a_plan() -> None:
    """A plan's alias names an external host; a diagram's name the plan does not know is
    reported (unknown), once."""
    names = build_names(_hosts_results(), HOSTS_PLAN)
    keys = _keys(names)
    assert keys == {
        "payments.default.svc.cluster.local": "payments",
        "payments.svc.cluster.local": "payments",
        "payments.default": "payments",
        "payments.app": "payments",
        "pay": "payments",
        "legacy.billing": None,
        "o1.ingest.sentry.io": None,
        "api.stripe.com": "stripe",
        "smtp.gmail.com": None,
        "gateway.docker.internal": None,
        "LOCALHOST": None,
        "Stripe API": None,
        "Stripe": "stripe",
        "Payments": "payments",
        "Backend": None,
    }
    assert names.external == {k: v for k, v in EXTERNAL.items() if k != "api.stripe.com"}
    assert names.unknown == {
        "Backend": [Location(DOC, 3, 17), Location(DOC, 4, 16), Location(DOC, 5, 16),
                    Location(DOC, 6, 16)],
        "Stripe API": [Location(DOC, 4, 16)],
        "legacy.billing": [Location(ENV, 9, 7), Location(COMPOSE, 14, 3)],
    }  # fmt: skip
    assert names.diagram_only == {}


def _said(findings: list[Finding]) -> list[tuple[str, str, list[str], str]]:
    return [(f.rule, str(f.level), [str(at) for at in f.locations], f.message) for f in findings]


def test_left_out_names_and_external_hosts_are_said_once_each() -> None:
    """Without a plan, each name only a diagram gives (PP208) and each external host
    (PP215) is one info finding at every place that names it; against a plan, a host the
    plan names by an alias (api.stripe.com of stripe) is no external host, and a diagram's
    name the plan does not know is unknown (a warning)."""
    external = "api depends on external host {}: not a service of this system"
    left_out = "{} is named only by a diagram, states no port and matches no service: left out"
    assert _said(reconcile(_hosts_results())) == [
        ("PP208", "info", ["README.md:4:16"], left_out.format("Stripe API")),
        ("PP208", "info", ["README.md:6:16"], left_out.format("Stripe")),
        ("PP215", "info", ["compose.yaml:10:7"], external.format("o1.ingest.sentry.io")),
        ("PP215", "info", ["compose.yaml:11:7"], external.format("api.stripe.com")),
        ("PP215", "info", ["compose.yaml:12:7", "compose.yaml:12:28"],
         external.format("smtp.gmail.com")),
    ]  # fmt: skip
    against_plan = reconcile(_hosts_results(), HOSTS_PLAN)
    assert [f for f in _said(against_plan) if f[1] == "info"] == [
        ("PP215", "info", ["compose.yaml:10:7"], external.format("o1.ingest.sentry.io")),
        ("PP215", "info", ["compose.yaml:12:7", "compose.yaml:12:28"],
         external.format("smtp.gmail.com")),
    ]  # fmt: skip
    assert {f.message.split(" ")[0] for f in against_plan if f.rule == "PP208"} == {
        "Backend",
        "Stripe",
        "legacy.billing",
    }


HOSTS_TREE = RESOURCES / "markdown" / "external-hosts"


def test_hosts_tree_reconciles_and_imports_without_external_services(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """compose (api reaching payments by its cluster name, ledger by its compose network,
    Sentry, Stripe and Gmail, a billing service on the host machine) and a README whose
    diagram draws Stripe and Sentry: what is left out is said once each, at info level
    (the exit code stays 0), and import invents no service."""
    readme, compose = HOSTS_TREE / "README.md", HOSTS_TREE / "compose.yaml"
    found = reconcile_paths([HOSTS_TREE]).findings
    assert [(f.rule, f.level, [str(at) for at in f.locations], f.message) for f in found] == [
        (
            "PP208", Level.INFO, [f"{readme}:11:11"],
            "Stripe API is named only by a diagram, states no port and matches no service: "
            "left out",
        ),
        (
            "PP208", Level.INFO, [f"{readme}:12:11"],
            "Sentry is named only by a diagram, states no port and matches no service: "
            "left out",
        ),
        (
            "PP215", Level.INFO, [f"{compose}:9:19"],
            "api depends on external host o1.ingest.sentry.io: not a service of this system",
        ),
        (
            "PP215", Level.INFO, [f"{compose}:10:19"],
            "api depends on external host api.stripe.com: not a service of this system",
        ),
        (
            "PP215", Level.INFO, [f"{compose}:11:20", f"{compose}:11:35"],
            "api depends on external host smtp.gmail.com: not a service of this system",
        ),
    ]  # fmt: skip
    assert main(["reconcile", str(HOSTS_TREE)]) == 0
    # BILLING_URL on host.docker.internal names no service reconcile holds others to: a
    # variable never becomes one (nor in import)
    assert capsys.readouterr().out.endswith("2 files, 3 services: 0 errors, 0 warnings, 5 infos\n")
    assert main(["reconcile", str(HOSTS_TREE), "--fail-on", "info"]) == 1
    capsys.readouterr()
    plan = yaml.safe_load(import_paths([HOSTS_TREE]).text)
    assert list(plan["services"]) == ["api", "payments", "ledger"]
    assert plan["services"]["api"]["depends_on"] == ["payments", "ledger"]


def _env(file: str, text: str) -> SourceResult:
    from portplan.sources.dotenv import owner_of, parse_dotenv_source

    return parse_dotenv_source(text, file, owner_of(file))


SYSTEM_PORTS = """\
RTP_PORT=10000
RTP_PORT_10001_PORT=10001
BROKER_PORT=5672
BROKER_MANAGEMENT_PORT=15672
KAFKA_1_PORT=9093
KAFKA_PORT=9092
"""


def test_a_port_name_after_a_service_prefix_is_that_services_port_without_a_plan() -> None:
    """Generate's `<SERVICE>_<PORT NAME>_PORT`: a prefix no source defines is a port of the
    service its leading words name when the rest ends in a number (RTP_PORT_10001) or is a
    port name a source gives that service (broker.env: BROKER_MANAGEMENT_PORT); a bare
    number is a name of its own (KAFKA_1 stays apart from KAFKA)."""
    alone = build_names([_env("service-ports.env", SYSTEM_PORTS)], None)
    spelled = ("RTP", "RTP_PORT_10001", "BROKER", "BROKER_MANAGEMENT", "KAFKA_1", "KAFKA")
    assert {name: alone.key(name) for name in spelled} == {
        "RTP": "rtp",
        "RTP_PORT_10001": "rtp",
        "BROKER": "broker",
        "BROKER_MANAGEMENT": "brokermanagement",
        "KAFKA_1": "kafka1",
        "KAFKA": "kafka",
    }
    owned = _env("broker.env", "BROKER_PORT=5672\nBROKER_MANAGEMENT_PORT=15672\n")
    both = build_names([_env("service-ports.env", SYSTEM_PORTS), owned], None)
    assert both.key("BROKER_MANAGEMENT") == "broker"


def test_a_prefix_the_sources_define_wins_over_the_product_it_maps_to() -> None:
    """DB_URL=tcp://localhost:5432 is read as postgres (DB is a database's prefix); when no
    service bears that name and one bears the prefix's (a plan's or a compose file's db),
    it is db."""
    web = _env("web.env", "DB_URL=tcp://localhost:5432\nCACHE_URL=redis://localhost:6379\n")
    plan = load_text(
        "services:\n  web: {}\n  db: {ports: {tcp: 5432}}\n  cache: {ports: {tcp: 6379}}\n"
    )
    names = build_names([web], plan)
    assert (names.key("postgres"), names.key("redis"), names.unknown) == ("db", "cache", {})
    defined = SourceResult(file="compose.yaml", kind="compose")
    defined.services = [ServiceObservation("db", Location("compose.yaml", 2, 3), "compose")]
    assert build_names([web, defined], None).key("postgres") == "db"
    assert build_names([web], None).key("postgres") == "postgres"  # no source defines db


@pytest.mark.parametrize(
    ("folder", "name", "planned"),
    [
        ("billing", "app", "billing-app"),
        ("BILLING", "App", "billing-app"),  # letter case aside
        ("postgresq", "l", "postgres"),  # postgresql: a synonym of the plan's postgres
    ],
)
def test_a_compose_name_is_the_plans_project_name(
    tmp_path: Path, folder: str, name: str, planned: str
) -> None:
    """Against a plan, a compose project's `name` is the plan's `<project>-<name>`, by the
    keys of both parts (as the joined name's key would be), whatever else the plan holds."""
    from portplan.sources import scan

    (tmp_path / folder).mkdir()
    (tmp_path / folder / "compose.yaml").write_text(
        f'services:\n  {name}:\n    image: example/x:1\n    ports: ["127.0.0.1:5432:5432"]\n'
    )
    plan = load_text(
        "services:\n"
        "  billing-app: {exposure: local, ports: {postgresql: 5432}}\n"
        "  postgres: {exposure: local, ports: {postgresql: 5432}, host: other}\n"
        "  zzz: {ports: {http: 8080}}\n"
        "hosts: {default: {}, other: {}}\n"
    )
    findings = reconcile(scan([tmp_path]), plan)
    missing = {f.message.split()[0] for f in findings if f.rule == "PP203"}
    assert [f.rule for f in findings if f.rule not in ("PP203", "PP214")] == []
    assert missing == {"billing-app", "postgres", "zzz"} - {planned}
