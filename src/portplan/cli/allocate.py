from __future__ import annotations

import click

from portplan.cli._options import (
    data_format_option,
    file_option,
    follow_links_option,
    registry_options,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from portplan.server.reservation import Reservation


@click.command("allocate")
@click.argument("service")
@click.argument("port_name", required=False, default="http")
@file_option
@click.option(
    "--range", "range_name", help="Allocate from this range (default: the one that applies)."
)
@click.option("--protocol", type=click.Choice(("tcp", "udp")), default="tcp", show_default=True)
@click.option("--dry-run", is_flag=True, help="Print the change as a diff; write nothing.")
@click.option(
    "--offline", is_flag=True, help="Do not skip ports that are listening on this machine."
)
@data_format_option
@follow_links_option
@registry_options
def command(
    service: str,
    port_name: str,
    file: str | None,
    range_name: str | None,
    protocol: str,
    dry_run: bool,
    offline: bool,
    fmt: str,
    follow_links: bool,
    server: str | None,
    system: str | None,
) -> int:
    """Give SERVICE's PORT_NAME (default: http) the lowest free port of its range.

    Free means: not the host port of a published port, not reserved, not used by one of
    SERVICE's own ports inside its container, and (unless --offline) not listening on this
    machine now. The port is written into the plan keeping comments, key order and
    formatting (atomically); the service or port entry is created when it does not exist.
    --format json prints the port, its range and the diff (secret values masked) as one
    document.
    Allocations run one at a time: each holds a lock on the plan from its read to its
    write, and a plan another program changed meanwhile is not replaced (exit 2). A
    read-only or hard-linked plan is refused (exit 2).
    With a registry (--server or $PORTPLAN_SERVER, $PORTPLAN_TOKEN), the port is leased
    from it first, the lowest of the plan's free ports that no one else holds, so that
    machines sharing the registry never write the same port (a dry run leases nothing).
    The lease holds the port for 2 minutes while the plan is written, and is kept with no
    time limit once it is: an allocate killed before its write leaks no port; one killed
    after it leaves a journal beside the plan that the next allocate finishes.
    """
    from portplan.plan.allocation_io import allocate_in_file

    reserve = None if server is None or dry_run else _reservation(server, file, system)
    try:
        result = allocate_in_file(
            file,
            service,
            port_name,
            range_name,
            protocol,
            dry_run=dry_run,
            offline=offline,
            follow_links=follow_links,
            reserve=reserve,
        )
    except BaseException:
        if reserve is not None:
            reserve.undo()
        raise
    if reserve is not None:
        for line in reserve.recovered:
            click.echo(f"portplan: {line}", err=True)
        reserve.confirm()
    if fmt == "json":
        import json

        document = result.as_dict()
        if reserve is not None and reserve.lease is not None:
            document["lease"] = reserve.lease["id"]
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    elif dry_run:
        click.echo(result.diff, nl=False)
    else:
        click.echo(
            f"{result.path}: {service}.{port_name} = {result.allocation.port}/{protocol} "
            f"(range {result.allocation.range.name} {result.allocation.range.ports})"
        )
    if reserve is not None and reserve.lease is not None and fmt != "json":
        click.echo(f"leased from the registry: lease {reserve.lease['id']}")
    return 0


def _reservation(server: str, file: str | None, system: str | None) -> Reservation:
    from pathlib import Path

    from portplan.plan import loader
    from portplan.server import remote
    from portplan.server.client import Client
    from portplan.server.reservation import Reservation

    path = file or str(loader.discover() or "portplan.yaml")
    client = Client.from_environment(server)
    return Reservation(client, remote.system_of(path, system), Path(path))
