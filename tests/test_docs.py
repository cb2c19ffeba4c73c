"""Docs that cannot rot: README examples, the rules page and the format page run as tests."""

from __future__ import annotations

import re

import pytest

from portplan import rules
from portplan.cli import cli, main
from portplan.plan.loader import load_text
from tests.conftest import EXAMPLES

ROOT = EXAMPLES.parent
README = (ROOT / "README.md").read_text()


def test_readme_starts_with_the_two_commands() -> None:
    first, second = README.splitlines()[:2]
    assert first.strip().endswith("portplan check -f examples/ai-trading-platform/portplan.yaml")
    assert second.strip().endswith(".venv/bin/python -m pytest")
    ci = (ROOT / ".ci" / "run").read_text()
    setup = (
        "python3 -m venv .venv && .venv/bin/pip install -q pip==26.3"
        " && .venv/bin/pip install -q -c constraints.txt -e '.[test]'"
    )
    assert second.strip().startswith(setup) and setup in ci
    assert ".venv/bin/python -m pytest" in ci


def test_readme_console_example_is_real(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    block = README.split("```console\n$ ", 1)[1].split("```", 1)[0]
    command, *shown = block.splitlines()
    monkeypatch.chdir(ROOT)
    main(command.split()[1:])
    actual = capsys.readouterr().out.splitlines()
    for line in shown:
        if line.strip() != "...":
            assert line in actual


@pytest.mark.parametrize("name", cli.list_commands(None))  # type: ignore[arg-type]
def test_every_command_has_help_and_is_documented(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([name, "--help"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"Usage: portplan {name}")
    command = cli.get_command(None, name)  # type: ignore[arg-type]
    assert command is not None and command.help and len(command.help) > 20
    assert f"portplan {name}" in README or f"`{name}`" in README


def test_docs_name_no_path_outside_the_repository() -> None:
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        assert "../shared/" not in page.read_text(), page.name


def test_rules_page_is_current() -> None:
    assert (ROOT / "docs" / "rules.md").read_text() == rules.markdown()


def test_topology_page_example_loads_and_checks() -> None:
    page = (ROOT / "docs" / "topology.md").read_text()
    example = re.search(r"```yaml\n(.*?)```", page, re.S)
    assert example is not None
    topology = load_text(example.group(1), "topology.md")
    assert sorted(topology.services) == ["gateway", "postgres", "token-engine"]
    token = topology.services["token-engine"]
    assert [(p.name, p.number, p.protocol, p.kind) for p in token.ports] == [
        ("http", 8081, "tcp", "http"),
        ("grpc", 50051, "tcp", "grpc"),
        ("dns", 5353, "udp", "dns"),
    ]
    found = rules.run(topology, rules.Context())
    assert [(f.rule, f.message) for f in found] == [
        (
            "PP109",
            "token-engine.grpc is 50051, inside the ephemeral range 49152-65535 "
            "(host server): an outgoing connection may take it first",
        ),
    ]
