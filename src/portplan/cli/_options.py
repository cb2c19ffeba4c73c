"""Options shared by several commands, so each is spelled and documented once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

REPORT_FORMATS = ("text", "json", "sarif", "github")


def _file(help_text: str) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        return click.option(
            "-f",
            "--file",
            "file",
            type=click.Path(dir_okay=False),
            default=None,
            help=help_text,
        )(func)

    return decorate


file_option = _file("The plan (default: portplan.yaml here or in the nearest parent).")
# For commands that work without a plan and only name services when one is found.
optional_file_option = _file(
    "The plan (default: portplan.yaml here or in the nearest parent, if any)."
)


def env_option(func: F) -> F:
    return click.option(
        "--env",
        "env",
        default=None,
        help="Apply this overlay of 'environments:' to the plan first (prod, staging...).",
    )(func)


def format_option(func: F) -> F:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(REPORT_FORMATS),
        default="text",
        show_default=True,
        help="Report format: text, json, sarif (2.1.0) or github (workflow annotations).",
    )(func)


def fail_on_option(func: F) -> F:
    return click.option(
        "--fail-on",
        type=click.Choice(("error", "warning", "info")),
        default="error",
        show_default=True,
        help="Exit 1 when a finding is at this level or above.",
    )(func)


@contextmanager
def failure_reported(command: str, fmt: str) -> Iterator[None]:
    """When the input is unusable (a PortplanError, exit 2), standard output still carries a
    valid document in `fmt` saying so (docs/json-output.md), so a CI upload never gets an
    empty file; the error goes on to the one-line message on stderr and the exit code."""
    from portplan.errors import PortplanError

    try:
        yield
    except PortplanError as error:
        from portplan.report import Failure, render_failure

        click.echo(render_failure(Failure.of(command, error), fmt), nl=False)
        raise
