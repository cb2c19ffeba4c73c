"""Stopping a port's holder: real child processes, real signals."""

from __future__ import annotations

import os
from collections.abc import Sequence

import pytest

from portplan.errors import NotFoundError
from portplan.live.kill import Holder, Refused, holders, kill_port, refusal, stop
from portplan.live.owners import Process, is_running, process_info
from tests.live.conftest import Child, free_port, needs_nobody, start_holder, stop_child


def _agree(found: Sequence[Holder]) -> bool:
    return True


def test_kill_stops_the_holder_with_sigterm(holder: Child) -> None:
    seen: list[int] = []

    def confirm(found: Sequence[Holder]) -> bool:
        seen.extend(h.process.pid for h in found)
        return True

    results = kill_port(holder.port, confirm=confirm)
    assert seen == [holder.pid]
    assert [(r.process.pid, r.signal, r.stopped) for r in results] == [
        (holder.pid, "SIGTERM", True)
    ]
    assert not is_running(holder.pid)
    assert holder.process.wait(timeout=10) == -15


def test_sigkill_after_the_grace_period() -> None:
    child = start_holder("stubborn", mode="ignore-term")
    try:
        results = kill_port(child.port, grace=0.2)
        assert [(r.signal, r.stopped) for r in results] == [("SIGKILL", True)]
        assert child.process.wait(timeout=10) == -9
    finally:
        stop_child(child)


def test_declined_confirmation_stops_nothing(holder: Child) -> None:
    assert kill_port(holder.port, confirm=lambda found: False) == []
    assert is_running(holder.pid)


def test_nothing_listens() -> None:
    port = free_port()
    with pytest.raises(NotFoundError, match=f"nothing listens on port {port}"):
        kill_port(port)


def test_holders_lists_sockets(holder: Child) -> None:
    [found] = holders(holder.port)
    assert found.process.pid == holder.pid
    assert [(li.protocol, li.endpoint) for li in found.listeners] == [
        ("tcp", f"127.0.0.1:{holder.port}")
    ]


def test_pid_1_is_refused_without_force() -> None:
    init = process_info(1) or Process(1, "init", uid=0, user="root")
    assert refusal(init) == "it is PID 1 (the init process)"
    assert refusal(init, force=True) is None


def test_portplan_never_stops_itself() -> None:
    me = process_info(os.getpid())
    assert me is not None
    assert refusal(me, force=True) == "it is this portplan process"


def test_own_processes_may_be_stopped(holder: Child) -> None:
    child = process_info(holder.pid)
    assert child is not None and refusal(child) is None


def test_another_users_process_is_refused_by_uid() -> None:
    """The refusal compares the process's real uid with ours."""
    stranger = Process(os.getppid(), "sh", uid=os.getuid() + 1, user="someone")
    assert refusal(stranger) == f"it belongs to user someone, not {_me()}"
    assert refusal(stranger, force=True) is None


def _me() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


@needs_nobody
def test_another_users_holder_is_refused_then_forced(nobody_holder: Child) -> None:
    with pytest.raises(Refused) as error:
        kill_port(nobody_holder.port, confirm=_agree)
    assert str(error.value) == (
        f"refusing to stop process {nobody_holder.pid} (python3): it belongs to user nobody, "
        f"not {_me()}; use --force to stop it anyway"
    )
    assert is_running(nobody_holder.pid)
    results = kill_port(nobody_holder.port, force=True, grace=5)
    assert [(r.process.user, r.stopped) for r in results] == [("nobody", True)]


def test_stop_a_process_that_is_already_gone(holder: Child) -> None:
    holder.process.kill()
    holder.process.wait()
    assert stop(holder.pid, grace=0.1) == ("SIGTERM", True)
