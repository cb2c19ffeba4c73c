from __future__ import annotations

import click

from portplan.cli._options import file_option, registry_options


@click.command("push")
@registry_options
@file_option
def command(server: str | None, system: str | None, file: str | None) -> int:
    """Send the plan to the registry as the system's next revision, with the files it
    includes (each under the plan's folder); refused, with its findings, if `portplan
    check` finds errors in it. An allocate through the registry killed before it kept its
    lease (its journal beside the plan) is finished first, as the next allocate would."""
    from portplan.server import remote
    from portplan.server.client import Client, RegistryError
    from portplan.server.reservation import recover

    client = Client.from_environment(server)
    path = remote.plan_path(file)
    name = remote.system_of(str(path), system)
    for line in recover(client, name, path):  # what a killed allocate left: finished first
        click.echo(f"portplan: {line}", err=True)
    try:
        result = remote.push(client, path, name)
    except RegistryError as error:
        findings = error.details if error.code == "plan_has_errors" else None
        for finding in findings if isinstance(findings, list) else []:
            click.echo(f"{finding.get('rule', 'error')}: {finding.get('message')}", err=True)
        raise
    state = "revision" if result["changed"] else "unchanged, still revision"
    included = len(result.get("files", [])) - 1
    extra = f" (with {included} included file{'s' * (included != 1)})" if included > 0 else ""
    click.echo(f"pushed {name}: {state} {result['revision']}{extra}")
    return 0
