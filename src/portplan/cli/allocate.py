from __future__ import annotations

import click

from portplan.cli._options import data_format_option, file_option, follow_links_option


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
    """
    from portplan.plan.allocation_io import allocate_in_file

    result = allocate_in_file(
        file,
        service,
        port_name,
        range_name,
        protocol,
        dry_run=dry_run,
        offline=offline,
        follow_links=follow_links,
    )
    if fmt == "json":
        import json

        click.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
    elif dry_run:
        click.echo(result.diff, nl=False)
    else:
        click.echo(
            f"{result.path}: {service}.{port_name} = {result.allocation.port}/{protocol} "
            f"(range {result.allocation.range.name} {result.allocation.range.ports})"
        )
    return 0
