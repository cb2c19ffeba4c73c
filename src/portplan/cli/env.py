"""`portplan env`: the port variables of the plan, or of a copy, for a shell."""

from __future__ import annotations

import click

from portplan.cli._options import env_option, file_option


@click.command("env")
@click.argument("service", required=False)
@file_option
@env_option
@click.option("--copy", default=None, help="The variables of this copy (ports chosen now if new).")
def command(service: str | None, file: str | None, env: str | None, copy: str | None) -> int:
    """Print `export NAME="value"` lines for a shell (`eval "$(portplan env --copy b)"`):
    every service's port variables as service-ports.env names them, or with SERVICE the
    environment `up` gives that service (its ports and <DEP>_URLs). Secrets stay
    `${NAME}` references that the shell fills in; no secret value is printed.

    \b
    Exit codes: 0 done, 2 unusable input.
    """
    from portplan.errors import NotFoundError
    from portplan.plan.loader import load
    from portplan.run import copies
    from portplan.run import stack as runner
    from portplan.run.env import planned, runner_topology, shell_line, system_variables

    path = runner.plan_file(file)
    topology = load(path, env=env)
    ports = copies.assign(topology, runner.state_of(path, copy)) if copy else None
    moved = runner_topology(topology, ports)
    if service is None:
        pairs = system_variables(moved)
    else:
        found = moved.resolve(service)
        if found is None:
            raise NotFoundError(f"no service '{service}' in {path}")
        pairs = planned(moved, found)
    for name, value in pairs:
        click.echo(shell_line(name, value))
    return 0
