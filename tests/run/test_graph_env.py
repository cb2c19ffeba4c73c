"""Order of a stack, each process's environment, and parallel copies' ports."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from portplan.errors import NotFoundError, UsageError
from portplan.plan.loader import load_text
from portplan.render.env import service_variables
from portplan.run import copies
from portplan.run.env import planned, process_env, runner_topology, shell_line
from portplan.run.graph import order
from portplan.run.state import StateDir

STACK = """
services:
  db: {ports: {postgresql: 5432}, run: {command: db}}
  cache: {ports: {redis: 6379}, run: {command: cache}}
  nats: {ports: {nats: 4222}}
  api:
    ports: {http: {port: 8081, env: API_PORT}}
    depends_on: [db, cache, nats]
    environment:
      DATABASE_URL: postgresql://app:s3cr3tpass@localhost:5432/app
      API_KEY: ${API_KEY}
    run: {command: api, env: {GREETING: 'hi ${USER_NAME}'}}
  web:
    ports: {http: 8080}
    depends_on: [api]
    run: {command: web}
"""


def test_levels_and_external_dependencies() -> None:
    topology = load_text(STACK)
    found = order(topology)
    assert found.levels == (("db", "cache"), ("api",), ("web",))
    assert found.external == ("nats",)
    assert order(topology, ["api"]).levels == (("db", "cache"), ("api",))
    assert order(topology, ["cache"]).names == ("cache",)


def test_unknown_or_unrunnable_service() -> None:
    topology = load_text(STACK)
    with pytest.raises(
        NotFoundError, match=r"no service 'wbe' in portplan.yaml \(did you mean 'web'\?\)"
    ):
        order(topology, ["wbe"])
    with pytest.raises(UsageError, match="service 'nats' has no run: section"):
        order(topology, ["nats"])


def test_a_cycle_is_refused() -> None:
    text = "services:\n  a: {depends_on: [b], run: {command: a}}\n  b: {depends_on: [a], run: {command: b}}\n"
    with pytest.raises(UsageError, match="a dependency cycle among a, b"):
        order(load_text(text))


def test_process_env_is_what_generate_env_writes_with_references_resolved() -> None:
    topology = runner_topology(load_text(STACK))
    api = topology.services["api"]
    generated = dict(service_variables(topology, api))
    assert generated["DATABASE_URL"] == "postgresql://app:${DATABASE_PASSWORD}@localhost:5432/app"
    outer = {"PATH": "/bin", "DATABASE_PASSWORD": "pw", "API_KEY": "k", "USER_NAME": "ann"}
    env = process_env(topology, api, outer)
    assert env["API_PORT"] == "8081"
    assert env["CACHE_URL"] == "redis://localhost:6379"
    assert env["NATS_URL"] == "nats://localhost:4222"
    assert env["DATABASE_URL"] == "postgresql://app:pw@localhost:5432/app"
    assert env["API_KEY"] == "k"
    assert env["GREETING"] == "hi ann"
    assert env["PORTPLAN_SERVICE"] == "api" and env["PATH"] == "/bin"
    for name, value in generated.items():
        if "$" not in value:
            assert env[name] == value


def test_shell_lines_keep_references_for_the_shell() -> None:
    assert shell_line("A", "plain") == 'export A="plain"'
    assert (
        shell_line("U", "pg://u:${DB_PASSWORD}@h/$x") == 'export U="pg://u:${DB_PASSWORD}@h/\\$x"'
    )
    assert shell_line("Q", 'say "hi" `now`') == 'export Q="say \\"hi\\" \\`now\\`"'


def test_planned_values_name_no_secret() -> None:
    topology = runner_topology(load_text(STACK))
    values = dict(planned(topology, topology.services["api"]))
    assert "s3cr3tpass" not in "".join(values.values())


def test_a_copy_moves_every_port_and_url() -> None:
    text = "ranges:\n  web: {ports: 18000-18010, kind: http}\n" + STACK.replace(
        "services:\n", "services:\n", 1
    )
    topology = load_text(text)
    taken = {18000, 18001, 5432 + 100}
    chosen = copies.choose(topology, taken)
    assert chosen[("api", "http")] == 18002 and chosen[("web", "http")] == 18003
    assert chosen[("db", "postgresql")] == 5432 + 200  # 100 was taken
    assert chosen[("cache", "redis")] == 6379 + 200
    assert ("nats", "nats") not in chosen  # not run: the copy shares it
    moved = runner_topology(topology, chosen)
    env = process_env(moved, moved.services["web"], {})
    assert env["HTTP_PORT"] == "18003" and env["API_URL"] == "http://localhost:18002"


def test_a_copy_skips_a_port_a_connection_uses_as_its_local_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTPLAN_STATE_DIR", str(tmp_path / "state"))
    with socket.socket() as server, socket.socket() as client:
        server.bind(("127.0.0.1", 0))
        server.listen()
        client.bind(("127.0.0.1", 0))
        used = int(client.getsockname()[1])  # free of listeners, yet not bindable
        client.connect(server.getsockname())
        plan = tmp_path / "portplan.yaml"
        plan.write_text(
            f"services:\n  api: {{ports: {{http: {used - 100}}}, run: {{command: x}}}}\n"
        )
        chosen = copies.assign(load_text(plan.read_text(), str(plan)), StateDir(plan, "b"))
    number = chosen["api", "http"]  # the next offset (100 moves it onto `used`)
    assert number > used and (number - used) % 100 == 0
