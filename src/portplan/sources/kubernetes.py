"""Kubernetes manifests (multi-document YAML, `kind: List`) as observations.

A Service gives `port` (inside the cluster: internal; on a LoadBalancer: published, public),
`targetPort` (a number, or a container port's name resolved through the pods its selector
picks) and `nodePort` (published on every node: public). A workload (Deployment,
StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob, Pod) gives each
container's `ports` (a `hostPort` is published on the node, at `hostIP`; with
`hostNetwork: true` the container port is the node's) and the port of its `httpGet`,
`tcpSocket` and `grpc` probes, named ports resolved, under the workload's name; `env`
entries are read like compose `environment`. The workload's service records its first
container's `image` and, as its health check, the path and port of the first `httpGet`
probe (liveness, readiness, then startup). A Service port without `name` is named by its
`appProtocol`. Manifests of other kinds are ignored.

A document that cannot be parsed is one "could not read" error; the other documents of
the file are still read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

from portplan import yamlload
from portplan.model import Exposure, Location
from portplan.sources._md_text import app_protocol_name
from portplan.sources.base import (
    PortObservation,
    ServiceObservation,
    SourceResult,
    inside,
    published_exposure,
    reason,
    unread,
)
from portplan.sources.dotenv import Setting, interpret
from portplan.yamlload import Mark, YAMLInputError, YMap, YSeq

KIND = "kubernetes"
WORKLOADS: Final = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job",
     "CronJob", "Pod"}
)  # fmt: skip
PROBES: Final = ("livenessProbe", "readinessProbe", "startupProbe")
PROBE_ACTIONS: Final = ("httpGet", "tcpSocket", "grpc")
_DOCUMENT_START: Final = re.compile(r"^(?:---|\.\.\.)(?:[ \t]|$)")
MAX_PORT: Final = 65535


@dataclass
class _Pods:
    """A workload's pod template: its labels and its containers' named ports."""

    labels: dict[str, str]
    named: dict[str, int] = field(default_factory=dict)


@dataclass
class _File:
    """One manifest file being read: its lines, its workloads' pods and the result."""

    name: str
    lines: list[str]
    result: SourceResult
    pods: list[_Pods] = field(default_factory=list)

    def mark(self, node: Any, key: str | None = None) -> Location:
        """Where `node` (or its value of `key`) is written."""
        mark: Mark | None = getattr(node, "mark", None)
        if isinstance(node, YMap) and key is not None and key in node.value_marks:
            mark = node.value_marks[key]
        return Location(self.name, mark.line, mark.column) if mark else Location(self.name)

    def at(self, node: Any, key: str | None = None) -> Location:
        """Where the text of `node` (or of its value of `key`) starts: past a quote."""
        location = self.mark(node, key)
        return inside(location, self.text(location), "", 0)

    def text(self, location: Location) -> str | None:
        return self.lines[location.line - 1] if 0 < location.line <= len(self.lines) else None


def read_kubernetes(path: str) -> SourceResult:
    """The observations of the manifest file at `path`."""
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except OSError as exc:
        return _error(path, Location(path), reason(exc))
    return parse_kubernetes(data, path)


def parse_kubernetes(data: str | bytes, file: str) -> SourceResult:
    """The observations of manifest text (every document that can be read)."""
    try:
        text = yamlload.decode(data, file) if isinstance(data, bytes) else data
    except YAMLInputError as exc:
        return _error(file, Location(file, exc.line or 0, exc.column or 0), exc.what)
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    result = SourceResult(file=file, kind=KIND)
    manifest = _File(file, text.split("\n"), result)
    documents = [d for d in _documents(text, manifest) if isinstance(d, YMap)]
    resources = [r for d in documents for r in _resources(d)]
    manifest.pods = [_pods(r) for r in resources if r.get("kind") in WORKLOADS]
    for resource in resources:
        if resource.get("kind") in WORKLOADS:
            _workload(resource, manifest)
        elif resource.get("kind") == "Service":
            _service(resource, manifest)
    return result


def _documents(text: str, manifest: _File) -> list[Any]:
    """Every document; when the stream cannot be parsed, each document on its own, a
    broken one becoming one error."""
    try:
        return yamlload.load_all(text, manifest.name)
    except YAMLInputError:
        pass
    documents: list[Any] = []
    starts = [0] + [i for i, line in enumerate(manifest.lines) if _DOCUMENT_START.match(line)]
    for start, end in zip(starts, [*starts[1:], len(manifest.lines)], strict=True):
        # Blank lines in front keep every line number of the document what it is in the file.
        chunk = "\n" * start + "\n".join(manifest.lines[start:end])
        try:
            documents.append(yamlload.load(chunk, manifest.name))
        except YAMLInputError as exc:
            location = Location(manifest.name, exc.line or 0, exc.column or 0)
            manifest.result.errors.append(unread(location, exc.what))
    return documents


def _resources(document: YMap) -> list[YMap]:
    """The document, or the items of a `kind: List`."""
    if document.get("kind") != "List":
        return [document]
    return [
        r
        for item in _seq(document.get("items"))
        if isinstance(item, YMap)
        for r in _resources(item)
    ]


def _error(file: str, location: Location, why: str) -> SourceResult:
    result = SourceResult(file=file, kind=KIND)
    result.errors.append(unread(location, why))
    return result


def _seq(value: Any) -> list[Any]:
    return list(value) if isinstance(value, YSeq | list) else []


def _map(value: Any) -> YMap | None:
    return value if isinstance(value, YMap) else None


def _port_number(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_PORT:
        return value
    return None


# --- Services ---------------------------------------------------------------------------


def _declare(document: YMap, manifest: _File, **facts: Any) -> str | None:
    """The resource's name (None without one), recorded as a service with `facts` (the
    other fields of its ServiceObservation)."""
    metadata = _map(document.get("metadata"))
    name = metadata.get("name") if metadata is not None else None
    if not name or metadata is None:
        return None
    service = ServiceObservation(str(name), manifest.at(metadata, "name"), KIND, **facts)
    manifest.result.services.append(service)
    return str(name)


def _service(document: YMap, manifest: _File) -> None:
    name = _declare(document, manifest)
    spec = _map(document.get("spec"))
    if name is None or spec is None:
        return
    balanced = spec.get("type") == "LoadBalancer"
    selector = _map(spec.get("selector"))
    for entry in _seq(spec.get("ports")):
        if isinstance(entry, YMap):
            _service_port(name, entry, balanced, _target(entry, selector, manifest), manifest)


def _target(entry: YMap, selector: YMap | None, manifest: _File) -> int | None:
    """The container port behind a Service port: a number, or a name resolved in the pods
    the selector picks (without targetPort, the port itself)."""
    target = entry.get("targetPort", entry.get("port"))
    if isinstance(target, str) and not target.isdigit():
        wanted = {str(k): str(v) for k, v in (selector or {}).items()}
        for pods in manifest.pods:
            if wanted and wanted.items() <= pods.labels.items() and target in pods.named:
                return pods.named[target]
        return None
    return _port_number(int(target) if isinstance(target, str) else target)


def _service_port(
    name: str, entry: YMap, balanced: bool, target: int | None, manifest: _File
) -> None:
    app_protocol = entry.get("appProtocol")
    port_name = str(entry["name"]) if entry.get("name") else None
    port_name = port_name or app_protocol_name(
        app_protocol if isinstance(app_protocol, str) else None
    )
    protocol = str(entry.get("protocol") or "TCP").lower()
    for key, published in (("port", balanced), ("nodePort", True)):
        number = _port_number(entry.get(key))
        if number is None:
            continue
        manifest.result.ports.append(
            PortObservation(
                name,
                number,
                manifest.at(entry, key),
                KIND,
                port_name=port_name if key == "port" else None,
                protocol=protocol,
                published=published,
                target=target,
                exposure=Exposure.PUBLIC if published else Exposure.INTERNAL,
            )
        )


# --- workloads --------------------------------------------------------------------------


def _workload(document: YMap, manifest: _File) -> None:
    spec = _pod_spec(document)
    containers = _containers(spec)
    image = next(
        (c.get("image") for c in _seq(spec.get("containers")) if isinstance(c, YMap)), None
    )
    path, port = _health(containers)
    facts = {"image": str(image) if image else None, "health_path": path, "health_port": port}
    name = _declare(document, manifest, **facts)
    if name is None:
        return
    host = spec.get("hostNetwork") is True
    for container in containers:
        _container(name, container, host, manifest)


def _health(containers: list[YMap]) -> tuple[str | None, int | None]:
    """The path and port of the first `httpGet` probe (liveness, readiness, then startup,
    container by container): the workload's health check."""
    for container in containers:
        named = _named_ports(container)
        for probe in PROBES:
            action = _map((_map(container.get(probe)) or YMap()).get("httpGet"))
            if action is not None:
                port = action.get("port")
                number = named.get(port) if isinstance(port, str) else _port_number(port)
                path = action.get("path")
                return (str(path) if path else "/"), number
    return None, None


def _pods(document: YMap) -> _Pods:
    """The labels and named container ports of a workload's pods."""
    template = _pod_template(document) or YMap()
    metadata = _map(template.get("metadata")) or YMap()
    pods = _Pods({str(k): str(v) for k, v in (_map(metadata.get("labels")) or {}).items()})
    for container in _containers(_pod_spec(document)):
        pods.named.update(_named_ports(container))
    return pods


def _pod_spec(document: YMap) -> YMap:
    template = _pod_template(document) or YMap()
    return _map(template.get("spec")) or YMap()


def _containers(spec: YMap) -> list[YMap]:
    found = [c for key in ("containers", "initContainers") for c in _seq(spec.get(key))]
    return [c for c in found if isinstance(c, YMap)]


def _named_ports(container: YMap) -> dict[str, int]:
    named: dict[str, int] = {}
    for entry in _seq(container.get("ports")):
        number = _port_number(entry.get("containerPort")) if isinstance(entry, YMap) else None
        if number is not None and entry.get("name"):
            named[str(entry["name"])] = number
    return named


def _pod_template(document: YMap) -> YMap | None:
    """The pod template (metadata and spec) of a workload; a Pod is its own."""
    if document.get("kind") == "Pod":
        return document
    spec = _map(document.get("spec")) or YMap()
    if document.get("kind") == "CronJob":
        job = _map(spec.get("jobTemplate")) or YMap()
        spec = _map(job.get("spec")) or YMap()
    return _map(spec.get("template"))


def _container(name: str, container: YMap, host: bool, manifest: _File) -> None:
    for entry in _seq(container.get("ports")):
        if isinstance(entry, YMap):
            _container_port(name, entry, host, manifest)
    named = _named_ports(container)
    for probe in PROBES:
        _probe(name, container.get(probe), named, manifest)
    for env in _seq(container.get("env")):
        if isinstance(env, YMap) and "name" in env:
            _env(name, env, manifest)


def _container_port(name: str, entry: YMap, host: bool, manifest: _File) -> None:
    number = _port_number(entry.get("containerPort"))
    if number is None:
        return
    port_name = str(entry["name"]) if entry.get("name") else None
    host_port = _port_number(entry.get("hostPort"))
    address = str(entry["hostIP"]) if entry.get("hostIP") else None
    if host_port is not None:
        exposure: Exposure | None = published_exposure(address)
    else:
        exposure = None if host else Exposure.INTERNAL
    manifest.result.ports.append(
        PortObservation(
            name,
            host_port or number,
            manifest.at(entry, "hostPort" if host_port else "containerPort"),
            KIND,
            port_name=port_name,
            protocol=str(entry.get("protocol") or "TCP").lower(),
            address=address,
            published=host or host_port is not None,
            target=number,
            exposure=exposure,
        )
    )


def _probe(name: str, probe: Any, named: dict[str, int], manifest: _File) -> None:
    if not isinstance(probe, YMap):
        return
    for key in PROBE_ACTIONS:
        action = probe.get(key)
        if not isinstance(action, YMap):
            continue
        port = action.get("port")
        number = named.get(port) if isinstance(port, str) else _port_number(port)
        if number is not None:
            manifest.result.ports.append(
                PortObservation(
                    name,
                    number,
                    manifest.at(action, "port"),
                    KIND,
                    port_name=port if isinstance(port, str) else None,
                    published=False,
                    target=number,
                )
            )


def _env(name: str, env: YMap, manifest: _File) -> None:
    value = env.get("value")
    text = None if value is None else str(value)
    name_at = manifest.at(env, "name")
    value_at = manifest.mark(env, "value") if "value" in env.value_marks else name_at
    setting = Setting(
        name,
        str(env["name"]),
        text,
        value_at,
        KIND,
        name_location=name_at,
        text=manifest.text(value_at),
    )
    interpret(setting, manifest.result)
