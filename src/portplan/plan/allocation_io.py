"""Allocate a port and write it into the plan (or show the diff)."""

from __future__ import annotations

import codecs
import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path
from typing import Any

from portplan import atomicfile
from portplan.errors import NotFoundError
from portplan.files import safe_read
from portplan.model import Topology
from portplan.plan import loader, writeback
from portplan.plan.allocate import Allocation, Busy, choose, free_ports
from portplan.yamlio import load as yamlload
from portplan.yamlio.redact import redact_secrets

# (free ports in order, host, protocol) -> the one a registry leased
Reserve = Callable[[Sequence[int], str, str], int]


@dataclass(frozen=True)
class FileAllocation:
    path: Path
    allocation: Allocation
    diff: str  # secret values and comments masked
    written: bool = False
    text: str = ""  # the plan's new text

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
    follow_links: bool = False,
    reserve: Reserve | None = None,
) -> FileAllocation:
    """Choose the port and write it into the plan, holding the plan's lock from the read
    to the rename (`atomicfile.locked`): concurrent allocations queue, each sees the ports
    the one before it wrote, and none replaces a plan another program changed meanwhile.
    With `reserve` (a registry), the port is the one it leases among the plan's free ports;
    a dry run leases nothing."""
    path = Path(file) if file else loader.discover()
    if path is None:
        raise NotFoundError("no portplan.yaml in this folder or any parent; give one with -f FILE")
    if dry_run:
        return _allocate(path, safe_read(path), service, port_name, range_name, protocol, offline)
    atomicfile.checked_target(path, root=path.parent, follow_links=follow_links)
    with atomicfile.locked(path) as lock:
        data = safe_read(path)  # under the lock: what the last writer wrote, size-limited
        result = _allocate(path, data, service, port_name, range_name, protocol, offline, reserve)
        atomicfile.write_atomic(
            path,
            result.text,
            encoding=yamlload.encoding(data),
            root=path.parent,
            follow_links=follow_links,
            expect=lock.snapshot(data),
        )
    return replace(result, written=True)


def _allocate(
    path: Path,
    data: bytes,
    service: str,
    port_name: str,
    range_name: str | None,
    protocol: str,
    offline: bool,
    reserve: Reserve | None = None,
) -> FileAllocation:
    topology: Topology = loader.load(path)
    busy = None if offline else listening_now()
    allocation = choose(topology, service, port_name, range_name, busy, protocol)
    if reserve is not None:
        owner = topology.services.get(service)
        host = owner.host if owner else topology.default_host
        free = free_ports(topology, allocation.range.ports, {host}, protocol, busy, owner)
        leased = reserve(list(islice(free, 1000)), host, protocol)
        allocation = replace(allocation, port=leased)
    text = _decoded(data, path)
    value = allocation.port if protocol == "tcp" else f"{allocation.port}/{protocol}"
    updated = writeback.add_port(text, str(path), service, port_name, value)
    return FileAllocation(path, allocation, masked_diff(path, text, updated), text=updated)


def _decoded(data: bytes, path: Path) -> str:
    """The file's text as it is on disk: line ends kept, a byte-order mark kept (UTF-8, 16
    or 32: the file is written back in its own encoding)."""
    bom = "\ufeff" if data.startswith(codecs.BOM_UTF8) or yamlload.encoding(data) != "utf-8" else ""
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
