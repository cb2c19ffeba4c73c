"""Listening sockets from the kernel, against real listeners on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from portplan.errors import UsageError
from portplan.live.owners import Access
from portplan.live.sockets import Listener, RawSocket, listeners, read_netlink, read_procnet
from tests.live.conftest import (
    AS_NOBODY,
    SYSTEM_PYTHON,
    Child,
    needs_nobody,
    port_of,
)

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux tables")


def _mine(found: list[Listener], sockets: dict[str, socket.socket]) -> dict[str, Listener]:
    wanted = {(name[:3], port_of(sock)): name for name, sock in sockets.items()}
    return {wanted[(li.protocol, li.port)]: li for li in found if (li.protocol, li.port) in wanted}


@linux_only
@pytest.mark.parametrize("backend", ["netlink", "procnet"])
def test_finds_tcp_and_udp_on_ipv4_and_ipv6_with_owner(
    backend: str, listeners4: dict[str, socket.socket]
) -> None:
    found = _mine(listeners(("tcp", "udp"), backend=backend), listeners4)
    assert sorted(found) == ["tcp4", "tcp6", "udp4", "udp6"]
    assert {name: li.address for name, li in found.items()} == {
        "tcp4": "127.0.0.1",
        "udp4": "127.0.0.1",
        "tcp6": "::1",
        "udp6": "::1",
    }
    for listener in found.values():
        assert listener.pid == os.getpid()
        assert listener.access is Access.KNOWN
        assert listener.uid == os.getuid()
        assert listener.cmdline == tuple(_own_cmdline())
        assert listener.user == _own_user()
        assert listener.started is not None and listener.started <= _now()


def _own_cmdline() -> list[str]:
    with open("/proc/self/cmdline", "rb") as handle:
        return handle.read().decode().rstrip("\0").split("\0")


def _own_user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def _now() -> float:
    import time

    return time.time()


@linux_only
def test_tcp_only_by_default(listeners4: dict[str, socket.socket]) -> None:
    assert sorted(_mine(listeners(), listeners4)) == ["tcp4", "tcp6"]


@linux_only
def test_netlink_and_procnet_agree(listeners4: dict[str, socket.socket]) -> None:
    ours = {port_of(sock) for sock in listeners4.values()}  # others may come and go meanwhile

    def keys(found: list[RawSocket]) -> set[tuple[object, ...]]:
        return {(s.protocol, s.address, s.port, s.inode, s.uid) for s in found if s.port in ours}

    assert keys(read_netlink(("tcp", "udp"))) == keys(read_procnet(("tcp", "udp")))


@linux_only
def test_connected_sockets_are_not_listeners(listeners4: dict[str, socket.socket]) -> None:
    server = listeners4["tcp4"]
    client = socket.create_connection(("127.0.0.1", port_of(server)))
    try:
        ports = {li.port for li in listeners()}
        assert port_of(server) in ports
        assert client.getsockname()[1] not in ports
    finally:
        client.close()


@linux_only
def test_without_owners(listeners4: dict[str, socket.socket]) -> None:
    found = _mine(listeners(("tcp",), owners=False), listeners4)
    assert {li.access for li in found.values()} == {Access.UNKNOWN}
    assert all(li.process is None and li.inode for li in found.values())


@pytest.mark.parametrize("backend", ["netlink", "procnet", "psutil"])
def test_only_the_ports_asked_for(backend: str, listeners4: dict[str, socket.socket]) -> None:
    if backend == "psutil":
        pytest.importorskip("psutil")
    elif not sys.platform.startswith("linux"):
        pytest.skip("Linux tables")
    tcp4, udp6 = port_of(listeners4["tcp4"]), port_of(listeners4["udp6"])
    found = listeners(("tcp", "udp"), ports={tcp4, udp6}, backend=backend)
    assert {li.port for li in found} == {tcp4, udp6}  # others may hold these numbers too
    assert [(li.protocol, li.address, li.port) for li in found if li.pid == os.getpid()] == [
        ("tcp", "127.0.0.1", tcp4),
        ("udp", "::1", udp6),
    ]
    tcp_only = listeners(("tcp",), ports={udp6}, backend=backend)
    assert [li for li in tcp_only if li.pid == os.getpid() or li.protocol != "tcp"] == []


def test_sorted_by_protocol_port_address(listeners4: dict[str, socket.socket]) -> None:
    found = listeners(("tcp", "udp"))
    assert found == sorted(found, key=lambda li: (li.protocol, li.port, li.address))


def test_unknown_protocol_and_backend_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="unknown protocol 'sctp'; expected tcp or udp"):
        listeners(("sctp",))
    with pytest.raises(UsageError, match="unknown socket backend 'ebpf'"):
        listeners(backend="ebpf")


def test_psutil_backend_when_installed(listeners4: dict[str, socket.socket]) -> None:
    pytest.importorskip("psutil")
    found = _mine(listeners(("tcp", "udp"), backend="psutil"), listeners4)
    assert sorted(found) == ["tcp4", "tcp6", "udp4", "udp6"]
    assert {li.pid for li in found.values()} == {os.getpid()}


def test_as_dict_is_flat_json(listeners4: dict[str, socket.socket]) -> None:
    listener = _mine(listeners(), listeners4)["tcp4"]
    assert listener.as_dict() == {
        "protocol": "tcp",
        "address": "127.0.0.1",
        "port": port_of(listeners4["tcp4"]),
        "inode": listener.inode,
        "pid": os.getpid(),
        "pids": [os.getpid()],
        "name": listener.name,
        "cmdline": list(listener.cmdline),
        "uid": os.getuid(),
        "user": _own_user(),
        "started": listener.started,
        "access": "known",
    }
    assert listener.endpoint == f"127.0.0.1:{listener.port}"
    assert _mine(listeners(), listeners4)["tcp6"].endpoint.startswith("[::1]:")


@needs_nobody
def test_a_process_that_cannot_be_inspected_is_shown_as_such(
    listeners4: dict[str, socket.socket],
) -> None:
    """As nobody, our (root's) sockets are listed with access 'denied', not dropped."""
    src = os.path.join(os.path.dirname(__file__), "..", "..", "src")
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from portplan.live.sockets import listeners;"
        "print('\\n'.join(f'{l.port} {l.access.value} {l.pid} {l.user}' for l in listeners()))"
    )
    command = [*AS_NOBODY, SYSTEM_PYTHON, "-I", "-c", script, os.path.abspath(src)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    port = port_of(listeners4["tcp4"])
    assert f"{port} denied None {_own_user()}" in output.splitlines()


@needs_nobody
def test_holders_of_other_users_are_found_as_root(nobody_holder: Child) -> None:
    found = [li for li in listeners() if li.port == nobody_holder.port]
    assert [(li.pid, li.user, li.access) for li in found] == [
        (nobody_holder.pid, "nobody", Access.KNOWN)
    ]
