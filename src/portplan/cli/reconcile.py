from __future__ import annotations

import click

from portplan.cli._options import (
    INPUT_PATH,
    env_option,
    fail_on_option,
    failure_reported,
    file_option,
    format_option,
)


@click.command("reconcile")
@click.argument("paths", nargs=-1, type=INPUT_PATH)
@file_option
@env_option
@format_option
@fail_on_option
@click.option(
    "--no-plan", is_flag=True, help="Hold the sources to each other, not to a discovered plan."
)
@click.option("-v", "--verbose", is_flag=True, help="List every file read or skipped, and why.")
def command(
    paths: tuple[str, ...],
    file: str | None,
    env: str | None,
    fmt: str,
    fail_on: str,
    no_plan: bool,
    verbose: bool,
) -> int:
    """Compare compose, .env, Kubernetes and Markdown sources with the plan (-f) or, without
    one, with each other; report every disagreement with file:line on each side.

    \b
    PATHS are files or directories (default: .); directories are scanned for every known
    file kind by name, and a file named here is also known by its content (compose: a
    top-level services:, Kubernetes: apiVersion and kind); one of no known kind is a PP209.
    A YAML file in a directory is compose by its content too (full-stack.yml, stack.yml).
    Without -f, the plan is portplan.yaml in the first PATH's folder or its nearest parent,
    as check finds it (--no-plan: none). The report ends with a line saying what was read
    and skipped (-v: every file and why). --env NAME compares with the plan's overlay NAME
    of its environments: section applied.
    Exit codes: 0 clean, 1 findings at or above --fail-on, 2 unusable input (also when no
    file of a known kind is found).
    """
    from portplan.findings import Level
    from portplan.plan import loader
    from portplan.reconcile.core import plan_near, reconcile_paths
    from portplan.report import exit_code, render

    with failure_reported("reconcile", fmt):
        targets = list(paths) or ["."]
        found = file or (None if no_plan else plan_near(targets[0]))
        topology = loader.load(found, env=env) if found else None
        result = reconcile_paths(targets, topology)
    click.echo(render(result.report(verbose), fmt), nl=False)
    return exit_code(result.findings, Level.parse(fail_on))
