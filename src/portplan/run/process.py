"""Process groups: the runner starts each service as the leader of a new session, so the
service and everything it forks share one process group, and it signals and waits for
that whole group, never a single PID.

`stop_group` is the one way a group ends (^C, `down`, a failed start, a restart): the
service's stop signal to the group, up to its grace, then SIGKILL to whatever is left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Collection, Mapping, Sequence

from portplan.model import StopPolicy

PROC = "/proc"
_POLL = 0.02

# Runs first in a child that inherits sockets (portplan.run.listen): moves them to 3, 4...,
# sets LISTEN_FDS, LISTEN_PID (its own PID, which exec keeps) and LISTEN_FDNAMES, and execs
# the command. argv: COUNT FD... NAMES COMMAND...
INHERIT = (
    "import fcntl,os,sys\n"
    "n=int(sys.argv[1]);fds=[int(f) for f in sys.argv[2:2+n]];names=sys.argv[2+n]\n"
    "argv=sys.argv[3+n:]\n"
    "high=[fcntl.fcntl(f,fcntl.F_DUPFD_CLOEXEC,3+n) for f in fds]\n"
    "for f in fds: os.close(f)\n"
    "for i,f in enumerate(high): os.dup2(f,3+i); os.close(f)\n"
    "os.environ.update(LISTEN_FDS=str(n),LISTEN_PID=str(os.getpid()),LISTEN_FDNAMES=names)\n"
    "try:\n"
    "    os.execvp(argv[0],argv)\n"
    "except OSError as e:\n"
    "    sys.stderr.write(f'portplan: cannot run {argv[0]}: {e.strerror}\\n'); sys.exit(127)\n"
)


def spawn(
    command: tuple[str, ...] | str,
    env: Mapping[str, str],
    cwd: str | None,
    fds: Sequence[tuple[str, int]] = (),
) -> subprocess.Popen[bytes]:
    """Start `command` in a new session (its PID is its process group's id), its output
    and errors on one pipe, no input. A string runs under /bin/sh -c. `fds` (name,
    descriptor) are passed as 3, 4, ... by the socket-activation protocol."""
    argv: list[str] = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
    if fds:
        names = ":".join(name for name, _ in fds)
        numbers = [str(fd) for _, fd in fds]
        argv = [sys.executable, "-I", "-S", "-c", INHERIT, str(len(fds)), *numbers, names, *argv]
    return subprocess.Popen(
        argv,
        env=dict(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        close_fds=True,
        pass_fds=tuple(fd for _, fd in fds),
    )


def members(groups: Collection[int]) -> list[tuple[int, int]]:
    """(pid, group) of every living process (zombies aside) in one of `groups`."""
    found = []
    wanted = set(groups)
    for name in os.listdir(PROC):
        if not name.isdigit():
            continue
        stat = _stat(int(name))
        if stat is not None and stat[1] in wanted and stat[0] != "Z":
            found.append((int(name), stat[1]))
    return found


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, process group) from /proc/PID/stat, or None when it is gone."""
    try:
        with open(f"{PROC}/{pid}/stat", "rb") as handle:
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()
    return (fields[0], int(fields[2])) if len(fields) > 2 else None


def is_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def alive(group: int) -> bool:
    """True while some process of the group lives."""
    return bool(members([group]))


def signal_group(group: int, sig: int) -> bool:
    """Send `sig` to the whole group; False when it has no process left."""
    try:
        os.killpg(group, sig)
    except ProcessLookupError:
        return False
    except PermissionError:  # only zombies left (or not ours): nothing to signal
        return False
    return True


def stop_group(
    group: int, policy: StopPolicy, leader: subprocess.Popen[bytes] | None = None
) -> str:
    """Stop the group: its stop signal, then SIGKILL after the grace. Reaps the leader
    when it is ours. Returns how it ended: "stopped", "killed" or "gone"."""
    if not signal_group(group, signal.Signals[policy.signal]):
        _reap(leader)
        return "gone"
    if _wait_gone(group, policy.grace_ms / 1000, leader):
        return "stopped"
    signal_group(group, signal.SIGKILL)
    _wait_gone(group, 10.0, leader)
    return "killed"


def _wait_gone(group: int, seconds: float, leader: subprocess.Popen[bytes] | None) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        _reap(leader)
        if not alive(group):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL)


def exited(child: subprocess.Popen[bytes], timeout: float = 0.0) -> bool:
    """Whether `child` has exited (waiting up to `timeout` seconds), without reaping it:
    until it is reaped, its PID, and so its group's id, can be no other process's, so
    what it left in its group can still be signaled safely (`stop_group` reaps it). A
    group id signaled after its leader was reaped may be a stranger's by then (PIDs
    wrap around: 32,768 of them by default)."""
    deadline = time.monotonic() + timeout
    while child.returncode is None:
        try:
            if os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
                return True
        except ChildProcessError:  # reaped meanwhile (by another thread's poll)
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(_POLL, left))
    return True


def _reap(leader: subprocess.Popen[bytes] | None) -> None:
    if leader is not None:
        leader.poll()


def exit_text(code: int) -> str:
    """`code 1`, `signal SIGKILL`: how a process ended, from a Popen return code."""
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"code {code}"


def spawn_quiet(
    command: tuple[str, ...] | str, env: Mapping[str, str], cwd: str | None, timeout: float
) -> int:
    """Run a short command (a readiness check) in its own group; its exit code. On a
    timeout the whole group is killed and TimeoutExpired raised."""
    argv: list[str] = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
    process = subprocess.Popen(
        argv,
        env=dict(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        signal_group(process.pid, signal.SIGKILL)
        process.wait()
        raise
