"""One option style: every command that prints data takes `--format` (cli/_options.py).

`check` and `reconcile` print findings (text, json, sarif, github); every other command
that prints data takes text or json; `ports`, `who` and `status` keep `--json` as an alias
of `--format json`.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import click
import pytest

from portplan.cli import cli, main
from portplan.cli._commands import COMMANDS

Capture = pytest.CaptureFixture[str]

FORMATS = {
    "check": ("text", "json", "sarif", "github"),
    "reconcile": ("text", "json", "sarif", "github"),
    "ls": ("text", "json"),
    "free": ("text", "json"),
    "allocate": ("text", "json"),
    "generate": ("text", "json"),
    "ports": ("text", "json"),
    "who": ("text", "json"),
    "status": ("text", "json"),
    "lease": ("text", "json", "env"),
    "ps": ("text", "json"),
}
JSON_ALIAS = {"ports", "who", "status"}
# What these print is not data in a format of portplan's choosing
NO_FORMAT = {
    "import": "writes the plan itself (YAML)",
    "kill": "stops processes; asks before it does",
    "schema": "prints the JSON Schema of the plan",
    "serve": "runs the registry server",
    "release": "releases leases; prints what it released",
    "push": "sends the plan to the registry; prints its revision",
    "pull": "writes the plan from the registry",
    "up": "prints the processes' own lines as they come (the state is `ps --format json`)",
    "down": "stops the stack; says what it stopped or left",
    "logs": "prints the processes' own lines",
    "restart": "restarts a service; says when it is ready again",
    "env": "prints shell lines for eval",
}


def _options(name: str) -> dict[str, click.Option]:
    command = cli.get_command(None, name)  # type: ignore[arg-type]
    assert command is not None
    return {
        spelling: param
        for param in command.params
        if isinstance(param, click.Option)
        for spelling in param.opts
    }


def test_every_command_is_either_formatted_or_says_why_not() -> None:
    known = set(FORMATS) | set(NO_FORMAT)
    assert set(FORMATS).isdisjoint(NO_FORMAT)
    assert known <= set(COMMANDS)
    for name in NO_FORMAT:
        assert "--format" not in _options(name), name


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_format_choices(name: str) -> None:
    option = _options(name)["--format"]
    assert option.name == "fmt" and isinstance(option.type, click.Choice)
    assert tuple(option.type.choices) == FORMATS[name]
    alias = _options(name).get("--json")
    assert (alias is not None) == (name in JSON_ALIAS)
    if alias is not None:
        assert alias.is_flag and alias.help == "The same as --format json."


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_any_format_option_is_the_shared_one(name: str) -> None:
    """Commands added later too: --format is `fmt` with text first, --json only beside it."""
    options = _options(name)
    if "--format" in options:
        option = options["--format"]
        assert option.name == "fmt" and isinstance(option.type, click.Choice)
        assert tuple(option.type.choices)[:2] == ("text", "json")
    if "--json" in options:
        assert "--format" in options


PLAN = textwrap.dedent(
    """\
    system: shop
    ranges:
      web: {ports: 8000-8009, category: web}
    services:
      api:
        category: web
        ports: {http: 8000}
        environment:
          DB_PASSWORD: hunter2secret
    """
)


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    path = tmp_path / "portplan.yaml"
    path.write_text(PLAN)
    return path


def test_allocate_json(plan: Path, capsys: Capture) -> None:
    args = ["allocate", "api", "metrics", "-f", str(plan), "--offline", "--format", "json"]
    assert main([*args, "--dry-run"]) == 0
    document = json.loads(capsys.readouterr().out)
    name = str(plan).lstrip("/")
    diff = document.pop("diff")
    assert document == {
        "version": 1,
        "command": "allocate",
        "file": str(plan),
        "service": "api",
        "port_name": "metrics",
        "port": 8001,
        "protocol": "tcp",
        "range": {"name": "web", "ports": "8000-8009"},
        "new_service": False,
        "new_port": True,
        "written": False,
    }
    assert diff.startswith(f"--- a/{name}\n+++ b/{name}\n@@ ")
    assert "+    ports: {http: 8000, metrics: 8001}\n" in diff
    assert "       DB_PASSWORD: ***\n" in diff and "hunter2secret" not in diff
    assert plan.read_text() == PLAN
    assert main(args) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["port"], document["written"]) == (8001, True)
    assert "    ports: {http: 8000, metrics: 8001}\n" in plan.read_text()


def test_generate_json(plan: Path, tmp_path: Path, capsys: Capture) -> None:
    out = tmp_path / "out"
    args = ["generate", "env", "-f", str(plan), "--out", str(out), "--format", "json"]
    assert main([*args, "--check"]) == 1
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    env = str(out / "env" / "api.env")
    assert document["version"] == 1 and document["command"] == "generate"
    assert document["check"] is True
    assert {"path": env, "state": "missing", "written": False} in document["files"]
    assert f"+++ {env}\n" in document["diff"]
    assert "hunter2secret" not in captured.out
    assert captured.err.startswith("portplan: ") and "missing or stale" in captured.err
    assert not out.exists()

    assert main(args) == 0
    document = json.loads(capsys.readouterr().out)
    assert "diff" not in document and document["check"] is False
    assert {"path": env, "state": "missing", "written": True} in document["files"]
    assert main([*args, "--check"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert {f["state"] for f in document["files"]} == {"fresh"} and document["diff"] == ""
    assert main(args) == 0
    assert {f["written"] for f in json.loads(capsys.readouterr().out)["files"]} == {False}


@pytest.mark.parametrize("name", ["ls", "free"])
def test_ls_and_free_json_say_what_they_are(name: str, plan: Path, capsys: Capture) -> None:
    assert main([name, "-f", str(plan), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert list(document)[:2] == ["version", "command"]
    assert (document["version"], document["command"]) == (1, name)
