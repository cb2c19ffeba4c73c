"""Allocate a port and write it into the plan (or show the diff)."""

from __future__ import annotations

import codecs
import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portplan.errors import NotFoundError
from portplan.model import Topology
from portplan.plan import loader, writeback
from portplan.plan.allocate import Allocation, Busy, choose
from portplan.yamlio import load as yamlload
from portplan.yamlio.redact import redact_secrets


@dataclass(frozen=True)
class FileAllocation:
    path: Path
    allocation: Allocation
    diff: str  # secret values and comments masked
    written: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The JSON document of `portplan allocate --format json` (docs/json-output.md)."""
        allocation = self.allocation
        return {
            "version": 1,
            "command": "allocate",
            "file": str(self.path),
            "service": allocation.service,
            "port_name": allocation.port_name,
            "port": allocation.port,
            "protocol": allocation.protocol,
            "range": {"name": allocation.range.name, "ports": str(allocation.range.ports)},
            "new_service": allocation.new_service,
            "new_port": allocation.new_port,
            "written": self.written,
            "diff": self.diff,
        }


def listening_now() -> Busy:
    """A `busy` test backed by this machine's listening sockets (read once)."""
    from portplan.live.sockets import listeners

    held = {(s.port, s.protocol) for s in listeners(("tcp", "udp"), owners=False)}
    return lambda port, protocol: (port, protocol) in held


def allocate_in_file(
    file: str | None,
    service: str,
    port_name: str,
    range_name: str | None,
    protocol: str,
    *,
    dry_run: bool,
    offline: bool,
) -> FileAllocation:
    path = Path(file) if file else loader.discover()
    if path is None:
        raise NotFoundError("no portplan.yaml in this folder or any parent; give one with -f FILE")
    topology: Topology = loader.load(path)
    busy = None if offline else listening_now()
    allocation = choose(topology, service, port_name, range_name, busy, protocol)
    text = _read_text(path)
    value = allocation.port if protocol == "tcp" else f"{allocation.port}/{protocol}"
    updated = writeback.add_port(text, str(path), service, port_name, value)
    diff = masked_diff(path, text, updated)
    if not dry_run:
        writeback.write_atomic(path, updated)
    return FileAllocation(path=path, allocation=allocation, diff=diff, written=not dry_run)


def _read_text(path: Path) -> str:
    """The file's text as it is on disk: line ends kept, a UTF-8 byte-order mark kept."""
    data = path.read_bytes()
    bom = "\ufeff" if data.startswith(codecs.BOM_UTF8) else ""
    return bom + yamlload.decode(data, str(path))


def masked_diff(path: Path, text: str, updated: str) -> str:
    """The unified diff of the edit with comments and secret values masked.

    The lines around the new port may hold a secret (a service's `environment:` often comes
    next), and no secret value appears in portplan's output; ports, names and paths stay.
    The headers name the file as given, behind `a/` and `b/` (`a/tmp/x.yaml` for `/tmp/x.yaml`).
    """
    before = redact_secrets(text, yamlload.load(text, str(path)))
    after = redact_secrets(updated, yamlload.load(updated, str(path)))
    name = str(path).lstrip("/")
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{name}",
        tofile=f"b/{name}",
    )
    return "".join(lines)
