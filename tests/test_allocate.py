"""`allocate`, `free`, `ls`: choice by policy, and write-back that disturbs nothing else."""

from __future__ import annotations

import difflib
import socket
import textwrap
from pathlib import Path

import pytest

from portplan import allocate, loader, writeback
from portplan.cli import main
from portplan.errors import UsageError

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
    assert f"--- a/{plan}\n+++ b/{plan}\n" in out
    assert "+    ports:\n+      http: 8011\n" in out


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
