"""The supervisor: starts the stack in dependency order, gates each dependent on its
dependencies' conditions, restarts by policy, and stops everything the one way there is.

One thread per service runs its life: wait for the dependencies, start the process group,
probe until ready (or the timeout), watch it (exit, restart request, stop), apply the
restart policy. The main thread waits for the end of the run (^C, SIGTERM from `down`, a
service that failed for good) and then calls `shutdown`, which stops the groups level by
level from the top, SIGKILLs what outlives its grace, and checks that no process of any
group it ever started is left. `up` runs it in the foreground; `up --detach` runs it in a
process of its own (a fork of `up`, portplan.run.stack).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portplan.errors import PortplanError
from portplan.model import Service, Topology
from portplan.run import process
from portplan.run.env import process_env
from portplan.run.graph import Order, dependencies
from portplan.run.listen import Sockets, passed
from portplan.run.output import Output
from portplan.run.ready import Probe
from portplan.run.state import StateDir
from portplan.secretscan.argv import mask_arg, mask_argv

_TICK = 0.05
_MAX_BACKOFF = 30.0
_REFRESH = 1.0


class StackFailed(PortplanError):
    """The stack could not be brought up, or a service failed for good (exit 1)."""

    exit_code = 1


@dataclass
class Unit:
    """One service under supervision."""

    service: Service
    deps: list[str]
    process: subprocess.Popen[bytes] | None = None
    group: int | None = None
    state: str = "waiting"
    started_at: float | None = None
    ready_at: float | None = None
    ready_in: float | None = None
    restarts: int = 0
    exit: str | None = None
    last_probe: str = ""
    started: threading.Event = field(default_factory=threading.Event)
    ready: threading.Event = field(default_factory=threading.Event)
    completed: threading.Event = field(default_factory=threading.Event)
    gave_up: threading.Event = field(default_factory=threading.Event)
    restart_request: threading.Event = field(default_factory=threading.Event)
    log_seen: threading.Event = field(default_factory=threading.Event)

    @property
    def name(self) -> str:
        return self.service.name

    def met(self, condition: str) -> bool:
        if condition == "completed":
            return self.completed.is_set()
        if condition == "started":
            return self.started.is_set() or self.completed.is_set()
        return self.ready.is_set() or self.completed.is_set()


class Supervisor:
    """Runs one stack: `run()` until `stop()` or a failure, then `shutdown()`."""

    def __init__(
        self,
        topology: Topology,
        order: Order,
        state: StateDir,
        output: Output,
        *,
        environment: Mapping[str, str] | None = None,
        sockets: Sockets | None = None,
        notify: int | None = None,
    ) -> None:
        self.topology = topology
        self.order = order
        self.state = state
        self.output = output
        self.sockets: Sockets = sockets or {}  # bound by up, inherited by their processes
        self.environment = dict(os.environ if environment is None else environment)
        self.units = {
            name: Unit(
                topology.services[name],
                [d for d in dependencies(topology, topology.services[name]) if d in order.names],
            )
            for name in order.names
        }
        self.error: str | None = None
        self.interrupted = False
        self._end = threading.Event()
        self._lock = threading.RLock()
        self._stopping = False
        self._groups: set[int] = set()
        self._threads: list[threading.Thread] = []
        self._started_at = time.time()
        self._status = "starting"
        self._changed = threading.Condition()
        self._publishing = threading.Lock()
        self._notify = notify  # written to once the stack is up (or has ended), then closed

    # --- the run ---------------------------------------------------------------------

    def start(self) -> None:
        """Start every service's thread (each waits for its own dependencies)."""
        self._publish()
        for external in self.order.external:
            self.output.note(f"{external} has no run: section; not started")
        for unit in self.units.values():
            thread = threading.Thread(target=self._life, args=(unit,), name=unit.name, daemon=True)
            self._threads.append(thread)
            thread.start()

    def wait(self, until_ready: bool = False) -> None:
        """Block until the run ends (or, with `until_ready`, until every service is ready
        or completed); serves `portplan restart` requests meanwhile."""
        published = time.monotonic()
        while not self._end.is_set():
            self._serve_requests()
            if until_ready and self.all_ready():
                return
            if all(u.completed.is_set() for u in self.units.values()):
                self.output.note("every service has completed")
                return
            if time.monotonic() - published >= _REFRESH:  # last probes, for `ps`
                self._publish()
                published = time.monotonic()
            self._end.wait(_TICK * 2)

    def run(self) -> int:
        """start, wait, shutdown: 0 after a stop, 1 after a failure."""
        try:
            self.start()
            self.wait()
        finally:
            self.shutdown()
        return 1 if self.error else 0

    def stop(self, interrupted: bool = False) -> None:
        """End the run (from a signal handler too: it only sets flags)."""
        self.interrupted = self.interrupted or interrupted
        self._end.set()

    def all_ready(self) -> bool:
        return all(u.ready.is_set() or u.completed.is_set() for u in self.units.values())

    def fail(self, message: str) -> None:
        with self._lock:
            if self.error is None and not self._stopping:
                self.error = message
                self.output.note(message)
        self._end.set()

    def request_restart(self, name: str) -> None:
        unit = self.units[name]
        unit.restart_request.set()

    # --- one service's life ------------------------------------------------------------

    def _life(self, unit: Unit) -> None:
        try:
            if not self._await_dependencies(unit):
                return
            while self._start(unit):
                outcome = self._await_ready(unit)
                if outcome == "ready":
                    outcome = self._watch(unit)
                if outcome == "stop" or not self._after(unit, outcome):
                    return
        except Exception as error:  # a bug must still end the run through the stop path
            self.fail(f"{unit.name}: internal error in the supervisor ({type(error).__name__})")

    def _await_dependencies(self, unit: Unit) -> bool:
        run = unit.service.run
        assert run is not None
        for name in unit.deps:
            dep = self.units[name]
            condition = run.condition(name)
            with self._changed:  # woken as soon as a dependency changes (or each tick)
                while not dep.met(condition):
                    if self._end.is_set() or dep.gave_up.is_set():
                        return False
                    self._changed.wait(_TICK)
        return not self._end.is_set()

    def _changed_now(self) -> None:
        """Wake the services waiting for their dependencies."""
        with self._changed:
            self._changed.notify_all()

    def _start(self, unit: Unit) -> bool:
        run = unit.service.run
        assert run is not None
        env = process_env(self.topology, unit.service, self.environment)
        cwd = _cwd(self.topology, run.cwd)
        fds = passed(self.sockets, unit.name, unit.service.ports)
        if self._stopping or self._end.is_set():
            return False
        unit.log_seen.clear()
        unit.ready.clear()
        try:  # not under the lock: the services of a level start at once, however long
            child = process.spawn(run.command, env, cwd, fds)  # one exec takes here
        except OSError as error:
            unit.gave_up.set()
            self._changed_now()
            self.fail(f"{unit.name} cannot start: {error.strerror}")
            return False
        with self._lock:
            unit.process, unit.group = child, child.pid
            self._groups.add(child.pid)
            unit.state = "starting"
            unit.started_at = time.time()
            unit.exit = None
            late = self._stopping
        if late:  # the stop path began meanwhile and may have passed this service by
            self._ended(unit, child.pid, process.stop_group(child.pid, run.stop, child))
            if child.stdout is not None:
                child.stdout.close()
            return False
        unit.started.set()
        self._changed_now()
        self._read_output(unit, unit.process)
        self._publish()
        return True

    def _read_output(self, unit: Unit, child: subprocess.Popen[bytes]) -> None:
        run = unit.service.run
        matches = _line_matcher(run.ready.pattern) if run and run.ready.pattern else None

        def pump() -> None:
            assert child.stdout is not None
            warned = False
            for raw in iter(child.stdout.readline, b""):
                text = raw.decode("utf-8", "replace").rstrip("\r\n")
                self.output.line(unit.name, text)
                if matches is None or unit.log_seen.is_set():
                    continue
                try:
                    if matches(text):
                        unit.log_seen.set()
                except TimeoutError:
                    if not warned:
                        warned = True
                        self.output.note(
                            f"{unit.name}: its ready pattern took over {LINE_MATCH_SECONDS:g}s "
                            "on a line of output; such lines count as not matching"
                        )
            child.stdout.close()

        threading.Thread(target=pump, name=f"{unit.name}-output", daemon=True).start()

    def _await_ready(self, unit: Unit) -> str:
        run = unit.service.run
        assert run is not None and unit.process is not None
        env = process_env(self.topology, unit.service, self.environment)
        probe = Probe(unit.service, run.ready, env, _cwd(self.topology, run.cwd), unit.log_seen)
        begun = time.monotonic()
        deadline = begun + run.ready.timeout_ms / 1000
        attempt = 0
        while True:
            if self._end.is_set():
                return "stop"
            if process.exited(unit.process):  # not reaped: its group is still ours
                return "exited"
            if probe():
                self._mark_ready(unit, time.monotonic() - begun, probe.last)
                return "ready"
            unit.last_probe = probe.last
            if time.monotonic() >= deadline:
                seconds = run.ready.timeout_ms / 1000
                unit.gave_up.set()
                self._changed_now()
                self.fail(
                    f"{unit.name} did not become ready within {seconds:g}s "
                    f"(last probe: {probe.last})"
                )
                return "stop"
            # quick first probes (10, 20, 40 ms...), then every `interval`
            self._end.wait(min(run.ready.interval_ms / 1000, 0.01 * 2**attempt))
            attempt += 1

    def _mark_ready(self, unit: Unit, took: float, detail: str) -> None:
        with self._lock:
            unit.state = "ready"
            unit.ready_at = time.time()
            unit.ready_in = took
            unit.last_probe = detail
        unit.ready.set()
        self._changed_now()
        again = " again" if unit.restarts else ""
        self.output.note(f"{unit.name} ready{again} in {took:.2f}s ({detail})")
        if unit.restarts:
            self._restart_followers(unit)
        if self.all_ready():
            self._status = "running"
        self._publish()

    def _restart_followers(self, unit: Unit) -> None:
        for other in self.units.values():
            run = other.service.run
            following = run is not None and run.restart.with_dependency
            if following and unit.name in other.deps and other.process is not None:
                self.output.note(f"{other.name} restarts after its dependency {unit.name}")
                other.restart_request.set()

    def _watch(self, unit: Unit) -> str:
        assert unit.process is not None
        while True:
            if self._end.is_set():
                return "stop"
            if unit.restart_request.is_set():
                unit.restart_request.clear()
                return "restart"
            if process.exited(unit.process, _TICK):  # not reaped: its group is still ours
                return "exited"

    def _after(self, unit: Unit, outcome: str) -> bool:
        """After an exit or a restart request: True to start the service again."""
        run = unit.service.run
        assert run is not None and unit.process is not None
        if outcome == "restart":
            self._stop_unit(unit)
            unit.restarts += 1
            unit.state = "restarting"
            self._publish()
            return True
        self._stop_unit(unit)  # what it left behind, signaled before the leader is reaped
        code = unit.process.wait()
        unit.exit = process.exit_text(code)
        if self._end.is_set():
            return False
        policy = run.restart
        if code == 0 and policy.policy != "always":
            return self._completed(unit)
        if policy.policy == "no" or unit.restarts >= policy.max_restarts:
            unit.state = "failed"
            unit.gave_up.set()
            self._changed_now()
            self._publish()
            tries = f" after {unit.restarts} restarts" if unit.restarts else ""
            self.fail(f"{unit.name} exited with {unit.exit}{tries}; stopping the stack")
            return False
        delay = min(policy.backoff_ms / 1000 * 2**unit.restarts, _MAX_BACKOFF)
        unit.state = "restarting"
        unit.ready.clear()
        self._publish()
        self.output.note(
            f"{unit.name} exited with {unit.exit}; restart {unit.restarts + 1} of "
            f"{policy.max_restarts} in {delay:g}s"
        )
        if self._end.wait(delay):
            return False
        unit.restarts += 1
        return True

    def _completed(self, unit: Unit) -> bool:
        unit.state = "completed"
        unit.completed.set()
        self._changed_now()
        self.output.note(f"{unit.name} completed (exit code 0)")
        if self.all_ready():
            self._status = "running"
        self._publish()
        return False

    def _stop_unit(self, unit: Unit) -> str:
        run = unit.service.run
        with self._lock:
            group = unit.group
        if group is None or run is None:
            return "gone"
        how = process.stop_group(group, run.stop, unit.process)
        self._ended(unit, group, how)
        return how

    def _ended(self, unit: Unit, group: int, how: str) -> None:
        """`group` has been stopped and its leader reaped: its id may be another process's
        from now on (a stranger's session: PIDs wrap around), so it is never signaled
        again, nor listed in the state file for `down`. A group SIGKILL did not empty
        (a process stuck in the kernel) holds its id, and stays listed."""
        if how == "killed" and process.alive(group):
            return
        with self._lock:
            self._groups.discard(group)
            if unit.group == group:
                unit.group = None

    # --- requests from `portplan restart` ------------------------------------------------

    def _serve_requests(self) -> None:
        folder = self.state.path / "requests"
        try:
            names = os.listdir(folder)
        except OSError:
            return
        for name in names:
            if not name.endswith(".restart"):
                continue
            path = folder / name
            try:
                wanted = path.read_text(encoding="utf-8").strip()
                path.unlink()
            except OSError:
                continue
            if wanted in self.units:
                self.output.note(f"{wanted} restarts on request")
                self.request_restart(wanted)

    # --- the stop path -----------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop every group, top level first; SIGKILL after each grace; verify none is left."""
        with self._lock:
            self._stopping = True
            self._status = "stopping"
        self._end.set()
        self._publish()
        for level in reversed(self.order.levels):
            stoppers = [
                threading.Thread(target=self._stop_noted, args=(self.units[name],))
                for name in level
            ]
            for thread in stoppers:
                thread.start()
            for thread in stoppers:
                thread.join()
        for thread in self._threads:
            thread.join(timeout=5)
        left = process.members(self._groups)
        for pid, group in left:
            process.signal_group(group, 9)
            self.output.note(f"process {pid} of group {group} was still there; killed")
        self._status = "failed" if self.error else "stopped"
        self._publish()

    def _stop_noted(self, unit: Unit) -> None:
        if unit.process is None or unit.group is None:
            return
        how = self._stop_unit(unit)
        if unit.state not in ("completed", "failed"):
            unit.state = "stopped"
        if how == "killed":
            self.output.note(f"{unit.name} killed (SIGKILL) after its grace")
        elif how == "stopped":
            self.output.note(f"{unit.name} stopped")

    # --- the state file ----------------------------------------------------------------

    def _publish(self) -> None:
        # Taken and written under one lock of its own: a snapshot written after a newer one
        # would leave the file behind the supervisor (`up --detach` waits for "running"),
        # and the write (an fsync) must not hold up the threads starting services.
        with self._publishing, contextlib.suppress(OSError):
            with self._lock:
                document = self.snapshot()
            self.state.write(document)
            if self._notify is not None and document["status"] in ("running", "failed", "stopped"):
                notify, self._notify = self._notify, None
                os.write(notify, b"1")
                os.close(notify)

    def snapshot(self) -> dict[str, Any]:
        """The state file's document: no environment value, commands masked."""
        return {
            "plan": self.state.plan_file,
            "copy": self.state.copy,
            "supervisor": os.getpid(),
            "status": self._status,
            "error": self.error,
            "started_at": self._started_at,
            "levels": [list(level) for level in self.order.levels],
            "groups": sorted(self._groups),
            "services": {name: self._unit_document(u) for name, u in self.units.items()},
        }

    def _unit_document(self, unit: Unit) -> dict[str, Any]:
        run = unit.service.run
        assert run is not None
        if isinstance(run.command, str):
            command = mask_arg(run.command)
        else:
            command = " ".join(mask_argv(run.command))
        return {
            "state": unit.state,
            "pid": unit.process.pid if unit.process else None,
            "group": unit.group,
            "ports": [
                {"name": p.name, "port": p.number, "protocol": p.protocol}
                for p in unit.service.ports
            ],
            "started_at": unit.started_at,
            "ready_at": unit.ready_at,
            "ready_in": unit.ready_in,
            "restarts": unit.restarts,
            "exit": unit.exit,
            "last_probe": unit.last_probe,
            "command": command,
            "depends_on": unit.deps,
        }


# the most one line of output may take a `ready: {log: ...}` pattern: a pattern that
# backtracks (`^(a|aa)*$`) would otherwise hold the runner on one line past every deadline
LINE_MATCH_SECONDS = 0.25


def _line_matcher(pattern: str) -> Callable[[str], bool]:
    """`pattern.search(line)` in the `regex` engine (the syntax of `re`, which `check`
    holds the pattern to), which stops at a time limit (TimeoutError) and lets the other
    threads run while it matches."""
    import regex

    compiled = regex.compile(pattern)
    return lambda line: (
        compiled.search(line, timeout=LINE_MATCH_SECONDS, concurrent=True) is not None
    )


def _cwd(topology: Topology, cwd: str | None) -> str:
    """The working folder: relative to the plan's folder (the plan's folder by default)."""
    base = Path(topology.source).resolve().parent
    return str(base / cwd) if cwd else str(base)
