"""Options shared by several commands, so each is spelled and documented once.

Every command that prints data takes `--format`: `@format_option` where it prints findings
(text, json, sarif, github), `@data_format_option` elsewhere (text, json), or
`@output_format(json_alias=True)` for the commands that also keep `--json`. The command
receives the choice as `fmt: str`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import click

F = TypeVar("F", bound=Callable[..., Any])

DATA_FORMATS = ("text", "json")
REPORT_FORMATS = ("text", "json", "sarif", "github")


# A file portplan opens itself: click checks nothing about it, so that a missing, unreadable
# or wrong kind of file gets portplan's one wording in one line, exit 2 (`FILE: cannot
# read: REASON`, `FILE: is a folder, not a file`, `FILE: no such file`), never click's
# usage error.
INPUT_PATH = click.Path(readable=False)


def _file(help_text: str) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        return click.option(
            "-f",
            "--file",
            "file",
            type=INPUT_PATH,
            metavar="FILE",
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


def follow_links_option(func: F) -> F:
    return click.option(
        "--follow-symlinks",
        "follow_links",
        is_flag=True,
        help="Write through a symbolic link that leads out of the output folder "
        "(refused by default).",
    )(func)


def output_format(
    formats: Sequence[str] = DATA_FORMATS, *, json_alias: bool = False
) -> Callable[[F], F]:
    """`--format` with one of `formats` (the first is the default), passed to the command as
    `fmt: str`. With `json_alias`, `--json` too: the same as `--format json` (`ports`, `who`
    and `status` had it first); `--json` with `--format text` is a usage error."""
    kinds = " (findings)" if "sarif" in formats else ""
    help_text = f"Output format{kinds}: {_choices(formats)}."

    def decorate(func: F) -> F:
        if not json_alias:
            return click.option(
                "--format",
                "fmt",
                type=click.Choice(formats),
                default=formats[0],
                show_default=True,
                help=help_text,
            )(func)
        resolved = _json_alias(func, formats[0])
        resolved = click.option(
            "--json", "as_json", is_flag=True, help="The same as --format json."
        )(resolved)
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(formats),
            default=None,
            help=f"{help_text}  [default: {formats[0]}]",
        )(resolved)

    return decorate


def _choices(formats: Sequence[str]) -> str:
    names = {"sarif": "sarif (2.1.0)", "github": "github (workflow annotations)"}
    spelt = [names.get(name, name) for name in formats]
    return ", ".join(spelt[:-1]) + " or " + spelt[-1] if len(spelt) > 1 else spelt[0]


def _json_alias(func: F, default: str) -> F:
    """`func` taking `fmt`, as a callback taking `fmt` (None when not given) and `as_json`."""

    @functools.wraps(func)
    def resolved(*args: Any, fmt: str | None, as_json: bool, **kwargs: Any) -> Any:
        if as_json and fmt not in (None, "json"):
            raise click.BadOptionUsage(
                "as_json",
                f"--json is --format json: it cannot go with --format {fmt}",
                ctx=click.get_current_context(),
            )
        return func(*args, fmt="json" if as_json else fmt or default, **kwargs)

    return cast("F", resolved)


# Findings (check, reconcile): every report format; anything else that prints data: text|json.
format_option = output_format(REPORT_FORMATS)
data_format_option = output_format(DATA_FORMATS)


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


def registry_options(func: F) -> F:
    """--server (else $PORTPLAN_SERVER) and --system; the token only ever comes from
    $PORTPLAN_TOKEN, so it never shows in a process listing or a shell history."""
    func = click.option(
        "--system",
        default=None,
        help="The system on the registry (default: the plan's `system:`).",
    )(func)
    return click.option(
        "--server",
        envvar="PORTPLAN_SERVER",
        default=None,
        help="The registry's URL (default: $PORTPLAN_SERVER).",
    )(func)
