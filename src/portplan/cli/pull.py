from __future__ import annotations

import click

from portplan.cli._options import file_option, registry_options


@click.command("pull")
@click.option("--watch", is_flag=True, help="Keep going: rewrite the plan on every new revision.")
@click.option(
    "--generate",
    "regenerate",
    is_flag=True,
    help="After each pull, rewrite the generated files too (as `portplan generate`: every "
    "target, into the current folder, the whole set or none of it).",
)
@registry_options
@file_option
def command(
    watch: bool, regenerate: bool, server: str | None, system: str | None, file: str | None
) -> int:
    """Write the system's newest plan from the registry to the local file, and the files
    it includes beside it (each atomically); with --watch, again each time a new revision
    is pushed; with --generate, the generated files follow each revision.

    As `git checkout`: a file an earlier pull wrote that the revision no longer includes
    is deleted; one changed here since is neither deleted nor overwritten by the
    revision (exit 2, nothing written)."""
    from portplan.server import remote
    from portplan.server.client import Client

    client = Client.from_environment(server)
    path = remote.plan_path(file)
    name = remote.system_of(str(path) if path.exists() else None, system)

    def say(revision: int) -> None:
        click.echo(f"pulled {name} revision {revision} into {path}")
        if regenerate:
            for written in remote.generate(path):
                click.echo(f"wrote {written}")

    if watch:
        remote.watch(client, path, name, say)
    else:
        say(remote.pull(client, path, name))
    return 0
