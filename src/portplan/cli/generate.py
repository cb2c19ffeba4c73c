from __future__ import annotations

import click

from portplan.cli._options import (
    INPUT_PATH,
    data_format_option,
    env_option,
    file_option,
    follow_links_option,
)
from portplan.render import TARGETS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from portplan.render.generate import Planned

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
    type=INPUT_PATH,
    metavar="FILE",
    default=None,
    help="Merge the compose sections into this compose file instead of compose.ports.yaml.",
)
@click.option(
    "--in",
    "markdown",
    multiple=True,
    type=INPUT_PATH,
    metavar="FILE",
    help="Refill <!-- portplan:begin SECTION --> markers in this Markdown file (repeatable).",
)
@data_format_option
@follow_links_option
def command(
    targets: tuple[str, ...],
    file: str | None,
    out: str,
    env: str | None,
    check: bool,
    compose: str | None,
    markdown: tuple[str, ...],
    fmt: str,
    follow_links: bool,
) -> int:
    """Write env files, compose and Kubernetes port sections, Prometheus scrape config,
    reference docs and graphs from the plan (every target when none is named).

    \b
    Targets: env, compose, kubernetes, prometheus, docs, graph; `markers` alone refills
    only the --in files. --format json prints one document: each file, its state
    (missing, stale, fresh), whether it was written, and with --check the diff.
    Exit codes: 0 written or up to date, 1 (--check) a file is missing or stale, 2 bad input.
    """
    from portplan.render.generate import Request, diff, plan, write

    planned = plan(Request(file, targets, out, env, compose, markdown))
    if fmt == "json":
        return _json(planned, check, out, follow_links)
    if check:
        click.echo(diff(planned), nl=False)
        return _checked(planned)
    for path in write(planned, out, follow_links=follow_links):
        click.echo(f"wrote {path}")
    return 0


def _json(planned: list[Planned], check: bool, out: str, follow_links: bool) -> int:
    import json

    from portplan.render.generate import as_dict, write

    if not check:
        write(planned, out, follow_links=follow_links)
    click.echo(json.dumps(as_dict(planned, check=check), indent=2, ensure_ascii=False))
    return _checked(planned) if check else 0


def _checked(planned: list[Planned]) -> int:
    """Exit 1, with a line on stderr, when a generated file is missing or stale."""
    from portplan.render.generate import outdated

    stale = outdated(planned)
    if stale:
        click.echo(
            f"portplan: {len(stale)} of {len(planned)} generated files are missing "
            "or stale; run portplan generate",
            err=True,
        )
    return 1 if stale else 0
