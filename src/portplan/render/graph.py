"""`graph`: the dependency graph as Mermaid (`graph/dependencies.mmd`) and Graphviz DOT."""

from __future__ import annotations

import re
from typing import Final

from portplan.model import Service, Topology
from portplan.render import Artifact, Options
from portplan.render._common import deployed, header

TARGET = "graph"
_NOT_ID: Final = re.compile(r"[^A-Za-z0-9_]+")


def render(topology: Topology, options: Options) -> list[Artifact]:
    return [
        Artifact("graph/dependencies.mmd", header(options, TARGET, "%%") + mermaid(topology)),
        Artifact("graph/dependencies.dot", header(options, TARGET, "//") + dot(topology)),
    ]


def label(service: Service) -> str:
    """'token-engine :8081' (the first port), or the name alone."""
    return f"{service.name} :{service.ports[0].number}" if service.ports else service.name


def edges(topology: Topology) -> list[tuple[Service, Service]]:
    """(service, dependency) pairs in the file's order; unknown names are left out."""
    pairs = []
    for service in deployed(topology):
        for dependency in service.depends_on:
            target = topology.resolve(dependency.name)
            if target is not None:
                pairs.append((service, target))
    return pairs


def mermaid(topology: Topology, pairs: list[tuple[Service, Service]] | None = None) -> str:
    """The Mermaid graph; `pairs` are `edges(topology)` when the caller has them."""
    lines = ["graph TD\n"]
    lines.extend(f'    {_id(s)}["{label(s)}"]\n' for s in deployed(topology))
    pairs = edges(topology) if pairs is None else pairs
    lines.extend(f"    {_id(a)} --> {_id(b)}\n" for a, b in pairs)
    return "".join(lines)


def dot(topology: Topology) -> str:
    name = topology.system or "portplan"
    lines = [f'digraph "{name}" {{\n', "  rankdir=LR;\n", "  node [shape=box];\n"]
    lines.extend(f'  "{s.name}" [label="{label(s)}"];\n' for s in deployed(topology))
    lines.extend(f'  "{a.name}" -> "{b.name}";\n' for a, b in edges(topology))
    lines.append("}\n")
    return "".join(lines)


def _id(service: Service) -> str:
    return _NOT_ID.sub("_", service.name).strip("_") or "service"
