"""`up`, `down`, `ps`, `logs`, `restart` with real child processes and real sockets."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from portplan.cli import main
from portplan.run import process
from tests.run.conftest import (
    connectable,
    free_port,
    listen_command,
    marked_processes,
    portplan,
    state_document,
    wait_for,
)

Plan = Callable[[str], Path]


def _service(name: str, port: int, *, deps: str = "", run: str = "", delay: float = 0) -> str:
    variable = f"{name.upper()}_PORT"
    lines = [
        f"  {name}:",
        f"    ports: {{main: {{port: {port}, env: {variable}}}}}",
        f"    depends_on: [{deps}]" if deps else "",
        "    run:",
        f"      command: {listen_command(variable)}",
        f"      env: {{DELAY: '{delay}', TRACE: '${{TRACE}}', MARK: '${{MARK}}'}}",
        "      stop: {grace: 2s}",
        *(f"      {line}" for line in run.splitlines()),
    ]
    return "\n".join(line for line in lines if line) + "\n"


def _trace(path: Path) -> dict[tuple[str, str], float]:
    events = {}
    for line in path.read_text().splitlines():
        name, what, when = line.split()
        events[name, what] = float(when)
    return events


@pytest.fixture
def marker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    value = uuid.uuid4().hex
    monkeypatch.setenv("MARK", value)
    monkeypatch.setenv("TRACE", str(tmp_path / "trace"))
    return value


def _stack_gone(root: Path, document: dict[str, Any]) -> None:
    """No process is left of a group the stack started: those the state file lists, and
    each service's (its PID is its group's id; an ended group is no longer listed)."""
    groups = {int(g) for g in document["groups"]}
    groups |= {int(u["pid"]) for u in document["services"].values() if u["pid"]}
    assert groups
    assert process.members(groups) == []


def test_foreground_order_parallelism_and_ctrl_c(
    write_plan: Plan, state_root: Path, marker: str, tmp_path: Path
) -> None:
    ports = [free_port() for _ in range(3)]
    plan = write_plan(
        "services:\n"
        + _service("a", ports[0], delay=0.3)
        + _service("b", ports[1], delay=0.3)
        + _service("c", ports[2], deps="a, b")
    )
    child = subprocess.Popen(
        [sys.executable, "-m", "portplan", "up", "-f", str(plan)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: state_document(state_root).get("status") == "running", what="running")
        document = state_document(state_root)
        assert all(connectable(p) for p in ports)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, err
    events = _trace(tmp_path / "trace")
    # a and b start together: each started before the other listened
    assert events["a", "start"] < events["b", "listen"]
    assert events["b", "start"] < events["a", "listen"]
    # c starts only once both are ready
    assert events["c", "start"] > max(events["a", "listen"], events["b", "listen"])
    lines = out.splitlines()
    assert any(line.startswith("a        | listening on") for line in lines)
    ready = [line for line in lines if " ready in " in line]
    assert [line.split()[2] for line in ready][-1] == "c"
    stopped = [line.split()[2] for line in lines if line.endswith(" stopped")]
    assert stopped[0] == "c" and set(stopped) == {"a", "b", "c"}  # reverse order
    _stack_gone(state_root, document)
    assert not any(connectable(p) for p in ports)
    assert marked_processes(marker) == []


def test_a_held_port_stops_up_before_anything_starts(
    write_plan: Plan, state_root: Path, marker: str, capsys: pytest.CaptureFixture[str]
) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import socket,time;s=socket.socket();s.bind(('127.0.0.1',0));"
            "s.listen();print(s.getsockname()[1],flush=True);time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "MARK"},
    )
    try:
        assert holder.stdout is not None
        held = int(holder.stdout.readline())
        plan = write_plan(
            "services:\n" + _service("a", free_port()) + _service("b", held, deps="a")
        )
        assert main(["up", "-f", str(plan)]) == 1
        err = capsys.readouterr().err
        assert err.startswith(
            "portplan: error: 1 port of the stack already held; nothing started:\n"
        )
        assert f"  b.main (tcp/{held}) is held by process {holder.pid} ({sys.executable} -c " in err
        assert marked_processes(marker) == []
        assert state_document(state_root) == {}
    finally:
        holder.kill()
        holder.wait()


def test_readiness_timeout_names_the_service_and_last_probe(
    write_plan: Plan, state_root: Path, marker: str, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    plan = write_plan(
        "services:\n"
        "  slow:\n"
        f"    ports: {{http: {port}}}\n"
        "    run:\n"
        f"      command: {json.dumps([sys.executable, '-c', 'import time; time.sleep(60)'])}\n"
        "      env: {MARK: '${MARK}'}\n"
        "      ready: {timeout: 400ms}\n"
        "      stop: {grace: 1s}\n"
    )
    assert main(["up", "-f", str(plan)]) == 1
    err = capsys.readouterr().err
    assert err == (
        "portplan: error: slow did not become ready within 0.4s (last probe: "
        f"tcp 127.0.0.1:{port}: connection refused)\n"
    )
    _stack_gone(state_root, state_document(state_root))
    assert marked_processes(marker) == []


def test_a_ready_pattern_that_backtracks_gives_up_on_the_line_and_the_deadline_holds(
    write_plan: Plan, state_root: Path, marker: str
) -> None:
    """`^(a|aa)*$` on a line of 60 a's and a `!` backtracks for ages: the runner gives the
    line up after its limit, says so, and the ready timeout ends `up` as usual."""
    line = "a" * 60 + "!"
    script = f"print({line!r}, flush=True); import time; time.sleep(60)"
    plan = write_plan(
        "services:\n"
        "  slow:\n"
        "    run:\n"
        f"      command: {json.dumps([sys.executable, '-c', script])}\n"
        "      env: {MARK: '${MARK}'}\n"
        "      ready: {log: '^(a|aa)*$', timeout: 2s}\n"
        "      stop: {grace: 1s}\n"
    )
    done = portplan("up", "-f", str(plan))
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines()[-1] == (
        "portplan: error: slow did not become ready within 2s "
        "(last probe: no line matched '^(a|aa)*$' yet)"
    )
    assert (
        "slow: its ready pattern took over 0.25s on a line of output; "
        "such lines count as not matching" in done.stdout + done.stderr
    )
    _stack_gone(state_root, state_document(state_root))
    assert marked_processes(marker) == []


def test_detach_kill_9_restart_policy_ps_logs_down(
    write_plan: Plan, state_root: Path, marker: str
) -> None:
    ports = [free_port(), free_port()]
    plan = write_plan(
        "services:\n"
        + _service("db", ports[0], run="restart: {policy: on-failure, backoff: 50ms}")
        + _service("api", ports[1], deps="db", run="restart: with-dependency")
    )
    result = portplan("up", "-f", str(plan), "--detach")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("db: ready in ")
    document = state_document(state_root)
    db_pid = document["services"]["db"]["pid"]
    api_pid = document["services"]["api"]["pid"]
    os.kill(db_pid, signal.SIGKILL)

    def restarted() -> bool:
        units = state_document(state_root)["services"]
        return (
            units["db"]["restarts"] == 1
            and units["db"]["state"] == "ready"
            and units["api"]["restarts"] == 1
            and units["api"]["state"] == "ready"
        )

    wait_for(restarted, what="db restarted and api following it")
    units = state_document(state_root)["services"]
    assert units["db"]["pid"] != db_pid and units["api"]["pid"] != api_pid
    assert not process.alive(db_pid) and not process.alive(api_pid)

    listing = portplan("ps", "-f", str(plan), "--format", "json")
    assert listing.returncode == 0, listing.stderr
    assert json.loads(listing.stdout)["services"]["db"]["restarts"] == 1
    text = portplan("ps", "-f", str(plan)).stdout.splitlines()
    assert text[1].split() == ["SERVICE", "STATE", "PID", "PORTS", "READY", "SINCE", "RESTARTS"]
    logs = portplan("logs", "--file", str(plan), "db").stdout.splitlines()
    assert logs == [f"db | listening on {ports[0]}"] * 2

    document = state_document(state_root)
    stopped = portplan("down", "-f", str(plan))
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout == "stopped 2 services; no process left, every port free\n"
    _stack_gone(state_root, document)
    assert marked_processes(marker) == []
    assert not any(connectable(p) for p in ports)
    assert portplan("ps", "-f", str(plan)).returncode == 1


def test_restart_command_and_completed_condition(
    write_plan: Plan, state_root: Path, marker: str, tmp_path: Path
) -> None:
    port = free_port()
    migrate = json.dumps([sys.executable, "-c", "print('migrated')"])
    plan = write_plan(
        "services:\n"
        "  migrate:\n"
        f"    run: {{command: {migrate}, env: {{MARK: '${{MARK}}'}}}}\n"
        + _service("api", port, deps="migrate", run="wait_for: {migrate: completed}")
    )
    assert portplan("up", "-f", str(plan), "-d").returncode == 0
    units = state_document(state_root)["services"]
    assert units["migrate"]["state"] == "completed"
    before = units["api"]["pid"]
    again = portplan("restart", "-f", str(plan), "api")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("api: ready again in ")
    after = state_document(state_root)["services"]["api"]
    assert after["pid"] != before and after["restarts"] == 1
    assert not process.alive(before)
    assert portplan("down", "-f", str(plan)).returncode == 0
    assert marked_processes(marker) == []


def test_a_failed_service_ends_the_run_through_the_stop_path(
    write_plan: Plan, state_root: Path, marker: str, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    crash = json.dumps([sys.executable, "-c", "import sys,time; time.sleep(0.3); sys.exit(3)"])
    plan = write_plan(
        "services:\n" + _service("db", port) + "  worker:\n    depends_on: [db]\n"
        f"    run: {{command: {crash}, ready: started, env: {{MARK: '${{MARK}}'}}}}\n"
    )
    assert main(["up", "-f", str(plan)]) == 1
    assert capsys.readouterr().err == (
        "portplan: error: worker exited with code 3; stopping the stack\n"
    )
    _stack_gone(state_root, state_document(state_root))
    assert marked_processes(marker) == []
    assert not connectable(port)


def test_two_copies_at_once_get_disjoint_ports(
    write_plan: Plan, state_root: Path, marker: str
) -> None:
    ports = [free_port(), free_port()]
    plan = write_plan(
        "services:\n" + _service("db", ports[0]) + _service("api", ports[1], deps="db")
    )
    results: dict[str, subprocess.CompletedProcess[str]] = {}

    def start(copy: str) -> None:
        results[copy] = portplan("up", "-f", str(plan), "-d", "--copy", copy)

    threads = [threading.Thread(target=start, args=(c,)) for c in ("x", "y")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r.returncode == 0 for r in results.values()), results
    claimed = {}
    for copy in ("x", "y"):
        units = state_document(state_root, copy)["services"]
        claimed[copy] = {p["port"] for u in units.values() for p in u["ports"]}
        assert all(connectable(p) for p in claimed[copy])
    assert not claimed["x"] & claimed["y"]
    assert not (claimed["x"] | claimed["y"]) & set(ports)
    exported = portplan("env", "-f", str(plan), "--copy", "x", "api").stdout
    api_port = state_document(state_root, "x")["services"]["api"]["ports"][0]["port"]
    assert f'export API_PORT="{api_port}"' in exported.splitlines()
    for copy in ("x", "y"):
        document = state_document(state_root, copy)
        assert portplan("down", "-f", str(plan), "--copy", copy).returncode == 0
        _stack_gone(state_root, document)
        assert not list(state_root.glob(f"run/*/{copy}/ports.json"))
    assert marked_processes(marker) == []


def test_a_second_up_of_a_running_stack_is_refused(
    write_plan: Plan, state_root: Path, marker: str
) -> None:
    plan = write_plan("services:\n" + _service("db", free_port()))
    assert portplan("up", "-f", str(plan), "-d").returncode == 0
    again = portplan("up", "-f", str(plan), "-d")
    assert again.returncode == 1
    assert "is up already" in again.stderr
    assert portplan("down", "-f", str(plan)).returncode == 0
    assert portplan("down", "-f", str(plan)).stdout == "nothing is up\n"


def test_many_services_at_once_detached(write_plan: Plan, state_root: Path, marker: str) -> None:
    """Twelve services become ready together: the state file ends "running" (every thread
    publishes it; a late older snapshot must not win) and `up --detach` returns."""
    ports = [free_port() for _ in range(12)]
    plan = write_plan("services:\n" + "".join(_service(f"s{i}", p) for i, p in enumerate(ports)))
    result = portplan("up", "-f", str(plan), "-d")
    assert result.returncode == 0, result.stderr
    document = state_document(state_root)
    assert document["status"] == "running"
    assert {u["state"] for u in document["services"].values()} == {"ready"}
    assert portplan("down", "-f", str(plan)).returncode == 0
    _stack_gone(state_root, document)
    assert marked_processes(marker) == []


def _stranger_with_pid(pid: int) -> subprocess.Popen[bytes]:
    """A program in a session of its own whose PID, and so whose process group's id, is
    `pid`: what PIDs wrapping around (32,768 by default, soon used on a busy machine) make
    of an ended stack's group. The kernel's next PID is set in /proc/sys/kernel/ns_last_pid
    (root); other programs starting meanwhile may take it first: tried again."""
    for _ in range(200):
        Path("/proc/sys/kernel/ns_last_pid").write_text(str(pid - 1))
        child = subprocess.Popen(["sleep", "120"], start_new_session=True)
        if child.pid == pid:
            return child
        child.kill()
        child.wait()
    raise AssertionError(f"PID {pid} was not free to take")


@pytest.mark.skipif(os.geteuid() != 0, reason="sets the kernel's next PID (root only)")
def test_a_group_that_has_ended_is_never_signaled_again(write_plan: Plan, state_root: Path) -> None:
    """A service's group id, once its group has ended and its leader been reaped, may be a
    stranger's: the supervisor's stop path (and `down`) must not signal it. They did, and a
    stopping stack killed another stack's service that had got the number (the flake of
    test_many_services_at_once_detached: a stack "stopping" right after `up -d`)."""
    done = json.dumps([sys.executable, "-c", "print('done')"])
    plan = write_plan(
        f"services:\n  once: {{run: {{command: {done}}}}}\n" + _service("web", free_port())
    )
    assert portplan("up", "-f", str(plan), "-d").returncode == 0
    document = state_document(state_root)
    once = document["services"]["once"]
    assert once["state"] == "completed"
    stranger = _stranger_with_pid(once["pid"])
    try:
        assert portplan("down", "-f", str(plan)).returncode == 0
        assert stranger.poll() is None  # never signaled
    finally:
        stranger.kill()
        stranger.wait()
    # nor listed for `down` to stop
    assert once["group"] is None and once["pid"] not in document["groups"]


def test_a_port_used_by_a_connection_stops_up(
    write_plan: Plan, state_root: Path, marker: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname()) as client:
            local = client.getsockname()[1]
            plan = write_plan("services:\n" + _service("a", local))
            assert main(["up", "-f", str(plan)]) == 1
    assert capsys.readouterr().err == (
        "portplan: error: 1 port of the stack already held; nothing started:\n"
        f"  a.main (tcp/{local}) is in use by a connection of this machine (its local port; "
        "see PP109)\n"
    )
    assert marked_processes(marker) == []


def test_a_run_of_one_shot_services_ends_when_all_completed(
    write_plan: Plan, state_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    done = json.dumps([sys.executable, "-c", "print('done')"])
    plan = write_plan(
        f"services:\n  a: {{run: {{command: {done}}}}}\n"
        f"  b: {{depends_on: [a], run: {{command: {done}, wait_for: {{a: completed}}}}}}\n"
    )
    assert main(["up", "-f", str(plan)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "portplan | every service has completed"
    assert {"a        | done", "b        | done"} <= set(out)
    assert out.index("portplan | a completed (exit code 0)") < out.index("b        | done")
    assert "portplan | b completed (exit code 0)" in out
