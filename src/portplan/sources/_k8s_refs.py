"""What Kubernetes resources of several manifest files say of each other.

A Service selects pods by labels and sends its `targetPort` to them (a number, or the name
of a container port); a probe calls a port of its own pod; an Ingress sends traffic to a
port of a Service (`service.port.number` or `.name`; `serviceName`/`servicePort` before
networking.k8s.io/v1); a workload reads a ConfigMap (`envFrom`, `configMapKeyRef`). The
files of one scan are one cluster: a Service in `service.yaml` selects the pods of
`deployment.yaml`. Namespaces keep resources apart when both sides state one.

The service a resource belongs to is named by labels, the way `kubectl` users read them,
not by the resource's own name (`<release>-web`, `web-svc`, `web-headless`): a workload's
by the `app.kubernetes.io/name` label of its pods, else their `app` label (then the same
two labels of the workload itself), else the workload's name; a Service's by the service of
the workloads its selector picks in its namespace (when they are one), else its own
`app.kubernetes.io/name` or `app` label, else its name (`service_name`).

A reference that what it refers to does not satisfy is a `Mismatch`: a targetPort or a
probe port that no container of the pods declares (checked only when those pods declare
ports at all), an Ingress port the Service does not have (checked only when the Service is
known). Where several resources match (an overlay repeating a base), any one of them
satisfies the reference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from portplan.findings import Level
from portplan.model import Location
from portplan.sources.base import Mismatch
from portplan.sources.helm_templates import PLACEHOLDER
from portplan.yamlio.load import YMap, YSeq

KIND = "kubernetes"
WORKLOADS: Final = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job",
     "CronJob", "Pod"}
)  # fmt: skip
PROBES: Final = ("livenessProbe", "readinessProbe", "startupProbe")
PROBE_ACTIONS: Final = ("httpGet", "tcpSocket", "grpc")
MAX_PORT: Final = 65535
NAME_LABELS: Final = ("app.kubernetes.io/name", "app")  # the labels naming a service


@dataclass(frozen=True, slots=True)
class DeclaredPort:
    """A port a resource declares: its number, its name and where it is written."""

    number: int
    name: str | None
    location: Location

    def shown(self) -> str:
        return f"{self.name} {self.number}" if self.name else str(self.number)


@dataclass
class Pods:
    """A workload's pods: its name, its service and namespace, their labels and their
    containers' ports."""

    workload: str
    service: str
    namespace: str | None
    labels: dict[str, str]
    ports: list[DeclaredPort] = field(default_factory=list)
    sidecar: frozenset[int] = frozenset()  # ports an injected sidecar serves (`SIDECARS`)

    def named(self) -> dict[str, int]:
        return {port.name: port.number for port in self.ports if port.name}


@dataclass
class ServicePorts:
    """A Service: its name, the service it belongs to, its namespace and ports."""

    name: str
    service: str
    namespace: str | None
    ports: list[DeclaredPort] = field(default_factory=list)


Locate = Callable[[Any, str | None], Location]  # where a node (or its value of a key) is


def seq(value: Any) -> list[Any]:
    return list(value) if isinstance(value, YSeq | list) else []


def mapping(value: Any) -> YMap | None:
    return value if isinstance(value, YMap) else None


def port_number(value: Any) -> int | None:
    """A port 1-65535 given as a number (or digits), else None."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_PORT:
        return value
    return None


def metadata(document: YMap) -> YMap:
    return mapping(document.get("metadata")) or YMap()


def namespace(document: YMap) -> str | None:
    found = metadata(document).get("namespace")
    return str(found) if found else None


def labels(document: YMap) -> dict[str, str]:
    found: Mapping[str, Any] = mapping(metadata(document).get("labels")) or {}
    return {str(key): str(value) for key, value in found.items() if value is not None}


# Sidecars injected into a pod by its annotation: the ports they serve in the pod (Dapr's
# daprd: HTTP and gRPC APIs, internal gRPC, metrics), which no container of the manifest
# declares.
SIDECARS: Final = {"dapr.io/enabled": frozenset({3500, 50001, 50002, 9090})}


def sidecar_ports(document: YMap) -> frozenset[int]:
    """The ports the sidecars injected by the annotations of pod template `document` serve."""
    found: Mapping[str, Any] = mapping(metadata(document).get("annotations")) or {}
    ports: frozenset[int] = frozenset()
    for key, served in SIDECARS.items():
        if str(found.get(key, "")).lower() == "true":
            ports |= served
    return ports


def app_name(found: Mapping[str, str]) -> str | None:
    """The service a set of labels names: `app.kubernetes.io/name`, else `app`."""
    return next((found[key] for key in NAME_LABELS if found.get(key)), None)


def workload_service(document: YMap, shared: frozenset[str] = frozenset()) -> str | None:
    """The service a workload runs (its pods' name label, its own, else its name; a label
    of `shared` names the application, not the service); None for a workload without a
    name."""
    name = metadata(document).get("name")
    if not name:
        return None
    template = pod_template(document) or YMap()
    found = app_name(labels(template)) or app_name(labels(document))
    return found if found and found not in shared else str(name)


def shared_labels(workloads: Sequence[YMap]) -> frozenset[str]:
    """The name labels that workloads of different names share (`app: shop` on every
    workload of a chart): they name the application, not one service."""
    names: dict[str, set[str]] = {}
    for document in workloads:
        name = metadata(document).get("name")
        template = pod_template(document) or YMap()
        found = app_name(labels(template)) or app_name(labels(document))
        if name and found:
            names.setdefault(found, set()).add(str(name))
    return frozenset(label for label, owners in names.items() if len(owners) > 1)


def pod_template(document: YMap) -> YMap | None:
    """The pod template (metadata and spec) of a workload; a Pod is its own."""
    if document.get("kind") == "Pod":
        return document
    spec = mapping(document.get("spec")) or YMap()
    if document.get("kind") == "CronJob":
        job = mapping(spec.get("jobTemplate")) or YMap()
        spec = mapping(job.get("spec")) or YMap()
    return mapping(spec.get("template"))


def pod_spec(document: YMap) -> YMap:
    template = pod_template(document) or YMap()
    return mapping(template.get("spec")) or YMap()


def containers(spec: YMap) -> list[YMap]:
    found = [c for key in ("containers", "initContainers") for c in seq(spec.get(key))]
    return [c for c in found if isinstance(c, YMap)]


def declared_ports(container: YMap, at: Locate) -> list[DeclaredPort]:
    """A container's `ports` (each at its containerPort); `at(node, key)` locates."""
    found: list[DeclaredPort] = []
    for entry in seq(container.get("ports")):
        number = port_number(entry.get("containerPort")) if isinstance(entry, YMap) else None
        if number is not None:
            name = str(entry["name"]) if entry.get("name") else None
            found.append(DeclaredPort(number, name, at(entry, "containerPort")))
    return found


def _same_namespace(a: str | None, b: str | None) -> bool:
    return a is None or b is None or a == b


def _shown(ports: Iterable[DeclaredPort]) -> str:
    return ", ".join(port.shown() for port in ports)


class Cluster:
    """The workloads, Services and ConfigMap readers of every manifest file read together."""

    def __init__(self) -> None:
        self.pods: list[Pods] = []
        self.labelled: dict[tuple[str, str], list[Pods]] = {}  # label -> the pods bearing it
        self.services: dict[str, list[ServicePorts]] = {}
        self.readers: dict[tuple[str | None, str], set[str]] = {}  # ConfigMap -> services
        self.shared: frozenset[str] = frozenset()  # application labels (`shared_labels`)

    def add_workload(self, document: YMap, at: Locate) -> None:
        """Records a workload's pods (before any Service: `service_name` looks them up)."""
        service = workload_service(document, self.shared)
        if service is None:
            return
        name = str(metadata(document)["name"])
        template = pod_template(document) or YMap()
        pods = Pods(name, service, namespace(document), labels(template))
        pods.sidecar = sidecar_ports(template)
        for container in containers(pod_spec(document)):
            pods.ports.extend(declared_ports(container, at))
            for config in _config_maps(container):
                self.readers.setdefault((pods.namespace, config), set()).add(pods.service)
        self.pods.append(pods)
        for label in pods.labels.items():
            self.labelled.setdefault(label, []).append(pods)

    def service_name(self, document: YMap) -> str | None:
        """The service a Service belongs to: that of the pods its selector picks when they
        are one service's, else its `app.kubernetes.io/name` or `app` label, else its name;
        None for a Service without a name."""
        name = metadata(document).get("name")
        if not name:
            return None
        spec = mapping(document.get("spec")) or YMap()
        picked = self.selected(mapping(spec.get("selector")), namespace(document))
        found = {pods.service for pods in picked}
        if len(found) == 1:
            return found.pop()
        own = app_name(labels(document))
        return own if own and own not in self.shared else str(name)

    def add_service(self, document: YMap, at: Locate) -> None:
        service_name = self.service_name(document)
        spec = mapping(document.get("spec"))
        if service_name is None or spec is None:
            return
        name = str(metadata(document)["name"])
        service = ServicePorts(name, service_name, namespace(document))
        for entry in seq(spec.get("ports")):
            number = port_number(entry.get("port")) if isinstance(entry, YMap) else None
            if number is not None:
                port_name = str(entry["name"]) if entry.get("name") else None
                service.ports.append(DeclaredPort(number, port_name, at(entry, "port")))
        self.services.setdefault(service.name, []).append(service)

    def selected(self, selector: YMap | None, space: str | None) -> list[Pods]:
        """The pods a Service's selector picks (none without a selector)."""
        wanted = {str(k): str(v) for k, v in (selector or {}).items()}
        if not wanted:
            return []
        candidates = self.labelled.get(next(iter(wanted.items())), [])
        return [
            pods
            for pods in candidates
            if _same_namespace(space, pods.namespace) and wanted.items() <= pods.labels.items()
        ]

    def named(self, service: str, space: str | None) -> list[Pods]:
        """The pods of the workloads of `service`."""
        return [
            p for p in self.pods if p.service == service and _same_namespace(space, p.namespace)
        ]

    def reader(self, config_map: str, space: str | None) -> str | None:
        """The one service whose workloads read the ConfigMap, else None (none, or several)."""
        found = {
            service
            for (ns, name), services in self.readers.items()
            if name == config_map and _same_namespace(space, ns)
            for service in services
        }
        return found.pop() if len(found) == 1 else None

    def target_mismatch(
        self, document: YMap, service: str, entry: YMap, at: Locate, *, reached: bool = False
    ) -> Mismatch | None:
        """A port (`entry`) of the Service `document`, which belongs to `service`, whose
        targetPort no selected pod declares. With `reached` (another port of the Service
        reaches a declared one), a number that is neither declared nor the Service port of a
        declared number is a warning: the pods' list is then likely short (a product
        listening on more ports than it declares: RabbitMQ's epmd 4369), not the Service
        wrong."""
        selector = mapping((mapping(document.get("spec")) or YMap()).get("selector"))
        pods = [p for p in self.selected(selector, namespace(document)) if p.ports]
        key = "targetPort" if "targetPort" in entry else "port"
        target = entry.get(key)
        if not pods or target is None:
            return None
        declared = [port for p in pods for port in p.ports]
        number = port_number(target)
        level: Level | None = None
        note = ""
        what = f"targetPort {target}" if key == "targetPort" else f"port {target} (no targetPort)"
        if number is not None:
            if any(port.number == number for port in declared):
                return None
            if all(number in p.sidecar for p in pods):
                return None
            problem = f"{what} is not a container port"
            if reached and all(port.number != port_number(entry.get("port")) for port in declared):
                level = Level.WARNING
                note = "; the Service's other ports reach declared ones: it may listen undeclared"
        elif any(port.name == str(target) for port in declared):
            return None
        else:
            problem = f"{what} names no container port"
        shown = "; ".join(f"{p.workload}: {_shown(p.ports)}" for p in pods)
        name = metadata(document).get("name")
        message = f"{name}: {problem} of the pods it selects ({shown}){note}"
        others = tuple(port.location for port in declared)
        return Mismatch(service, at(entry, key), KIND, message, others, level)

    def backend_mismatches(self, ingress: YMap, at: Locate) -> Iterator[Mismatch]:
        """The Ingress backends whose port their (known) Service does not have."""
        name = str(metadata(ingress).get("name") or "")
        space = namespace(ingress)
        for backend, node, key in _backends(ingress):
            services = [
                s for s in self.services.get(backend, []) if _same_namespace(space, s.namespace)
            ]
            wanted = node.get(key)
            declared = [port for s in services for port in s.ports]
            if not services or not declared or wanted == PLACEHOLDER:
                continue  # a chart's value read leniently says nothing either side
            if any(
                port.number == wanted or (port.name is not None and port.name == wanted)
                for port in declared
            ):
                continue
            number = port_number(wanted)
            problem = f"port {number} is not a" if number else f"port name {wanted} names no"
            message = (
                f"Ingress {name}: backend {backend} {problem} port of Service {backend} "
                f"({_shown(declared)})"
            )
            others = tuple(port.location for port in declared)
            yield Mismatch(services[0].service, at(node, key), KIND, message, others)


def probe_mismatch(
    pods: tuple[str, str], probe: str, action: YMap, ports: list[DeclaredPort], at: Locate
) -> Mismatch | None:
    """A probe whose port its pod's containers do not declare (when they declare any);
    `pods` the workload's name and its service's."""
    workload, service = pods
    wanted = action.get("port")
    if not ports or wanted is None:
        return None
    number = port_number(wanted)
    if any(port.number == number or port.name == wanted for port in ports):
        return None
    problem = f"port {number} is not a" if number else f"port {wanted} names no"
    message = f"{workload}: {probe} {problem} container port of its pod ({_shown(ports)})"
    return Mismatch(service, at(action, "port"), KIND, message, tuple(p.location for p in ports))


def _config_maps(container: YMap) -> Iterator[str]:
    """The ConfigMaps a container reads its environment from."""
    for source in seq(container.get("envFrom")):
        ref = mapping(source.get("configMapRef")) if isinstance(source, YMap) else None
        if ref is not None and ref.get("name"):
            yield str(ref["name"])
    for env in seq(container.get("env")):
        value_from = mapping(env.get("valueFrom")) if isinstance(env, YMap) else None
        ref = mapping(value_from.get("configMapKeyRef")) if value_from is not None else None
        if ref is not None and ref.get("name"):
            yield str(ref["name"])


def _backends(ingress: YMap) -> Iterator[tuple[str, YMap, str]]:
    """(service name, node holding the port, key of the port) of every backend of an Ingress:
    `service: {name, port: {number | name}}`, or `serviceName` / `servicePort` (v1beta1)."""
    spec = mapping(ingress.get("spec")) or YMap()
    backends = [spec.get("defaultBackend"), spec.get("backend")]
    for rule in seq(spec.get("rules")):
        http = mapping(rule.get("http")) if isinstance(rule, YMap) else None
        for path in seq(http.get("paths")) if http is not None else []:
            backends.append(path.get("backend") if isinstance(path, YMap) else None)
    for backend in backends:
        if not isinstance(backend, YMap):
            continue
        service = mapping(backend.get("service"))
        port = mapping(service.get("port")) if service is not None else None
        if service is not None and service.get("name") and port is not None:
            key = "number" if "number" in port else "name"
            if key in port:
                yield str(service["name"]), port, key
        elif backend.get("serviceName") and "servicePort" in backend:
            yield str(backend["serviceName"]), backend, "servicePort"
