from __future__ import annotations

import click

from portplan.cli._options import env_option, file_option
from portplan.render import TARGETS

CHOICES = (*TARGETS, "markers")


@click.command("generate")
@click.argument("targets", nargs=-1, type=click.Choice(CHOICES))
@file_option
@click.option(
    "--out",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False),
    help="The folder generated files go in.",
)
@env_option
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 1 with a unified diff when a generated file is missing or stale.",
)
@click.option(
    "--compose",
    "compose",
    type=click.Path(dir_okay=False),
    default=None,
    help="Merge the compose sections into this compose file instead of compose.ports.yaml.",
)
@click.option(
    "--in",
    "markdown",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Refill <!-- portplan:begin SECTION --> markers in this Markdown file (repeatable).",
)
def command(
    targets: tuple[str, ...],
    file: str | None,
    out: str,
    env: str | None,
    check: bool,
    compose: str | None,
    markdown: tuple[str, ...],
) -> int:
    """Write env files, compose and Kubernetes port sections, Prometheus scrape config,
    reference docs and graphs from the topology (every target when none is named).

    \b
    Targets: env, compose, kubernetes, prometheus, docs, graph; `markers` alone refills
    only the --in files.
    Exit codes: 0 written or up to date, 1 (--check) a file is missing or stale, 2 bad input.
    """
    from portplan.render.generate import Request, diff, outdated, plan, write

    planned = plan(Request(file, targets, out, env, compose, markdown))
    if check:
        stale = outdated(planned)
        click.echo(diff(planned), nl=False)
        if stale:
            click.echo(
                f"portplan: {len(stale)} of {len(planned)} generated files are missing "
                "or stale; run portplan generate",
                err=True,
            )
        return 1 if stale else 0
    for path in write(planned):
        click.echo(f"wrote {path}")
    return 0
