"""`portplan logs`: the output of a stack's services."""

from __future__ import annotations

import click

from portplan.cli._options import INPUT_PATH


@click.command("logs")
@click.argument("services", nargs=-1)
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines until ^C.")
@click.option(
    "--file",
    "file",
    type=INPUT_PATH,
    metavar="FILE",
    default=None,
    help="The plan (default: portplan.yaml here or in the nearest parent).",
)
@click.option("--copy", default=None, help="The logs of this copy of the stack.")
def command(services: tuple[str, ...], follow: bool, file: str | None, copy: str | None) -> int:
    """Print the logged output of SERVICES (default: all) of the stack, each line prefixed
    with its service's name; -f follows new lines (as `docker compose logs -f`; the plan
    is then given with --file).

    \b
    Exit codes: 0 done, 2 unusable input (no such log), 130 interrupted (-f ends with ^C).
    """
    from portplan.run import stack as runner

    state = runner.state_of(file, copy)
    try:
        for line in runner.log_lines(state, services, follow=follow):
            click.echo(line)
    except KeyboardInterrupt:
        return 130
    return 0
