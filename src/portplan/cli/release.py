from __future__ import annotations

import click

from portplan.cli._options import registry_options


@click.command("release")
@click.argument("lease_ids", nargs=-1, required=True)
@registry_options
def command(lease_ids: tuple[str, ...], server: str | None, system: str | None) -> int:
    """Release leases (their ids, as `portplan lease` printed them) on the registry."""
    from portplan.server import remote
    from portplan.server.client import Client

    client = Client.from_environment(server)
    for lease_id in lease_ids:
        remote.release(client, lease_id)
        click.echo(f"released {lease_id}")
    return 0
