"""import: the exact plan written from real trees, and that plan held to the sources.

The trees under tests/resources/import/ are real compose, .env, Kubernetes and Markdown
files: `conflicts` plants one disagreement of each kind, `shop` agrees with itself,
`broken` holds a compose file that cannot be parsed, `container-port` container ports and
bindings (`8088:80` with `PORT: 80`, two loopback addresses, an unset host port),
`monorepo` three compose projects that each define an `app` and a `db`, `extends` a
compose project (`name: acme`) whose services extend one base with an `expose`d port, and a
second project with a `db` of its own.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from portplan import rules
from portplan.cli import main
from portplan.findings import Finding
from portplan.importer.core import NothingToImport, import_paths
from portplan.importer.products import product_of
from portplan.importer.text import scalar
from portplan.importer.vote import Claim, describe, vote
from portplan.model import Location
from portplan.plan import loader
from portplan.reconcile.core import reconcile_paths
from portplan.sources import scan
from tests.conftest import RESOURCES, shared_dir

TREES = RESOURCES / "import"
NAMES = ("conflicts", "shop", "broken", "container-port", "monorepo", "extends")
# Reconcile's findings of a disagreement between sources (or with the plan).
DISAGREEMENTS = {"PP201", "PP202", "PP204", "PP205", "PP206", "PP212", "PP213"}
_PLACE = re.compile(r"([^\s(),;]+:\d+)")


@pytest.fixture
def trees(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in tests/resources/import, so that the plans name the files relatively."""
    monkeypatch.chdir(TREES)
    return TREES


@pytest.mark.parametrize("name", NAMES)
def test_the_plan_written_is_exactly_the_expected_one(trees: Path, name: str) -> None:
    expected = (trees / f"{name}.expected.yaml").read_text()
    assert import_paths([name]).text == expected


def test_every_planted_conflict_is_marked(trees: Path) -> None:
    text = import_paths(["conflicts"]).text
    marked = [line.strip() for line in text.splitlines() if "# conflict:" in line]
    assert marked == [
        "- {ports: 8004-8006}  # conflict: used by audit-log (conflicts/docs/ARCHITECTURE.md:10)",
        "port: 8080  # conflict: 8080 is also given to scheduler (conflicts/docs/OPERATIONS.md:9)",
        "exposure: internal  # conflict: conflicts/docs/ARCHITECTURE.md:8 says internal (2 sources, 5 lines); conflicts/compose.yaml:19, conflicts/compose.yaml:22 say local",
        "port: 8081  # conflict: conflicts/compose.yaml:7 says 8081 (4 sources, 9 lines); conflicts/.env:3 says 8082",
        "health: {path: /health}  # conflict: conflicts/compose.yaml:14 says /health (2 sources); conflicts/docs/OPERATIONS.md:17 says /healthz",
        "- redis  # conflict: conflicts/compose.yaml:25 (env-url) says so; conflicts/docs/ARCHITECTURE.md:19 (mermaid-edge) leaves it out",
        "exposure: local  # conflict: conflicts/compose.yaml:32 says local; conflicts/docs/ARCHITECTURE.md:9 says internal",
        # Two files against two: the documents, whose other values the others confirm,
        # against the .env that gives token-engine 8082: reconcile's agreed value.
        "http: 8091  # conflict: conflicts/docs/ARCHITECTURE.md:9 says 8091 (2 sources); conflicts/.env:4, conflicts/compose.yaml:32 say 8090 (2 sources)",
        "http: 8005  # conflict: inside reserved 8004-8006 (conflicts/docs/ARCHITECTURE.md:12)",
        # scheduler, which only a document names, leaves 8080 to the configured gateway.
        "# conflict: conflicts/docs/OPERATIONS.md:9 gives scheduler port 8080, which "
        "gateway.http (conflicts/.env:2) is configured on; only documents name scheduler, so "
        "the plan leaves it out",
    ]
    assert import_paths(["conflicts"]).conflicts == 10


def test_secret_values_are_never_written(trees: Path) -> None:
    text = import_paths(["conflicts"]).text
    assert "planted" not in text
    assert (
        "# note: JWT_SECRET holds a secret (conflicts/compose.yaml:8); its value is not imported"
        in text
    )
    assert "DATABASE_URL holds a secret (conflicts/compose.yaml:24)" in text


def test_a_secret_in_a_file_that_cannot_be_parsed_stays_out(tmp_path: Path) -> None:
    """The .env cannot be parsed, so its compose project would not start: neither is
    imported from, each says why in the header, and the secret appears nowhere."""
    (tmp_path / ".env").write_text('API_TOKEN="planted-secret\nGATEWAY_PORT=8080\n')
    (tmp_path / "compose.yaml").write_text('services:\n  gateway:\n    ports: ["8080:8080"]\n')
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "PORTS.md").write_text(
        "| Service | Port |\n|---|---|\n| ledger | 8090 |\n"
    )
    text = import_paths([tmp_path]).text
    assert "planted" not in text
    lines = text.splitlines()
    assert lines[1].startswith("# from 1 file. ")
    assert lines[5:8] == [
        f"# not read: {tmp_path}/.env:1:11 (could not be read or parsed)",
        f"# not read: {tmp_path}/compose.yaml (it needs {tmp_path}/.env:1:11, which could not "
        "be read or parsed)",
        "version: 1",
    ]
    assert lines[9:] == ["services:", "  ledger:", "    ports:", "      port: 8090"]


def _plans() -> list[tuple[str, list[str]]]:
    return [(name, [str(TREES / name)]) for name in NAMES] + [
        ("seeds", [str(shared_dir() / "seeds")])
    ]


@pytest.mark.parametrize(("name", "paths"), _plans())
def test_the_plan_loads_and_checks(
    name: str, paths: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "portplan.yaml"
    plan.write_text(import_paths(paths).text)
    topology = loader.load(plan)
    assert topology.services
    assert main(["check", "-f", str(plan)]) in (0, 1)
    captured = capsys.readouterr()
    hosts = 3 if name == "monorepo" else 2 if name == "extends" else 1  # a host per project
    assert f"services on {hosts} host{'s' if hosts > 1 else ''}: " in captured.out
    assert captured.err == ""


@pytest.mark.parametrize(("name", "paths"), _plans())
def test_reconcile_against_the_plan_reports_only_marked_conflicts(
    name: str, paths: list[str], tmp_path: Path
) -> None:
    """Every disagreement reconcile finds against the imported plan is marked: the place it
    reports (the line a source states another value on) is named in a conflict comment, or
    it is a line of the plan that carries one."""
    plan = tmp_path / "portplan.yaml"
    text = import_paths(paths).text
    plan.write_text(text)
    lines = text.splitlines()
    marked = {place for line in lines if "# conflict:" in line for place in _PLACE.findall(line)}
    found = reconcile_paths(paths, loader.load(plan)).findings
    checked = 0
    for finding in (f for f in found if f.rule in DISAGREEMENTS):
        where = finding.locations[0]
        if where.file == str(plan):
            assert "# conflict:" in lines[where.line - 1], finding.message
        else:
            assert str(Location(where.file, where.line)) in marked, finding.message
        checked += 1
    assert checked == len([f for f in found if f.rule in DISAGREEMENTS]) > 0 or name in (
        "shop",
        "broken",
        "container-port",
        "extends",
        "monorepo",  # its projects are on hosts of their own: nothing is claimed twice
    )


@pytest.mark.parametrize(
    ("name", "clashes"),
    [
        # OPERATIONS.md's scheduler on gateway's 8080 is a conflict comment: only documents
        # name scheduler (portplan.importer.documented).
        ("conflicts", []),
        ("shop", []),
        ("broken", []),
        ("container-port", []),
        # Two projects publish 8080, each on its own host (a host per compose project); the
        # containers' own ports (expose) clash with nothing.
        ("monorepo", []),
        ("extends", []),
    ],
)
def test_check_of_the_plan_finds_only_host_ports_bound_twice(
    trees: Path, name: str, clashes: list[str]
) -> None:
    topology = loader.load_text(import_paths([name]).text)
    found = rules.run(topology, rules.Context(), [rules.get("PP101")])
    assert [f.message for f in found] == clashes


def _against_its_plan(name: str, folder: Path) -> list[Finding]:
    """Reconcile the tree `name` against the plan imported from it."""
    plan = folder / "portplan.yaml"
    plan.write_text(import_paths([name]).text)
    return reconcile_paths([name], loader.load(plan)).findings


def test_reconcile_against_the_plan_finds_the_planted_conflicts(
    trees: Path, tmp_path: Path
) -> None:
    found = _against_its_plan("conflicts", tmp_path)
    facts = ("service", "value", "expected", "port", "services", "dependency")
    assert sorted(
        (f.rule, *(f.facts[k] for k in facts if k in f.facts))
        for f in found
        if f.rule in DISAGREEMENTS
    ) == [
        ("PP201", "reporting", 8090, 8091),
        ("PP201", "token-engine", 8082, 8081),
        ("PP202", 8080, ["gateway", "scheduler"]),
        ("PP204", "audit-log", 8005),
        ("PP205", "token-engine", "redis"),
    ]


def test_a_clean_tree_has_no_conflict(trees: Path) -> None:
    imported = import_paths(["shop"])
    assert "# conflict:" not in imported.text
    assert imported.summary() == "5 services, 6 ports, 0 conflicts"


def test_nothing_to_import(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("# Notes\n\nNo ports here.\n")
    with pytest.raises(NothingToImport) as caught:
        import_paths([tmp_path])
    assert str(caught.value) == (
        f"nothing to import: no compose, .env, Kubernetes or Markdown file in {tmp_path} "
        "names a service"
    )


# --- voting -----------------------------------------------------------------------------


def _claims(*specs: tuple[int, str, int, str]) -> list[Claim[int]]:
    return [Claim(value, Location(file, line), kind) for value, file, line, kind in specs]


@pytest.mark.parametrize(
    ("claims", "winner"),
    [
        # more files win
        (
            _claims(
                (1, "a.md", 1, "markdown"), (1, "b.md", 1, "markdown"), (2, "c.yaml", 1, "compose")
            ),
            1,
        ),
        # then more lines
        (
            _claims(
                (1, "a.md", 1, "markdown"), (1, "a.md", 5, "markdown"), (2, "c.yaml", 1, "compose")
            ),
            1,
        ),
        # then the plan-like file: compose > kubernetes > dotenv > markdown
        (_claims((1, "a.md", 1, "markdown"), (2, "z.yaml", 9, "compose")), 2),
        (_claims((1, "a.env", 1, "dotenv"), (2, "k.yaml", 9, "kubernetes")), 2),
        (_claims((1, "a.md", 1, "markdown"), (2, "b.env", 9, "dotenv")), 2),
        # then the earliest statement
        (_claims((2, "b.md", 1, "markdown"), (1, "a.md", 7, "markdown")), 1),
        # a line stating a value twice is one statement
        (
            _claims(
                (1, "a.md", 3, "markdown"),
                (1, "a.md", 3, "markdown"),
                (2, "b.md", 1, "markdown"),
                (2, "b.md", 2, "markdown"),
            ),
            2,
        ),
    ],
)
def test_vote(claims: list[Claim[int]], winner: int) -> None:
    assert vote(claims)[0].value == winner


def test_between_as_many_files_the_trusted_ones_win() -> None:
    claims = _claims((1, "a.md", 1, "markdown"), (2, "compose.yaml", 9, "compose"))
    assert vote(claims)[0].value == 2  # compose first
    assert vote(claims, {"a.md": 0.75, "compose.yaml": 0.25})[0].value == 1


def test_describe_names_every_side() -> None:
    sides = vote(
        _claims(
            (8011, "docs/ARCH.md", 42, "markdown"),
            (8011, "docs/PORTS.md", 3, "markdown"),
            (8012, "compose.yaml", 17, "compose"),
            (8013, "a.md", 1, "markdown"),
            (8013, "a.md", 2, "markdown"),
        )
    )
    assert describe(sides[0], sides[1:]) == (
        "conflict: docs/ARCH.md:42 says 8011 (2 sources); a.md:1, a.md:2 say 8013; "
        "compose.yaml:17 says 8012"
    )


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("token-engine", "token-engine"),
        ("Token Engine", "Token Engine"),
        ("/health", "/health"),
        ("127.0.0.1", '"127.0.0.1"'),
        ("8080", '"8080"'),
        ("yes", '"yes"'),
        ("Null", '"Null"'),
        ("a: b", '"a: b"'),
        ("postgres:16", "postgres:16"),
        ("registry:5000/team/api:1.2@sha256:ab12", "registry:5000/team/api:1.2@sha256:ab12"),
        ("key:", '"key:"'),
        ("a:b c:", '"a:b c:"'),
        ("x # y", '"x # y"'),
        ("[list]", '"[list]"'),
        ("-dash", '"-dash"'),
        ("trailing ", '"trailing "'),
        ("Ã©tat\u0085\u2028", '"Ã©tat\\u0085\\u2028"'),
        ('quote "q"', '"quote \\"q\\""'),
    ],
)
def test_scalars_read_back_as_written(text: str, written: str) -> None:
    assert scalar(text) == written
    assert yaml.safe_load(f"key: [{written}]") == {"key": [text]}
    topology = loader.load_text(f"services:\n  x:\n    aliases: [{written}]\n")
    assert topology.services["x"].aliases == (text,)


# --- the command ------------------------------------------------------------------------


def test_cli_writes_to_stdout(trees: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "shop"]) == 0
    captured = capsys.readouterr()
    assert captured.out == (trees / "shop.expected.yaml").read_text()
    assert captured.err == ""


def test_cli_writes_a_file_and_refuses_to_overwrite_it(
    trees: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "portplan.yaml"
    assert main(["import", "shop", "-o", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}: 5 services, 6 ports, 0 conflicts\n"
    assert out.read_text() == (trees / "shop.expected.yaml").read_text()
    out.write_text("# mine\n")
    assert main(["import", "conflicts", "-o", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"portplan: error: {out} exists; use --force to overwrite it\n"
    assert out.read_text() == "# mine\n"
    assert main(["import", "conflicts", "-o", str(out), "--force"]) == 0
    assert out.read_text() == (trees / "conflicts.expected.yaml").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["portplan.yaml"]


def test_cli_counts_one_of_each_in_the_singular(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One file, one service, one port, one conflict: no "1 services"."""
    files = {
        "compose.yaml": "services:\n  web: {ports: ['8080:80']}\n",
        "README.md": "| Service | Port |\n|---|---|\n| web | 8081 |\n",
    }
    _tree(tmp_path / "src", files)
    out = tmp_path / "portplan.yaml"
    assert main(["import", str(tmp_path / "src"), "-o", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}: 1 service, 1 port, 1 conflict\n"
    assert out.read_text().splitlines()[1].startswith("# from 2 files. ")
    (tmp_path / "src" / "README.md").unlink()
    assert main(["import", str(tmp_path / "src"), "-o", str(out), "--force"]) == 0
    assert capsys.readouterr().out == f"wrote {out}: 1 service, 1 port, 0 conflicts\n"
    assert out.read_text().splitlines()[1].startswith("# from 1 file. ")


def test_cli_reports_unreadable_files_and_goes_on(
    trees: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "broken", "missing"]) == 0
    captured = capsys.readouterr()
    assert captured.err == (
        "portplan: warning: could not read broken/compose.yaml:4:1: expected ',' or ']' in "
        "the list opened at line 3, column 12\n"
        "portplan: warning: could not read missing: No such file or directory\n"
    )
    assert "  billing:\n" in captured.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["empty"],
            "nothing to import: no compose, .env, Kubernetes or Markdown file in empty names a service",
        ),
        (
            ["shop", "-o", "no/such/folder/portplan.yaml"],
            "no/such/folder/portplan.yaml: cannot write: No such file or directory; nothing written",
        ),
        (["shop", "-o", "shop"], "shop exists; use --force to overwrite it"),
        (["shop", "-o", "shop", "--force"], "shop: is a folder; refusing to replace it"),
    ],
)
def test_cli_unusable_requests(
    tmp_path: Path,
    args: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "shop").symlink_to(TREES / "shop")
    monkeypatch.chdir(tmp_path)
    assert main(["import", *args]) == 2
    assert capsys.readouterr().err == f"portplan: error: {message}\n"


def test_the_docs_page_shows_real_output(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = (Path(__file__).parents[1] / "docs" / "import.md").read_text()
    monkeypatch.chdir(TREES / "conflicts")
    out = tmp_path / "portplan.yaml"
    assert main(["import", "compose.yaml", ".env", "k8s", "docs", "-o", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}: 8 services, 8 ports, 10 conflicts\n"
    example = page.split("```yaml\n", 1)[1].split("```", 1)[0]
    written = out.read_text().splitlines()
    for line in example.splitlines():
        if "# conflict:" in line:
            assert line in written


def test_unnamed_ports_are_named_by_product_health_check_or_not_at_all(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n"
        "  postgres-db: {image: postgres:16, ports: ['5433:5432']}\n"
        "  postgres-exporter: {image: exporter, ports: ['9187:9187']}\n"
        "  elasticsearch: {image: elasticsearch:8, ports: ['9200:9200', '9300:9300']}\n"
        "  app:\n"
        "    image: app\n"
        "    ports: ['8080:8080']\n"
        "    healthcheck: {test: [CMD, curl, -f, 'http://localhost:8080/ready']}\n"
        "  worker: {image: worker, ports: ['7000:7000', '7001:7001']}\n"
    )
    topology = loader.load_text(import_paths([tmp_path]).text)
    ports = {
        name: [(p.name, p.number, p.kind) for p in service.ports]
        for name, service in topology.services.items()
    }
    assert ports == {
        "postgres-db": [("postgresql", 5433, "postgresql")],
        "postgres-exporter": [("port", 9187, "port")],
        "elasticsearch": [("http", 9200, "http"), ("transport", 9300, "transport")],
        "app": [("http", 8080, "http")],
        "worker": [("port", 7000, "port"), ("port-7001", 7001, "port-7001")],
    }
    health = topology.services["app"].ports[0].health
    assert health is not None and health.path == "/ready"


def test_products_by_image_before_name(tmp_path: Path) -> None:
    """A service is the product its image names (whatever its own name), else the one its
    name names; the image is written, a second image is a conflict."""
    (tmp_path / "compose.yaml").write_text(
        "services:\n"
        "  db: {image: 'postgis/postgis:16-3.4', ports: ['5432:5432']}\n"
        "  cache: {image: 'bitnami/redis:7.2', ports: ['6380:6379']}\n"
        "  search:\n"
        "    image: docker.elastic.co/elasticsearch/elasticsearch:8.13.0\n"
        "    ports: ['9200:9200', '9300:9300']\n"
        "  broker: {image: 'registry:5000/confluentinc/cp-kafka:7.6@sha256:ab12', ports: ['9092:9092']}\n"
        "  mongo2: {ports: ['27017:27017']}\n"
        "  redis-ui: {image: 'rediscommander/redis-commander', ports: ['8081:8081']}\n"
    )
    (tmp_path / "db.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: db}\nspec:\n  template:\n"
        "    spec:\n      containers: [{name: db, image: 'postgres:15'}]\n"
    )
    imported = import_paths([tmp_path])
    topology = loader.load_text(imported.text)
    found = {
        name: (service.image, [(p.name, p.number) for p in service.ports])
        for name, service in topology.services.items()
    }
    assert found == {
        "db": ("postgis/postgis:16-3.4", [("postgresql", 5432)]),
        "cache": ("bitnami/redis:7.2", [("redis", 6380)]),
        "search": (
            "docker.elastic.co/elasticsearch/elasticsearch:8.13.0",
            [("http", 9200), ("transport", 9300)],
        ),
        "broker": ("registry:5000/confluentinc/cp-kafka:7.6@sha256:ab12", [("kafka", 9092)]),
        "mongo2": (None, [("mongodb", 27017)]),  # by its name
        "redis-ui": ("rediscommander/redis-commander", [("port", 8081)]),
    }
    assert (
        f"    image: postgis/postgis:16-3.4  # conflict: {tmp_path}/compose.yaml:2 says "
        f"postgis/postgis:16-3.4; {tmp_path}/db.yaml:3 says postgres:15"
        in imported.text.splitlines()
    )


@pytest.mark.parametrize(
    ("image", "name", "product"),
    [
        ("postgres:16", "db", "postgres"),
        ("ghcr.io/acme/postgres", "x", "postgres"),
        ("localhost:5000/redis", "x", "redis"),
        ("redis/redis-stack-server:latest", "x", "redis"),
        ("nats@sha256:0123", "x", "nats"),
        ("rabbitmq:3-management", "x", "rabbitmq"),
        ("mongo", "x", "mongo"),
        ("mysql/mysql-server:8.0", "x", "mysql"),
        ("prom/prometheus", "x", "prometheus"),
        ("grafana/grafana-oss", "x", "grafana"),
        ("acme/api:1.0", "postgres-db", "postgres"),  # not a product's image: by name
        (None, "redis2", "redis"),
        (None, "Kafka Broker", "kafka"),
        (None, "postgres-exporter", None),
        ("acme/postgres-exporter", "pg", None),
    ],
)
def test_product_of(image: str | None, name: str, product: str | None) -> None:
    assert product_of(image, name) == product


def test_health_goes_on_the_port_the_probe_calls(tmp_path: Path) -> None:
    (tmp_path / "api.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  template:\n"
        "    spec:\n      containers:\n        - name: api\n          image: acme/api:1\n"
        "          ports: [{name: http, containerPort: 8080}, {name: admin, containerPort: 9000}]\n"
        "          livenessProbe: {httpGet: {path: /healthz, port: admin}}\n"
    )
    lines = import_paths([tmp_path]).text.splitlines()
    assert lines[lines.index("    ports:") :] == [
        "    ports:",
        "      admin:",
        "        port: 9000",
        "        published: false",  # a container port no hostPort publishes
        "        health: {path: /healthz}",
        "      http:",
        "        port: 8080",
        "        published: false",
    ]


RECONCILE = RESOURCES / "reconcile"


def _ports(text: str) -> dict[str, list[tuple[str, int]]]:
    topology = loader.load_text(text)
    return {
        name: [(p.name, p.number) for p in service.ports]
        for name, service in topology.services.items()
    }


def test_a_grpc_port_stays_beside_the_port_stated_without_a_kind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(RECONCILE / "two-kinds")
    text = import_paths(["."]).text
    assert _ports(text) == {"backend": [("port", 8000), ("grpc", 50051)]}
    assert (
        "      port: 8000  # conflict: ./ARCH.md:3 says 8000 (2 sources); ./README.md:3 says 8001"
        in text.splitlines()
    )


def test_a_file_that_could_not_be_read_is_not_imported_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A required variable that is not set (`${DB_URL:?...}`): compose would not start the
    project, but what the file says is still read: only what needs the variable is left out;
    a file that cannot be parsed is not imported from (a line in the header says so)."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "docker-compose.yml").write_text(
        "services:\n  app:\n    image: nginx\n    ports: ['8080:80']\n"
        "    environment:\n      DB: ${DB_URL:?DB_URL must be set}\n"
    )
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "compose.yaml").write_text(
        "services:\n  api:\n    ports: ['${API_PORT:?set it}:80']\n"
    )
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "compose.yaml").write_text("services:\n  web:\n    ports: [8080:80\n")
    assert main(["import", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert captured.err.startswith(f"portplan: warning: could not read {tmp_path}/web/compose.yaml")
    assert _ports(captured.out) == {"app": [("port", 8080)], "api": []}
    assert [line for line in captured.out.splitlines() if line.startswith("# not read:")] == [
        f"# not read: {tmp_path}/web/compose.yaml:4:1 (could not be read or parsed)",
    ]


def test_container_ports_and_bindings(trees: Path) -> None:
    ports = _ports(import_paths(["container-port"]).text)
    assert ports == {
        "proxy": [("port", 80)],
        "web": [("port", 8088)],  # PORT: 80 is the container side of 8088:80
        "db": [("postgresql", 5432)],  # postgres://app:...@db:5432 reaches db
        "api": [("port", 3000)],
        "admin": [("port", 9000)],
        "gateway": [("port", 8443)],
    }
    topology = loader.load_text(import_paths(["container-port"]).text)
    sides = {
        name: [(p.number, p.container_port, p.published) for p in service.ports]
        for name, service in topology.services.items()
    }
    assert sides == {
        "proxy": [(80, 80, True)],
        "web": [(8088, 80, True)],
        "db": [(5432, 5432, False)],  # compose defines db and publishes nothing of it
        "api": [(3000, 3000, True)],
        "admin": [(9000, 9000, False)],  # "${ADMIN_PORT}:9000": a random host port
        "gateway": [(8443, 8443, True)],
    }
    api, gateway = topology.services["api"], topology.services["gateway"]
    assert (api.exposure.value, api.ports[0].address) == ("local", None)  # both loopback
    assert (gateway.exposure.value, gateway.ports[0].address) == ("internal", None)
    assert [d.name for d in topology.services["web"].depends_on] == ["db"]


def test_one_name_in_several_compose_projects_is_a_service_each(trees: Path) -> None:
    ports = _ports(import_paths(["monorepo"]).text)
    assert ports == {
        "auth-app": [("port", 8080)],
        "auth-db": [("postgresql", 5432)],
        "billing-app": [("port", 8081)],
        "billing-db": [("postgresql", 5433)],
        "cache": [("redis", 6379)],
        "adminer": [("port", 8080)],
        "search-app": [("port", 8080)],
        "elasticsearch": [("http", 9200), ("transport", 9300)],
        "search-db": [("postgresql", 5432)],
    }


def test_reconcile_knows_a_compose_projects_services_by_their_planned_names(
    trees: Path, tmp_path: Path
) -> None:
    """`app` of services/billing is the plan's billing-app: no name goes unmatched. Two
    projects publish host port 8080, each on its own host in the plan (no claim twice);
    search-app's 8080 and search-db's 5432 are the containers' own (`expose`)."""
    found = _against_its_plan("monorepo", tmp_path)
    assert [(f.rule, f.message) for f in found] == []
    assert "host: billing" in (tmp_path / "portplan.yaml").read_text()


def _tree(root: Path, files: dict[str, str]) -> Path:
    """`root` with `files` (path -> text) written under it."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_projects_are_directories(tmp_path: Path) -> None:
    """Compose files of one directory are one project (compose names the project after
    the directory): their `web` is one service. Two projects named alike take their
    parents' names too."""
    files = {
        "x/api/compose.yaml": "services:\n  app: {ports: ['8080:8080']}\n",
        "y/api/compose.yaml": "services:\n  app: {ports: ['8081:8080']}\n",
        "z/compose.yaml": "services:\n  web: {ports: ['80:80']}\n",
        "z/compose.prod.yaml": "services:\n  web: {ports: ['443:443']}\n",
    }
    text = import_paths([_tree(tmp_path, files)]).text
    assert _ports(text) == {
        "x-api-app": [("port", 8080)],
        "y-api-app": [("port", 8081)],
        "web": [("port", 443)],  # one service, whose two files disagree
    }
    assert (
        f"      port: 443  # conflict: {tmp_path}/z/compose.prod.yaml:2 says 443; "
        f"{tmp_path}/z/compose.yaml:2 says 80" in text.splitlines()
    )
    (tmp_path / "portplan.yaml").write_text(text)
    found = reconcile_paths([tmp_path], loader.load(tmp_path / "portplan.yaml")).findings
    assert [(f.rule, f.message) for f in found] == [
        ("PP201", "web: port is 80 here but 443 in portplan.yaml:34 (and 1 more)")
    ]  # x/api's app is the plan's x-api-app: no name unknown to the plan
    assert "hosts:  # one per compose project, each started on its own" in text


def test_a_file_left_unread_on_purpose_says_why(tmp_path: Path) -> None:
    (tmp_path / "chart" / "templates").mkdir(parents=True)
    (tmp_path / "chart" / "Chart.yaml").write_text("apiVersion: v2\nname: shop\nversion: 1.0.0\n")
    (tmp_path / "chart" / "templates" / "svc.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: x: 1{{ if .Values.a }}x: 2{{ end }}\n"
    )  # rendered leniently (sources/helm_templates.py), it is still no YAML
    (tmp_path / "api.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: api}\nspec:\n  ports: [{port: 8080}]\n"
    )
    lines = import_paths([tmp_path]).text.splitlines()
    assert [line for line in lines if line.startswith("# not read:")] == [
        f"# not read: {tmp_path}/chart/templates/svc.yaml:4:13 (a Go template ({{{{ }}}}), not "
        "YAML; render it (helm template) to reconcile it)"
    ]


def test_ports_inherited_by_extends_stay_in_their_containers(trees: Path, tmp_path: Path) -> None:
    """api and worker extend one base that `expose`s 3000; only api publishes it. Each
    project's db is its container's own 5432. Nothing is claimed twice, against the plan
    or without one."""
    topology = loader.load_text(import_paths(["extends"]).text)
    sides = {
        name: [(p.name, p.number, p.target, p.published) for p in service.ports]
        for name, service in topology.services.items()
    }
    assert sides == {
        "analytics-db": [("postgresql", 5432, None, False)],
        "metabase": [("port", 3001, 3000, True)],
        "api": [("port", 3000, None, True)],
        "worker": [("port", 3000, None, False)],
        "acme-db": [("postgresql", 5432, None, False)],  # the project's `name: acme`
        "web": [("port", 8088, 80, True)],
    }
    assert [f.rule for f in reconcile_paths(["extends"]).findings] == []
    assert [f.rule for f in _against_its_plan("extends", tmp_path)] == []


def test_a_compose_project_is_named_by_its_name_key(tmp_path: Path) -> None:
    """`name: payments` names the project instead of its directory, unless another
    project goes by that name too; reconcile -f knows the services by those names."""
    files = {
        "billing/compose.yaml": "name: payments\nservices:\n  app: {ports: ['8081:8080']}\n",
        "auth/compose.yaml": "services:\n  app: {ports: ['8080:8080']}\n",
        "x/compose.yaml": "name: shop\nservices:\n  db: {expose: ['5432']}\n",
        "y/compose.yaml": "name: shop\nservices:\n  db: {expose: ['5432']}\n",
    }
    text = import_paths([_tree(tmp_path, files)]).text
    assert sorted(_ports(text)) == ["auth-app", "payments-app", "x-db", "y-db"]
    assert (
        f"    # note: this is the app of the compose project in {tmp_path}/billing "
        f"({tmp_path}/billing/compose.yaml:3); the compose project auth has its own app: "
        "auth-app" in text.splitlines()
    )
    (tmp_path / "portplan.yaml").write_text(text)
    found = reconcile_paths([tmp_path], loader.load(tmp_path / "portplan.yaml")).findings
    assert [(f.rule, f.message) for f in found] == []


def test_another_container_port_is_a_conflict_beside_the_target(tmp_path: Path) -> None:
    """Two files map 8088 to 80, one to 8080: the target most files state, the other
    marked beside it; reconcile -f reports only that one."""
    files = {
        "compose.yaml": "services:\n  web:\n    ports: ['8088:80']\n",
        "compose.prod.yaml": "services:\n  web:\n    ports: ['8088:8080']\n",
        "web.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n"
        "  ports: [{port: 8088, targetPort: 80}]\n",
    }
    text = import_paths([_tree(tmp_path, files)]).text
    assert text.splitlines()[-3:] == [
        "      port:",
        "        port: 8088",
        f"        target: 80  # conflict: {tmp_path}/compose.yaml:3 says 80 (2 sources); "
        f"{tmp_path}/compose.prod.yaml:3 says 8080",
    ]
    (tmp_path / "portplan.yaml").write_text(text)
    found = reconcile_paths([tmp_path], loader.load(tmp_path / "portplan.yaml")).findings
    assert [(f.rule, f.message) for f in found] == [
        ("PP201", "web: container port is 8080 here but 80 in portplan.yaml:14")  # target:
    ]


def test_hosts_are_no_aliases_and_external_hosts_no_services(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A host an URL names a service by (`payments.default.svc.cluster.local`,
    `ledger.backend`) is no alias of it; an external host (a public DNS name) is no service,
    only a note under the service that depends on it; the host machine is neither, and a
    variable reaching it (BILLING_URL) names no service."""
    monkeypatch.chdir(RESOURCES / "markdown")
    text = import_paths(["external-hosts"]).text
    external = "depends on external host {}: not a service of this system"
    assert (
        text.split("version: 1\n", 1)[1]
        == f"""
services:
  api:
    # note: {external.format("o1.ingest.sentry.io (external-hosts/compose.yaml:9)")}
    # note: {external.format("api.stripe.com (external-hosts/compose.yaml:10)")}
    # note: {external.format("smtp.gmail.com (external-hosts/compose.yaml:11)")}
    image: acme/api
    exposure: public
    ports:
      port: 8080
    depends_on:
      - payments
      - ledger

  payments:
    image: acme/payments
    exposure: public
    ports:
      http: 8081

  ledger:
    image: acme/ledger
    exposure: internal
    ports:
      http:
        port: 9000
        published: false
"""
    )


def test_an_example_file_gives_way_to_its_real_file(tmp_path: Path) -> None:
    files = {
        "compose.yaml": "services:\n  web:\n    ports: ['${WEB_PORT:-8080}:80']\n",
        ".env": "WEB_PORT=8088\n",
        ".env.example": "WEB_PORT=8080\n",
    }
    imported = import_paths([_tree(tmp_path, files)])
    assert _ports(imported.text) == {"web": [("port", 8088)]}
    assert imported.conflicts == 0


_API = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  template:\n"
    "    metadata: {labels: {app: api}}\n    spec:\n"
    "      containers: [{name: api, image: x, ports: [{name: http, containerPort: 8080}]}]\n"
    "---\napiVersion: v1\nkind: Service\nmetadata: {name: api}\nspec:\n  selector: {app: api}\n"
    "  ports: [{name: http, port: 80, targetPort: http}]\n"
)


def test_a_service_port_is_the_port_and_its_container_port_the_target(tmp_path: Path) -> None:
    """Clients reach api:80; the container listens on 8080."""
    text = import_paths([_tree(tmp_path, {"api.yaml": _API})]).text
    assert text.splitlines()[-4:] == [
        "      http:",
        "        port: 80",
        "        target: 8080",
        "        published: false",
    ]
    (tmp_path / "portplan.yaml").write_text(text)
    assert reconcile_paths([tmp_path], loader.load(tmp_path / "portplan.yaml")).findings == []
    (tmp_path / "portplan.yaml").write_text(
        "version: 1\nservices:\n  api:\n    ports:\n      http: {port: 8080, published: false}\n"
    )
    found = reconcile_paths([tmp_path], loader.load(tmp_path / "portplan.yaml")).findings
    assert [(f.rule, str(f.locations[0]), f.message) for f in found] == [
        (
            "PP201",
            f"{tmp_path}/api.yaml:15:30",
            "api: http port is 80 here but 8080 in portplan.yaml:5 (and 1 more)",
        )
    ]


def test_a_node_port_service_is_public_and_its_node_port_a_note(tmp_path: Path) -> None:
    payments = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: payments}\nspec:\n  template:\n"
        "    metadata: {labels: {app: payments}}\n    spec:\n"
        "      containers: [{name: payments, image: acme/payments, ports: [{containerPort: 8082}]}]\n"
        "---\napiVersion: v1\nkind: Service\nmetadata: {name: payments}\nspec:\n"
        "  type: NodePort\n  selector: {app: payments}\n"
        "  ports: [{port: 8081, targetPort: 8082, nodePort: 30081}]\n"
    )
    imported = import_paths([_tree(tmp_path, {"payments.yaml": payments})])
    assert imported.text.splitlines()[-7:] == [
        "    image: acme/payments",
        "    exposure: public",
        "    ports:",
        "      port:",
        f"        port: 8081  # note: node port 30081 on every node ({tmp_path}/payments.yaml:16)",
        "        target: 8082",
        "        published: false",  # the Service's port is on its cluster IP, not a node's
    ]
    assert imported.conflicts == 0
    (tmp_path / "portplan.yaml").write_text(imported.text)
    assert reconcile_paths([tmp_path], loader.load(tmp_path / "portplan.yaml")).findings == []


_REPLICAS = """services:
  web:
    image: acme/web
    deploy: {replicas: 3}
    ports:
      - {name: http, target: 80, published: "8000-8002"}
  dbg:
    image: busybox
    profiles: [debug]
    ports: ["8001:8001"]
"""


def test_a_published_range_is_a_port_per_host_port(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`8000-8002:80` for three replicas: 8001 is web's as much as 8000, so check sees
    dbg's 8001 clash with it, as reconcile does (PP212)."""
    imported = import_paths([_tree(tmp_path, {"compose.yaml": _REPLICAS})])
    clash = (
        f"conflict: host port 8001 is published twice ({tmp_path}/compose.yaml:6, "
        f"{tmp_path}/compose.yaml:10)"
    )
    assert imported.text.splitlines()[6:] == [
        "",
        "services:",
        "  web:",
        "    image: acme/web",
        "    exposure: public",
        "    ports:",
        "      http:",
        "        port: 8000",
        "        target: 80",
        "      http-2:",
        f"        port: 8001  # conflict: 8001 is also given to dbg ({tmp_path}/compose.yaml:10)"
        f"  # {clash}",
        "        target: 80",
        "      http-3:",
        "        port: 8002",
        "        target: 80",
        "",
        "  dbg:",
        "    image: busybox",
        "    exposure: public",
        "    ports:",
        f"      port: 8001  # conflict: 8001 is also given to web ({tmp_path}/compose.yaml:6)"
        f"  # {clash}",
    ]
    plan = tmp_path / "portplan.yaml"
    plan.write_text(imported.text)
    assert main(["check", "-f", str(plan), "--format", "json"]) == 1
    found = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["rule"], f["message"]) for f in found] == [
        ("PP101", "port 8001/tcp on host default is bound by both web.http-2 and dbg.port")
    ]


def test_one_name_in_two_namespaces_is_a_service_each(tmp_path: Path) -> None:
    """The api Services of staging (targetPort 8080) and prod (9090): two services, each
    with its own target and no conflict; reconcile holds each namespace to its own."""
    namespaces = RESOURCES / "k8s" / "namespaces"
    imported = import_paths([namespaces])
    at = f"{namespaces}/"
    assert imported.text.splitlines()[7:] == [
        "services:",
        "  prod-api:",
        f"    # note: this is the api of the Kubernetes namespace prod ({at}prod.yaml:3); "
        "the namespace staging has its own api: staging-api",
        "    exposure: internal",
        "    ports:",
        "      http:",
        "        port: 80",
        "        target: 9090",
        "        published: false",
        "",
        "  staging-api:",
        f"    # note: this is the api of the Kubernetes namespace staging ({at}staging.yaml:3); "
        "the namespace prod has its own api: prod-api",
        "    exposure: internal",
        "    ports:",
        "      http:",
        "        port: 80",
        "        target: 8080",
        "        published: false",
    ]
    assert imported.conflicts == 0
    (tmp_path / "portplan.yaml").write_text(imported.text)
    assert reconcile_paths([namespaces], loader.load(tmp_path / "portplan.yaml")).findings == []


def test_a_secret_of_an_env_file_is_noted_once_under_its_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """common.env is read alone and as web's env_file: one note, under web."""
    files = {
        "compose.yaml": "services:\n  web:\n    image: x\n    env_file: [./common.env]\n",
        "common.env": "export API_KEY=abc\n",
    }
    monkeypatch.chdir(_tree(tmp_path, files))
    text = import_paths(["."]).text
    assert [line for line in text.splitlines() if "API_KEY" in line] == [
        "    # note: API_KEY holds a secret (./common.env:1); its value is not imported"
    ]
    assert text.splitlines()[-4:] == [
        "services:",
        "  web:",
        "    # note: API_KEY holds a secret (./common.env:1); its value is not imported",
        "    image: x",
    ]


def test_sibling_deployments_get_a_host_each_and_check_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """n8n-style: three folders, one deployment each, the same app on 5678: each project
    on its own host, so `check` finds no host port bound twice."""
    app = "  app:\n    image: n8nio/n8n\n    ports: ['5678:5678']\n"
    db = "  postgres:\n    image: postgres:16\n"
    files = {
        "caddy/docker-compose.yml": "services:\n" + app + "  caddy:\n    ports: ['8443:443']\n",
        "withPostgres/docker-compose.yml": "services:\n" + app + db,
        "withWorker/docker-compose.yml": "services:\n" + app + db,
    }
    plan = tmp_path / "portplan.yaml"
    plan.write_text(import_paths([_tree(tmp_path / "src", files)]).text)
    text = plan.read_text()
    assert "hosts:  # one per compose project, each started on its own\n  caddy: {}\n" in text
    topology = loader.load(plan)
    assert {name: s.host for name, s in topology.services.items()} == {
        "caddy-app": "caddy",
        "caddy": "caddy",
        "withpostgres-app": "withpostgres",
        "withpostgres-postgres": "withpostgres",
        "withworker-app": "withworker",
        "withworker-postgres": "withworker",
    }
    assert main(["check", "-f", str(plan)]) == 0
    assert capsys.readouterr().out.endswith(
        "4 ports in 6 services on 3 hosts: 0 errors, 0 warnings\n"
    )


def test_urls_back_and_forth_are_no_start_order_cycle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """penpot-style: the frontend reaches the exporter by URL and the exporter the
    frontend: both call each other at run time; the plan's depends_on (a start order)
    keeps the first and notes the other, so `check` finds no dependency cycle."""
    compose = (
        "services:\n"
        "  frontend:\n    image: web\n    ports: ['9001:80']\n"
        "    environment:\n      EXPORTER_URI: http://exporter:6061\n"
        "  exporter:\n    image: exporter\n"
        "    environment:\n      PUBLIC_URI: http://frontend:80\n"
    )
    plan = tmp_path / "portplan.yaml"
    plan.write_text(import_paths([_tree(tmp_path / "src", {"compose.yaml": compose})]).text)
    text = plan.read_text()
    assert "    depends_on:\n      - exporter\n" in text
    assert (
        f"    # note: reaches frontend (env-url, {tmp_path}/src/compose.yaml:10), which depends on "
        "it in turn: not written as depends_on (a start order cannot be circular)\n" in text
    )
    assert main(["check", "-f", str(plan)]) == 0
    capsys.readouterr()
    found = reconcile_paths([tmp_path / "src"], loader.load(plan)).findings
    assert [f.rule for f in found] == []


def test_an_included_project_is_imported_once(tmp_path: Path) -> None:
    """retail-style: src/app includes each service's own compose file, which `docker
    compose up` in that folder also runs: reconcile reads it as a project of its own too,
    import imports its services once, by their own names."""
    files = {
        "src/catalog/compose.yaml": "services:\n  catalog:\n    image: catalog\n    ports: ['8081:8080']\n",
        "src/app/compose.yaml": (
            "include:\n  - ../catalog/compose.yaml\n"
            "services:\n  ui:\n    image: ui\n    ports: ['8888:8080']\n"
        ),
    }
    root = _tree(tmp_path, files)
    assert sorted(r.file for r in scan([root]) if r.kind == "compose") == [
        f"{root}/src/app/compose.yaml",
        f"{root}/src/catalog/compose.yaml",
    ]
    assert _ports(import_paths([root]).text) == {
        "catalog": [("port", 8081)],
        "ui": [("port", 8888)],
    }


def test_a_readme_snippet_publishing_another_host_port_is_a_conflict_comment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A compose snippet in a README that publishes the container port on another host
    port than the compose file: one conflict beside the port (it once crashed import)."""
    tree = tmp_path / "a"
    tree.mkdir()
    (tree / "docker-compose.yml").write_text(
        'services:\n  web:\n    image: nginx\n    ports:\n      - "80:80"\n'
    )
    (tree / "README.md").write_text(
        '# Demo\n\n```yaml\nservices:\n  web:\n    image: nginx\n    ports:\n      - "8080:80"\n```\n'
    )
    monkeypatch.chdir(tmp_path)
    text = import_paths(["a"]).text
    assert (
        "      port: 80  # conflict: a/docker-compose.yml:5 says 80; a/README.md:8 says 8080\n"
        in text
    )


def test_a_host_port_variable_is_the_port_of_the_service_that_publishes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """connext-style: the compose file publishes `$EDGE_EXTERNAL_PORT:8080` and
    `"${DASHBOARD_PUBLIC_PORT:-3000}:3000"`, the `.env.example` beside it sets both: they
    are the ports of `edge` and `dashboard`, not services `edge-external` and
    `dashboard-public` holding the same host ports (check: bound twice). A variable two
    services publish from names neither; the round trip of the plan is clean."""
    compose = (
        "services:\n"
        "  edge:\n    image: edge\n    ports: ['$EDGE_EXTERNAL_PORT:8080']\n"
        "  dashboard:\n    image: dash\n    ports:\n"
        "      - published: ${DASHBOARD_PUBLIC_PORT:-3000}\n        target: 3000\n"
        "  worker-a:\n    image: w\n    ports: ['${WORKER_PORT}:9000']\n"
        "  worker-b:\n    image: w\n    ports: ['127.0.0.1:${WORKER_PORT}:9001']\n"
    )
    env = "EDGE_EXTERNAL_PORT=8000\nDASHBOARD_PUBLIC_PORT=3008\nWORKER_PORT=7000\n"
    root = _tree(tmp_path / "src", {"compose.yaml": compose, ".env.example": env})
    [result] = [r for r in scan([root]) if r.kind == "compose"]
    assert [(p.service, p.published_variable) for p in result.ports] == [
        ("edge", "EDGE_EXTERNAL_PORT"),
        ("dashboard", "DASHBOARD_PUBLIC_PORT"),
        ("worker-a", "WORKER_PORT"),
        ("worker-b", "WORKER_PORT"),
    ]
    plan = tmp_path / "portplan.yaml"
    plan.write_text(import_paths([root]).text)
    topology = loader.load(plan)
    assert {
        name: [(p.name, p.number, p.target, p.env) for p in s.ports]
        for name, s in topology.services.items()
    } == {
        "edge": [("port", 8000, 8080, "EDGE_EXTERNAL_PORT")],
        "dashboard": [("port", 3008, 3000, "DASHBOARD_PUBLIC_PORT")],
        "worker-a": [("port", 7000, 9000, None)],
        "worker-b": [("port", 7000, 9001, None)],
        "worker": [("port", 7000, None, "WORKER_PORT")],
    }
    assert main(["check", "-f", str(plan)]) == 1  # worker-a and worker-b: a real clash
    assert "edge-external" not in capsys.readouterr().out
    out = tmp_path / "out"
    assert main(["generate", "-f", str(plan), "--out", str(out)]) == 0
    assert (out / "env/edge.env").read_text().endswith("# edge\nEDGE_EXTERNAL_PORT=8080\n")


def test_every_port_a_compose_file_lists_is_kept_in_each_protocol(tmp_path: Path) -> None:
    """mattermost-style: a chat server publishes `${APP_PORT}:8065` and its calls port in
    udp and tcp, `${CALLS_PORT}:${CALLS_PORT}/udp` and `/tcp`; `.env.example` sets both.
    Three ports: 8065 is no other value of 8443 (the compose file lists them side by side,
    whatever a file that states one alone says), and 8443/udp is not 8443/tcp."""
    compose = (
        "services:\n  chat:\n    image: chat\n    ports:\n"
        "      - ${APP_PORT}:8065\n"
        "      - ${CALLS_PORT}:${CALLS_PORT}/udp\n"
        "      - ${CALLS_PORT}:${CALLS_PORT}/tcp\n"
    )
    env = "APP_PORT=8065\nCALLS_PORT=8443\n"
    root = _tree(tmp_path / "src", {"compose.yaml": compose, ".env.example": env})
    imported = import_paths([root])
    assert imported.conflicts == 0
    plan = tmp_path / "portplan.yaml"
    plan.write_text(imported.text)
    [chat] = loader.load(plan).services.values()
    assert [(p.name, p.number, p.protocol, p.env) for p in chat.ports] == [
        ("port-8065", 8065, "tcp", "APP_PORT"),
        ("port", 8443, "tcp", "CALLS_PORT"),
        ("port-8443", 8443, "udp", None),
    ]
    out = tmp_path / "out"
    assert main(["generate", "-f", str(plan), "--out", str(out)]) == 0
    assert reconcile_paths([out], loader.load(plan)).findings == []


def _round_trips(root: Path, tmp_path: Path) -> list[str]:
    """`check` of the plan imported from `root`, then reconcile of the files generated
    from it: every error and finding, as text."""
    plan = tmp_path / "portplan.yaml"
    plan.write_text(import_paths([root]).text)
    topology = loader.load(plan)
    found = [f.message for f in rules.run(topology, rules.Context()) if f.level.name == "ERROR"]
    out = tmp_path / "out"
    assert main(["generate", "-f", str(plan), "--out", str(out)]) == 0
    return found + [f.message for f in reconcile_paths([out], topology).findings]


_TWO_WEB_APPS = "services:\n  api:\n    image: acme/api\n    ports: ['8000:8000']\n"


def test_a_service_only_documents_name_leaves_a_configured_port_alone(tmp_path: Path) -> None:
    """`Dashbord: http://localhost:8000/` (a README naming a service no file configures, on
    api's published 8000): a conflict under each, no clash in the plan."""
    readme = "# Shop\n\nAfter `docker compose up`:\n\nDashbord: http://localhost:8000/\n"
    root = _tree(tmp_path / "src", {"compose.yaml": _TWO_WEB_APPS, "README.md": readme})
    text = import_paths([root]).text
    assert text.split("services:\n", 1)[1] == (
        "  dashbord:\n"
        f"    # conflict: {root}/README.md:5 gives dashbord port 8000, which api.port "
        f"({root}/compose.yaml:4) is configured on; only documents name dashbord, so the plan "
        "leaves it out\n"
        "    aliases: [Dashbord]\n"
        "\n"
        "  api:\n"
        "    image: acme/api\n"
        "    exposure: public\n"
        "    ports:\n"
        f"      port: 8000  # conflict: 8000 is also given to dashbord ({root}/README.md:5)\n"
    )
    assert _round_trips(root, tmp_path) == []


def test_a_documented_port_on_a_free_number_stays(tmp_path: Path) -> None:
    """`Dashboard: http://localhost:9000/` on a number no configured service holds is the
    documented service's port."""
    readme = "# Shop\n\nDashboard: http://localhost:9000/\n"
    root = _tree(tmp_path / "src", {"compose.yaml": _TWO_WEB_APPS, "README.md": readme})
    plan = loader.load_text(import_paths([root]).text)
    assert [(p.name, p.number) for p in plan.services["dashboard"].ports] == [("http", 9000)]


@pytest.mark.parametrize(
    "line",
    [
        "You can then open the shop here: http://localhost:8000/",
        "It will be running there: http://localhost:8000/",
        "We should see the api at: http://localhost:8000/",
    ],
)
def test_a_sentence_before_a_url_names_no_service(line: str, tmp_path: Path) -> None:
    root = _tree(tmp_path / "src", {"compose.yaml": _TWO_WEB_APPS, "README.md": f"{line}\n"})
    assert list(loader.load_text(import_paths([root]).text).services) == ["api"]
    assert _round_trips(root, tmp_path) == []


def test_a_container_port_compose_publishes_is_the_port_before_a_service_port(
    tmp_path: Path,
) -> None:
    """sock-shop style: compose publishes grafana `3000:3000` and the Kubernetes Service
    maps 80 to targetPort 3000; the containerPort 3000 statements stand for the compose host
    port, so the plan's port is 3000 (the Service's 80 a conflict) and nothing clashes with
    the router's 80."""
    compose = (
        "services:\n  router:\n    image: acme/router\n    ports: ['80:80']\n"
        "  grafana:\n    image: grafana/grafana\n    ports: ['3000:3000']\n"
    )
    k8s = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: grafana}\nspec:\n  template:\n"
        "    metadata: {labels: {app: grafana}}\n    spec:\n"
        "      containers: [{name: grafana, image: grafana/grafana, ports: [{containerPort: 3000}]}]\n"
        "---\napiVersion: v1\nkind: Service\nmetadata: {name: grafana}\nspec:\n"
        "  type: NodePort\n  selector: {app: grafana}\n"
        "  ports: [{port: 80, targetPort: 3000, nodePort: 31300}]\n"
    )
    root = _tree(tmp_path / "src", {"compose.yaml": compose, "k8s/grafana.yaml": k8s})
    plan = loader.load_text(import_paths([root]).text)
    assert [(p.number, p.target) for p in plan.services["grafana"].ports] == [(3000, None)]
    assert _round_trips(root, tmp_path) == []


def test_a_published_variable_in_the_services_environment_is_its_port(tmp_path: Path) -> None:
    """An edge proxy publishes `${EDGE_PORT}:${EDGE_PORT}` and hands EDGE_PORT and
    EDGE_ADMIN_PORT to its program in `environment:`; `.env` sets them. Both are the
    proxy's ports (no service `edge`); a web app's `VITE_PROXY_PORT` (Vite's prefix for
    what it hands the browser) is the proxy's too, not a service `vite-proxy`."""
    compose = (
        "services:\n  proxy:\n    image: envoyproxy/envoy\n    ports:\n"
        '      - "${EDGE_PORT}:${EDGE_PORT}"\n'
        '      - "${EDGE_ADMIN_PORT}:${EDGE_ADMIN_PORT}"\n'
        "    environment:\n      - EDGE_PORT\n      - EDGE_ADMIN_PORT\n"
    )
    root = _tree(
        tmp_path / "src",
        {
            "compose.yaml": compose,
            ".env": "EDGE_PORT=8080\nEDGE_ADMIN_PORT=10000\n",
            "web/.env": "VITE_PROXY_PORT=8080\n",
        },
    )
    plan = loader.load_text(import_paths([root]).text)
    assert {name: [p.number for p in s.ports] for name, s in plan.services.items()} == {
        "proxy": [8080, 10000]
    }
    assert _round_trips(root, tmp_path) == []


def test_a_service_only_an_alternative_file_defines_is_on_a_host_of_its_own(
    tmp_path: Path,
) -> None:
    """`docker-compose.yml` runs an `agent` on 4317, `docker-compose-otel.yml` (the same stack
    with another collector, never run with it) a `collector` on 4317: the collector goes on
    a host named after its file; the shared `store` stays with the agent."""
    store = "  store:\n    image: acme/store\n    ports: ['9000:9000']\n"
    main_file = "services:\n  agent:\n    image: acme/agent\n    ports: ['4317:4317']\n" + store
    otel = "services:\n  collector:\n    image: acme/otel\n    ports: ['4317:4317']\n" + store
    root = _tree(
        tmp_path / "src", {"docker-compose.yml": main_file, "docker-compose-otel.yml": otel}
    )
    plan = loader.load_text(import_paths([root]).text)
    assert {name: s.host for name, s in plan.services.items()} == {
        "agent": "default",
        "collector": "docker-compose-otel",
        "store": "default",
    }
    assert _round_trips(root, tmp_path) == []


def test_an_image_a_helm_template_leaves_unrendered_is_not_imported(tmp_path: Path) -> None:
    """A chart's `image: {{ include "app.image" . }}` is read without helm as a placeholder:
    the plan writes no image rather than `helm-value`."""
    deployment = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n"
        "    metadata:\n      labels: {app: api}\n    spec:\n      containers:\n"
        '        - name: api\n          image: {{ include "app.image" . | quote }}\n'
        "          ports:\n            - containerPort: 8000\n"
    )
    root = _tree(
        tmp_path / "chart",
        {
            "Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\n",
            "values.yaml": "replicas: 1\n",
            "templates/deployment.yaml": deployment,
        },
    )
    imported = import_paths([root])
    assert "helm-value" not in imported.text
    assert loader.load_text(imported.text).services["api"].image is None


def test_a_port_only_kubernetes_states_is_on_the_cluster_network(tmp_path: Path) -> None:
    """A Kubernetes test pod calls `https://api.tools:9443` (the only statement of api's
    port; no file says whether it is published): a pod's port is on the cluster network,
    so it clashes with nothing a compose project publishes on 9443. (A service only a host
    name mentions, `api.tools`, was an import crash: KeyError.)"""
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: smoke}\nspec:\n  containers:\n"
        "    - name: curl\n      image: curlimages/curl\n"
        "      env:\n        - {name: API_URL, value: 'https://api.tools:9443'}\n"
    )
    compose = "services:\n  web:\n    image: acme/web\n    ports: ['9443:9443']\n"
    root = _tree(tmp_path / "src", {"k8s/smoke.yaml": pod, "compose.yaml": compose})
    plan = loader.load_text(import_paths([root]).text)
    assert [(p.number, p.published) for p in plan.services["api"].ports] == [(9443, False)]
    assert _round_trips(root, tmp_path) == []


def test_a_scrape_target_on_a_services_only_port_names_no_metrics_port(tmp_path: Path) -> None:
    """Prometheus scrapes `orders:8081/actuator/prometheus`, the one port compose publishes
    for orders: that is orders' main port, not a port named metrics; a separate exporter
    port stays `metrics`."""
    compose = (
        "services:\n  orders:\n    image: acme/orders\n    ports: ['8081:8081']\n"
        "  billing:\n    image: acme/billing\n    ports: ['8082:8082', '9102:9102']\n"
    )
    prometheus = (
        "scrape_configs:\n  - job_name: orders\n    metrics_path: /actuator/prometheus\n"
        "    static_configs:\n      - targets: ['orders:8081']\n"
        "  - job_name: billing\n    static_configs:\n      - targets: ['billing:9102']\n"
    )
    root = _tree(tmp_path / "src", {"compose.yaml": compose, "prometheus.yml": prometheus})
    plan = loader.load_text(import_paths([root]).text)
    assert {name: [(p.name, p.number) for p in s.ports] for name, s in plan.services.items()} == {
        "orders": [("port", 8081)],
        "billing": [("metrics", 9102), ("port", 8082)],
    }
    assert _round_trips(root, tmp_path) == []


def test_a_port_stated_once_keeps_all_its_one_statement_says(tmp_path: Path) -> None:
    """One compose mapping, no other source: its address, host port, target and protocol
    are the plan's port as they stand (no vote to hold)."""
    compose = (
        "services:\n  relay:\n    image: example/relay\n"
        '    ports: ["127.0.0.1:${RELAY_PORT:-5514}:514/udp"]\n'
    )
    text = import_paths([_tree(tmp_path, {"compose.yaml": compose})]).text
    assert text.splitlines()[-9:] == [
        "  relay:",
        "    image: example/relay",
        "    exposure: local",
        "    ports:",
        "      port:",
        "        port: 5514",
        "        target: 514",
        "        protocol: udp",
        '        address: "127.0.0.1"',
    ]
