from __future__ import annotations

import click

from portplan.cli._options import INPUT_PATH, follow_links_option


@click.command("import")
@click.argument("paths", nargs=-1, type=INPUT_PATH)
@click.option(
    "-o",
    "--output",
    type=click.Path(),
    default=None,
    help="Write the plan to this file (atomically); `-` or none: standard output.",
)
@click.option("--force", is_flag=True, help="Overwrite the -o file when it exists.")
@follow_links_option
def command(paths: tuple[str, ...], output: str | None, force: bool, follow_links: bool) -> int:
    """Write a plan (portplan.yaml) from compose, .env, Kubernetes and Markdown sources: each value
    is the one most files state, and each conflict is a comment naming every side.

    \b
    PATHS are files or directories (default: .), scanned as `portplan reconcile` scans them
    (a file named here is also known by its content).
    Files that cannot be read are reported on stderr, one line each, and the rest is
    imported (nothing of a file that could not be read). Exit codes: 0 written, 2 nothing
    to import, the -o file exists (without --force) or cannot be written. `-o -` and
    `-o /dev/stdout` write standard output; -o never replaces what is not a regular file,
    a read-only or hard-linked file, nor (without --follow-symlinks) follows a link out
    of the file's folder.
    """
    from portplan.atomicfile import checked_target, is_standard_output
    from portplan.importer.core import import_results, refuse_overwrite, warnings, write
    from portplan.sources import scan

    inputs = list(paths) or ["."]
    if output is not None and is_standard_output(output):
        output = None
    if output is not None:
        refuse_overwrite(output, force)
        checked_target(output, follow_links=follow_links)
    results = scan(inputs)
    for line in warnings(results):
        click.echo(f"portplan: warning: {line}", err=True)
    imported = import_results(results, inputs)
    if output is None:
        click.echo(imported.text, nl=False)
        return 0
    write(output, imported.text, force, follow_links=follow_links)
    click.echo(f"wrote {output}: {imported.summary()}")
    return 0
