"""Kubernetes node ports: a NodePort or LoadBalancer Service's `nodePort` is opened on every
node of the cluster, so two Services that ask for one `nodePort` (of one protocol) clash,
whatever their namespaces. The manifests read together are one cluster, as the Kubernetes
source reads them (a Service of one file selects the pods of another). Their `port`s never
do: a LoadBalancer gets an address of its own, a Service's `port` is on its own cluster IP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from portplan.model import Location
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
    for (protocol, number), ports in sorted(found.items()):
        if len(ports) > 1:
            yield NodePortClash(number, protocol, tuple(sorted(ports.values(), key=_at)))


def _at(port: Port) -> Location:
    return port.obs.location
