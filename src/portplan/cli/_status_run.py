"""`portplan status` without --watch, as a function: its click command (portplan.cli.status)
and the click-free console script (portplan._entry) both call it, so that both print the
same report and return the same exit code. click is not imported here.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from portplan.live.status import StatusReport


def default_workers() -> int:
    """Processes for thousands of checks: one per core, at most 4."""
    return min(os.cpu_count() or 1, 4)


def run_status(
    file: str | None,
    fmt: str,
    host: str | None,
    concurrency: int,
    workers: int | None,
    no_health: bool,
    write: Callable[[str], object],
) -> int:
    """Check the plan `file` (or the discovered one) against this machine once, write the
    report in `fmt`; 1 when something declared fails (or the running stack is not ready)."""
    from portplan.live.status import StatusOptions, check_status
    from portplan.plan.loader import load
    from portplan.run.view import failing, runner_view

    topology = load(file)
    options = StatusOptions(host, not no_health, concurrency, workers or default_workers())
    report = check_status(topology, options)
    runner = runner_view(topology.source)
    write(render(report, fmt, runner))
    return 1 if report.failed or (runner is not None and failing(runner)) else 0


def render(report: StatusReport, fmt: str, runner: dict[str, Any] | None) -> str:
    """The report, with the runner's view of the plan's stack when one is up."""
    from portplan.live import view
    from portplan.run.view import runner_document, runner_table

    if fmt == "json":
        extra = {"runner": runner_document(runner, report) if runner else None}
        return view.status_json(report, extra)
    return view.status_text(report, [runner_table(runner, report)] if runner else [])
