from __future__ import annotations

import click

from portplan.cli._options import data_format_option, file_option


@click.command("ls")
@file_option
@data_format_option
def command(file: str | None, fmt: str) -> int:
    """List the plan's port matrix by category: service, ports, status, purpose, phase."""
    from portplan.plan import listing, loader

    topology = loader.load(file)
    if fmt == "json":
        import json

        services = [row.as_dict() for row in listing.rows(topology)]
        document = {"version": 1, "command": "ls", "services": services}
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return 0
    headers = ["SERVICE", "PORTS", "STATUS", "EXPOSURE", "PURPOSE", "PHASE"]
    multi_host = len({s.host for s in topology.services.values()}) > 1
    if multi_host:
        headers.insert(1, "HOST")
    blocks = []
    for category, rows in listing.grouped(topology):
        body = [
            [
                r.service,
                *([r.host] if multi_host else []),
                r.ports,
                r.status,
                r.exposure,
                r.purpose,
                r.phase,
            ]
            for r in rows
        ]
        blocks.append("\n".join([f"{category}:", *listing.table(headers, body)]))
    click.echo("\n\n".join(blocks))
    return 0
