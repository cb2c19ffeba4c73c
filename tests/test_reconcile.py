"""reconcile: each rule on real files (the seed documents: tests/test_reconcile_seeds.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from portplan.cli import main
from portplan.plan import loader
from portplan.reconcile.core import reconcile
from portplan.sources import scan
from tests.conftest import RESOURCES

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
        (
            "PP217",
            2,
            "token-engine: DATABASE_URL (postgres:5432) reaches postgres, which no source defines",
        ),
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
    assert out.endswith("3 files, 4 services: 1 error, 3 warnings\n")


def test_cli_summary_counts_one_in_the_singular(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  web: {ports: ['8080:80']}\n")
    assert main(["reconcile", str(tmp_path)]) == 0
    assert capsys.readouterr().out == (
        "sources: read 1 file (1 compose)\n1 file, 1 service: 0 errors, 0 warnings\n"
    )


def test_cli_help() -> None:
    assert main(["reconcile", "--help"]) == 0


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _found(root: Path) -> list[tuple[str, list[str], str]]:
    return [
        (f.rule, [f"{Path(loc.file).name}:{loc.line}" for loc in f.locations], f.message)
        for f in reconcile(scan([root]))
    ]


def test_a_mapping_states_one_port(tmp_path: Path) -> None:
    compose = 'services:\n  gateway:\n    ports: ["18080:8080"]\n  ledger:\n    ports: ["8090"]\n'
    table = "| Service | Port |\n|---|---|\n| gateway | 8080 |\n| ledger | 8090 |\n"
    assert _found(_write(tmp_path, {"compose.yaml": compose, "PORTS.md": table})) == []


def test_container_ports_are_claimed_by_nobody(tmp_path: Path) -> None:
    """Two containers' own 8080 (`expose`) claim nothing, and a table that gives both 8080
    says nothing of the host for them; a table alone claims (nothing says a container)."""
    compose = "services:\n  a:\n    expose: ['8080']\n  b:\n    expose: ['8080']\n"
    table = "| Service | Port |\n|---|---|\n| a | 8080 |\n| b | 8080 |\n"
    assert _found(_write(tmp_path / "x", {"compose.yaml": compose})) == []
    assert _found(_write(tmp_path / "x", {"PORTS.md": table})) == []
    assert _found(_write(tmp_path / "y", {"PORTS.md": table})) == [
        ("PP202", ["PORTS.md:3", "PORTS.md:4"], "port 8080/tcp is claimed by a and b")
    ]
    published = "services:\n  a:\n    ports: ['8080:8080']\n  b:\n    expose: ['8080']\n"
    assert _found(_write(tmp_path / "x", {"compose.yaml": published})) == []


def test_a_tie_goes_to_the_document_the_others_agree_with(tmp_path: Path) -> None:
    # b-ref and c-other agree on alpha, beta and gamma; a-moved moves beta and gamma. beta
    # is one document against one: a-moved, outvoted on gamma, is the one that drifts.
    def table(rows: dict[str, int]) -> str:
        lines = [f"| {name} | {port} |" for name, port in rows.items()]
        return "\n".join(["| Service | Port |", "|---|---|", *lines, ""])

    files = {
        "a-moved.md": table({"alpha": 8001, "beta": 8012, "gamma": 8013}),
        "b-ref.md": table({"alpha": 8001, "beta": 8002, "gamma": 8003}),
        "c-other.md": table({"alpha": 8001, "gamma": 8003}),
    }
    assert _found(_write(tmp_path, files)) == [
        ("PP201", ["a-moved.md:4", "b-ref.md:4"], "beta: port is 8012 here but 8002 in b-ref.md:4"),
        (
            "PP201",
            ["a-moved.md:5", "b-ref.md:5", "c-other.md:4"],
            "gamma: port is 8013 here but 8003 in b-ref.md:5 (and 1 more)",
        ),
    ]


def test_depends_on_is_held_only_to_its_own_services(tmp_path: Path) -> None:
    compose = """services:
  app:
    depends_on: [worker]
    environment:
      REDIS_URL: redis://redis:6379
      DATABASE_URL: postgres://app@db.example.com:5432/app
  worker:
    image: worker
  redis:
    image: redis
"""
    assert _found(_write(tmp_path, {"compose.yaml": compose})) == [
        (
            "PP205",
            ["compose.yaml:5", "compose.yaml:3"],
            "app depends on redis by env-url, but not by depends_on",
        ),
        (
            "PP215",
            ["compose.yaml:6", "compose.yaml:6"],  # the URL's host, then its port
            "app depends on external host db.example.com: not a service of this system",
        ),
    ]  # the database is no service of the project: depends_on cannot name it


def test_a_service_moved_out_of_its_range_keeps_its_policy(tmp_path: Path) -> None:
    policy = """## Ports
- **8001-8019**: internal only

| Service | Port |
|---|---|
| ledger | 8002 |
| reports | 8019 |
"""
    compose = 'services:\n  ledger:\n    ports: ["127.0.0.1:8002:8002"]\n'
    compose += '  reports:\n    ports: ["8020:8020"]\n'
    found = _found(_write(tmp_path, {"ARCHITECTURE.md": policy, "compose.yaml": compose}))
    # One file against one: the compose file wins the tie (KIND_ORDER), and the service
    # it moved stays under the policy of the number the document gives it.
    assert found == [
        (
            "PP201",
            ["ARCHITECTURE.md:7", "compose.yaml:5"],
            "reports: port is 8019 here but 8020 in compose.yaml:5",
        ),
        (
            "PP206",
            ["compose.yaml:5", "ARCHITECTURE.md:2"],
            "reports publishes port 8020 on all interfaces, but ARCHITECTURE.md:2 keeps its "
            "port 8019 internal",
        ),
    ]


def test_a_compose_file_in_a_document_defines_its_dependencies(tmp_path: Path) -> None:
    document = """# Stack

```yaml
services:
  api:
    depends_on: [db, cache]
  db:
    image: postgres
```

```yaml
worker:
  depends_on: [queue]
```
"""
    assert _found(_write(tmp_path, {"STACK.md": document})) == [
        ("PP211", ["STACK.md:6"], "api depends on cache, which this compose file does not define")
    ]  # the second block is a fragment: what it leaves out may be elsewhere


def test_a_container_is_its_compose_service(tmp_path: Path) -> None:
    compose = 'services:\n  gateway:\n    ports: ["8080:80"]\n  ledger:\n    ports: ["8090:80"]\n'
    ps = """```console
$ docker ps
CONTAINER ID   IMAGE     PORTS                  NAMES
3f2a1b0c9d8e   gw:1      0.0.0.0:8080->80/tcp   deltran-gateway-1
4f2a1b0c9d8e   ledger:1  0.0.0.0:8090->80/tcp   deltran-ledger-1
```
"""
    assert _found(_write(tmp_path, {"compose.yaml": compose, "RUNNING.md": ps})) == []


def test_a_compose_file_in_a_document_lists_several_ports(tmp_path: Path) -> None:
    document = """| Service | Port |
|---|---|
| audit-trail | 8018 |

```yaml
audit-trail:
  ports: ["8018:8018"]
  expose: ["9000"]
```
"""
    assert _found(_write(tmp_path, {"AUDIT.md": document})) == []


def test_as_one_system_groups_every_file(tmp_path: Path) -> None:
    """Two files that share one of their four names are two systems; as one system, a
    service's ports from both fall in one slot (what `portplan import` groups by)."""
    from portplan.reconcile.core import as_one_system, build_view
    from portplan.reconcile.ports import slots

    def table(rows: dict[str, int]) -> str:
        lines = [f"| {name} | {port} |" for name, port in rows.items()]
        return "\n".join(["| Service | Port |", "|---|---|", *lines, ""])

    (tmp_path / "a.md").write_text(table({"cache": 6379, "alpha": 1, "beta": 2, "gamma": 3}))
    (tmp_path / "b.md").write_text(table({"cache": 6380, "delta": 4, "eps": 5, "zeta": 6}))
    view = build_view(scan([tmp_path]), None)
    by_system = {
        (key, system, slot): len(ports)
        for (key, system, slot), ports in slots(view).items()
        if key == "cache"
    }
    assert by_system == {("cache", 1, "port"): 1, ("cache", 2, "port"): 1}
    merged = as_one_system(view)
    grouped = {
        slot: sorted(p.obs.number for p in ports)
        for slot, ports in slots(merged).items()
        if slot[0] == "cache"
    }
    assert grouped == {("cache", 0, "port"): [6379, 6380]}
    assert slots(view) is not slots(merged)  # each view derives its own


RECONCILE = RESOURCES / "reconcile"


def test_a_stale_readme_is_the_system_of_the_compose_file() -> None:
    """Systems are told apart by the names they share, not by whether their ports agree:
    a README that gives every service of the compose file another port drifts from it."""
    assert _found(RECONCILE / "stale-readme") == [
        ("PP201", ["README.md:5", "compose.yaml:3"], "frontend: port is 3001 here but 3000 in compose.yaml:3"),
        ("PP201", ["README.md:6", "compose.yaml:5"], "backend: port is 8001 here but 8000 in compose.yaml:5"),
        ("PP201", ["README.md:7", "compose.yaml:7"], "worker: port is 9001 here but 9000 in compose.yaml:7"),
    ]  # fmt: skip


def test_one_service_named_by_both_files_is_one_system(tmp_path: Path) -> None:
    compose = 'services:\n  backend:\n    ports: ["8000:8000"]\n'
    table = "| Service | Port |\n|---|---|\n| backend | 8001 |\n"
    assert _found(_write(tmp_path, {"compose.yaml": compose, "README.md": table})) == [
        ("PP201", ["README.md:3", "compose.yaml:3"], "backend: port is 8001 here but 8000 in compose.yaml:3")
    ]  # fmt: skip


@pytest.mark.parametrize("readme", ["README.md", "readme.md", "Z.md", "a.md"])
def test_a_tie_goes_to_the_compose_file_whatever_the_names(tmp_path: Path, readme: str) -> None:
    """One file against one: compose, Kubernetes, .env, Markdown in this order (as import
    breaks ties), never by the letter case of a file name."""
    compose = 'services:\n  web:\n    ports: ["8080:80"]\n  api:\n    ports: ["9000:9000"]\n'
    table = "| Service | Port |\n|---|---|\n| web | 8080 |\n| api | 9001 |\n"
    assert _found(_write(tmp_path, {"compose.yaml": compose, readme: table})) == [
        (
            "PP201",
            [f"{readme}:4", "compose.yaml:5"],
            "api: port is 9001 here but 9000 in compose.yaml:5",
        )
    ]


def test_a_dotenv_value_is_a_vote(tmp_path: Path) -> None:
    compose = 'services:\n  api:\n    ports: ["9000:9000"]\n'
    table = "| Service | Port |\n|---|---|\n| api | 9001 |\n"
    files = {"compose.yaml": compose, "README.md": table, "api.env": "API_PORT=9001\n"}
    assert _found(_write(tmp_path, files)) == [
        (
            "PP201",
            ["compose.yaml:3", "api.env:1", "README.md:3"],
            "api: port is 9000 here but 9001 in api.env:1 (and 1 more)",
        )
    ]


def test_a_value_without_a_kind_is_not_another_number_of_a_grpc_port() -> None:
    """compose and a diagram give backend 8000, the README 8001, a table a gRPC port 50051:
    two ports (the README's 8001 drifts from 8000), never "grpc is 50051 but 8000"."""
    assert _found(RECONCILE / "two-kinds") == [
        (
            "PP201",
            ["README.md:3", "ARCH.md:3", "compose.yaml:3"],
            "backend: port is 8001 here but 8000 in ARCH.md:3 (and 1 more)",
        )
    ]


def test_a_variable_the_container_is_given_is_not_set_for_interpolation(tmp_path: Path) -> None:
    """`environment:` sets a variable inside the container; `${SECRET_KEY}` is read from the
    shell or the project's .env, so it is unset whatever its name."""
    compose = """services:
  app:
    image: nginx
    environment:
      SECRET_KEY: ${SECRET_KEY}
      OTHER: ${OTHER_UNSET}
      DEBUG: ${DEBUG}
"""
    files = {"compose.yaml": compose, ".env": "DEBUG=1\n"}
    assert _found(_write(tmp_path, files)) == [
        ("PP207", ["compose.yaml:5"], "app reads ${SECRET_KEY}, which nothing sets"),
        ("PP207", ["compose.yaml:6"], "app reads ${OTHER_UNSET}, which nothing sets"),
    ]


def _against(root: Path, plan: str, files: dict[str, str]) -> list[tuple[str, str]]:
    """(rule, message) of reconciling `files` against the plan text `plan`."""
    from portplan.plan.loader import load_text

    topology = load_text(plan, "portplan.yaml")
    return [(f.rule, f.message) for f in reconcile(scan([_write(root, files)]), topology)]


@pytest.mark.parametrize(
    ("plan", "compose", "found"),
    [
        # the container side against the plan's target (unset: the port's number)
        ("{port: 8088, target: 80}", '["8088:80"]', []),
        (
            "8088",
            '["8088:80"]',
            [("PP201", "web: http container port is 80 here but 8088 in portplan.yaml:3")],
        ),
        (
            "{port: 8088, target: 8080}",
            '["8088:80", "127.0.0.1:8089:8081"]',
            [
                ("PP201", "web: http container port is 80 here but 8080 in portplan.yaml:3"),
                ("PP201", "web: http port is 8089 here but 8088 in portplan.yaml:3 (and 1 more)"),
            ],
        ),
        # a host side is held to the plan's port, whatever container port it shares
        (
            "{port: 8088, target: 80}",
            '["8080:80"]',
            [("PP201", "web: http port is 8080 here but 8088 in portplan.yaml:3")],
        ),
        # what the plan keeps unpublished, a compose file publishes: no number drifts
        ("{port: 80, published: false}", '["8080:80"]', []),
        (
            "{port: 80, published: false}",
            '["8080:81"]',
            [("PP201", "web: http port is 8080 here but 80 in portplan.yaml:3")],
        ),
    ],
)
def test_container_and_host_sides_against_the_plan(
    tmp_path: Path, plan: str, compose: str, found: list[tuple[str, str]]
) -> None:
    text = f"services:\n  web:\n    ports: {{http: {plan}}}\n    exposure: public\n"
    service = f"services:\n  web:\n    ports: {compose}\n"
    assert _against(tmp_path, text, {"compose.yaml": service}) == found


def test_a_kubernetes_service_target_against_the_plan(tmp_path: Path) -> None:
    manifest = (
        "apiVersion: v1\nkind: Service\nmetadata: {name: api}\nspec:\n"
        "  ports: [{name: http, port: 80, targetPort: 8080}]\n"
    )
    plan = "services:\n  api:\n    ports: {http: {port: 80, target: %d, published: false}}\n"
    assert _against(tmp_path, plan % 8080, {"api.yaml": manifest}) == []
    assert _against(tmp_path, plan % 8081, {"api.yaml": manifest}) == [
        ("PP201", "api: http container port is 8080 here but 8081 in portplan.yaml:3")
    ]


def test_unpublished_ports_against_the_plan_claim_nothing(tmp_path: Path) -> None:
    """Two databases each on 5432 in their containers, and a reservation: nothing."""
    plan = (
        "reserved: [8004-8006]\nservices:\n"
        "  a-db: {ports: {postgresql: {port: 5432, published: false}}}\n"
        "  b-db: {ports: {postgresql: {port: 5432, published: false}}}\n"
        "  worker: {ports: {http: {port: 8005, published: false}}}\n"
        "  b-app: {depends_on: [b-db]}\n"
    )
    files = {
        "a/compose.yaml": "services:\n  db: {image: postgres, expose: ['5432']}\n",
        "b/compose.yaml": "services:\n  db: {image: postgres}\n"
        "  app: {environment: {DB: 'postgres://db:5432/x'}}\n",
        "c/compose.yaml": "services:\n  worker: {expose: ['8005']}\n",
    }
    assert _against(tmp_path, plan, files) == []


def test_a_random_host_port_on_all_interfaces_is_exposure_drift(tmp_path: Path) -> None:
    plan = (
        "services:\n"
        "  admin: {exposure: internal, ports: {http: {port: 9000, published: false}}}\n"
        "  tools: {exposure: internal, ports: {http: {port: 9001, published: false}}}\n"
    )
    compose = "services:\n  admin: {ports: ['9000']}\n  tools: {ports: ['127.0.0.1::9001']}\n"
    assert _against(tmp_path, plan, {"compose.yaml": compose}) == [
        (
            "PP206",
            "admin publishes container port 9000 on a random host port on all interfaces, but "
            "portplan.yaml:2 keeps it internal",
        )
    ]


def test_two_port_variables_of_one_env_file_are_two_ports(tmp_path: Path) -> None:
    """NATS_PORT is not another number of NATS_MONITORING_PORT; a README's other number
    for nats is another number of NATS_PORT."""
    env = "NATS_PORT=4222\nNATS_MONITORING_PORT=8222\n"
    assert _found(_write(tmp_path, {"nats.env": env})) == []
    readme = "| Service | Port |\n|---|---|\n| NATS | 4223 |\n"
    assert _found(_write(tmp_path, {"README.md": readme})) == [
        (
            "PP201",
            ["README.md:3", "nats.env:1"],
            "NATS: port is 4223 here but 4222 in nats.env:1",
        )
    ]


def test_port_names_compare_without_case_and_separators(tmp_path: Path) -> None:
    """`http-2`, `HTTP_2` and `http2` are one port, shown as the files spell it (of as
    many spellings, the first in order)."""
    compose = (
        "services:\n  api:\n    ports:\n      - {name: HTTP_2, target: 8082, published: '8082'}\n"
    )
    service = (
        "apiVersion: v1\nkind: Service\nmetadata: {name: api}\nspec:\n"
        "  ports: [{name: http-2, port: 8081}]\n"
    )
    deployment = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  template:\n"
        "    spec:\n      containers: [{name: api, ports: [{name: http2, containerPort: 8081}]}]\n"
    )
    files = {"compose.yaml": compose, "svc.yaml": service, "deploy.yaml": deployment}
    assert _found(_write(tmp_path, files)) == [
        (
            "PP201",
            ["compose.yaml:4", "deploy.yaml:7", "svc.yaml:5"],
            "api: http-2 port is 8082 here but 8081 in deploy.yaml:7 (and 1 more)",
        )
    ]


def test_an_example_file_gives_way_to_its_real_file(tmp_path: Path) -> None:
    """`.env.example` shows defaults beside the `.env` that runs: left out; without its
    `.env` it counts like any other file."""
    compose = "services:\n  web:\n    ports: ['${WEB_PORT:-8080}:80']\n"
    files = {"compose.yaml": compose, ".env": "WEB_PORT=8088\n", ".env.example": "WEB_PORT=8080\n"}
    assert _found(_write(tmp_path / "x", files)) == []
    del files[".env"]
    assert _found(_write(tmp_path / "y", files)) == []  # compose takes its default: 8080
    files["compose.yaml"] = compose.replace(":-8080", ":-8070")
    # without .env, .env.example stands in for it: WEB_PORT=8080 is what compose takes
    assert _found(_write(tmp_path / "z", files)) == []
    files["compose.yaml"] = "services:\n  web:\n    ports: ['8070:80']\n"
    assert _found(_write(tmp_path / "w", files)) == [
        (
            "PP201",
            [".env.example:1", "compose.yaml:3"],
            "web: port is 8080 here but 8070 in compose.yaml:3",
        )
    ]


def test_real_counterparts() -> None:
    from portplan.sources.base import real_counterparts

    assert real_counterparts("a/.env.example") == ("a/.env",)
    assert real_counterparts("example.env") == ("env", ".env")
    assert real_counterparts("compose.sample.yml") == ("compose.yml", "compose.yaml")
    assert real_counterparts("compose.yaml") == ()
    assert real_counterparts("a/example") == ()


def test_a_secret_is_one_finding_per_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An env_file read alone and for the services that read it, an anchor two services
    share: one finding per place, naming every service that reads it."""
    compose = (
        "x-env: &env\n  JWT_SECRET: hunter2\nservices:\n"
        "  web: {image: x, env_file: [./common.env], environment: *env}\n"
        "  api: {image: x, env_file: [common.env], environment: *env}\n"
    )
    _write(tmp_path, {"compose.yaml": compose, "common.env": "export API_KEY=abc\n"})
    monkeypatch.chdir(tmp_path)
    found = [(f.rule, str(f.locations[0]), f.message) for f in reconcile(scan(["."]))]
    assert found == [
        (
            "PP210",
            "./common.env:1:8",
            "api and web: API_KEY holds a literal secret (value not shown)",
        ),
        (
            "PP210",
            "./compose.yaml:2:3",
            "api and web: JWT_SECRET holds a literal secret (value not shown)",
        ),
    ]


NAMESPACES = RESOURCES / "k8s" / "namespaces"  # Service api in staging (8080) and prod (9090)


def test_one_name_in_two_namespaces_is_two_services(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """staging's api and prod's api are apart: ports they state differently disagree on
    nothing."""
    staging = (NAMESPACES / "staging.yaml").read_text().replace("port: 80,", "port: 81,")
    _write(tmp_path, {"staging.yaml": staging, "prod.yaml": (NAMESPACES / "prod.yaml").read_text()})
    assert reconcile(scan([tmp_path])) == []
    monkeypatch.chdir(NAMESPACES)
    assert main(["reconcile", "."]) == 0


def test_without_a_plan_each_namespace_is_counted(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reconcile", str(NAMESPACES)]) == 0
    assert capsys.readouterr().out.endswith("\n2 files, 2 services: 0 errors, 0 warnings\n")


def test_a_target_drift_points_at_the_plans_target_line(tmp_path: Path) -> None:
    """One plan `api` for both namespaces: staging's targetPort is not the plan's target."""
    plan = tmp_path / "portplan.yaml"
    plan.write_text(
        "version: 1\nservices:\n  api:\n    ports:\n      http:\n        port: 80\n"
        "        target: 9090\n        published: false\n"
    )
    found = reconcile(scan([NAMESPACES]), loader.load(plan))
    assert [(f.rule, [str(loc) for loc in f.locations], f.message) for f in found] == [
        (
            "PP201",
            [f"{NAMESPACES}/staging.yaml:6:30", f"{plan}:7:17"],
            "api: http container port is 8080 here but 9090 in portplan.yaml:7",
        )
    ]


def test_a_plan_that_names_each_namespace_holds_each_to_its_own(tmp_path: Path) -> None:
    plan = tmp_path / "portplan.yaml"
    plan.write_text(
        "version: 1\nservices:\n"
        "  staging-api:\n    ports:\n      http: {port: 80, target: 8080, published: false}\n"
        "  prod-api:\n    ports:\n      http: {port: 80, target: 8080, published: false}\n"
    )
    found = reconcile(scan([NAMESPACES]), loader.load(plan))
    assert [(f.rule, str(f.locations[0]), f.message) for f in found] == [
        (
            "PP201",
            f"{NAMESPACES}/prod.yaml:6:30",
            "prod-api: http container port is 9090 here but 8080 in portplan.yaml:8",
        )
    ]


def test_the_summary_counts_a_service_without_ports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    compose = "services:\n  web:\n    image: x\n    env_file: [./common.env]\n"
    _write(tmp_path, {"compose.yaml": compose, "common.env": "LOG_LEVEL=debug\n"})
    assert main(["reconcile", str(tmp_path)]) == 0
    assert capsys.readouterr().out == (
        "sources: read 2 files (1 compose, 1 .env)\n2 files, 1 service: 0 errors, 0 warnings\n"
    )
