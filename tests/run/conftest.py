"""Real stacks for the runner's tests: plans whose services are python one-liners that bind
free loopback ports, a private state folder per test, and a clean-up that kills every
process of a test's stacks (so no test leaves a process behind)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Binds 127.0.0.1:$PORT after $DELAY seconds, notes when in $TRACE, then waits.
LISTEN = (
    "import os,socket,sys,time\n"
    "trace=os.environ.get('TRACE')\n"
    "def note(what):\n"
    "    if trace:\n"
    "        open(trace,'a').write(f\"{os.environ['PORTPLAN_SERVICE']} {what} {time.time()}\\n\")\n"
    "note('start')\n"
    "time.sleep(float(os.environ.get('DELAY','0')))\n"
    "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind(('127.0.0.1', int(os.environ[sys.argv[1]]))); s.listen()\n"
    "note('listen')\n"
    "print('listening on', s.getsockname()[1], flush=True)\n"
    "time.sleep(600)\n"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listen_command(variable: str) -> str:
    """A run.command (flow YAML list) running LISTEN for the port in `variable`."""
    return json.dumps([sys.executable, "-c", LISTEN, variable])


@pytest.fixture(autouse=True)
def state_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "state"
    monkeypatch.setenv("PORTPLAN_STATE_DIR", str(root))
    yield root
    _kill_everything(root)


def _kill_everything(root: Path) -> None:
    """Kill what a test's stacks left running: each process whose environment names this
    test's state folder (a supervisor, its services, what they started). Never a PID or
    group read from a state file: a stack that has ended leaves numbers that may be other
    programs' by now (PIDs wrap around), and another session's tests run beside these."""
    needle = f"PORTPLAN_STATE_DIR={root}".encode()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as handle:
                ours = needle in handle.read().split(b"\0")
        except OSError:
            continue
        if ours:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(name), signal.SIGKILL)


@pytest.fixture
def write_plan(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str) -> Path:
        path = tmp_path / "portplan.yaml"
        path.write_text(text)
        return path

    return write


def wait_for(check: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or check}")


def state_document(root: Path, copy: str = "main") -> dict[str, Any]:
    paths = list(root.glob(f"run/*/{copy}/state.json"))
    return json.loads(paths[0].read_text()) if paths else {}


def portplan(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """The real console script in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "portplan", *args],
        capture_output=True,
        text=True,
        timeout=60,
        **kwargs,
    )


def connectable(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def marked_processes(marker: str) -> list[int]:
    """PIDs whose environment holds MARK=<marker> (processes a test's stack started)."""
    found = []
    needle = f"MARK={marker}".encode()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as handle:
                if needle in handle.read().split(b"\0"):
                    found.append(int(name))
        except OSError:
            continue
    return found
