"""`listen: inherit`: `up` binds the port itself and passes the socket to the process by
the systemd socket-activation protocol. Real processes, real sockets."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from portplan.errors import InputError
from portplan.plan.loader import load_text
from portplan.run import listen
from portplan.run.ready import PortsHeld
from tests.run import conftest as run

# A program written for socket activation: it takes its sockets from LISTEN_FDS (fd 3 on,
# named by LISTEN_FDNAMES) and binds nothing. Before it touches them it notes whether its
# port could still be bound (it should be held already) and what LISTEN_PID says.
ACTIVATED = r"""
import json, os, socket, sys, threading
port = int(os.environ["WEB_PORT"])
probe = socket.socket()
try:
    probe.bind(("127.0.0.1", port))
    held = "free"
except OSError:
    held = "held"
probe.close()
names = os.environ.get("LISTEN_FDNAMES", "").split(":")
info = {"status": "ok", "pid": os.getpid(), "listen_pid": os.environ.get("LISTEN_PID"),
        "fds": os.environ.get("LISTEN_FDS"), "names": names, "held": held}
print(json.dumps(info), flush=True)
sockets = {name: socket.socket(fileno=3 + i) for i, name in enumerate(names)}
info["bound"] = sockets["http"].getsockname()[1]

def serve_udp(sock):
    while True:
        data, peer = sock.recvfrom(100)
        sock.sendto(data + b" from %d" % os.getpid(), peer)

if "beacon" in sockets:
    threading.Thread(target=serve_udp, args=(sockets["beacon"],), daemon=True).start()
while True:
    conn, _ = sockets["http"].accept()
    conn.recv(4096)
    body = json.dumps(info).encode()
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                 + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
    conn.close()
"""

# Waits for the file $GATE, then says so; shows what LISTEN_FDS it was given.
GATE = (
    "import os,time\n"
    "while not os.path.exists(os.environ['GATE']): time.sleep(0.02)\n"
    "print('open, LISTEN_FDS', os.environ.get('LISTEN_FDS'), flush=True)\n"
    "time.sleep(600)\n"
)


@pytest.fixture
def marker(monkeypatch: pytest.MonkeyPatch) -> str:
    value = uuid.uuid4().hex
    monkeypatch.setenv("MARK", value)
    return value


def _web(port: int, extra_ports: str = "", run_extra: str = "") -> str:
    return (
        "  web:\n"
        "    ports:\n"
        f"      http: {{port: {port}, env: WEB_PORT, listen: inherit, "
        "health: {path: /health, expect: {status: ok}}}\n"
        f"{extra_ports}"
        "    run:\n"
        f"      command: {json.dumps([sys.executable, '-c', ACTIVATED])}\n"
        "      env: {MARK: '${MARK}'}\n"
        "      stop: {grace: 2s}\n"
        f"{run_extra}"
    )


def _get(port: int, sock: socket.socket | None = None) -> dict[str, object]:
    with sock or socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.settimeout(10)
        conn.sendall(b"GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := conn.recv(4096):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK"), head
    document = json.loads(body)
    assert isinstance(document, dict)
    return document


def _bindable(port: int, kind: int = socket.SOCK_STREAM) -> bool:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as a server would
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_inherited_sockets_serve_from_fd_3_and_outlive_a_restart(
    tmp_path: Path, state_root: Path, marker: str
) -> None:
    port, beacon = run.free_port(), run.free_port()
    plan = tmp_path / "portplan.yaml"
    plan.write_text(
        "services:\n"
        + _web(
            port,
            extra_ports=f"      beacon: {{port: {beacon}, protocol: udp, listen: inherit}}\n",
            run_extra="      restart: {policy: on-failure, backoff: 200ms}\n",
        )
    )
    up = run.portplan("up", "-f", str(plan), "--detach")
    assert up.returncode == 0, up.stderr
    pid = run.state_document(state_root)["services"]["web"]["pid"]
    answer = _get(port)
    assert answer == {
        "status": "ok",
        "pid": pid,
        "listen_pid": str(pid),
        "fds": "2",
        "names": ["http", "beacon"],
        "held": "held",
        "bound": port,
    }
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(10)
        udp.sendto(b"ping", ("127.0.0.1", beacon))
        assert udp.recv(100) == b"ping from %d" % pid

    # the process dies: the sockets stay with the supervisor, nobody can take the port,
    # and the restarted process serves the same ones
    os.kill(pid, signal.SIGKILL)
    assert not _bindable(port) and not _bindable(beacon, socket.SOCK_DGRAM)

    def restarted() -> bool:
        unit = run.state_document(state_root)["services"]["web"]
        return bool(unit["restarts"] == 1 and unit["state"] == "ready")

    run.wait_for(restarted, what="web restarted")
    again = _get(port)
    assert again["pid"] != pid and again["listen_pid"] == str(again["pid"])
    assert again["names"] == ["http", "beacon"] and again["held"] == "held"

    down = run.portplan("down", "-f", str(plan))
    assert down.returncode == 0, down.stdout + down.stderr
    assert _bindable(port) and _bindable(beacon, socket.SOCK_DGRAM)
    assert run.marked_processes(marker) == []


def test_the_port_is_held_and_queues_connections_before_its_process_starts(
    tmp_path: Path, state_root: Path, marker: str
) -> None:
    port = run.free_port()
    gate_file = tmp_path / "gate"
    plan = tmp_path / "portplan.yaml"
    plan.write_text(
        "services:\n"
        "  gate:\n"
        "    run:\n"
        f"      command: {json.dumps([sys.executable, '-c', GATE])}\n"
        f"      env: {{MARK: '${{MARK}}', GATE: '{gate_file}'}}\n"
        "      ready: {log: '^open'}\n"
        "      stop: {grace: 2s}\n"
        + _web(port).replace("  web:\n", "  web:\n    depends_on: [gate]\n")
    )
    # up's own environment carries stale socket-activation variables: no process gets them
    environment = {**os.environ, "LISTEN_FDS": "7", "LISTEN_PID": "1", "LISTEN_FDNAMES": "x"}
    child = subprocess.Popen(
        [sys.executable, "-m", "portplan", "up", "-f", str(plan)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        run.wait_for(
            lambda: run.state_document(state_root).get("services", {}).get("gate", {}).get("pid"),
            what="gate started",
        )
        units = run.state_document(state_root)["services"]
        assert units["web"]["state"] == "waiting" and units["web"]["pid"] is None
        assert not _bindable(port)  # held by up, before web's process exists
        early = socket.create_connection(("127.0.0.1", port), timeout=10)  # queued
        gate_file.write_text("")
        answer = _get(port, early)  # answered once web has started
        assert answer["held"] == "held" and answer["listen_pid"] == str(answer["pid"])
        assert answer["fds"] == "1" and answer["names"] == ["http"]
        run.wait_for(
            lambda: run.state_document(state_root).get("status") == "running", what="running"
        )
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 130, err
    assert any(line.endswith("| open, LISTEN_FDS None") for line in out.splitlines()), out
    assert _bindable(port)
    assert run.marked_processes(marker) == []


def test_a_port_that_cannot_be_bound_is_named_and_none_is_kept() -> None:
    free, held = run.free_port(), run.free_port()
    topology = load_text(
        "services:\n"
        "  web:\n"
        f"    ports: {{http: {{port: {free}, listen: inherit}}, "
        f"admin: {{port: {held}, listen: inherit}}}}\n"
        "    run: {command: web}\n"
    )
    with socket.socket() as holder:
        holder.bind(("0.0.0.0", held))
        holder.listen()
        with pytest.raises(PortsHeld) as caught:
            listen.bind(topology, ["web"])
    assert str(caught.value) == (
        "1 port of the stack already held; nothing started:\n"
        f"  web.admin (tcp/{held}) cannot be bound: Address already in use"
    )
    assert _bindable(free)


@pytest.mark.parametrize(
    ("ports", "run_section", "message"),
    [
        (
            "{sig: {port: 9000, protocol: sctp, listen: inherit}}",
            "    run: {command: x}\n",
            "portplan.yaml:3:55: services.api.ports.sig.listen: inherit needs a tcp or udp "
            "port, got sctp",
        ),
        (
            "{http: {port: 9000, listen: inherit}}",
            "",
            "portplan.yaml:3:40: services.api.ports.http.listen: inherit needs a run: section "
            "(portplan up binds the port for the process it starts)",
        ),
        (
            "{http: {port: 9000, listen: passed}}",
            "    run: {command: x}\n",
            "portplan.yaml:3:40: services.api.ports.http.listen: expected one of self, "
            "inherit, got a string of 6 characters",
        ),
    ],
)
def test_check_validates_listen(ports: str, run_section: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        load_text(f"services:\n  api:\n    ports: {ports}\n{run_section}")
    assert str(caught.value) == message


def test_listen_is_parsed_and_published() -> None:
    topology = load_text(
        "services:\n  api:\n    ports: {http: {port: 9000, listen: inherit}, m: 9100}\n"
        "    run: {command: x}\n"
    )
    assert [p.listen for p in topology.services["api"].ports] == ["inherit", "self"]
    assert listen.inherited(topology, ["api"]) == [("api", topology.services["api"].ports[0])]
