from __future__ import annotations

import click

from portplan.cli._options import file_option, registry_options


@click.command("lease")
@click.argument("service")
@click.argument("port_name", required=False)
@click.option("--ttl", default=None, help="Release by itself after this long: 90s, 30m, 2h, 1d.")
@click.option("--host", default=None, help="The host (default: the service's host in the plan).")
@click.option("--holder", default=None, help="Who holds it (default: USER@HOSTNAME).")
@click.option("--key", default=None, help="Idempotency key: a retry returns the same lease.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "env"]),
    default="text",
    show_default=True,
    help="env: NAME=PORT lines for eval, with PORTPLAN_LEASE_ID.",
)
@registry_options
@file_option
def command(
    service: str,
    port_name: str | None,
    ttl: str | None,
    host: str | None,
    holder: str | None,
    key: str | None,
    fmt: str,
    server: str | None,
    system: str | None,
    file: str | None,
) -> int:
    """Lease ports of SERVICE (or only PORT_NAME) from the registry: its planned port if
    free, else the lowest free port of its range; never one another lease holds. An
    allocate through the registry killed before it kept its lease (its journal beside the
    plan) is finished first, so its port is never leased again."""
    from portplan.server import remote
    from portplan.server.client import Client
    from portplan.server.reservation import recover

    client = Client.from_environment(server)
    seconds = remote.parse_ttl(ttl) if ttl else None
    path = remote.plan_path(file)
    name = remote.system_of(str(path), system)
    for line in recover(client, name, path):  # what a killed allocate left: finished first
        click.echo(f"portplan: {line}", err=True)
    found = remote.lease(
        client, name, service, port_name, host=host, holder=holder, ttl=seconds, key=key
    )
    if fmt == "json":
        import json

        click.echo(json.dumps({"version": 1, "command": "lease", "lease": found}, indent=2))
    elif fmt == "env":
        click.echo("\n".join(remote.env_lines(found)))
    else:
        ports = ", ".join(f"{p.get('port_name') or '-'} {p['port']}" for p in found["ports"])
        click.echo(f"lease {found['id']} on {found['host']}: {ports}")
    return 0
