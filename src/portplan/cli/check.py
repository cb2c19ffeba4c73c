from __future__ import annotations

import click

from portplan.cli._options import env_option, fail_on_option, file_option, format_option


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
    from portplan.plan.check import run_check

    return run_check(file, env, fmt, fail_on, lambda text: click.echo(text, nl=False))
