"""Kubernetes manifests (multi-document YAML) as observations.

A Service gives `port` (the service's port, unpublished), `targetPort` (when a number) and
`nodePort` (published on every node: all interfaces); a workload (Deployment, StatefulSet,
DaemonSet, Job, CronJob, Pod) gives each container's `ports` and the port of its HTTP/TCP/gRPC
probes, under the workload's name; `env` entries are read like compose `environment`.
"""

from __future__ import annotations

from typing import Any, Final

from portplan import yamlload
from portplan.model import Location
from portplan.sources.base import (
    PortObservation,
    ServiceObservation,
    SourceError,
    SourceResult,
)
from portplan.sources.dotenv import Setting, interpret
from portplan.yamlload import Mark, YAMLInputError, YMap, YSeq

KIND = "kubernetes"
WORKLOADS: Final = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"})
PROBES: Final = ("livenessProbe", "readinessProbe", "startupProbe")


def read_kubernetes(path: str) -> SourceResult:
    """The observations of the manifest file at `path`."""
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except OSError as exc:
        return _error(path, Location(path), exc.strerror or str(exc))
    return parse_kubernetes(data, path)


def parse_kubernetes(data: str | bytes, file: str) -> SourceResult:
    """The observations of manifest text (every document)."""
    try:
        documents = yamlload.load_all(data, file)
    except YAMLInputError as exc:
        return _error(file, Location(file, exc.line or 0, exc.column or 0), exc.what)
    result = SourceResult(file=file, kind=KIND)
    for document in documents:
        if isinstance(document, YMap):
            _document(document, file, result)
    return result


def _error(file: str, location: Location, why: str) -> SourceResult:
    result = SourceResult(file=file, kind=KIND)
    result.errors.append(SourceError(location, f"could not read {location}: {why}"))
    return result


def _at(file: str, node: Any, key: str | None = None) -> Location:
    mark: Mark | None = getattr(node, "mark", None)
    if isinstance(node, YMap) and key is not None and key in node.value_marks:
        mark = node.value_marks[key]
    return Location(file, mark.line, mark.column) if mark else Location(file)


def _document(document: YMap, file: str, result: SourceResult) -> None:
    kind = document.get("kind")
    if kind == "List":
        for item in _seq(document.get("items")):
            if isinstance(item, YMap):
                _document(item, file, result)
        return
    name = _name(document)
    if not name:
        return
    if kind == "Service":
        _service(name, document, file, result)
    elif kind in WORKLOADS or kind in ("Pod", "CronJob"):
        _workload(name, document, file, result)


def _name(document: YMap) -> str | None:
    metadata = document.get("metadata")
    name = metadata.get("name") if isinstance(metadata, YMap) else None
    return str(name) if name else None


def _seq(value: Any) -> list[Any]:
    return list(value) if isinstance(value, YSeq | list) else []


def _service(name: str, document: YMap, file: str, result: SourceResult) -> None:
    metadata = document["metadata"]
    result.services.append(ServiceObservation(name, _at(file, metadata, "name"), KIND))
    spec = document.get("spec")
    if not isinstance(spec, YMap):
        return
    for entry in _seq(spec.get("ports")):
        if isinstance(entry, YMap):
            _service_port(name, entry, file, result)


def _service_port(name: str, entry: YMap, file: str, result: SourceResult) -> None:
    port_name = entry.get("name")
    protocol = str(entry.get("protocol") or "TCP").lower()
    target = entry.get("targetPort")
    target_number = target if isinstance(target, int) else None
    for key, published in (("port", False), ("nodePort", True)):
        number = entry.get(key)
        if isinstance(number, int) and 0 < number <= 65535:
            result.ports.append(
                PortObservation(
                    name,
                    number,
                    _at(file, entry, key),
                    KIND,
                    port_name=str(port_name) if port_name and not published else None,
                    protocol=protocol,
                    published=published,
                    target=target_number,
                )
            )


def _workload(name: str, document: YMap, file: str, result: SourceResult) -> None:
    result.services.append(ServiceObservation(name, _at(file, document["metadata"], "name"), KIND))
    for container in _containers(document):
        for entry in _seq(container.get("ports")):
            if isinstance(entry, YMap):
                _container_port(name, entry, file, result)
        for probe in PROBES:
            _probe(name, container.get(probe), file, result)
        for env in _seq(container.get("env")):
            if isinstance(env, YMap) and "name" in env:
                value = env.get("value")
                text = None if value is None else str(value)
                setting = Setting(name, str(env["name"]), text, _at(file, env, "name"), KIND)
                interpret(setting, result)


def _containers(document: YMap) -> list[YMap]:
    spec: Any = document.get("spec")
    for key in ("jobTemplate", "spec", "template", "spec"):
        if not isinstance(spec, YMap) or "containers" in spec:
            break
        spec = spec.get(key, spec)
    if not isinstance(spec, YMap):
        return []
    found = _seq(spec.get("containers")) + _seq(spec.get("initContainers"))
    return [c for c in found if isinstance(c, YMap)]


def _container_port(name: str, entry: YMap, file: str, result: SourceResult) -> None:
    number = entry.get("containerPort")
    if not isinstance(number, int):
        return
    host_port = entry.get("hostPort")
    port_name = entry.get("name")
    result.ports.append(
        PortObservation(
            name,
            host_port if isinstance(host_port, int) else number,
            _at(file, entry, "containerPort"),
            KIND,
            port_name=str(port_name) if port_name else None,
            protocol=str(entry.get("protocol") or "TCP").lower(),
            address=str(entry["hostIP"]) if entry.get("hostIP") else None,
            published=isinstance(host_port, int),
            target=number,
        )
    )


def _probe(name: str, probe: Any, file: str, result: SourceResult) -> None:
    if not isinstance(probe, YMap):
        return
    for key in ("httpGet", "tcpSocket", "grpc"):
        action = probe.get(key)
        if isinstance(action, YMap) and isinstance(action.get("port"), int):
            result.ports.append(
                PortObservation(
                    name, action["port"], _at(file, action, "port"), KIND, published=False
                )
            )
