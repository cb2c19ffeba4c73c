"""`portplan ports`: every listening socket on this machine, with its owner."""

from __future__ import annotations

import sys

import click

from portplan.cli._options import optional_file_option, output_format


@click.command("ports")
@output_format(json_alias=True)
@click.option("--udp", is_flag=True, help="Include UDP sockets (bound, unconnected).")
@click.option(
    "--all-addresses",
    is_flag=True,
    help="One row per socket, instead of one per owner and port (0.0.0.0 and :: together).",
)
@optional_file_option
def command(fmt: str, udp: bool, all_addresses: bool, file: str | None) -> int:
    """List every listening socket: address, port, protocol, PID, user, start time, command,
    and the service it belongs to when a plan is found. --format json (or --json) writes
    one record per socket.

    \b
    A socket whose owner cannot be inspected (another user's, without root) is shown with
    PID '-' and '(permission denied)'.
    Exit codes: 0, or 2 when the plan cannot be read.
    """
    from portplan.live.commands import ports

    text, code = ports(as_json=fmt == "json", udp=udp, all_addresses=all_addresses, file=file)
    sys.stdout.write(text)  # not click.echo: it scans thousands of lines for ANSI codes
    return code
