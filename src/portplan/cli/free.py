from __future__ import annotations

import click

from portplan.cli._options import data_format_option, file_option


@click.command("free")
@click.argument("range_name", required=False)
@file_option
@data_format_option
def command(range_name: str | None, file: str | None, fmt: str) -> int:
    """Show the free host ports of each range (or of RANGE_NAME): ports with
    `published: false` take none."""
    from portplan.plan import allocate, listing, loader

    topology = loader.load(file)
    usages = allocate.usage(topology, range_name)
    if fmt == "json":
        import json

        document = {
            "version": 1,
            "command": "free",
            "ranges": [
                {
                    "range": u.range.name,
                    "ports": str(u.range.ports),
                    "hosts": list(u.hosts),
                    "used": list(u.used),
                    "free": [str(r) for r in u.free],
                    "free_count": u.free_count,
                }
                for u in usages
            ],
        }
        click.echo(json.dumps(document, indent=2))
        return 0
    body = [
        [
            u.range.name,
            str(u.range.ports),
            str(len(u.used)),
            str(u.free_count),
            _shorten(", ".join(str(r) for r in u.free) or "-"),
        ]
        for u in usages
    ]
    click.echo("\n".join(listing.table(["RANGE", "PORTS", "USED", "FREE", "FREE PORTS"], body)))
    return 0


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
