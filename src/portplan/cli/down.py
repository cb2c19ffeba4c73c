"""`portplan down`: stop a detached stack."""

from __future__ import annotations

import click

from portplan.cli._options import file_option


@click.command("down")
@file_option
@click.option("--copy", default=None, help="Stop this copy (and free its ports).")
def command(file: str | None, copy: str | None) -> int:
    """Stop the stack `up --detach` started, in reverse dependency order: the stop signal
    to each whole process group, its grace, then SIGKILL. Then verify that no process of
    the stack is left and that every port of it is free. `--copy NAME` also gives the
    copy's ports back.

    \b
    Exit codes: 0 stopped (or nothing was up), 1 something was left behind, 2 unusable input.
    """
    from portplan.run import stack as runner

    report = runner.down(runner.state_of(file, copy))
    if not report.was_up:
        click.echo("nothing is up")
        return 0
    for line in report.left:
        click.echo(f"left behind: {line}", err=True)
    if report.left:
        return 1
    click.echo(f"stopped {len(report.stopped)} services; no process left, every port free")
    return 0
