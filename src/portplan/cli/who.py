"""`portplan who PORT...`: who holds each port, and which service should."""

from __future__ import annotations

import sys

import click

from portplan.cli._options import optional_file_option, output_format
from portplan.cli._types import PORT


@click.command("who")
@click.argument("ports", nargs=-1, required=True, type=PORT)
@output_format(json_alias=True)
@optional_file_option
def command(ports: tuple[int, ...], fmt: str, file: str | None) -> int:
    """Show who holds each PORT (TCP or UDP) and which service of the plan should.

    \b
    Exit codes: 0 every port is held, 1 some port is free, 2 unusable input.
    """
    from portplan.live.commands import who

    text, code = who(ports, as_json=fmt == "json", file=file)
    sys.stdout.write(text)  # as the click-free path (portplan._entry) writes it
    return code
