"""The dependency graph as SVG, drawn on the server: by Graphviz `dot` when it is installed,
else by a layered layout of our own (longest-path layers, barycentre ordering). Each node
says its health in words and an icon, not by colour alone."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from urllib.parse import quote

from portplan.findings import Finding, Level
from portplan.model import Service, Topology
from portplan.render._common import deployed
from portplan.render.graph import edges, label

WIDTH, HEIGHT, GAP_X, GAP_Y, MARGIN = 210, 54, 70, 18, 12
SWEEPS = 4


@dataclass(frozen=True)
class Health:
    state: str  # ok | warning | error | planned
    text: str  # "✔ ok", "▲ 1 warning", "✖ 2 errors", "◌ planned"


def health(topology: Topology, findings: Iterable[Finding]) -> dict[str, Health]:
    """Each service's health as the stored plan knows it: its worst finding, or planned."""
    worst: dict[str, list[Level]] = {}
    for finding in findings:
        named = finding.facts.get("services") or [finding.facts.get("service")]
        for name in named:
            if isinstance(name, str):
                worst.setdefault(name, []).append(finding.level)
    found = {}
    for service in topology.services.values():
        levels = worst.get(service.name, [])
        errors = sum(1 for lv in levels if lv == Level.ERROR)
        warnings = sum(1 for lv in levels if lv == Level.WARNING)
        if errors:
            found[service.name] = Health("error", f"✖ {errors} error{'s' * (errors > 1)}")
        elif warnings:
            found[service.name] = Health("warning", f"▲ {warnings} warning{'s' * (warnings > 1)}")
        elif str(service.status) == "planned":
            found[service.name] = Health("planned", "◌ planned")
        else:
            found[service.name] = Health("ok", "✔ ok")
    return found


def listing(topology: Topology, findings: Sequence[Finding]) -> list[tuple[str, Health, list[str]]]:
    """The graph as text: each running service, its health and what it depends on."""
    states = health(topology, findings)
    needs: dict[str, list[str]] = {s.name: [] for s in deployed(topology)}
    for a, b in edges(topology):
        needs[a.name].append(b.name)
    return [(name, states[name], targets) for name, targets in needs.items()]


def svg(topology: Topology, findings: Sequence[Finding], dot: str | None = "auto") -> str:
    """The graph of `topology`'s running services; `dot`: the Graphviz program ("auto":
    found on PATH; None: always the own layout)."""
    program = shutil.which("dot") if dot == "auto" else dot
    nodes = list(deployed(topology))
    pairs = [(a.name, b.name) for a, b in edges(topology)]
    states = health(topology, findings)
    link = f"/matrix?system={quote(topology.system or '')}&q="
    if program and nodes:
        drawn = _dot(program, topology, nodes, pairs, states, link)
        if drawn is not None:
            return drawn
    return _layered(nodes, pairs, states, link)


def _dot(
    program: str,
    topology: Topology,
    nodes: Sequence[Service],
    pairs: Sequence[tuple[str, str]],
    states: Mapping[str, Health],
    link: str,
) -> str | None:
    lines = ['digraph "g" {', "  rankdir=LR;", '  node [shape=box, fontname="sans-serif"];']
    for s in nodes:
        text = f"{_q(label(s))}\\n{_q(states[s.name].text)}"
        lines.append(
            f'  "{_q(s.name)}" [label="{text}", URL="{_q(link + quote(s.name))}", '
            f'tooltip="{_q(s.name)}: {_q(states[s.name].text)}", '
            f'class="state-{states[s.name].state}", id="node-{_q(s.name)}"];'
        )
    lines.extend(f'  "{_q(a)}" -> "{_q(b)}";' for a, b in pairs)
    lines.append("}")
    try:
        done = subprocess.run(
            [program, "-Tsvg"], input="\n".join(lines), capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0 or "<svg" not in done.stdout:
        return None
    body = done.stdout[done.stdout.index("<svg") :]
    name = escape(topology.system or "the system")
    return body.replace(
        "<svg", f'<svg class="graph" role="group" aria-label="dependencies of {name}"', 1
    )


def _q(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def layers(names: Sequence[str], pairs: Sequence[tuple[str, str]]) -> list[list[str]]:
    """Layers counted from the right: a service sits one layer left of the deepest of its
    dependencies (the longest path to a service that depends on nothing), so that shared
    dependencies line up on the right; each layer ordered by barycentre. An edge closing a
    cycle is left out of the layering."""
    kept = _acyclic(names, pairs)
    height = dict.fromkeys(names, 0)
    waiting = dict.fromkeys(names, 0)
    needs: dict[str, list[str]] = {n: [] for n in names}
    for a, b in kept:
        needs[b].append(a)
        waiting[a] += 1
    ready = [n for n in names if waiting[n] == 0]
    while ready:
        name = ready.pop()
        for user in needs[name]:
            height[user] = max(height[user], height[name] + 1)
            waiting[user] -= 1
            if waiting[user] == 0:
                ready.append(user)
    top = max(height.values(), default=-1)
    found: list[list[str]] = [[] for _ in range(top + 1)]
    for name in names:
        found[top - height[name]].append(name)
    return _order(found, kept)


def _acyclic(names: Sequence[str], pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The edges but those a depth-first walk finds closing a cycle (iterative: a chain of
    thousands of services is no recursion)."""
    out: dict[str, list[str]] = {n: [] for n in names}
    for a, b in pairs:
        if a != b:
            out[a].append(b)
    state: dict[str, int] = {}  # 1: on the walk's path, 2: done
    kept = []
    for root in names:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(out[root]))]
        while stack:
            node, rest = stack[-1]
            target = next(rest, None)
            if target is None:
                state[node] = 2
                stack.pop()
            elif state.get(target) != 1:
                kept.append((node, target))
                if target not in state:
                    state[target] = 1
                    stack.append((target, iter(out[target])))
    return kept


def _order(found: list[list[str]], pairs: Sequence[tuple[str, str]]) -> list[list[str]]:
    neighbours: dict[str, list[str]] = {}
    for a, b in pairs:
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    for sweep in range(SWEEPS):
        down = sweep % 2 == 0
        for i in range(1, len(found)) if down else range(len(found) - 2, -1, -1):
            ref = {n: k for k, n in enumerate(found[i - 1] if down else found[i + 1])}
            found[i] = _by_centre(found[i], neighbours, ref)
    return found


def _by_centre(
    names: list[str], neighbours: Mapping[str, list[str]], ref: Mapping[str, int]
) -> list[str]:
    """`names` by the mean position of their neighbours in the layer `ref` (a name without
    one keeps its place)."""

    def centre(item: tuple[int, str]) -> float:
        seen = [ref[n] for n in neighbours.get(item[1], []) if n in ref]
        return sum(seen) / len(seen) if seen else float(item[0])

    return [name for _, name in sorted(enumerate(names), key=centre)]


def _layered(
    nodes: Sequence[Service],
    pairs: Sequence[tuple[str, str]],
    states: Mapping[str, Health],
    link: str,
) -> str:
    by_name = {s.name: s for s in nodes}
    placed = layers([s.name for s in nodes], pairs)
    at: dict[str, tuple[int, int]] = {}
    for column, names in enumerate(placed):
        for row, name in enumerate(names):
            at[name] = (MARGIN + column * (WIDTH + GAP_X), MARGIN + row * (HEIGHT + GAP_Y))
    width = MARGIN * 2 + max(len(placed), 1) * (WIDTH + GAP_X) - GAP_X
    height = MARGIN * 2 + max((len(c) for c in placed), default=1) * (HEIGHT + GAP_Y) - GAP_Y
    parts = [
        f'<svg class="graph" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="group" aria-label="dependency graph">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/>'
        "</marker></defs>",
    ]
    parts.extend(_edge(at[a], at[b]) for a, b in pairs if a in at and b in at)
    parts.extend(_node(by_name[n], at[n], states[n], link) for n in at)
    parts.append("</svg>")
    return "".join(parts)


def _edge(a: tuple[int, int], b: tuple[int, int]) -> str:
    x1, y1 = a[0] + WIDTH, a[1] + HEIGHT // 2
    x2, y2 = b[0], b[1] + HEIGHT // 2
    if x2 <= x1:  # a cycle's back edge: around the bottom
        x1, x2 = a[0] + WIDTH // 2, b[0] + WIDTH // 2
        y1, y2 = a[1] + HEIGHT, b[1] + HEIGHT
        bend = max(y1, y2) + GAP_Y
        return _path(f"M {x1} {y1} C {x1} {bend} {x2} {bend} {x2} {y2}")
    mid = (x1 + x2) // 2
    return _path(f"M {x1} {y1} C {mid} {y1} {mid} {y2} {x2} {y2}")


def _path(d: str) -> str:
    return f'<path class="edge" d="{d}" marker-end="url(#arrow)"/>'


def _node(service: Service, at: tuple[int, int], state: Health, link: str) -> str:
    x, y = at
    name = service.name if len(service.name) <= 26 else service.name[:25] + "…"
    port = f":{service.ports[0].number}" if service.ports else ""
    return (
        f'<a href="{escape(link + quote(service.name))}" class="node state-{state.state}" '
        f'id="node-{escape(service.name)}">'
        f"<title>{escape(service.name)}: {escape(state.text)}</title>"
        f'<rect x="{x}" y="{y}" width="{WIDTH}" height="{HEIGHT}" rx="6"/>'
        f'<text x="{x + 10}" y="{y + 21}" class="name">{escape(name)}'
        f'<tspan class="port"> {escape(port)}</tspan></text>'
        f'<text x="{x + 10}" y="{y + 42}" class="health">{escape(state.text)}</text></a>'
    )
