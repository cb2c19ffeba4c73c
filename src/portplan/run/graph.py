"""Which services `up` starts, and in what order: levels of the dependency graph.

Level 0 holds the services that depend on nothing `up` runs; level n those whose
dependencies all sit below n. Services of one level start in parallel (each still waits
for its own dependencies only); `down` stops the levels from the top.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from portplan.errors import NotFoundError, UsageError
from portplan.model import Service, Status, Topology


@dataclass(frozen=True, slots=True)
class Order:
    """The services to run, in levels, and the dependencies nobody runs (no `run:`)."""

    levels: tuple[tuple[str, ...], ...]
    external: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for level in self.levels for name in level)


def runnable(topology: Topology) -> list[Service]:
    """Services with a run spec that are not reserved or deprecated, in the plan's order."""
    return [
        s
        for s in topology.services.values()
        if s.run is not None and s.status not in (Status.RESERVED, Status.DEPRECATED)
    ]


def dependencies(topology: Topology, service: Service) -> list[str]:
    """The names (as the plan spells them) of the services `service` depends on."""
    found = (topology.resolve(d.name) for d in service.depends_on)
    return [s.name for s in found if s is not None]


def order(topology: Topology, wanted: Sequence[str] = ()) -> Order:
    """The services named (all runnable ones when none are) and their dependencies."""
    chosen = _closure(topology, [_find(topology, n) for n in wanted] or runnable(topology))
    run = {name for name in chosen if topology.services[name].run is not None}
    external = tuple(name for name in chosen if name not in run)
    return Order(_levels(topology, [n for n in chosen if n in run], run), external)


def _find(topology: Topology, name: str) -> Service:
    service = topology.resolve(name)
    if service is None:
        near = difflib.get_close_matches(name, list(topology.services), n=1, cutoff=0.6)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        raise NotFoundError(f"no service '{name}' in {topology.source}{hint}")
    if service.run is None:
        raise UsageError(f"service '{service.name}' has no run: section; nothing to start")
    return service


def _closure(topology: Topology, start: Iterable[Service]) -> list[str]:
    seen: dict[str, None] = {}
    stack = [s.name for s in start]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen[name] = None
        stack.extend(dependencies(topology, topology.services[name]))
    return [name for name in topology.services if name in seen]


def _levels(topology: Topology, names: list[str], run: set[str]) -> tuple[tuple[str, ...], ...]:
    level: dict[str, int] = {}
    remaining = list(names)
    while remaining:
        placed = [
            n
            for n in remaining
            if all(d in level for d in dependencies(topology, topology.services[n]) if d in run)
        ]
        if not placed:
            raise UsageError("a dependency cycle among " + ", ".join(remaining) + "; see check")
        for name in placed:
            deps = [d for d in dependencies(topology, topology.services[name]) if d in run]
            level[name] = 1 + max((level[d] for d in deps), default=-1)
        remaining = [n for n in remaining if n not in level]
    depth = max(level.values(), default=-1) + 1
    return tuple(tuple(n for n in names if level[n] == i) for i in range(depth))


def dependents(topology: Topology, name: str, among: Iterable[str]) -> list[str]:
    """The services among `among` that depend on `name` directly."""
    return [n for n in among if name in dependencies(topology, topology.services[n])]
