"""`portplan restart SERVICE`: restart one service of a running stack."""

from __future__ import annotations

import click

from portplan.cli._options import file_option


@click.command("restart")
@click.argument("service")
@file_option
@click.option("--copy", default=None, help="Restart it in this copy of the stack.")
def command(service: str, file: str | None, copy: str | None) -> int:
    """Restart SERVICE in the stack `up --detach` runs: its process group is stopped and
    started again, and once it is ready the dependents that declared
    `restart: with-dependency` follow.

    \b
    Exit codes: 0 ready again, 1 not ready again (or no stack is up), 2 unusable input.
    """
    from portplan.run import stack as runner

    unit = runner.restart(runner.state_of(file, copy), service)
    click.echo(f"{service}: ready again in {unit.get('ready_in', 0):.2f}s (PID {unit.get('pid')})")
    return 0
