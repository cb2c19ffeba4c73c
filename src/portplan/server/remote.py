"""What the CLI's registry commands do, as library calls: lease a service's ports, release,
push the plan, pull it (once, or on every change of the feed)."""

from __future__ import annotations

import getpass
import os
import re
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from portplan.errors import UsageError
from portplan.server.client import Client, RegistryError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_ttl(text: str) -> float:
    """`90s`, `30m`, `2h`, `1d` or plain seconds."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if found is None or float(found.group(1)) <= 0:
        raise UsageError(f"--ttl: expected a duration such as 90s, 30m, 2h or 1d, got {text!r}")
    return float(found.group(1)) * _UNITS[found.group(2) or "s"]


def default_holder() -> str:
    return f"{getpass.getuser()}@{socket.gethostname()}"


def system_of(path: str | None, system: str | None) -> str:
    """--system, else the `system:` of the local plan."""
    if system:
        return system
    if path is None:
        raise UsageError("no local plan to name the system; give --system NAME")
    from portplan.plan import loader

    topology = loader.load(path)
    if not topology.system:
        raise UsageError(f"{topology.source}: the plan names no system; give --system NAME")
    return topology.system


def lease(
    client: Client,
    system: str,
    service: str,
    port_name: str | None,
    *,
    host: str | None = None,
    holder: str | None = None,
    ttl: float | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    """Lease `service`'s port `port_name` (or each of its ports) on the registry."""
    if port_name is not None:
        names: list[str | None] = [port_name]
    else:
        services = client.call("GET", f"/v1/systems/{client.quote(system)}/services")
        found = next((s for s in services["services"] if s["name"] == service), None)
        if found is None:
            raise UsageError(f"system {system} has no service {service!r}")
        names = [p["name"] for p in found["ports"]] or [None]
    body: dict[str, Any] = {
        "holder": holder or default_holder(),
        "system": system,
        "ports": [{"service": service, "port_name": n} for n in names],
        "ttl_seconds": ttl,
        "idempotency_key": key,
        "host": host,
    }
    result: dict[str, Any] = client.call("POST", "/v1/leases", body)
    return result


def release(client: Client, lease_id: str) -> dict[str, Any]:
    result: dict[str, Any] = client.call("DELETE", f"/v1/leases/{client.quote(lease_id)}")
    return result


def env_lines(lease: dict[str, Any]) -> list[str]:
    lines = [f"PORTPLAN_LEASE_ID={lease['id']}"]
    lines += [f"{p['env']}={p['port']}" for p in lease["ports"] if p.get("env")]
    return lines


def push(client: Client, path: Path, system: str) -> dict[str, Any]:
    """Send the plan at `path` with every file it includes (paths under its folder)."""
    from portplan.server import bundle

    text, files = bundle.collect(path)
    body: dict[str, Any] = {"text": text}
    if files:
        body["files"] = [{"path": p, "text": t} for p, t in files]
    result: dict[str, Any] = client.call("PUT", f"/v1/systems/{client.quote(system)}/plan", body)
    return result


def pull(client: Client, path: Path, system: str) -> int:
    """Write the system's newest plan to `path`, and the files it includes beside it, each
    atomically (a file whose text is unchanged is not written), and delete the files an
    earlier pull wrote that it no longer includes; a file changed here since an earlier
    pull wrote it is neither deleted nor overwritten (`pulled`). Returns its revision."""
    from portplan.server import bundle, pulled

    url = f"/v1/systems/{client.quote(system)}/plan"
    text, headers = client.text(url)
    revision = int(headers.get("X-Portplan-Revision") or headers.get("x-portplan-revision") or 0)

    def read(file: str, _name: str, _where: str, _line: int, _column: int) -> tuple[str, str]:
        found, _ = client.text(f"{url}?revision={revision}&file={client.quote(file)}")
        return found, file

    included = bundle.walk(text, bundle.PLAN_FILE, read)
    gone = pulled.stale(path, text, included, revision)  # refused here: nothing written yet
    for file, body in sorted(included.items()):
        _write(path.parent / file, body, path.parent)
    _write(path, text, path.parent)
    pulled.remove(path, gone)
    pulled.write(path, text, included)
    return revision


def _write(path: Path, text: str, root: Path) -> None:
    from portplan.atomicfile import write_atomic
    from portplan.server.pulled import current

    if current(path) != text.encode():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text, root=root)


def generate(path: Path, out: str = ".") -> list[Path]:
    """Rewrite every generated file of the plan at `path` that is missing or stale, as
    `portplan generate` does: all of them switched in at once, or none."""
    from portplan.render.generate import Request, plan, write

    return write(plan(Request(str(path), (), out)), out)


def watch(
    client: Client,
    path: Path,
    system: str,
    on_change: Callable[[int], None] | None = None,
    retry_seconds: float = 1.0,
) -> None:
    """Pull now, then again on every new revision of the system's plan in the feed. The
    feed's position is taken before the first pull (a push meanwhile is pulled again, not
    missed); a lost connection is resumed from the last event seen (`Last-Event-ID`)."""
    after = _newest(client)
    _pulled(client, path, system, on_change)
    while True:
        try:
            for event in client.events(after):
                after = event["revision"]
                if event["kind"] == "plan.pushed" and event["subject"] == f"systems/{system}":
                    _pulled(client, path, system, on_change)
        except RegistryError as error:
            if error.status:  # refused (a revoked token...): no point in retrying
                raise
        except OSError:  # the stream broke or stalled: resume it
            pass
        time.sleep(retry_seconds)


def _pulled(
    client: Client, path: Path, system: str, on_change: Callable[[int], None] | None
) -> None:
    revision = pull(client, path, system)
    if on_change:
        on_change(revision)


def _newest(client: Client) -> int:
    """The feed's newest revision now (its pages read to the end)."""
    after = 0
    while changes := client.call("GET", f"/v1/changes?after={after}&limit=1000")["events"]:
        after = changes[-1]["revision"]
    return after


def plan_path(file: str | None) -> Path:
    return Path(file) if file else Path(os.getcwd()) / "portplan.yaml"
