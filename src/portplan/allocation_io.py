"""Allocate a port and write it into the topology file (or show the diff)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from portplan import loader, writeback
from portplan.allocate import Allocation, Busy, choose
from portplan.errors import NotFoundError
from portplan.model import Topology


@dataclass(frozen=True)
class FileAllocation:
    path: Path
    allocation: Allocation
    diff: str


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
    text = path.read_text(encoding="utf-8")
    value = allocation.port if protocol == "tcp" else f"{allocation.port}/{protocol}"
    updated = writeback.add_port(text, str(path), service, port_name, value)
    diff = "".join(
        difflib.unified_diff(
            text.splitlines(keepends=True),
            updated.splitlines(keepends=True),
            fromfile=f"a/{path}",
            tofile=f"b/{path}",
        )
    )
    if not dry_run:
        writeback.write_atomic(path, updated)
    return FileAllocation(path=path, allocation=allocation, diff=diff)
