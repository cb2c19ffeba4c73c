"""`portplan who PORT...`: who holds each port, and which service should."""

from __future__ import annotations

import click

from portplan.cli._options import optional_file_option


@click.command("who")
@click.argument("ports", nargs=-1, required=True, type=click.IntRange(1, 65535))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@optional_file_option
def command(ports: tuple[int, ...], as_json: bool, file: str | None) -> int:
    """Show who holds each PORT (TCP or UDP) and which service of the registry should.

    \b
    Exit codes: 0 every port is held, 1 some port is free, 2 unusable input.
    """
    from portplan.live import render
    from portplan.live.registry import DeclaredIndex, optional_registry
    from portplan.live.sockets import listeners

    index = DeclaredIndex(optional_registry(file))
    wanted = set(ports)
    found = [li for li in listeners(("tcp", "udp")) if li.port in wanted]
    text = render.who_json(ports, found, index) if as_json else render.who_text(ports, found, index)
    click.echo(text, nl=False)
    return 0 if wanted <= {li.port for li in found} else 1
