"""Mermaid flowcharts (`graph TD`, `flowchart LR`): nodes and edges.

A node `Id[Label :8087]` (any shape: `Id(Label)`, `Id((Label))`, `Id{Label}`,
`Id[(Label)]`, `Id["quoted"]`...) whose label states a port (`:8087`, `(8087)`,
`Port 8087`) is a port observation of the label's name. An edge `A --> B` (also
`A -->|text| B`, `A -- text --> B`, `A -.-> B`, `A ==> B`, chains `A --> B --> C` and
`A & B --> C`) is a dependency of A on B, both named by their labels when known.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from portplan.sources.base import PortObservation
from portplan.sources.markdown.blocks import Fence
from portplan.sources.markdown.context import Collector
from portplan.sources.markdown.text import clean_text, repair

SOURCE = "mermaid"
VIA = "mermaid-edge"

GRAPH: Final = re.compile(r"^\s*(?:graph|flowchart)\b", re.IGNORECASE)
_SKIP: Final = re.compile(
    r"^\s*(?:%%|subgraph\b|end\b|classDef\b|class\b|style\b|linkStyle\b|click\b|direction\b)",
    re.IGNORECASE,
)
_ID: Final = r"\w+(?:-\w+)*"
_QUOTED = r'"[^"]*"'
_SHAPES: Final = (
    r"\(\[(?P<l1>" + _QUOTED + r"|[^\]]*)\]\)",
    r"\[\[(?P<l2>" + _QUOTED + r"|[^\]]*)\]\]",
    r"\[\((?P<l3>" + _QUOTED + r"|[^)]*)\)\]",
    r"\(\(\((?P<l4>" + _QUOTED + r"|[^)]*)\)\)\)",
    r"\(\((?P<l5>" + _QUOTED + r"|[^)]*)\)\)",
    r"\{\{(?P<l6>" + _QUOTED + r"|[^}]*)\}\}",
    r"\[[/\\](?P<l7>[^\]]*)[/\\]\]",
    r">(?P<l8>" + _QUOTED + r"|[^\]]*)\]",
    r"\[(?P<l9>" + _QUOTED + r"|[^\]]*)\]",
    r"\((?P<l10>" + _QUOTED + r"|[^)]*)\)",
    r"\{(?P<l11>" + _QUOTED + r"|[^}]*)\}",
)
_NODE: Final = re.compile(r"[ \t]*(?P<id>" + _ID + r")(?:" + "|".join(_SHAPES) + r")?")
_LABEL_GROUPS: Final = tuple(f"l{i}" for i in range(1, len(_SHAPES) + 1))
_LINK: Final = re.compile(
    r"[ \t]*(?:"
    r"(?:--|==)[ \t]*[^-=>|\s][^->=|]*?[ \t]*(?:-->|==>|---|-\.->)"
    r"|<?(?:-\.+-|-{2,}|={2,}|~{3})[->ox=]?(?:\|[^|]*\|)?"
    r")[ \t]*"
)
_AMPERSAND: Final = re.compile(r"[ \t]*&[ \t]*")
_LABEL_PORT: Final = re.compile(
    r":[ \t]*(?P<a>\d{1,5})\b|\((?P<b>\d{1,5})\)|\bport[ \t]*:?[ \t]*(?P<c>\d{1,5})\b",
    re.IGNORECASE,
)
_LINE_BREAK: Final = re.compile(r"<br\s*/?>|\\n", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Node:
    id: str
    index: int  # of the id in the line
    label: str | None
    label_index: int


def mermaid_block(ctx: Collector, fence: Fence) -> None:
    labels: dict[str, str] = {}
    edges: list[tuple[_Node, _Node, int]] = []
    for offset, raw in enumerate(fence.lines):
        line = repair(raw)
        if (offset == 0 and GRAPH.match(line)) or _SKIP.match(line) or not line.strip():
            continue
        number = fence.start + offset
        for statement, start in _statements(line):
            nodes, links = _statement(statement, start)
            for node in nodes:
                _node(ctx, node, number, labels)
            edges.extend((a, b, number) for a, b in links)
    for source, target, number in edges:
        service = labels.get(source.id, source.id)
        depends = labels.get(target.id, target.id)
        ctx.dependency(service, depends, number, target.index, SOURCE, VIA)


def _statements(line: str) -> list[tuple[str, int]]:
    parts: list[tuple[str, int]] = []
    start = 0
    for piece in line.split(";"):
        parts.append((piece, start))
        start += len(piece) + 1
    return parts


def _statement(text: str, shift: int) -> tuple[list[_Node], list[tuple[_Node, _Node]]]:
    """The nodes of one statement and its edges (every node of a group to every node of
    the next group in a chain)."""
    nodes: list[_Node] = []
    links: list[tuple[_Node, _Node]] = []
    group, position = _group(text, 0, shift)
    nodes.extend(group)
    while group:
        link = _LINK.match(text, position)
        if link is None or link.end() == position:
            break
        following, position = _group(text, link.end(), shift)
        nodes.extend(following)
        links.extend((a, b) for a in group for b in following)
        group = following
    return nodes, links


def _group(text: str, position: int, shift: int) -> tuple[list[_Node], int]:
    group: list[_Node] = []
    while True:
        found = _NODE.match(text, position)
        if found is None:
            return group, position
        group.append(_make_node(found, shift))
        position = found.end()
        joined = _AMPERSAND.match(text, position)
        if joined is None:
            return group, position
        position = joined.end()


def _make_node(found: re.Match[str], shift: int) -> _Node:
    for name in _LABEL_GROUPS:
        label = found.group(name)
        if label is not None:
            return _Node(
                found.group("id"), found.start("id") + shift, label, found.start(name) + shift
            )
    return _Node(found.group("id"), found.start("id") + shift, None, -1)


def _node(ctx: Collector, node: _Node, number: int, labels: dict[str, str]) -> None:
    if node.label is None:
        return
    raw = _LINE_BREAK.sub(lambda m: " " * len(m.group()), node.label)
    port = _LABEL_PORT.search(raw)
    name = clean_text((raw[: port.start()] + raw[port.end() :]) if port else raw).strip('"')
    name = clean_text(name)
    if name:
        labels.setdefault(node.id, name)
    if port is None or not name:
        return
    group = port.lastgroup or "a"
    number_text = port.group(group)
    value = int(number_text)
    index = node.label_index + port.start(group)
    if ctx.checked_port(value, number, index, f"mermaid node {node.id}"):
        location = ctx.at(number, index)
        ctx.port(PortObservation(name, value, location, SOURCE))
