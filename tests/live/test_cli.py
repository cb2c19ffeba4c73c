"""The four commands in-process, with exact output, against real listeners and servers."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from portplan.cli import main
from portplan.live.owners import is_running, process_info
from portplan.live.text import printable
from tests.live.conftest import (
    PLANTED_PASSWORD,
    PLANTED_TOKEN,
    Child,
    HttpServer,
    free_port,
    port_of,
)

Capture = pytest.CaptureFixture[str]


def _since(pid: int) -> str:
    info = process_info(pid)
    assert info is not None and info.started is not None
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.started))


def _command(pid: int) -> str:
    info = process_info(pid)
    assert info is not None
    return printable(info.command)


def _split(line: str, columns: int = 8) -> list[str]:
    """Table cells (two spaces or more apart); the last (the command) is taken whole."""
    import re

    return re.split(r"\s{2,}", line.strip(), maxsplit=columns - 1)


@pytest.fixture(autouse=True)
def _no_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no portplan.yaml here or above (tmp is outside the repo)


def test_ports_lists_the_holder(holder: Child, capsys: Capture) -> None:
    assert main(["ports"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert _split(lines[0]) == [
        "PROTO",
        "ADDRESS",
        "PORT",
        "PID",
        "USER",
        "SINCE",
        "NAME",
        "COMMAND",
    ]
    mine = [_split(line) for line in lines if f"  {holder.port}  " in line]
    info = process_info(holder.pid)
    assert info is not None
    assert mine == [
        [
            "tcp",
            "127.0.0.1",
            str(holder.port),
            str(holder.pid),
            str(info.user),
            _since(holder.pid),
            info.name,
            _command(holder.pid),
        ]
    ]


def test_ports_folds_addresses_unless_asked(capsys: Capture) -> None:
    v4 = socket.socket(socket.AF_INET)
    v4.bind(("127.0.0.1", 0))
    v6 = socket.socket(socket.AF_INET6)
    v6.bind(("::1", port_of(v4)))
    for sock in (v4, v6):
        sock.listen(1)
    try:
        port = str(port_of(v4))
        main(["ports"])
        rows = [_split(li) for li in capsys.readouterr().out.splitlines() if f"  {port}  " in li]
        assert [row[:3] for row in rows] == [["tcp", "127.0.0.1,::1", port]]
        main(["ports", "--all-addresses"])
        rows = [_split(li) for li in capsys.readouterr().out.splitlines() if f"  {port}  " in li]
        assert [row[:3] for row in rows] == [["tcp", "127.0.0.1", port], ["tcp", "::1", port]]
    finally:
        v4.close()
        v6.close()


def test_ports_udp_and_json(listeners4: dict[str, socket.socket], capsys: Capture) -> None:
    assert main(["ports", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert list(document) == ["version", "command", "summary", "listeners"]
    ports = {(li["protocol"], li["port"]) for li in document["listeners"]}
    udp = ("udp", port_of(listeners4["udp4"]))
    assert ("tcp", port_of(listeners4["tcp4"])) in ports and udp not in ports
    assert main(["ports", "--json", "--udp"]) == 0
    document = json.loads(capsys.readouterr().out)
    record = next(li for li in document["listeners"] if (li["protocol"], li["port"]) == udp)
    assert record["pid"] == os.getpid() and record["access"] == "known"
    assert record["service"] is None and record["port_name"] is None
    assert document["summary"]["udp"] >= 2


def test_ports_json_records_match_the_library(holder: Child, capsys: Capture) -> None:
    from portplan.live.sockets import listeners

    main(["ports", "--json"])
    document = json.loads(capsys.readouterr().out)
    record = next(li for li in document["listeners"] if li["port"] == holder.port)
    [listener] = [li for li in listeners() if li.port == holder.port]
    assert record == {**listener.as_dict(), "service": None, "port_name": None}


PLAN = """\
system: demo
ranges:
  http: {{ports: {low}-{high}, kind: http}}
services:
  gateway:
    ports:
      http: {{port: {up}, health: {{path: /ok, expect: {{status: ok}}}}}}
  token-engine:
    ports:
      http: {{port: {down}, health: /ok}}
      metrics: {{port: {wrong}, health: {{path: /healthy, expect: {{status: ok}}}}}}
"""


def _plan_file(tmp_path: Path, http_server: HttpServer, down: int) -> Path:
    path = tmp_path / "portplan.yaml"
    port = http_server.port
    # the managed range holds the server's port only: other listeners here are not ours
    text = PLAN.format(low=port, high=port, up=port, down=down, wrong=port)
    path.write_text(text)
    return path


def test_status_text(tmp_path: Path, http_server: HttpServer, capsys: Capture) -> None:
    down = free_port()
    path = _plan_file(tmp_path, http_server, down)
    assert main(["status", "-f", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    pid = str(os.getpid())
    name = process_info(os.getpid()).name  # type: ignore[union-attr]
    table = [_split(line) for line in lines[:4]]
    assert table[0] == ["PORT", "PROTO", "NUMBER", "STATE", "PID", "PROCESS", "LATENCY", "HEALTH"]
    assert [row[:6] for row in table[1:]] == [
        ["gateway.http", "tcp", str(http_server.port), "up", pid, name],
        ["token-engine.http", "tcp", str(down), "down", "-", "-"],
        ["token-engine.metrics", "tcp", str(http_server.port), "up", pid, name],
    ]
    assert table[1][6].endswith(" ms") and table[1][7] == "200"
    assert table[2][6:] == ["-", "-"]
    assert table[3][7] == 'unhealthy: body has status "healthy", expected "ok"'
    assert lines[4:] == [
        "",
        f"{path}:10:20: error: token-engine.http (tcp {down}) is down: nothing listens "
        "[PP501 port-down]",
        f"{path}:11:23: error: token-engine.metrics (tcp {http_server.port}) is unhealthy: "
        'body has status "healthy", expected "ok" [PP504 unhealthy]',
        "",
        "3 ports on host default: 2 up, 1 down, 0 squatted, 0 unexpected; 2 errors, 0 warnings",
    ]


@pytest.mark.parametrize(
    "flags", [["--json"], ["--format", "json"], ["--format=json", "--json"]], ids=" ".join
)
def test_status_json_and_discovery(
    tmp_path: Path, http_server: HttpServer, capsys: Capture, flags: list[str]
) -> None:
    _plan_file(tmp_path, http_server, free_port())
    assert main(["status", *flags]) == 1  # portplan.yaml found in the current folder
    document = json.loads(capsys.readouterr().out)
    assert [f["rule"] for f in document["findings"]] == ["PP501", "PP504"]
    assert document["summary"]["errors"] == 2 and document["summary"]["up"] == 2
    assert [p["state"] for p in document["ports"]] == ["up", "down", "up"]


@pytest.mark.parametrize("as_json", [False, True])
def test_status_never_shows_a_health_body(
    tmp_path: Path, http_server: HttpServer, capsys: Capture, as_json: bool
) -> None:
    path = tmp_path / "portplan.yaml"
    path.write_text(
        "services:\n  api:\n    ports:\n"
        f"      http: {{port: {http_server.port}, health: {{path: /leaky, expect: {{status: healthy}}}}}}\n"
        f"      raw: {{port: {http_server.port}, health: {{path: /text-secret, expect: {{status: ok}}}}}}\n"
    )
    assert main(["status", "-f", str(path), *(["--json"] if as_json else [])]) == 1
    out = capsys.readouterr().out
    for planted in (PLANTED_TOKEN, PLANTED_PASSWORD, "api_token", "checks", "xxx"):
        assert planted not in out
    details = ['body has status "degraded", expected "healthy"', "body is not JSON (27 bytes)"]
    if as_json:
        document = json.loads(out)
        assert [p["health"]["detail"] for p in document["ports"]] == details
        assert [f["message"] for f in document["findings"]] == [
            f"api.http (tcp {http_server.port}) is unhealthy: {details[0]}",
            f"api.raw (tcp {http_server.port}) is unhealthy: {details[1]}",
        ]
    else:
        lines = out.splitlines()
        assert [_split(line)[-1] for line in lines[1:3]] == [f"unhealthy: {d}" for d in details]
        assert lines[4:6] == [
            f"{path}:4:20: error: api.http (tcp {http_server.port}) is unhealthy: {details[0]}"
            " [PP504 unhealthy]",
            f"{path}:5:19: error: api.raw (tcp {http_server.port}) is unhealthy: {details[1]}"
            " [PP504 unhealthy]",
        ]


def test_status_all_well_exits_0(tmp_path: Path, http_server: HttpServer, capsys: Capture) -> None:
    path = tmp_path / "portplan.yaml"
    path.write_text(
        f"services:\n  gateway:\n    ports:\n      http: {{port: {http_server.port}, health: /ok}}\n"
    )
    assert main(["status", "-f", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "1 port on host default: 1 up, 0 down, 0 squatted, 0 unexpected; 0 errors, 0 warnings"
    )


def test_status_without_registry(capsys: Capture) -> None:
    assert main(["status"]) == 2
    assert capsys.readouterr().err == (
        "portplan: error: no portplan.yaml in this folder or any parent; give one with -f FILE\n"
    )


def test_status_watch_ends_with_130_on_interrupt(
    tmp_path: Path, http_server: HttpServer, capsys: Capture
) -> None:
    path = _plan_file(tmp_path, http_server, free_port())
    timer = threading.Timer(1.0, _interrupt_main)
    timer.start()
    try:
        code = main(["status", "-f", str(path), "--watch", "--interval", "0.2"])
    finally:
        timer.cancel()
    assert code == 130
    out = capsys.readouterr().out
    assert out.count("portplan status: host default, every 0.2s, ") >= 2
    assert out.endswith("\n") and "Traceback" not in out


def test_status_watch_json_writes_one_compact_document_per_refresh(
    tmp_path: Path, http_server: HttpServer, capsys: Capture
) -> None:
    path = _plan_file(tmp_path, http_server, free_port())
    timer = threading.Timer(1.0, _interrupt_main)
    timer.start()
    try:
        code = main(["status", "-f", str(path), "--watch", "--interval", "0.2", "--format", "json"])
    finally:
        timer.cancel()
    assert code == 130
    lines = capsys.readouterr().out.splitlines()
    documents = [json.loads(line) for line in lines if line]
    assert len(documents) >= 2 and lines[-1] == ""
    assert {tuple(p["state"] for p in d["ports"]) for d in documents} == {("up", "down", "up")}


def test_status_json_with_format_text_is_a_usage_error(capsys: Capture) -> None:
    assert main(["status", "--json", "--format", "text"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == "Error: --json is --format json: it cannot go with --format text"


def _interrupt_main() -> None:
    import _thread

    _thread.interrupt_main()


@pytest.fixture(autouse=True)
def _interruptible() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt in these tests however pytest was started: a shell
    starts a background job with SIGINT ignored, and `_thread.interrupt_main` then does
    nothing (status --watch would never end)."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def test_ports_and_who_name_services(tmp_path: Path, holder: Child, capsys: Capture) -> None:
    (tmp_path / "portplan.yaml").write_text(
        f"services:\n  gateway:\n    ports:\n      http: {holder.port}\n"
    )
    main(["ports"])
    rows = [_split(li, 9) for li in capsys.readouterr().out.splitlines()]
    assert rows[0][:4] == ["PROTO", "ADDRESS", "PORT", "SERVICE"]
    assert [row[3] for row in rows if row[2] == str(holder.port)] == ["gateway.http"]
    free = free_port()
    assert main(["who", str(holder.port), str(free)]) == 1
    rows = [_split(li) for li in capsys.readouterr().out.splitlines()]
    info = process_info(holder.pid)
    assert info is not None
    assert rows == [
        ["PORT", "PROTO", "ADDRESS", "SERVICE", "PID", "USER", "NAME", "COMMAND"],
        [
            str(holder.port),
            "tcp",
            "127.0.0.1",
            "gateway.http",
            str(holder.pid),
            str(info.user),
            info.name,
            _command(holder.pid),
        ],
        [str(free), "-", "-", "-", "-", "-", "-", "(nothing listens)"],
    ]


def test_who_without_registry(holder: Child, capsys: Capture) -> None:
    assert main(["who", str(holder.port)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert _split(lines[0], 7) == ["PORT", "PROTO", "ADDRESS", "PID", "USER", "NAME", "COMMAND"]
    assert _split(lines[1])[:4] == [str(holder.port), "tcp", "127.0.0.1", str(holder.pid)]


def test_who_json(holder: Child, capsys: Capture) -> None:
    free = free_port()
    assert main(["who", "--json", str(holder.port), str(free)]) == 1
    document = json.loads(capsys.readouterr().out)
    assert [(p["port"], [li["pid"] for li in p["listeners"]]) for p in document["ports"]] == [
        (holder.port, [holder.pid]),
        (free, []),
    ]
    assert document["ports"][0]["declared"] == []


def test_who_rejects_bad_ports(capsys: Capture) -> None:
    assert main(["who", "70000"]) == 2
    assert "'70000' is not a port: a port is a number 1-65535" in capsys.readouterr().err


def test_kill_with_yes(holder: Child, capsys: Capture) -> None:
    name = _name(holder)
    assert main(["kill", str(holder.port), "--yes"]) == 0
    assert capsys.readouterr().out == f"stopped process {holder.pid} ({name}) with SIGTERM\n"
    assert not is_running(holder.pid)


def _name(child: Child) -> str:
    info = process_info(child.pid)
    return info.name if info else "?"


def test_kill_asks_first(holder: Child, capsys: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    name, command, user = _name(holder), _command(holder.pid), process_info(holder.pid).user  # type: ignore[union-attr]
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    assert main(["kill", str(holder.port)]) == 1
    assert capsys.readouterr().out == (
        f"process {holder.pid} ({command}, user {user}) holds tcp 127.0.0.1:{holder.port}\n"
        "Stop this process? [y/N]: Not stopped.\n"
    )
    assert is_running(holder.pid)
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    assert main(["kill", str(holder.port)]) == 0
    assert capsys.readouterr().out.endswith(f"stopped process {holder.pid} ({name}) with SIGTERM\n")


def test_kill_nothing(capsys: Capture) -> None:
    port = free_port()
    assert main(["kill", str(port), "--yes"]) == 2
    assert capsys.readouterr().err == f"portplan: error: nothing listens on port {port}\n"


@pytest.mark.parametrize("name", ["ports", "who", "kill", "status"])
def test_help_and_docs(name: str, capsys: Capture) -> None:
    assert main([name, "--help"]) == 0
    assert capsys.readouterr().out.startswith(f"Usage: portplan {name}")
    docs = (Path(__file__).parents[2] / "docs" / "live.md").read_text()
    assert f"## `portplan {name}" in docs


def test_status_text_of_container_ports(
    tmp_path: Path, holder: Child, http_server: HttpServer, capsys: Capture
) -> None:
    path = tmp_path / "portplan.yaml"
    path.write_text(
        "services:\n"
        "  web:\n"
        "    ports:\n"
        f"      http: {{port: {http_server.port}, target: 80, health: /ok}}\n"
        "  db:\n"
        "    ports:\n"
        f"      postgresql: {{port: {holder.port}, published: false, health: {{tcp: true}}}}\n"
        f"      admin: {{port: {holder.port + 1}, published: false}}\n"
    )
    assert main(["status", "-f", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    table = [_split(line) for line in lines[:4]]
    name = process_info(os.getpid()).name  # type: ignore[union-attr]
    assert [row[:6] for row in table[1:]] == [
        ["web.http", "tcp", f"{http_server.port}->80", "up", str(os.getpid()), name],
        ["db.postgresql", "tcp", str(holder.port), "unpublished", "-", "-"],
        ["db.admin", "tcp", str(holder.port + 1), "unpublished", "-", "-"],
    ]
    assert table[1][7] == "200"
    assert table[2][6:] == ["-", "not run: container network only"]
    assert table[3][6:] == ["-", "-"]
    assert lines[4:] == [
        "",
        "3 ports on host default: 1 up, 0 down, 0 squatted, 0 unexpected, 2 unpublished; "
        "0 errors, 0 warnings",
    ]


def test_an_unpublished_port_owns_no_host_listener(
    tmp_path: Path, holder: Child, capsys: Capture
) -> None:
    (tmp_path / "portplan.yaml").write_text(
        "services:\n"
        "  gateway:\n"
        f"    ports: {{http: {holder.port + 1}}}\n"
        "  db:\n"
        f"    ports: {{postgresql: {{port: {holder.port}, published: false}}}}\n"
    )
    main(["ports"])
    rows = [_split(li, 9) for li in capsys.readouterr().out.splitlines()]
    assert rows[0][:4] == ["PROTO", "ADDRESS", "PORT", "SERVICE"]
    assert [row[3] for row in rows if row[2] == str(holder.port)] == ["-"]
    main(["ports", "--json"])
    document = json.loads(capsys.readouterr().out)
    [record] = [li for li in document["listeners"] if li["port"] == holder.port]
    assert (record["service"], record["port_name"]) == (None, None)
    assert main(["who", str(holder.port)]) == 0
    rows = [_split(li) for li in capsys.readouterr().out.splitlines()]
    assert rows[1][:5] == [str(holder.port), "tcp", "127.0.0.1", "-", str(holder.pid)]
    assert main(["who", "--json", str(holder.port)]) == 0
    assert json.loads(capsys.readouterr().out)["ports"][0]["declared"] == []
