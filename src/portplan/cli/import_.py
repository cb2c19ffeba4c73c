from __future__ import annotations

import click


@click.command("import")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "-o",
    "--output",
    type=click.Path(),
    default=None,
    help="Write the plan to this file (atomically); `-` or none: standard output.",
)
@click.option("--force", is_flag=True, help="Overwrite the -o file when it exists.")
def command(paths: tuple[str, ...], output: str | None, force: bool) -> int:
    """Write a plan (portplan.yaml) from compose, .env, Kubernetes and Markdown sources: each value
    is the one most files state, and each conflict is a comment naming every side.

    \b
    PATHS are files or directories (default: .), scanned as `portplan reconcile` scans them
    (a file named here is also known by its content).
    Files that cannot be read are reported on stderr, one line each, and the rest is
    imported (nothing of a file that could not be read). Exit codes: 0 written, 2 nothing
    to import, the -o file exists (without --force) or cannot be written.
    """
    from portplan.importer.core import import_results, refuse_overwrite, warnings, write
    from portplan.sources import scan

    inputs = list(paths) or ["."]
    if output == "-":
        output = None
    if output is not None:
        refuse_overwrite(output, force)
    results = scan(inputs)
    for line in warnings(results):
        click.echo(f"portplan: warning: {line}", err=True)
    imported = import_results(results, inputs)
    if output is None:
        click.echo(imported.text, nl=False)
        return 0
    write(output, imported.text, force)
    click.echo(f"wrote {output}: {imported.summary()}")
    return 0
