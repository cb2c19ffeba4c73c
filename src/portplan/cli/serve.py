from __future__ import annotations

import os
from typing import Any

import click


@click.group("serve", invoke_without_command=True)
@click.option(
    "--db",
    "database",
    envvar="PORTPLAN_DATABASE",
    default=None,
    help="Database URL: sqlite:///PATH or postgresql://USER@HOST/DB "
    "(default: registry.db in the data folder, $PORTPLAN_DATA).",
)
@click.option("--bind", default="127.0.0.1:8765", show_default=True, help="HOST:PORT to listen on.")
@click.option("--migrate", is_flag=True, help="Bring the database schema up to date first.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Server processes sharing the port (more cores for more requests per second).",
)
@click.pass_context
def command(
    ctx: click.Context, database: str | None, bind: str, migrate: bool, workers: int
) -> int:
    """Run the shared registry (`portplan serve`): plans, leases, the change feed, over HTTP.
    An empty database is migrated at start."""
    ctx.ensure_object(dict)
    ctx.obj["database"] = database
    if ctx.invoked_subcommand is not None:
        return 0
    from portplan.server.settings import Settings

    return _run(Settings(database_url=database, migrate=migrate), bind, workers)


def _run(settings: object, bind: str, workers: int = 1) -> int:
    import logging

    import uvicorn

    from portplan.errors import UsageError
    from portplan.server import workers_app
    from portplan.server.app import create_app
    from portplan.server.db import DatabaseError
    from portplan.server.settings import Settings

    assert isinstance(settings, Settings)
    host, _, port = bind.rpartition(":")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise UsageError(f"--bind: expected HOST:PORT with a port 1-65535, got {bind!r}")
    _check_bind(host.strip("[]"), int(port), bind)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    options: dict[str, Any] = {
        "host": host.strip("[]"),
        "port": int(port),
        "log_level": "warning",
        "timeout_graceful_shutdown": 10,
    }
    try:
        app = create_app(settings)
    except DatabaseError as exc:
        raise UsageError(f"--db: {exc}") from None
    if workers == 1:
        uvicorn.run(app, **options)
        return 0
    # each worker process builds its own app (and pool) from the environment; the schema
    # is brought up to date once, here, before they start
    app.state.engine.dispose()
    os.environ[workers_app.DATABASE] = settings.url()
    uvicorn.run(workers_app.TARGET, factory=True, workers=workers, **options)
    return 0


def _check_bind(host: str, port: int, bind: str) -> None:
    """Refuse at once, in one line, an address this machine cannot listen on (in use, of no
    interface, privileged): uvicorn would log a line of its own and exit 3."""
    import socket

    from portplan.errors import UsageError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(f"--bind: cannot listen on {bind}: {reason}") from None


@command.group("token")
def token() -> None:
    """Tokens of the registry's tenants."""


@token.command("create")
@click.option("--tenant", required=True, help="The tenant (created if new).")
@click.option(
    "--scope",
    type=click.Choice(["read", "lease", "admin"]),
    default="read",
    show_default=True,
    help="read: look; lease: also lease and release; admin: also push plans, read the audit log.",
)
@click.option("--name", default="token", show_default=True, help="A name for the audit log.")
@click.pass_context
def create(ctx: click.Context, tenant: str, scope: str, name: str) -> int:
    """Create a token and print it, once: only its hash is stored."""
    from portplan.server import db, tenants
    from portplan.server.app import prepare
    from portplan.server.settings import Settings

    engine = db.engine_for(Settings(database_url=ctx.obj["database"]).url())
    prepare(engine, migrate=False)
    value = db.write(engine, lambda c: tenants.create_token(c, tenant, name, scope))
    click.echo(value)
    return 0


@token.command("revoke")
@click.option("--tenant", required=True, help="The tenant.")
@click.option("--name", required=True, help="The name the tokens were created with.")
@click.pass_context
def revoke(ctx: click.Context, tenant: str, name: str) -> int:
    """Revoke the tenant's tokens of that name: they answer 401 from now on."""
    from portplan.errors import NotFoundError
    from portplan.server import db, tenants
    from portplan.server.settings import Settings

    engine = db.engine_for(Settings(database_url=ctx.obj["database"]).url())
    count = db.write(engine, lambda c: tenants.revoke(c, tenant, name))
    if not count:
        raise NotFoundError(f"tenant {tenant!r} has no live token named {name!r}")
    click.echo(f"revoked {count} token{'s' if count > 1 else ''} of {tenant}")
    return 0
