"""Generated files read back by reconcile against the same registry give zero findings."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from portplan.cli import main
from portplan.findings import Level
from portplan.model import Exposure
from portplan.plan.check import check
from portplan.plan.loader import load, load_text
from portplan.reconcile.core import reconcile_paths
from portplan.render import Options, render
from portplan.sources import scan
from portplan.sources.base import SourceResult
from tests.render.conftest import ROOT

# What the examples do not have: a port name with a digit (http-2) or an underscore, a
# service whose name starts with another's, other ports than the first under a name that is
# not a port kind (TOKEN_ENGINE_WORKER_ADMIN_2_PORT), a database and a broker the readers
# name after their URL scheme (postgres, rabbitmq) but the plan calls db and broker, a URL
# whose password is a reference, secrets, a container port other than the published one
# (target) and a port kept off the host (published: false).
PLAN = """\
system: edge-cases
services:
  token-engine:
    category: engine
    ports:
      http: 8081
      http-2: 8082
      admin_api: {port: 8083, exposure: internal}
    depends_on: [db, broker]
    environment:
      DATABASE_URL: postgresql://app:hunter2@localhost:5432/app
      SECRET_KEY_BASE: literal-value
      JWT_SECRET: ${JWT_SECRET}
  token-engine-worker:
    category: worker
    ports:
      grpc: 50061
      admin-2: {port: 8090, target: 80, exposure: local, health: {path: /ready}}
      transport: {port: 9300, published: false}
    depends_on: [token-engine]
  db:
    category: infrastructure
    ports: {postgresql: 5432}
  broker:
    category: infrastructure
    ports: {amqp: 5672, management: {port: 15672, kind: http}}
"""


def _round_trip(plan: Path, out: Path) -> list[tuple[str, str]]:
    assert main(["generate", "-f", str(plan), "--out", str(out)]) == 0
    result = reconcile_paths([out], load(plan))
    return [(f.rule, f.message) for f in result.findings]


def test_examples_round_trip_with_no_findings(example: Path, tmp_path: Path) -> None:
    assert _round_trip(example, tmp_path) == []


def _valid(plan: Path) -> bool:
    """A plan `check` finds no error in (two services on one host port are no plan to
    generate from)."""
    return all(f.level < Level.ERROR for f in check(load(plan)).findings)


IMPORTED = sorted((ROOT / "tests/resources/import").glob("*.expected.yaml"))


@pytest.mark.parametrize("plan", IMPORTED, ids=[p.name.split(".")[0] for p in IMPORTED])
def test_imported_plans_round_trip_with_no_findings(plan: Path, tmp_path: Path) -> None:
    """Any valid plan, not only the examples: the plans import writes (unpublished ports,
    two databases of one product, ports named `port`, a container port behind another)."""
    if not _valid(plan):
        assert plan.name in INVALID
        return
    assert plan.name not in INVALID
    targets = ["env", "compose", "docs"]
    assert main(["generate", *targets, "-f", str(plan), "--out", str(tmp_path)]) == 0
    assert [(f.rule, f.message) for f in reconcile_paths([tmp_path], load(plan)).findings] == []


# Two databases of one product kept off the host, one on another container port than its
# own, a service that shares a number with another inside its container.
UNPUBLISHED = """\
system: unpublished
services:
  api:
    ports: {http: 8080}
    depends_on: [auth-db, search-db, cache, broker]
  worker:
    ports: {http: {port: 8080, published: false}}
    depends_on: [auth-db]
  auth-db:
    ports: {postgresql: {port: 5432, published: false}}
  search-db:
    ports: {postgresql: {port: 5433, target: 5432, published: false}}
  cache:
    ports: {redis: {port: 6379, published: false}}
  broker:
    ports: {amqp: 5672}
"""


def test_unpublished_ports_round_trip_by_name_on_the_container_network(tmp_path: Path) -> None:
    """An unpublished port is a comment of service-ports.env (no host port) and a URL to
    it names the service on the container network, at the port it has there."""
    plan = tmp_path / "portplan.yaml"
    plan.write_text(UNPUBLISHED)
    assert _round_trip(plan, tmp_path / "out") == []
    assert (
        (tmp_path / "out/env/api.env")
        .read_text()
        .endswith(
            "# api\nHTTP_PORT=8080\nAUTH_DB_URL=postgresql://auth-db:5432\n"
            "SEARCH_DB_URL=postgresql://search-db:5433\nCACHE_URL=redis://cache:6379\n"
            "BROKER_URL=amqp://localhost:5672\n"
        )
    )
    system = (tmp_path / "out/service-ports.env").read_text()
    assert "API_HTTP_PORT=8080\n# WORKER_HTTP_PORT=8080 (not published: " in system
    ports = (tmp_path / "out/PORTS.md").read_text()
    assert "| api | 8080 | Active |" in ports  # reads back as the same ports: no finding
    assert "| worker | 8080 (not published) | Active |" in ports


# Imported plans that keep a conflict for review (check reports it): nothing to generate.
INVALID = frozenset({"conflicts.expected.yaml"})  # monorepo: a host per project, valid


def test_edge_cases_round_trip_with_no_findings(tmp_path: Path) -> None:
    plan = tmp_path / "portplan.yaml"
    plan.write_text(PLAN)
    assert _round_trip(plan, tmp_path / "out") == []


def test_reconcile_command_exits_0_on_generated_files(
    example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "-f", str(example), "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["reconcile", str(tmp_path), "-f", str(example)]) == 0
    assert capsys.readouterr().out.endswith(": 0 errors, 0 warnings\n")


def _read_back(tmp_path: Path, targets: list[str]) -> list[SourceResult]:
    for artifact in render(load_text(PLAN), targets, Options()):
        path = tmp_path / artifact.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(artifact.text)
    return scan([tmp_path])


def test_port_names_of_the_docs_table_read_back(tmp_path: Path) -> None:
    [result] = _read_back(tmp_path, ["docs"])
    table = [p for p in result.ports if p.source == "markdown-table"]
    assert [(p.service, p.number, p.port_name) for p in table] == [
        ("token-engine", 8081, "http"),
        ("token-engine", 8082, "http-2"),
        ("token-engine", 8083, "admin_api"),
        ("token-engine-worker", 50061, "grpc"),
        ("token-engine-worker", 8090, "admin-2"),
        ("token-engine-worker", 9300, "transport"),
        ("db", 5432, "postgresql"),
        ("broker", 5672, "amqp"),
        ("broker", 15672, "management"),
        ("token-engine-worker", 8090, "admin-2"),  # the health table's endpoint URL
    ]


def test_references_read_back_as_no_secret(tmp_path: Path) -> None:
    results = _read_back(tmp_path, ["env", "docs"])
    secrets = ("DATABASE_URL", "SECRET_KEY_BASE", "JWT_SECRET")
    found = [
        (Path(v.location.file).name, v.name, v.secret)
        for r in results
        for v in r.variables
        if v.name in secrets
    ]
    assert sorted(found) == [
        ("PORTS.md", "DATABASE_URL", False),
        ("PORTS.md", "JWT_SECRET", False),
        ("PORTS.md", "SECRET_KEY_BASE", False),
        ("token-engine.env", "DATABASE_URL", False),
        ("token-engine.env", "JWT_SECRET", False),
        ("token-engine.env", "SECRET_KEY_BASE", False),
    ]
    texts = "".join(p.read_text() for p in tmp_path.rglob("*.*"))
    assert "hunter2" not in texts and "literal-value" not in texts


# A public service with internal ports (generate writes `web-internal`, a ClusterIP Service
# beside the LoadBalancer `web`), two `kind: metrics` ports of one service and two HTTP
# ports with a health check each.
PUBLIC = """\
system: shop
services:
  web:
    exposure: public
    ports:
      http: {port: 8080, health: {path: /health}}
      admin: {port: 9000, kind: http, exposure: internal, health: {path: /ready}}
      metrics: {port: 9100, kind: metrics, exposure: internal}
      metrics-jvm: {port: 9101, kind: metrics, exposure: internal}
  report:
    ports: {http: 8200}
    depends_on: [web]
"""


def test_a_public_service_with_internal_ports_round_trips(tmp_path: Path) -> None:
    plan = tmp_path / "portplan.yaml"
    plan.write_text(PUBLIC)
    assert _round_trip(plan, tmp_path / "out") == []
    [result] = scan([tmp_path / "out/kubernetes/web.yaml"])
    assert [(s.service, s.aliases) for s in result.services] == [
        ("web", ()),  # the LoadBalancer
        ("web", ("web-internal",)),  # the ClusterIP Service of the internal ports
        ("web", ()),  # the Deployment patch
    ]
    public = [p for p in result.ports if p.exposure is Exposure.PUBLIC]
    assert [(p.number, p.port_name, p.published) for p in public] == [(8080, "http", False)]


def test_two_metrics_ports_of_a_service_read_back_by_name(tmp_path: Path) -> None:
    plan = tmp_path / "portplan.yaml"
    plan.write_text(PUBLIC)
    assert main(["generate", "docs", "-f", str(plan), "--out", str(tmp_path / "out")]) == 0
    assert reconcile_paths([tmp_path / "out"], load(plan)).findings == []
    [result] = scan([tmp_path / "out/PORTS.md"])
    tables = [p for p in result.ports if p.source == "markdown-table"]
    endpoints = [p for p in tables if p.location.line > 30]  # health and metrics tables
    assert [(p.service, p.number, p.port_name) for p in endpoints] == [
        ("web", 8080, "http"),
        ("web", 9000, "admin"),
        ("web", 9100, "metrics"),
        ("web", 9101, "metrics-jvm"),
    ]


# What import writes for compose ports without names (`port`, `port-9229`), names with
# digits, dashes and underscores, a name equal to a kind, udp ports, a port bound to the
# loopback (exposure: local), and a db and a cache whose ports are of kind tcp (the readers
# name DB_URL's target postgres and CACHE_URL's redis unless a service bears the prefix).
UNNAMED = """\
system: unnamed
services:
  web:
    exposure: public
    ports:
      http: 8088
      port-9229: 9229
      http-2: 8089
      admin_api_3: 8090
    depends_on: [db, cache]
  db:
    exposure: local
    ports: {port: {port: 5433, address: 127.0.0.1}}
  cache:
    ports: {tcp: 6379}
  rtp:
    exposure: public
    ports:
      port: "10000/udp"
      port-10001: "10001/udp"
      port-2: 9090
  mailhog:
    ports: {port: 8025, port-1025: 1025}
"""


def _shape(plan: Path) -> dict[str, list[tuple[int, str, str]]]:
    """Each service's ports by number, protocol and exposure."""
    topology = load(plan)
    return {
        name: sorted((p.number, p.protocol, str(p.exposure)) for p in service.ports)
        for name, service in topology.services.items()
    }


def test_unnamed_udp_and_local_ports_round_trip_and_import_back(tmp_path: Path) -> None:
    plan, out, back = tmp_path / "portplan.yaml", tmp_path / "out", tmp_path / "back.yaml"
    plan.write_text(UNNAMED)
    targets = ["env", "compose", "docs"]
    assert main(["generate", *targets, "-f", str(plan), "--out", str(out)]) == 0
    assert [(f.rule, f.message) for f in reconcile_paths([out], load(plan)).findings] == []
    system = (out / "service-ports.env").read_text()
    assert "RTP_UDP_PORT=10000\nRTP_PORT_10001_UDP_PORT=10001\nRTP_PORT_2_PORT=9090\n" in system
    assert main(["import", str(out), "-o", str(back)]) == 0
    assert _shape(back) == _shape(plan)
    assert [str(s.exposure) for s in load(back).services.values()] == [
        str(s.exposure) for s in load(plan).services.values()
    ]


# retail-style: every service listens on 8080 in its own container and the UI reaches the
# others by name (`http://cart:8080`); a service with a udp and a tcp port of one number.
SHARED_NUMBERS = """\
system: shop
services:
  ui:
    ports: {http: {port: 8080, published: false}}
    depends_on: [cart, catalog]
  cart:
    ports: {http: {port: 8080, published: false}}
  catalog:
    ports: {http: {port: 8080, published: false}}
  voice:
    ports: {rtp: "8443/udp", http: 8443}
"""


def test_one_number_in_several_places_round_trips(tmp_path: Path) -> None:
    """A URL to another service by its name is that service's port on its own address,
    not a second use of the UI's own 8080; udp and tcp 8443 are two ports."""
    plan = tmp_path / "portplan.yaml"
    plan.write_text(SHARED_NUMBERS)
    assert _round_trip(plan, tmp_path / "out") == []
    assert (
        (tmp_path / "out/env/ui.env")
        .read_text()
        .endswith(
            "# ui\nHTTP_PORT=8080\nCART_URL=http://cart:8080\nCATALOG_URL=http://catalog:8080\n"
        )
    )
    system = (tmp_path / "out/service-ports.env").read_text()
    assert "VOICE_UDP_PORT=8443\nVOICE_HTTP_PORT=8443\n" in system


# Two compose projects, each started on its own host, with an app on 8080 each.
TWO_HOSTS = """\
system: sites
hosts:
  blue: {}
  green: {description: the other deployment}
services:
  blue-app:
    host: blue
    exposure: public
    ports: {http: 8080}
    depends_on: [blue-db]
  blue-db:
    host: blue
    ports: {postgresql: {port: 5432, published: false}}
  green-app:
    host: green
    exposure: public
    ports: {http: 8080}
"""


def test_each_host_gets_its_own_compose_file_and_service_ports(tmp_path: Path) -> None:
    """A compose override and a service-ports.env per host (`hosts/<host>/`): the two apps
    on 8080 are in two projects, never one file's port published twice."""
    plan = tmp_path / "portplan.yaml"
    plan.write_text(TWO_HOSTS)
    out = tmp_path / "out"
    assert _round_trip(plan, out) == []
    assert sorted(str(p.relative_to(out / "hosts")) for p in (out / "hosts").rglob("*")) == [
        "blue",
        "blue/compose.ports.yaml",
        "blue/service-ports.env",
        "green",
        "green/compose.ports.yaml",
        "green/service-ports.env",
    ]
    assert not (out / "compose.ports.yaml").exists()
    assert not (out / "service-ports.env").exists()
    blue = yaml.safe_load((out / "hosts/blue/compose.ports.yaml").read_text())
    green = yaml.safe_load((out / "hosts/green/compose.ports.yaml").read_text())
    assert blue["services"] == {
        "blue-app": {"ports": ["8080:8080"]},
        "blue-db": {"expose": ["5432"]},
    }
    assert green["services"] == {"green-app": {"ports": ["8080:8080"]}}
    assert (
        (out / "hosts/green/service-ports.env")
        .read_text()
        .endswith("\n# services\nGREEN_APP_HTTP_PORT=8080\n")
    )


def test_a_container_port_published_twice_is_one_variable_of_its_env_file() -> None:
    """`8088:80` and `[::]:80:80` (a `docker ps` row of an IPv4 and an IPv6 binding): the
    program listens once, on 80, under the variable of the port published on 80 (which
    holds 80 in service-ports.env too); a declared `env:` goes first."""
    plan = (
        "services:\n  proxy:\n    exposure: public\n    ports:\n"
        "      port: {port: 8088, target: 80}\n      port-80: {port: 80, address: '::'}\n"
        "      admin: {port: 9001, target: 9000}\n      admin-2: {port: 9002, target: 9000, env: ADMIN_PORT}\n"
    )
    [_, proxy] = render(load_text(plan), ["env"], Options())
    assert proxy.text.endswith("# proxy\nPROXY_PORT_80_PORT=80\nADMIN_PORT=9000\n")


# Ports whose variables name no service of the plan (`env:` MYSQL_PORT of db,
# MAILER_SMTP_PORT of mail): the plan says who reads them.
DECLARED_VARIABLES = """\
system: shop
services:
  db:
    ports: {mysql: {port: 3306, env: MYSQL_PORT}}
  mail:
    ports: {smtp: {port: 1025, env: MAILER_SMTP_PORT}}
  web:
    ports: {http: 8080}
    depends_on: [db, mail]
"""


def test_a_port_variable_the_plan_declares_reads_back_as_its_service(tmp_path: Path) -> None:
    """`MYSQL_PORT=3306` of env/db.env and PORTS.md is db's port (no unknown `MYSQL`)."""
    plan = tmp_path / "portplan.yaml"
    plan.write_text(DECLARED_VARIABLES)
    assert _round_trip(plan, tmp_path / "out") == []
    assert (tmp_path / "out/env/db.env").read_text().endswith("# db\nMYSQL_PORT=3306\n")


# A sidecar named after its app (`api-sidecar` beside `api`, as Dapr's `<app>-dapr`)
# depends on it: its env file reaches `API_URL=http://localhost:8080`.
SIDECAR = """\
system: shop
services:
  api:
    ports: {http: 8080}
  api-sidecar:
    depends_on: [api]
"""


def test_a_url_to_the_service_a_sidecar_is_named_after_round_trips(tmp_path: Path) -> None:
    """API_URL in api-sidecar's env file is a reference to api, not the sidecar's own
    address (no second claim of 8080)."""
    plan = tmp_path / "portplan.yaml"
    plan.write_text(SIDECAR)
    assert _round_trip(plan, tmp_path / "out") == []
    sidecar = (tmp_path / "out/env/api-sidecar.env").read_text()
    assert sidecar.endswith("# api-sidecar\nAPI_URL=http://localhost:8080\n")


# Two compose projects that each run a database read through one variable (`env:
# DB_PORT` of both): the docs and env files give it to the one whose number it holds.
SHARED_VARIABLE = """\
system: stacks
hosts: {basic: {}, queue: {}}
services:
  basic-db:
    host: basic
    ports: {postgresql: {port: 5432, published: false, env: DB_PORT}}
  basic-app:
    host: basic
    ports: {http: 5678}
    depends_on: [basic-db]
  queue-db:
    host: queue
    ports: {postgresql: {port: 5433, published: false, env: DB_PORT}}
  queue-app:
    host: queue
    ports: {http: 5679}
    depends_on: [queue-db]
"""


def test_a_variable_several_services_declare_reads_back_as_the_one_of_its_number(
    tmp_path: Path,
) -> None:
    """`DB_PORT=5432` under basic-db in PORTS.md, `DB_PORT=5433` under queue-db: each is the
    port of the service that plans its number (no unknown `DB`, no drift)."""
    plan = tmp_path / "portplan.yaml"
    plan.write_text(SHARED_VARIABLE)
    assert _round_trip(plan, tmp_path / "out") == []
    docs = (tmp_path / "out/PORTS.md").read_text()
    assert "DB_PORT=5432\n" in docs and "DB_PORT=5433\n" in docs


def test_a_service_named_with_a_port_kind_reads_back_as_itself(tmp_path: Path) -> None:
    """store-admin's first port is STORE_ADMIN_PORT, which alone reads as store's admin port;
    the plan has store-admin and no store, so it is store-admin's (no unknown `STORE`)."""
    plan = tmp_path / "portplan.yaml"
    plan.write_text(
        "services:\n  store-admin:\n    ports: {web: 8081}\n"
        "  store-front:\n    ports: {web: 8080}\n    depends_on: [store-admin]\n"
    )
    assert _round_trip(plan, tmp_path / "out") == []
    assert "\nSTORE_ADMIN_PORT=8081\n" in (tmp_path / "out/service-ports.env").read_text()


# Containers of one compose project (an image, or a port only a container has) reach each
# other by name on their network; a program on this machine (no image, or run by `up`)
# and whoever calls one reach a published port on localhost.
CONTAINERS = """\
system: search
services:
  search-1:
    image: opensearch:2
    ports: {http: 9200}
  search-2:
    image: opensearch:2
    ports: {http: {port: 9200, published: false}}
    depends_on: [search-1]
  api:
    ports: {http: {port: 8080, target: 80}}
    depends_on: [db, search-1, indexer]
  db:
    image: postgres:16
    ports: {postgresql: {port: 5433, target: 5432}}
  indexer:
    image: search/indexer:1
    ports: {http: 7000}
    run: {command: indexer --port 7000}
  cli:
    ports: {http: 3000}
    depends_on: [api]
"""


def test_a_container_reaches_the_containers_of_its_host_by_name(tmp_path: Path) -> None:
    """search-2's URL to search-1 is `search-1:9200` on their network, not `localhost:9200`
    (inside search-2, its own 9200: PP213 "port 9200 is given to HTTP_PORT and
    SEARCH_1_URL" before); api (a container: its port has a `target`) reaches db at
    the port db listens on in its container; indexer, which `up` runs, and api from cli
    (no image: a program on this machine) stay on localhost."""
    plan = tmp_path / "portplan.yaml"
    plan.write_text(CONTAINERS)
    assert _round_trip(plan, tmp_path / "out") == []
    env = {
        name: (tmp_path / f"out/env/{name}.env").read_text() for name in ("search-2", "api", "cli")
    }
    assert env["search-2"].endswith(
        "# search-2\nHTTP_PORT=9200\nSEARCH_1_URL=http://search-1:9200\n"
    )
    assert env["api"].endswith(
        "# api\nHTTP_PORT=80\nDB_URL=postgresql://db:5432\nSEARCH_1_URL=http://search-1:9200\n"
        "INDEXER_URL=http://localhost:7000\n"
    )
    assert env["cli"].endswith("# cli\nHTTP_PORT=3000\nAPI_URL=http://localhost:8080\n")


# Two MySQL services (the app's and a test copy): a URL by scheme alone would name neither.
TWO_MYSQL = """\
system: csm
services:
  app:
    image: example/app:2
    ports: {http: {port: 1377, target: 1337}}
    depends_on: [db]
  db:
    image: mariadb:11
    ports: {mysql: 3306}
  db-test:
    image: mariadb:11
    ports: {mysql: {port: 3307, target: 3306}}
"""


def test_a_url_by_the_name_its_variable_has_reaches_that_service(tmp_path: Path) -> None:
    """`DB_URL=mysql://db:3306` in env/app.env and PORTS.md reaches db (the prefix DB as
    written is the host), not a service `mysql` (PP208: the plan has two mysql ports)."""
    plan = tmp_path / "portplan.yaml"
    plan.write_text(TWO_MYSQL)
    assert _round_trip(plan, tmp_path / "out") == []
    assert (
        (tmp_path / "out/env/app.env")
        .read_text()
        .endswith("# app\nHTTP_PORT=1337\nDB_URL=mysql://db:3306\n")
    )
