"""`allocate`, `free`, `ls`: choice by policy, and write-back that disturbs nothing else."""

from __future__ import annotations

import difflib
import socket
import textwrap
from pathlib import Path

import pytest

from portplan.cli import main
from portplan.errors import UsageError
from portplan.plan import allocate, loader, writeback

PLAN = textwrap.dedent(
    """\
    # Trading plan -- comments and order must survive
    ranges:
      core: {ports: 8000-8009, category: core}   # core services
      ai:
        ports: 8011-8016
        category: ai
    reserved:
      - {ports: 8004-8006, reason: future expansion}

    services:
      api-gateway:
        category: core
        ports:
          http: 8000   # public
          admin: {port: 8001, exposure: local}
        depends_on: [engine,
                     "db"]

      engine:
        category: core
        ports: {http: 8002}
      ml:
        category: ai   # no ports yet
    # trailing comment
    """
)


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    path = tmp_path / "portplan.yaml"
    path.write_text(PLAN)
    return path


def added_lines(before: str, after: str) -> list[str]:
    """The lines `after` adds to `before`, asserting that no line was changed or removed."""
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    assert not [line for line in diff if line.startswith("- ")]
    return [line[2:] for line in diff if line.startswith("+ ")]


@pytest.mark.parametrize(
    ("service", "port_name", "expected_port", "expected_lines"),
    [
        ("api-gateway", "metrics", 8003, ["      metrics: 8003"]),
        (
            "engine",
            "grpc",
            8003,
            ["  engine:", "    category: core", "    ports: {http: 8002, grpc: 8003}"],
        ),
        ("ml", "http", 8011, ["    ports:", "      http: 8011"]),
    ],
)
def test_allocate_writes_only_the_new_port(
    plan: Path, service: str, port_name: str, expected_port: int, expected_lines: list[str]
) -> None:
    topology = loader.load(plan)
    choice = allocate.choose(topology, service, port_name)
    assert choice.port == expected_port
    after = writeback.add_port(plan.read_text(), str(plan), service, port_name, choice.port)
    if service == "engine":
        assert "    ports: {http: 8002, grpc: 8003}\n" in after
        assert (
            after.replace("    ports: {http: 8002, grpc: 8003}", "    ports: {http: 8002}") == PLAN
        )
    else:
        assert added_lines(PLAN, after) == expected_lines
    reloaded = loader.load_text(after)
    assert reloaded.services[service].port(port_name).number == expected_port  # type: ignore[union-attr]


def test_new_service_is_appended_to_services(plan: Path) -> None:
    topology = loader.load(plan)
    choice = allocate.choose(topology, "risk", "http", range_name="ai")
    assert choice.port == 8011 and choice.new_service
    after = writeback.add_port(plan.read_text(), str(plan), "risk", "http", choice.port)
    assert added_lines(PLAN, after) == ["  risk:", "    ports:", "      http: 8011"]
    assert after.index("  risk:") < after.index("# trailing comment")


def test_allocate_skips_ports_listening_now(plan: Path) -> None:
    topology = loader.load(plan)
    held = {8003}
    choice = allocate.choose(topology, "api-gateway", "metrics", busy=lambda p, _: p in held)
    assert choice.port == 8007  # 8003 busy, 8004-8006 reserved


def test_cli_allocate_skips_a_real_listener(plan: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as held:
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            held.bind(("127.0.0.1", 8003))
        except OSError:
            pytest.skip("port 8003 is in use on this machine")
        held.listen()
        assert main(["allocate", "api-gateway", "metrics", "-f", str(plan)]) == 0
    assert capsys.readouterr().out == (
        f"{plan}: api-gateway.metrics = 8007/tcp (range core 8000-8009)\n"
    )
    assert "      metrics: 8007\n" in plan.read_text()


def test_cli_dry_run_prints_diff_and_writes_nothing(
    plan: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["allocate", "ml", "-f", str(plan), "--dry-run", "--offline"]) == 0
    assert plan.read_text() == PLAN
    out = capsys.readouterr().out
    name = str(plan).lstrip("/")
    assert out.startswith(f"--- a/{name}\n+++ b/{name}\n@@ ")
    assert "+    ports:\n+      http: 8011\n" in out


SECRETS = textwrap.dedent(
    """\
    ranges: {app: {ports: 8000-8009, category: app}}
    services:
      api: &api   # the API
        category: app
        ports: {http: 8000}
        depends_on: [db]
        environment:
          DB_PASSWORD: hunter2secret
          DATABASE_URL: postgresql://shop:pw12345678@db:5432/shop
          REF_URL: "postgresql://shop:${DB_PASSWORD}@db/shop"
          LOG_DIR: /var/log/api
      db:
        <<: *api
        ports:
          postgresql: 5432
    """
)


def test_cli_dry_run_masks_only_secret_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("portplan.yaml").write_text(SECRETS)
    args = ["allocate", "db", "metrics", "-f", "./portplan.yaml", "--dry-run", "--offline"]
    assert main(args) == 0
    assert capsys.readouterr().out == (
        "--- a/portplan.yaml\n"
        "+++ b/portplan.yaml\n"
        "@@ -13,3 +13,4 @@\n"
        "     <<: *api\n"
        "     ports:\n"
        "       postgresql: 5432\n"
        "+      metrics: 8001\n"
    )
    assert main(["allocate", "api", "grpc", "-f", "portplan.yaml", "--dry-run", "--offline"]) == 0
    assert capsys.readouterr().out == (
        "--- a/portplan.yaml\n"
        "+++ b/portplan.yaml\n"
        "@@ -2,7 +2,7 @@\n"
        " services:\n"
        "   api: &api   # ***\n"
        "     category: app\n"
        "-    ports: {http: 8000}\n"
        "+    ports: {http: 8000, grpc: 8001}\n"
        "     depends_on: [db]\n"
        "     environment:\n"
        "       DB_PASSWORD: ***\n"
    )
    assert Path("portplan.yaml").read_text() == SECRETS


FLOW_SECRETS = textwrap.dedent(
    """\
    ranges: {app: {ports: 8000-8009}}
    services:
      api:
        environment: {REF: "${REF}", DB_PASSWORD: "*hunter2flow", NOTE: 'a } b'}
        ports: {http: 8000}
      web:
        environment: {API_TOKEN: tokenflow77, LOG: "{x}"}
        ports: {http: 8001}
    """
)


def test_dry_run_masks_by_structure_after_a_brace_inside_quotes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A quoted value holding `}` inside a flow mapping neither ends the mapping (which left
    the next secret in clear) nor masks every line after it (which hid the real edit)."""
    monkeypatch.chdir(tmp_path)
    Path("portplan.yaml").write_text(FLOW_SECRETS)
    assert main(["allocate", "api", "admin", "--range", "app", "--dry-run", "--offline"]) == 0
    out = capsys.readouterr().out
    assert "hunter2flow" not in out and "tokenflow77" not in out
    assert out == (
        "--- a/portplan.yaml\n"
        "+++ b/portplan.yaml\n"
        "@@ -2,7 +2,7 @@\n"
        " services:\n"
        "   api:\n"
        "     environment: {REF: \"${REF}\", DB_PASSWORD: ***, NOTE: 'a } b'}\n"
        "-    ports: {http: 8000}\n"
        "+    ports: {http: 8000, admin: 8002}\n"
        "   web:\n"
        '     environment: {API_TOKEN: ***, LOG: "{x}"}\n'
        "     ports: {http: 8001}\n"
    )
    assert Path("portplan.yaml").read_text() == FLOW_SECRETS


def test_redact_secrets_keeps_plain_values_anchors_and_references() -> None:
    from portplan.yamlio import load as yamlload
    from portplan.yamlio.redact import redact_secrets

    text = SECRETS + "x-run: [serve, API_TOKEN=tok_live_abcdef123456, --port=8000, !!str 5]\n"
    assert redact_secrets(text, yamlload.load(text, "p.yaml")) == text.replace(
        "# the API", "# ***"
    ).replace("hunter2secret", "***").replace(
        "postgresql://shop:pw12345678@db:5432/shop", "***"
    ).replace("API_TOKEN=tok_live_abcdef123456", "***")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["api-gateway", "http"],
            "api-gateway.http already has port 8000; name another port to allocate a new one",
        ),
        (["newsvc"], "no range applies to newsvc.http; choose one with --range (known: ai, core)"),
        (["ml", "--range", "nope"], "no range named 'nope' (known: ai, core)"),
    ],
)
def test_cli_allocate_refusals(
    plan: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["allocate", *args, "-f", str(plan), "--offline"]) == 2
    assert capsys.readouterr().err == f"portplan: error: {message}\n"
    assert plan.read_text() == PLAN


def test_full_range(tmp_path: Path) -> None:
    topology = loader.load_text(
        "ranges: {one: {ports: 9000, category: x}}\n"
        "services: {a: {category: x, ports: {http: 9000}}}\n"
    )
    with pytest.raises(UsageError, match=r"^range one \(9000\) has no free port left$"):
        allocate.choose(topology, "a", "grpc")


def test_write_is_atomic(plan: Path) -> None:
    plan.chmod(0o640)
    writeback.write_atomic(plan, "x: 1\n")
    assert plan.read_text() == "x: 1\n" and (plan.stat().st_mode & 0o777) == 0o640
    assert [p.name for p in plan.parent.iterdir()] == ["portplan.yaml"]


def test_free(plan: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["free", "-f", str(plan)]) == 0
    assert capsys.readouterr().out == (
        "RANGE  PORTS      USED  FREE  FREE PORTS\n"
        "-----  ---------  ----  ----  ---------------\n"
        "core   8000-8009  6     4     8003, 8007-8009\n"
        "ai     8011-8016  0     6     8011-8016\n"
    )


def test_ls_json(plan: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["ls", "-f", str(plan), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["services"]
    assert [(r["category"], r["service"], r["ports"]) for r in rows] == [
        ("core", "api-gateway", "8000 (http), 8001 (admin)"),
        ("core", "engine", "8002 (http)"),
        ("ai", "ml", "-"),
    ]


# ---------------------------------------------------------------------------
# Container ports: a host port is taken by published ports only; a service's own
# container side is its own


CONTAINERS = textwrap.dedent(
    """\
    ranges:
      core: {ports: 8000-8009, category: core}
    services:
      web:
        category: core
        ports:
          http: {port: 8000, target: 8003}     # 8003 inside web's container
      db:
        category: core
        ports:
          postgresql: {port: 8001, published: false}
          admin: {port: 8002, target: 8004, published: false}
    """
)


@pytest.fixture
def containers(tmp_path: Path) -> Path:
    path = tmp_path / "portplan.yaml"
    path.write_text(CONTAINERS)
    return path


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        ("web", 8001),  # db's 8001 and 8002 are on db's container network, not the host
        ("db", 8003),  # db's own 8001, 8002 (and 8004 inside) are not offered to db
        ("new", 8001),
    ],
)
def test_allocation_counts_host_ports_and_the_services_own_container_ports(
    service: str, expected: int
) -> None:
    topology = loader.load_text(CONTAINERS)
    assert allocate.choose(topology, service, "metrics", range_name="core").port == expected


def test_a_services_own_target_is_not_offered_to_it() -> None:
    topology = loader.load_text(CONTAINERS.replace("8000, target: 8003", "8000, target: 8001"))
    assert allocate.choose(topology, "web", "metrics").port == 8002
    assert allocate.choose(topology, "new", "metrics", range_name="core").port == 8001
    assert allocate.taken(topology, {"default"}, "tcp") == {8000}
    web = topology.services["web"]
    assert allocate.taken(topology, {"default"}, "tcp", web) == {8000, 8001}
    assert allocate.taken(topology, {"default"}, "udp", web) == set()


def test_free_counts_published_ports_only(
    containers: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["free", "-f", str(containers)]) == 0
    assert capsys.readouterr().out == (
        "RANGE  PORTS      USED  FREE  FREE PORTS\n"
        "-----  ---------  ----  ----  ----------\n"
        "core   8000-8009  1     9     8001-8009\n"
    )


def test_cli_allocate_past_the_services_own_ports(
    containers: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["allocate", "db", "metrics", "-f", str(containers), "--offline"]) == 0
    out = capsys.readouterr().out
    assert out == f"{containers}: db.metrics = 8003/tcp (range core 8000-8009)\n"
    assert added_lines(CONTAINERS, containers.read_text()) == ["      metrics: 8003"]


def test_ls_shows_targets_and_unpublished_ports(
    containers: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    path = containers
    path.write_text(CONTAINERS + "  dns: {category: core, ports: {dns: 5353/udp}}\n")
    assert main(["ls", "-f", str(path)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "core:",
        "SERVICE  PORTS" + " " * 64 + "STATUS  EXPOSURE  PURPOSE  PHASE",
        "-------  " + "-" * 67 + "  ------  --------  -------  -----",
        "dns      5353/udp (dns)" + " " * 55 + "active  internal",
        "web      8000->8003 (http)" + " " * 52 + "active  internal",
        "db       8001 (postgresql, not published), 8002->8004 (admin, not published)  "
        "active  internal",
    ]
    assert main(["ls", "-f", str(path), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["services"]
    assert [(r["service"], r["port_list"]) for r in rows] == [
        (
            "dns",
            [{"name": "dns", "port": 5353, "target": None, "protocol": "udp", "published": True}],
        ),
        (
            "web",
            [{"name": "http", "port": 8000, "target": 8003, "protocol": "tcp", "published": True}],
        ),
        (
            "db",
            [
                {
                    "name": "postgresql",
                    "port": 8001,
                    "target": None,
                    "protocol": "tcp",
                    "published": False,
                },
                {
                    "name": "admin",
                    "port": 8002,
                    "target": 8004,
                    "protocol": "tcp",
                    "published": False,
                },
            ],
        ),
    ]


# ---------------------------------------------------------------------------
# Line ends, a byte-order mark and a missing final line end stay as the file has them

SMALL = (
    "version: 1\n"
    "ranges:\n"
    "  app: {ports: 8000-8009, category: app}\n"
    "services:\n"
    "  api:\n"
    "    category: app  # c\n"
    "    ports:\n"
    "      http: 8000\n"
)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            SMALL.replace("\n", "\r\n"),
            (SMALL + "      metrics: 8001\n").replace("\n", "\r\n"),
        ),
        ("\ufeff" + SMALL, "\ufeff" + SMALL + "      metrics: 8001\n"),
        (SMALL.rstrip("\n"), SMALL + "      metrics: 8001"),
        (
            "\ufeff" + SMALL.replace("\n", "\r\n").rstrip("\r\n"),
            "\ufeff" + (SMALL + "      metrics: 8001").replace("\n", "\r\n"),
        ),
        (
            SMALL.replace("\n", "\r\n").replace("      http: 8000\r\n", "      http: 8000\n"),
            SMALL.replace("\n", "\r\n").replace("      http: 8000\r\n", "      http: 8000\n")
            + "      metrics: 8001\r\n",
        ),
    ],
    ids=["crlf", "bom", "no-final-newline", "bom-crlf-no-final-newline", "mixed"],
)
def test_allocate_keeps_line_ends_bom_and_final_newline(
    tmp_path: Path, before: str, after: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "portplan.yaml"
    path.write_bytes(before.encode("utf-8"))
    assert main(["allocate", "api", "metrics", "-f", str(path), "--offline"]) == 0
    assert path.read_bytes() == after.encode("utf-8")
    assert capsys.readouterr().out == f"{path}: api.metrics = 8001/tcp (range app 8000-8009)\n"


@pytest.mark.parametrize(
    ("service", "added"),
    [
        ("web", "  web:\r\n    ports:\r\n      http: 8001\r\n"),
        ("api", None),
    ],
)
def test_writeback_new_lines_take_the_files_line_end(service: str, added: str | None) -> None:
    text = SMALL.replace("\n", "\r\n")
    if added is None:  # a flow mapping grows within its line
        text = text.replace("    ports:\r\n      http: 8000", "    ports: {http: 8000}")
        expected = text.replace("{http: 8000}", "{http: 8000, metrics: 8001}")
        assert writeback.add_port(text, "p.yaml", service, "metrics", 8001) == expected
        return
    assert writeback.add_port(text, "p.yaml", service, "http", 8001) == text + added


# ---------------------------------------------------------------------------
# A map shared through an anchor is not edited behind its other users' backs

ALIASED = textwrap.dedent(
    """\
    ranges: {app: {ports: 8000-8009, category: app}}
    services:
      base: &base
        category: app
        ports: &bp {http: 8000}
      api:
        category: app
        ports: *bp
      web:
        <<: *base
        category: app
      job: *base
      plain: &plain
        category: app
      worker:
        <<: *plain
    """
)
ADVICE = "add the port where the anchor is defined or write the map out"


@pytest.mark.parametrize(
    ("service", "message"),
    [
        ("api", f"8:12: ports of api come from the anchor at line 5 (an alias); {ADVICE}"),
        ("web", f"9:3: ports of web come from the anchor at line 5 (a merge key); {ADVICE}"),
        ("job", f"12:8: job comes from the anchor at line 3 (an alias); {ADVICE}"),
    ],
)
def test_allocate_refuses_a_map_an_anchor_shares(
    tmp_path: Path, service: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "portplan.yaml"
    path.write_text(ALIASED)
    assert main(["allocate", service, "metrics", "-f", str(path), "--offline"]) == 2
    assert capsys.readouterr().err == f"portplan: error: {path}:{message}\n"
    assert path.read_text() == ALIASED


def test_allocate_adds_ports_to_a_service_that_merges_a_map_without_ports(tmp_path: Path) -> None:
    path = tmp_path / "portplan.yaml"
    path.write_text(ALIASED)
    assert main(["allocate", "worker", "metrics", "-f", str(path), "--offline"]) == 0
    assert path.read_text() == ALIASED + "    ports:\n      metrics: 8001\n"
