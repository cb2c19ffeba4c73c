"""The port fields of a Kubernetes resource that hold what no cluster accepts: each is one
located error, never a port that silently disappears (`port: "80a"`, `targetPort: -5`,
`port: 99999999999999999999`, `containers: 5`). Values are described by their shape,
never quoted (they may be secrets)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final

from portplan.model import Location
from portplan.sources._k8s_refs import MAX_PORT, WORKLOADS, Locate, pod_template
from portplan.yamlio.load import YMap, YSeq, shape

# IANA_SVC_NAME, as Kubernetes validates a named targetPort: at most 15 characters of
# lowercase letters, digits and '-', a letter among them, no '-' at either end or twice.
_PORT_NAME: Final = re.compile(r"(?=.*[a-z])(?!.*--)[a-z0-9](?:[a-z0-9-]{0,13}[a-z0-9])?")
PORT: Final = "expected a port 1-65535"
Problem = tuple[Location, str]


def problems(resource: YMap, at: Locate) -> Iterator[Problem]:
    """Every unusable port field of `resource` (a workload or a Service)."""
    kind = resource.get("kind")
    if kind in WORKLOADS:
        yield from _workload(resource, at)
    elif kind == "Service":
        spec = resource.get("spec")
        if isinstance(spec, YMap):
            yield from _service_ports(spec, at)


def _workload(resource: YMap, at: Locate) -> Iterator[Problem]:
    template = pod_template(resource)
    spec = template.get("spec") if isinstance(template, YMap) else None
    if not isinstance(spec, YMap):
        return
    for key in ("containers", "initContainers"):
        if key not in spec:
            continue
        found = spec[key]
        if not isinstance(found, YSeq):
            yield at(spec, key), f"{key}: expected a list of containers, got {shape(found)}"
            continue
        for index, container in enumerate(found):
            where = f"{key}[{index}]"
            if not isinstance(container, YMap):
                yield (
                    _item(found, index, at),
                    f"{where}: expected a container, got {shape(container)}",
                )
            else:
                yield from _container_ports(container, where, at)


def _container_ports(container: YMap, where: str, at: Locate) -> Iterator[Problem]:
    problem, entries = _entries(container, "ports", f"{where}.ports", at)
    yield from problem
    for index, entry in enumerate(entries):
        name = f"{where}.ports[{index}]"
        if not isinstance(entry, YMap):
            yield _item(entries, index, at), f"{name}: expected a mapping, got {shape(entry)}"
        else:
            yield from _number(entry, "containerPort", name, at, required=True)
            yield from _number(entry, "hostPort", name, at, zero=True)


def _service_ports(spec: YMap, at: Locate) -> Iterator[Problem]:
    problem, entries = _entries(spec, "ports", "ports", at)
    yield from problem
    for index, entry in enumerate(entries):
        name = f"ports[{index}]"
        if not isinstance(entry, YMap):
            yield _item(entries, index, at), f"{name}: expected a mapping, got {shape(entry)}"
        else:
            yield from _number(entry, "port", name, at, required=True)
            yield from _number(entry, "nodePort", name, at, zero=True)
            target = entry.get("targetPort")
            if isinstance(target, str) and not target.isdigit():
                if _PORT_NAME.fullmatch(target) is None:
                    what = "expected a port 1-65535 or a port name (IANA_SVC_NAME)"
                    yield at(entry, "targetPort"), f"{name}.targetPort: {what}, got {shape(target)}"
            else:
                # 0 is no targetPort: Kubernetes takes the port for it (a headless Service)
                yield from _number(entry, "targetPort", name, at, zero=True)


def _item(items: list[Any], index: int, at: Locate) -> Location:
    """Where item `index` of a located list is (the list's own place when not known)."""
    base = at(items, None)
    marks = getattr(items, "item_marks", [])
    if index < len(marks):
        return Location(base.file, marks[index].line, marks[index].column)
    return base


def _entries(
    node: YMap, key: str, where: str, at: Locate
) -> tuple[list[Problem], YSeq | list[Any]]:
    found = node.get(key)
    if found is None:
        return [], []
    if not isinstance(found, YSeq):
        return [(at(node, key), f"{where}: expected a list, got {shape(found)}")], []
    return [], found


def _number(
    entry: YMap, key: str, where: str, at: Locate, *, required: bool = False, zero: bool = False
) -> Iterator[Problem]:
    """`zero`: 0 is allowed (a hostPort or nodePort of 0 asks for none or any)."""
    if key not in entry:
        if required:
            yield at(entry, None), f"{where}: {key} is missing; {PORT}"
        return
    value = entry[key]
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)  # kubectl reads a quoted number too
    if isinstance(value, bool) or not isinstance(value, int):
        yield at(entry, key), f"{where}.{key}: {PORT}, got {shape(entry[key])}"
    elif not (0 if zero else 1) <= value <= MAX_PORT:
        size = "0 or below" if value <= 0 else f"above {MAX_PORT}"
        yield at(entry, key), f"{where}.{key}: {PORT}, got an integer {size}"
