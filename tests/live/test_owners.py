"""Process facts and the inode-to-PID map, from /proc, against real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from portplan.live.owners import Access, Listener, Process, find_owners, is_running, process_info
from portplan.live.sockets import read_netlink
from tests.live.conftest import Child

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")


def test_process_info_of_a_child(holder: Child) -> None:
    info = process_info(holder.pid)
    assert info is not None
    assert info.pid == holder.pid
    assert info.cmdline[-1] == "portplan-test-holder"
    assert info.cmdline[1:3] == ("-I", "-c")
    assert info.uid == os.getuid()
    assert info.started is not None and abs(info.started - time.time()) < 600
    assert info.command == " ".join(info.cmdline)


def test_a_kernel_thread_has_its_name_in_brackets() -> None:
    assert Process(2, "kthreadd").command == "[kthreadd]"


def test_gone_and_zombie_processes() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while is_running(child.pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not is_running(child.pid)  # a zombie until reaped
    assert process_info(child.pid) is None
    child.wait()
    assert process_info(child.pid) is None


def test_find_owners_maps_inodes_to_the_holder(holder: Child) -> None:
    inode = next(s.inode for s in read_netlink(("tcp",)) if s.port == holder.port)
    owners = find_owners([inode])
    assert owners.holders == {inode: [holder.pid]}
    assert owners.access(inode) is Access.KNOWN
    assert find_owners([]).holders == {}


def test_forked_workers_share_a_socket() -> None:
    script = (
        "import os, socket, sys, time\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)\n"
        "if os.fork() == 0:\n"
        "    time.sleep(600)\n"
        "print(s.getsockname()[1], flush=True); time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        port = int(parent.stdout.readline())
        inode = next(s.inode for s in read_netlink(("tcp",)) if s.port == port)
        assert find_owners([inode]).holders[inode] == [parent.pid]
        every = find_owners([inode], complete=True).holders[inode]
        assert every[0] == parent.pid and len(every) == 2
    finally:
        for pid in find_owners([inode], complete=True).holders.get(inode, []):
            os.kill(pid, 9)
        parent.wait()


def test_an_inode_nobody_holds_is_unknown() -> None:
    owners = find_owners([1])  # inode 1 is no socket
    assert owners.access(1) in (Access.UNKNOWN, Access.DENIED)
    assert owners.access(1) is (Access.DENIED if owners.denied else Access.UNKNOWN)


def test_records_compare_and_show_by_their_fields() -> None:
    listener = Listener("tcp", "::1", 80)
    assert (
        listener.endpoint == "[::1]:80" and Listener("tcp", "10.0.0.1", 5).endpoint == "10.0.0.1:5"
    )
    assert listener == Listener("tcp", "::1", 80, 0, None, Access.UNKNOWN, None, ())
    assert listener != Listener("tcp", "::1", 81) and listener != ("tcp", "::1", 80)
    assert hash(listener) == hash(Listener("tcp", "::1", 80))
    assert repr(Process(7, "x")) == (
        "Process(pid=7, name='x', cmdline=(), uid=None, user=None, started=None)"
    )
    with pytest.raises(AttributeError):
        listener.typo = 1  # type: ignore[attr-defined]
