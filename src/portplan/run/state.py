"""The per-project state folder of the runner, and its state file.

    $PORTPLAN_STATE_DIR, else $XDG_STATE_HOME/portplan, else ~/.local/state/portplan
      run/ports.lock                      copies choose their ports under this lock
      run/<system>-<hash>/<copy>/         one folder per plan file and copy ("main")
          state.json                      the supervisor's view (no environment values)
          ports.json                      a copy's ports, kept until `down --copy`
          supervisor.lock                 held by the supervisor while it runs
          supervisor.log                  the detached supervisor's own messages
          logs/<service>.log              each service's output
          requests/<service>.restart      `portplan restart` asks the supervisor

`<hash>` is taken from the plan file's real path, so two checkouts of one project (git
worktrees) keep their stacks apart.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from portplan.errors import UsageError

MAIN = "main"
_COPY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
_FILE_NAME = re.compile(r"[^\w.-]+")


def state_root() -> Path:
    """Where every project's runner state lives on this machine."""
    explicit = os.environ.get("PORTPLAN_STATE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return Path(xdg) / "portplan"


def check_copy(name: str | None) -> str:
    """The copy's name ("main" for none); a name must be a plain word."""
    if name is None:
        return MAIN
    if not _COPY_NAME.fullmatch(name) or name == MAIN:
        raise UsageError(
            f"--copy: expected a name of letters, digits, '-', '_' or '.' (not '{MAIN}')"
        )
    return name


class StateDir:
    """The state folder of one plan file and one copy."""

    def __init__(self, plan_file: str | os.PathLike[str], copy: str | None = None) -> None:
        real = os.path.realpath(plan_file)
        digest = hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:12]
        stem = _FILE_NAME.sub("-", Path(real).parent.name or "plan")
        self.plan_file = real
        self.copy = check_copy(copy)
        self.path = state_root() / "run" / f"{stem}-{digest}" / self.copy

    @property
    def state_file(self) -> Path:
        return self.path / "state.json"

    @property
    def ports_file(self) -> Path:
        return self.path / "ports.json"

    @property
    def lock_file(self) -> Path:
        return self.path / "supervisor.lock"

    @property
    def supervisor_log(self) -> Path:
        return self.path / "supervisor.log"

    def log_file(self, service: str) -> Path:
        return self.path / "logs" / f"{_FILE_NAME.sub('-', service)}.log"

    def request_file(self, service: str) -> Path:
        return self.path / "requests" / f"{_FILE_NAME.sub('-', service)}.restart"

    def create(self) -> None:
        for folder in (self.path / "logs", self.path / "requests"):
            folder.mkdir(parents=True, exist_ok=True)

    def read(self) -> dict[str, Any] | None:
        """The state file, or None when there is none (or it is unreadable)."""
        return _read_json(self.state_file)

    def write(self, document: dict[str, Any]) -> None:
        # not flushed to disk: it describes processes that a crash of the machine ends too
        from portplan.atomicfile import write_atomic  # not on status's path

        write_atomic(self.state_file, json.dumps(document, indent=2) + "\n", durable=False)

    def hold(self) -> int | None:
        """Take the supervisor lock (held until the process ends): its descriptor, or None
        when another supervisor holds it."""
        self.create()
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return fd

    def running(self) -> bool:
        """True while a supervisor holds this folder's lock."""
        if not self.lock_file.exists():
            return False
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


@contextlib.contextmanager
def machine_lock() -> Iterator[None]:
    """The lock under which copies choose their ports (one for the whole machine)."""
    folder = state_root() / "run"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / "ports.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def claimed_ports(exclude: Path | None = None) -> set[int]:
    """Every port a copy of any project holds a claim on (ports.json files)."""
    claimed: set[int] = set()
    for path in (state_root() / "run").glob("*/*/ports.json"):
        if exclude is not None and path.parent == exclude:
            continue
        document = _read_json(path) or {}
        claimed.update(int(p["port"]) for p in document.get("ports", []))
    return claimed
