from __future__ import annotations

import click


@click.command("schema")
def command() -> int:
    """Print the JSON Schema of the plan, portplan.yaml (for editors and CI)."""
    import json

    from portplan.plan.schema import json_schema

    click.echo(json.dumps(json_schema(), indent=2))
    return 0
