"""`portplan ps`: the services of a running stack."""

from __future__ import annotations

import json
import time
from typing import Any

import click

from portplan.cli._options import data_format_option, file_option


@click.command("ps")
@file_option
@click.option("--copy", default=None, help="List this copy of the stack.")
@data_format_option
def command(file: str | None, copy: str | None, fmt: str) -> int:
    """List the services of the stack `up` runs: state, PID, ports, ready since and
    restarts (commands with their secrets masked).

    \b
    Exit codes: 0 every service is ready or completed, 1 some is not (or no stack is up),
    2 unusable input.
    """
    from portplan.run import stack as runner

    document = runner.ps(runner.state_of(file, copy))
    if fmt == "json":
        shown = {"version": 1, "command": "ps", **document}
        click.echo(json.dumps(shown, indent=2))
    else:
        click.echo(_text(document), nl=False)
    states = [u.get("state") for u in document.get("services", {}).values()]
    return 0 if all(s in ("ready", "completed") for s in states) else 1


def _text(document: dict[str, Any]) -> str:
    rows = [("SERVICE", "STATE", "PID", "PORTS", "READY SINCE", "RESTARTS")]
    units = document.get("services", {})
    names = [n for level in document.get("levels", []) for n in level if n in units]
    for name in names or list(units):
        unit = units[name]
        ports = ",".join(f"{p['port']}/{p['protocol']}" for p in unit.get("ports", []))
        since = unit.get("ready_at")
        shown = time.strftime("%H:%M:%S", time.localtime(since)) if since else "-"
        rows.append(
            (
                name,
                str(unit.get("state")),
                str(unit.get("pid") or "-"),
                ports or "-",
                shown,
                str(unit.get("restarts", 0)),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    supervisor = "running" if document.get("supervisor_running") else "not running"
    head = (
        f"stack of {document.get('plan')} (copy {document.get('copy')}): "
        f"{document.get('status')}, supervisor {document.get('supervisor')} {supervisor}"
    )
    return "\n".join([head, *lines]) + "\n"
