"""`portplan status`: every port of the plan against this machine, with health."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

import click

from portplan.cli._options import file_option, output_format

if TYPE_CHECKING:
    from portplan.live.status import StatusOptions, StatusReport
    from portplan.model import Topology

_CLEAR = "\x1b[H\x1b[2J"  # cursor home, clear screen
EXIT_INTERRUPTED = 130


@click.command("status")
@file_option
@output_format(json_alias=True)
@click.option("--watch", is_flag=True, help="Redraw every --interval seconds until ^C.")
@click.option(
    "--interval",
    type=click.FloatRange(0.1),
    default=2.0,
    show_default=True,
    help="Seconds between redraws with --watch.",
)
@click.option("--host", default=None, help="The plan's name for this machine.")
@click.option(
    "--concurrency",
    type=click.IntRange(1),
    default=100,
    show_default=True,
    help="Health checks in flight at once.",
)
@click.option(
    "--workers",
    type=click.IntRange(1),
    default=None,
    help="Processes for thousands of HTTP/TCP checks (default: one per core but one, at most 4).",
)
@click.option("--no-health", is_flag=True, help="Only look at listeners; run no health checks.")
@click.option(
    "--no-cache",
    is_flag=True,
    help="Read the plan afresh, not from the plan cache (also: PORTPLAN_NO_CACHE=1).",
)
def command(
    file: str | None,
    fmt: str,
    watch: bool,
    interval: float,
    host: str | None,
    concurrency: int,
    workers: int | None,
    no_health: bool,
    no_cache: bool,
) -> int:
    """Hold every port of the plan against this machine: up (with its owner), down,
    squatted (another service's process holds it), and unexpected listeners inside managed
    ranges; health checks (HTTP, TCP, gRPC) with latency against the declared budgets.
    Ports with `published: false` are listed as unpublished: no host listener is looked
    for and their health checks are not run (they answer on their container network).
    When `portplan up` runs the plan's stack, the runner's view follows: each service's
    state, PID, restarts, ready since, beside its health checks.

    \b
    Exit codes: 0 all well, 1 something declared is down, squatted, unhealthy or over its
    latency maximum (or a service of the running stack is not ready), 2 unusable input,
    130 interrupted (--watch ends with ^C).
    """
    from portplan.cli._status_run import default_workers, run_status

    if not watch:
        return run_status(file, fmt, host, concurrency, workers, no_health, _echo, not no_cache)
    from portplan.cli._status_run import load_plan
    from portplan.live.status import StatusOptions

    topology = load_plan(file, not no_cache)
    options = StatusOptions(host, not no_health, concurrency, workers or default_workers())
    return _watch(topology, interval, fmt, options)


def _echo(text: str) -> None:
    click.echo(text, nl=False)


def _watch(topology: Topology, interval: float, fmt: str, options: StatusOptions) -> int:
    """Redraw until interrupted; --format json writes one compact document per refresh."""
    from portplan.live.status import watch
    from portplan.run.view import runner_view

    tty = sys.stdout.isatty()
    try:
        for report in watch(topology, options, interval=interval):
            runner = runner_view(topology.source)
            click.echo(_frame(report, interval, fmt, tty, runner), nl=False)
    except KeyboardInterrupt:
        click.echo("")
        return EXIT_INTERRUPTED
    return 0  # pragma: no cover - watch() never ends by itself


def _frame(
    report: StatusReport, interval: float, fmt: str, tty: bool, runner: dict[str, Any] | None
) -> str:
    if fmt == "json":
        import json

        from portplan.run.view import runner_document

        document = report.as_dict()
        document["runner"] = runner_document(runner, report) if runner else None
        return json.dumps(document, ensure_ascii=False) + "\n"
    clock = time.strftime("%H:%M:%S", time.localtime(report.checked_at))
    title = f"portplan status: host {report.host}, every {interval:g}s, {clock} (^C to stop)\n\n"
    from portplan.cli._status_run import render

    return (_CLEAR if tty else "\n") + title + render(report, "text", runner)
