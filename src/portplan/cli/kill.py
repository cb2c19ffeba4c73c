"""`portplan kill PORT`: stop whatever holds a port (SIGTERM, grace period, SIGKILL)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from portplan.cli._types import GRACE, PORT

if TYPE_CHECKING:
    from portplan.live.kill import Holder, KillResult


@click.command("kill")
@click.argument("port", type=PORT)
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--force", is_flag=True, help="Also stop PID 1 and other users' processes.")
@click.option(
    "--grace",
    type=GRACE,
    default=5.0,
    show_default=True,
    help="Seconds between SIGTERM and SIGKILL.",
)
def command(port: int, yes: bool, force: bool, grace: float) -> int:
    """Stop the process(es) holding PORT: SIGTERM, then SIGKILL after the grace period.

    \b
    PID 1 and processes of another user are refused unless --force.
    Exit codes: 0 stopped, 1 declined or still running, 2 nothing listens / refused.
    """
    from portplan.live.kill import kill_port

    results = kill_port(port, force=force, grace=grace, confirm=None if yes else _confirm)
    if not results:
        click.echo("Not stopped.")
        return 1
    for result in results:
        click.echo(_outcome(result, grace))
    return 0 if all(result.stopped for result in results) else 1


def _confirm(holders: Sequence[Holder]) -> bool:
    from portplan.live.text import printable

    for holder in holders:
        process = holder.process
        sockets = ", ".join(f"{li.protocol} {li.endpoint}" for li in holder.listeners)
        command = printable(process.command)
        click.echo(f"process {process.pid} ({command}, user {process.user}) holds {sockets}")
    noun = "this process" if len(holders) == 1 else f"these {len(holders)} processes"
    return click.confirm(f"Stop {noun}?", default=False)


def _outcome(result: KillResult, grace: float) -> str:
    process = f"process {result.process.pid} ({result.process.name})"
    if not result.stopped:
        return f"{process} is still running after SIGKILL"
    if result.signal == "SIGKILL":
        return f"stopped {process} with SIGKILL after a {grace:g} s grace period"
    return f"stopped {process} with SIGTERM"
