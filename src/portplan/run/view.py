"""The runner's part of `portplan status`: when a stack of the plan is up, each service's
state, PID, restarts and ready since, beside the health checks `status` ran on its ports.

`runner_view` reads the state file as `ps` does (each process group checked against the
machine); `runner_table` and `runner_document` join it with a status report. Nothing here
prints.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from portplan.run.state import StateDir

if TYPE_CHECKING:
    from portplan.live.status import PortStatus, StatusReport

_HEALTHY_STATES = ("ready", "completed")


def runner_view(plan_file: str, copy: str | None = None) -> dict[str, Any] | None:
    """The stack of `plan_file` as `ps` sees it, or None when no stack of it is up."""
    state = StateDir(plan_file, copy)
    if not state.state_file.exists():
        return None  # what ps() says too, without importing the runner (status's start-up)
    from portplan.run.stack import NotUp, ps

    try:
        return ps(state)
    except NotUp:
        return None


def failing(document: dict[str, Any]) -> list[str]:
    """The services that are not ready (or completed): starting, restarting, failed, dead."""
    units = document.get("services", {})
    return [name for name, unit in units.items() if unit.get("state") not in _HEALTHY_STATES]


def runner_table(document: dict[str, Any], report: StatusReport) -> str:
    """`stack running, supervisor 4242`, then one row per service, in dependency order."""
    from portplan.live.view import table

    header = ["SERVICE", "STATE", "PID", "RESTARTS", "READY SINCE", "READY IN", "HEALTH"]
    rows = [_row(name, unit, report) for name, unit in _ordered(document)]
    return _headline(document) + "\n" + table(header, rows)


def runner_document(document: dict[str, Any], report: StatusReport) -> dict[str, Any]:
    """The `runner` member of `status --format json`."""
    keys = ("state", "pid", "restarts", "started_at", "ready_at", "ready_in", "exit", "last_probe")
    return {
        "plan": document.get("plan"),
        "copy": document.get("copy"),
        "status": document.get("status"),
        "error": document.get("error"),
        "supervisor": document.get("supervisor"),
        "supervisor_running": document.get("supervisor_running"),
        "services": {
            name: {
                **{key: unit.get(key) for key in keys},
                "health": [
                    {"port_name": row.port_name, **probe.as_dict()}
                    for row in _probed(report, name)
                    if (probe := row.probe) is not None
                ],
            }
            for name, unit in _ordered(document)
        },
    }


def _ordered(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    units: dict[str, dict[str, Any]] = document.get("services", {})
    names = [n for level in document.get("levels", []) for n in level if n in units]
    return [(name, units[name]) for name in names or list(units)]


def _headline(document: dict[str, Any]) -> str:
    running = "running" if document.get("supervisor_running") else "not running"
    started = document.get("started_at")
    since = f" since {_clock(started)}" if started else ""
    error = f": {document['error']}" if document.get("error") else ""
    return (
        f"stack {document.get('status')}{since}, supervisor {document.get('supervisor')} "
        f"{running}{error}"
    )


def _row(name: str, unit: dict[str, Any], report: StatusReport) -> list[str]:
    ready_at, ready_in = unit.get("ready_at"), unit.get("ready_in")
    return [
        name,
        str(unit.get("state")),
        str(unit.get("pid") or "-"),
        str(unit.get("restarts", 0)),
        _clock(ready_at) if ready_at and unit.get("state") == "ready" else "-",
        f"{ready_in:.2f}s" if ready_in is not None else "-",
        _health(name, report),
    ]


def _probed(report: StatusReport, service: str) -> list[PortStatus]:
    return [row for row in report.ports if row.service == service and row.probe is not None]


def _health(service: str, report: StatusReport) -> str:
    """`http 200 1.7 ms; grpc unhealthy: NOT_SERVING`: each check `status` ran on it."""
    cells = []
    for row in _probed(report, service):
        probe = row.probe
        assert probe is not None
        if not probe.healthy:
            cells.append(f"{row.port_name} unhealthy: {probe.detail}")
        elif probe.latency_ms is not None:
            cells.append(f"{row.port_name} {probe.detail} {probe.latency_ms:.1f} ms")
        else:
            cells.append(f"{row.port_name} {probe.detail}")
    return "; ".join(cells) or "-"


def _clock(when: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(when))
