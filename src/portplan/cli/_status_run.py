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

    from portplan.live.early import EarlyChecks
    from portplan.live.status import StatusReport
    from portplan.model import Topology

    # the plan's host names, and for each host the protocols read and the checks
    Checks = tuple[list[str], dict[str, tuple[list[str], list[tuple[Any, ...]]]]]


def default_workers() -> int:
    """Processes for thousands of checks: one per core but one, at most 4. A check on
    loopback costs its server as much as its prober, and that server needs a core too: on
    2 cores a forked worker costs 40 ms more CPU per 2,000 checks for no shorter run."""
    return max(1, min((os.cpu_count() or 1) - 1, 4))


def run_status(
    file: str | None,
    fmt: str,
    host: str | None,
    concurrency: int,
    workers: int | None,
    no_health: bool,
    write: Callable[[str], object],
    cache: bool = True,
    hold: list[object] | None = None,
) -> int:
    """Check the plan `file` (or the discovered one) against this machine once, write the
    report in `fmt`; 1 when something declared fails (or the running stack is not ready).

    The cyclic garbage collector is paused meanwhile, as for the other commands that read,
    build and end (portplan.collector): thousands of rows, listeners and check results,
    none in a cycle, would otherwise be walked again by each collection (-25 ms of CPU for
    2,000 checks).

    `hold` takes the plan and the report, for a caller that ends right after without
    freeing them (the console script: freeing 2,000 rows, their checks and the plan one
    object at a time is 5-10 ms of nothing)."""
    from portplan.collector import paused

    workers = workers or default_workers()
    with paused():
        # with the plan in the plan cache, its checks start before it is loaded
        plan = _plan_file(file) if cache and not no_health else None
        early, keep = (
            (None, False) if plan is None else _start_early(plan, host, concurrency, workers)
        )
        try:
            from portplan.live.status import StatusOptions, check_status

            topology = load_plan(file, cache)
            kept = None
            if early is None and not no_health:
                # read afresh: the plan's checks start now, before the sockets are read
                kept = _plan_checks(topology)
                early = _started(kept, host, concurrency, workers)
            options = StatusOptions(host, not no_health, concurrency, workers)
            runners: list[dict[str, Any] | None] = []
            # the runner's view (and its imports) while the health checks run
            report = check_status(
                topology,
                options,
                meanwhile=lambda: runners.append(_meanwhile(topology.source)),
                early=early,
            )
        finally:
            if early is not None:  # a process whose results an error left unread is ended
                early.close()
        runner = runners[0]
        write(render(report, fmt, runner))
        if keep and plan is not None:
            _keep_checks(plan, kept or _plan_checks(topology))
        if hold is not None:
            hold += (topology, report)
    return 1 if report.failed or (runner is not None and _failing(runner)) else 0


def _plan_file(file: str | None) -> str | None:
    from portplan.live.declared import find_file

    return file if file is not None else find_file()


def _start_early(
    plan: str, host: str | None, concurrency: int, workers: int
) -> tuple[EarlyChecks | None, bool]:
    """`portplan.live.early.start` for the plan."""
    from portplan.live.early import start

    return start(plan, host, concurrency, workers)


def _plan_checks(topology: Topology) -> Checks:
    """The plan's host names and each host's checks, as `portplan.live.early` keeps them."""
    from portplan.live.status import kept_checks

    return kept_checks(topology)


def _started(kept: Checks, host: str | None, concurrency: int, workers: int) -> EarlyChecks | None:
    from portplan.live.early import started

    return started(*kept, host, concurrency, workers)


def _keep_checks(plan: str, kept: Checks) -> None:
    """Keep the plan's checks beside its cache entry, when some host has enough of them."""
    from portplan.live.early import EARLY_CHECKS, save

    names, hosts = kept
    if any(len(checks) >= EARLY_CHECKS for _, checks in hosts.values()):
        save(plan, names, hosts)


def _meanwhile(plan_file: str) -> dict[str, Any] | None:
    """What is done while the health checks run: the runner's view, and the import of
    the report's writer."""
    import portplan.live.view  # noqa: F401

    return _runner(plan_file)


def _runner(plan_file: str) -> dict[str, Any] | None:
    from portplan.run.view import runner_view

    return runner_view(plan_file)


def _failing(runner: dict[str, Any]) -> bool:
    from portplan.run.view import failing

    return bool(failing(runner))


def load_plan(file: str | None, cache: bool = True) -> Topology:
    """The plan `file` (or the discovered one), through the plan cache unless `cache` is
    False (portplan.plan.cache)."""
    path = _plan_file(file)
    if path is None:
        from portplan.plan.loader import load

        return load(None)  # its error: no plan here
    from portplan.plan.cache import load as load_cached

    return load_cached(path, cache=cache)


def render(report: StatusReport, fmt: str, runner: dict[str, Any] | None) -> str:
    """The report, with the runner's view of the plan's stack when one is up."""
    from portplan.live import view
    from portplan.run.view import runner_document, runner_table

    if fmt == "json":
        extra = {"runner": runner_document(runner, report) if runner else None}
        return view.status_json(report, extra)
    return view.status_text(report, [runner_table(runner, report)] if runner else [])
