"""The README's example stack (examples/deltran with its demo fixture) really runs."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from portplan.live.sockets import listeners
from portplan.plan.loader import load
from portplan.run import process
from tests.conftest import EXAMPLES
from tests.run.conftest import portplan, state_document

ROOT = EXAMPLES.parent
PLAN = "examples/deltran/portplan.yaml"


def _readme_commands() -> list[list[str]]:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("### Run the example stack", 1)[1].split("```\n", 2)[1]
    return [shlex.split(line.split("#", 1)[0])[1:] for line in block.splitlines()]


def test_readme_stack_commands(state_root: Path) -> None:
    ports = {p.number for s in load(ROOT / PLAN).services.values() for p in s.ports}
    if {li.port for li in listeners(("tcp",), ports=ports, owners=False)}:
        pytest.skip("a port of the DelTran plan is in use on this machine")
    commands = _readme_commands()
    assert [c[0] for c in commands] == ["up", "status", "ps", "down"]
    results = []
    for command in commands:
        if command[0] == "down":
            document = state_document(state_root)
        results.append(portplan(*command, cwd=ROOT))
    if "already held; nothing started" in results[0].stderr:
        pytest.skip("a port of the DelTran plan was taken meanwhile: " + results[0].stderr)
    logs = {p.name: p.read_text()[-300:] for p in state_root.glob("run/*/main/logs/*.log")}
    assert [r.returncode for r in results] == [0, 0, 0, 0], ([r.stderr for r in results], logs)
    shown = results[1].stdout.splitlines()
    assert shown[-1] == (
        "20 ports on host default: 20 up, 0 down, 0 squatted, 0 unexpected; 0 errors, 0 warnings"
    )
    head = next(i for i, line in enumerate(shown) if line.startswith("SERVICE "))
    assert shown[head - 1].startswith("stack running since ")
    rows = [line.split() for line in shown[head + 1 : -2]]
    assert len(rows) == 14 and {row[1] for row in rows} == {"ready"}
    assert process.members(document["groups"]) == []
    assert not listeners(("tcp",), ports=ports, owners=False)


def test_a_copy_of_the_demo_stack_passes_its_health_checks(state_root: Path) -> None:
    up = portplan("up", "-f", PLAN, "--detach", "--copy", "test", cwd=ROOT)
    assert up.returncode == 0, up.stderr
    listed = json.loads(
        portplan("ps", "-f", PLAN, "--copy", "test", "--format", "json", cwd=ROOT).stdout
    )
    units = listed["services"]
    assert len(units) == 14 and {u["state"] for u in units.values()} == {"ready"}
    assert units["gateway"]["last_probe"].endswith("/health: 200")
    document = state_document(state_root, "test")
    assert portplan("down", "-f", PLAN, "--copy", "test", cwd=ROOT).returncode == 0
    assert process.members(document["groups"]) == []
