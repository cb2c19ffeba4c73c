"""`portplan up`: run the stack from the plan."""

from __future__ import annotations

import sys

import click

from portplan.cli._options import env_option, file_option


@click.command("up")
@click.argument("services", nargs=-1)
@file_option
@env_option
@click.option("-d", "--detach", is_flag=True, help="Leave a supervisor running; return once up.")
@click.option("--copy", default=None, help="Run a parallel copy of the stack on ports of its own.")
def command(
    services: tuple[str, ...], file: str | None, env: str | None, detach: bool, copy: str | None
) -> int:
    """Start SERVICES (default: every service with a run: section) and their dependencies:
    in dependency order, independent ones in parallel, each dependent once its dependencies
    meet their condition (started, ready, completed). Each process gets its ports and a
    <DEP>_URL per dependency, as `generate env` writes them. Before anything starts every
    port is checked against this machine; a port already held stops `up` with its holder
    named. Output lines are prefixed with the service's name and logged in the state
    folder. ^C stops everything in reverse dependency order.

    \b
    Exit codes: 0 stopped by `down` (or up, with --detach), 1 a port is held, a service
    failed or did not become ready, 2 unusable input, 130 interrupted (^C).
    """
    from portplan.run import stack as runner
    from portplan.run.output import use_colour

    prepared = runner.prepare(file, env=env, copy=copy, services=services)
    if not detach:
        return runner.up(prepared, sys.stdout, use_colour(sys.stdout))
    detached = runner.up_detached(prepared)
    units = detached.state.get("services", {})
    for name in (n for level in detached.state.get("levels", []) for n in level):
        unit = units[name]
        took = unit.get("ready_in")
        how = f"ready in {took:.2f}s" if took is not None else unit.get("state", "?")
        click.echo(f"{name}: {how} (PID {unit.get('pid')})")
    click.echo(f"supervisor {detached.pid}; portplan ps, portplan logs, portplan down")
    return 0
