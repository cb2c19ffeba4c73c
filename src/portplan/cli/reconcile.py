from __future__ import annotations

import click

from portplan.cli._options import (
    env_option,
    fail_on_option,
    failure_reported,
    file_option,
    format_option,
)


@click.command("reconcile")
@click.argument("paths", nargs=-1, type=click.Path())
@file_option
@env_option
@format_option
@fail_on_option
def command(
    paths: tuple[str, ...], file: str | None, env: str | None, fmt: str, fail_on: str
) -> int:
    """Compare compose, .env, Kubernetes and Markdown sources with the plan (-f) or, without
    one, with each other; report every disagreement with file:line on each side.

    \b
    PATHS are files or directories (default: .); directories are scanned for every known
    file kind by name, and a file named here is also known by its content (compose: a
    top-level services:, Kubernetes: apiVersion and kind); one of no known kind is a PP209.
    --env NAME compares with the plan's overlay NAME of its environments: section applied.
    Exit codes: 0 clean, 1 findings at or above --fail-on, 2 unusable input.
    """
    from portplan.findings import Level
    from portplan.plan import loader
    from portplan.reconcile.core import reconcile_paths
    from portplan.report import exit_code, render

    with failure_reported("reconcile", fmt):
        topology = loader.load(file, env=env) if file else None
        result = reconcile_paths(list(paths) or ["."], topology)
    click.echo(render(result.report(), fmt), nl=False)
    return exit_code(result.findings, Level.parse(fail_on))
