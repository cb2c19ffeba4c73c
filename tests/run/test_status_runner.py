"""`portplan status` with the runner's view of a stack that `up --detach` runs: real
processes, real sockets, the real console script."""

from __future__ import annotations

import json
import os
import re
import signal
import time
import uuid
from pathlib import Path

import pytest

from tests.run import conftest as run


def _plan(tmp_path: Path, ports: list[int]) -> Path:
    def service(name: str, port: int, extra: str) -> str:
        variable = f"{name.upper()}_PORT"
        return (
            f"  {name}:\n"
            f"    ports: {{main: {{port: {port}, env: {variable}, health: {{tcp: true}}}}}}\n"
            f"{extra}"
            f"    run:\n"
            f"      command: {run.listen_command(variable)}\n"
            "      env: {MARK: '${MARK}'}\n"
            "      stop: {grace: 2s}\n"
        )

    path = tmp_path / "portplan.yaml"
    path.write_text(
        "services:\n"
        + service("db", ports[0], "")
        + service("api", ports[1], "    depends_on: [db]\n")
        + "      restart: {policy: on-failure, backoff: 30s}\n"
    )
    return path


def _clock(when: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(when))


@pytest.fixture
def marker(monkeypatch: pytest.MonkeyPatch) -> str:
    value = uuid.uuid4().hex
    monkeypatch.setenv("MARK", value)
    return value


def test_status_shows_the_runner_view_with_the_health_checks(
    tmp_path: Path, state_root: Path, marker: str
) -> None:
    ports = [run.free_port(), run.free_port()]
    plan = _plan(tmp_path, ports)
    before = run.portplan("status", "-f", str(plan))
    assert before.returncode == 1
    assert "stack " not in before.stdout and "SERVICE" not in before.stdout

    up = run.portplan("up", "-f", str(plan), "--detach")
    assert up.returncode == 0, up.stderr
    document = run.state_document(state_root)
    units = document["services"]
    shown = run.portplan("status", "-f", str(plan))
    assert shown.returncode == 0, shown.stdout
    lines = shown.stdout.splitlines()
    head = lines.index(
        f"stack running since {_clock(document['started_at'])}, "
        f"supervisor {document['supervisor']} running"
    )
    table = [re.split(r"\s{2,}", line) for line in lines[head + 1 : head + 4]]
    assert table[0] == ["SERVICE", "STATE", "PID", "RESTARTS", "READY SINCE", "READY IN", "HEALTH"]
    for row, name in zip(table[1:], ("db", "api"), strict=True):
        unit = units[name]
        assert row[:6] == [
            name,
            "ready",
            str(unit["pid"]),
            "0",
            _clock(unit["ready_at"]),
            f"{unit['ready_in']:.2f}s",
        ]
        assert re.fullmatch(r"main connected \d+\.\d ms", row[6]), row
    assert lines[-1] == (
        "2 ports on host default: 2 up, 0 down, 0 squatted, 0 unexpected; 0 errors, 0 warnings"
    )

    as_json = json.loads(run.portplan("status", "-f", str(plan), "--format", "json").stdout)
    runner = as_json["runner"]
    assert runner["status"] == "running" and runner["supervisor_running"] is True
    assert list(runner["services"]) == ["db", "api"]
    api = runner["services"]["api"]
    assert (api["state"], api["pid"], api["restarts"]) == ("ready", units["api"]["pid"], 0)
    assert [(h["port_name"], h["kind"], h["healthy"]) for h in api["health"]] == [
        ("main", "tcp", True)
    ]

    # api dies; its restart waits 30 s: status shows it restarting, its port down, exit 1
    os.kill(units["api"]["pid"], signal.SIGKILL)
    run.wait_for(
        lambda: run.state_document(state_root)["services"]["api"]["state"] == "restarting",
        what="api restarting",
    )
    after = run.portplan("status", "-f", str(plan))
    assert after.returncode == 1
    api_row = next(line for line in after.stdout.splitlines() if line.startswith("api "))
    assert api_row.split()[:4] == ["api", "restarting", str(units["api"]["pid"]), "0"]
    assert api_row.split()[-1] == "-"  # its port is down: no health check ran

    assert run.portplan("down", "-f", str(plan)).returncode == 0
    gone = run.portplan("status", "-f", str(plan))
    assert "SERVICE" not in gone.stdout
    assert run.marked_processes(marker) == []
