from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from portplan.findings import Finding, Level
from portplan.model import Service, Topology
from portplan.rules._base import Context, rule


@rule("PP106", "dependency-cycle", Level.ERROR, "services that depend on each other in a loop")
def check(topology: Topology, context: Context) -> Iterator[Finding]:
    """Services depend on each other in a cycle, so no start order exists.

    Each cycle is reported once, at the dependency that closes it.

    PASS: api {depends_on: [db]}; db {}
    FAIL: api {depends_on: [worker]}; worker {depends_on: [api]}
    """
    keys = {id(s): k for k, s in topology.services.items()}
    graph = {key: _targets(topology, s, keys) for key, s in topology.services.items()}
    for cycle in _cycles(graph):
        last = topology.services[cycle[-1]]
        head = topology.services[cycle[0]]
        closing = next(d for d in last.depends_on if topology.resolve(d.name) is head)
        path = " -> ".join([*cycle, cycle[0]])
        yield check.finding(
            f"dependency cycle: {path}",
            [closing.location],
            services=list(cycle),
        )


def _targets(topology: Topology, service: Service, keys: dict[int, str]) -> list[str]:
    found = (topology.resolve(d.name) for d in service.depends_on)
    return [keys[id(s)] for s in found if s is not None]


def _cycles(graph: dict[str, list[str]]) -> Iterator[list[str]]:
    """Strongly connected components with a cycle (Tarjan, iterative), each as one path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = _pop_component(stack, on_stack, node)
                if len(component) > 1 or node in graph[node]:
                    yield _path(graph, component)


def _pop_component(stack: list[str], on_stack: set[str], node: str) -> set[str]:
    component: set[str] = set()
    while True:
        member = stack.pop()
        on_stack.discard(member)
        component.add(member)
        if member == node:
            return component


def _path(graph: dict[str, list[str]], component: set[str]) -> list[str]:
    """The shortest cycle through the component's smallest name (breadth-first)."""
    start = min(component)
    parents: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(graph[node]):
            if child == start:
                return _walk_back(parents, node)
            if child in component and child not in parents:
                parents[child] = node
                queue.append(child)
    return [start]


def _walk_back(parents: dict[str, str | None], node: str | None) -> list[str]:
    path: list[str] = []
    while node is not None:
        path.append(node)
        node = parents[node]
    return path[::-1]


RULE = check
