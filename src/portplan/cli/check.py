from __future__ import annotations

import click

from portplan.cli._options import (
    env_option,
    fail_on_option,
    failure_reported,
    file_option,
    format_option,
)


@click.command("check")
@file_option
@env_option
@format_option
@fail_on_option
def command(file: str | None, env: str | None, fmt: str, fail_on: str) -> int:
    """Validate the plan: conflicts, ranges, reserved ports, exposure, dependencies, secrets.

    \b
    --env NAME checks the plan with that overlay of its environments: section applied.
    Exit codes: 0 clean, 1 findings at or above --fail-on, 2 unusable input.
    """
    from portplan.findings import Level
    from portplan.plan.check import check_file
    from portplan.report import exit_code, render

    with failure_reported("check", fmt):
        result = check_file(file, env=env)
    click.echo(render(result.report(), fmt), nl=False)
    return exit_code(result.findings, Level.parse(fail_on))
