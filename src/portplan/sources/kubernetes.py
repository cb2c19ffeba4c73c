"""Kubernetes manifests (multi-document YAML, `kind: List`) as observations.

A Service port is one observation: its `port`, with its `targetPort` (a number, or a
container port's name resolved through the pods its selector picks) as `target` and its
`nodePort` as `node_port`. A ClusterIP Service (headless or not) is internal; a NodePort or
LoadBalancer one is public, but its `port` takes no port of a host (published False): each
LoadBalancer gets an address of its own (two of them on port 80 do not clash), a NodePort's
`port` is on its cluster IP; the `nodePort` is the port every node opens. A workload
(Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob, Pod)
gives each container's `ports` (a `hostPort` is published on the node, at `hostIP`; with
`hostNetwork: true` the container port is the node's) and the port of its `httpGet`,
`tcpSocket` and `grpc` probes, named ports resolved; `env` entries are read like compose
`environment`, and a ConfigMap's `data` like a `.env` file (its owner: the one service
whose workloads read it, if only one does). The workload's service records its first
container's `image` and, as its health check, the path and port of the first `httpGet`
probe (liveness, readiness, then startup). A Service port without `name` is named by its
`appProtocol`. Manifests of other kinds are ignored.

Every observation names the service the resource belongs to, not the resource: a workload's
pods' `app.kubernetes.io/name` (else `app`) label, else the workload's own, else its name; a
Service's, the service of the workloads its selector picks, else its own label, else its
name (see `portplan.sources._k8s_refs`). So `<release>-web`, `web-svc`, `web-headless` and
`web-internal` are all `web`; a resource's own name, where it differs, is an alias of the
service (an URL to `http://web-internal:8080` reaches `web`).

Files read together (`read_manifests`, what a scan does) are one cluster: a Service in one
file selects the pods of another. A targetPort, a probe port or an Ingress backend port
that nothing it refers to declares is a `Mismatch` (see `portplan.sources._k8s_refs`).

A document that cannot be parsed is one "could not read" error; the other documents of
the file are still read. One that holds a Go template (`{{ .Values.port }}`) is an info
note instead. An example file (`*.example.yaml`) marks its observations `template`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from portplan.files import UnreadableFile, safe_read
from portplan.findings import Level
from portplan.model import Exposure, Location
from portplan.sources._k8s_check import problems
from portplan.sources._k8s_refs import (
    PROBE_ACTIONS,
    PROBES,
    WORKLOADS,
    Cluster,
    DeclaredPort,
    containers,
    declared_ports,
    mapping,
    metadata,
    namespace,
    pod_spec,
    port_number,
    probe_mismatch,
    seq,
    shared_labels,
    workload_service,
)
from portplan.sources.base import (
    Mismatch,
    PortObservation,
    ServiceObservation,
    SourceResult,
    as_template,
    inside,
    is_template_name,
    published_exposure,
    reason,
    template_note,
    unread,
)
from portplan.sources.dotenv import Setting, interpret, known_names
from portplan.sources.helm_templates import (
    PLACEHOLDER,
    chart_name,
    chart_of,
    chart_values,
    render,
)
from portplan.sources.markdown.text import app_protocol_name
from portplan.yamlio import load as yamlload
from portplan.yamlio.load import Mark, YAMLInputError, YMap

KIND = "kubernetes"
MAX_PORT: Final = 65535
PUBLISHING: Final = frozenset({"NodePort", "LoadBalancer"})  # Service types reached from outside
ON_NODES: Final = frozenset({"NodePort"})  # Service types whose port is a port of every node
_DOCUMENT_START: Final = re.compile(r"^(?:---|\.\.\.)(?:[ \t]|$)")
_ENV_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

__all__ = ["KIND", "PROBES", "WORKLOADS", "parse_kubernetes", "read_kubernetes", "read_manifests"]


@dataclass
class _File:
    """One manifest file being read: its lines, its resources and the result."""

    name: str
    lines: list[str]
    result: SourceResult
    resources: list[YMap] = field(default_factory=list)
    services: frozenset[str] = frozenset()  # the cluster's Service names (URL hosts)
    written: list[str] | None = None  # a Helm template's lines before rendering

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
    return read_manifests([path])[0]


def read_manifests(paths: Sequence[str]) -> list[SourceResult]:
    """The observations of each manifest file of `paths`, read as one cluster."""
    files: list[_File | SourceResult] = [_open(path) for path in paths]
    return _one_note_per_chart(_observe([f for f in files if isinstance(f, _File)], files))


def _one_note_per_chart(results: list[SourceResult]) -> list[SourceResult]:
    """`results` keeping the "a Go template" note of the first file of each chart only."""
    noted: set[str] = set()
    for result in results:
        chart = chart_of(result.file)
        if chart is None:
            continue
        notes = [e for e in result.errors if e.level is Level.INFO]
        if chart in noted:
            result.errors[:] = [e for e in result.errors if e not in notes]
        elif notes:
            noted.add(chart)
    return results


def parse_kubernetes(data: str | bytes, file: str) -> SourceResult:
    """The observations of manifest text (every document that can be read)."""
    manifest = _parse(data, file)
    return _observe([manifest], [manifest])[0] if isinstance(manifest, _File) else manifest


def _open(path: str) -> _File | SourceResult:
    try:
        data = safe_read(path)
    except UnreadableFile as exc:
        return _error(path, Location(path), reason(exc))
    return _parse(data, path)


def _parse(data: str | bytes, file: str) -> _File | SourceResult:
    try:
        text = yamlload.decode(data, file) if isinstance(data, bytes) else data
    except YAMLInputError as exc:
        return _error(file, Location(file, exc.line or 0, exc.column or 0), exc.what)
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    chart = chart_of(file) if "{{" in text else None
    written = text.split("\n") if chart is not None else None
    if chart is not None:
        text = render(text, chart_values(chart), chart_name(chart))
    manifest = _File(file, text.split("\n"), SourceResult(file=file, kind=KIND), written=written)
    documents = [d for d in _documents(text, manifest) if isinstance(d, YMap)]
    manifest.resources = [r for d in documents for r in _resources(d)]
    for resource in manifest.resources:
        for location, what in problems(resource, manifest.at):
            if not _rendered(written, location):
                manifest.result.errors.append(unread(location, what))
    return manifest


def _rendered(written: list[str] | None, location: Location) -> bool:
    """Whether a chart template's line, or the next one past comments, held an action
    (`nodePort: {{ .Values.x }}` under an `{{- if }}` read in both branches;
    `initContainers:` above a `{{- toYaml . | nindent 8 }}`): what helm renders there is not
    what is read). A list entry a key is missing from (`- name: http-monitoring` whose
    `{{ with .Values.httpPort }}port: {{ . }}{{ end }}` renders nothing) is one when a
    line of the entry held one."""
    if written is None or not 0 < location.line <= len(written):
        return False
    first = written[location.line - 1]
    if "{{" in first:
        return True
    following = (line.strip() for line in written[location.line :])
    after = next((line for line in following if line and not line.startswith("#")), "")
    if "{{" in after:
        return True
    dash = len(first) - len(first.lstrip(" "))
    if not first.lstrip(" ").startswith("- "):
        return False
    for line in written[location.line :]:
        if line.strip() and len(line) - len(line.lstrip(" ")) <= dash:
            return False  # past the entry
        if "{{" in line:
            return True
    return False


def _observe(manifests: list[_File], order: list[_File | SourceResult]) -> list[SourceResult]:
    cluster = Cluster()
    cluster.shared = shared_labels(
        [r for m in manifests for r in m.resources if r.get("kind") in WORKLOADS]
    )
    for manifest in manifests:  # every workload first: a Service is named by its pods
        for resource in manifest.resources:
            if resource.get("kind") in WORKLOADS:
                cluster.add_workload(resource, manifest.at)
    for manifest in manifests:
        for resource in manifest.resources:
            if resource.get("kind") == "Service":
                cluster.add_service(resource, manifest.at)
    known = known_names(cluster.services)
    for manifest in manifests:
        manifest.services = known
        for resource in manifest.resources:
            _resource(resource, manifest, cluster)
        if is_template_name(manifest.name):
            as_template(manifest.result)
    return [item.result if isinstance(item, _File) else item for item in order]


def _resource(resource: YMap, manifest: _File, cluster: Cluster) -> None:
    kind = resource.get("kind")
    if kind in WORKLOADS:
        _workload(resource, manifest, cluster.shared)
    elif kind == "Service":
        _service(resource, manifest, cluster)
    elif kind == "ConfigMap":
        _config_map(resource, manifest, cluster)
    elif kind == "Ingress":
        manifest.result.mismatches.extend(cluster.backend_mismatches(resource, manifest.at))


def _documents(text: str, manifest: _File) -> list[Any]:
    """Every document; when the stream cannot be parsed, each document on its own, a
    broken one becoming one error (a Go template: one note for the file)."""
    try:
        return yamlload.load_all(text, manifest.name)
    except YAMLInputError:
        pass
    documents: list[Any] = []
    starts = [0] + [i for i, line in enumerate(manifest.lines) if _DOCUMENT_START.match(line)]
    noted = False
    for start, end in zip(starts, [*starts[1:], len(manifest.lines)], strict=True):
        # Blank lines in front keep every line number of the document what it is in the file.
        chunk = "\n" * start + "\n".join(manifest.lines[start:end])
        try:
            documents.append(yamlload.load(chunk, manifest.name))
        except YAMLInputError as exc:
            written = manifest.written
            if written is not None:
                chunk = "\n" * start + "\n".join(written[start:end])
            note = template_note(manifest.name, chunk, exc.line or 0)
            if note is None:
                location = Location(manifest.name, exc.line or 0, exc.column or 0)
                manifest.result.errors.append(unread(location, exc.what))
            elif not noted:
                manifest.result.errors.append(note)
                noted = True
    return documents


def _resources(document: YMap) -> list[YMap]:
    """The document, or the items of a `kind: List`."""
    if document.get("kind") != "List":
        return [document]
    return [
        r for item in seq(document.get("items")) if isinstance(item, YMap) for r in _resources(item)
    ]


def _error(file: str, location: Location, why: str) -> SourceResult:
    result = SourceResult(file=file, kind=KIND)
    result.errors.append(unread(location, why))
    return result


# --- Services ---------------------------------------------------------------------------


def _declare(document: YMap, service: str | None, manifest: _File, **facts: Any) -> None:
    """Records the resource as (a resource of) `service`, at its name, with `facts` (the
    other fields of its ServiceObservation); its own name, where it differs, an alias."""
    data = metadata(document)
    if service is None:
        return
    own = str(data["name"])
    aliases = (own,) if own != service else ()
    space = namespace(document)
    found = ServiceObservation(
        service, manifest.at(data, "name"), KIND, aliases=aliases, namespace=space, **facts
    )
    manifest.result.services.append(found)


def _service(document: YMap, manifest: _File, cluster: Cluster) -> None:
    name = cluster.service_name(document)
    _declare(document, name, manifest)
    spec = mapping(document.get("spec"))
    if name is None or spec is None:
        return
    public = spec.get("type") in PUBLISHING
    selector = mapping(spec.get("selector"))
    space = namespace(document)
    found: list[tuple[YMap, Mismatch | None]] = []
    for entry in seq(spec.get("ports")):
        if not isinstance(entry, YMap):
            continue
        target = _target(entry, selector, space, cluster, name)
        _service_port(name, entry, public, target, manifest)
        found.append((entry, cluster.target_mismatch(document, name, entry, manifest.at)))
    reached = any(mismatch is None for _, mismatch in found)
    for entry, mismatch in found:
        if mismatch is not None and reached:
            mismatch = cluster.target_mismatch(document, name, entry, manifest.at, reached=True)
        if mismatch is not None:
            manifest.result.mismatches.append(mismatch)


def _target(
    entry: YMap, selector: YMap | None, space: str | None, cluster: Cluster, service: str
) -> int | None:
    """The container port behind a Service port: a number, or a name resolved in the pods
    the selector picks (without targetPort, the port itself); without a selector (a chart's
    `{{- include "x.selectorLabels" . | nindent 4 }}`, read leniently), in the pods of the
    Service's own name."""
    target = entry.get("targetPort", entry.get("port"))
    number = port_number(target)
    if number is not None or not isinstance(target, str):
        return number
    picked = cluster.selected(selector, space) if selector else cluster.named(service, space)
    for pods in picked:
        if target in pods.named():
            return pods.named()[target]
    return None


def _service_port(
    name: str, entry: YMap, public: bool, target: int | None, manifest: _File
) -> None:
    number = port_number(entry.get("port"))
    if number is None:
        return
    app_protocol = entry.get("appProtocol")
    port_name = _name(entry)
    port_name = port_name or app_protocol_name(
        app_protocol if isinstance(app_protocol, str) else None
    )
    manifest.result.ports.append(
        PortObservation(
            name,
            number,
            manifest.at(entry, "port"),
            KIND,
            port_name=port_name,
            protocol=str(entry.get("protocol") or "TCP").lower(),
            # A LoadBalancer's port is on an address of its own, a NodePort's `port` on the
            # Service's cluster IP: neither takes a port of the host (its nodePort does).
            published=False,
            target=target,
            exposure=Exposure.PUBLIC if public else Exposure.INTERNAL,
            node_port=port_number(entry.get("nodePort")) if public else None,
        )
    )


# --- ConfigMaps -------------------------------------------------------------------------


def _config_map(document: YMap, manifest: _File, cluster: Cluster) -> None:
    """Each `data` entry named like a variable, read as a `.env` line of the workload that
    reads the ConfigMap (if only one does)."""
    data = mapping(document.get("data"))
    name = metadata(document).get("name")
    if data is None or not name:
        return
    owner = cluster.reader(str(name), namespace(document))
    for key, value in data.items():
        if not _ENV_NAME.match(str(key)) or isinstance(value, YMap | list) or value is None:
            continue
        value_at = manifest.mark(data, key)
        key_mark = data.key_marks.get(key)
        key_at = Location(manifest.name, key_mark.line, key_mark.column) if key_mark else value_at
        _setting(manifest, owner, str(key), str(value), value_at, key_at)


# --- workloads --------------------------------------------------------------------------


def _workload(document: YMap, manifest: _File, shared: frozenset[str]) -> None:
    spec = pod_spec(document)
    listed = containers(spec)
    image = next((c.get("image") for c in seq(spec.get("containers")) if isinstance(c, YMap)), None)
    path, port = _health(listed, manifest)
    host = spec.get("hostNetwork") is True
    facts = {"image": str(image) if image else None, "health_path": path, "health_port": port}
    name = workload_service(document, shared)
    _declare(document, name, manifest, host_network=host, **facts)
    if name is None:
        return
    pods = (str(metadata(document)["name"]), name)
    ports = [port for container in listed for port in declared_ports(container, manifest.at)]
    for container in listed:
        _container(name, container, host, manifest)
        # a container that declares no port (a sidecar's `--http-port 9090`) is probed on
        # its own, undeclared ones: nothing to hold its probes to
        declared = ports if declared_ports(container, manifest.at) else []
        for probe in PROBES:
            _probe(pods, probe, container.get(probe), declared, manifest)


def _health(listed: list[YMap], manifest: _File) -> tuple[str | None, int | None]:
    """The path and port of the first `httpGet` probe (liveness, readiness, then startup,
    container by container): the workload's health check."""
    for container in listed:
        named = {p.name: p.number for p in declared_ports(container, manifest.at) if p.name}
        for probe in PROBES:
            action = mapping((mapping(container.get(probe)) or YMap()).get("httpGet"))
            if action is not None:
                port = action.get("port")
                number = named.get(port) if isinstance(port, str) else port_number(port)
                path = str(action.get("path") or "")
                # the kubelet asks for `path: healthz` as /healthz (a URL's path after a host)
                return (path if path.startswith("/") else f"/{path}"), number
    return None, None


def _container(name: str, container: YMap, host: bool, manifest: _File) -> None:
    for entry in seq(container.get("ports")):
        if isinstance(entry, YMap):
            _container_port(name, entry, host, manifest)
    for env in seq(container.get("env")):
        if isinstance(env, YMap) and "name" in env:
            _env(name, env, manifest)


def _name(entry: YMap) -> str | None:
    """A port's `name:`; None for none, or for a chart's value read leniently
    (`name: {{ $httpPortName }}`: every port of the template would share the placeholder)."""
    found = str(entry["name"]) if entry.get("name") else None
    return None if found == PLACEHOLDER else found


def _container_port(name: str, entry: YMap, host: bool, manifest: _File) -> None:
    number = port_number(entry.get("containerPort"))
    if number is None:
        return
    port_name = _name(entry)
    host_port = port_number(entry.get("hostPort"))
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


def _probe(
    pods: tuple[str, str], probe: str, spec: Any, ports: list[DeclaredPort], manifest: _File
) -> None:
    """The port each action of a probe calls (named ports resolved in the pod); a port the
    pod does not declare is a mismatch. `pods`: the workload's name and its service's."""
    if not isinstance(spec, YMap):
        return
    name = pods[1]
    named = {port.name: port.number for port in ports if port.name}
    for key in PROBE_ACTIONS:
        action = spec.get(key)
        if not isinstance(action, YMap):
            continue
        mismatch = probe_mismatch(pods, probe, action, ports, manifest.at)
        if mismatch is not None:
            manifest.result.mismatches.append(mismatch)
        port = action.get("port")
        number = named.get(port) if isinstance(port, str) else port_number(port)
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
    _setting(manifest, name, str(env["name"]), text, value_at, name_at)


def _setting(
    manifest: _File,
    owner: str | None,
    variable: str,
    value: str | None,
    value_at: Location,
    name_at: Location,
) -> None:
    """`owner` sets `variable` (a container's `env`, a ConfigMap's `data`): read like a line
    of a `.env` file."""
    setting = Setting(
        owner,
        variable,
        value,
        value_at,
        KIND,
        name_location=name_at,
        text=manifest.text(value_at),
        services=manifest.services,
    )
    interpret(setting, manifest.result)
