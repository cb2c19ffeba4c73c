"""Kubernetes node ports: a NodePort or LoadBalancer Service's `nodePort` is opened on every
node of the cluster, so two Services that ask for one `nodePort` (of one protocol) clash,
whatever their namespaces. The manifests read together are one cluster, as the Kubernetes
source reads them (a Service of one file selects the pods of another). Their `port`s never
do: a LoadBalancer gets an address of its own, a Service's `port` is on its own cluster IP.
One Service written in several manifests (`manifests/front-end-svc.yaml`, the same Service in
an all-in-one `complete-demo.yaml` and in a Helm chart's templates) is one Service, applied
from one of them: it asks for its node port once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from portplan.model import Location
from portplan.reconcile.projects import DEFAULT_NAMESPACE
from portplan.reconcile.view import Port, View


@dataclass(frozen=True)
class NodePortClash:
    """Several Service ports that ask for one node port."""

    number: int
    protocol: str
    ports: tuple[Port, ...]  # by location


def node_port_clashes(view: View) -> Iterator[NodePortClash]:
    """Every node port two or more Service ports ask for."""
    found: dict[tuple[str, int], dict[Location, Port]] = {}
    for port in view.ports:
        number = port.obs.node_port
        if port.kind != "kubernetes" or number is None:
            continue
        group = found.setdefault((port.obs.protocol, number), {})
        group.setdefault(port.obs.location, port)
    spaces = _namespaces(view)
    for (protocol, number), ports in sorted(found.items()):
        if len({_unqualified(port.obs.service, spaces) for port in ports.values()}) > 1:
            yield NodePortClash(number, protocol, tuple(sorted(ports.values(), key=_at)))


def _namespaces(view: View) -> list[str]:
    """The namespaces the Kubernetes files name, longest first, and `default`."""
    found = {DEFAULT_NAMESPACE}
    for result in view.results:
        found.update(s.namespace for s in result.services if s.namespace)
    return sorted(found, key=lambda space: (-len(space), space))


def _unqualified(name: str, spaces: list[str]) -> str:
    """A Service's name without the `<namespace>-` that sets it apart from its namesakes
    (`portplan.reconcile.projects.apart_namespaces`): a Helm template's Service has no
    namespace of its own (the release's), so it is the same Service as a manifest's."""
    return next((name[len(s) + 1 :] for s in spaces if name.startswith(f"{s}-")), name)


def _at(port: Port) -> Location:
    return port.obs.location
